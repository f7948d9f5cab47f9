//! `setup-ci` against moto, through the proxy: from an empty IAM to GitHub's OIDC provider, the
//! deploy role and its policy, read back with the SDK; a rerun that writes nothing; `--dry-run`;
//! a provider without the audience; a role trusting something else; a stale permissions
//! policy; IAM refusing CreateRole.

mod common;

use std::process::Command;

use common::proxy::{Fault, Proxy};
use common::*;
use serde_json::{json, Value};
use xtask_aws::dev::moto_clients as moto;
use xtask_aws::model::policy::parse_policy;
use xtask_aws::setup_ci::plan::IAM_ACTIONS;
use xtask_local::dev::moto::{isolate_aws_env, MotoServer};

const REPO: &str = "octo-org/echo-lambda";
const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/echo-deploy";

struct Account {
    proxy: Proxy,
    moto: MotoServer,
    dir: tempfile::TempDir,
}

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("--json prints JSON ({e}): {}", self.stdout))
    }
}

impl Account {
    /// moto with nothing in it, behind the proxy.
    fn empty() -> Account {
        let moto = MotoServer::start().expect("moto starts (cargo xtask test installs it)");
        Account {
            proxy: Proxy::start(moto.addr),
            moto,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `setup-ci --repo octo-org/echo-lambda --function-name echo ARGS` through the proxy;
    /// the proxy's record starts afresh.
    fn setup_ci(&self, args: &[&str]) -> Run {
        self.proxy.clear();
        let mut cmd: Command = xtask_aws();
        cmd.arg("setup-ci")
            .args(["--endpoint-url", &self.proxy.endpoint()])
            .args(["--repo", REPO, "--function-name", "echo"])
            .args(args);
        isolate_aws_env(&mut cmd, self.dir.path());
        let out = run(&mut cmd);
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Value {
        let run = self.setup_ci(args);
        assert!(run.ok, "setup-ci failed: {}", run.stderr);
        run.json()
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        moto::iam_client(&self.moto.endpoint())
    }

    fn client_ids(&self) -> Vec<String> {
        let provider = self
            .iam()
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(PROVIDER);
        moto::block_on(provider.send())
            .unwrap()
            .client_id_list()
            .to_vec()
    }

    fn trust_policy(&self) -> Value {
        let role = moto::block_on(self.iam().get_role().role_name("echo-deploy").send()).unwrap();
        parse_policy(role.role().unwrap().assume_role_policy_document().unwrap()).unwrap()
    }

    fn permissions_policy(&self) -> Value {
        let request = self
            .iam()
            .get_role_policy()
            .role_name("echo-deploy")
            .policy_name("deploy-echo");
        parse_policy(moto::block_on(request.send()).unwrap().policy_document()).unwrap()
    }

    /// What the proxy saw, each checked to be an action setup-ci is documented to need.
    fn operations(&self) -> Vec<&'static str> {
        let operations = self.proxy.operations();
        for op in &operations {
            assert!(
                *op == "GetCallerIdentity" || IAM_ACTIONS.contains(&format!("iam:{op}").as_str()),
                "{op} is not in IAM_ACTIONS"
            );
        }
        operations
    }

    #[track_caller]
    fn assert_wrote_nothing(&self) {
        let operations = self.operations();
        assert!(!operations.is_empty());
        for op in operations {
            assert!(
                op.starts_with("Get") || op.starts_with("List"),
                "a write: {op} in {:?}",
                self.proxy.operations()
            );
        }
    }
}

fn outcomes(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["item"].as_str().unwrap(),
                s["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

fn variable(report: &Value, name: &str) -> String {
    let var = report["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"));
    assert_eq!(
        var["gh"],
        format!(
            "gh variable set {name} --repo {REPO} --body {}",
            var["value"].as_str().unwrap()
        )
    );
    var["value"].as_str().unwrap().to_string()
}

#[test]
fn from_an_empty_iam_then_a_rerun_that_writes_nothing() {
    let aws = Account::empty();
    let first = aws.ok(&["--environment", "production", "--json"]);
    assert_eq!(
        outcomes(&first),
        ["oidc-provider created", "role created", "policy created"]
    );
    assert_eq!(
        aws.operations(),
        [
            "GetCallerIdentity",
            "ListOpenIDConnectProviders",
            "GetRole",
            "CreateOpenIDConnectProvider",
            "CreateRole",
            "PutRolePolicy"
        ]
    );

    // Read back from moto: the provider with the one audience, the role trusting the
    // repository's production environment through it, the deploy actions on the function.
    assert_eq!(aws.client_ids(), ["sts.amazonaws.com"]);
    let trust = aws.trust_policy();
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Federated"], PROVIDER);
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Condition"]["StringEquals"],
        json!({
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:octo-org/echo-lambda:environment:production",
        })
    );
    let permissions = aws.permissions_policy();
    assert_eq!(
        permissions["Statement"][0]["Action"],
        json!(xtask::iam_policy::deploy_actions())
    );
    assert_eq!(
        permissions["Statement"][0]["Resource"],
        json!([
            "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "arn:aws:lambda:us-east-1:123456789012:function:echo:*"
        ])
    );
    let role = moto::block_on(aws.iam().get_role().role_name("echo-deploy").send()).unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.arn(), ROLE_ARN);
    assert!(
        role.description()
            .unwrap_or_default()
            .contains("cargo xtask setup-ci"),
        "{role:?}"
    );

    // The variables the workflow reads, and the commands that set them.
    assert_eq!(first["role_arn"], ROLE_ARN);
    assert_eq!(variable(&first, "AWS_ROLE_ARN"), ROLE_ARN);
    assert_eq!(variable(&first, "AWS_ACCOUNT_ID"), "123456789012");
    assert_eq!(variable(&first, "AWS_REGION"), "us-east-1");
    assert_eq!(variable(&first, "LAMBDA_FUNCTION_NAME"), "echo");
    assert_eq!(
        first["subject"],
        "repo:octo-org/echo-lambda:environment:production"
    );

    // A rerun reads, writes nothing, and prints the same variables, for people this time.
    let again = aws.setup_ci(&["--environment", "production"]);
    assert!(again.ok, "{}", again.stderr);
    aws.assert_wrote_nothing();
    assert_eq!(
        aws.operations(),
        [
            "GetCallerIdentity",
            "ListOpenIDConnectProviders",
            "GetOpenIDConnectProvider",
            "GetRole",
            "GetRolePolicy"
        ]
    );
    let lines: Vec<&str> = again.stdout.lines().collect();
    assert!(
        lines[0].starts_with("OIDC provider  unchanged     "),
        "{}",
        again.stdout
    );
    assert!(lines[1].starts_with("role           unchanged     echo-deploy: trusts repo:octo-org/echo-lambda:environment:production"));
    assert!(lines[2].starts_with("policy         unchanged     deploy-echo: on role echo-deploy"));
    assert!(
        again.stdout.contains(&format!(
            "gh variable set AWS_ROLE_ARN --repo {REPO} --body {ROLE_ARN}\n"
        )),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stdout
            .contains("  AWS_ACCOUNT_ID        123456789012\n"),
        "{}",
        again.stdout
    );
}

#[test]
fn dry_run_on_an_empty_iam_writes_nothing_and_says_what_it_would() {
    let aws = Account::empty();
    let dry = aws.setup_ci(&["--environment", "production", "--dry-run", "--json"]);
    assert!(dry.ok, "{}", dry.stderr);
    aws.assert_wrote_nothing();
    let report = dry.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        outcomes(&report),
        [
            "oidc-provider would-create",
            "role would-create",
            "policy would-create"
        ]
    );
    // The role's ARN is predicted, so the variables can be set already.
    assert_eq!(variable(&report, "AWS_ROLE_ARN"), ROLE_ARN);
    for skipped in [
        "Skipped creating arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com (--dry-run)",
        "Skipped creating role echo-deploy (--dry-run)",
        "Skipped putting policy deploy-echo on role echo-deploy (--dry-run)",
    ] {
        assert!(dry.stderr.contains(skipped), "{}", dry.stderr);
    }
    let providers = moto::block_on(aws.iam().list_open_id_connect_providers().send()).unwrap();
    assert!(providers.open_id_connect_provider_list().is_empty());
    assert!(moto::block_on(aws.iam().get_role().role_name("echo-deploy").send()).is_err());

