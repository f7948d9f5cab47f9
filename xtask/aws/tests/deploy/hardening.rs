//! What must hold when users, CI and Lambda itself misbehave: aliases never move backwards,
//! published versions hold the uploaded code, names are checked before any request, an
//! explicit `--profile` wins, nothing panics, every wait is bounded.

use std::process::Stdio;

use super::*;

/// Runs `cmd`, killing it after `limit`; `None` when it had to be killed.
fn run_within(cmd: &mut Command, limit: Duration) -> Option<Deployed> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a deploy");
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(finished(child.wait_with_output().unwrap()))
}

/// Publishes the function's current code as version 1 and points `alias` at it, on moto.
fn alias_on_version_1(aws: &Aws, alias: &str) {
    let lambda = aws.lambda();
    let published = moto::block_on(lambda.publish_version().function_name("echo").send()).unwrap();
    assert_eq!(published.version(), Some("1"));
    moto::block_on(
        lambda
            .create_alias()
            .function_name("echo")
            .name(alias)
            .function_version("1")
            .send(),
    )
    .unwrap();
}

/// Deploy A (the built zip, `--alias live`) stalls at its `held` alias call while deploy B
/// (another zip, same alias) runs to completion; then A's call lands. Returns B's report and
/// A's error.
fn race_for_the_alias(aws: &Aws, held: &'static str) -> (Value, String) {
    aws.proxy.fail(held, 1, Fault::Hold);
    let a = aws
        .deploy_cmd(&[
            "--function-name",
            "echo",
            "--zip",
            built_zip("x86_64").to_str().unwrap(),
            "--alias",
            "live",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a deploy");
    aws.proxy.wait_for(held);
    let newer = second_zip(aws.dir.path());
    let b = aws
        .deploy_zip(
            "echo",
            newer.to_str().unwrap(),
            &["--alias", "live", "--json"],
        )
        .success();
    aws.proxy.release();
    (b, finished(a.wait_with_output().unwrap()).failure())
}

#[test]
fn an_alias_never_moves_backwards() {
    let aws = Aws::with_echo();
    alias_on_version_1(&aws, "live");
    // A (older code) publishes version 2 and stalls just before moving the alias; B (newer
    // code) publishes version 3 and moves it; A's move lands last: refused, clearly, and the
    // alias stays on B's version.
    let (b, err) = race_for_the_alias(&aws, "UpdateAlias");
    assert_eq!(b["version"], "3");
    assert!(
        err.contains("alias live of echo moved since this deploy began"),
        "{err}"
    );
    assert!(err.contains("now points to version 3"), "{err}");
    assert!(err.contains("version 2"), "{err}");
    assert_eq!(aws.alias_version("echo", "live"), "3");
}

#[test]
fn an_alias_created_by_another_deploy_meanwhile_is_left_alone() {
    let aws = Aws::with_echo();
    let (b, err) = race_for_the_alias(&aws, "CreateAlias");
    assert_eq!(b["version"], "2");
    assert!(
        err.contains("alias live of echo was created since this deploy began"),
        "{err}"
    );
    assert!(err.contains("points to version 2"), "{err}");
    assert_eq!(aws.alias_version("echo", "live"), "2");
}

#[test]
fn a_published_version_must_hold_the_uploaded_code() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    // The code changed between the update and the publish: the version holds other code.
    aws.proxy.fail(
        "PublishVersion",
        1,
        Fault::Patch(json!({"CodeSha256": "b3RoZXIgY29kZQ=="})),
    );
    let err = aws
        .deploy_zip("echo", zip.to_str().unwrap(), &["--alias", "live"])
        .failure();
    assert!(err.contains("version 1"), "{err}");
    assert!(
        err.contains("b3RoZXIgY29kZQ==") && err.contains(&local_sha(&zip)),
        "{err}"
    );
    assert_eq!(aws.proxy.count("CreateAlias"), 0);
    assert_eq!(aws.proxy.count("UpdateAlias"), 0);
}

#[test]
fn qualified_function_names_are_refused_before_any_request() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    for qualified in [
        "echo:1",
        "echo:live",
        "123456789012:function:echo:1",
        "arn:aws:lambda:us-east-1:123456789012:function:echo:1",
    ] {
        let err = aws
            .deploy_zip(qualified, zip.to_str().unwrap(), &[])
            .failure();
        assert!(err.contains("names a version or alias"), "{err}");
    }
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());
}

