//! The function's payload to the HTTP response the front gives, and the answers it gives
//! on its own when the function fails or does not answer in time.
//!
//! - REST API (1.0): the payload must be a proxy response, a JSON object with only
//!   `statusCode` (default 200), `headers`, `multiValueHeaders`, `body` (a string) and
//!   `isBase64Encoded`; anything else is a 502 `{"message": "Internal server error"}`
//!   ("Malformed Lambda proxy response" in the API's log). Values are read the way API
//!   Gateway's JSON reader coerces them: `"statusCode": "200"` and numbers as header
//!   values or bodies are accepted, objects are not. The strict set of keys and the
//!   default status come from SAM CLI's emulator, which was tuned by trying AWS.
//! - HTTP API (2.0) and function URL: a JSON object with `statusCode` is a proxy
//!   response (`cookies` become `Set-Cookie` fields, other keys are ignored); any other
//!   JSON is the body of a 200 `application/json` answer. An HTTP API takes a JSON
//!   string's content as the body (`"Hello"` → `Hello`), a function URL the JSON as it
//!   is (`"Hello"`), as their documentation shows. A payload that is not JSON: HTTP API
//!   500 `{"message":"Internal Server Error"}`, function URL 502 `Internal Server Error`.
//!
//! A REST API decodes a base64 body only when the API lists the response's type as
//! binary; the front door decodes it whenever `isBase64Encoded` is true, as the REST API
//! it models (see the request side) does for binary types.

use base64::Engine;
use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::text::Members;
use super::Front;
use xtask::lambda::{prelude_end, PRELUDE_END};

/// The answer the front door gives the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    pub status: u16,
    /// In order; a name may repeat (`Set-Cookie`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The HTTP response `front` gives for the function's `payload`; a payload it cannot read
/// as a response gets its error answer ([`parse_response`] says why).
pub(crate) fn response(front: Front, payload: &[u8]) -> HttpResponse {
    parse_response(front, payload).unwrap_or_else(|_| HttpResponse::function_error(front))
}

/// How much of a stream may come before its prelude ends.
pub(crate) const MAX_PRELUDE_BYTES: usize = 64 * 1024;

/// The head of a function URL's streamed response from the stream's start: the status and
/// headers its prelude declares, and where the body begins; `Ok(None)` while the prelude is
/// not whole yet. A stream that does not begin with a prelude is all body (200,
/// `application/octet-stream`).
pub(crate) fn stream_head(start: &[u8]) -> Result<Option<(HttpResponse, usize)>, String> {
    let raw = || HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/octet-stream".into())],
        body: Vec::new(),
    };
    let Some(first) = start.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(None);
    };
    if start[first] != b'{' {
        return Ok(Some((raw(), 0)));
    }
    let Some(end) = prelude_end(start) else {
        return match start.len() > MAX_PRELUDE_BYTES {
            true => Err(format!("no prelude end within {MAX_PRELUDE_BYTES} bytes")),
            false => Ok(None),
        };
    };
    let head = v2(Front::FunctionUrl, &start[..end])?;
    Ok(Some((head, end + PRELUDE_END.len())))
}

/// The HTTP response `front` gives for `payload`, or why the payload is not one it
/// accepts (for the log; the client gets [`HttpResponse::function_error`]).
pub(crate) fn parse_response(front: Front, payload: &[u8]) -> Result<HttpResponse, String> {
    match front {
        Front::Rest => rest(payload),
        Front::HttpApi | Front::FunctionUrl => v2(front, payload),
    }
}

