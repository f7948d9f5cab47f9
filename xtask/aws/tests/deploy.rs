//! `deploy` against moto (a real implementation of the Lambda API), through a fault-injecting
//! proxy for what moto does not do: throttling, server errors, update conflicts, stale RevisionIds.
//!
//! They run the xtask-aws binary, which `cargo xtask deploy` hands its command line to
//! (xtask/tests/deploy_forwarding.rs checks that hand-over). Every request a deploy sends, in
//! every scenario here, must be for an operation of `xtask::deploy::Operation::ALL`, the list
//! the deploying role's IAM policy is printed from.

mod common;
// Deploy's hardening against what real Lambda, users and CI do (names, profiles, races,
// waits, timeouts), in a file of its own.
#[path = "deploy/hardening.rs"]
mod hardening;
// The smoke test before the alias moves.
#[path = "deploy/smoke.rs"]
mod smoke;
// `cargo xtask rollback`, which undoes what the deploys here did.
#[path = "deploy/rollback.rs"]
mod rollback;
// A workspace of several functions: `cargo xtask new`, build all, deploy all.
#[path = "deploy/functions.rs"]
mod functions;
// `--api http`: the HTTP API in front of the function.
#[cfg(feature = "api")]
#[path = "deploy/api.rs"]
mod api;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::proxy::{Fault, Proxy};
use common::*;
use serde_json::{json, Value};
use xtask::bootstrap_zip;
use xtask::deploy::Operation;
use xtask::lambda::Arch;
use xtask_aws::dev::moto_clients as moto;
use xtask_local::dev::moto::{free_port, isolate_aws_env, MotoServer};

/// moto, the proxy in front of it, and an execution role.
struct Aws {
    proxy: Proxy,
    moto: MotoServer,
    role: String,
    dir: tempfile::TempDir,
}

impl Aws {
    /// With a function `echo` (x86_64, placeholder code) already there.
    fn with_echo() -> Aws {
        let aws = Aws::start();
        aws.create_function("echo", Arch::X86_64);
        aws
    }

    fn start() -> Aws {
        let moto = MotoServer::start().expect("moto starts (cargo xtask test installs it)");
        let role = moto.create_role("echo-role").unwrap();
        Aws {
            proxy: Proxy::start(moto.addr),
            moto,
            role,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn lambda(&self) -> aws_sdk_lambda::Client {
        moto::lambda_client(&self.moto.endpoint())
    }

    /// CreateFunction straight at moto (not through the proxy), with placeholder code.
    fn create_function(&self, name: &str, arch: Arch) {
        moto::create_function(&self.moto.endpoint(), name, arch, &self.role).unwrap();
    }

    fn remote(&self, name: &str) -> aws_sdk_lambda::types::FunctionConfiguration {
        moto::block_on(self.lambda().get_function().function_name(name).send())
            .expect("GetFunction on moto")
            .configuration
            .expect("GetFunction has a configuration")
    }

    fn alias_version(&self, function: &str, alias: &str) -> String {
        let alias = moto::block_on(
            self.lambda()
                .get_alias()
                .function_name(function)
                .name(alias)
                .send(),
        )
        .expect("GetAlias on moto");
        alias.function_version().unwrap_or_default().to_string()
    }

    /// The JSON body of the last `operation` request that reached the proxy.
    fn last_body(&self, operation: &str) -> Value {
        let seen = self
            .proxy
            .seen()
            .into_iter()
            .rfind(|s| s.operation == operation)
            .unwrap_or_else(|| panic!("no {operation} request"));
        serde_json::from_slice(&seen.body).unwrap()
    }

    /// `cargo xtask deploy` with test credentials, aimed at the proxy.
    fn deploy_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = xtask_aws();
        cmd.arg("deploy")
            .args(["--endpoint-url", &self.proxy.endpoint()])
            .args(args);
        isolate_aws_env(&mut cmd, self.dir.path());
        cmd
    }

    fn deploy(&self, args: &[&str]) -> Deployed {
        deployed(&mut self.deploy_cmd(args))
    }

    /// Deploys the built x86_64 zip to `echo`.
    fn deploy_built(&self, args: &[&str]) -> Deployed {
        self.deploy_zip("echo", built_zip("x86_64").to_str().unwrap(), args)
    }

    fn deploy_zip(&self, function: &str, zip: &str, args: &[&str]) -> Deployed {
        let mut all = vec!["--function-name", function, "--zip", zip];
        all.extend_from_slice(args);
        self.deploy(&all)
    }
}

struct Deployed {
    ok: bool,
    json: Value,
    stdout: String,
    stderr: String,
}

fn deployed(cmd: &mut Command) -> Deployed {
    finished(run(cmd))
}

/// A deploy's output, its report's operations checked against the IAM policy's list.
fn finished(out: std::process::Output) -> Deployed {
    let stdout = text(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    if let Some(calls) = json["api_calls"].as_array() {
        let recorded = calls.iter().map(|c| c["operation"].as_str().unwrap());
        assert_listed(recorded, "the deploy's meter");
    }
    Deployed {
        ok: out.status.success(),
        json,
        stdout,
        stderr: text(&out.stderr),
    }
}

/// Every operation a deploy called is one the IAM policy allows (or `--create`'s).
#[track_caller]
fn assert_listed<'a>(operations: impl IntoIterator<Item = &'a str>, by: &str) {
    let unlisted: Vec<&str> = operations
        .into_iter()
        .filter(|op| {
            Operation::from_name(op).is_none()
                && !xtask::deploy::ApiCall::ALL.iter().any(|c| c.name() == *op)
        })
        .collect();
    assert!(
        unlisted.is_empty(),
        "{by} recorded operations missing from xtask::deploy::Operation::ALL and ApiCall::ALL \
         (and so from `cargo xtask iam-policy` and the README's rights): {unlisted:?}"
    );
}

/// Failed deploys print no report: their requests are checked as the proxy saw them.
impl Drop for Aws {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_listed(self.proxy.operations(), "the proxy");
        }
    }
}

