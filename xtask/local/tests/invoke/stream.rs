//! Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`) through `invoke`:
//! chunks reach stdout as the function produces them; an error reported mid-stream, in
//! trailers or in lambda_runtime's chunk, fails the invocation.

use std::io::{BufRead, BufReader, Read};

use super::*;

#[test]
fn a_streamed_response_reaches_stdout_as_it_is_produced() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("go");
    let event = format!("\"stream-wait:{}\"", gate.display());
    let mut child = xtask()
        .arg("invoke")
        .args(zip_arg(&fixture_zip()))
        .arg(&event)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // The function has not finished: it waits for the file before its second chunk.
    assert_eq!(first, "first\n");
    assert!(child.try_wait().unwrap().is_none());
    std::fs::write(&gate, "").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rest, "second\n");
    let stderr = text(&out.stderr);
    assert_eq!(report_lines(&stderr).len(), 1, "{stderr}");
}

#[test]
fn errors_mid_stream_fail_the_invocation_in_both_forms() {
    for form in ["stream-fail-trailer", "stream-fail-inbody"] {
        let out = invoke_fixture(&[&format!("\"{form}\"")], b"");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{form}: {stdout}{stderr}");
        // What streamed before the error, then the error, never the error as data.
        let mut lines = stdout.lines();
        assert_eq!(lines.next(), Some("partial"), "{form}: {stdout}");
        let error: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(error["errorType"], "Runtime.StreamError", "{form}");
        assert_eq!(error["errorMessage"], "disk full", "{form}");
        assert!(
            !stdout.contains("Lambda-Runtime-Function-Error"),
            "{form}: {stdout}"
        );
        let report = report_lines(&stderr);
        assert!(
            report[0].ends_with("Status: error Error Type: Runtime.StreamError"),
            "{form}: {stderr}"
        );
    }
}

