//! The front door on `--serve`: real HTTP requests to any path outside the Invoke API reach
//! the real bootstrap as API Gateway events, and its proxy response comes back as the HTTP
//! response; malformed answers, crashes and timeouts through the fixture runtime are answered
//! as API Gateway answers them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::common::*;
use crate::fixture::fixture_zip;
use crate::invoke_echo;
use crate::serve::{Answer, Server};

/// One HTTP/1.1 request with repeated headers allowed, answered within a minute.
fn request(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    // Without a body, none, as curl sends a GET.
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), buf[split + 4..].to_vec())
}

/// The event the echo function saw: it answers 200 with the event pretty-printed as body.
fn echoed(answer: &Answer) -> Value {
    let (status, head, body) = answer;
    assert_eq!(*status, 200, "{head}\n{}", text(body));
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", text(body)))
}

#[test]
fn http_requests_reach_the_function_as_rest_api_events() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    let port = server.port;

    let event = echoed(&request(
        port,
        "GET",
        "/hello?name=world&name=again&empty=",
        &[("X-Repeated", "1"), ("X-Repeated", "2")],
        b"",
    ));
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["path"], "/hello");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"]["proxy"], "hello");
    assert_eq!(event["queryStringParameters"]["name"], "again");
    assert_eq!(
        event["multiValueQueryStringParameters"]["name"],
        serde_json::json!(["world", "again"])
    );
    assert_eq!(
        event["multiValueHeaders"]["x-repeated"],
        serde_json::json!(["1", "2"])
    );
    assert_eq!(event["headers"]["x-repeated"], "2");
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], false);
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert!(
        event["requestContext"]["requestTimeEpoch"]
            .as_u64()
            .unwrap()
            > 1_700_000_000_000
    );

    // Methods and bodies: text as it is, binary as base64, a large one whole.
    let event = echoed(&request(
        port,
        "PUT",
        "/items/7",
        &[("Content-Type", "application/json")],
        b"{\"a\":1}",
    ));
    assert_eq!(event["httpMethod"], "PUT");
    assert_eq!(event["body"], "{\"a\":1}");
    assert_eq!(event["isBase64Encoded"], false);
    let binary: Vec<u8> = (0..=255u8).collect();
    let event = echoed(&request(
        port,
        "POST",
        "/upload",
        &[("Content-Type", "application/octet-stream")],
        &binary,
    ));
    assert_eq!(event["isBase64Encoded"], true);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(event["body"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, binary);
    let large = "x".repeat(1_000_000);
    let event = echoed(&request(
        port,
        "POST",
        "/large",
        &[("Content-Type", "text/plain")],
        large.as_bytes(),
    ));
    assert_eq!(event["body"].as_str().unwrap().len(), large.len());

    // The Invoke API keeps its paths.
    let (status, _, _) = server.post("/2015-03-31/functions/function/other", b"{}");
    assert_eq!(status, 404);
    server.stop();
}

#[test]
fn http_api_events_and_answers_as_payload_2_0() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&built_zip("x86_64"), tmp.path(), &["--http", "http-api"]);
    let event = echoed(&request(
        server.port,
        "GET",
        "/hello?name=a&name=b",
        &[("Cookie", "c1=v1; c2=v2")],
        b"",
    ));
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/hello");
    assert_eq!(event["rawQueryString"], "name=a&name=b");
    assert_eq!(event["queryStringParameters"]["name"], "a,b");
    assert_eq!(event["cookies"], serde_json::json!(["c1=v1", "c2=v2"]));
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    server.stop();
}

/// The member names of a JSON object, sorted (`Value` keeps them sorted or in order,
/// depending on serde_json's features in the build).
fn member_names(object: &Value) -> Vec<String> {
    let object = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"));
    let mut names: Vec<String> = object.keys().cloned().collect();
    names.sort();
    names
}

