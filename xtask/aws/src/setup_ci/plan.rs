//! setup-ci's decisions, as pure functions over what the reads found: what to create, add or
//! update so the account holds GitHub's OIDC provider with the `sts.amazonaws.com` audience,
//! the deploy role with the desired trust policy, and its permissions policy; policies compared
//! as IAM reads them; and every failure told as one sentence naming the fix.

use serde_json::Value;
use xtask::iam_policy::{AUDIENCE, OIDC_PROVIDER};

pub use crate::model::iam::{ProviderSeen, RoleSeen};
use crate::model::policy::parse_policy;

/// Every IAM action setup-ci may call: what the identity running it must be allowed.
pub const IAM_ACTIONS: &[&str] = &[
    "iam:ListOpenIDConnectProviders",
    "iam:GetOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
];

/// The URL GitHub's provider is created with: its token issuer.
pub fn provider_url() -> String {
    format!("https://{OIDC_PROVIDER}")
}

/// What the reads found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub provider: Option<ProviderSeen>,
    pub role: Option<RoleSeen>,
    /// The role's inline permissions policy, when the role has one by that name.
    pub policy: Option<String>,
}

/// What the account should hold: `iam-policy`'s two documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub trust_policy: Value,
    pub permissions_policy: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStep {
    Create,
    /// It exists without the `sts.amazonaws.com` audience.
    AddAudience {
        arn: String,
    },
    Keep {
        arn: String,
    },
}

/// What to do with a role or a policy document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStep {
    Create,
    Update,
    Keep,
}

/// Every write setup-ci is to make; nothing when the account already holds it all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub provider: ProviderStep,
    pub role: DocumentStep,
    pub policy: DocumentStep,
}

impl Plan {
    pub fn writes(&self) -> bool {
        !matches!(self.provider, ProviderStep::Keep { .. })
            || self.role != DocumentStep::Keep
            || self.policy != DocumentStep::Keep
    }
}

pub fn plan(observed: &Observed, desired: &Desired) -> Plan {
    let provider = match &observed.provider {
        None => ProviderStep::Create,
        Some(seen) if !seen.client_ids.iter().any(|id| id == AUDIENCE) => {
            ProviderStep::AddAudience {
                arn: seen.arn.clone(),
            }
        }
        Some(seen) => ProviderStep::Keep {
            arn: seen.arn.clone(),
        },
    };
    let role = match &observed.role {
        None => DocumentStep::Create,
        Some(seen) if same_policy(&seen.trust_policy, &desired.trust_policy) => DocumentStep::Keep,
        Some(_) => DocumentStep::Update,
    };
    let policy = match (&observed.role, &observed.policy) {
        (None, _) | (_, None) => DocumentStep::Create,
        (Some(_), Some(seen)) if same_policy(seen, &desired.permissions_policy) => {
            DocumentStep::Keep
        }
        (Some(_), Some(_)) => DocumentStep::Update,
    };
    Plan {
        provider,
        role,
        policy,
    }
}

/// GitHub's provider among the account's (the ARNs ListOpenIDConnectProviders answers).
pub fn github_provider<'a>(arns: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let suffix = format!(":oidc-provider/{OIDC_PROVIDER}");
    arns.into_iter().find(|arn| arn.ends_with(&suffix))
}

/// Does IAM's document (URL-encoded JSON, or JSON) say what `desired` says? Compared as IAM
/// reads policies, not as text: see [`normalize`].
pub fn same_policy(document: &str, desired: &Value) -> bool {
    parse_policy(document).is_some_and(|seen| normalize(seen) == normalize(desired.clone()))
}

/// A policy as IAM reads it: key order and whitespace do not matter, every list is a set
/// (statements, actions, resources, condition values: order and repeats do not matter), and a
/// list of one is that one value (`"Action": "x"` is `"Action": ["x"]`).
/// `value` as text with every object's keys sorted: a sort key that does not depend on the
/// order keys were written in (serde_json keeps that order here).
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