impl Deployed {
    #[track_caller]
    fn success(self) -> Value {
        assert!(
            self.ok,
            "deploy failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.json
    }

    #[track_caller]
    fn failure(self) -> String {
        assert!(
            !self.ok,
            "deploy should have failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stderr
    }
}

/// Lambda's 409 while another update of `echo` is being applied.
fn conflict() -> Fault {
    Fault::Error(
        409,
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for \
         resource: arn:aws:lambda:us-east-1:123456789012:function:echo",
    )
}

fn local_sha(zip: &Path) -> String {
    xtask::lambda::code_sha256(&std::fs::read(zip).unwrap())
}

fn operations(report: &Value) -> Vec<String> {
    report["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn first_deploy_updates_then_redeploy_uploads_nothing_then_force_uploads() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let zip_arg = zip.to_str().unwrap();
    let sha = local_sha(&zip);
    assert_ne!(
        aws.remote("echo").code_sha256.as_deref(),
        Some(sha.as_str())
    );

    // The name from LAMBDA_FUNCTION_NAME; the build output by default.
    let summary = aws.dir.path().join("summary.md");
    let first = deployed(
        aws.deploy_cmd(&["--json"])
            .env("LAMBDA_FUNCTION_NAME", "echo")
            .env("GITHUB_STEP_SUMMARY", &summary),
    )
    .success();
    assert_eq!(first["outcome"], "updated");
    assert_eq!(first["function"], "echo");
    assert_eq!(first["code_sha256"], sha.as_str());
    assert_eq!(first["version"], "$LATEST");
    let zip_len = std::fs::metadata(&zip).unwrap().len();
    // The zip travels base64-encoded inside UpdateFunctionCode's JSON body.
    assert!(
        first["bytes_uploaded"].as_u64().unwrap() > zip_len * 4 / 3,
        "{first}"
    );
    assert_eq!(operations(&first), ["GetFunction", "UpdateFunctionCode"]);
    assert_eq!(
        aws.remote("echo").code_sha256.as_deref(),
        Some(sha.as_str())
    );
    assert_eq!(
        aws.proxy.operations(),
        ["GetFunction", "UpdateFunctionCode"]
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("Lambda deploy: `echo`") && md.contains(&sha),
        "{md}"
    );

    // Rerun: one GetFunction, nothing uploaded.
    aws.proxy.clear();
    let again = aws.deploy_zip("echo", zip_arg, &["--json"]).success();
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(again["bytes_uploaded"], 0);
    assert_eq!(operations(&again), ["GetFunction"]);
    assert_eq!(aws.proxy.operations(), ["GetFunction"]);

    // The human summary says the same.
    let human = aws.deploy_zip("echo", zip_arg, &[]);
    assert!(
        human.stdout.contains("outcome:     unchanged"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("uploaded:    0 bytes"),
        "{}",
        human.stdout
    );

    aws.proxy.clear();
    let forced = aws
        .deploy_zip("echo", zip_arg, &["--force", "--json"])
        .success();
    assert_eq!(forced["outcome"], "updated");
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 1);
}

#[test]
fn publish_gives_versions_and_alias_follows() {
    let aws = Aws::with_echo();
    let zip = built_zip("x86_64");
    let first = aws
        .deploy_zip("echo", zip.to_str().unwrap(), &["--publish", "--json"])
        .success();
    assert_eq!(first["version"], "1");
    // The echo function's table declares its smoke test: the version is invoked.
    assert_eq!(
        operations(&first),
        [
            "GetFunction",
            "UpdateFunctionCode",
            "PublishVersion",
            "Invoke"
        ]
    );

    let second = second_zip(aws.dir.path());
    let v2 = aws
        .deploy_zip(
            "echo",
            second.to_str().unwrap(),
            &["--alias", "live", "--json"],
        )
        .success();
    assert_eq!(v2["version"], "2");
    assert_eq!(v2["alias"], "live");
    // The alias is read before anything changes; it did not exist, so it is created.
    assert_eq!(
        operations(&v2),
        [
            "GetFunction",
            "GetAlias",
            "UpdateFunctionCode",
            "PublishVersion",
            "Invoke",
            "CreateAlias"
        ]
    );
    // PublishVersion was told exactly which code to publish.
    assert_eq!(
        aws.last_body("PublishVersion")["CodeSha256"],
        local_sha(&second).as_str()
    );

    assert_eq!(aws.alias_version("echo", "live"), "2");
    let published = moto::block_on(
        aws.lambda()
            .get_function()
            .function_name("echo")
            .qualifier("2")
            .send(),
    )
    .unwrap();
    assert_eq!(
        published.configuration().unwrap().code_sha256(),
        Some(local_sha(&second).as_str())
    );

    // Back to the first zip: version 3, and the existing alias moves.
    let v3 = aws
        .deploy_zip(
            "echo",
            zip.to_str().unwrap(),
            &["--alias", "live", "--json"],
        )
        .success();
    assert_eq!(v3["version"], "3");
    assert!(operations(&v3).contains(&"UpdateAlias".to_string()), "{v3}");
    assert_eq!(aws.alias_version("echo", "live"), "3");

    // The move was guarded by the RevisionId GetAlias gave.
    assert!(aws.last_body("UpdateAlias")["RevisionId"].is_string());

    // A rerun uploads nothing, publishes nothing new and leaves the alias where it is.
    let rerun = aws
        .deploy_zip(
            "echo",
            zip.to_str().unwrap(),
            &["--alias", "live", "--json"],
        )
        .success();
    assert_eq!(rerun["outcome"], "unchanged");
    assert_eq!(rerun["version"], "3");
    assert_eq!(rerun["bytes_uploaded"], 0);
    assert_eq!(
        operations(&rerun),
        ["GetFunction", "GetAlias", "PublishVersion", "Invoke"]
    );
    assert!(!operations(&rerun).contains(&"UpdateFunctionCode".to_string()));
}

#[test]
fn dry_run_validates_and_changes_nothing() {
    let aws = Aws::with_echo();
    let before = aws.remote("echo").code_sha256;
    let zip = built_zip("x86_64");
    let report = aws
        .deploy_zip(
            "echo",
            zip.to_str().unwrap(),
            &["--dry-run", "--publish", "--json"],
        )
        .success();
    assert_eq!(report["outcome"], "dry-run");
    assert_eq!(operations(&report), ["GetFunction", "UpdateFunctionCode"]);
    assert_eq!(aws.last_body("UpdateFunctionCode")["DryRun"], true);
    assert_eq!(aws.remote("echo").code_sha256, before);
    assert_eq!(aws.proxy.count("PublishVersion"), 0);

    // Deployed for real, a dry run of the same zip is "unchanged" and still publishes nothing.
    aws.deploy_zip("echo", zip.to_str().unwrap(), &[]).success();
    aws.proxy.clear();
    let report = aws
        .deploy_zip(
            "echo",
            zip.to_str().unwrap(),
            &["--dry-run", "--alias", "live", "--json"],
        )
        .success();
    assert_eq!(report["outcome"], "unchanged");
    assert_eq!(report["version"], "$LATEST");
    assert_eq!(aws.proxy.operations(), ["GetFunction"]);
}

#[test]
fn create_makes_the_function_when_missing() {
    let aws = Aws::start();
    let zip = built_zip("x86_64");
    let zip_arg = zip.to_str().unwrap();

    let err = aws.deploy_zip("fresh", zip_arg, &[]).failure();
    assert!(err.contains("function fresh does not exist"), "{err}");
    assert!(err.contains("create it with `--create`"), "{err}");
    assert_eq!(aws.proxy.operations(), ["GetFunction"]);

    let dry = aws
        .deploy_zip(
            "fresh",
            zip_arg,
            &["--create", "--role", &aws.role, "--dry-run", "--json"],
        )
        .success();
    assert_eq!(dry["outcome"], "would-create");
    assert_eq!(aws.proxy.count("CreateFunction"), 0);

    let created = aws
        .deploy_zip(
            "fresh",
            zip_arg,
            &["--create", "--role", &aws.role, "--json"],
        )
        .success();
    assert_eq!(created["outcome"], "created");
    let remote = aws.remote("fresh");
    assert_eq!(remote.code_sha256(), Some(local_sha(&zip).as_str()));
    assert_eq!(
        remote.runtime().map(|r| r.as_str()),
        Some("provided.al2023")
    );
    assert_eq!(remote.handler(), Some("bootstrap"));
    assert_eq!(
        remote
            .architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["x86_64"]
    );

    let again = aws
        .deploy_zip(
            "fresh",
            zip_arg,
            &["--create", "--role", &aws.role, "--json"],
        )
        .success();
    assert_eq!(again["outcome"], "unchanged");
}

#[test]
fn bad_zips_and_missing_names_are_refused_before_any_request() {
    let aws = Aws::start();
    let dir = aws.dir.path();

    // A dynamically linked program.
    let glibc = rustc_fixture(dir, "hello", HELLO, &[]);
    let dynamic_zip = dir.join("dynamic.zip");
    std::fs::write(
        &dynamic_zip,
        bootstrap_zip::zip_bootstrap(&std::fs::read(&glibc).unwrap(), 1).unwrap(),
    )
    .unwrap();
    let err = aws
        .deploy_zip("echo", dynamic_zip.to_str().unwrap(), &[])
        .failure();
    assert!(
        err.contains("not a fully static x86_64 executable"),
        "{err}"
    );
    assert!(err.contains("needs libc.so.6"), "{err}");

    // Over the 50 MB upload limit (incompressible bytes, stored).
    let big = dir.join("big.zip");
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(&big).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("bootstrap", options).unwrap();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let block: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for _ in 0..51 {
            w.write_all(&block).unwrap();
        }
        w.finish().unwrap();
    }
    let err = aws.deploy_zip("echo", big.to_str().unwrap(), &[]).failure();
    assert!(err.contains("over Lambda's 52428800-byte limit"), "{err}");

    // Two entries, none of them bootstrap.
    let no_bootstrap = dir.join("nobootstrap.zip");
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(&no_bootstrap).unwrap());
        for name in ["main", "lib.so"] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
        }
        w.finish().unwrap();
    }
    let err = aws
        .deploy_zip("echo", no_bootstrap.to_str().unwrap(), &[])
        .failure();
    assert!(
        err.contains("no `bootstrap` at its root") && err.contains("main, lib.so"),
        "{err}"
    );

    // A function the workspace does not have.
    let err = aws
        .deploy(&["-p", "nope", "--zip", built_zip("x86_64").to_str().unwrap()])
        .failure();
    assert!(
        err.contains("no function `nope` in this workspace"),
        "{err}"
    );

    assert!(aws.proxy.seen().is_empty(), "{:?}", aws.proxy.operations());
}