impl HttpResponse {
    /// The answer to an invocation that failed: the function's error (including running
    /// past its own timeout, which is an error to whoever invoked it), a crash, or a
    /// payload that is not a response.
    pub(crate) fn function_error(front: Front) -> HttpResponse {
        match front {
            Front::Rest => json(502, r#"{"message": "Internal server error"}"#),
            Front::HttpApi => json(500, r#"{"message":"Internal Server Error"}"#),
            Front::FunctionUrl => HttpResponse {
                status: 502,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: b"Internal Server Error".to_vec(),
            },
        }
    }

    /// The answer when the front stops waiting ([`Front::integration_timeout`]) while the
    /// function still runs. A function URL has no timeout of its own: the function's
    /// timeout ends the invocation first, an error.
    pub(crate) fn timed_out(front: Front) -> HttpResponse {
        match front {
            Front::Rest => json(504, r#"{"message": "Endpoint request timed out"}"#),
            Front::HttpApi => json(503, r#"{"message":"Service Unavailable"}"#),
            Front::FunctionUrl => HttpResponse::function_error(front),
        }
    }
}

fn json(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// A REST API's proxy response: these keys and no others.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RestResponse {
    status_code: Option<Value>,
    headers: Option<Members>,
    multi_value_headers: Option<Members>,
    body: Option<Value>,
    is_base64_encoded: Option<Value>,
    /// An older spelling a REST API still reads first.
    base64_encoded: Option<Value>,
}

/// A 2.0 proxy response; other keys are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Response {
    status_code: Option<Value>,
    headers: Option<Members>,
    cookies: Option<Value>,
    body: Option<Value>,
    is_base64_encoded: Option<Value>,
}

fn rest(payload: &[u8]) -> Result<HttpResponse, String> {
    let response: RestResponse = serde_json::from_slice(payload)
        .map_err(|e| format!("not a proxy response (a JSON object of statusCode, headers, multiValueHeaders, body, isBase64Encoded): {e}"))?;
    // multiValueHeaders first; a `headers` pair already there is not repeated.
    let mut headers = Vec::new();
    for (name, values) in response
        .multi_value_headers
        .map(|m| m.0)
        .unwrap_or_default()
    {
        let values = match values {
            Value::Array(values) => values,
            Value::Null => continue,
            _ => return Err(format!("multiValueHeaders.{name} is not a list")),
        };
        for value in values {
            if let Some(value) = scalar_text(&value, &name)? {
                headers.push((name.clone(), value));
            }
        }
    }
    for (name, value) in response.headers.map(|m| m.0).unwrap_or_default() {
        if let Some(value) = scalar_text(&value, &name)? {
            if !headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(&name) && *v == value)
            {
                headers.push((name, value));
            }
        }
    }
    let base64 = flag(response.base64_encoded.or(response.is_base64_encoded))?;
    let body = body_bytes(response.body, base64)?;
    finish(status(response.status_code)?, headers, body)
}

fn v2(front: Front, payload: &[u8]) -> Result<HttpResponse, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let proxy = matches!(&value, Value::Object(members) if members.contains_key("statusCode"));
    if !proxy {
        // Inferred: the payload is the body.
        let body = match (front, value) {
            (Front::HttpApi, Value::String(text)) => text.into_bytes(),
            _ => payload.to_vec(),
        };
        return finish(200, Vec::new(), body);
    }
    let response: V2Response =
        serde_json::from_slice(payload).map_err(|e| format!("not a proxy response: {e}"))?;
    let mut headers = Vec::new();
    for (name, value) in response.headers.map(|m| m.0).unwrap_or_default() {
        if let Some(value) = scalar_text(&value, &name)? {
            headers.push((name, value));
        }
    }
    // `cookies` that is not a list is ignored, as SAM CLI found.
    if let Some(Value::Array(cookies)) = response.cookies {
        for cookie in cookies {
            match cookie {
                Value::String(cookie) => headers.push(("set-cookie".to_string(), cookie)),
                other => return Err(format!("cookies holds {other}, not a string")),
            }
        }
    }
    let base64 = flag(response.is_base64_encoded)?;
    let body = body_bytes(response.body, base64)?;
    finish(status(response.status_code)?, headers, body)
}

/// `statusCode`: a number or a string of digits, 100 to 599; 200 when absent or null.
fn status(value: Option<Value>) -> Result<u16, String> {
    let code = match &value {
        None | Some(Value::Null) => return Ok(200),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    code.and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| {
            format!(
                "statusCode {} is not an HTTP status",
                value.unwrap_or_default()
            )
        })
}

/// `isBase64Encoded`: a boolean, or `"true"`/`"false"`; false when absent or null.
fn flag(value: Option<Value>) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(format!("isBase64Encoded {other} is not a boolean")),
    }
}

