//! A request to the event the front sends the function.

use std::time::UNIX_EPOCH;

use base64::Engine;
use serde::Serialize;

use super::text::{group, header, query_pairs, textual, Object};
use super::{Front, Request, Stamp};
use xtask::util::text::percent_decode;
use xtask::util::time::utc_clf;

/// Made-up, stable ids: the account, REST API and resources of AWS's own proxy
/// integration walkthrough, and a function URL id of the length AWS gives them.
const ACCOUNT_ID: &str = "123456789012";
const API_ID: &str = "te6si5ach7";
const ROOT_RESOURCE_ID: &str = "krznpq9xpg";
const PROXY_RESOURCE_ID: &str = "2jf6xt";
const URL_ID: &str = "abcdefghijklmnopqrstuvwxyz012345";
/// The REST API's stage: on AWS the first segment of the URL, and of `requestContext.path`.
const STAGE: &str = "local";

/// Header fields that end at the front (connection management, RFC 9110 §7.6.1, and
/// `Expect`), which it does not pass on.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// The event `front` sends the function for `request`, as JSON.
pub(crate) fn event(front: Front, request: &Request, stamp: &Stamp) -> Vec<u8> {
    let json = match front {
        Front::Rest => serde_json::to_vec(&rest(request, stamp)),
        Front::HttpApi | Front::FunctionUrl => serde_json::to_vec(&v2(front, request, stamp)),
    };
    json.expect("serialising strings and numbers into memory cannot fail")
}

/// Payload format 1.0, as a REST API's proxy integration fills it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RestEvent<'a> {
    resource: &'static str,
    path: &'a str,
    http_method: &'a str,
    /// The last value of each field; null without any.
    headers: Option<Object<String>>,
    multi_value_headers: Option<Object<Vec<String>>>,
    query_string_parameters: Option<Object<String>>,
    multi_value_query_string_parameters: Option<Object<Vec<String>>>,
    path_parameters: Option<Object<&'a str>>,
    stage_variables: (),
    request_context: RestContext<'a>,
    body: Option<String>,
    is_base64_encoded: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RestContext<'a> {
    resource_id: &'static str,
    resource_path: &'static str,
    http_method: &'a str,
    extended_request_id: &'a str,
    request_time: String,
    path: String,
    account_id: &'static str,
    protocol: &'a str,
    stage: &'static str,
    domain_prefix: String,
    request_time_epoch: u64,
    request_id: &'a str,
    identity: Identity,
    domain_name: String,
    api_id: &'static str,
}

/// The caller as an API without authorization knows it: an address and a user agent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    cognito_identity_pool_id: (),
    account_id: (),
    cognito_identity_id: (),
    caller: (),
    source_ip: String,
    principal_org_id: (),
    access_key: (),
    cognito_authentication_type: (),
    cognito_authentication_provider: (),
    user_arn: (),
    user_agent: Option<String>,
    user: (),
}

/// Payload format 2.0, as an HTTP API or a function URL fills it; fields without a value
/// are left out.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Event<'a> {
    version: &'static str,
    route_key: &'static str,
    raw_path: String,
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<String>,
    /// Names in lower case, the values of a repeated field joined with commas.
    headers: Object<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_string_parameters: Option<Object<String>>,
    request_context: V2Context<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    is_base64_encoded: bool,
}

/// No `authorizer` or `authentication`: the API has no authorizer, the URL auth type NONE.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Context<'a> {
    account_id: &'static str,
    api_id: &'static str,
    domain_name: String,
    domain_prefix: String,
    http: V2Http<'a>,
    request_id: &'a str,
    route_key: &'static str,
    stage: &'static str,
    time: String,
    time_epoch: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Http<'a> {
    method: &'a str,
    path: String,
    protocol: &'a str,
    source_ip: String,
    user_agent: Option<String>,
}

