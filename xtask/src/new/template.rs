//! The files of a new function crate (pure: text from the name). Its dependencies are the
//! echo function's, with no feature it lacks: a new function adds no crate to the lock file
//! and, built beside the echo function, changes none of its bytes.

/// Which handler the template holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any JSON event in, a JSON answer out.
    Event,
    /// API Gateway (HTTP API, payload 2.0; REST API) and function URL events in, an HTTP
    /// response out.
    Http,
    /// A function URL event in, the answer streamed as it is produced.
    Stream,
}

/// Each file's path inside the crate's folder, and its text.
pub fn files(name: &str, kind: Kind) -> Vec<(&'static str, String)> {
    let fill = |text: &str| text.replace("{name}", name);
    let (main, event, expect) = match kind {
        Kind::Event => (EVENT_MAIN, EVENT_SMOKE, Some(EVENT_EXPECT)),
        Kind::Http => (HTTP_MAIN, HTTP_SMOKE, Some(HTTP_EXPECT)),
        // A stream is judged by its answering without an error (its lines are its own).
        Kind::Stream => (STREAM_MAIN, HTTP_SMOKE, None),
    };
    let manifest = match kind {
        Kind::Stream => fill(MANIFEST).replace(
            "smoke-expect = \"smoke/expect.json\"\n",
            "invoke-mode = \"RESPONSE_STREAM\"\n",
        ),
        _ => fill(MANIFEST),
    };
    let mut files = vec![
        ("Cargo.toml", manifest),
        ("src/main.rs", fill(main)),
        ("smoke/event.json", fill(event)),
    ];
    files.extend(expect.map(|expect| ("smoke/expect.json", fill(expect))));
    files
}

const MANIFEST: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish = false

[dependencies]
dlmalloc = { version = "0.2", features = ["global"] }
lambda_runtime = "1.5"
tokio = { version = "1", features = ["macros", "rt"] }
serde_json = { version = "1", features = ["preserve_order", "arbitrary_precision"] }

# This table makes the crate a function of the workspace: build, invoke, watch and deploy
# find it. Its Lambda name is the package's unless `function-name` says otherwise.
[package.metadata.lambda]
smoke-event = "smoke/event.json"
smoke-expect = "smoke/expect.json"
"#;

const EVENT_MAIN: &str = r#"//! The {name} Lambda function: answers every event with a greeting and the event.

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use serde_json::{json, Value};

// musl's malloc returns pages to the kernel after each request; dlmalloc keeps them.
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The answer to one event.
fn answer(event: Value) -> Value {
    json!({ "function": "{name}", "event": event })
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!(request_id = %event.context.request_id, "answering");
    Ok(answer(event.payload))
}

// One event at a time per execution environment: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL.
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_the_event() {
        assert_eq!(
            answer(json!({ "n": 1 })),
            json!({ "function": "{name}", "event": { "n": 1 } })
        );
    }
}
"#;

const EVENT_SMOKE: &str = r#"{ "source": "smoke test" }
"#;

const EVENT_EXPECT: &str = r#"{ "function": "{name}", "event": { "source": "smoke test" } }
"#;

const HTTP_MAIN: &str = r##"//! The {name} Lambda function behind an HTTP front: API Gateway's HTTP API (payload 2.0),
//! a function URL, or a REST API. `GET /hello?name=world` answers `{"hello":"world"}`.

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use serde_json::{json, Value};