    let human = aws.setup_ci(&["--environment", "production", "--dry-run"]);
    assert!(human.stdout.contains("would create"), "{}", human.stdout);
    assert!(
        human.stdout.contains("Nothing was written (--dry-run)"),
        "{}",
        human.stdout
    );
}

#[test]
fn an_existing_provider_without_the_audience_gets_it_added() {
    let aws = Account::empty();
    let thumbprint = "6938fd4d98bab03faadb97b34396831e3780aea1";
    moto::block_on(
        aws.iam()
            .create_open_id_connect_provider()
            .url("https://token.actions.githubusercontent.com")
            .client_id_list("another-audience")
            .thumbprint_list(thumbprint)
            .send(),
    )
    .unwrap();

    let report = aws.ok(&["--environment", "production", "--json"]);
    assert_eq!(
        outcomes(&report),
        ["oidc-provider updated", "role created", "policy created"]
    );
    assert_eq!(aws.proxy.count("AddClientIDToOpenIDConnectProvider"), 1);
    assert_eq!(aws.proxy.count("CreateOpenIDConnectProvider"), 0);
    assert_eq!(aws.client_ids(), ["another-audience", "sts.amazonaws.com"]);
    let provider = moto::block_on(
        aws.iam()
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(PROVIDER)
            .send(),
    )
    .unwrap();
    assert_eq!(provider.thumbprint_list(), [thumbprint]);

    aws.setup_ci(&["--environment", "production"]);
    aws.assert_wrote_nothing();
}

