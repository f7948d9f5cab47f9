//! `deploy --create` without `--role`: the execution role, created or reused (when it exists
//! and trusts Lambda), with the AWS managed policy that lets the function write its logs.
//! (CreateFunction waits for a new role to reach Lambda in `wait`.)

use anyhow::{bail, Result};
use serde::Serialize;
use xtask::deploy::Args;
#[cfg(feature = "iam")]
use xtask::lambda::names::execution_role_name;
#[cfg(feature = "iam")]
use xtask::util::status::status;

#[cfg(feature = "iam")]
use crate::iam::Iam;
use crate::model::failure::ApiFailure;
use crate::model::policy::{one_or_many, parse_policy};
use crate::sdk::Session;

pub const LAMBDA_SERVICE: &str = "lambda.amazonaws.com";
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// The IAM actions creating or reusing the role needs (iam:PassRole for CreateFunction).
pub const ROLE_ACTIONS: &[&str] = &[
    "iam:GetRole",
    "iam:CreateRole",
    "iam:ListAttachedRolePolicies",
    "iam:AttachRolePolicy",
    "iam:PassRole",
];

/// What to do when an IAM call of `--create`'s role is denied.
pub fn when_denied() -> String {
    format!(
        "creating the execution role is a one-time action for an identity allowed {}, or \
         create the role yourself and pass --role ARN",
        ROLE_ACTIONS.join(", ")
    )
}

/// What happened to the execution role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleReport {
    pub name: String,
    pub arn: String,
    /// `created`, `reused`, or `given` (--role).
    pub outcome: String,
    /// Whether AWSLambdaBasicExecutionRole was attached by this run.
    pub attached_policy: bool,
}

/// The trust policy: Lambda may assume the role.
pub fn trust_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA_SERVICE},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// Does this trust policy (JSON, or URL-encoded JSON as IAM returns it) let Lambda assume the role?
pub fn trusts_lambda(document: &str) -> bool {
    let Some(policy) = parse_policy(document) else {
        return false;
    };
    one_or_many(&policy["Statement"]).iter().any(|s| {
        s["Effect"] == "Allow"
            && one_or_many(&s["Action"])
                .iter()
                .any(|a| a.as_str() == Some("sts:AssumeRole"))
            && one_or_many(&s["Principal"]["Service"])
                .iter()
                .any(|p| p.as_str() == Some(LAMBDA_SERVICE))
    })
}

/// CreateFunction's answer while a new role has not reached Lambda yet.
pub fn role_not_yet_assumable(failure: &ApiFailure) -> bool {
    matches!(failure, ApiFailure::Other(m)
        if m.starts_with("InvalidParameterValueException") && m.contains("cannot be assumed"))
}

/// What a build without the feature `iam` says to a command that needs IAM.
pub const WITHOUT_IAM: &str = "this xtask-aws was built without IAM (its package feature \
`iam`), which `setup-ci` and `deploy --create` without `--role` call: run the command through \
`cargo xtask`, which builds what it needs, or build it with `cargo build --package xtask-aws \
--features iam`; `deploy --create --role ARN` needs no IAM";

/// `--role`, else the role `--create` creates or reuses (`--role-name`, else the function's
/// name with `-role`), reported. The ARN is empty when a dry run would create it.
pub async fn execution_role(
    session: &Session,
    function: &str,
    args: &Args,
) -> Result<(String, Option<RoleReport>)> {
    if let Some(arn) = &args.role {
        return Ok((arn.clone(), None));
    }
    #[cfg(not(feature = "iam"))]
    {
        let _ = (session, function);
        bail!(WITHOUT_IAM)
    }
    #[cfg(feature = "iam")]
    {
        let iam = Iam::new(session, when_denied());
        let name = args
            .one_time
            .role_name
            .clone()
            .unwrap_or_else(|| execution_role_name(function));
        let role = ensure_role(&iam, &name, args.dry_run).await?;
        Ok((role.arn.clone(), Some(role)))
    }
}

/// Creates the role `name`, or reuses it when it exists and trusts Lambda; makes sure the
/// basic execution policy is attached.
#[cfg(feature = "iam")]
pub async fn ensure_role(iam: &Iam, name: &str, dry_run: bool) -> Result<RoleReport> {
    let (arn, outcome) = match iam.role(name).await? {
        Some(role) => {
            if !trusts_lambda(&role.trust_policy) {
                bail!(
                    "role {name} exists but does not let {LAMBDA_SERVICE} assume it; pass \
                     --role-name OTHER to create another, or --role ARN of a role that does"
                );
            }
            status("Reusing", format!("execution role {name}"));
            (role.arn, "reused")
        }
        None if dry_run => {
            status(
                "Skipped",
                format!("creating execution role {name} (--dry-run)"),
            );
            return Ok(RoleReport {
                name: name.to_string(),
                arn: String::new(),
                outcome: "would-create".into(),
                attached_policy: false,
            });
        }
        None => {
            status(
                "Creating",
                format!("execution role {name} (trusts {LAMBDA_SERVICE})"),
            );
            let arn = iam
                .create_role(
                    name,
                    &trust_policy(),
                    "Execution role of the Lambda function, made by `cargo xtask deploy --create`",
                )
                .await?;
            (arn, "created")
        }
    };
    let attached = iam
        .attached_policies(name)
        .await?
        .iter()
        .any(|p| p == BASIC_EXECUTION_POLICY);
    let attach = !attached && !dry_run;
    if attach {
        status(
            "Attaching",
            format!("AWSLambdaBasicExecutionRole to {name}"),
        );
        iam.attach_policy(name, BASIC_EXECUTION_POLICY).await?;
    }
    Ok(RoleReport {
        name: name.to_string(),
        arn,
        outcome: outcome.into(),
        attached_policy: attach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies() {
        assert!(trusts_lambda(&trust_policy().to_string()));
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22lambda.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(trusts_lambda(encoded));
        let ec2 = trust_policy()
            .to_string()
            .replace("lambda.amazonaws.com", "ec2.amazonaws.com");
        assert!(!trusts_lambda(&ec2));
        let deny = trust_policy().to_string().replace("Allow", "Deny");
        assert!(!trusts_lambda(&deny));
        assert!(!trusts_lambda("not json"));
    }

    #[test]
    fn failures() {
        let m = crate::model::failure::explain(
            &ApiFailure::AccessDenied(
                "User: u is not authorized to perform: iam:CreateRole".into(),
            ),
            &crate::model::failure::Call {
                service: "IAM",
                action: "iam:CreateRole",
                resource: "role echo-role",
                endpoint: None,
                when_denied: &when_denied(),
                when_missing: None,
            },
        );
        assert!(
            m.contains("may not call iam:CreateRole on role echo-role"),
            "{m}"
        );
        assert!(m.contains("not authorized to perform"), "{m}");
        assert!(
            m.contains("--role ARN") && m.contains("iam:PassRole"),
            "{m}"
        );
        assert!(role_not_yet_assumable(&ApiFailure::Other(
            "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.".into()
        )));
        assert!(!role_not_yet_assumable(&ApiFailure::Other(
            "InvalidParameterValueException: bad memory".into()
        )));
    }
}