fn rest<'a>(request: &'a Request, stamp: &'a Stamp) -> RestEvent<'a> {
    let headers = forwarded_headers(Front::Rest, request, stamp);
    let grouped = group(headers.iter().cloned(), true);
    let query = group(
        query_pairs(request.query.as_deref().unwrap_or_default()),
        false,
    );
    // `ANY /` answers the root; `ANY /{proxy+}` every other path.
    let root = request.path == "/";
    let (resource, resource_id) = if root {
        ("/", ROOT_RESOURCE_ID)
    } else {
        ("/{proxy+}", PROXY_RESOURCE_ID)
    };
    let (body, is_base64_encoded) = body(Front::Rest, &headers, &request.body);
    let domain_name = domain_name(&headers);
    RestEvent {
        resource,
        path: &request.path,
        http_method: &request.method,
        headers: object_or_null(last_values(&grouped)),
        multi_value_headers: object_or_null(grouped),
        query_string_parameters: object_or_null(last_values(&query)),
        multi_value_query_string_parameters: object_or_null(query),
        // Still percent-encoded, as the path.
        path_parameters: (!root).then(|| {
            let proxy = request.path.strip_prefix('/').unwrap_or(&request.path);
            Object(vec![("proxy".to_string(), proxy)])
        }),
        stage_variables: (),
        request_context: RestContext {
            resource_id,
            resource_path: resource,
            http_method: &request.method,
            extended_request_id: &stamp.short_id,
            request_time: utc_clf(stamp.time),
            path: format!("/{STAGE}{}", request.path),
            account_id: ACCOUNT_ID,
            protocol: &request.protocol,
            stage: STAGE,
            domain_prefix: domain_prefix(&domain_name).to_string(),
            request_time_epoch: epoch_ms(stamp),
            request_id: &stamp.request_id,
            identity: Identity {
                cognito_identity_pool_id: (),
                account_id: (),
                cognito_identity_id: (),
                caller: (),
                source_ip: source_ip(request),
                principal_org_id: (),
                access_key: (),
                cognito_authentication_type: (),
                cognito_authentication_provider: (),
                user_arn: (),
                user_agent: header(&headers, "user-agent").map(String::from),
                user: (),
            },
            domain_name,
            api_id: API_ID,
        },
        body,
        is_base64_encoded,
    }
}

fn v2<'a>(front: Front, request: &'a Request, stamp: &'a Stamp) -> V2Event<'a> {
    let url = front == Front::FunctionUrl;
    let headers = forwarded_headers(front, request, stamp);
    let cookies = headers
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, value)| value.split(';'))
        .map(str::trim)
        .filter(|cookie| !cookie.is_empty())
        .map(String::from)
        .collect();
    // An HTTP API moves `Cookie` into `cookies`; a function URL keeps it in both.
    let passed = headers
        .iter()
        .filter(|(name, _)| url || name != "cookie")
        .cloned();
    let raw_query_string = request.query.as_deref().unwrap_or_default();
    let query = joined(group(query_pairs(raw_query_string), false));
    // Live captures: a function URL keeps `rawPath` encoded and decodes `http.path`; an
    // HTTP API decodes both.
    let (raw_path, http_path) = if url {
        (request.path.clone(), percent_decode(&request.path, false))
    } else {
        let path = http_api_path(&request.path);
        (path.clone(), path)
    };
    let (body, is_base64_encoded) = body(front, &headers, &request.body);
    let domain_name = domain_name(&headers);
    V2Event {
        version: "2.0",
        route_key: "$default",
        raw_path,
        raw_query_string,
        cookies,
        headers: Object(joined(group(passed, false))),
        query_string_parameters: (!query.is_empty()).then_some(Object(query)),
        request_context: V2Context {
            // A function URL with auth type NONE knows no caller's account.
            account_id: if url { "anonymous" } else { ACCOUNT_ID },
            api_id: if url { URL_ID } else { API_ID },
            domain_prefix: domain_prefix(&domain_name).to_string(),
            domain_name,
            http: V2Http {
                method: &request.method,
                path: http_path,
                protocol: &request.protocol,
                source_ip: source_ip(request),
                user_agent: header(&headers, "user-agent").map(String::from),
            },
            request_id: if url {
                &stamp.request_id
            } else {
                &stamp.short_id
            },
            route_key: "$default",
            stage: "$default",
            time: utc_clf(stamp.time),
            time_epoch: epoch_ms(stamp),
        },
        body,
        is_base64_encoded,
    }
}

