//! `logs` against moto's CloudWatch Logs, with events written by PutLogEvents in the shapes
//! Lambda writes them, through the fault-injecting proxy (throttling, AccessDenied, and the
//! LoggingConfig moto does not keep).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::proxy::{Fault, Proxy};
use common::{run, text, xtask_aws};
use serde_json::{json, Value};
use xtask::lambda::Arch;
use xtask::util::time::{epoch_ms, rfc3339_ms};
use xtask_aws::dev::moto_clients as moto;
use xtask_local::dev::moto::{isolate_aws_env, MotoServer};

const ID1: &str = "11111111-1111-4111-8111-111111111111";
const ID2: &str = "22222222-2222-4222-8222-222222222222";
const ID3: &str = "33333333-3333-4333-8333-333333333333";

struct Aws {
    proxy: Proxy,
    moto: MotoServer,
    dir: tempfile::TempDir,
}

impl Aws {
    /// moto with the function `echo`, the proxy in front of it.
    fn start() -> Aws {
        let moto = MotoServer::start().expect("moto starts (cargo xtask test installs it)");
        let role = moto.create_role("echo-role").unwrap();
        moto::create_function(&moto.endpoint(), "echo", Arch::X86_64, &role).unwrap();
        Aws {
            proxy: Proxy::start(moto.addr),
            moto,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `messages` to `stream` of `group` (both made if missing), 1 ms apart from `at`.
    fn put(&self, group: &str, stream: &str, at: i64, messages: &[&str]) {
        let logs = moto::logs_client(&self.moto.endpoint(), "us-east-1");
        moto::block_on(async {
            let _ = logs.create_log_group().log_group_name(group).send().await;
            let _ = logs
                .create_log_stream()
                .log_group_name(group)
                .log_stream_name(stream)
                .send()
                .await;
            for (n, chunk) in messages.chunks(5000).enumerate() {
                let events = chunk.iter().enumerate().map(|(i, m)| {
                    InputLogEvent::builder()
                        .timestamp(at + (n * 5000 + i) as i64)
                        .message(*m)
                        .build()
                        .unwrap()
                });
                logs.put_log_events()
                    .log_group_name(group)
                    .log_stream_name(stream)
                    .set_log_events(Some(events.collect()))
                    .send()
                    .await
                    .expect("PutLogEvents on moto");
            }
        });
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = xtask_aws();
        cmd.arg("logs");
        if !args.contains(&"--function-name") {
            cmd.args(["--function-name", "echo"]);
        }
        cmd.args(["--endpoint-url", &self.proxy.endpoint()])
            .args(args);
        isolate_aws_env(&mut cmd, self.dir.path());
        cmd
    }

    /// The command's exit status, stdout and stderr.
    fn logs(&self, args: &[&str]) -> (bool, String, String) {
        let out = run(&mut self.cmd(args));
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// `--json`'s objects.
    fn json(&self, args: &[&str]) -> Vec<Value> {
        let (ok, stdout, stderr) = self.logs(&[args, &["--json"]].concat());
        assert!(ok, "{stderr}");
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn now() -> i64 {
    epoch_ms() as i64
}

fn report(id: &str, duration: &str, init: Option<&str>, tail: &str) -> String {
    let init = init.map_or(String::new(), |i| format!("Init Duration: {i} ms\t"));
    format!(
        "REPORT RequestId: {id}\tDuration: {duration} ms\tBilled Duration: 30 ms\tMemory Size: \
         128 MB\tMax Memory Used: 14 MB\t{init}{tail}\n"
    )
}

/// Two invocations in the text format (a cold one) in version 1's stream, one in the JSON
/// format in version 2's, one in $LATEST's.
fn write_invocations(aws: &Aws, at: i64) -> [String; 3] {
    let g = "/aws/lambda/echo";
    let text = [
        "INIT_START Runtime Version: provided:al2023.v50\tRuntime Version ARN: arn:x\n".into(),
        format!("START RequestId: {ID1} Version: 1\n"),
        format!("\u{1b}[32m INFO\u{1b}[0m Lambda runtime invoke{{requestId=\"{ID1}\" xrayTraceId=\"Root=1-2-3\"}}: echoing\n"),
        format!("END RequestId: {ID1}\n"),
        report(ID1, "2.51", Some("24.66"), ""),
        format!("START RequestId: {ID2} Version: 1\n"),
        "thread 'main' panicked at src/main.rs:3:5\n".into(),
        format!("END RequestId: {ID2}\n"),
        report(ID2, "1.00", None, "Status: error\tError Type: Runtime.ExitError\n"),
    ];
    let text: Vec<&str> = text.iter().map(String::as_str).collect();
    aws.put(g, "2026/12/04/[1]aaaa", at, &text);
    let json = [
        json!({"time": rfc3339_ms(at + 20), "type": "platform.start", "record": {"requestId": ID3, "version": "2"}}),
        json!({"level": "WARN", "fields": {"message": "slow", "ms": 900}, "span": {"requestId": ID3, "name": "Lambda runtime invoke"}}),
        json!({"time": rfc3339_ms(at + 22), "type": "platform.runtimeDone", "record": {"requestId": ID3, "status": "timeout"}}),
        json!({"time": rfc3339_ms(at + 23), "type": "platform.report", "record": {"requestId": ID3, "status": "timeout",
            "metrics": {"durationMs": 3000.0, "billedDurationMs": 3000, "memorySizeMB": 256, "maxMemoryUsedMB": 40}}}),
    ]
    .map(|v| v.to_string());
    let json: Vec<&str> = json.iter().map(String::as_str).collect();
    aws.put(g, "2026/12/04/[2]bbbb", at + 20, &json);
    aws.put(
        g,
        "2026/12/04/[$LATEST]cccc",
        at + 30,
        &["a line of $LATEST\n"],
    );
    [1, 2, 3].map(|i| rfc3339_ms(at + i))
}

#[test]
fn invocations_fold_into_their_report_lines_in_both_log_formats() {
    let aws = Aws::start();
    let at = now() - 60_000;
    write_invocations(&aws, at);
    let (ok, stdout, stderr) = aws.logs(&[]);
    assert!(ok, "{stderr}");
    let t = |offset| rfc3339_ms(at + offset);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            format!("{} [1] {ID1} INFO  echoing", t(2)),
            format!("{} [1] {ID1} REPORT 2.51 ms (billed 30 ms), 14 of 128 MB, cold start (init 24.66 ms)", t(4)),
            format!("{} [1] {ID2} -     thread 'main' panicked at src/main.rs:3:5", t(6)),
            format!("{} [1] {ID2} REPORT 1.00 ms (billed 30 ms), 14 of 128 MB, ERROR Runtime.ExitError", t(8)),
            format!("{} [2] {ID3} WARN  slow ms=900", t(21)),
            format!("{} [2] {ID3} REPORT 3000.00 ms (billed 3000 ms), 40 of 256 MB, TIMED OUT", t(23)),
            format!("{} [$LATEST] - -     a line of $LATEST", t(30)),
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("Reading /aws/lambda/echo, from "),
        "{stderr}"
    );

    // --json: every event, START and END too, with its fields.
    let events = aws.json(&[]);
    assert_eq!(events.len(), 9 + 4 + 1);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..5], ["platform", "start", "log", "end", "report"]);
    assert_eq!(events[4]["report"]["init_ms"], 24.66);
    assert_eq!(events[4]["request_id"], ID1);
    assert_eq!(events[4]["version"], "1");
    assert_eq!(events[4]["stream"], "2026/12/04/[1]aaaa");
    assert!(events.iter().all(|e| e["event_id"].is_string()));

    // --version: one stream's events.
    let one = aws.json(&["--version", "2"]);
    assert_eq!(one.len(), 4);
    assert!(one.iter().all(|e| e["version"] == "2"));

    // --stats over the window.
    let (ok, stdout, stderr) = aws.logs(&["--stats"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "invocations  3 (1 cold start, 1 error, 1 timeout)\n\
         duration     p50 2.51 ms, p90 3000.00 ms, p99 3000.00 ms, max 3000.00 ms\n\
         init         p50 24.66 ms, max 24.66 ms\n\
         memory       max 40 MB used of 128/256 MB\n"
    );
    let stats = aws.json(&["--stats", "--version", "1"]);
    assert_eq!(stats.len(), 1, "{stats:?}");
    assert_eq!(stats[0]["invocations"], 2);
    assert_eq!(stats[0]["errors"], 1);

    // --filter goes to CloudWatch Logs as the filter pattern.
    let filtered = aws.json(&["--filter", "echoing"]);
    assert_eq!(filtered.len(), 1, "{filtered:?}");
    let body: Value = serde_json::from_slice(&aws.proxy.seen().last().unwrap().body).unwrap();
    assert_eq!(body["filterPattern"], "echoing");
    assert_eq!(body["logGroupName"], "/aws/lambda/echo");

    // A window that ends before the events, and one that starts after them.
    let (ok, stdout, stderr) = aws.logs(&["--since", "1h", "--until", "30m"]);
    assert!(ok && stdout.is_empty(), "{stdout}{stderr}");
    assert!(
        stderr.contains("no events in /aws/lambda/echo in that window"),
        "{stderr}"
    );
    let (ok, _, stderr) = aws.logs(&["--since", "10s", "--version", "1"]);
    assert!(
        ok && stderr.contains("no events in /aws/lambda/echo, version 1"),
        "{stderr}"
    );
}

#[test]
fn an_alias_shows_the_versions_it_sends_traffic_to() {
    let aws = Aws::start();
    let lambda = moto::lambda_client(&aws.moto.endpoint());
    moto::block_on(async {
        for _ in 0..2 {
            lambda
                .publish_version()
                .function_name("echo")
                .send()
                .await
                .unwrap();
        }
        let routing = aws_sdk_lambda::types::AliasRoutingConfiguration::builder()
            .additional_version_weights("2", 0.1)
            .build();
        lambda
            .create_alias()
            .function_name("echo")
            .name("live")
            .function_version("1")
            .routing_config(routing)
            .send()
            .await
            .unwrap();
    });
    let at = now() - 5_000;
    write_invocations(&aws, at);
    let events = aws.json(&["--alias", "live"]);
    let mut versions: Vec<&str> = events
        .iter()
        .map(|e| e["version"].as_str().unwrap())
        .collect();
    versions.dedup();
    assert_eq!(versions, ["1", "2"]);
    let (ok, _, stderr) = aws.logs(&["--alias", "gone"]);
    assert!(
        !ok && stderr.contains("alias gone of echo does not exist"),
        "{stderr}"
    );
    let (ok, _, stderr) = aws.logs(&["--version", "9"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("version 9 of echo does not exist (any more)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no events in /aws/lambda/echo, version 9"),
        "{stderr}"
    );
}

#[test]
fn every_page_is_read_and_a_custom_log_group_is_the_one_read() {
    let aws = Aws::start();
    // More than one page of FilterLogEvents (at most 10,000 events each).
    let many: Vec<String> = (0..10_050).map(|i| format!("line {i}\n")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    aws.put(
        "/aws/lambda/echo",
        "2026/12/04/[1]aaaa",
        now() - 120_000,
        &many,
    );
    let events = aws.json(&[]);
    assert_eq!(events.len(), 10_050);
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10_050, "an event printed twice");
    assert_eq!(events[10_049]["message"], "line 10049");
    assert!(aws.proxy.count("FilterLogEvents") >= 2);

    // `| head -1`: a closed stdout ends it quietly, with success.
    let mut child = aws
        .cmd(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("line 0"), "{first}");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("error"),
        "{}",
        text(&out.stderr)
    );

    // The function logs to a group of its own (moto does not keep LoggingConfig: the proxy
    // answers GetFunction with it, as Lambda does).
    aws.put(
        "/custom/echo",
        "2026/12/04/[1]dddd",
        now() - 1_000,
        &["in the custom group\n"],
    );
    aws.proxy.fail(
        "GetFunction",
        1,
        Fault::Patch(json!({"LoggingConfig": {"LogFormat": "Text", "LogGroup": "/custom/echo"}})),
    );
    let events = aws.json(&[]);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["message"], "in the custom group");
}

#[test]
fn errors_say_what_is_wrong_in_one_sentence() {
    let aws = Aws::start();
    // Never invoked: no log group yet.
    let (ok, _, stderr) = aws.logs(&[]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("log group /aws/lambda/echo does not exist")
            && stderr.contains("echo has not been invoked since it was created"),
        "{stderr}"
    );
    // No such function.
    let (ok, _, stderr) = aws.logs(&["--function-name", "nope"]);
    assert!(
        !ok && stderr.contains("function nope does not exist"),
        "{stderr}"
    );

    aws.put(
        "/aws/lambda/echo",
        "2026/12/04/[1]aaaa",
        now() - 1_000,
        &["hello\n"],
    );
    // Throttling is retried; access denied names the action.
    aws.proxy.fail(
        "FilterLogEvents",
        2,
        Fault::Error(400, "ThrottlingException", "Rate exceeded"),
    );
    assert_eq!(aws.json(&[]).len(), 1);
    aws.proxy.fail(
        "FilterLogEvents",
        1,
        Fault::Error(400, "AccessDeniedException", "User is not authorized"),
    );
    let (ok, _, stderr) = aws.logs(&[]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("may not call logs:FilterLogEvents on log group /aws/lambda/echo")
            && stderr.contains("arn:aws:logs:REGION:ACCOUNT:log-group:/aws/lambda/echo:*"),
        "{stderr}"
    );
    aws.proxy.fail(
        "FilterLogEvents",
        10,
        Fault::Error(400, "ThrottlingException", "Rate exceeded"),
    );
    let (ok, _, stderr) = aws.logs(&[]);
    assert!(
        !ok && stderr.contains("CloudWatch Logs kept throttling logs:FilterLogEvents"),
        "{stderr}"
    );

    // Bad flags, before any request.
    aws.proxy.clear();
    for (args, says) in [
        (&["--since", "yesterday"][..], "not a time"),
        (&["--since", "1h", "--until", "2h"][..], "is after --until"),
        (&["--version", "v1"][..], "is not a version"),
        (
            &["--alias", "live", "--version", "1"][..],
            "cannot be used with",
        ),
        (&["--follow", "--stats"][..], "cannot be used with"),
        (&["--follow", "--until", "1m"][..], "cannot be used with"),
        (&["--stats", "--filter", "ERROR"][..], "cannot be used with"),
    ] {
        let (ok, _, stderr) = aws.logs(args);
        assert!(!ok && stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(aws.proxy.operations(), Vec::<&str>::new());
}

#[test]
fn follow_waits_for_the_first_invocation_and_a_shared_group_shows_one_function() {
    let aws = Aws::start();
    let mut child = aws
        .cmd(&["--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, got) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // No group yet: it waits, then shows the first invocation's line.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it gave up before the first invocation"
    );
    aws.put(
        "/aws/lambda/echo",
        "2026/12/04/[1]aaaa",
        now(),
        &["first ever\n"],
    );
    let line = got
        .recv_timeout(Duration::from_secs(60))
        .expect("the first line in time");
    assert!(line.contains("first ever"), "{line}");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert!(child.wait().unwrap().success());

    // A group of its own, shared: only this function's streams are its events.
    let at = now() - 1_000;
    aws.put("/shared", "2026/12/04/echo[1]aaaa", at, &["mine\n"]);
    aws.put("/shared", "2026/12/04/orders[1]bbbb", at, &["not mine\n"]);
    aws.proxy.fail(
        "GetFunction",
        1,
        Fault::Patch(json!({"LoggingConfig": {"LogFormat": "Text", "LogGroup": "/shared"}})),
    );
    let events = aws.json(&[]);
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["mine"]);
}

#[test]
fn follow_prints_new_events_once_and_ends_on_ctrl_c() {
    let aws = Aws::start();
    let group = "/aws/lambda/echo";
    let at = now() - 3_000;
    aws.put(
        group,
        "2026/12/04/[1]aaaa",
        at,
        &["before 1\n", "before 2\n"],
    );
    let mut child = aws
        .cmd(&["--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, got) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = lines.send(line);
        }
    });
    let mut seen: Vec<String> = Vec::new();
    let mut wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = got.recv_timeout(left).expect("the followed events in time");
            let event: Value = serde_json::from_str(&line).unwrap();
            seen.push(event["message"].as_str().unwrap().to_string());
        }
    };
    wait_for(2);
    // Written while it runs: two at the same millisecond in two streams, one later.
    let t = now();
    aws.put(group, "2026/12/04/[1]aaaa", t, &["during 1\n"]);
    aws.put(group, "2026/12/04/[2]bbbb", t, &["during 2\n"]);
    aws.put(group, "2026/12/04/[1]aaaa", t + 5, &["during 3\n"]);
    wait_for(5);
    // Another poll or two: nothing printed twice.
    aws.proxy.clear();
    let polls = aws.proxy.count("FilterLogEvents");
    let deadline = Instant::now() + Duration::from_secs(30);
    while aws.proxy.count("FilterLogEvents") < polls + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(got.try_recv().is_err(), "an event printed twice");
    seen.sort();
    assert_eq!(
        seen,
        ["before 1", "before 2", "during 1", "during 2", "during 3"]
    );

    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
