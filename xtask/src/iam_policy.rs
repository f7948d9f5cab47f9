//! `cargo xtask iam-policy`: the two IAM policies of the role CI deploys with.
//!
//! The trust policy lets GitHub's OIDC tokens for one repository, and one branch or one
//! environment of it, assume the role; the permissions policy lets the role update one
//! function and nothing else. Both are plain JSON documents built from validated inputs,
//! so a typo fails here with a sentence rather than later as an AccessDenied in CI.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::deploy::{api_resources, ApiCall, Operation};
use crate::lambda::names::{check_arn_place, valid_account, valid_function_name, Arn};

/// GitHub's OIDC token issuer; the IAM identity provider is named after it.
pub const OIDC_PROVIDER: &str = "token.actions.githubusercontent.com";
/// The audience aws-actions/configure-aws-credentials asks GitHub to put in the token.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// Everything `cargo xtask deploy` (smoke test included) and `cargo xtask rollback` call on an
/// existing function, and nothing more: their own list of the operations they call, without
/// the one-time `--create` and `--url` calls.
pub fn deploy_actions() -> Vec<String> {
    let mut actions: Vec<String> = Vec::new();
    for action in Operation::ALL
        .iter()
        .filter(|op| op.updates_existing())
        .map(|op| op.iam_action())
    {
        // Invoke and InvokeWithResponseStream share lambda:InvokeFunction.
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    actions
}

const ARN_EXAMPLE: &str = "arn:aws:lambda:eu-west-1:123456789012:function:echo";

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The deploy job in .github/workflows/ci.yml uses `environment: production`, so GitHub \
names its tokens repo:OWNER/REPO:environment:production: pass --environment production \
for it. --branch fits a job without an environment.

Example:
  cargo xtask iam-policy --function-arn arn:aws:lambda:eu-west-1:123456789012:function:echo \\
      --repo octo-org/echo-lambda --environment production")]
pub struct Args {
    /// The function's unqualified ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME. Repeat it
    /// for each function CI deploys (all in one account).
    #[arg(long, value_name = "ARN", required = true)]
    pub function_arn: Vec<String>,
    /// The GitHub repository whose workflow deploys, as OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo: String,
    /// Trust workflow runs on this branch (when no --environment) [default: main].
    #[arg(long, value_name = "NAME", conflicts_with = "environment")]
    pub branch: Option<String>,
    /// Trust jobs that run in this GitHub environment, on any branch it allows.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Print one JSON object: {"subject", "trust_policy", "permissions_policy"}.
    #[arg(long)]
    pub json: bool,
}

/// An unqualified Lambda function ARN, split into the parts the policies use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl FunctionArn {
    pub fn parse(arn: &str) -> Result<FunctionArn> {
        let bad = |why: &str| {
            anyhow::anyhow!(
                "`{arn}` is not a Lambda function ARN: {why}. Give it as \
                 arn:aws:lambda:REGION:ACCOUNT:function:NAME (e.g. {ARN_EXAMPLE}); \
                 `aws lambda get-function --function-name NAME --query Configuration.FunctionArn` prints it"
            )
        };
        let seven = || bad("it does not have the seven `:`-separated parts of one");
        let fields = Arn::split(arn).ok_or_else(seven)?;
        let mut resource = fields.resource.splitn(3, ':');
        let (Some(kind), Some(name)) = (resource.next(), resource.next()) else {
            return Err(seven());
        };
        let Arn {
            partition,
            service,
            region,
            account,
            ..
        } = fields;
        if let Some(qualifier) = resource.next() {
            bail!(
                "`{arn}` names a version or alias (`:{qualifier}`); give the unqualified \
                 function ARN `arn:{partition}:{service}:{region}:{account}:{kind}:{name}`: \
                 the policy already covers every version and alias of it \
                 (`…:function:{name}:*`)"
            );
        }
        if service != "lambda" {
            return Err(bad(&format!("it belongs to `{service}`, not `lambda`")));
        }
        check_arn_place(partition, region).map_err(|e| bad(&e.to_string()))?;
        if !valid_account(account) {
            return Err(bad(&format!("the account `{account}` is not 12 digits")));
        }
        if kind != "function" {
            return Err(bad(&format!(
                "the resource type is `{kind}`, not `function`"
            )));
        }
        if !valid_function_name(name) {
            return Err(bad(&format!(
                "the function name `{name}` is not 1 to 64 letters, digits, `-` or `_`"
            )));
        }
        Ok(FunctionArn {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }

    /// The account's IAM identity provider for GitHub's tokens (created once per account).
    pub fn oidc_provider_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{OIDC_PROVIDER}",
            self.partition, self.account
        )
    }
}