/// The request's header fields as the front passes them on, values as text: hop-by-hop
/// fields dropped (and `Content-Length` by a REST API, as its events show), the client's
/// address appended to `X-Forwarded-For`, the front's own fields after the client's.
/// Payload format 2.0 has every name in lower case.
fn forwarded_headers(front: Front, request: &Request, stamp: &Stamp) -> Vec<(String, String)> {
    let source_ip = source_ip(request);
    let mut forwarded_for: Vec<String> = Vec::new();
    let mut headers = Vec::new();
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(value).into_owned();
        match lower.as_str() {
            hop if HOP_BY_HOP.contains(&hop) => {}
            "content-length" if front == Front::Rest => {}
            "x-forwarded-for" => forwarded_for.push(value),
            // The front sets these itself.
            "x-amzn-trace-id" | "x-forwarded-port" | "x-forwarded-proto" => {}
            _ => headers.push((name.clone(), value)),
        }
    }
    forwarded_for.push(source_ip);
    headers.extend([
        ("X-Amzn-Trace-Id".to_string(), stamp.trace_id.clone()),
        ("X-Forwarded-For".to_string(), forwarded_for.join(", ")),
        ("X-Forwarded-Port".to_string(), request.port.to_string()),
        ("X-Forwarded-Proto".to_string(), "http".to_string()),
    ]);
    if front != Front::Rest {
        for (name, _) in &mut headers {
            name.make_ascii_lowercase();
        }
    }
    headers
}

