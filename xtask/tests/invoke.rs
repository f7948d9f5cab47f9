//! `invoke` end to end: the real built bootstrap behind the local Runtime API, and a
//! small fixture runtime (built here with rustc) for timeouts, crashes and init errors.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A Lambda runtime in a few lines of std: it answers each event by what the event says.
const FIXTURE: &str = r##"
use std::io::{Read, Write};
use std::net::TcpStream;

fn call(api: &str, method: &str, path: &str, body: &[u8]) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(api).expect("connect to the Runtime API");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    (String::from_utf8_lossy(&buf[..split]).into_owned(), buf[split + 4..].to_vec())
}

fn header(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_default()
}

fn main() {
    let api = env("AWS_LAMBDA_RUNTIME_API");
    if env("AWS_LAMBDA_FUNCTION_NAME") == "init-error" {
        eprintln!("fixture: giving up during init");
        call(&api, "POST", "/2018-06-01/runtime/init/error",
             br#"{"errorType":"Fixture.InitFailed","errorMessage":"settings missing"}"#);
        std::process::exit(1);
    }
    loop {
        let (head, body) = call(&api, "GET", "/2018-06-01/runtime/invocation/next", b"");
        let id = header(&head, "lambda-runtime-aws-request-id");
        let respond = |body: &[u8]| {
            call(&api, "POST", &format!("/2018-06-01/runtime/invocation/{id}/response"), body)
        };
        match &body[..] {
            b"\"sleep\"" => loop { std::thread::sleep(std::time::Duration::from_secs(60)) },
            b"\"exit\"" => std::process::exit(3),
            b"\"abort\"" => std::process::abort(),
            b"\"env\"" => {
                let mut out = String::from("{");
                for key in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                            "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME",
                            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "_HANDLER", "HOME"] {
                    out.push_str(&format!("\"{key}\":\"{}\",", env(key)));
                }
                for key in ["lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn",
                            "lambda-runtime-trace-id"] {
                    out.push_str(&format!("\"{key}\":\"{}\",", header(&head, key)));
                }
                out.push_str(&format!("\"id\":\"{id}\",\"pid\":{}}}", std::process::id()));
                respond(out.as_bytes());
            }
            b"\"bad-id\"" => {
                let (status, _) = call(&api, "POST", "/2018-06-01/runtime/invocation/nope/response", b"1");
                respond(format!("\"{}\"", status.lines().next().unwrap_or_default()).as_bytes());
            }
            _ => {
                respond(&body);
            }
        }
    }
}
"##;

/// The fixture as a deployment zip, built once per test process.
fn fixture_zip() -> PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("invoke-fixture");
        std::fs::create_dir_all(&dir).unwrap();
        let binary = rustc_fixture(
            &dir,
            "fixture",
            FIXTURE,
            &[
                "--target",
                "x86_64-unknown-linux-musl",
                "-Clinker=rust-lld",
                "-Crelocation-model=static",
            ],
        );
        let zip = xtask::bootstrap_zip::zip_bootstrap(&std::fs::read(binary).unwrap(), 1).unwrap();
        let path = dir.join("fixture.zip");
        std::fs::write(&path, zip).unwrap();
        path
    })
    .clone()
}

fn zip_arg(zip: &Path) -> [String; 2] {
    ["--zip".to_string(), zip.display().to_string()]
}

/// `xtask invoke ARGS` with `stdin` piped in.
fn invoke(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = xtask()
        .arg("invoke")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn invoke_zip(zip: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut all: Vec<&str> = vec!["--zip", zip.to_str().unwrap()];
    all.extend_from_slice(args);
    invoke(&all, stdin)
}

/// The real echo bootstrap, as built.
fn invoke_echo(args: &[&str], stdin: &[u8]) -> Output {
    invoke_zip(&built_zip("x86_64"), args, stdin)
}

fn invoke_fixture(args: &[&str], stdin: &[u8]) -> Output {
    invoke_zip(&fixture_zip(), args, stdin)
}

fn records(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {}", text(&out.stderr)))
        })
        .collect()
}