pub fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalize).collect();
            items.sort_by_cached_key(canonical);
            items.dedup();
            if items.len() == 1 {
                items.remove(0)
            } else {
                Value::Array(items)
            }
        }
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect())
        }
        other => other,
    }
}

/// The ARN a role of this name gets (when it has the default path `/`), for `--dry-run`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

/// What to do when an IAM or STS call of setup-ci is denied.
pub fn when_denied() -> String {
    format!(
        "setup-ci is a one-time action for an administrator: run it with an identity allowed \
         {} (e.g. --profile ADMIN), or make the role yourself from `cargo xtask iam-policy`",
        IAM_ACTIONS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use xtask::iam_policy::{permissions_policy, trust_policy, FunctionArn, Repo, Subject};

    use super::*;

    const PROVIDER: &str =
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

    fn desired(subject: Subject) -> Desired {
        let function =
            FunctionArn::parse("arn:aws:lambda:eu-west-1:123456789012:function:echo").unwrap();
        let repo = Repo::parse("octo-org/echo-lambda").unwrap();
        Desired {
            trust_policy: trust_policy(&function, &repo, &subject),
            permissions_policy: permissions_policy(std::slice::from_ref(&function)),
        }
    }

    fn production() -> Desired {
        desired(Subject::Environment("production".into()))
    }

    /// As IAM returns documents: URL-encoded.
    fn encoded(value: &Value) -> String {
        let mut out = String::new();
        for b in value.to_string().bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn all_there(desired: &Desired) -> Observed {
        Observed {
            provider: Some(ProviderSeen {
                arn: PROVIDER.into(),
                client_ids: vec!["sts.amazonaws.com".into()],
            }),
            role: Some(RoleSeen {
                arn: "arn:aws:iam::123456789012:role/echo-deploy".into(),
                trust_policy: encoded(&desired.trust_policy),
            }),
            policy: Some(encoded(&desired.permissions_policy)),
        }
    }

    #[test]
    fn an_empty_account_gets_everything() {
        let plan = plan(&Observed::default(), &production());
        assert_eq!(
            plan,
            Plan {
                provider: ProviderStep::Create,
                role: DocumentStep::Create,
                policy: DocumentStep::Create,
            }
        );
        assert!(plan.writes());
    }

    #[test]
    fn an_account_that_holds_it_all_gets_nothing() {
        let desired = production();
        let plan = plan(&all_there(&desired), &desired);
        assert_eq!(
            plan.provider,
            ProviderStep::Keep {
                arn: PROVIDER.into()
            }
        );
        assert_eq!(
            (plan.role, plan.policy),
            (DocumentStep::Keep, DocumentStep::Keep)
        );
        assert!(!plan.writes());
    }

    #[test]
    fn a_provider_without_the_audience_gets_it_added() {
        let desired = production();
        let mut observed = all_there(&desired);
        observed.provider.as_mut().unwrap().client_ids = vec!["another-audience".into()];
        let plan = plan(&observed, &desired);
        assert_eq!(
            plan.provider,
            ProviderStep::AddAudience {
                arn: PROVIDER.into()
            }
        );
        assert_eq!(
            (plan.role, plan.policy),
            (DocumentStep::Keep, DocumentStep::Keep)
        );
    }

    #[test]
    fn another_trust_policy_or_permissions_policy_is_updated() {
        let desired = production();
        let mut observed = all_there(&desired);
        observed.role.as_mut().unwrap().trust_policy = encoded(&desired_branch_main().trust_policy);
        assert_eq!(plan(&observed, &desired).role, DocumentStep::Update);
        assert_eq!(plan(&observed, &desired).policy, DocumentStep::Keep);

        let mut stale = desired.permissions_policy.clone();
        stale["Statement"][0]["Action"] = json!(["lambda:GetFunction"]);
        let mut observed = all_there(&desired);
        observed.policy = Some(encoded(&stale));
        assert_eq!(plan(&observed, &desired).policy, DocumentStep::Update);
        observed.policy = Some("not a policy".into());
        assert_eq!(plan(&observed, &desired).policy, DocumentStep::Update);
        // A role without the inline policy gets it; a missing role gets both.
        observed.policy = None;
        assert_eq!(plan(&observed, &desired).policy, DocumentStep::Create);
        observed.role = None;
        observed.policy = Some(encoded(&desired.permissions_policy));
        let plan = plan(&observed, &desired);
        assert_eq!(
            (plan.role, plan.policy),
            (DocumentStep::Create, DocumentStep::Create)
        );
    }

    fn desired_branch_main() -> Desired {
        desired(Subject::Branch("main".into()))
    }

    #[test]
    fn policies_compare_as_iam_reads_them() {
        let desired = production().permissions_policy;
        assert!(same_policy(&desired.to_string(), &desired));
        assert!(same_policy(&encoded(&desired), &desired));
        // Key order, whitespace, list order, repeats, and a list of one.
        let mut shuffled = desired.clone();
        let statement = &mut shuffled["Statement"][0];
        let mut actions = statement["Action"].as_array().unwrap().clone();
        actions.reverse();
        actions.push(actions[0].clone());
        statement["Action"] = Value::Array(actions);
        let pretty = serde_json::to_string_pretty(&shuffled).unwrap();
        assert!(same_policy(&pretty, &desired));
        let trust = production().trust_policy;
        let mut single = trust.clone();
        single["Statement"][0]["Action"] = json!(["sts:AssumeRoleWithWebIdentity"]);
        assert!(same_policy(&single.to_string(), &trust));
        // But a different subject, effect or resource is a difference.
        assert!(!same_policy(
            &desired_branch_main().trust_policy.to_string(),
            &trust
        ));
        let mut deny = desired.clone();
        deny["Statement"][0]["Effect"] = json!("Deny");
        assert!(!same_policy(&deny.to_string(), &desired));
        let mut wider = desired.clone();
        wider["Statement"][0]["Resource"] = json!("*");
        assert!(!same_policy(&wider.to_string(), &desired));
    }

    #[test]
    fn finds_githubs_provider_and_the_partition() {
        let arns = [
            "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
            PROVIDER,
        ];
        assert_eq!(github_provider(arns), Some(PROVIDER));
        assert_eq!(github_provider(["arn:aws:iam::1:oidc-provider/x"]), None);
        assert_eq!(
            github_provider([
                "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com/extra"
            ]),
            None
        );
        assert_eq!(
            xtask::lambda::names::partition_of("arn:aws-cn:sts::123456789012:assumed-role/a/b"),
            Some("aws-cn")
        );
        assert_eq!(
            xtask::lambda::names::partition_of("arn::sts::1:user/x"),
            None
        );
        assert_eq!(xtask::lambda::names::partition_of("nope"), None);
        assert_eq!(
            role_arn("aws", "123456789012", "echo-deploy"),
            "arn:aws:iam::123456789012:role/echo-deploy"
        );
    }

    #[test]
    fn failures_name_the_action_and_the_fix() {
        let denied = crate::model::failure::explain(
            &crate::model::failure::ApiFailure::AccessDenied(
                "User: u is not authorized to perform: iam:CreateRole".into(),
            ),
            &crate::model::failure::Call {
                service: "IAM",
                action: "iam:CreateRole",
                resource: "role echo-deploy",
                endpoint: Some("https://iam.amazonaws.com"),
                when_denied: &when_denied(),
                when_missing: None,
            },
        );
        assert!(
            denied.starts_with(
                "access denied: the credentials in use may not call iam:CreateRole on role \
                 echo-deploy (User: u is not authorized"
            ),
            "{denied}"
        );
        assert!(
            denied.contains("one-time action for an administrator"),
            "{denied}"
        );
        assert!(denied.contains("iam:PutRolePolicy"), "{denied}");
    }
}