#[test]
fn function_arns_must_match_the_region_and_the_account() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let before = aws.remote("echo").code_sha256;

    // Another region than the one requests go to: refused before any request.
    let err = aws
        .deploy_zip(
            "arn:aws:lambda:us-west-2:123456789012:function:echo",
            zip.to_str().unwrap(),
            &[],
        )
        .failure();
    assert!(err.contains("--region us-west-2"), "{err}");
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());

    // Another account than the one that answers: refused before uploading.
    let err = aws
        .deploy_zip(
            "arn:aws:lambda:us-east-1:222222222222:function:echo",
            zip.to_str().unwrap(),
            &[],
        )
        .failure();
    assert!(err.contains("answered about"), "{err}");
    assert_eq!(aws.proxy.operations(), ["GetFunction"]);
    assert_eq!(aws.remote("echo").code_sha256, before);

    // The right ARN deploys.
    let report = aws
        .deploy_zip(
            "arn:aws:lambda:us-east-1:123456789012:function:echo",
            zip.to_str().unwrap(),
            &["--json"],
        )
        .success();
    assert_eq!(report["outcome"], "updated");
}

#[test]
fn an_explicit_profile_wins_over_environment_keys() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let credentials = aws.dir.path().join("aws-credentials");
    std::fs::write(
        &credentials,
        "[other]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret\n",
    )
    .unwrap();
    // AWS_ACCESS_KEY_ID=testing is in the environment (isolate_aws_env).
    aws.deploy_zip("echo", zip.to_str().unwrap(), &["--profile", "other"])
        .success();
    let signed: Vec<String> = aws
        .proxy
        .seen()
        .iter()
        .map(|s| s.authorization.clone())
        .collect();
    assert!(!signed.is_empty());
    assert!(
        signed
            .iter()
            .all(|a| a.contains("Credential=AKIDFROMPROFILE/")),
        "{signed:?}"
    );

    aws.proxy.clear();
    let err = aws
        .deploy_zip("echo", zip.to_str().unwrap(), &["--profile", "nope"])
        .failure();
    assert!(err.contains("profile nope"), "{err}");
    assert!(
        err.contains(credentials.to_str().unwrap())
            && err.contains(aws.dir.path().join("aws-config").to_str().unwrap()),
        "{err}"
    );
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());
}

#[test]
fn bad_retry_settings_are_errors_not_panics() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    for (var, value, says) in [
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS=\"0\""),
        ("AWS_MAX_ATTEMPTS", "abc", "AWS_MAX_ATTEMPTS=\"abc\""),
        ("AWS_RETRY_MODE", "bogus", "standard or adaptive"),
    ] {
        let out = run(aws
            .deploy_cmd(&["--function-name", "echo", "--zip", zip.to_str().unwrap()])
            .env(var, value));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}={value}: {err}");
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());
}

#[test]
fn names_and_the_step_summary_are_checked_before_any_request() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let zip_arg = zip.to_str().unwrap();
    let long = "a".repeat(129);
    for (alias, says) in [
        ("bad alias!", "characters Lambda refuses"),
        ("$LATEST", "unpublished code"),
        ("42", "all digits"),
        (long.as_str(), "129 characters"),
    ] {
        let err = aws
            .deploy_zip("echo", zip_arg, &["--alias", alias])
            .failure();
        assert!(err.contains(says), "{alias}: {err}");
    }
    let err = aws.deploy_zip("bad name!", zip_arg, &[]).failure();
    assert!(err.contains("letters, digits"), "{err}");

    for summary in [aws.dir.path().to_path_buf(), PathBuf::from("/dev/full")] {
        let err = deployed(
            aws.deploy_cmd(&["--function-name", "echo", "--zip", zip_arg])
                .env("GITHUB_STEP_SUMMARY", &summary),
        )
        .failure();
        assert!(err.contains("GITHUB_STEP_SUMMARY"), "{err}");
        assert!(err.contains(summary.to_str().unwrap()), "{err}");
    }
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());

    // A summary file that does not exist yet is created.
    let fresh = aws.dir.path().join("new-summary.md");
    deployed(
        aws.deploy_cmd(&["--function-name", "echo", "--zip", zip_arg])
            .env("GITHUB_STEP_SUMMARY", &fresh),
    )
    .success();
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("Lambda deploy"));
}

