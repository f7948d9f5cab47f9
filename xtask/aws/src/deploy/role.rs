//! `deploy --create` without `--role`: the execution role, created or reused (when it exists
//! and trusts Lambda), with the AWS managed policy that lets the function write its logs; and
//! CreateFunction retried while IAM has not yet propagated a new role to Lambda.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;
use serde_json::Value;
use xtask::lambda::settings::Declared;
use xtask::lambda::Arch;
use xtask::util::status::status;
use xtask::verify::CheckedZip;

use super::aws::raw_failure;
use super::errors::{classify, ApiFailure, RawFailure};
use super::lambda_api::{remote_from, Lambda};
use super::plan::{backoff, Remote};
use xtask::deploy::Operation;

pub const LAMBDA_SERVICE: &str = "lambda.amazonaws.com";
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
/// How long to retry CreateFunction while a new role is not yet assumable (IAM takes seconds).
pub const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(90);

/// The IAM actions creating or reusing the role needs (iam:PassRole for CreateFunction).
pub const ROLE_ACTIONS: &[&str] = &[
    "iam:GetRole",
    "iam:CreateRole",
    "iam:ListAttachedRolePolicies",
    "iam:AttachRolePolicy",
    "iam:PassRole",
];

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
pub fn trust_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA_SERVICE},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// `%7B%22` -> `{"` (IAM returns policy documents URL-encoded).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// A policy document as IAM returns it (URL-encoded JSON), or as plain JSON.
pub fn parse_policy(document: &str) -> Option<Value> {
    serde_json::from_str(document)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(document)).ok())
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

/// An IAM call's failure as a sentence, naming the action and how to get past it.
pub fn explain_iam(failure: &ApiFailure, action: &str, role: &str) -> String {
    match failure {
        ApiFailure::AccessDenied(m) => format!(
            "access denied: the credentials in use may not call {action} on role {role} ({m}); \
             creating the execution role is a one-time action for an identity allowed {}, or \
             create the role yourself and pass --role ARN",
            ROLE_ACTIONS.join(", ")
        ),
        ApiFailure::Other(m) => format!("{action} on role {role} failed: {m}"),
        other => format!("{action} on role {role} failed: {other:?}"),
    }
}

/// CreateFunction's answer while a new role has not reached Lambda yet.
pub fn role_not_yet_assumable(failure: &ApiFailure) -> bool {
    matches!(failure, ApiFailure::Other(m)
        if m.starts_with("InvalidParameterValueException") && m.contains("cannot be assumed"))
}

fn iam_failure<E>(err: &SdkError<E>) -> (RawFailure, ApiFailure)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let raw = raw_failure(err);
    let failure = classify(&raw);
    (raw, failure)
}

/// Creates the role `name`, or reuses it when it exists and trusts Lambda; makes sure the
/// basic execution policy is attached.
pub async fn ensure_role(lambda: &Lambda<'_>, name: &str, dry_run: bool) -> Result<RoleReport> {
    let iam = &lambda.iam;
    let fail = |action: &str, failure: &ApiFailure| anyhow!(explain_iam(failure, action, name));
    let existing = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role().cloned(),
        Err(err) => match iam_failure(&err) {
            (raw, _) if raw.code.as_deref() == Some("NoSuchEntity") => None,
            (_, failure) => return Err(fail("iam:GetRole", &failure)),
        },
    };
    let (arn, outcome) = match existing {
        Some(role) => {
            if !trusts_lambda(role.assume_role_policy_document().unwrap_or_default()) {
                bail!(
                    "role {name} exists but does not let {LAMBDA_SERVICE} assume it; pass \
                     --role-name OTHER to create another, or --role ARN of a role that does"
                );
            }
            status("Reusing", format!("execution role {name}"));
            (role.arn().to_string(), "reused")
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
            let out = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust_policy())
                .description(
                    "Execution role of the Lambda function, made by `cargo xtask deploy --create`",
                )
                .send()
                .await
                .map_err(|e| fail("iam:CreateRole", &iam_failure(&e).1))?;
            let arn = out.role().map(|r| r.arn().to_string()).unwrap_or_default();
            (arn, "created")
        }
    };
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| fail("iam:ListAttachedRolePolicies", &iam_failure(&e).1))?
        .attached_policies()
        .iter()
        .any(|p| p.policy_arn() == Some(BASIC_EXECUTION_POLICY));
    let attach = !attached && !dry_run;
    if attach {
        status(
            "Attaching",
            format!("AWSLambdaBasicExecutionRole to {name}"),
        );
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(BASIC_EXECUTION_POLICY)
            .send()
            .await
            .map_err(|e| fail("iam:AttachRolePolicy", &iam_failure(&e).1))?;
    }
    Ok(RoleReport {
        name: name.to_string(),
        arn,
        outcome: outcome.into(),
        attached_policy: attach,
    })
}

/// CreateFunction with the declared settings, retried (bounded, with progress) while Lambda
/// says the role cannot be assumed yet.
pub async fn create_function(
    lambda: &Lambda<'_>,
    zip: &CheckedZip,
    arch: Arch,
    role: &str,
    declared: &Declared,
) -> Result<Remote> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let request = super::lambda_api::create_function(
            &lambda.client,
            lambda.function,
            arch,
            role,
            zip.bytes.clone(),
        );
        let result = super::configuration::on_create(request, declared)?
            .send()
            .await;
        match result {
            Ok(out) => return Ok(remote_from!(lambda.function, &out)),
            Err(err) => match lambda.fail(Operation::CreateFunction, err) {
                (failure, error) if role_not_yet_assumable(&failure) => {
                    let wait = backoff(attempt);
                    if started.elapsed() + wait > ROLE_PROPAGATION_BUDGET {
                        return Err(error.context(format!(
                            "Lambda still could not assume role {role} after {} s; check its \
                             trust policy allows {LAMBDA_SERVICE}",
                            ROLE_PROPAGATION_BUDGET.as_secs()
                        )));
                    }
                    attempt += 1;
                    status(
                        "Waiting",
                        format!(
                            "for IAM to propagate role {role} to Lambda; retrying CreateFunction \
                             in {:.1} s (attempt {})",
                            wait.as_secs_f64(),
                            attempt + 1
                        ),
                    );
                    tokio::time::sleep(wait).await;
                }
                (_, error) => return Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies() {
        assert!(trusts_lambda(&trust_policy()));
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22lambda.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(trusts_lambda(encoded));
        let ec2 = trust_policy().replace("lambda.amazonaws.com", "ec2.amazonaws.com");
        assert!(!trusts_lambda(&ec2));
        let deny = trust_policy().replace("Allow", "Deny");
        assert!(!trusts_lambda(&deny));
        assert!(!trusts_lambda("not json"));
    }

    #[test]
    fn failures() {
        let m = explain_iam(
            &ApiFailure::AccessDenied(
                "User: u is not authorized to perform: iam:CreateRole".into(),
            ),
            "iam:CreateRole",
            "echo-role",
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
