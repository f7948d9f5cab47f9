//! `deploy --url public|iam`: a Function URL, created or kept, on `--alias` when given, else on
//! the function itself; for `public`, the two resource-policy statements a URL without auth
//! needs (`model::url`), added only when missing. A declared invoke mode (`invoke-mode`) is
//! set when the URL is made, and corrected when the URL has another (with or without `--url`).

use anyhow::{bail, Result};
use serde::Serialize;
use xtask::deploy::UrlAuth;
use xtask::lambda::settings::InvokeMode;
use xtask::util::status::status;

use crate::lambda::{Lambda, UrlSeen};
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
    /// Its invoke mode (after this run), when known.
    pub invoke_mode: Option<InvokeMode>,
}

/// Creates the URL (and for `public` its grants) unless it is there; reads only otherwise.
pub async fn ensure_url(
    lambda: &Lambda<'_>,
    auth: UrlAuth,
    qualifier: Option<&str>,
    mode: Option<InvokeMode>,
    dry_run: bool,
) -> Result<UrlReport> {
    let target = target_of(lambda, qualifier);
    let mut invoke_mode = mode;
    let (url, mut outcome) = match lambda.url_config(qualifier).await? {
        Some(seen) if seen.auth_type == auth.auth_type() => {
            invoke_mode = Some(seen.invoke_mode);
            let outcome = match mode {
                Some(mode) if mode != seen.invoke_mode => {
                    set_mode(lambda, qualifier, seen.invoke_mode, mode, dry_run).await?;
                    invoke_mode = Some(mode);
                    if dry_run {
                        "would-update"
                    } else {
                        "updated"
                    }
                }
                _ => "unchanged",
            };
            (seen.url, outcome)
        }
        Some(UrlSeen {
            url,
            auth_type: existing,
            ..
        }) => bail!(
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
            let url = lambda.create_url(qualifier, auth, mode).await?;
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
        invoke_mode,
    })
}

fn target_of(lambda: &Lambda<'_>, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{}:{q}", lambda.function),
        None => lambda.function.to_string(),
    }
}

/// UpdateFunctionUrlConfig of the invoke mode, `from` to `to` (said, and skipped on a dry run).
async fn set_mode(
    lambda: &Lambda<'_>,
    qualifier: Option<&str>,
    from: InvokeMode,
    to: InvokeMode,
    dry_run: bool,
) -> Result<()> {
    let what = format!(
        "the invoke mode of {}'s function URL: {} -> {}",
        target_of(lambda, qualifier),
        from.as_str(),
        to.as_str()
    );
    if dry_run {
        status("Would set", what);
        return Ok(());
    }
    lambda.set_invoke_mode(qualifier, to).await?;
    status("Setting", what);
    Ok(())
}

/// A declared invoke mode without `--url`: the URL there (if any) is checked, and corrected
/// when its mode differs; `None` when there is no URL to set it on.
pub async fn check_invoke_mode(
    lambda: &Lambda<'_>,
    mode: InvokeMode,
    qualifier: Option<&str>,
    dry_run: bool,
) -> Result<Option<UrlReport>> {
    let Some(seen) = lambda.url_config(qualifier).await? else {
        status(
            "Skipped",
            format!(
                "invoke-mode {}: {} has no function URL (--url makes one)",
                mode.as_str(),
                target_of(lambda, qualifier)
            ),
        );
        return Ok(None);
    };
    let outcome = match seen.invoke_mode == mode {
        true => "unchanged",
        false => {
            set_mode(lambda, qualifier, seen.invoke_mode, mode, dry_run).await?;
            if dry_run {
                "would-update"
            } else {
                "updated"
            }
        }
    };
    let auth = match seen.auth_type.as_str() {
        "NONE" => UrlAuth::Public,
        _ => UrlAuth::Iam,
    };
    Ok(Some(UrlReport {
        url: seen.url,
        auth,
        qualifier: qualifier.map(str::to_string),
        outcome: outcome.into(),
        permissions_added: Vec::new(),
        invoke_mode: Some(if dry_run { seen.invoke_mode } else { mode }),
    }))
}