#[test]
fn bad_endpoints_and_regions_get_one_sentence() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let zip_arg = zip.to_str().unwrap();

    aws.proxy.fail(
        "GetFunction",
        10,
        Fault::Answer(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><body>Welcome to nginx!</body></html>",
        ),
    );
    let err = aws.deploy_zip("echo", zip_arg, &[]).failure();
    assert!(
        err.contains(&format!(
            "the endpoint at {} answered with HTML, not the Lambda API: check --endpoint-url",
            aws.proxy.endpoint()
        )),
        "{err}"
    );
    aws.proxy.clear();

    let err = aws.deploy_zip("echo", zip_arg, &["--region", ""]).failure();
    assert!(err.contains("region \"\" is not a region name"), "{err}");
    let mut cmd = xtask_aws();
    cmd.args(["deploy", "--function-name", "echo", "--zip", zip_arg])
        .args(["--endpoint-url", "not a url"]);
    isolate_aws_env(&mut cmd, aws.dir.path());
    let err = deployed(&mut cmd).failure();
    assert!(
        err.contains("--endpoint-url \"not a url\" is not a URL"),
        "{err}"
    );
    assert!(
        !err.contains("SdkBody") && !err.contains("Request {"),
        "{err}"
    );
    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());
}

#[test]
fn a_conflict_waits_for_the_other_update_before_uploading_again() {
    let aws = Aws::with_echo();
    aws.proxy.fail("UpdateFunctionCode", 1, conflict());
    // The other update is still InProgress for two polls after the first read.
    aws.proxy.fail_later(
        "GetFunction",
        1,
        2,
        Fault::Patch(json!({"LastUpdateStatus": "InProgress"})),
    );
    let out = aws.deploy_built(&["--json"]);
    let stderr = out.stderr.clone();
    let report = out.success();
    assert_eq!(report["outcome"], "updated");
    assert_eq!(
        aws.proxy.operations(),
        [
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "GetFunction",
            "GetFunction",
            "UpdateFunctionCode"
        ]
    );
    assert!(
        stderr.contains("another update of echo is in progress"),
        "{stderr}"
    );
    assert!(stderr.contains("LastUpdateStatus InProgress"), "{stderr}");
}

#[test]
fn settings_wait_out_a_conflict_as_the_zip_does_and_give_up_as_it_does() {
    let aws = Aws::with_echo();
    aws.proxy.fail("UpdateFunctionConfiguration", 1, conflict());
    let out = aws.deploy_built(&["--memory", "512", "--json"]);
    let stderr = out.stderr.clone();
    let report = out.success();
    assert_eq!(report["settings"][0]["to"], "512", "{report}");
    assert_eq!(aws.remote("echo").memory_size(), Some(512));
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 2);
    assert!(
        stderr.contains("sending the settings again once it ended"),
        "{stderr}"
    );
    // Between the two sends, a look at the function.
    let ops = aws.proxy.operations();
    let first = ops
        .iter()
        .position(|o| *o == "UpdateFunctionConfiguration")
        .unwrap();
    assert_eq!(ops[first + 1], "GetFunction", "{ops:?}");

    aws.proxy
        .fail("UpdateFunctionConfiguration", 1000, conflict());
    aws.proxy.clear();
    let err = aws.deploy_built(&["--memory", "1024"]).failure();
    assert!(
        err.contains("another update kept echo busy: the settings went out 3 times"),
        "{err}"
    );
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 3);
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 0);
}

