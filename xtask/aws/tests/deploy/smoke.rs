//! `--smoke-event`: the published version runs the event before the alias moves. moto cannot
//! run functions, so the proxy runs the uploaded zip under `cargo xtask invoke --serve`
//! (common/invoke.rs): the smoke test runs the real bootstrap, or the fixture runtime of the
//! invoke tests where a failure is wanted.

use super::*;

#[path = "../../../local/tests/invoke/fixture.rs"]
mod fixture;

/// The repository's own smoke files, which the workflow's deploy uses.
fn smoke_files() -> (String, String) {
    let dir = xtask_local::dev::echo_function().unwrap().dir.join("smoke");
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    (path("event.json"), path("expect.json"))
}

/// The paths of the Invoke requests the proxy answered.
fn invokes(aws: &Aws) -> Vec<String> {
    aws.proxy
        .seen()
        .into_iter()
        .filter(|s| s.operation == "Invoke")
        .map(|s| s.path)
        .collect()
}

#[test]
fn a_passing_smoke_test_moves_the_alias_and_a_failing_one_leaves_it() {
    let aws = Aws::with_echo();
    let (event, expect) = smoke_files();
    let summary = aws.dir.path().join("summary.md");

    // The real bootstrap answers the repository's smoke event with the expected payload.
    let first = deployed(
        aws.deploy_cmd(&[
            "--function-name",
            "echo",
            "--zip",
            built_zip("x86_64").to_str().unwrap(),
            "--alias",
            "live",
            "--smoke-event",
            &event,
            "--smoke-expect",
            &expect,
            "--json",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary),
    )
    .success();
    assert_eq!(first["version"], "1");
    assert_eq!(first["alias"], "live");
    let smoke = &first["smoke"];
    assert_eq!(smoke["passed"], true, "{first}");
    assert_eq!(smoke["status"], 200);
    assert_eq!(smoke["function_error"], Value::Null);
    assert!(smoke["payload"]
        .as_str()
        .unwrap()
        .contains("cargo xtask deploy --smoke-event"));
    let log = smoke["log_tail"].as_str().unwrap();
    assert!(
        log.contains("echoing event") && log.contains("REPORT RequestId: "),
        "{log}"
    );
    assert_eq!(aws.alias_version("echo", "live"), "1");
    // The published version was invoked, with its log, before the alias moved.
    let ops = operations(&first);
    let invoke = ops.iter().position(|o| o == "Invoke").unwrap();
    assert!(
        ops[invoke - 1] == "PublishVersion" && ops[invoke + 1] == "CreateAlias",
        "{ops:?}"
    );
    assert_eq!(invokes(&aws).len(), 1);
    assert!(
        invokes(&aws)[0].contains("Qualifier=1"),
        "{:?}",
        invokes(&aws)
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| smoke test | passed"), "{md}");

    // A runtime that exits on this event: version 2 is published, the alias stays on 1.
    let failing = aws.dir.path().join("exit.json");
    std::fs::write(&failing, "\"exit\"").unwrap();
    let fixture = fixture::fixture_zip();
    let out = deployed(
        aws.deploy_cmd(&[
            "--function-name",
            "echo",
            "--zip",
            fixture.to_str().unwrap(),
            "--alias",
            "live",
            "--smoke-event",
            failing.to_str().unwrap(),
            "--json",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary),
    );
    assert!(!out.ok, "{}", out.stdout);
    let report = &out.json;
    assert_eq!(report["version"], "2", "{report}");
    assert_eq!(report["alias"], Value::Null);
    assert_eq!(
        report["alias_kept"],
        json!({"name": "live", "version": "1"})
    );
    let smoke = &report["smoke"];
    assert_eq!(smoke["passed"], false);
    assert_eq!(smoke["function_error"], "Unhandled");
    assert!(
        smoke["payload"]
            .as_str()
            .unwrap()
            .contains("Runtime.ExitError"),
        "{smoke}"
    );
    assert!(
        smoke["log_tail"]
            .as_str()
            .unwrap()
            .contains("Status: error"),
        "{smoke}"
    );
    assert!(
        out.stderr
            .contains("the smoke test of echo version 2 failed")
            && out.stderr.contains("alias live was left at version 1"),
        "{}",
        out.stderr
    );
    assert_eq!(aws.alias_version("echo", "live"), "1");
    assert!(!operations(report)
        .iter()
        .any(|o| o.ends_with("Alias") && o != "GetAlias"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| smoke test | **failed**") && md.contains("Log tail"),
        "{md}"
    );

    // Without --json: the payload and the log tail, for people.
    let human = aws.deploy_zip(
        "echo",
        fixture.to_str().unwrap(),
        &[
            "--alias",
            "live",
            "--smoke-event",
            failing.to_str().unwrap(),
        ],
    );
    assert!(!human.ok);
    assert!(
        human.stdout.contains("smoke test:  FAILED"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("FunctionError: Unhandled"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("  REPORT RequestId:"),
        "{}",
        human.stdout
    );
    // The line that shows this invocation's whole log, with its request id.
    let request_id = human
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("REPORT RequestId: "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a REPORT line");
    let logs_line = format!(
        "whole log:   cargo xtask logs --function-name echo --version 2 --endpoint-url '{}' \
         --since ",
        aws.proxy.endpoint()
    );
    let filter = format!(" --filter '\"{request_id}\"'");
    let line = human
        .stdout
        .lines()
        .find(|l| l.starts_with("whole log:"))
        .unwrap_or_default();
    // The window opens a minute before the invocation, as an RFC 3339 time.
    let since = line
        .strip_prefix(logs_line.as_str())
        .and_then(|rest| rest.strip_suffix(filter.as_str()))
        .unwrap_or_else(|| panic!("{line}\n{}", human.stdout));
    let opens = xtask::util::time::parse_rfc3339(since).unwrap();
    let now = xtask::util::time::epoch_ms() as i64;
    assert!((now - 10 * 60_000..now).contains(&opens), "{since}");
    assert_eq!(aws.alias_version("echo", "live"), "1");

    // An answer other than the expected one fails too, and names the file.
    let out = aws.deploy_built(&[
        "--alias",
        "live",
        "--smoke-event",
        &event,
        "--smoke-expect",
        &event,
        "--json",
    ]);
    assert!(!out.ok);
    assert!(
        out.json["smoke"]["failure"]
            .as_str()
            .unwrap()
            .contains("differs from"),
        "{}",
        out.json
    );
    assert_eq!(aws.alias_version("echo", "live"), "1");
}

#[test]
fn an_invoke_the_role_may_not_make_fails_the_smoke_test() {
    let aws = Aws::with_echo();
    let (event, _) = smoke_files();
    aws.proxy.fail(
        "Invoke",
        1,
        Fault::Error(
            403,
            "AccessDeniedException",
            "not authorized to perform: lambda:InvokeFunction",
        ),
    );
    let out = aws.deploy_built(&["--alias", "live", "--smoke-event", &event, "--json"]);
    assert!(!out.ok, "{}", out.stdout);
    let failure = out.json["smoke"]["failure"].as_str().unwrap();
    assert!(
        failure.contains("Invoke call failed") && failure.contains("lambda:InvokeFunction"),
        "{failure}"
    );
    // The alias did not exist and was not created.
    assert_eq!(
        out.json["alias_kept"],
        json!({"name": "live", "version": null})
    );
    assert!(moto::block_on(
        aws.lambda()
            .get_alias()
            .function_name("echo")
            .name("live")
            .send()
    )
    .is_err());
}

#[test]
fn smoke_files_are_checked_before_any_request() {
    let aws = Aws::with_echo();
    let dir = aws.dir.path();
    let not_json = dir.join("event.txt");
    std::fs::write(&not_json, "ping").unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let bad_expect = dir.join("expect.json");
    std::fs::write(&bad_expect, "{not json").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--smoke-event", not_json.to_str().unwrap()],
            "is not JSON",
        ),
        (&["--smoke-event", fifo.to_str().unwrap()], "is a FIFO"),
        // The function's table names the event; the flag's expected answer is read first.
        (
            &["--smoke-expect", bad_expect.to_str().unwrap()],
            "is not JSON",
        ),
        (
            &["--smoke-event", "/nonexistent/event.json"],
            "cannot be read",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["--alias", "live"];
        all.extend_from_slice(args);
        let err = aws.deploy_built(&all).failure();
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            aws.proxy.operations().is_empty(),
            "{args:?}: {:?}",
            aws.proxy.operations()
        );
    }
}

#[test]
fn a_streaming_url_is_smoke_tested_as_it_is_called_and_its_mode_kept_as_declared() {
    let aws = Aws::with_echo();
    let made = aws
        .deploy_built(&[
            "--alias",
            "live",
            "--url",
            "public",
            "--invoke-mode",
            "RESPONSE_STREAM",
            "--json",
        ])
        .success();
    assert_eq!(made["smoke"]["passed"], true, "{made}");
    assert_eq!(aws.proxy.count("InvokeWithResponseStream"), 1);
    assert_eq!(aws.proxy.count("Invoke"), 0);
    assert_eq!(made["url"]["invoke_mode"], "RESPONSE_STREAM");
    // Read through the proxy, which plays what moto lacks: UpdateFunctionUrlConfig's mode.
    let mode = |aws: &Aws| {
        moto::block_on(
            moto::lambda_client(&aws.proxy.endpoint())
                .get_function_url_config()
                .function_name("echo")
                .qualifier("live")
                .send(),
        )
        .unwrap()
        .invoke_mode()
        .map(|m| m.as_str().to_string())
    };
    assert_eq!(mode(&aws).as_deref(), Some("RESPONSE_STREAM"));

    // Declared otherwise, without --url: the URL's mode is corrected, then kept.
    let changed = aws
        .deploy_built(&["--alias", "live", "--invoke-mode", "BUFFERED", "--json"])
        .success();
    assert_eq!(changed["url"]["outcome"], "updated", "{changed}");
    assert_eq!(mode(&aws).as_deref(), Some("BUFFERED"));
    aws.proxy.clear();
    let again = aws
        .deploy_built(&["--alias", "live", "--invoke-mode", "BUFFERED", "--json"])
        .success();
    assert_eq!(again["url"]["outcome"], "unchanged", "{again}");
    assert_eq!(aws.proxy.count("UpdateFunctionUrlConfig"), 0);
}
