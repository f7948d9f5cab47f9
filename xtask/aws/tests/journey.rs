//! From an empty account to a live URL against moto: `deploy --create --url public` makes the
//! execution role, the function with its declared settings, the URL and its two permissions;
//! reruns read only; settings changes and drift cost one UpdateFunctionConfiguration and no
//! upload. Through the fault proxy: a role not yet assumable, and IAM refusing CreateRole.

mod common;

use std::process::Command;

use common::proxy::{Fault, Proxy};
use common::*;
use serde_json::Value;
use xtask_aws::dev::moto_clients as moto;
use xtask_local::dev::moto::{isolate_aws_env, MotoServer};

struct Account {
    proxy: Proxy,
    moto: MotoServer,
    dir: tempfile::TempDir,
}

impl Account {
    /// moto with nothing in it (no role, no function), behind the proxy.
    fn empty() -> Account {
        let moto = MotoServer::start().expect("moto starts (cargo xtask test installs it)");
        Account {
            proxy: Proxy::start(moto.addr),
            moto,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn deploy(&self, function: &str, args: &[&str]) -> (bool, Value, String) {
        let zip = built_zip("x86_64");
        let mut cmd: Command = xtask_aws();
        cmd.arg("deploy")
            .args(["--endpoint-url", &self.proxy.endpoint()])
            .args(["--function-name", function, "--zip", zip.to_str().unwrap()])
            .args(["--json"])
            .args(args);
        isolate_aws_env(&mut cmd, self.dir.path());
        let out = run(&mut cmd);
        let stdout = text(&out.stdout);
        // The URL line (when --url) comes before the JSON report.
        let json = stdout
            .find('{')
            .and_then(|at| serde_json::from_str(&stdout[at..]).ok())
            .unwrap_or(Value::Null);
        (out.status.success(), json, text(&out.stderr))
    }

    #[track_caller]
    fn ok(&self, function: &str, args: &[&str]) -> Value {
        self.proxy.clear();
        let (ok, json, stderr) = self.deploy(function, args);
        assert!(ok, "deploy failed: {stderr}");
        json
    }

    fn lambda(&self) -> aws_sdk_lambda::Client {
        moto::lambda_client(&self.moto.endpoint())
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        moto::iam_client(&self.moto.endpoint())
    }

    fn configuration(&self, function: &str) -> aws_sdk_lambda::types::FunctionConfiguration {
        moto::block_on(self.lambda().get_function().function_name(function).send())
            .unwrap()
            .configuration
            .unwrap()
    }
}

fn operations(report: &Value) -> Vec<String> {
    report["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect()
}

/// The report's setting changes, as `"setting" from to` (JSON-quoted, `null` for unset).
fn changes(report: &Value) -> Vec<String> {
    report["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {}", c["setting"], c["from"], c["to"]))
        .collect()
}

const READS: &[&str] = &[
    "GetFunction",
    "GetFunctionUrlConfig",
    "GetPolicy",
    "GetRole",
    "ListAttachedRolePolicies",
];

#[test]
fn from_an_empty_account_to_a_public_url_then_settings_as_code() {
    let aws = Account::empty();

    // From nothing: the role, the function, a public URL, two settings.
    let everything = [
        "--create",
        "--url",
        "public",
        "--memory",
        "256",
        "--env",
        "MODE=prod",
    ];
    let first = aws.ok("web", &everything);
    assert_eq!(first["outcome"], "created");
    // What CreateFunction set is in the report, not "unchanged".
    let set = changes(&first);
    assert_eq!(
        set,
        [
            r#""memory (MB)" null "256""#,
            r#""environment MODE" null "prod""#
        ]
    );
    assert_eq!(first["role"]["name"], "web-role");
    assert_eq!(first["role"]["outcome"], "created");
    assert_eq!(first["url"]["outcome"], "created");
    assert_eq!(first["url"]["auth"], "public");
    assert_eq!(
        first["url"]["permissions_added"].as_array().unwrap().len(),
        2
    );
    let url = first["url"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("https://"), "{url}");

    // The role trusts Lambda and has the managed policy; the function runs with it.
    let iam = aws.iam();
    let role = moto::block_on(iam.get_role().role_name("web-role").send()).unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let attached = moto::block_on(
        iam.list_attached_role_policies()
            .role_name("web-role")
            .send(),
    )
    .unwrap();
    assert!(attached
        .attached_policies()
        .iter()
        .any(|p| p.policy_name() == Some("AWSLambdaBasicExecutionRole")));
    let config = aws.configuration("web");
    assert_eq!(config.role(), Some(role_arn.as_str()));
    assert_eq!(config.memory_size(), Some(256));
    let url_config = moto::block_on(
        aws.lambda()
            .get_function_url_config()
            .function_name("web")
            .send(),
    )
    .unwrap();
    assert_eq!(url_config.function_url(), url);
    assert_eq!(url_config.auth_type().as_str(), "NONE");
    let policy = moto::block_on(aws.lambda().get_policy().function_name("web").send()).unwrap();
    let policy = policy.policy().unwrap();
    assert!(policy.contains("lambda:InvokeFunctionUrl"), "{policy}");
    assert!(policy.contains("InvokedViaFunctionUrl"), "{policy}");

    // A rerun reads only and uploads nothing.
    let again = aws.ok("web", &everything);
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(again["bytes_uploaded"], 0);
    assert_eq!(again["url"]["outcome"], "unchanged");
    assert_eq!(again["url"]["url"], url.as_str());
    assert_eq!(again["settings"].as_array().unwrap().len(), 0);
    for op in operations(&again) {
        assert!(READS.contains(&op.as_str()), "a rerun called {op}");
    }

    // A memory change: exactly one UpdateFunctionConfiguration, no code.
    let memory = aws.ok("web", &["--memory", "512", "--env", "MODE=prod"]);
    assert_eq!(memory["outcome"], "configured");
    assert_eq!(memory["bytes_uploaded"], 0);
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 1);
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 0);
    assert_eq!(memory["settings"][0]["setting"], "memory (MB)");
    assert_eq!(memory["settings"][0]["from"], "256");
    assert_eq!(memory["settings"][0]["to"], "512");
    assert_eq!(aws.configuration("web").memory_size(), Some(512));