#[test]
fn architecture_mismatch_is_refused_before_upload() {
    let aws = Aws::with_echo();
    let arm = built_zip("arm64");
    let before = aws.remote("echo").code_sha256;

    // An arm64 zip checked as x86_64 fails the static check on the ELF machine.
    let err = aws.deploy_zip("echo", arm.to_str().unwrap(), &[]).failure();
    assert!(err.contains("wrong machine for x86_64"), "{err}");
    assert!(aws.proxy.seen().is_empty());

    // Declared arm64, it passes locally; the x86_64 function refuses it.
    let err = aws
        .deploy_zip("echo", arm.to_str().unwrap(), &["--arch", "arm64"])
        .failure();
    assert!(err.contains("architecture mismatch"), "{err}");
    assert!(
        err.contains("runs on x86_64") && err.contains("built for arm64"),
        "{err}"
    );
    assert_eq!(aws.proxy.operations(), ["GetFunction"]);
    assert_eq!(aws.remote("echo").code_sha256, before);

    // And an arm64 function takes it.
    aws.create_function("echo-arm", Arch::Arm64);
    let report = aws
        .deploy_zip(
            "echo-arm",
            arm.to_str().unwrap(),
            &["--arch", "arm64", "--json"],
        )
        .success();
    assert_eq!(report["outcome"], "updated");
    assert_eq!(report["arch"], "arm64");
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let aws = Aws::with_echo();
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Error(429, "ThrottlingException", "Rate exceeded"),
    );
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Error(500, "ServiceException", "internal error"),
    );
    let zip = built_zip("x86_64");
    let report = aws
        .deploy_zip("echo", zip.to_str().unwrap(), &["--json"])
        .success();
    assert_eq!(report["outcome"], "updated");
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 3);
    // Every attempt is counted, uploads included.
    assert_eq!(
        operations(&report),
        [
            "GetFunction",
            "UpdateFunctionCode",
            "UpdateFunctionCode",
            "UpdateFunctionCode"
        ]
    );
    assert_eq!(
        aws.remote("echo").code_sha256.as_deref(),
        Some(local_sha(&zip).as_str())
    );
}

