//! The HTTP front door's pure core: an HTTP request becomes the event that API Gateway
//! (a REST API or an HTTP API) or a Lambda function URL would send the function, and the
//! function's answer becomes the HTTP response they would give. Data in, data out: the
//! server that owns the sockets lives elsewhere.
//!
//! - `event`: a [`Request`] to the event, per [`Front`]
//! - `response`: the function's payload to an [`HttpResponse`], and the answers the front
//!   gives on its own (function error, timeout)
//! - `text`: percent-decoding, query strings, which bodies travel as text, ordered JSON
//!
//! Shapes follow AWS's documentation and events captured from live APIs (July 2026);
//! where the two leave a question open, the comment at the code says what was chosen.
//! `aws_lambda_events` 1.2 (`apigw`, `lambda_function_urls`) was measured as the place
//! for these shapes and left out: its serde output is not what AWS sends (header names
//! lowercased even for REST APIs, `stageVariables` and `pathParameters` as `{}` instead
//! of null, `queryStringParameters` as `{}` instead of absent, nulls for fields AWS leaves
//! out, a deprecated `httpMethod` in 2.0 events, maps in random order), and its response
//! types refuse what AWS accepts (2.0 responses without `cookies`, function URL responses
//! without `isBase64Encoded`, `"statusCode": "200"`, numeric header values) and cannot say
//! "no statusCode" (the 2.0 inference). It would also add three crates and turn on
//! `serde/rc` and `bytes/serde`, recompiling most of the tree once.

mod event;
mod response;
mod text;

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use base64::Engine;

pub(crate) use event::event;
pub(crate) use response::{response, stream_head, HttpResponse};

pub use xtask::invoke::Front;

use crate::invoke::ids::new_request_id;
use xtask::util::random::random_u128;

/// An HTTP request as the front door's server received it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// The path as it came on the request line, still percent-encoded (`/a%20b`).
    pub path: String,
    /// The query string as it came, without the `?`; `None` when the target had no `?`.
    pub query: Option<String>,
    /// `HTTP/1.1`, as API Gateway reports it.
    pub protocol: String,
    /// Header fields, a repeated field repeated here. The event keeps the names as given;
    /// the front door's server gives them in lower case (see [`example_request`]).
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// The address of the client's end of the connection.
    pub source_ip: IpAddr,
    /// The port the server listens on (`X-Forwarded-Port`).
    pub port: u16,
}

/// What the front makes up for each request: the time it arrived and its ids.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub time: SystemTime,
    /// A UUID: a REST API's `requestId`, a function URL's `requestId` (which on AWS is also
    /// the invocation's request id).
    pub request_id: String,
    /// The short form (`ATfSdF7nPHcErRA=`): a REST API's `extendedRequestId`, an HTTP
    /// API's `requestId`.
    pub short_id: String,
    /// The `X-Amzn-Trace-Id` header the front adds.
    pub trace_id: String,
}

impl Stamp {
    /// Now, with fresh ids.
    pub(crate) fn now() -> Stamp {
        let time = SystemTime::now();
        let secs = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let short = random_u128().to_be_bytes();
        Stamp {
            time,
            request_id: new_request_id(),
            short_id: base64::engine::general_purpose::STANDARD.encode(&short[..11]),
            trace_id: format!("Root=1-{secs:08x}-{:024x}", random_u128() >> 32),
        }
    }
}

/// The request behind `invoke --example`: `curl 'http://127.0.0.1:9000/hello?name=world'`,
/// as the front door's server hands it over. Its names are in lower case because hyper
/// lower-cases them while parsing and keeps the client's spelling only where we cannot
/// read it (a private extension), so a REST event through the front door has `host` where
/// AWS would pass curl's `Host`; the example says the same.
pub(crate) fn example_request() -> Request {
    let headers = [
        ("host", "127.0.0.1:9000"),
        ("user-agent", "curl/8.5.0"),
        ("accept", "*/*"),
    ];
    Request {
        method: "GET".into(),
        path: "/hello".into(),
        query: Some("name=world".into()),
        protocol: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect(),
        body: Vec::new(),
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 9000,
    }
}