    // Drift made behind its back: shown, corrected, and an undeclared variable survives.
    moto::block_on(
        aws.lambda()
            .update_function_configuration()
            .function_name("web")
            .memory_size(1024)
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .variables("MODE", "debug")
                    .variables("KEPT", "console")
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let dry = aws.ok(
        "web",
        &["--memory", "512", "--env", "MODE=prod", "--dry-run"],
    );
    assert_eq!(dry["settings"].as_array().unwrap().len(), 2, "{dry}");
    assert_eq!(dry["outcome"], "would-configure", "{dry}");
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 0);
    assert_eq!(aws.configuration("web").memory_size(), Some(1024));
    let fixed = aws.ok("web", &["--memory", "512", "--env", "MODE=prod"]);
    let shown = changes(&fixed);
    assert_eq!(
        shown,
        [
            r#""memory (MB)" "1024" "512""#,
            r#""environment MODE" "debug" "prod""#
        ]
    );
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 1);
    let config = aws.configuration("web");
    assert_eq!(config.memory_size(), Some(512));
    let vars = config.environment().unwrap().variables().unwrap();
    assert_eq!(vars.get("MODE").map(String::as_str), Some("prod"));
    assert_eq!(vars.get("KEPT").map(String::as_str), Some("console"));

    // Invalid settings fail before any request.
    let (ok, _, stderr) = aws.deploy("web", &["--memory", "64"]);
    assert!(!ok && stderr.contains("128 to 10240"), "{stderr}");
}

#[test]
fn a_new_role_not_yet_assumable_is_waited_for() {
    let aws = Account::empty();
    aws.proxy.fail(
        "CreateFunction",
        2,
        Fault::Error(
            400,
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        ),
    );
    let (ok, report, stderr) = aws.deploy("fresh", &["--create"]);
    assert!(ok, "{stderr}");
    assert_eq!(report["outcome"], "created");
    assert_eq!(aws.proxy.count("CreateFunction"), 3);
    assert!(stderr.contains("for IAM to propagate role"), "{stderr}");
}

#[test]
fn iam_refusing_create_role_names_the_action() {
    let aws = Account::empty();
    aws.proxy.fail(
        "CreateRole",
        1,
        Fault::Error(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:CreateRole",
        ),
    );
    let (ok, _, stderr) = aws.deploy("fresh", &["--create"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("may not call iam:CreateRole"), "{stderr}");
    assert!(
        stderr.contains("not authorized to perform: iam:CreateRole"),
        "{stderr}"
    );
    assert!(stderr.contains("--role ARN"), "{stderr}");
    assert_eq!(aws.proxy.count("CreateFunction"), 0);
}

#[test]
fn a_failure_between_settings_and_code_is_reported_and_completed_by_a_rerun() {
    let aws = Account::empty();
    aws.ok("half", &["--create"]);
    let other = xtask::bootstrap_zip::zip_bootstrap(b"other code", 1).unwrap();
    let other_zip = aws.dir.path().join("other.zip");
    std::fs::write(&other_zip, other).unwrap();
    // Put other code there so the built zip is an upload again.
    moto::block_on(
        aws.lambda()
            .update_function_code()
            .function_name("half")
            .zip_file(aws_sdk_lambda::primitives::Blob::new(
                std::fs::read(&other_zip).unwrap(),
            ))
            .send(),
    )
    .unwrap();
    aws.proxy.fail(
        "UpdateFunctionCode",
        1,
        Fault::Error(400, "InvalidParameterValueException", "the zip is refused"),
    );
    let (ok, _, stderr) = aws.deploy("half", &["--memory", "256"]);
    assert!(!ok);
    assert!(
        stderr.contains("the settings of half were updated"),
        "{stderr}"
    );
    assert!(stderr.contains("memory (MB): 128 -> 256"), "{stderr}");
    assert!(stderr.contains("rerun the deploy"), "{stderr}");
    let rerun = aws.ok("half", &["--memory", "256"]);
    assert_eq!(rerun["outcome"], "updated");
    assert_eq!(aws.proxy.count("UpdateFunctionConfiguration"), 0);
    assert_eq!(aws.proxy.count("UpdateFunctionCode"), 1);
}