#[test]
fn a_stream_past_6_mb_is_whole_and_json_records_wait_for_the_end() {
    let size = 7 * 1024 * 1024;
    let out = invoke_fixture(&[&format!("\"stream-big:{size}\"")], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout.len(), size + 1);
    assert!(out.stdout[..size].iter().all(|b| *b == b'x'));

    let out = invoke_fixture(&["--json", "\"stream:3:10\""], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = records(&out);
    assert_eq!(records[0]["payload"], "chunk 0\nchunk 1\nchunk 2\n");
    assert_eq!(records[0]["status"], "success");
}

/// `lam.invoke_with_response_stream(FunctionName='function', Payload=EVENT)` with boto3 on
/// the server's endpoint: `{"status", "version", "events"}`, each event `{"chunk": TEXT}` or
/// `{"complete": {...}}`, in order. With `gate`, the file is made once the first chunk is in.
fn boto3_stream(port: u16, event: &str, gate: Option<&std::path::Path>) -> Value {
    let home = tempfile::tempdir().unwrap();
    let gate = gate.map_or("None".to_string(), |g| format!("'{}'", g.display()));
    let program = format!(
        "import json, boto3, botocore.config\n\
         lam = boto3.client('lambda', endpoint_url='http://127.0.0.1:{port}', \
         config=botocore.config.Config(retries={{'total_max_attempts': 1}}, read_timeout=60))\n\
         r = lam.invoke_with_response_stream(FunctionName='function', Payload={event:?})\n\
         events = []\n\
         for e in r['EventStream']:\n    \
             if 'PayloadChunk' in e:\n        \
                 events.append({{'chunk': e['PayloadChunk']['Payload'].decode()}})\n        \
                 if {gate} is not None and len(events) == 1:\n            \
                     open({gate}, 'w').close()\n    \
             if 'InvokeComplete' in e:\n        \
                 events.append({{'complete': e['InvokeComplete']}})\n\
         print(json.dumps({{'status': r['StatusCode'], 'version': r.get('ExecutedVersion'), \
         'events': events}}))\n"
    );
    let mut command = std::process::Command::new(crate::api::venv_python());
    command.args(["-c", &program]);
    crate::api::aws_env(&mut command, home.path());
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{program}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn boto3_reads_invoke_with_response_stream_as_it_is_produced() {
    let tmp = tempfile::tempdir().unwrap();
    let server = crate::serve::Server::start(&fixture_zip(), tmp.path());

    // The function sends its second chunk only once boto3 has read the first.
    let gate = tmp.path().join("gate");
    let got = boto3_stream(
        server.port,
        &format!("\"stream-wait:{}\"", gate.display()),
        Some(&gate),
    );
    assert_eq!(got["status"], 200);
    assert_eq!(got["version"], "$LATEST");
    assert_eq!(
        got["events"],
        serde_json::json!([{"chunk": "first\n"}, {"chunk": "second\n"}, {"complete": {}}])
    );

    // Five chunks, five events.
    let got = boto3_stream(server.port, "\"stream:5:50\"", None);
    let chunks: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["chunk"].as_str())
        .collect();
    assert_eq!(
        chunks,
        [
            "chunk 0\n",
            "chunk 1\n",
            "chunk 2\n",
            "chunk 3\n",
            "chunk 4\n"
        ]
    );

    // An error mid-stream: what came before, then InvokeComplete with the error.
    for form in ["stream-fail-trailer", "stream-fail-inbody"] {
        let got = boto3_stream(server.port, &format!("\"{form}\""), None);
        assert_eq!(
            got["events"],
            serde_json::json!([
                {"chunk": "partial\n"},
                {"complete": {"ErrorCode": "Runtime.StreamError", "ErrorDetails": "disk full"}}
            ]),
            "{form}"
        );
    }

    // A function that does not stream answers in one chunk.
    let got = boto3_stream(server.port, "\"plain\"", None);
    assert_eq!(
        got["events"],
        serde_json::json!([{"chunk": "\"plain\""}, {"complete": {}}])
    );
}

#[test]
fn the_buffered_invoke_of_a_streaming_function_answers_as_lambda_does() {
    let tmp = tempfile::tempdir().unwrap();
    let server = crate::serve::Server::start(&fixture_zip(), tmp.path());
    let (status, head, body) = server.post(crate::serve::INVOKE_PATH, b"\"stream:3:0\"");
    assert_eq!(status, 200, "{head}");
    assert_eq!(text(&body), "chunk 0\nchunk 1\nchunk 2\n");
    // Past the 6 MB a buffered answer may hold.
    let big = format!("\"stream-big:{}\"", 7 * 1024 * 1024);
    let (status, head, body) = server.post(crate::serve::INVOKE_PATH, big.as_bytes());
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-amz-function-error: unhandled"),
        "{head}"
    );
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge");
}

#[test]
fn a_function_url_streams_the_body_as_it_is_produced() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let server =
        crate::serve::Server::start_with(&fixture_zip(), tmp.path(), &["--http", "function-url"]);
    let gate = tmp.path().join("gate");
    let mut client = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        client,
        "GET /front-door-stream?gate={} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        gate.display()
    )
    .unwrap();
    // The head and the first chunk arrive while the function still waits for the gate.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("first\n") {
        let n = client.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended early: {}", text(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let head = text(&seen).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 201"), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert!(head.contains("x-fixture: stream"), "{head}");
    assert!(head.contains("set-cookie: a=1"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    std::fs::write(&gate, "").unwrap();
    client.read_to_end(&mut seen).unwrap();
    assert!(text(&seen).contains("second\n"), "{}", text(&seen));

    // curl, as a user would: the whole answer, prelude taken off.
    std::fs::write(&gate, "").unwrap();
    let out = std::process::Command::new("curl")
        .args(["-sSN", "--max-time", "60"])
        .arg(format!(
            "http://127.0.0.1:{}/front-door-stream?gate={}",
            server.port,
            gate.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "first\nsecond\n");

    // A client that goes away mid-stream: the invocation still ends, and the function takes
    // the next event (one at a time: it could not if the first were stuck).
    std::fs::remove_file(&gate).unwrap();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(
        client,
        "GET /front-door-stream?gate={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        gate.display()
    )
    .unwrap();
    let _ = client.read(&mut buf).unwrap();
    drop(client);
    std::fs::write(&gate, "").unwrap();
    let (status, _, body) = server.post(crate::serve::INVOKE_PATH, b"\"after\"");
    assert_eq!((status, text(&body).as_str()), (200, "\"after\""));
}
