//! `cargo xtask deploy`, `rollback`, `setup-ci` and `bench deploy` run in xtask-aws (xtask/aws,
//! where the AWS SDK is compiled): this binary builds it and hands over its command line. Their
//! own tests are in xtask/aws/tests; these check the hand-over through the real xtask binary:
//! the exit status, stdout and stderr are xtask-aws's, and `--help` needs no AWS SDK.

mod common;

use clap::Parser;
use common::*;
use serde_json::Value;
use xtask::cli::Cli;
use xtask_local::dev::moto::{isolate_aws_env, MotoServer};

#[test]
fn help_is_answered_without_building_xtask_aws() {
    for command in ["deploy", "rollback", "setup-ci"] {
        // A build would fail: `--help` must not need one.
        let out = run(xtask().args([command, "--help"]).env("CARGO", "false"));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let expected = Cli::try_parse_from(["cargo xtask", command, "--help"])
            .unwrap_err()
            .render()
            .to_string();
        let help = text(&out.stdout);
        assert_eq!(help, expected);
        assert!(
            help.contains(&format!("Usage: cargo xtask {command} [OPTIONS]")),
            "{help}"
        );
        assert!(help.contains("--function-name <NAME>"), "{help}");
    }
    let setup_ci = text(&run(xtask().args(["setup-ci", "--help"]).env("CARGO", "false")).stdout);
    assert!(
        setup_ci.contains("Usage: cargo xtask setup-ci [OPTIONS] --repo <OWNER/REPO>"),
        "{setup_ci}"
    );
    assert!(setup_ci.contains("--environment production"), "{setup_ci}");
}

#[test]
fn setup_ci_inputs_are_checked_before_building_xtask_aws() {
    let out = run(xtask()
        .args(["setup-ci", "--repo", "https://github.com/octo/echo"])
        .args(["--function-name", "echo"])
        .env("CARGO", "false"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: --repo: `https://github.com/octo/echo` is a URL"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_function_fails_before_building_xtask_aws() {
    let out = run(xtask()
        .args(["deploy", "-p", "nope", "--zip", "bootstrap.zip"])
        .env_remove("LAMBDA_FUNCTION_NAME"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no function `nope` in this workspace; its functions: echo-function"),
        "{stderr}"
    );
    assert!(!stderr.contains("Compiling"), "{stderr}");
}

/// The xtask-aws that `cargo test --workspace` built beside this test, when there is one:
/// building it again from here would compile the AWS SDK a second time (the workspace
/// build unifies other features), minutes of a CI run for nothing the hand-over needs.
fn prebuilt_xtask_aws(cmd: &mut std::process::Command) -> &mut std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let beside = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|d| d.join("xtask-aws"));
    if let Some(bin) = beside.filter(|b| b.is_file()) {
        cmd.env(xtask::xtask_aws::BIN_ENV, bin);
    }
    cmd
}

/// One test, so the builds of xtask-aws it starts never run beside each other's exec.
#[test]
fn deploy_rollback_setup_ci_and_bench_deploy_run_in_xtask_aws() {
    let moto = MotoServer::start().expect("moto starts (cargo xtask test installs it)");
    let role = moto.create_role("forwarded-role").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zip = built_zip("x86_64");
    let deploy = |args: &[&str]| {
        let mut cmd = xtask();
        prebuilt_xtask_aws(&mut cmd);
        cmd.args(["deploy", "--endpoint-url", &moto.endpoint(), "--zip"])
            .arg(&zip)
            .args(args);
        isolate_aws_env(&mut cmd, dir.path());
        run(&mut cmd)
    };

    // A failure: exit status 1, the sentence on stderr, nothing on stdout.
    let missing = deploy(&["--function-name", "forwarded", "--json"]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing.stderr));
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("error: function forwarded does not exist"),
        "{stderr}"
    );
    assert!(missing.stdout.is_empty(), "{}", text(&missing.stdout));

    // A success: the report on stdout.
    let created = deploy(&[
        "--function-name",
        "forwarded",
        "--create",
        "--role",
        &role,
        "--json",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let report: Value = serde_json::from_slice(&created.stdout).expect("--json prints JSON");
    assert_eq!(report["outcome"], "created");
    assert_eq!(report["function"], "forwarded");
    assert_eq!(
        report["code_sha256"],
        xtask::lambda::code_sha256(&std::fs::read(&zip).unwrap()).as_str()
    );

    // rollback is handed over the same way.
    let mut rollback = xtask();
    prebuilt_xtask_aws(&mut rollback).args([
        "rollback",
        "--endpoint-url",
        &moto.endpoint(),
        "--function-name",
        "forwarded",
        "--alias",
        "live",
    ]);
    isolate_aws_env(&mut rollback, dir.path());
    let rollback = run(&mut rollback);
    assert_eq!(rollback.status.code(), Some(1));
    let stderr = text(&rollback.stderr);
    assert!(
        stderr.contains("alias live of forwarded does not exist"),
        "{stderr}"
    );

    // setup-ci too: its report on stdout.
    let mut setup_ci = xtask();
    prebuilt_xtask_aws(&mut setup_ci)
        .args(["setup-ci", "--endpoint-url", &moto.endpoint()])
        .args([
            "--repo",
            "octo-org/echo-lambda",
            "--function-name",
            "forwarded",
        ])
        .args(["--environment", "production", "--json"]);
    isolate_aws_env(&mut setup_ci, dir.path());
    let setup_ci = run(&mut setup_ci);
    assert!(setup_ci.status.success(), "{}", text(&setup_ci.stderr));
    let report: Value = serde_json::from_slice(&setup_ci.stdout).expect("--json prints JSON");
    assert_eq!(
        report["role_arn"],
        "arn:aws:iam::123456789012:role/forwarded-deploy"
    );

    let bench = run(prebuilt_xtask_aws(&mut xtask()).args(["bench", "deploy"]));
    let stdout = text(&bench.stdout);
    assert!(bench.status.success(), "{stdout}\n{}", text(&bench.stderr));
    assert!(
        stdout.contains("deploy against moto") && stdout.contains("unchanged redeploy"),
        "{stdout}"
    );
}