#[test]
fn persistent_throttling_is_reported_after_bounded_retries() {
    let aws = Aws::with_echo();
    aws.proxy.fail(
        "GetFunction",
        100,
        Fault::Error(429, "TooManyRequestsException", "Rate exceeded"),
    );
    let zip = built_zip("x86_64");
    let started = Instant::now();
    let err = aws.deploy_zip("echo", zip.to_str().unwrap(), &[]).failure();
    assert!(err.contains("kept throttling lambda:GetFunction"), "{err}");
    assert_eq!(
        aws.proxy.count("GetFunction"),
        3,
        "the SDK's standard mode: 3 attempts"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn update_in_progress_is_waited_out() {
    let aws = Aws::with_echo();
    aws.proxy.fail("UpdateFunctionCode", 2, conflict());
    // Lambda applies the new code asynchronously: InProgress first, then Successful.
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Patch(json!({"LastUpdateStatus": "InProgress"})),
    );
    // Another update is being applied when the deploy starts: the initial read and the first
    // poll say so; the deploy plans on the function once it is over.
    aws.proxy.fail(
        "GetFunction",
        2,
        Fault::Patch(json!({"LastUpdateStatus": "InProgress"})),
    );
    let zip = built_zip("x86_64");
    let out = aws.deploy_zip("echo", zip.to_str().unwrap(), &["--json"]);
    let stderr = out.stderr.clone();
    let report = out.success();
    assert_eq!(report["outcome"], "updated");
    assert!(
        stderr.contains("another update of echo is in progress"),
        "{stderr}"
    );
    assert!(stderr.contains("LastUpdateStatus InProgress"), "{stderr}");
    // Each conflict is followed by a look at the function before the zip is sent again; the
    // last GetFunction waits for Lambda to apply the upload.
    assert_eq!(
        aws.proxy.operations(),
        [
            "GetFunction",
            "GetFunction",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction"
        ]
    );
}

#[test]
fn stale_revision_is_refused_not_overwritten() {
    let aws = Aws::with_echo();
    let before = aws.remote("echo").code_sha256;
    // moto returns no RevisionId for functions; hand one out as Lambda does.
    aws.proxy.fail(
        "GetFunction",
        1,
        Fault::Patch(json!({"RevisionId": "11111111-2222-3333-4444-555555555555"})),
    );
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Error(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id.",
        ),
    );
    let err = aws.deploy_built(&[]).failure();
    assert!(err.contains("changed while deploying"), "{err}");
    assert!(err.contains("rerun"), "{err}");
    assert_eq!(
        aws.last_body("UpdateFunctionCode")["RevisionId"],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 1, "not retried");
    assert_eq!(aws.remote("echo").code_sha256, before);
}

