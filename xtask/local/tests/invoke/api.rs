//! The emulator endpoint as AWS SDKs and CLIs see it: boto3 (from the virtualenv moto is
//! installed in), the AWS CLI v1 running the README's example, raw HTTP over IPv6 localhost,
//! and a request caught waiting by a shutdown.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;
use crate::serve::{post, signal, Server, INVOKE_PATH};
use crate::*;

/// The workspace virtualenv's python; boto3 is there as moto's dependency.
pub(crate) fn venv_python() -> PathBuf {
    let python = xtask_local::dev::tools::venv().join("bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `cargo xtask test`, which installs moto (and boto3 with it)",
        python.display()
    );
    python
}

/// An environment with made-up credentials and no user configuration, for AWS clients.
pub(crate) fn aws_env(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_LAMBDA");
}

/// `lam.invoke(FunctionName='function', ARGS)` with boto3, on the server's endpoint, in one
/// attempt: `{"status", "payload", "version", "log"}` (`log`: the decoded `LogResult`, if
/// any), or for a `ClientError`
/// `{"status", "code", "message"}`.
fn boto3_invoke(port: u16, args: &str) -> Value {
    let home = tempfile::tempdir().unwrap();
    let program = format!(
        "import base64, json, boto3, botocore.config, botocore.exceptions\n\
         lam = boto3.client('lambda', endpoint_url='http://127.0.0.1:{port}', \
         config=botocore.config.Config(retries={{'total_max_attempts': 1}}, read_timeout=60))\n\
         try:\n    \
             r = lam.invoke(FunctionName='function', {args})\n    \
             out = {{'status': r['StatusCode'], 'payload': r['Payload'].read().decode(), \
             'version': r.get('ExecutedVersion'), \
             'log': base64.b64decode(r['LogResult']).decode() if 'LogResult' in r else None}}\n\
         except botocore.exceptions.ClientError as e:\n    \
             out = {{'status': e.response['ResponseMetadata']['HTTPStatusCode'], \
             'code': e.response['Error']['Code'], 'message': e.response['Error']['Message']}}\n\
         print(json.dumps(out))\n"
    );
    let mut command = Command::new(venv_python());
    command.args(["-c", &program]);
    aws_env(&mut command, home.path());
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        text(&out.stderr),
        program
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// Asserts that `got` is the Lambda API error `code` with `status` and `message`.
fn assert_error(got: &Value, status: u16, code: &str, message: &str) {
    assert_eq!(
        (got["status"].as_u64(), got["code"].as_str()),
        (Some(u64::from(status)), Some(code)),
        "{got}"
    );
    let said = got["message"].as_str().unwrap();
    assert!(said.contains(message), "{said}");
}

#[test]
fn boto3_sees_lambdas_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    let invoke = |args: &str| boto3_invoke(server.port, args);

    let got = invoke("Payload=b'{\"via\":\"boto3\"}'");
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(
        got["payload"],
        echo_response("{\n    \"via\": \"boto3\"\n}"),
        "{got}"
    );
    assert_eq!(got["version"], "$LATEST");
    assert_eq!(got["log"], Value::Null, "no LogType, no log: {got}");
    server.record();

    // LogType Tail: the invocation's log, START to REPORT, with the function's own line.
    let got = invoke("Payload=b'{\"tail\":1}', LogType='Tail'");
    assert_eq!(got["status"], 200, "{got}");
    let log = got["log"]
        .as_str()
        .unwrap_or_else(|| panic!("no LogResult: {got}"));
    let ran = server.record();
    let id = ran["requestId"].as_str().unwrap_or_else(|| panic!("{ran}"));
    assert!(
        log.starts_with(&format!("START RequestId: {id} Version: $LATEST\n")),
        "{log}"
    );
    assert!(log.contains("echoing event"), "{log}");
    assert!(
        log.contains(&format!(
            "\nEND RequestId: {id}\nREPORT RequestId: {id} Duration: "
        )),
        "{log}"
    );
    let got = invoke("Payload=b'1', LogType='Everything'");
    assert_error(&got, 400, "ValidationException", "at 'logType'");

    // Over the 6 MB request limit: the error and message Lambda answers with.
    let got = invoke("Payload=b'\"' + b'x' * 7_000_000 + b'\"'");
    assert_error(
        &got,
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    );

    // Event: accepted at once with an empty body; the function still runs.
    let got = invoke("InvocationType='Event', Payload=b'{\"async\":1}'");
    assert_eq!((&got["status"], &got["payload"]), (&202.into(), &"".into()));
    let ran = server.record();
    assert_eq!(ran["status"], "success", "{ran}");
    assert_eq!(ran["payload"]["body"], "{\n    \"async\": 1\n}", "{ran}");
    // An asynchronous event has a smaller limit, 1 MB.
    let got = invoke("InvocationType='Event', Payload=b'\"' + b'x' * 1_048_575 + b'\"'");
    assert_error(
        &got,
        413,
        "RequestEntityTooLargeException",
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    );

    // DryRun: 204 and nothing runs (the next record is the next invocation's).
    let got = invoke("InvocationType='DryRun', Payload=b'{\"dry\":1}'");
    assert_eq!((&got["status"], &got["payload"]), (&204.into(), &"".into()));
    // Any other invocation type is refused, as Lambda refuses it.
    let got = invoke("InvocationType='Sometimes', Payload=b'1'");
    assert_error(
        &got,
        400,
        "ValidationException",
        "Value 'Sometimes' at 'invocationType' failed to satisfy constraint",
    );
    let (status, _, _) = server.invoke(b"\"after\"");
    assert_eq!(status, 200);
    assert_eq!(server.record()["payload"]["body"], "\"after\"");
    server.stop();
}

