//! `deploy --api http` (or `api = "http"` declared): the function's HTTP API, found again by
//! its tag, made when missing, its drift corrected (`model::api` decides), and the resource
//! policy statement that lets exactly this API invoke the function (or the alias the
//! integration targets). A rerun that finds everything right only reads.

use anyhow::{bail, Result};
use xtask::lambda::settings::ApiKind;

use crate::lambda::Lambda;
use crate::model::api::ApiReport;
use crate::sdk::Session;

/// What a build without the feature `api` says to a deploy that declares an API.
pub const WITHOUT_API: &str = "this xtask-aws was built without API Gateway (its package \
feature `api`), which `deploy --api` (or `api` in [package.metadata.lambda]) calls: run the \
deploy through `cargo xtask`, which builds what it needs, or build it with `cargo build \
--package xtask-aws --features api`";

/// The API in front of the function `function_arn` (`None`: a dry run of a function still to
/// be created), through `alias` when given; reported.
pub async fn ensure_api(
    session: &Session,
    lambda: &Lambda<'_>,
    kind: ApiKind,
    function_arn: Option<&str>,
    alias: Option<&str>,
    dry_run: bool,
) -> Result<ApiReport> {
    #[cfg(not(feature = "api"))]
    {
        let _ = (session, lambda, kind, function_arn, alias, dry_run);
        bail!(WITHOUT_API)
    }
    #[cfg(feature = "api")]
    {
        let Some(function_arn) = function_arn else {
            if !dry_run {
                bail!(
                    "Lambda did not report {}'s ARN: the API cannot name it",
                    lambda.function
                );
            }
            return Ok(would_create(lambda.function, kind, String::new()));
        };
        with_feature::ensure(session, lambda, kind, function_arn, alias, dry_run).await
    }
}

/// A dry run's report of an API still to be made (to `target`, when known), said.
#[cfg_attr(not(feature = "api"), allow(dead_code))]
fn would_create(function: &str, kind: ApiKind, target: String) -> ApiReport {
    xtask::util::status::status(
        "Skipped",
        format!("making an HTTP API for {function} (--dry-run)"),
    );
    ApiReport {
        kind: kind.as_str(),
        api_id: String::new(),
        url: String::new(),
        target,
        outcome: "would-create".into(),
        changes: vec!["the HTTP API, its integration, route, stage and permission".into()],
    }
}

#[cfg(feature = "api")]
mod with_feature {
    use anyhow::Result;
    use xtask::lambda::names::parse_function;
    use xtask::lambda::settings::ApiKind;
    use xtask::util::status::status;

    use crate::apigateway::ApiGateway;
    use crate::lambda::Lambda;
    use crate::model::api::{
        find, granted, has_statement, plan_parts, source_arn, statement_id, target, ApiReport, Fix,
        Parts,
    };
    use crate::sdk::Session;

    pub async fn ensure(
        session: &Session,
        lambda: &Lambda<'_>,
        kind: ApiKind,
        function_arn: &str,
        alias: Option<&str>,
        dry_run: bool,
    ) -> Result<ApiReport> {
        let function = lambda.function;
        let place = parse_function(function_arn)?;
        let gateway = ApiGateway::new(session, function);
        let apis = gateway.apis().await?;
        let mut changes = Vec::new();
        let found = find(&apis, function_arn)?.cloned();
        let created = found.is_none();
        let (api_id, endpoint, parts) = match found {
            Some(api) => {
                let parts = gateway.parts(&api.id).await?;
                (api.id, api.endpoint, parts)
            }
            None if dry_run => {
                let target = target(&Parts::default(), function_arn, alias);
                return Ok(super::would_create(function, kind, target));
            }
            None => {
                let made = gateway
                    .create_api(place.name.as_str(), function_arn)
                    .await?;
                status("Created", format!("HTTP API {} for {function}", made.id));
                changes.push(format!("the HTTP API {}", made.id));
                (made.id, made.endpoint, Default::default())
            }
        };
        let target = target(&parts, function_arn, alias);
        if alias.is_none() && target != function_arn {
            status(
                "Kept",
                format!("HTTP API {api_id} on {target} (deploy --alias moves it)"),
            );
        }
        let plan = plan_parts(&parts, &target);
        let mut integration = plan.integration.clone();
        for fix in &plan.fixes {
            let what = fix.describe();
            if dry_run {
                let verb = if fix.is_drift() {
                    "Would correct"
                } else {
                    "Would make"
                };
                status(verb, &what);
                changes.push(what);
                continue;
            }
            match fix {
                Fix::CreateIntegration => {
                    integration = Some(gateway.create_integration(&api_id, &target).await?);
                }
                Fix::UpdateIntegration { id, .. } => {
                    gateway.update_integration(&api_id, id, &target).await?
                }
                Fix::CreateRoute => {
                    let to = integration.as_deref().unwrap_or_default();
                    gateway.create_route(&api_id, to).await?
                }
                Fix::UpdateRoute { id, .. } => {
                    let to = integration.as_deref().unwrap_or_default();
                    gateway.update_route(&api_id, id, to).await?
                }
                Fix::CreateStage => gateway.create_stage(&api_id).await?,
                Fix::UpdateStage { .. } => gateway.update_stage(&api_id).await?,
            }
            let verb = if fix.is_drift() { "Corrected" } else { "Made" };
            status(verb, &what);
            changes.push(what);
        }
        // Exactly this API may invoke exactly the function (or alias) it targets.
        let account = place.account.as_deref().unwrap_or_default();
        let partition = place.partition.as_deref().unwrap_or("aws");
        let region = place.region.as_deref().unwrap_or_default();
        let source = source_arn(partition, region, account, &api_id);
        let qualifier = target
            .strip_prefix(function_arn)
            .and_then(|q| q.strip_prefix(':'));
        let policy = lambda.policy(qualifier).await?;
        let sid = statement_id(&api_id);
        if !granted(policy.as_deref(), &source) {
            let what = format!("permission for API Gateway to invoke {target} from {source}");
            if has_statement(policy.as_deref(), &sid) {
                anyhow::bail!(
                    "the resource policy of {target} has a statement {sid} that does not grant \
                     what this API needs (changed by hand?): remove it (aws lambda \
                     remove-permission --function-name {target} --statement-id {sid}) and \
                     deploy again"
                );
            }
            if dry_run {
                status("Would add", &what);
            } else {
                lambda
                    .allow_api(alias, &statement_id(&api_id), &source)
                    .await?;
                status("Allowed", &what);
            }
            changes.push(what);
        }
        let url = endpoint
            .map(|e| format!("{}/", e.trim_end_matches('/')))
            .unwrap_or_default();
        let outcome = match (created, changes.is_empty(), dry_run) {
            (true, _, _) => "created",
            (false, true, _) => "unchanged",
            (false, false, false) => "corrected",
            (false, false, true) => "would-correct",
        };
        if outcome == "unchanged" {
            status("Unchanged", format!("HTTP API {api_id}: {url}"));
        }
        Ok(ApiReport {
            kind: kind.as_str(),
            api_id,
            url,
            target,
            outcome: outcome.into(),
            changes,
        })
    }
}