fn report_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("REPORT RequestId: "))
        .collect()
}

/// What the echo function answers for `body`, exactly.
fn echo_response(pretty_body: &str) -> String {
    format!(
        "{{\"statusCode\":200,\"headers\":{{}},\"body\":{},\"isBase64Encoded\":false}}",
        serde_json::to_string(pretty_body).unwrap()
    )
}

/// `[[…[]…]]` nested `depth` deep, compact and as the function pretty-prints it.
fn nested(depth: usize) -> (String, String) {
    let compact = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let mut pretty = String::new();
    for level in 0..depth - 1 {
        pretty.push('[');
        pretty.push('\n');
        pretty.push_str(&"    ".repeat(level + 1));
    }
    pretty.push_str("[]");
    for level in (0..depth - 1).rev() {
        pretty.push('\n');
        pretty.push_str(&"    ".repeat(level));
        pretty.push(']');
    }
    (compact, pretty)
}

/// A ~1 MB object, keys in an order no sorting would give.
fn big_object() -> (String, String) {
    let n = 10_000;
    let value = "v".repeat(90);
    let keys: Vec<String> = (0..n).map(|i| format!("k{:05}", (i * 7919) % n)).collect();
    let compact = format!(
        "{{{}}}",
        keys.iter()
            .map(|k| format!("\"{k}\":\"{value}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let pretty = format!(
        "{{\n{}\n}}",
        keys.iter()
            .map(|k| format!("    \"{k}\": \"{value}\""))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    (compact, pretty)
}

#[test]
fn echoes_every_kind_of_json_exactly() {
    let (deep, deep_pretty) = nested(120);
    let (big, big_pretty) = big_object();
    assert!(big.len() > 1_000_000);
    let cases: Vec<(String, String)> = vec![
        (
            r#"{"zeta":1,"alpha":{"b":[true,false]},"mid":null}"#.into(),
            "{\n    \"zeta\": 1,\n    \"alpha\": {\n        \"b\": [\n            true,\n            false\n        ]\n    },\n    \"mid\": null\n}".into(),
        ),
        ("[1,\"two\",3.5,[]]".into(), "[\n    1,\n    \"two\",\n    3.5,\n    []\n]".into()),
        ("[]".into(), "[]".into()),
        ("{}".into(), "{}".into()),
        (r#""just a string""#.into(), r#""just a string""#.into()),
        ("42".into(), "42".into()),
        ("-0.5".into(), "-0.5".into()),
        ("0.1".into(), "0.1".into()),
        (
            "123456789012345678901234567890".into(),
            "123456789012345678901234567890".into(),
        ),
        ("null".into(), "null".into()),
        ("true".into(), "true".into()),
        (
            r#"{"greeting":"héllo \u00e9 世界 🦀","esc":"a\"b\\c\n"}"#.into(),
            "{\n    \"greeting\": \"héllo é 世界 🦀\",\n    \"esc\": \"a\\\"b\\\\c\\n\"\n}".into(),
        ),
        (deep, deep_pretty),
        (big, big_pretty),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let input: String = cases
        .iter()
        .map(|(event, _)| format!("{event}\n"))
        .collect();
    std::fs::write(&file, &input).unwrap();

    let out = invoke_echo(&["--lines", "--data-file", file.to_str().unwrap()], b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = text(&out.stdout);
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(answers.len(), cases.len(), "{stderr}");
    for ((event, pretty), answer) in cases.iter().zip(&answers) {
        let shown: String = event.chars().take(60).collect();
        assert_eq!(*answer, echo_response(pretty), "event {shown}");
    }
    assert_eq!(report_lines(&stderr).len(), cases.len(), "{stderr}");
    // The function's own logs come through on stderr, one per event.
    assert_eq!(
        stderr.matches("echoing event").count(),
        cases.len(),
        "{stderr}"
    );
}

#[test]
fn event_from_argument_and_from_stdin_with_a_fresh_build() {
    // No --zip: the build's zip, rebuilt if stale (here: confirmed fresh).
    built("x86_64");
    let out = invoke(&[r#"{"from":"argument"}"#], b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        text(&out.stdout),
        echo_response("{\n    \"from\": \"argument\"\n}") + "\n"
    );
    assert!(stderr.contains("Fresh"), "{stderr}");
    let report = report_lines(&stderr);
    assert_eq!(report.len(), 1, "{stderr}");
    let line = report[0];
    for field in [
        " Duration: ",
        " ms Billed Duration: ",
        " ms Memory Size: 128 MB Max Memory Used: ",
        " MB Init Duration: ",
    ] {
        assert!(line.contains(field), "{line}");
    }
    let used: u64 = line
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((1..128).contains(&used), "{line}");

    let out = invoke_echo(&["--memory", "512"], br#"{"from":"stdin"}"#);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        echo_response("{\n    \"from\": \"stdin\"\n}") + "\n"
    );
    assert!(text(&out.stderr).contains("Memory Size: 512 MB"));
}

#[test]
fn invalid_json_is_the_functions_error_and_fails_the_run() {
    let out = invoke_echo(&[], b"{\"unterminated\": ");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error_type = payload["errorType"].as_str().unwrap();
    assert!(error_type.contains("DeserializeError"), "{payload}");
    assert!(
        payload["errorMessage"]
            .as_str()
            .unwrap()
            .contains("failed to deserialize"),
        "{payload}"
    );
    let report = report_lines(&stderr);
    assert!(
        report[0].ends_with(&format!("Status: error Error Type: {error_type}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 1 of 1 invocation failed"),
        "{stderr}"
    );
}

#[test]
fn several_events_go_to_one_warm_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--json".to_string()];
    for i in 0..4 {
        let file = dir.path().join(format!("e{i}.json"));
        std::fs::write(&file, format!("{{\"n\":{i}}}")).unwrap();
        args.push("--data-file".into());
        args.push(file.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = invoke_echo(&args, b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let records = records(&out);
    assert_eq!(records.len(), 4);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["status"], "success");
        assert_eq!(
            r["payload"]["body"],
            format!("{{\n    \"n\": {i}\n}}"),
            "{r}"
        );
        assert_eq!(r["pid"], records[0]["pid"], "one process serves them all");
        assert_eq!(r["initDurationMs"].is_null(), i > 0, "{r}");
        assert!(r["durationMs"].as_f64().unwrap() > 0.0);
        assert!(r["billedDurationMs"].as_u64().unwrap() >= 1);
    }
    let ids: std::collections::HashSet<&str> = records
        .iter()
        .map(|r| r["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "request ids are unique");
    assert_eq!(stderr.matches("Starting bootstrap").count(), 1, "{stderr}");
    let reports = report_lines(&stderr);
    assert_eq!(reports.len(), 4);
    assert!(reports[0].contains("Init Duration"));
    assert!(reports[1..].iter().all(|l| !l.contains("Init Duration")));
    // Nothing is left running or on disk.
    let pid = records[0]["pid"].as_u64().unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} left running"
    );
}

#[test]
fn json_lines_on_stdin_are_separate_events() {
    let out = invoke_echo(&["--lines", "--json"], b"{\"a\":1}\n\n[2]\r\n\"three\"\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bodies: Vec<String> = records(&out)
        .iter()
        .map(|r| r["payload"]["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, ["{\n    \"a\": 1\n}", "[\n    2\n]", "\"three\""]);
}

#[test]
fn lambdas_environment_and_headers_reach_the_runtime() {
    let out = invoke_fixture(
        &[
            "--function-name",
            "orders",
            "--memory",
            "1024",
            "--timeout",
            "7",
            "--json",
            "\"env\"",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let record = &records(&out)[0];
    let seen = &record["payload"];
    assert_eq!(seen["AWS_LAMBDA_FUNCTION_NAME"], "orders");
    assert_eq!(seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "1024");
    assert_eq!(seen["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(seen["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/orders");
    assert!(seen["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap()
        .contains("/[$LATEST]"));
    assert!(!seen["AWS_REGION"].as_str().unwrap().is_empty());
    assert_eq!(seen["_HANDLER"], "bootstrap");
    assert_eq!(
        seen["HOME"], "",
        "the caller's environment is not passed on"
    );
    assert_eq!(seen["id"], record["requestId"]);
    assert!(seen["lambda-runtime-invoked-function-arn"]
        .as_str()
        .unwrap()
        .ends_with(":function:orders"));
    assert!(seen["lambda-runtime-trace-id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    let deadline: u128 = seen["lambda-runtime-deadline-ms"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Seven seconds from the hand-over (the default timeout would give three).
    assert!(
        deadline > now + 3_500 && deadline <= now + 7_000,
        "{deadline} vs {now}"
    );
}

#[test]
fn answers_for_another_request_id_are_refused() {
    let out = invoke_fixture(&["\"bad-id\""], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"HTTP/1.1 400 Bad Request\"\n");
}

#[test]
fn timeout_kills_the_process_and_the_next_event_gets_a_new_one() {
    let start = Instant::now();
    let out = invoke_fixture(
        &["--timeout", "1", "--json", "--lines"],
        b"\"sleep\"\n\"after\"\n",
    );
    let elapsed = start.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    let records = records(&out);
    assert_eq!(records[0]["status"], "timeout");
    assert_eq!(records[0]["errorType"], "Sandbox.Timedout");
    let message = records[0]["payload"]["errorMessage"].as_str().unwrap();
    assert!(
        message.ends_with("Task timed out after 1.00 seconds"),
        "{message}"
    );
    assert!(records[0]["durationMs"].as_f64().unwrap() >= 1000.0);
    // The second event runs in a new execution environment, with its own init.
    assert_eq!(records[1]["status"], "success");
    assert_eq!(records[1]["payload"], "after");
    assert_ne!(records[1]["pid"], records[0]["pid"]);
    assert!(!records[1]["initDurationMs"].is_null());
    let reports = report_lines(&stderr);
    assert!(reports[0].ends_with("Status: timeout"), "{stderr}");
    let old = records[0]["pid"].as_u64().unwrap();
    assert!(
        !Path::new(&format!("/proc/{old}")).exists(),
        "timed-out process left running"
    );
}

#[test]
fn exits_and_crashes_are_runtime_exit_errors() {
    for (event, how) in [
        ("\"exit\"", "Runtime exited with error: exit status 3"),
        ("\"abort\"", "Runtime exited with error: signal: aborted"),
    ] {
        let out = invoke_fixture(&[event], b"");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(payload["errorType"], "Runtime.ExitError", "{payload}");
        let message = payload["errorMessage"].as_str().unwrap();
        assert!(message.ends_with(how), "{message}");
        assert!(
            report_lines(&stderr)[0].ends_with("Status: error Error Type: Runtime.ExitError"),
            "{stderr}"
        );
    }
}

#[test]
fn init_error_is_reported() {
    let out = invoke_fixture(&["--function-name", "init-error", "{}"], b"");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        payload,
        serde_json::json!({"errorType": "Fixture.InitFailed", "errorMessage": "settings missing"})
    );
    assert!(
        stderr.contains("fixture: giving up during init"),
        "{stderr}"
    );
    let report = report_lines(&stderr)[0];
    assert!(report.contains("Init Duration"), "{report}");
    assert!(
        report.ends_with("Error Type: Fixture.InitFailed"),
        "{report}"
    );
}

#[test]
fn oversized_events_are_refused_and_oversized_responses_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let limit = 6_291_456;
    std::fs::write(&file, format!("\"{}\"", "x".repeat(limit - 1))).unwrap();
    let out = invoke_echo(&["--data-file", file.to_str().unwrap()], b"");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("6291456 bytes"), "{stderr}");
    assert!(stderr.contains("6291457 bytes"), "{stderr}");
    assert!(!stderr.contains("Starting"), "nothing runs: {stderr}");
    assert!(out.stdout.is_empty());

    // 2.4 MB of `1,` pretty-prints to well over 6 MB.
    let event = format!("[{}1]", "1,".repeat(1_200_000));
    std::fs::write(&file, event).unwrap();
    let out = invoke_echo(&["--data-file", file.to_str().unwrap(), "--json"], b"");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let record = &records(&out)[0];
    assert_eq!(
        record["errorType"], "Function.ResponseSizeTooLarge",
        "{record}"
    );
    let message = record["payload"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("exceeded maximum allowed payload size (6291456 bytes)"),
        "{message}"
    );
}

#[test]
fn bad_arguments_fail_before_anything_runs() {
    let zip = built_zip("x86_64");
    let zip = zip.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--zip", zip, "--timeout", "0", "{}"], "--timeout"),
        (&["--zip", zip, "--memory", "64", "{}"], "--memory"),
        (
            &["--zip", "/nonexistent.zip", "{}"],
            "cannot read /nonexistent.zip",
        ),
        (
            &["--zip", zip, "--arch", "arm64", "{}"],
            "built for x86_64, but --arch is arm64",
        ),
        (
            &["--zip", zip, "--data-file", "/nonexistent.json"],
            "cannot read the event file",
        ),
    ];
    for (args, expected) in cases {
        let out = invoke(args, b"");
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `--example FRONT`: the event the front door makes of `GET /hello?name=world`, through
/// the real bootstrap, which answers with the event it saw.
#[test]
fn example_events_reach_the_function() {
    let out = invoke_echo(&["--example", "rest"], b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let body = response["body"].as_str().unwrap();
    assert!(body.contains(r#""httpMethod": "GET""#), "{body}");
    assert!(body.contains(r#""path": "/hello""#), "{body}");
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["queryStringParameters"]["name"], "world", "{body}");
    assert_eq!(event["resource"], "/{proxy+}", "{body}");

    for (front, path) in [("http-api", "rawPath"), ("function-url", "rawPath")] {
        let out = invoke_echo(&["--example", front], b"");
        assert!(out.status.success(), "{front}: {}", text(&out.stderr));
        let response: Value = serde_json::from_slice(&out.stdout).unwrap();
        let event: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(event["version"], "2.0", "{front}");
        assert_eq!(event[path], "/hello", "{front}");
        assert_eq!(event["requestContext"]["http"]["method"], "GET", "{front}");
    }

    // An example is the run's one event.
    for args in [
        &["--example", "rest", "{}"][..],
        &["--example", "rest", "--lines"],
        &["--example", "rest", "--serve"],
        &["--example", "soap"],
    ] {
        let out = invoke(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!text(&out.stderr).contains("panicked"));
    }
}

// ---------------------------------------------------------------------------------------------
// --serve

/// A running `invoke --serve`, stopped with SIGTERM on drop.
struct Server {
    child: std::process::Child,
    url_port: u16,
    records: std::sync::mpsc::Receiver<Value>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn start(zip: &Path, tmp: &Path) -> Server {
        let mut child = xtask()
            .args(["invoke", "--serve", "--port", "0", "--json"])
            .args(zip_arg(zip))
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let (tx, records) = std::sync::mpsc::channel::<Value>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        let first = records
            .recv_timeout(Duration::from_secs(30))
            .expect("the server prints its address");
        assert!(first["url"]
            .as_str()
            .unwrap()
            .ends_with("/2015-03-31/functions/function/invocations"));
        Server {
            child,
            url_port: first["port"].as_u64().unwrap() as u16,
            records,
            stderr: Some(stderr),
        }
    }

    /// One HTTP/1.1 exchange: (status code, headers, body).
    fn post(&self, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.url_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        // A refused request may be answered before its body is read.
        let _ = s.write_all(body);
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&buf[..split]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), buf[split + 4..].to_vec())
    }

    fn invoke(&self, body: &[u8]) -> (u16, String, Vec<u8>) {
        self.post("/2015-03-31/functions/function/invocations", body)
    }

    fn record(&self) -> Value {
        self.records.recv_timeout(Duration::from_secs(30)).unwrap()
    }

    /// SIGTERM, as a service manager stops it; returns its stderr.
    fn stop(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_answers_the_emulator_endpoint_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    let (status, head, body) = server.invoke(br#"{"via":"http"}"#);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(text(&body), echo_response("{\n    \"via\": \"http\"\n}"));
    let first = server.record();
    assert!(!first["initDurationMs"].is_null());

    // Warm: the same process, no init.
    let (status, _, body) = server.invoke(b"[1]");
    assert_eq!(status, 200);
    assert_eq!(text(&body), echo_response("[\n    1\n]"));
    let second = server.record();
    assert_eq!(second["pid"], first["pid"]);
    assert!(second["initDurationMs"].is_null());

    // The function's error is marked as the Invoke API marks it.
    let (status, head, body) = server.invoke(b"{oops");
    assert_eq!(status, 200);
    assert!(head.contains("x-amz-function-error: unhandled"), "{head}");
    assert!(text(&body).contains("DeserializeError"), "{}", text(&body));
    server.record();

    // Lambda's request limit, and paths that are not the endpoint.
    let (status, _, body) = server.invoke(&vec![b' '; 6_291_457]);
    assert_eq!(status, 413);
    assert!(text(&body).contains("6291456"), "{}", text(&body));
    let (status, _, _) = server.post("/2015-03-31/functions/function/other", b"{}");
    assert_eq!(status, 404);

    let pid = first["pid"].as_u64().unwrap();
    let stderr = server.stop();
    assert_eq!(report_lines(&stderr).len(), 3, "{stderr}");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "{pid} left running"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the unpacked bootstrap is removed"
    );
}

#[test]
fn serve_restarts_the_process_after_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&fixture_zip(), tmp.path());
    let (status, _, body) = server.invoke(b"\"first\"");
    assert_eq!((status, text(&body).as_str()), (200, "\"first\""));
    let first = server.record();

    let (status, head, body) = server.invoke(b"\"exit\"");
    assert_eq!(status, 200);
    assert!(head.contains("x-amz-function-error: unhandled"), "{head}");
    assert!(text(&body).contains("exit status 3"), "{}", text(&body));
    server.record();

    let (status, _, body) = server.invoke(b"\"again\"");
    assert_eq!((status, text(&body).as_str()), (200, "\"again\""));
    let again = server.record();
    assert_ne!(again["pid"], first["pid"]);
    assert!(!again["initDurationMs"].is_null());
    server.stop();
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// arm64

#[test]
fn arm64_bootstrap_runs_under_qemu() {
    let zip = built_zip("arm64");
    let zip = zip.to_str().unwrap();
    // Without qemu on PATH the message says how to get it.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["invoke", "--arch", "arm64", "--zip", zip, "{}"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    if std::env::consts::ARCH == "x86_64" {
        assert!(stderr.contains("apt-get install -y qemu-user"), "{stderr}");
    }

    let out = invoke(
        &["--arch", "arm64", "--zip", zip, r#"{"arch":"arm64"}"#],
        b"",
    );
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n(qemu-aarch64 comes with `apt-get install qemu-user`; `cargo xtask test` installs it)"
    );
    assert_eq!(
        text(&out.stdout),
        echo_response("{\n    \"arch\": \"arm64\"\n}") + "\n"
    );
    if std::env::consts::ARCH == "x86_64" {
        assert!(stderr.contains("under qemu-aarch64"), "{stderr}");
    }
}