#[test]
fn another_trust_policy_or_a_stale_permissions_policy_is_replaced() {
    let aws = Account::empty();
    // Made for the branch, then asked for the environment: only the trust policy changes.
    let branch = aws.ok(&["--json"]);
    assert_eq!(
        branch["subject"],
        "repo:octo-org/echo-lambda:ref:refs/heads/main"
    );
    let env = aws.ok(&["--environment", "production", "--json"]);
    assert_eq!(
        outcomes(&env),
        [
            "oidc-provider unchanged",
            "role updated",
            "policy unchanged"
        ]
    );
    assert_eq!(aws.proxy.count("UpdateAssumeRolePolicy"), 1);
    assert_eq!(aws.proxy.count("CreateRole"), 0);
    assert_eq!(aws.proxy.count("PutRolePolicy"), 0);
    assert_eq!(
        aws.trust_policy()["Statement"][0]["Condition"]["StringEquals"]
            ["token.actions.githubusercontent.com:sub"],
        "repo:octo-org/echo-lambda:environment:production"
    );

    // A permissions policy from an older list of actions is put again.
    let mut stale = aws.permissions_policy();
    stale["Statement"][0]["Action"] = json!(["lambda:GetFunction", "lambda:UpdateFunctionCode"]);
    moto::block_on(
        aws.iam()
            .put_role_policy()
            .role_name("echo-deploy")
            .policy_name("deploy-echo")
            .policy_document(stale.to_string())
            .send(),
    )
    .unwrap();
    let fixed = aws.ok(&["--environment", "production", "--json"]);
    assert_eq!(
        outcomes(&fixed),
        [
            "oidc-provider unchanged",
            "role unchanged",
            "policy updated"
        ]
    );
    assert_eq!(aws.proxy.count("PutRolePolicy"), 1);
    assert_eq!(
        aws.permissions_policy()["Statement"][0]["Action"],
        json!(xtask::iam_policy::deploy_actions())
    );
    aws.setup_ci(&["--environment", "production"]);
    aws.assert_wrote_nothing();
}

#[test]
fn iam_refusing_create_role_names_the_action_and_who_should_run_it() {
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
    let run = aws.setup_ci(&["--environment", "production"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "error: access denied: the credentials in use may not call iam:CreateRole on role \
             echo-deploy (User: arn:aws:iam::123456789012:user/ci is not authorized"
        ),
        "{}",
        run.stderr
    );
    assert!(
        last.contains("one-time action for an administrator"),
        "{last}"
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(aws.proxy.count("PutRolePolicy"), 0);
}