#[test]
fn a_conflict_that_never_ends_uploads_the_zip_a_bounded_number_of_times() {
    let aws = Aws::with_echo();
    aws.proxy.fail("UpdateFunctionCode", 1000, conflict());
    let started = Instant::now();
    let out = run_within(
        &mut aws.deploy_cmd(&[
            "--function-name",
            "echo",
            "--zip",
            built_zip("x86_64").to_str().unwrap(),
        ]),
        Duration::from_secs(90),
    )
    .expect("the deploy gives up within 90 s");
    let err = out.failure();
    assert!(err.contains("another update kept echo busy"), "{err}");
    let operations = aws.proxy.operations();
    let uploads = aws.proxy.count("UpdateFunctionCode");
    assert!(uploads <= 3, "{uploads} uploads: {operations:?}");
    // Never two uploads without a look at the function in between.
    assert!(
        !operations
            .windows(2)
            .any(|w| w == ["UpdateFunctionCode", "UpdateFunctionCode"]),
        "{operations:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn an_update_lambda_is_still_applying_is_waited_out_not_collided_with() {
    let aws = Aws::with_echo();
    // As Lambda does: an update stays InProgress for a while (here two reads), and meanwhile
    // UpdateFunctionCode and PublishVersion answer 409.
    aws.proxy.updates_take(2);
    let other = std::fs::read(second_zip(aws.dir.path())).unwrap();
    moto::block_on(
        moto::lambda_client(&aws.proxy.endpoint())
            .update_function_code()
            .function_name("echo")
            .zip_file(aws_sdk_lambda::primitives::Blob::new(other))
            .send(),
    )
    .unwrap();
    aws.proxy.clear();

    let report = aws.deploy_built(&["--publish", "--json"]).success();
    assert_eq!(report["version"], "1");
    // The other update is waited out before planning, ours before publishing: no 409.
    assert_eq!(
        aws.proxy.operations(),
        [
            "GetFunction",
            "GetFunction",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "GetFunction",
            "GetFunction",
            "PublishVersion",
            // The echo function's smoke test, from its table.
            "Invoke"
        ]
    );
}

#[test]
fn a_server_that_never_answers_fails_in_bounded_time() {
    let aws = Aws::start();
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let mut cmd = xtask_aws();
    cmd.args(["deploy", "--function-name", "echo", "--zip"])
        .arg(built_zip("x86_64"))
        .args(["--endpoint-url", &format!("http://{addr}")]);
    isolate_aws_env(&mut cmd, aws.dir.path());
    let out = run_within(&mut cmd, Duration::from_secs(120)).expect("the deploy gives up");
    let err = out.failure();
    assert!(
        err.contains(&format!(
            "the Lambda endpoint http://{addr} did not answer lambda:GetFunction in time"
        )),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(75), "{err}");
}

#[test]
fn a_credential_process_that_never_exits_fails_in_bounded_time() {
    let aws = Aws::start();
    std::fs::write(
        aws.dir.path().join("aws-config"),
        "[profile stuck]\ncredential_process = sleep 100\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut cmd = aws.deploy_cmd(&[
        "--function-name",
        "echo",
        "--zip",
        built_zip("x86_64").to_str().unwrap(),
        "--profile",
        "stuck",
    ]);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = run_within(&mut cmd, Duration::from_secs(90)).expect("the deploy gives up");
    let err = out.failure();
    assert!(err.contains("credentials"), "{err}");
    assert!(err.contains("took longer than"), "{err}");
    assert!(err.contains("profile stuck"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "{err}");
    assert!(aws.proxy.seen().is_empty());
}

#[test]
fn a_dry_run_reports_the_function_arn() {
    let aws = Aws::with_echo();
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:echo";
    let report = aws.deploy_built(&["--dry-run", "--json"]).success();
    assert_eq!(report["outcome"], "dry-run");
    assert_eq!(report["function_arn"], arn);
    aws.deploy_built(&[]).success();
    let report = aws.deploy_built(&["--dry-run", "--json"]).success();
    assert_eq!(report["outcome"], "unchanged");
    assert_eq!(report["function_arn"], arn);
}
