//! `cargo xtask setup-ci`: what CI's deploy job needs in an AWS account, made once and
//! idempotently: GitHub's OIDC provider, the deploy role trusting one repository's tokens, and
//! its permissions policy (both policies are `iam-policy`'s).
//!
//! It talks to IAM, so it runs in `xtask-aws` (`xtask/aws/src/setup_ci/`), handed over as
//! `deploy` is. Here are its flags, so `--help` needs no AWS SDK, and the checks of its inputs,
//! which both sides run: a typo fails before the first use compiles the SDK.

use std::convert::Infallible;

use anyhow::{bail, Context, Result};

use crate::iam_policy::{Repo, Subject};
use crate::lambda::names::{
    check_endpoint_url, check_region, deploy_role_name, parse_function, MAX_ROLE_NAME_LEN,
};
use crate::workspace::{functions, FunctionCrate};

#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Make the AWS side of CI's deploy once: GitHub's OIDC provider, the deploy role and \
             its policy; print the repository variables to set",
    after_help = "\
Run it once, with an identity allowed to manage IAM (an administrator): CI's own role can only \
deploy, to exactly the workspace's functions (and their versions and aliases). Every step is \
read first and written only when it differs, so a rerun writes nothing, and a rerun after \
`cargo xtask new` updates the role's policy only; --dry-run only reads, and prints what it \
would write.

The deploy job in .github/workflows/ci.yml declares `environment: production`, so GitHub names \
its tokens repo:OWNER/REPO:environment:production: pass --environment production for it. \
Without --environment, the role trusts runs on one branch (--branch, default main) of jobs \
that declare no environment.

Example:
  cargo xtask setup-ci --repo octo-org/echo-lambda --function-name echo \\
      --environment production --region eu-west-1
  # then set the four repository variables it prints, e.g. with the `gh variable set` lines"
)]
pub struct Args {
    /// The GitHub repository whose workflow deploys, as OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo: String,
    /// The one function CI deploys to (a name). Default: $LAMBDA_FUNCTION_NAME, then every
    /// function of the workspace (each one's `function-name`, else its package's name).
    #[arg(long, env = "LAMBDA_FUNCTION_NAME", value_name = "NAME")]
    pub function_name: Option<String>,
    /// Trust jobs that run in this GitHub environment (ci.yml's deploy job: production).
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Trust jobs without an environment in runs for this branch [default: main].
    #[arg(long, value_name = "NAME", conflicts_with = "environment")]
    pub branch: Option<String>,
    /// The deploy role to create or update [default: the (first) function's name followed by
    /// `-deploy`]. Its inline policy is named `deploy-FUNCTION` after the same function.
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// The region (the function's), profile and endpoint, as for deploy.
    #[command(flatten)]
    pub aws: crate::deploy::AwsArgs,
    /// Only read: print what would be created or changed, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object: {"steps", "variables", ...}.
    #[arg(long)]
    pub json: bool,
}

/// The inputs, checked: what the policies and the names are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub repo: Repo,
    pub subject: Subject,
    /// Whether the subject is the default (neither --environment nor --branch given).
    pub default_subject: bool,
    /// The functions CI deploys (names), the role's and policy's names taken from the first.
    pub function_names: Vec<String>,
    pub role_name: String,
    pub policy_name: String,
}

/// The name of the deploy role's inline permissions policy.
pub fn policy_name(function: &str) -> String {
    format!("deploy-{function}")
}

/// An IAM role name: 1 to 64 letters, digits and `+=,.@_-`.
pub fn check_role_name(name: &str, given: bool) -> Result<()> {
    let fix = if given {
        format!("give --role-name as 1 to {MAX_ROLE_NAME_LEN} letters, digits or `+=,.@_-`")
    } else {
        format!("pass --role-name NAME (1 to {MAX_ROLE_NAME_LEN} letters, digits or `+=,.@_-`)")
    };
    if name.is_empty() || name.len() > MAX_ROLE_NAME_LEN {
        bail!(
            "the role name {name:?} is {} characters long, IAM takes 1 to {MAX_ROLE_NAME_LEN}; \
             {fix}",
            name.len()
        );
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        bail!("the role name {name:?} has characters IAM refuses; {fix}");
    }
    Ok(())
}