/// A header value: a string, number or boolean as text; null means no field.
fn scalar_text(value: &Value, name: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!(
            "the value of header {name} is {other}, not a string"
        )),
    }
}

/// `body`: text (a number or boolean counts as its text), base64-decoded if flagged.
fn body_bytes(value: Option<Value>, base64: bool) -> Result<Vec<u8>, String> {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => {
            return Err(format!(
                "body is {}, not a string: serialise it first",
                if other.is_array() {
                    "a list"
                } else {
                    "an object"
                }
            ))
        }
    };
    if !base64 {
        return Ok(text.into_bytes());
    }
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("isBase64Encoded is true but body is not base64: {e}"))
}

/// Checks the fields can be sent, drops those the server sets itself (framing and
/// connection), and adds `content-type: application/json` when the function set none.
fn finish(
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<HttpResponse, String> {
    let mut kept = Vec::with_capacity(headers.len() + 1);
    for (name, value) in headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("{name:?} is not a header name"));
        }
        if HeaderValue::from_str(&value).is_err() {
            return Err(format!("the value of header {name} is not a header value"));
        }
        let framing = ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| name.eq_ignore_ascii_case(f));
        if !framing {
            kept.push((name, value));
        }
    }
    if !kept
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        kept.push(("content-type".into(), "application/json".into()));
    }
    Ok(HttpResponse {
        status,
        headers: kept,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(front: Front, payload: &str) -> HttpResponse {
        response(front, payload.as_bytes())
    }

    fn fields(response: &HttpResponse) -> Vec<(&str, &str)> {
        response
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    const ALL: [Front; 3] = [Front::Rest, Front::HttpApi, Front::FunctionUrl];

    #[test]
    fn the_echo_functions_answer() {
        let payload = r#"{"statusCode":200,"headers":{},"body":"{\n    \"a\": 1\n}","isBase64Encoded":false}"#;
        for front in ALL {
            let got = answer(front, payload);
            assert_eq!(got.status, 200, "{front:?}");
            assert_eq!(got.body, b"{\n    \"a\": 1\n}");
            assert_eq!(fields(&got), [("content-type", "application/json")]);
        }
    }

    #[test]
    fn status_codes() {
        for front in ALL {
            assert_eq!(answer(front, r#"{"statusCode":404}"#).status, 404);
            assert_eq!(
                answer(front, r#"{"statusCode":"201","body":"x"}"#).status,
                201
            );
            assert_eq!(
                answer(front, r#"{"statusCode":null,"body":"x"}"#).status,
                200
            );
            for bad in ["99", "600", "-1", "2.5", "\"abc\"", "true", "[200]"] {
                let got = answer(front, &format!(r#"{{"statusCode":{bad}}}"#));
                assert_eq!(got, HttpResponse::function_error(front), "{front:?} {bad}");
            }
        }
        // Without statusCode: a REST API assumes 200 for a proxy response.
        assert_eq!(answer(Front::Rest, r#"{"body":"x"}"#).body, b"x");
    }

    #[test]
    fn rest_headers_and_multi_value_headers_merge() {
        let got = answer(
            Front::Rest,
            r#"{"statusCode":200,
                "headers":{"Content-Type":"text/plain","X-One":"a","X-N":7,"X-Gone":null},
                "multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"X-One":["a"],"X-B":[true]},
                "body":"hi"}"#,
        );
        assert_eq!(
            fields(&got),
            [
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("X-One", "a"),
                ("X-B", "true"),
                ("Content-Type", "text/plain"),
                ("X-N", "7"),
            ]
        );
        assert_eq!(got.body, b"hi");
    }

    #[test]
    fn cookies_become_set_cookie_fields() {
        let payload =
            r#"{"statusCode":201,"headers":{"X-A":"1"},"cookies":["a=1; Path=/","b=2"],"body":""}"#;
        for front in [Front::HttpApi, Front::FunctionUrl] {
            let got = answer(front, payload);
            assert_eq!(got.status, 201);
            assert_eq!(
                fields(&got),
                [
                    ("X-A", "1"),
                    ("set-cookie", "a=1; Path=/"),
                    ("set-cookie", "b=2"),
                    ("content-type", "application/json"),
                ]
            );
        }
        // Not a list: ignored. A REST API knows no `cookies`.
        assert_eq!(
            answer(Front::HttpApi, r#"{"statusCode":200,"cookies":"a=1"}"#).status,
            200
        );
        assert_eq!(
            answer(Front::Rest, r#"{"statusCode":200,"cookies":["a=1"]}"#),
            HttpResponse::function_error(Front::Rest)
        );
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let payload = r#"{"statusCode":200,"headers":{"content-type":"image/png"},"body":"iVBORw0KGgoA/w==","isBase64Encoded":true}"#;
        for front in ALL {
            let got = answer(front, payload);
            assert_eq!(
                got.body,
                [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]
            );
            assert_eq!(fields(&got), [("content-type", "image/png")]);
        }
        assert_eq!(
            answer(
                Front::Rest,
                r#"{"statusCode":200,"body":"aGk=","isBase64Encoded":"true"}"#
            )
            .body,
            b"hi"
        );
        assert_eq!(
            answer(
                Front::Rest,
                r#"{"statusCode":200,"body":"aGk=","base64Encoded":true}"#
            )
            .body,
            b"hi"
        );
        for front in ALL {
            let bad = answer(
                front,
                r#"{"statusCode":200,"body":"not base64!","isBase64Encoded":true}"#,
            );
            assert_eq!(bad, HttpResponse::function_error(front));
        }
    }

    #[test]
    fn what_http_apis_and_function_urls_infer() {
        // Valid JSON without statusCode: a 200 whose body is the payload.
        for front in [Front::HttpApi, Front::FunctionUrl] {
            for payload in [
                r#"{"message":"hi"}"#,
                "[1,2]",
                "42",
                "null",
                r#"{"body":"x"}"#,
            ] {
                let got = answer(front, payload);
                assert_eq!(got.status, 200, "{front:?} {payload}");
                assert_eq!(got.body, payload.as_bytes(), "{front:?} {payload}");
                assert_eq!(fields(&got), [("content-type", "application/json")]);
            }
        }
        // A JSON string: its content through an HTTP API, the JSON through a function URL.
        assert_eq!(
            answer(Front::HttpApi, r#""Hello, world!""#).body,
            b"Hello, world!"
        );
        assert_eq!(
            answer(Front::FunctionUrl, r#""Hello, world!""#).body,
            br#""Hello, world!""#
        );
        // A REST API infers nothing.
        for payload in [r#""Hello""#, "[1]", "42", "null"] {
            assert_eq!(
                answer(Front::Rest, payload),
                HttpResponse::function_error(Front::Rest)
            );
        }
    }

    #[test]
    fn malformed_responses() {
        let malformed: [(&str, &[Front]); 9] = [
            ("not json", &ALL),
            ("", &ALL),
            (r#"{"statusCode":200,"body":{"a":1}}"#, &ALL),
            (r#"{"statusCode":200,"body":[1]}"#, &ALL),
            (r#"{"statusCode":200,"headers":{"X":{"a":1}}}"#, &ALL),
            (r#"{"statusCode":200,"headers":{"Bad Name":"x"}}"#, &ALL),
            (r#"{"statusCode":200,"headers":{"X":"a\nb"}}"#, &ALL),
            (r#"{"statusCode":200,"isBase64Encoded":"yes"}"#, &ALL),
            // Keys a REST API does not know; 2.0 ignores them.
            (r#"{"statusCode":200,"body":"x","extra":1}"#, &[Front::Rest]),
        ];
        for (payload, fronts) in malformed {
            for front in fronts.iter().copied() {
                let why = parse_response(front, payload.as_bytes()).unwrap_err();
                assert!(!why.is_empty());
                assert_eq!(answer(front, payload), HttpResponse::function_error(front));
            }
        }
        let extra = answer(Front::HttpApi, r#"{"statusCode":200,"body":"x","extra":1}"#);
        assert_eq!((extra.status, extra.body), (200, b"x".to_vec()));
        assert_eq!(
            answer(
                Front::Rest,
                r#"{"statusCode":200,"multiValueHeaders":{"X":"a"}}"#
            ),
            HttpResponse::function_error(Front::Rest)
        );
    }

    #[test]
    fn framing_fields_are_the_servers() {
        let got = answer(
            Front::Rest,
            r#"{"statusCode":200,"headers":{"Content-Length":"99","Connection":"close","X-Keep":"1"},"body":"ok"}"#,
        );
        assert_eq!(
            fields(&got),
            [("X-Keep", "1"), ("content-type", "application/json")]
        );
    }

    #[test]
    fn the_fronts_own_answers() {
        let rest = HttpResponse::function_error(Front::Rest);
        assert_eq!(
            (rest.status, &rest.body[..]),
            (502, &br#"{"message": "Internal server error"}"#[..])
        );
        let http = HttpResponse::function_error(Front::HttpApi);
        assert_eq!(
            (http.status, &http.body[..]),
            (500, &br#"{"message":"Internal Server Error"}"#[..])
        );
        let url = HttpResponse::function_error(Front::FunctionUrl);
        assert_eq!(
            (url.status, &url.body[..]),
            (502, &b"Internal Server Error"[..])
        );
        let rest = HttpResponse::timed_out(Front::Rest);
        assert_eq!(
            (rest.status, &rest.body[..]),
            (504, &br#"{"message": "Endpoint request timed out"}"#[..])
        );
        let http = HttpResponse::timed_out(Front::HttpApi);
        assert_eq!(
            (http.status, &http.body[..]),
            (503, &br#"{"message":"Service Unavailable"}"#[..])
        );
        assert_eq!(HttpResponse::timed_out(Front::FunctionUrl), url);
        assert_eq!(
            Front::Rest.integration_timeout(),
            Some(std::time::Duration::from_secs(29))
        );
        assert_eq!(Front::FunctionUrl.integration_timeout(), None);
    }

    #[test]
    fn a_streams_prelude_gives_the_head() {
        let mut stream =
            br#"{"statusCode":201,"headers":{"content-type":"text/plain"},"cookies":["a=1"]}"#
                .to_vec();
        assert_eq!(stream_head(&stream).unwrap(), None);
        stream.extend_from_slice(&[0; 8]);
        stream.extend_from_slice(b"first");
        let (head, body_at) = stream_head(&stream).unwrap().unwrap();
        assert_eq!(head.status, 201);
        assert!(head.headers.contains(&("set-cookie".into(), "a=1".into())));
        assert!(head
            .headers
            .contains(&("content-type".into(), "text/plain".into())));
        assert_eq!(&stream[body_at..], b"first");
        // Not a prelude: all body.
        let (head, body_at) = stream_head(b"plain bytes").unwrap().unwrap();
        assert_eq!((head.status, body_at), (200, 0));
        assert_eq!(stream_head(b"").unwrap(), None);
        // A prelude that never ends, or is not one.
        assert!(stream_head(&[b'{'; MAX_PRELUDE_BYTES + 1]).is_err());
        let mut bad = br#"{"statusCode":"teapot"}"#.to_vec();
        bad.extend_from_slice(&[0; 8]);
        assert!(stream_head(&bad).is_err());
    }
}