#[test]
fn localhost_is_served_on_ipv6_too() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    // Where this machine has no IPv6 loopback, the server says it serves 127.0.0.1 only.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        let stderr = server.stop();
        assert!(stderr.contains("127.0.0.1 only"), "{stderr}");
        return;
    }
    // cargo-lambda's `invoke` (and anything resolving localhost to ::1 first) dials [::1].
    let (status, head, body) = post(
        ("::1", server.port),
        INVOKE_PATH,
        &[],
        b"{\"via\":\"ipv6\"}",
        Duration::from_secs(30),
    );
    assert_eq!(status, 200, "{head}");
    assert_eq!(text(&body), echo_response("{\n    \"via\": \"ipv6\"\n}"));
    server.record();
    server.stop();
}

#[test]
fn requests_waiting_at_shutdown_are_told_it_is_shutting_down() {
    let tmp = tempfile::tempdir().unwrap();
    let pids = tempfile::tempdir().unwrap();
    let server = Server::start_with(&fixture_zip(), tmp.path(), &["--timeout", "60"]);
    let port = server.port;
    let send = |event: Vec<u8>| {
        std::thread::spawn(move || {
            post(
                ("127.0.0.1", port),
                INVOKE_PATH,
                &[],
                &event,
                Duration::from_secs(30),
            )
        })
    };
    // One invocation runs (its child's pid file says the function has the event), a
    // second waits for its turn behind it.
    let file = pids.path().join("running");
    let running = send(format!("\"spawn-and-sleep:{}\"", file.display()).into_bytes());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !file.exists() {
        assert!(std::time::Instant::now() < deadline, "the event never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    let waiting = send(b"\"queued\"".to_vec());
    // Time for the server to read the second request (nothing to observe from here).
    std::thread::sleep(Duration::from_secs(1));
    signal(server.pid(), "TERM");
    for (which, answer) in [("running", running), ("waiting", waiting)] {
        let (status, head, body) = answer.join().unwrap();
        assert_eq!(status, 503, "{which}: {head}\n{}", text(&body));
        assert!(
            head.contains("x-amzn-errortype: serviceexception"),
            "{which}: {head}"
        );
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["Message"].as_str().unwrap().contains("shutting down"),
            "{which}: {body}"
        );
    }
    server.finish();
}

/// The variables the README exports for the AWS CLI examples (`export K=V ...`).
fn readme_aws_exports() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("export AWS_ACCESS_KEY_ID="))
        .expect("the README exports what the AWS CLI examples need");
    shlex::split(line.strip_prefix("export ").unwrap())
        .unwrap()
        .into_iter()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The README's `aws lambda invoke` examples, each with the AWS CLI version its comment
/// names (`# AWS CLI v1: …`), as words.
fn readme_aws_examples() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let mut examples = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(version) = line.strip_prefix("# AWS CLI ") else {
            continue;
        };
        let version: String = version
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        let mut command = String::new();
        for next in lines.by_ref() {
            let next = next.trim();
            match next.strip_suffix('\\') {
                Some(part) => command.push_str(part),
                None => {
                    command.push_str(next);
                    break;
                }
            }
        }
        assert!(command.starts_with("aws lambda invoke "), "{command}");
        examples.push((version, shlex::split(&command).unwrap()));
    }
    examples
}

#[test]
fn the_readmes_aws_cli_examples_work_with_the_cli_they_name() {
    let examples = readme_aws_examples();
    let has = |version: &str| examples.iter().any(|(v, _)| v == version);
    assert!(
        has("v2") && has("v1"),
        "the README shows the AWS CLI v2 and v1 forms: {examples:?}"
    );
    let aws = xtask_local::dev::tools::venv().join("bin/aws");
    let home = tempfile::tempdir().unwrap();
    let version = Command::new(&aws)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `cargo xtask test`, which installs the AWS CLI v1",
                aws.display()
            )
        });
    let version = text(&version.stdout) + &text(&version.stderr);
    assert!(version.starts_with("aws-cli/1."), "{version}");

    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    let out_file = home.path().join("out.json");
    for (cli, words) in &examples {
        assert_eq!(
            words.last().map(String::as_str),
            Some("out.json"),
            "{words:?}"
        );
        let args: Vec<String> = words[1..words.len() - 1]
            .iter()
            .map(|w| w.replace("127.0.0.1:9000", &format!("127.0.0.1:{}", server.port)))
            .chain([out_file.display().to_string()])
            .collect();
        let mut command = Command::new(&aws);
        command.args(&args);
        aws_env(&mut command, home.path());
        // Only what the README exports: a reader's shell has no keys or region of ours.
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        ] {
            command.env_remove(var);
        }
        command.envs(readme_aws_exports());
        let out = command.output().unwrap();
        let stderr = text(&out.stderr);
        if cli == "v1" {
            assert!(out.status.success(), "{args:?}: {stderr}");
            assert_eq!(
                std::fs::read_to_string(&out_file).unwrap(),
                echo_response("{\n    \"hello\": \"world\"\n}")
            );
            server.record();
        } else {
            // What v1 says to the v2 form, hence the label.
            assert!(!out.status.success(), "{args:?}");
            assert!(
                stderr.contains("Unknown options: --cli-binary-format"),
                "{stderr}"
            );
            assert!(
                args.windows(2)
                    .any(|w| w == ["--cli-binary-format", "raw-in-base64-out"]),
                "{args:?}"
            );
        }
    }
    server.stop();
}