impl Args {
    /// Checks every input that needs no request; reads the workspace's functions only when no
    /// function name is given.
    pub fn inputs(&self) -> Result<Inputs> {
        let repo = Repo::parse(&self.repo).context("--repo")?;
        let subject = Subject::from_args(self.branch.as_deref(), self.environment.as_deref())
            .context(if self.environment.is_some() {
                "--environment"
            } else {
                "--branch"
            })?;
        let function_names = match self
            .function_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
        {
            Some(name) => {
                let function = parse_function(name)?;
                if function.account.is_some() {
                    bail!(
                        "--function-name {name:?}: give the function's name ({}); setup-ci \
                         takes the account from the credentials and the region from --region",
                        function.name
                    );
                }
                vec![name.to_string()]
            }
            // Every function of the workspace, in its order: `cargo xtask new` appends, so the
            // first (which names the role) stays.
            None => functions::select(functions::discover()?, &[])?
                .iter()
                .map(FunctionCrate::lambda_name)
                .collect(),
        };
        let first = &function_names[0];
        let role_name = match &self.role_name {
            Some(name) => name.clone(),
            None => deploy_role_name(first),
        };
        check_role_name(&role_name, self.role_name.is_some())?;
        if let Some(region) = &self.aws.region {
            check_region(region)?;
        }
        if let Some(url) = &self.aws.endpoint_url {
            check_endpoint_url(url)?;
        }
        Ok(Inputs {
            repo,
            subject,
            default_subject: self.environment.is_none() && self.branch.is_none(),
            policy_name: policy_name(first),
            function_names,
            role_name,
        })
    }
}

/// Runs setup-ci in `xtask-aws`, with the command line exactly as given; returns only on error.
pub fn run(args: Args) -> Result<Infallible> {
    // Mistakes fail here, before a first use compiles the SDK; xtask-aws checks them again.
    args.inputs()?;
    crate::xtask_aws::exec(&[crate::xtask_aws::Needs::Iam])
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        let mut argv = vec!["cargo xtask", "setup-ci", "--repo", "octo-org/echo-lambda"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv)?.command {
            Command::SetupCi(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn names_default_from_the_function() {
        let inputs = parse(&["--function-name", "echo"])
            .unwrap()
            .inputs()
            .unwrap();
        assert_eq!(inputs.role_name, "echo-deploy");
        assert_eq!(inputs.policy_name, "deploy-echo");
        assert_eq!(inputs.subject, Subject::Branch("main".into()));
        assert!(inputs.default_subject);
        let inputs = parse(&[
            "--function-name",
            "echo",
            "--role-name",
            "ci@deploy",
            "--environment",
            "production",
        ])
        .unwrap()
        .inputs()
        .unwrap();
        assert_eq!(inputs.role_name, "ci@deploy");
        assert_eq!(inputs.subject, Subject::Environment("production".into()));
        assert!(!inputs.default_subject);
    }

    #[test]
    fn branch_and_environment_exclude_each_other() {
        let err = parse(&["--branch", "main", "--environment", "production"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(parse(&["--branch", "release", "--dry-run", "--json"]).is_ok());
    }

    #[test]
    fn bad_inputs_name_the_flag_and_the_fix() {
        let err = |extra: &[&str]| format!("{:#}", parse(extra).unwrap().inputs().unwrap_err());
        assert!(err(&["--function-name", "echo:live"]).contains("version or alias"));
        let arn = err(&[
            "--function-name",
            "arn:aws:lambda:eu-west-1:123456789012:function:echo",
        ]);
        assert!(arn.contains("give the function's name (echo)"), "{arn}");
        let long = err(&["--function-name", &"f".repeat(60)]);
        assert!(long.contains("pass --role-name NAME"), "{long}");
        // The default deploy role name is refused, not cut, from one character over IAM's 64.
        let at_limit = parse(&["--function-name", &"f".repeat(57)])
            .unwrap()
            .inputs()
            .unwrap();
        assert_eq!(at_limit.role_name.len(), 64);
        let over = err(&["--function-name", &"f".repeat(58)]);
        assert!(
            over.contains("is 65 characters long, IAM takes 1 to 64; pass --role-name NAME"),
            "{over}"
        );
        assert!(err(&["--function-name", "echo", "--role-name", "a b"]).contains("IAM refuses"));
        assert!(err(&["--function-name", "echo", "--region", "EU"]).contains("region"));
        assert!(err(&["--function-name", "echo", "--branch", "a*"]).contains("--branch"));
        let mut argv = vec!["cargo xtask", "setup-ci", "--repo", "octo/echo.git"];
        argv.extend(["--function-name", "echo"]);
        let Command::SetupCi(args) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!()
        };
        assert!(format!("{:#}", args.inputs().unwrap_err()).starts_with("--repo"));
    }
}
