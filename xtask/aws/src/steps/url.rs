//! `deploy --url public|iam`: a Function URL, created or kept, on `--alias` when given, else on
//! the function itself; for `public`, the two resource-policy statements a URL without auth
//! needs (`model::url`), added only when missing.

use anyhow::{bail, Result};
use serde::Serialize;
use xtask::deploy::UrlAuth;
use xtask::util::status::status;

use crate::lambda::Lambda;
use crate::model::url::missing_grants;

/// What `--url` found or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlReport {
    pub url: String,
    pub auth: UrlAuth,
    /// The alias it is on, else none (the function itself).
    pub qualifier: Option<String>,
    /// `created` or `unchanged` (`would-create` on a dry run).
    pub outcome: String,
    /// The statements added to the function's resource policy by this run.
    pub permissions_added: Vec<String>,
}

/// Creates the URL (and for `public` its grants) unless it is there; reads only otherwise.
pub async fn ensure_url(
    lambda: &Lambda<'_>,
    auth: UrlAuth,
    qualifier: Option<&str>,
    dry_run: bool,
) -> Result<UrlReport> {
    let target = match qualifier {
        Some(q) => format!("{}:{q}", lambda.function),
        None => lambda.function.to_string(),
    };
    let (url, mut outcome) = match lambda.url_config(qualifier).await? {
        Some((url, existing)) if existing == auth.auth_type() => (url, "unchanged"),
        Some((url, existing)) => bail!(
            "{target} already has the function URL {url} with AuthType {existing}, not {}: \
             change it deliberately (aws lambda update-function-url-config) or pass --url \
             matching it",
            auth.auth_type()
        ),
        None if dry_run => {
            status(
                "Skipped",
                format!("creating a function URL for {target} (--dry-run)"),
            );
            (String::new(), "would-create")
        }
        None => {
            let url = lambda.create_url(qualifier, auth).await?;
            status("Created", format!("function URL {url} for {target}"));
            (url, "created")
        }
    };
    let mut added = Vec::new();
    if auth == UrlAuth::Public && outcome != "would-create" {
        let policy = lambda.policy(qualifier).await?;
        for grant in missing_grants(policy.as_deref()) {
            if dry_run {
                status(
                    "Would add",
                    format!("{} for everyone on {target}", grant.action()),
                );
                continue;
            }
            lambda.grant(qualifier, grant).await?;
            status(
                "Allowed",
                format!("{} for everyone on {target}", grant.action()),
            );
            added.push(grant.statement_id().to_string());
        }
        if !added.is_empty() && outcome == "unchanged" {
            outcome = "permissions-added";
        }
    }
    if outcome == "unchanged" {
        status(
            "Unchanged",
            format!("function URL {url} ({})", auth.auth_type()),
        );
    }
    Ok(UrlReport {
        url,
        auth,
        qualifier: qualifier.map(str::to_string),
        outcome: outcome.to_string(),
        permissions_added: added,
    })
}