/// A GitHub repository, `OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo(String);

impl Repo {
    pub fn parse(repo: &str) -> Result<Repo> {
        let fix = "give the repository as OWNER/REPO, e.g. octo-org/echo-lambda";
        if repo.contains("://") || repo.starts_with("github.com") || repo.starts_with("git@") {
            bail!("`{repo}` is a URL; {fix}");
        }
        let Some((owner, name)) = repo.split_once('/') else {
            bail!("`{repo}` has no `/`; {fix}");
        };
        let owner_ok = (1..=39).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !owner.starts_with('-')
            && !owner.ends_with('-');
        if !owner_ok {
            bail!(
                "`{owner}` is not a GitHub owner name (1 to 39 letters, digits or inner `-`); {fix}"
            );
        }
        if let Some(plain) = name.strip_suffix(".git") {
            bail!("`{repo}` ends in `.git`; {fix} (here {owner}/{plain})");
        }
        let name_ok = (1..=100).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && name != "."
            && name != "..";
        if !name_ok {
            bail!(
                "`{name}` is not a GitHub repository name (1 to 100 letters, digits, `-`, `_` \
                 or `.`); {fix}"
            );
        }
        Ok(Repo(repo.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which of the repository's OIDC tokens may assume the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Jobs without an environment, in runs for this branch.
    Branch(String),
    /// Jobs that declare this environment (GitHub then names the environment, not the ref).
    Environment(String),
}

impl Subject {
    pub fn from_args(branch: Option<&str>, environment: Option<&str>) -> Result<Subject> {
        if let Some(env) = environment {
            let ok = !env.trim().is_empty()
                && env.len() <= 255
                && !env
                    .chars()
                    .any(|c| c == ':' || c == '*' || c == '?' || c.is_control());
            if !ok {
                bail!(
                    "`{env}` is not a usable environment name: give the exact name from the \
                     repository's Settings → Environments (1 to 255 characters, no `:`, `*` or `?`)"
                );
            }
            return Ok(Subject::Environment(env.to_string()));
        }
        let branch = branch.unwrap_or("main");
        let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        if branch.starts_with("refs/") {
            bail!(
                "`{branch}` is not a branch: the trust policy matches the runs of one branch \
                 (e.g. main, or refs/heads/main) or one environment (--environment)"
            );
        }
        // git check-ref-format's rules; `*` and `?` would also read as wildcards.
        let ok = !branch.is_empty()
            && !branch.contains("..")
            && !branch.starts_with('/')
            && !branch.ends_with('/')
            && !branch.ends_with(".lock")
            && !branch
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
        if !ok {
            bail!(
                "`{branch}` is not a branch name the trust policy can match exactly: give one \
                 branch (e.g. main), without wildcards"
            );
        }
        Ok(Subject::Branch(branch.to_string()))
    }

    /// The token's `sub` claim for this repository.
    pub fn claim(&self, repo: &Repo) -> String {
        match self {
            Subject::Branch(branch) => format!("repo:{}:ref:refs/heads/{branch}", repo.as_str()),
            Subject::Environment(env) => format!("repo:{}:environment:{env}", repo.as_str()),
        }
    }
}

/// Who may assume the role: exactly one repository's tokens for one branch or environment.
pub fn trust_policy(function: &FunctionArn, repo: &Repo, subject: &Subject) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsOidc",
            "Effect": "Allow",
            "Principal": { "Federated": function.oidc_provider_arn() },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{OIDC_PROVIDER}:aud"): AUDIENCE,
                    format!("{OIDC_PROVIDER}:sub"): subject.claim(repo),
                }
            }
        }]
    })
}

/// What the role may do: deploy to these functions, their versions and their aliases, and
/// nothing else. (One function keeps the statement id it has always had.)
pub fn permissions_policy(functions: &[FunctionArn]) -> Value {
    let resources: Vec<String> = functions
        .iter()
        .flat_map(|f| [f.arn(), format!("{}:*", f.arn())])
        .collect();
    // `deploy` with `api` declared reads the function's API to check it: reads only, of the
    // HTTP APIs in the functions' regions (an API's id is not known before it exists).
    let mut apis: Vec<String> = functions
        .iter()
        .flat_map(|f| api_resources(&f.partition, &f.region))
        .collect();
    apis.sort();
    apis.dedup();
    let api_reads: Vec<&str> = ApiCall::ALL
        .iter()
        .filter(|c| c.reads())
        .map(|c| c.iam_action())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": if functions.len() == 1 { "DeployOneFunction" } else { "DeployTheFunctions" },
            "Effect": "Allow",
            "Action": deploy_actions(),
            "Resource": resources,
        }, {
            "Sid": "ReadTheirHttpApis",
            "Effect": "Allow",
            "Action": api_reads,
            "Resource": apis,
        }]
    })
}