// musl's malloc returns pages to the kernel after each request; dlmalloc keeps them.
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The HTTP response (as API Gateway and function URLs read it) to one request event.
fn respond(event: &Value) -> Value {
    // Payload 2.0 and function URLs send rawPath and requestContext.http.method;
    // REST APIs send path and httpMethod.
    let path = event["rawPath"].as_str().or(event["path"].as_str()).unwrap_or("/");
    let method = event["requestContext"]["http"]["method"]
        .as_str()
        .or(event["httpMethod"].as_str())
        .unwrap_or("GET");
    let name = event["queryStringParameters"]["name"].as_str().unwrap_or("world");
    let (status, body) = match (method, path) {
        ("GET", "/hello") => (200, json!({ "hello": name })),
        _ => (404, json!({ "error": format!("no route for {method} {path}") })),
    };
    json!({
        "statusCode": status,
        "headers": { "content-type": "application/json" },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!(request_id = %event.context.request_id, "answering");
    Ok(respond(&event.payload))
}

// One event at a time per execution environment: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL.
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_the_query_and_refuses_other_routes() {
        let get = json!({
            "rawPath": "/hello",
            "queryStringParameters": { "name": "ada" },
            "requestContext": { "http": { "method": "GET" } }
        });
        assert_eq!(respond(&get)["statusCode"], 200);
        assert_eq!(respond(&get)["body"], r#"{"hello":"ada"}"#);
        let rest = json!({ "path": "/other", "httpMethod": "POST" });
        assert_eq!(respond(&rest)["statusCode"], 404);
    }
}
"##;

const STREAM_MAIN: &str = r##"//! The {name} Lambda function, streaming its answer: behind a function URL in RESPONSE_STREAM
//! mode (`invoke-mode` in Cargo.toml) each line reaches the client as it is produced, and the
//! answer may pass the 6 MB of a buffered one. `GET /?name=ada` answers three lines.

use lambda_runtime::streaming::{channel, Body, Response};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use serde_json::Value;

// musl's malloc returns pages to the kernel after each request; dlmalloc keeps them.
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The lines of the answer to one request event.
fn lines(event: &Value) -> Vec<String> {
    let who = event["queryStringParameters"]["name"].as_str().unwrap_or("world");
    (1..=3).map(|n| format!("{n}/3 hello, {who}\n")).collect()
}

async fn handler(event: LambdaEvent<Value>) -> Result<Response<Body>, Error> {
    tracing::info!(request_id = %event.context.request_id, "streaming");
    let (mut sender, body) = channel();
    let lines = lines(&event.payload);
    tokio::spawn(async move {
        for line in lines {
            // The client went away: there is no one to send the rest to.
            if sender.send_data(line.into()).await.is_err() {
                return;
            }
        }
    });
    Ok(Response::from(body))
}

// One event at a time per execution environment: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL.
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_lines_for_the_name_asked() {
        let event = serde_json::json!({ "queryStringParameters": { "name": "ada" } });
        assert_eq!(lines(&event)[2], "3/3 hello, ada\n");
        assert_eq!(lines(&Value::Null).len(), 3);
    }
}
"##;

const HTTP_SMOKE: &str = r#"{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/hello",
  "rawQueryString": "name=smoke",
  "queryStringParameters": { "name": "smoke" },
  "headers": {},
  "requestContext": { "http": { "method": "GET", "path": "/hello" } },
  "isBase64Encoded": false
}
"#;

const HTTP_EXPECT: &str = r#"{
  "statusCode": 200,
  "headers": { "content-type": "application/json" },
  "body": "{\"hello\":\"smoke\"}",
  "isBase64Encoded": false
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_names_the_function_and_the_smoke_files_are_json() {
        for kind in [Kind::Event, Kind::Http, Kind::Stream] {
            let files = files("orders", kind);
            let manifest = &files[0].1;
            assert!(manifest.contains("name = \"orders\""), "{manifest}");
            assert!(!files.iter().any(|(_, text)| text.contains("{name}")));
            // Only the placeholder names the function: no code of the template says `orders`
            // where it meant something else.
            assert!(!files[1].1.contains("hello, orders"), "{}", files[1].1);
            for (path, text) in &files[2..] {
                serde_json::from_str::<serde_json::Value>(text)
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
            }
            let table: toml::Table = toml::from_str(manifest).unwrap();
            let lambda = &table["package"]["metadata"]["lambda"];
            assert!(lambda.is_table());
            let streams = lambda.get("invoke-mode").and_then(|m| m.as_str());
            assert_eq!(streams == Some("RESPONSE_STREAM"), kind == Kind::Stream);
            assert_eq!(lambda.get("smoke-expect").is_none(), kind == Kind::Stream);
        }
    }
}