/// The event `front` sends for [`example_request`], made by the same [`event`] as every
/// request through the front door, so the two cannot disagree.
pub(crate) fn example(front: Front, stamp: &Stamp) -> Vec<u8> {
    event(front, &example_request(), stamp)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn the_flag_wins_then_the_declared_api() {
        use xtask::lambda::settings::ApiKind;
        assert_eq!(Front::for_function(None, None), Front::Rest);
        assert_eq!(
            Front::for_function(None, Some(ApiKind::Http)),
            Front::HttpApi
        );
        assert_eq!(
            Front::for_function(Some(Front::FunctionUrl), Some(ApiKind::Http)),
            Front::FunctionUrl
        );
    }

    #[test]
    fn stamps_have_aws_shaped_ids() {
        let stamp = Stamp::now();
        assert_eq!(stamp.request_id.len(), 36);
        assert_eq!(stamp.short_id.len(), 16, "{}", stamp.short_id);
        assert!(stamp.short_id.ends_with('='), "{}", stamp.short_id);
        let parts: Vec<&str> = stamp.trace_id.split('-').collect();
        assert_eq!(parts[0], "Root=1", "{}", stamp.trace_id);
        assert_eq!((parts[1].len(), parts[2].len()), (8, 24));
    }

    /// The JSON type of `value`, by name.
    fn kind(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    fn assert_shape(front: Front, event: &Value, shape: &[(&str, &str)]) {
        for (pointer, expected) in shape {
            let got = event.pointer(pointer).map(kind).unwrap_or("absent");
            assert_eq!(got, *expected, "{front:?} {pointer} in {event:#}");
        }
    }

    /// Every member of `object` is a string (`headers`), or a list of strings.
    fn all_strings(object: &Value, lists: bool) -> bool {
        object.as_object().unwrap().values().all(|v| match v {
            Value::Array(items) if lists => items.iter().all(Value::is_string),
            v => !lists && v.is_string(),
        })
    }

    /// The example events have the shape of AWS's documented events, member for member,
    /// with the request's method, path and query where a function looks for them.
    #[test]
    fn examples_have_the_documented_shape() {
        let rest: Value = serde_json::from_slice(&example(Front::Rest, &Stamp::now())).unwrap();
        let mut top: Vec<&String> = rest.as_object().unwrap().keys().collect();
        top.sort();
        assert_eq!(
            top,
            [
                "body",
                "headers",
                "httpMethod",
                "isBase64Encoded",
                "multiValueHeaders",
                "multiValueQueryStringParameters",
                "path",
                "pathParameters",
                "queryStringParameters",
                "requestContext",
                "resource",
                "stageVariables"
            ]
        );
        assert_shape(
            Front::Rest,
            &rest,
            &[
                ("/resource", "string"),
                ("/headers", "object"),
                ("/multiValueHeaders", "object"),
                ("/pathParameters/proxy", "string"),
                ("/stageVariables", "null"),
                ("/body", "null"),
                ("/isBase64Encoded", "boolean"),
                ("/requestContext/accountId", "string"),
                ("/requestContext/apiId", "string"),
                ("/requestContext/resourceId", "string"),
                ("/requestContext/resourcePath", "string"),
                ("/requestContext/stage", "string"),
                ("/requestContext/requestId", "string"),
                ("/requestContext/extendedRequestId", "string"),
                ("/requestContext/requestTime", "string"),
                ("/requestContext/requestTimeEpoch", "number"),
                ("/requestContext/httpMethod", "string"),
                ("/requestContext/path", "string"),
                ("/requestContext/protocol", "string"),
                ("/requestContext/domainName", "string"),
                ("/requestContext/domainPrefix", "string"),
                ("/requestContext/identity/sourceIp", "string"),
                ("/requestContext/identity/userAgent", "string"),
                ("/requestContext/identity/user", "null"),
            ],
        );
        assert!(all_strings(&rest["headers"], false));
        assert!(all_strings(&rest["multiValueHeaders"], true));
        assert!(all_strings(&rest["multiValueQueryStringParameters"], true));
        assert_eq!(rest["httpMethod"], "GET");
        assert_eq!(rest["path"], "/hello");
        assert_eq!(rest["queryStringParameters"], json!({"name": "world"}));
        assert_eq!(rest["headers"]["user-agent"], "curl/8.5.0");
        assert_eq!(rest["requestContext"]["identity"]["sourceIp"], "127.0.0.1");

        for front in [Front::HttpApi, Front::FunctionUrl] {
            let event: Value = serde_json::from_slice(&example(front, &Stamp::now())).unwrap();
            let mut top: Vec<&String> = event.as_object().unwrap().keys().collect();
            top.sort();
            // No cookies, body, path parameters or stage variables: left out.
            assert_eq!(
                top,
                [
                    "headers",
                    "isBase64Encoded",
                    "queryStringParameters",
                    "rawPath",
                    "rawQueryString",
                    "requestContext",
                    "routeKey",
                    "version"
                ]
            );
            assert_shape(
                front,
                &event,
                &[
                    ("/version", "string"),
                    ("/routeKey", "string"),
                    ("/headers", "object"),
                    ("/isBase64Encoded", "boolean"),
                    ("/requestContext/accountId", "string"),
                    ("/requestContext/apiId", "string"),
                    ("/requestContext/domainName", "string"),
                    ("/requestContext/domainPrefix", "string"),
                    ("/requestContext/http/method", "string"),
                    ("/requestContext/http/path", "string"),
                    ("/requestContext/http/protocol", "string"),
                    ("/requestContext/http/sourceIp", "string"),
                    ("/requestContext/http/userAgent", "string"),
                    ("/requestContext/requestId", "string"),
                    ("/requestContext/routeKey", "string"),
                    ("/requestContext/stage", "string"),
                    ("/requestContext/time", "string"),
                    ("/requestContext/timeEpoch", "number"),
                ],
            );
            assert!(all_strings(&event["headers"], false));
            assert_eq!(event["version"], "2.0");
            assert_eq!(event["rawPath"], "/hello");
            assert_eq!(event["rawQueryString"], "name=world");
            assert_eq!(event["queryStringParameters"], json!({"name": "world"}));
            assert_eq!(event["requestContext"]["http"]["method"], "GET");
            assert_eq!(event["headers"]["user-agent"], "curl/8.5.0");
        }
    }

    #[test]
    fn front_names_on_the_command_line() {
        use clap::ValueEnum;
        let names: Vec<String> = Front::value_variants()
            .iter()
            .map(|f| f.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(names, ["rest", "http-api", "function-url"]);
        assert_eq!(Front::default(), Front::Rest);
    }
}