/// The functions of one deploy role: at least one, all in one account and partition (the
/// trust policy names that account's OIDC provider).
pub fn one_account(functions: &[FunctionArn]) -> Result<&FunctionArn> {
    let first = functions.first().context("no function given")?;
    if let Some(other) = functions
        .iter()
        .find(|f| (&f.partition, &f.account) != (&first.partition, &first.account))
    {
        bail!(
            "{} and {} are in different accounts: one deploy role serves one account's \
             functions",
            first.arn(),
            other.arn()
        );
    }
    Ok(first)
}

/// The command's stdout: both policies, as one JSON object or as two labelled documents.
pub fn render(
    functions: &[FunctionArn],
    repo: &Repo,
    subject: &Subject,
    as_json: bool,
) -> Result<String> {
    let trust = trust_policy(one_account(functions)?, repo, subject);
    let permissions = permissions_policy(functions);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("a JSON value serializes");
    if as_json {
        return Ok(pretty(&json!({
            "subject": subject.claim(repo),
            "trust_policy": trust,
            "permissions_policy": permissions,
        })) + "\n");
    }
    Ok(format!(
        "# Trust policy: lets {} assume the role\n{}\n\n# Permissions policy: deploy {} only\n{}\n",
        subject.claim(repo),
        pretty(&trust),
        functions
            .iter()
            .map(FunctionArn::arn)
            .collect::<Vec<_>>()
            .join(", "),
        pretty(&permissions)
    ))
}