/// Header names as the front door passes them on and as `--example` shows them, for the
/// same curl request: the client's in lower case (the server keeps no spelling we can read;
/// a REST API on AWS would pass curl's `Host`), the front's own as AWS spells them in
/// payload 1.0 and in lower case in 2.0.
#[test]
fn header_names_through_the_front_door_and_in_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let curl = [("User-Agent", "curl/8.5.0"), ("Accept", "*/*")];
    let client = ["accept", "host", "user-agent"];
    for (front, added, fields) in [
        (
            "rest",
            [
                "X-Amzn-Trace-Id",
                "X-Forwarded-For",
                "X-Forwarded-Port",
                "X-Forwarded-Proto",
            ],
            &["headers", "multiValueHeaders"][..],
        ),
        (
            "http-api",
            [
                "x-amzn-trace-id",
                "x-forwarded-for",
                "x-forwarded-port",
                "x-forwarded-proto",
            ],
            &["headers"][..],
        ),
    ] {
        let mut expected: Vec<String> =
            client.iter().chain(&added).map(|n| n.to_string()).collect();
        expected.sort();
        let server = Server::start_with(&built_zip("x86_64"), tmp.path(), &["--http", front]);
        let served = echoed(&request(
            server.port,
            "GET",
            "/hello?name=world",
            &curl,
            b"",
        ));
        server.stop();
        let out = invoke_echo(&["--example", front], b"");
        assert!(out.status.success(), "{front}: {}", text(&out.stderr));
        let response: Value = serde_json::from_slice(&out.stdout).unwrap();
        let example: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        for field in fields {
            assert_eq!(
                member_names(&served[field]),
                expected,
                "{front} {field}: {served}"
            );
            assert_eq!(
                member_names(&example[field]),
                expected,
                "--example {front} {field}"
            );
        }
        assert_eq!(
            served["headers"]["user-agent"], example["headers"]["user-agent"],
            "{front}"
        );
    }
}

#[test]
fn answers_that_are_not_responses_crashes_and_timeouts() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = fixture_zip();
    // The fixture echoes an event it does not know: not a proxy response.
    let server = Server::start_with(&zip, tmp.path(), &["--timeout", "1"]);
    let port = server.port;
    let (status, _, body) = request(port, "GET", "/anything", &[], b"");
    assert_eq!(
        (status, text(&body).as_str()),
        (502, r#"{"message": "Internal server error"}"#)
    );
    // A proxy response: status, headers, repeated headers, a base64 body.
    let (status, head, body) = request(port, "GET", "/front-door-proxy", &[], b"");
    assert_eq!(status, 201);
    assert!(head.contains("x-fixture: yes"), "{head}");
    assert!(
        head.contains("set-cookie: a=1") && head.contains("set-cookie: b=2"),
        "{head}"
    );
    assert_eq!(body, b"hi");
    // A crash is the function's error; the next request gets a new process.
    let (status, _, _) = request(port, "GET", "/front-door-crash", &[], b"");
    assert_eq!(status, 502);
    let (status, _, _) = request(port, "GET", "/front-door-proxy", &[], b"");
    assert_eq!(status, 201);
    // Running past its own timeout is an error to whoever invoked it: API Gateway answers
    // 502 (its 504 is for its own 29-second limit, longer than this function's 1 s).
    let (status, _, body) = request(port, "GET", "/front-door-sleep", &[], b"");
    assert_eq!(
        (status, text(&body).as_str()),
        (502, r#"{"message": "Internal server error"}"#)
    );
    server.stop();

    // Through an HTTP API, JSON without statusCode is the body of a 200; errors are 500s.
    let server = Server::start_with(&zip, tmp.path(), &["--http", "http-api"]);
    let (status, head, body) = request(server.port, "GET", "/anything", &[], b"");
    assert_eq!(status, 200, "{head}");
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["rawPath"], "/anything");
    let (status, _, _) = request(server.port, "GET", "/front-door-crash", &[], b"");
    assert_eq!(status, 500);
    server.stop();
}
