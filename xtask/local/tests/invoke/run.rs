//! One-off runs: events from the argument, files and stdin, to one warm process; the
//! function's errors, timeouts, crashes and init errors; limits; arm64 under qemu.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::*;

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
            "/nonexistent.zip: cannot be read",
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

#[test]
fn arm64_bootstrap_runs_under_qemu() {
    let zip = built_zip("arm64");
    let zip = zip.to_str().unwrap();
    // Without qemu on PATH the message says how to get it.
    let out = xtask()
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

/// `--function-name` is held to the rule deploy uses, before anything is built or run; the
/// table's settings to Lambda's bounds.
#[test]
fn names_lambda_refuses_are_refused_before_anything_runs() {
    for name in ["a\nb", &"f".repeat(200), "a b", "echo:live:x"] {
        let out = run(xtask().args(["invoke", "--function-name", name, "{}"]));
        assert_eq!(out.status.code(), Some(1), "{name:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("error:"), "{name:?}: {stderr}");
        assert!(!stderr.contains("Starting"), "{name:?} ran: {stderr}");
    }
    let out = run(xtask().args(["invoke", "-p", "nope", "{}"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no function `nope` in this workspace"),
        "{}",
        text(&out.stderr)
    );
}