#[test]
fn failed_update_shows_the_reason() {
    let aws = Aws::with_echo();
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Patch(json!({
            "LastUpdateStatus": "Failed",
            "LastUpdateStatusReason": "The function could not be updated: the zip is corrupt"
        })),
    );
    let err = aws.deploy_built(&[]).failure();
    assert!(err.contains("LastUpdateStatus Failed"), "{err}");
    assert!(err.contains("the zip is corrupt"), "{err}");
}

#[test]
fn access_denied_names_the_action() {
    let aws = Aws::with_echo();
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Error(
            403,
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:UpdateFunctionCode",
        ),
    );
    let err = aws.deploy_built(&[]).failure();
    assert!(err.contains("access denied"), "{err}");
    assert!(err.contains("allow `lambda:UpdateFunctionCode`"), "{err}");
    assert!(err.contains("function:echo"), "{err}");
}

#[test]
fn missing_credentials_and_unreachable_endpoints_fail_clearly() {
    let aws = Aws::start();
    let zip = built_zip("x86_64");
    let zip_arg = zip.to_str().unwrap();

    let err = deployed(
        aws.deploy_cmd(&["--function-name", "echo", "--zip", zip_arg])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("HOME", aws.dir.path()),
    )
    .failure();
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(
        err.contains("--profile") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert!(aws.proxy.seen().is_empty());

    let port = free_port().unwrap();
    let started = Instant::now();
    let mut cmd = xtask_aws();
    cmd.args(["deploy", "--function-name", "echo", "--zip", zip_arg])
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}")]);
    isolate_aws_env(&mut cmd, aws.dir.path());
    let err = deployed(&mut cmd).failure();
    assert!(err.contains("could not reach the Lambda endpoint"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn bench_counts_one_get_function_and_no_bytes_for_an_unchanged_redeploy() {
    built_zip("x86_64");
    let out = run(xtask_aws().args(["bench", "deploy"]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row in:\n{stdout}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // run, outcome, API calls, code bytes, request bytes, time, "s", operations...
    let first = line("first deploy");
    assert_eq!(first[2..4], ["updated", "2"]);
    let unchanged = line("unchanged redeploy");
    assert_eq!(unchanged[2..6], ["unchanged", "1", "0", "0"], "{stdout}");
    assert_eq!(unchanged.last().map(String::as_str), Some("GetFunction"));
}

#[test]
fn function_name_and_arch_come_from_the_manifest() {
    let aws = Aws::start();
    aws.create_function("echo-arm", Arch::Arm64);
    // A project root whose function crate names the function and its architecture.
    let root = aws.dir.path().join("project");
    std::fs::create_dir_all(root.join("function/src")).unwrap();
    std::fs::write(root.join("function/src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"function\"]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("function/Cargo.toml"),
        "[package]\nname = \"echo-function\"\n\n[package.metadata.lambda]\n\
         function-name = \"echo-arm\"\narch = \"arm64\"\n",
    )
    .unwrap();
    let arm = built_zip("arm64");
    let report = deployed(
        aws.deploy_cmd(&["--zip", arm.to_str().unwrap(), "--json"])
            .env("XTASK_PROJECT_ROOT", &root),
    )
    .success();
    assert_eq!(report["function"], "echo-arm");
    assert_eq!(report["arch"], "arm64");
    assert_eq!(report["outcome"], "updated");

    // The flag wins over the manifest.
    let err = deployed(
        aws.deploy_cmd(&["--zip", arm.to_str().unwrap(), "--function-name", "other"])
            .env("XTASK_PROJECT_ROOT", &root),
    )
    .failure();
    assert!(err.contains("function other does not exist"), "{err}");
}

#[test]
fn help_is_the_help_of_cargo_xtask_deploy() {
    use clap::Parser;
    let out = run(xtask_aws().args(["deploy", "--help"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = xtask::cli::Cli::try_parse_from(["cargo xtask", "deploy", "--help"])
        .unwrap_err()
        .render()
        .to_string();
    assert_eq!(text(&out.stdout), expected);
}