/// The body as the front passes it on: none when empty; as text when it reads as text;
/// otherwise base64 with `isBase64Encoded`. An HTTP API or function URL passes text only
/// for textual content types ([`textual`]). A REST API without binary media types passes
/// every body as text, and would mangle one that is not UTF-8; here such a body arrives
/// base64-encoded, as it would through a REST API that lists its type as binary.
fn body(front: Front, headers: &[(String, String)], body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let textual = front == Front::Rest || textual(header(headers, "content-type"));
    match std::str::from_utf8(body) {
        Ok(text) if textual => (Some(text.to_string()), false),
        _ => (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

/// An HTTP API's `rawPath`, as live captures show it: percent-decoded, cut at a `?` the
/// decoding revealed, then decoded once more (`%252F` arrives as `/`). Where the second
/// pass meets a bad escape (`%25zz`) AWS answers 400 without calling the function; here
/// the escape stays as written.
fn http_api_path(path: &str) -> String {
    let once = percent_decode(path, false);
    let before_query = once.split('?').next().unwrap_or_default();
    percent_decode(before_query, false)
}

/// The host the client asked for, without the port: `domainName`.
fn domain_name(headers: &[(String, String)]) -> String {
    let host = header(headers, "host").unwrap_or_default().trim();
    let name = if host.starts_with('[') {
        host.split_inclusive(']').next()
    } else {
        host.split(':').next()
    };
    match name.unwrap_or_default() {
        "" => "localhost".to_string(),
        name => name.to_ascii_lowercase(),
    }
}

/// The domain's first label: `domainPrefix`.
fn domain_prefix(domain: &str) -> &str {
    if domain.starts_with('[') {
        domain
    } else {
        domain.split('.').next().unwrap_or(domain)
    }
}

fn source_ip(request: &Request) -> String {
    request.source_ip.to_canonical().to_string()
}

fn epoch_ms(stamp: &Stamp) -> u64 {
    let ms = stamp.time.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(ms.as_millis()).unwrap_or(u64::MAX)
}

fn last_values(groups: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    groups
        .iter()
        .filter_map(|(name, values)| Some((name.clone(), values.last()?.clone())))
        .collect()
}

fn joined(groups: Vec<(String, Vec<String>)>) -> Vec<(String, String)> {
    groups
        .into_iter()
        .map(|(name, values)| (name, values.join(",")))
        .collect()
}

fn object_or_null<V>(members: Vec<(String, V)>) -> Option<Object<V>> {
    (!members.is_empty()).then_some(Object(members))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::time::Duration;

    use serde_json::value::RawValue;
    use serde_json::{json, Value};

    use super::super::text::Members;
    use super::*;

    /// The ids and time of a request captured through a live REST API.
    fn stamp() -> Stamp {
        Stamp {
            time: UNIX_EPOCH + Duration::from_millis(1_783_711_144_836),
            request_id: "7c2af7db-31f3-42b5-8a6d-9ffc74e3b9e0".into(),
            short_id: "ATfSdF7nPHcErRA=".into(),
            trace_id: "Root=1-6a5145a8-536f3e792f6be9b44c1f46fa".into(),
        }
    }

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_string())),
            None => (target, None),
        };
        Request {
            method: method.into(),
            path: path.into(),
            query,
            protocol: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
            source_ip: IpAddr::V4(Ipv4Addr::new(68, 8, 83, 18)),
            port: 9000,
        }
    }

    fn get(target: &str) -> Request {
        request("GET", target, &[("Host", "127.0.0.1:9000")], b"")
    }

    fn json_of(front: Front, request: &Request) -> Value {
        serde_json::from_slice(&event(front, request, &stamp())).unwrap()
    }

    /// The member names of the object at `path` in `front`'s event, in document order
    /// (`Value` may sort them).
    fn names(front: Front, request: &Request, path: &[&str]) -> Vec<String> {
        let mut text = String::from_utf8(event(front, request, &stamp())).unwrap();
        for step in path {
            let members: HashMap<String, Box<RawValue>> = serde_json::from_str(&text).unwrap();
            text = members[*step].get().to_string();
        }
        let members: Members = serde_json::from_str(&text).unwrap();
        members.0.into_iter().map(|(name, _)| name).collect()
    }

    /// A request like the one sent through live APIs to capture their events: an encoded
    /// path, repeated and encoded query parameters, a repeated header, two cookies, JSON.
    fn captured_request() -> Request {
        let body = r#"{"message":"hello from the public internet","unicode":"lambda-λ"}"#;
        request(
            "POST",
            "/capture/space%20value?repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty=",
            &[
                ("Host", "127.0.0.1:9000"),
                ("User-Agent", "curl/8.7.1"),
                ("accept", "*/*"),
                ("content-type", "application/json"),
                ("content-length", "66"),
                ("cookie", "session=abc123; theme=dark"),
                ("x-voker-probe", "first"),
                ("x-voker-probe", "second"),
            ],
            body.as_bytes(),
        )
    }

    #[test]
    fn rest_event_as_a_live_rest_api_fills_it() {
        let event = json_of(Front::Rest, &captured_request());
        assert_eq!(event["resource"], "/{proxy+}");
        assert_eq!(event["path"], "/capture/space%20value");
        assert_eq!(event["httpMethod"], "POST");
        assert_eq!(
            event["headers"],
            json!({
                "Host": "127.0.0.1:9000",
                "User-Agent": "curl/8.7.1",
                "accept": "*/*",
                "content-type": "application/json",
                "cookie": "session=abc123; theme=dark",
                "x-voker-probe": "second",
                "X-Amzn-Trace-Id": "Root=1-6a5145a8-536f3e792f6be9b44c1f46fa",
                "X-Forwarded-For": "68.8.83.18",
                "X-Forwarded-Port": "9000",
                "X-Forwarded-Proto": "http",
            })
        );
        assert_eq!(
            event["multiValueHeaders"]["x-voker-probe"],
            json!(["first", "second"])
        );
        assert_eq!(
            event["multiValueHeaders"]["Host"],
            json!(["127.0.0.1:9000"])
        );
        assert_eq!(
            event["queryStringParameters"],
            json!({
                "repeat": "two",
                "redirect": "https://example.com/a/b",
                "literalPlus": "a b",
                "encodedPlus": "a+b",
                "empty": "",
            })
        );
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({
                "repeat": ["one", "two"],
                "redirect": ["https://example.com/a/b"],
                "literalPlus": ["a b"],
                "encodedPlus": ["a+b"],
                "empty": [""],
            })
        );
        assert_eq!(
            event["pathParameters"],
            json!({"proxy": "capture/space%20value"})
        );
        assert_eq!(event["stageVariables"], Value::Null);
        assert_eq!(
            event["body"],
            r#"{"message":"hello from the public internet","unicode":"lambda-λ"}"#
        );
        assert_eq!(event["isBase64Encoded"], false);
        let context = &event["requestContext"];
        assert_eq!(context["path"], "/local/capture/space%20value");
        assert_eq!(context["resourcePath"], "/{proxy+}");
        assert_eq!(context["httpMethod"], "POST");
        assert_eq!(context["requestTime"], "10/Jul/2026:19:19:04 +0000");
        assert_eq!(context["requestTimeEpoch"], 1_783_711_144_836u64);
        assert_eq!(context["requestId"], "7c2af7db-31f3-42b5-8a6d-9ffc74e3b9e0");
        assert_eq!(context["extendedRequestId"], "ATfSdF7nPHcErRA=");
        assert_eq!(context["protocol"], "HTTP/1.1");
        assert_eq!(context["domainName"], "127.0.0.1");
        assert_eq!(context["domainPrefix"], "127");
        assert_eq!(context["identity"]["sourceIp"], "68.8.83.18");
        assert_eq!(context["identity"]["userAgent"], "curl/8.7.1");
        assert_eq!(context["identity"]["caller"], Value::Null);
    }

    #[test]
    fn http_api_event_as_a_live_http_api_fills_it() {
        let event = json_of(Front::HttpApi, &captured_request());
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "$default");
        assert_eq!(event["rawPath"], "/capture/space value");
        assert_eq!(
            event["rawQueryString"],
            "repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty="
        );
        assert_eq!(event["cookies"], json!(["session=abc123", "theme=dark"]));
        assert_eq!(
            event["headers"],
            json!({
                "host": "127.0.0.1:9000",
                "user-agent": "curl/8.7.1",
                "accept": "*/*",
                "content-type": "application/json",
                "content-length": "66",
                "x-voker-probe": "first,second",
                "x-amzn-trace-id": "Root=1-6a5145a8-536f3e792f6be9b44c1f46fa",
                "x-forwarded-for": "68.8.83.18",
                "x-forwarded-port": "9000",
                "x-forwarded-proto": "http",
            })
        );
        assert_eq!(
            event["queryStringParameters"],
            json!({
                "repeat": "one,two",
                "redirect": "https://example.com/a/b",
                "literalPlus": "a b",
                "encodedPlus": "a+b",
                "empty": "",
            })
        );
        let context = &event["requestContext"];
        assert_eq!(context["http"]["path"], "/capture/space value");
        assert_eq!(context["http"]["method"], "POST");
        assert_eq!(context["http"]["sourceIp"], "68.8.83.18");
        assert_eq!(context["http"]["userAgent"], "curl/8.7.1");
        assert_eq!(context["requestId"], "ATfSdF7nPHcErRA=");
        assert_eq!(context["stage"], "$default");
        assert_eq!(context["accountId"], ACCOUNT_ID);
        assert_eq!(context["time"], "10/Jul/2026:19:19:04 +0000");
        assert_eq!(context["timeEpoch"], 1_783_711_144_836u64);
        assert_eq!(event["isBase64Encoded"], false);
        for absent in ["pathParameters", "stageVariables"] {
            assert!(event.get(absent).is_none(), "{absent}");
        }
        assert!(context.get("authorizer").is_none());
    }

    #[test]
    fn function_url_event_as_a_live_function_url_fills_it() {
        let event = json_of(Front::FunctionUrl, &captured_request());
        assert_eq!(event["rawPath"], "/capture/space%20value");
        assert_eq!(
            event["requestContext"]["http"]["path"],
            "/capture/space value"
        );
        assert_eq!(event["cookies"], json!(["session=abc123", "theme=dark"]));
        assert_eq!(event["headers"]["cookie"], "session=abc123; theme=dark");
        assert_eq!(event["headers"]["x-voker-probe"], "first,second");
        assert_eq!(event["queryStringParameters"]["repeat"], "one,two");
        let context = &event["requestContext"];
        assert_eq!(context["accountId"], "anonymous");
        assert_eq!(context["apiId"], URL_ID);
        assert_eq!(context["requestId"], "7c2af7db-31f3-42b5-8a6d-9ffc74e3b9e0");
        for absent in ["authorizer", "authentication"] {
            assert!(context.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn every_method_is_passed_as_sent() {
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let request = request(method, "/m", &[], b"");
            assert_eq!(json_of(Front::Rest, &request)["httpMethod"], method);
            assert_eq!(
                json_of(Front::Rest, &request)["requestContext"]["httpMethod"],
                method
            );
            for front in [Front::HttpApi, Front::FunctionUrl] {
                assert_eq!(
                    json_of(front, &request)["requestContext"]["http"]["method"],
                    method
                );
            }
        }
    }

    #[test]
    fn no_query_and_no_body() {
        let rest = json_of(Front::Rest, &get("/hello"));
        for null in [
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "stageVariables",
            "body",
        ] {
            assert_eq!(rest[null], Value::Null, "{null}");
        }
        assert_eq!(rest["isBase64Encoded"], false);
        for front in [Front::HttpApi, Front::FunctionUrl] {
            let v2 = json_of(front, &get("/hello"));
            assert_eq!(v2["rawQueryString"], "");
            for absent in ["queryStringParameters", "cookies", "body"] {
                assert!(v2.get(absent).is_none(), "{front:?} {absent}");
            }
            assert_eq!(v2["isBase64Encoded"], false);
        }
        // A bare `?` is an empty query.
        assert_eq!(
            json_of(Front::Rest, &get("/hello?"))["queryStringParameters"],
            Value::Null
        );
    }

    #[test]
    fn the_root_is_its_own_resource() {
        let event = json_of(Front::Rest, &get("/"));
        assert_eq!(event["resource"], "/");
        assert_eq!(event["pathParameters"], Value::Null);
        assert_eq!(event["requestContext"]["resourcePath"], "/");
        assert_eq!(event["requestContext"]["resourceId"], ROOT_RESOURCE_ID);
        assert_eq!(event["requestContext"]["path"], "/local/");
        let nested = json_of(Front::Rest, &get("/a/b/"));
        assert_eq!(nested["pathParameters"], json!({"proxy": "a/b/"}));
    }

    #[test]
    fn binary_and_text_bodies() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff];
        let binary = request("POST", "/up", &[("Content-Type", "image/png")], &png);
        for front in [Front::Rest, Front::HttpApi, Front::FunctionUrl] {
            let event = json_of(front, &binary);
            assert_eq!(event["body"], "iVBORw0KGgoA/w==", "{front:?}");
            assert_eq!(event["isBase64Encoded"], true, "{front:?}");
        }
        // UTF-8 of a type that is not textual: text to a REST API, base64 to the others.
        let form = request(
            "POST",
            "/form",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"a=1&b=%C3%A9",
        );
        assert_eq!(json_of(Front::Rest, &form)["body"], "a=1&b=%C3%A9");
        assert_eq!(json_of(Front::Rest, &form)["isBase64Encoded"], false);
        for front in [Front::HttpApi, Front::FunctionUrl] {
            assert_eq!(json_of(front, &form)["body"], "YT0xJmI9JUMzJUE5");
            assert_eq!(json_of(front, &form)["isBase64Encoded"], true);
        }
        let text = request(
            "PUT",
            "/t",
            &[("content-type", "text/plain; charset=utf-8")],
            "héllo".as_bytes(),
        );
        for front in [Front::Rest, Front::HttpApi, Front::FunctionUrl] {
            assert_eq!(json_of(front, &text)["body"], "héllo");
            assert_eq!(json_of(front, &text)["isBase64Encoded"], false);
        }
    }

    #[test]
    fn http_api_paths_as_live_captures_show_them() {
        // Sent path → what an HTTP API put in `rawPath` (REST APIs and function URLs keep
        // the path as sent).
        let captures = [
            ("/capture/plain", "/capture/plain"),
            ("/capture/space%20value", "/capture/space value"),
            ("/capture/question%3Fvalue", "/capture/question"),
            ("/capture/hash%23value", "/capture/hash#value"),
            ("/capture/slash%2Fvalue", "/capture/slash/value"),
            (
                "/capture/unicode-%CE%BB-%E4%B8%96%E7%95%8C",
                "/capture/unicode-λ-世界",
            ),
            ("/capture/literal%252Fvalue", "/capture/literal/value"),
            ("/capture/literal%253Fvalue", "/capture/literal?value"),
            ("/capture/literal%2525value", "/capture/literal%value"),
        ];
        for (sent, seen) in captures {
            assert_eq!(
                json_of(Front::HttpApi, &get(sent))["rawPath"],
                seen,
                "{sent}"
            );
            assert_eq!(json_of(Front::Rest, &get(sent))["path"], sent);
            assert_eq!(json_of(Front::FunctionUrl, &get(sent))["rawPath"], sent);
        }
    }

    #[test]
    fn forwarding_headers() {
        let request = request(
            "GET",
            "/f",
            &[
                ("Host", "[::1]:9000"),
                ("Connection", "keep-alive"),
                ("Transfer-Encoding", "chunked"),
                ("X-Forwarded-For", "10.0.0.1"),
                ("X-Forwarded-Proto", "https"),
                ("Content-Length", "0"),
            ],
            b"",
        );
        let rest = json_of(Front::Rest, &request);
        let headers = rest["headers"].as_object().unwrap();
        assert_eq!(headers["X-Forwarded-For"], "10.0.0.1, 68.8.83.18");
        assert_eq!(headers["X-Forwarded-Proto"], "http");
        for gone in ["Connection", "Transfer-Encoding", "Content-Length"] {
            assert!(!headers.contains_key(gone), "{gone}");
        }
        assert_eq!(rest["requestContext"]["domainName"], "[::1]");
        assert_eq!(rest["requestContext"]["domainPrefix"], "[::1]");
        let v2 = json_of(Front::HttpApi, &request);
        assert_eq!(v2["headers"]["content-length"], "0");
        assert_eq!(v2["headers"]["x-forwarded-for"], "10.0.0.1, 68.8.83.18");
        // No Host at all, and an IPv4 client seen through an IPv6 socket.
        let mut bare = get("/");
        bare.headers.clear();
        bare.source_ip = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped());
        let event = json_of(Front::Rest, &bare);
        assert_eq!(event["requestContext"]["domainName"], "localhost");
        assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(
            event["requestContext"]["identity"]["userAgent"],
            Value::Null
        );
        bare.source_ip = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            json_of(Front::HttpApi, &bare)["requestContext"]["http"]["sourceIp"],
            "::1"
        );
    }

    #[test]
    fn members_come_in_the_order_aws_writes_them() {
        let request = captured_request();
        assert_eq!(
            names(Front::Rest, &request, &[]),
            [
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "pathParameters",
                "stageVariables",
                "requestContext",
                "body",
                "isBase64Encoded"
            ]
        );
        assert_eq!(
            names(Front::HttpApi, &request, &[]),
            [
                "version",
                "routeKey",
                "rawPath",
                "rawQueryString",
                "cookies",
                "headers",
                "queryStringParameters",
                "requestContext",
                "body",
                "isBase64Encoded"
            ]
        );
        // Headers in arrival order, the front's own last.
        let headers = names(Front::Rest, &request, &["headers"]);
        assert_eq!(headers.first().unwrap(), "Host");
        assert_eq!(headers.last().unwrap(), "X-Forwarded-Proto");
    }

    /// AWS's example of a payload format 2.0 event (API Gateway developer guide, "Create AWS
    /// Lambda proxy integrations for HTTP APIs"), as documented.
    const DOCUMENTED_2_0: &str = r#"{
      "version": "2.0",
      "routeKey": "$default",
      "rawPath": "/my/path",
      "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
      "cookies": ["cookie1", "cookie2"],
      "headers": {"header1": "value1", "header2": "value1,value2"},
      "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "authentication": {"clientCert": {"clientCertPem": "CERT_CONTENT"}},
        "authorizer": {"jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1"]}},
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.1", "userAgent": "agent"},
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390
      },
      "body": "Hello from Lambda",
      "pathParameters": {"parameter1": "value1"},
      "isBase64Encoded": false,
      "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
    }"#;

    /// The documented request through `--http http-api`: every field AWS documents is there
    /// with the same value, but for ids, times, the domain and the client's address; the
    /// members an authorizer, path parameters or stage variables would add are absent, as a
    /// `$default` route without them leaves them.
    #[test]
    fn http_api_event_is_the_documented_payload_2_0() {
        let documented: Value = serde_json::from_str(DOCUMENTED_2_0).unwrap();
        let request = request(
            "POST",
            "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
            &[
                ("header1", "value1"),
                ("header2", "value1"),
                ("header2", "value2"),
                ("cookie", "cookie1; cookie2"),
                ("user-agent", "agent"),
                ("content-type", "text/plain"),
            ],
            b"Hello from Lambda",
        );
        let ours = json_of(Front::HttpApi, &request);
        let without = |v: &Value, absent: &[&str]| -> Vec<String> {
            let mut keys: Vec<String> = v
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !absent.contains(&k.as_str()))
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(
            without(&ours, &[]),
            without(&documented, &["pathParameters", "stageVariables"])
        );
        for same in [
            "version",
            "routeKey",
            "rawPath",
            "rawQueryString",
            "cookies",
            "queryStringParameters",
            "body",
            "isBase64Encoded",
        ] {
            assert_eq!(ours[same], documented[same], "{same}");
        }
        // API Gateway adds its own headers (X-Forwarded-*, the trace id) to the client's.
        for (name, value) in documented["headers"].as_object().unwrap() {
            assert_eq!(&ours["headers"][name], value, "header {name}");
        }
        let (context, doc_context) = (&ours["requestContext"], &documented["requestContext"]);
        assert_eq!(
            without(context, &[]),
            without(doc_context, &["authentication", "authorizer"])
        );
        for same in ["routeKey", "stage"] {
            assert_eq!(context[same], doc_context[same], "{same}");
        }
        for same in ["method", "path", "protocol", "userAgent"] {
            assert_eq!(
                context["http"][same], doc_context["http"][same],
                "http.{same}"
            );
        }
        // Ids, times, the domain, the client's address: each of the documented type.
        for (path, kind) in [
            ("/accountId", "string"),
            ("/apiId", "string"),
            ("/domainName", "string"),
            ("/domainPrefix", "string"),
            ("/http/sourceIp", "string"),
            ("/requestId", "string"),
            ("/time", "string"),
            ("/timeEpoch", "number"),
        ] {
            let of = |v: &Value| match v.pointer(path) {
                Some(Value::String(_)) => "string",
                Some(Value::Number(_)) => "number",
                other => panic!("{path}: {other:?}"),
            };
            assert_eq!((of(context), of(doc_context)), (kind, kind), "{path}");
        }
    }
}
