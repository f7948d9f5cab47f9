//! What setup-ci did (or, with `--dry-run`, would do), for people and as JSON: one line per
//! item, then the repository variables and the `gh variable set` lines that set them.

use serde::Serialize;

use super::plan::{DocumentStep, ProviderStep};
use super::variables::Variable;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// `--dry-run`: it is missing.
    WouldCreate,
    /// `--dry-run`: it differs.
    WouldUpdate,
}

impl Outcome {
    pub fn of_provider(step: &ProviderStep, dry_run: bool) -> Outcome {
        match step {
            ProviderStep::Create => Outcome::of(DocumentStep::Create, dry_run),
            ProviderStep::AddAudience { .. } => Outcome::of(DocumentStep::Update, dry_run),
            ProviderStep::Keep { .. } => Outcome::Unchanged,
        }
    }

    pub fn of(step: DocumentStep, dry_run: bool) -> Outcome {
        match (step, dry_run) {
            (DocumentStep::Keep, _) => Outcome::Unchanged,
            (DocumentStep::Create, false) => Outcome::Created,
            (DocumentStep::Create, true) => Outcome::WouldCreate,
            (DocumentStep::Update, false) => Outcome::Updated,
            (DocumentStep::Update, true) => Outcome::WouldUpdate,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::WouldCreate => "would create",
            Outcome::WouldUpdate => "would update",
        }
    }
}

/// One item setup-ci looks after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `oidc-provider`, `role` or `policy`.
    pub item: &'static str,
    /// The provider's ARN, the role's name, the policy's name.
    pub name: String,
    pub outcome: Outcome,
    /// What it holds (or will), or what changed.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// The identity that ran it (GetCallerIdentity's ARN).
    pub caller: String,
    pub account: String,
    pub region: String,
    pub repo: String,
    /// The token subject the role trusts.
    pub subject: String,
    pub role_arn: String,
    pub steps: Vec<Step>,
    pub variables: Vec<Variable>,
    /// The operations called, in order (retries included).
    pub api_calls: Vec<String>,
}

impl Report {
    /// Whether this run wrote (or, with --dry-run, would write) anything.
    pub fn writes(&self) -> bool {
        self.steps.iter().any(|s| s.outcome != Outcome::Unchanged)
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            let item = match step.item {
                "oidc-provider" => "OIDC provider",
                other => other,
            };
            out += &format!(
                "{:<14} {:<13} {}: {}\n",
                item,
                step.outcome.label(),
                step.name,
                step.detail
            );
        }
        out += &format!(
            "{:<14} {} ({})\n",
            "API calls:",
            self.api_calls.len(),
            self.api_calls.join(", ")
        );
        if self.dry_run {
            out += if self.writes() {
                "\nNothing was written (--dry-run); run again without it to make the changes above.\n"
            } else {
                "\nNothing to write: the account already holds all of it.\n"
            };
        }
        out += &format!(
            "\nRepository variables for {} (Settings → Secrets and variables → Actions → \
             Variables):\n",
            self.repo
        );
        let width = self
            .variables
            .iter()
            .map(|v| v.name.len())
            .max()
            .unwrap_or(0);
        for var in &self.variables {
            out += &format!("  {:<width$}  {}\n", var.name, var.value);
        }
        out += "or with the GitHub CLI:\n";
        for var in &self.variables {
            out += &format!("{}\n", var.gh);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup_ci::variables::variables;

    fn report(dry_run: bool, outcome: Outcome) -> Report {
        Report {
            dry_run,
            caller: "arn:aws:iam::123456789012:user/admin".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            repo: "octo-org/echo-lambda".into(),
            subject: "repo:octo-org/echo-lambda:environment:production".into(),
            role_arn: "arn:aws:iam::123456789012:role/echo-deploy".into(),
            steps: vec![Step {
                item: "oidc-provider",
                name: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
                    .into(),
                outcome,
                detail: "audience sts.amazonaws.com".into(),
            }],
            variables: variables(
                "octo-org/echo-lambda",
                "arn:aws:iam::123456789012:role/echo-deploy",
                "123456789012",
                "eu-west-1",
                Some("echo"),
            ),
            api_calls: vec![
                "GetCallerIdentity".into(),
                "ListOpenIDConnectProviders".into(),
            ],
        }
    }

    #[test]
    fn outcomes() {
        assert_eq!(Outcome::of(DocumentStep::Create, false), Outcome::Created);
        assert_eq!(
            Outcome::of(DocumentStep::Update, true),
            Outcome::WouldUpdate
        );
        assert_eq!(Outcome::of(DocumentStep::Keep, true), Outcome::Unchanged);
        let add = ProviderStep::AddAudience { arn: "a".into() };
        assert_eq!(Outcome::of_provider(&add, false), Outcome::Updated);
        assert_eq!(
            serde_json::to_value(Outcome::WouldCreate).unwrap(),
            "would-create"
        );
    }

    #[test]
    fn human_report_lists_steps_then_variables() {
        let text = report(false, Outcome::Created).human();
        assert!(
            text.starts_with(
                "OIDC provider  created       arn:aws:iam::123456789012:oidc-provider/"
            ),
            "{text}"
        );
        assert!(text.contains("API calls:     2 (GetCallerIdentity, ListOpenIDConnectProviders)"));
        assert!(
            text.contains("  AWS_ACCOUNT_ID        123456789012\n"),
            "{text}"
        );
        assert!(text.ends_with(
            "gh variable set LAMBDA_FUNCTION_NAME --repo octo-org/echo-lambda --body echo\n"
        ));
        assert!(!text.contains("--dry-run"));
        let dry = report(true, Outcome::WouldCreate).human();
        assert!(dry.contains("would create"), "{dry}");
        assert!(dry.contains("Nothing was written (--dry-run)"), "{dry}");
        let nothing = report(true, Outcome::Unchanged).human();
        assert!(nothing.contains("Nothing to write"), "{nothing}");
    }
}
