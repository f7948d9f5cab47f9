//! `cargo xtask setup-ci`'s edges: the inputs, the SDK's configuration and credentials (as
//! deploy loads them), who the credentials are, the reads, the writes the plan asks for (none
//! with `--dry-run`), and the output.

use crate::sdk::runtime;
use anyhow::{Context, Result};
use xtask::iam_policy::{permissions_policy, trust_policy, FunctionArn, AUDIENCE};
use xtask::setup_ci::{Args, Inputs};
use xtask::util::status::status;

use super::plan::{self, Desired, DocumentStep, Observed, ProviderStep};
use super::report::{Outcome, Report, Step};
use super::variables::variables;
use crate::iam::Iam;
use crate::sdk::{self, check_connection, Session};

const ROLE_DESCRIPTION: &str =
    "Assumed by GitHub Actions to deploy the Lambda function; made by `cargo xtask setup-ci`";

pub fn run(args: Args) -> Result<()> {
    let inputs = args.inputs()?;
    check_connection(&args.aws)?;
    let runtime = runtime::current_thread("the AWS SDK")?;
    let report = runtime.block_on(setup(&args, &inputs))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    Ok(())
}

async fn setup(args: &Args, inputs: &Inputs) -> Result<Report> {
    let profile = args.aws.profile.as_deref();
    let sdk = sdk::configure(
        args.aws.region.as_deref(),
        profile,
        args.aws.endpoint_url.as_deref(),
    )
    .await?;
    let session = Session::open(sdk, profile).await?;
    let iam = Iam::new(&session, plan::when_denied());

    let caller = iam.caller().await?;
    let functions = inputs
        .function_names
        .iter()
        .map(|name| {
            FunctionArn::parse(&format!(
                "arn:{}:lambda:{}:{}:function:{name}",
                caller.partition, session.sdk.region, caller.account
            ))
            .context(
                "the function's ARN, from the credentials' account and partition and the region",
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let function = &functions[0];
    let arns = functions
        .iter()
        .map(FunctionArn::arn)
        .collect::<Vec<_>>()
        .join(", ");
    let subject = inputs.subject.claim(&inputs.repo);
    status(
        "Checking",
        format!(
            "IAM in account {} as {} for {}",
            caller.account, caller.arn, arns
        ),
    );
    if inputs.default_subject {
        status(
            "Note",
            format!(
                "the role will trust {subject} (the default, --branch main); the deploy job in \
                 .github/workflows/ci.yml declares `environment: production`, whose tokens are \
                 repo:{}:environment:production: pass --environment production for it",
                inputs.repo.as_str()
            ),
        );
    }
    let desired = Desired {
        trust_policy: trust_policy(function, &inputs.repo, &inputs.subject),
        permissions_policy: permissions_policy(&functions),
    };
    let observed = read(&iam, &inputs.role_name, &inputs.policy_name).await?;
    let plan = plan::plan(&observed, &desired);
    let dry_run = args.dry_run;
    let skipped = |what: String| status("Skipped", format!("{what} (--dry-run)"));

    let provider_arn = function.oidc_provider_arn();
    match &plan.provider {
        ProviderStep::Create if dry_run => skipped(format!("creating {provider_arn}")),
        ProviderStep::Create => {
            status(
                "Creating",
                format!("OIDC provider {}", plan::provider_url()),
            );
            iam.create_provider(&plan::provider_url(), AUDIENCE).await?;
        }
        ProviderStep::AddAudience { arn } if dry_run => {
            skipped(format!("adding audience {AUDIENCE} to {arn}"))
        }
        ProviderStep::AddAudience { arn } => {
            status("Adding", format!("audience {AUDIENCE} to {arn}"));
            iam.add_audience(arn, AUDIENCE).await?;
        }
        ProviderStep::Keep { .. } => {}
    }

    let role = &inputs.role_name;
    let mut role_arn = observed.role.as_ref().map(|r| r.arn.clone());
    match plan.role {
        DocumentStep::Create if dry_run => skipped(format!("creating role {role}")),
        DocumentStep::Create => {
            status("Creating", format!("role {role} (trusts {subject})"));
            let arn = iam
                .create_role(role, &desired.trust_policy, ROLE_DESCRIPTION)
                .await?;
            role_arn = Some(arn);
        }
        DocumentStep::Update if dry_run => {
            skipped(format!("replacing the trust policy of role {role}"))
        }
        DocumentStep::Update => {
            status(
                "Updating",
                format!("the trust policy of role {role} (now trusts {subject})"),
            );
            iam.update_trust(role, &desired.trust_policy).await?;
        }
        DocumentStep::Keep => {}
    }
    let role_arn = role_arn
        .filter(|arn| !arn.is_empty())
        .unwrap_or_else(|| plan::role_arn(&caller.partition, &caller.account, role));

    let policy = &inputs.policy_name;
    match plan.policy {
        DocumentStep::Keep => {}
        _ if dry_run => skipped(format!("putting policy {policy} on role {role}")),
        _ => {
            status("Putting", format!("policy {policy} on role {role}"));
            iam.put_policy(role, policy, &desired.permissions_policy)
                .await?;
        }
    }

    let actions = xtask::iam_policy::deploy_actions();
    let provider_detail = match &plan.provider {
        ProviderStep::AddAudience { .. } => format!("audience {AUDIENCE} added"),
        _ => format!("{}, audience {AUDIENCE}", plan::provider_url()),
    };
    let steps = vec![
        Step {
            item: "oidc-provider",
            name: provider_arn,
            outcome: Outcome::of_provider(&plan.provider, dry_run),
            detail: provider_detail,
        },
        Step {
            item: "role",
            name: role.clone(),
            outcome: Outcome::of(plan.role, dry_run),
            detail: format!("trusts {subject}"),
        },
        Step {
            item: "policy",
            name: policy.clone(),
            outcome: Outcome::of(plan.policy, dry_run),
            detail: format!(
                "on role {role}, allows {} on {arns} and {} versions and aliases, and \
                 apigateway:GET on the HTTP APIs of {} (to check an API declared)",
                actions.join(", "),
                if functions.len() == 1 { "its" } else { "their" },
                session.sdk.region,
            ),
        },
    ];
    Ok(Report {
        dry_run,
        variables: variables(
            inputs.repo.as_str(),
            &role_arn,
            &caller.account,
            &session.sdk.region,
            // One function's name is a variable; several are read from the workspace.
            match inputs.function_names.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            },
        ),
        caller: caller.arn,
        account: caller.account,
        region: session.sdk.region.clone(),
        repo: inputs.repo.as_str().to_string(),
        subject,
        role_arn,
        steps,
        api_calls: session
            .meter
            .calls()
            .into_iter()
            .map(|c| c.operation)
            .collect(),
    })
}

/// Everything the plan needs, read: GitHub's provider, the role, its inline policy.
async fn read(iam: &Iam, role: &str, policy: &str) -> Result<Observed> {
    let arns = iam.providers().await?;
    let provider = match plan::github_provider(arns.iter().map(String::as_str)) {
        Some(arn) => Some(iam.provider(arn).await?),
        None => None,
    };
    let role_seen = iam.role(role).await?;
    let policy_seen = match &role_seen {
        None => None,
        Some(_) => iam.role_policy(role, policy).await?,
    };
    Ok(Observed {
        provider,
        role: role_seen,
        policy: policy_seen,
    })
}