pub fn run(args: Args) -> Result<()> {
    let functions = args
        .function_arn
        .iter()
        .map(|arn| FunctionArn::parse(arn).context("--function-arn"))
        .collect::<Result<Vec<_>>>()?;
    let repo = Repo::parse(&args.repo).context("--repo")?;
    let subject = Subject::from_args(args.branch.as_deref(), args.environment.as_deref()).context(
        if args.environment.is_some() {
            "--environment"
        } else {
            "--branch"
        },
    )?;
    print!("{}", render(&functions, &repo, &subject, args.json)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn() -> FunctionArn {
        FunctionArn::parse(ARN_EXAMPLE).unwrap()
    }

    fn repo() -> Repo {
        Repo::parse("octo-org/echo-lambda").unwrap()
    }

    fn err(result: Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", result.unwrap_err())
    }

    #[test]
    fn parses_function_arns_in_every_partition() {
        assert_eq!(
            arn(),
            FunctionArn {
                partition: "aws".into(),
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                name: "echo".into(),
            }
        );
        for ok in [
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my_fn-2",
            "arn:aws:lambda:ap-southeast-4:000000000000:function:x",
        ] {
            assert_eq!(FunctionArn::parse(ok).unwrap().arn(), ok);
        }
    }

    #[test]
    fn rejects_malformed_function_arns_with_the_fix() {
        let cases = [
            ("echo", "seven"),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:echo:prod",
                "unqualified",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:echo:$LATEST",
                "`:$LATEST`",
            ),
            ("arn:aws:s3:eu-west-1:123456789012:function:echo", "`s3`"),
            (
                "arn:azure:lambda:eu-west-1:123456789012:function:echo",
                "partition",
            ),
            (
                "arn:aws:lambda:euwest1:123456789012:function:echo",
                "region",
            ),
            (
                "arn:aws:lambda:EU-WEST-1:123456789012:function:echo",
                "region",
            ),
            (
                "arn:aws:lambda:cn-north-1:123456789012:function:echo",
                "aws-cn",
            ),
            (
                "arn:aws-us-gov:lambda:us-east-1:123456789012:function:echo",
                "`aws` partition",
            ),
            ("arn:aws:lambda:eu-west-1:1234:function:echo", "12 digits"),
            (
                "arn:aws:lambda:eu-west-1:12345678901a:function:echo",
                "12 digits",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:echo",
                "`layer`",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:*",
                "function name",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:",
                "function name",
            ),
        ];
        for (input, why) in cases {
            let message = err(FunctionArn::parse(input));
            assert!(message.contains(why), "{input}: {message}");
            assert!(message.contains(input), "{input}: {message}");
        }
        // Every shape error says what a right one looks like.
        assert!(err(FunctionArn::parse("echo")).contains(ARN_EXAMPLE));
    }

    /// `iam-policy` and `deploy --function-name` read function ARNs with the same rules: every
    /// partition with a region of its own is taken, with another partition's region refused.
    #[test]
    fn both_arn_parsers_agree_on_every_partition() {
        use crate::lambda::names::{parse_function, PARTITIONS};
        let regions = [
            ("aws", "eu-west-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
        ];
        assert_eq!(
            regions.map(|(p, _)| p),
            PARTITIONS,
            "a region for every partition"
        );
        for (partition, _) in regions {
            for (home, region) in regions {
                let arn = format!("arn:{partition}:lambda:{region}:123456789012:function:echo");
                let accepted = partition == home;
                assert_eq!(FunctionArn::parse(&arn).is_ok(), accepted, "{arn}");
                assert_eq!(parse_function(&arn).is_ok(), accepted, "{arn}");
            }
        }
        for arn in [
            "arn:aws-iso-e:lambda:eu-isoe-west-1:123456789012:function:echo",
            "arn:aws:lambda:local:123456789012:function:echo",
            "arn:aws:lambda::123456789012:function:echo",
        ] {
            assert!(FunctionArn::parse(arn).is_err(), "{arn}");
            assert!(parse_function(arn).is_err(), "{arn}");
        }
    }

    #[test]
    fn validates_repositories() {
        for ok in ["octo-org/echo-lambda", "a/b", "Octo/repo.name_2"] {
            assert_eq!(Repo::parse(ok).unwrap().as_str(), ok);
        }
        let cases = [
            ("echo-lambda", "no `/`"),
            ("https://github.com/octo/echo", "URL"),
            ("octo/echo.git", "octo/echo)"),
            ("-octo/echo", "owner"),
            ("octo_org/echo", "owner"),
            ("octo/echo/extra", "repository name"),
            ("octo/", "repository name"),
            ("octo/..", "repository name"),
            ("octo/my repo", "repository name"),
        ];
        for (input, why) in cases {
            let message = err(Repo::parse(input));
            assert!(message.contains(why), "{input}: {message}");
            assert!(message.contains("OWNER/REPO"), "{input}: {message}");
        }
    }

    #[test]
    fn subjects_name_the_branch_or_the_environment() {
        let repo = repo();
        let claim =
            |b: Option<&str>, e: Option<&str>| Subject::from_args(b, e).unwrap().claim(&repo);
        assert_eq!(
            claim(None, None),
            "repo:octo-org/echo-lambda:ref:refs/heads/main"
        );
        assert_eq!(
            claim(Some("release/v2"), None),
            "repo:octo-org/echo-lambda:ref:refs/heads/release/v2"
        );
        assert_eq!(
            claim(Some("refs/heads/main"), None),
            "repo:octo-org/echo-lambda:ref:refs/heads/main"
        );
        assert_eq!(
            claim(None, Some("production")),
            "repo:octo-org/echo-lambda:environment:production"
        );
        for bad in [
            "",
            "feature/*",
            "a..b",
            "has space",
            "x:y",
            "refs/tags/v1",
            "refs/pull/1/merge",
        ] {
            assert!(
                err(Subject::from_args(Some(bad), None)).contains("branch"),
                "{bad}"
            );
        }
        for bad in ["", "prod*", "a:b"] {
            assert!(
                err(Subject::from_args(None, Some(bad))).contains("Environments"),
                "{bad}"
            );
        }
    }

    #[test]
    fn trust_policy_admits_one_repository_subject_through_github_oidc() {
        let subject = Subject::Environment("production".into());
        let policy = trust_policy(&arn(), &repo(), &subject);
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            s["Principal"],
            json!({"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"})
        );
        // Exact matches only: no StringLike, so no wildcard can widen who is trusted.
        assert_eq!(
            s["Condition"],
            json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:octo-org/echo-lambda:environment:production",
            }})
        );
        let cn =
            FunctionArn::parse("arn:aws-cn:lambda:cn-north-1:123456789012:function:f").unwrap();
        assert_eq!(
            trust_policy(&cn, &repo(), &subject)["Statement"][0]["Principal"]["Federated"],
            "arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
        );
    }

    #[test]
    fn permissions_policy_reaches_one_function_and_its_qualifiers() {
        let policy = permissions_policy(&[arn()]);
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statements[1],
            json!({
                "Sid": "ReadTheirHttpApis",
                "Effect": "Allow",
                "Action": ["apigateway:GET"],
                "Resource": [
                    "arn:aws:apigateway:eu-west-1::/apis",
                    "arn:aws:apigateway:eu-west-1::/apis/*"
                ]
            })
        );
        let s = &statements[0];
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(
            s["Action"],
            json!([
                "lambda:GetFunction",
                "lambda:UpdateFunctionCode",
                "lambda:PublishVersion",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "lambda:CreateAlias",
                "lambda:InvokeFunction",
                "lambda:UpdateFunctionConfiguration",
                "lambda:GetFunctionUrlConfig",
                "lambda:GetPolicy"
            ])
        );
        assert_eq!(
            s["Resource"],
            json!([
                "arn:aws:lambda:eu-west-1:123456789012:function:echo",
                "arn:aws:lambda:eu-west-1:123456789012:function:echo:*"
            ])
        );
        assert!(s.get("Condition").is_none() && s.get("NotAction").is_none());
    }

    #[test]
    fn several_functions_of_one_account_share_the_role() {
        let other =
            FunctionArn::parse("arn:aws:lambda:eu-west-1:123456789012:function:orders").unwrap();
        let policy = permissions_policy(&[arn(), other.clone()]);
        assert_eq!(
            policy["Statement"][0]["Resource"],
            json!([
                "arn:aws:lambda:eu-west-1:123456789012:function:echo",
                "arn:aws:lambda:eu-west-1:123456789012:function:echo:*",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders:*"
            ])
        );
        let elsewhere =
            FunctionArn::parse("arn:aws:lambda:eu-west-1:210987654321:function:orders").unwrap();
        let err = one_account(&[arn(), elsewhere]).unwrap_err().to_string();
        assert!(err.contains("different accounts"), "{err}");
        assert_eq!(one_account(&[arn(), other]).unwrap(), &arn());
    }

    #[test]
    fn renders_both_policies_as_json_or_as_labelled_documents() {
        let subject = Subject::Branch("main".into());
        let out: Value =
            serde_json::from_str(&render(&[arn()], &repo(), &subject, true).unwrap()).unwrap();
        assert_eq!(
            out["subject"],
            "repo:octo-org/echo-lambda:ref:refs/heads/main"
        );
        assert_eq!(out["trust_policy"], trust_policy(&arn(), &repo(), &subject));
        assert_eq!(out["permissions_policy"], permissions_policy(&[arn()]));

        let human = render(&[arn()], &repo(), &subject, false).unwrap();
        let docs: Vec<&str> = human.split("\n\n").collect();
        assert_eq!(docs.len(), 2, "{human}");
        for (doc, expected) in docs.iter().zip([
            trust_policy(&arn(), &repo(), &subject),
            permissions_policy(&[arn()]),
        ]) {
            let (heading, body) = doc.split_once('\n').unwrap();
            assert!(heading.starts_with("# "), "{heading}");
            assert_eq!(serde_json::from_str::<Value>(body).unwrap(), expected);
        }
    }

    #[test]
    fn branch_and_environment_exclude_each_other() {
        use clap::Parser;
        let parse = |extra: &[&str]| {
            let mut argv = vec![
                "cargo xtask",
                "iam-policy",
                "--function-arn",
                ARN_EXAMPLE,
                "--repo",
                "octo-org/echo-lambda",
            ];
            argv.extend_from_slice(extra);
            crate::cli::Cli::try_parse_from(argv)
        };
        assert!(parse(&[]).is_ok());
        assert!(parse(&["--branch", "main", "--json"]).is_ok());
        assert!(parse(&["--environment", "production"]).is_ok());
        let err = parse(&["--branch", "main", "--environment", "production"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn the_readme_shows_the_trust_policy_this_prints() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        let after = readme
            .split_once("The trust policy admits one exact token subject and audience:")
            .expect("the README shows the trust policy")
            .1;
        let block = after
            .split_once("```json")
            .unwrap()
            .1
            .split_once("```")
            .unwrap()
            .0;
        let shown: Value = serde_json::from_str(block).expect("the README's policy is JSON");
        let printed = trust_policy(
            &FunctionArn::parse("arn:aws:lambda:eu-west-1:123456789012:function:echo").unwrap(),
            &Repo::parse("OWNER/REPO").unwrap(),
            &Subject::from_args(None, Some("production")).unwrap(),
        );
        assert_eq!(shown, printed);
    }
}
