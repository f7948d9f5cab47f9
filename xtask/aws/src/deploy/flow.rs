//! The deploy against Lambda, step by step: connect, change the function (create or update,
//! unless it already runs this zip), wait for Lambda to apply it, check the code, publish and
//! move the alias. The zip is already checked when this starts.

use std::path::Path;

use anyhow::{bail, Result};
use xtask::deploy::{Args, Operation};
use xtask::lambda::names::FunctionRef;
use xtask::lambda::Arch;
use xtask::util::status::status;
use xtask::verify::CheckedZip;

use super::alias::{self, AliasState};
use super::aws::{client, Meter};
use super::errors::ApiFailure;
use super::lambda_api::Lambda;
use super::plan::{check_published, in_progress, plan, progress, Plan, Progress, Remote};
use super::report::{code_bytes, DeployOutcome, Report};
use super::wait::{until_idle, upload, wait_while};

pub async fn deploy(
    args: &Args,
    function: &str,
    target: &FunctionRef,
    arch: Arch,
    zip_path: &Path,
    zip: &CheckedZip,
) -> Result<Report> {
    let meter = Meter::default();
    let lambda = connect(args, function, target, &meter).await?;
    status("Deploying", format!("{function} at {}", lambda.endpoint));

    let found = match lambda.get().await? {
        Some(remote) => Some(before_update(&lambda, target, remote).await?),
        None => None,
    };
    // The alias as it is before anything changes: its move is guarded by this RevisionId.
    let alias_at_start = match (&args.alias, &found) {
        (Some(alias), Some(_)) if !args.dry_run => lambda.get_alias(alias).await?,
        _ => None,
    };
    let (outcome, mut remote) = match found {
        None => create(&lambda, args, arch, zip).await?,
        Some(remote) => update(&lambda, args, remote, arch, zip).await?,
    };
    // A dry run stops here: even an unchanged function gets no PublishVersion or alias move.
    let changes = !args.dry_run
        && matches!(
            outcome,
            DeployOutcome::Updated | DeployOutcome::Created | DeployOutcome::Unchanged
        );
    let mut version = "$LATEST".to_string();
    if let Some(changed) = remote.take_if(|_| changes) {
        let settled = settle(&lambda, changed).await?;
        check_code(&settled, function, zip)?;
        if args.publish || args.alias.is_some() {
            version = publish(&lambda, args, &settled, zip, alias_at_start.as_ref()).await?;
        }
        remote = Some(settled);
    }

    let api_calls = meter.calls();
    Ok(Report {
        function: function.to_string(),
        function_arn: remote.and_then(|r| r.arn),
        outcome,
        arch,
        zip: zip_path.to_path_buf(),
        code_sha256: zip.code_sha256.clone(),
        version,
        alias: args.alias.clone().filter(|_| changes),
        bytes_uploaded: code_bytes(&api_calls),
        api_calls,
        seconds: 0.0,
    })
}

/// A client for the flags' region, profile and endpoint, with credentials resolved.
async fn connect<'a>(
    args: &Args,
    function: &'a str,
    target: &FunctionRef,
    meter: &Meter,
) -> Result<Lambda<'a>> {
    let (client, endpoint) = client(
        args.region.as_deref(),
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
        target,
        meter,
    )
    .await?;
    Ok(Lambda::new(client, endpoint, function))
}

/// The function found is the one asked for, and no update is being applied to it.
async fn before_update(
    lambda: &Lambda<'_>,
    target: &FunctionRef,
    remote: Remote,
) -> Result<Remote> {
    if let Some(arn) = &remote.arn {
        target.check_answer(arn)?;
    }
    if in_progress(&remote).is_none() {
        return Ok(remote);
    }
    // Planned on what the function will be once that update is over.
    until_idle(lambda, remote).await
}

/// The function does not exist: create it with `--create --role`, else say how to.
async fn create(
    lambda: &Lambda<'_>,
    args: &Args,
    arch: Arch,
    zip: &CheckedZip,
) -> Result<(DeployOutcome, Option<Remote>)> {
    let function = lambda.function;
    let Some(role) = args.role.as_deref().filter(|_| args.create) else {
        bail!(lambda.explain(&ApiFailure::NotFound, Operation::GetFunction));
    };
    if args.dry_run {
        status("Skipped", format!("creating {function} (--dry-run)"));
        return Ok((DeployOutcome::WouldCreate, None));
    }
    status(
        "Creating",
        format!(
            "{function} (provided.al2023, {arch}, {} bytes)",
            zip.bytes.len()
        ),
    );
    let created = lambda.create(zip, arch, role).await?;
    Ok((DeployOutcome::Created, Some(created)))
}

/// The function exists: upload the zip unless it already runs it (guarded by its RevisionId).
async fn update(
    lambda: &Lambda<'_>,
    args: &Args,
    remote: Remote,
    arch: Arch,
    zip: &CheckedZip,
) -> Result<(DeployOutcome, Option<Remote>)> {
    let function = lambda.function;
    if plan(&remote, &zip.code_sha256, arch, args.force)? == Plan::Unchanged {
        status(
            "Unchanged",
            format!("{function} already runs CodeSha256 {}", zip.code_sha256),
        );
        return Ok((DeployOutcome::Unchanged, Some(remote)));
    }
    status(
        if args.dry_run {
            "Validating"
        } else {
            "Uploading"
        },
        format!(
            "{} bytes to {function}{}",
            zip.bytes.len(),
            if args.dry_run { " (dry run)" } else { "" }
        ),
    );
    let updated = upload(lambda, zip, remote.revision_id.as_deref(), args.dry_run).await?;
    Ok(if args.dry_run {
        (DeployOutcome::DryRun, Some(remote))
    } else {
        (DeployOutcome::Updated, Some(updated))
    })
}

/// Polls until the update (or creation) has finished, with progress on stderr.
async fn settle(lambda: &Lambda<'_>, remote: Remote) -> Result<Remote> {
    wait_while(lambda, remote, |r| {
        Ok(match progress(r)? {
            Progress::Pending(what) => Some(what),
            Progress::Done => None,
        })
    })
    .await
}

/// The function now runs this zip, not code another deploy put there meanwhile.
fn check_code(settled: &Remote, function: &str, zip: &CheckedZip) -> Result<()> {
    if settled.code_sha256.as_deref() != Some(zip.code_sha256.as_str()) {
        bail!(
            "after the update Lambda reports CodeSha256 {} for {function}, but the zip's is {}: \
             another deploy replaced the code concurrently; rerun the deploy",
            settled.code_sha256.as_deref().unwrap_or("(none)"),
            zip.code_sha256
        );
    }
    Ok(())
}

/// PublishVersion (checked to hold the zip), then the alias; returns the version.
///
/// Rerun-safe: an unchanged $LATEST is still published (Lambda returns the existing version
/// when nothing changed), so a run that died before publishing is completed.
async fn publish(
    lambda: &Lambda<'_>,
    args: &Args,
    settled: &Remote,
    zip: &CheckedZip,
    alias_at_start: Option<&AliasState>,
) -> Result<String> {
    let function = lambda.function;
    let (version, code_sha256) = lambda
        .publish(&zip.code_sha256, settled.revision_id.as_deref())
        .await?;
    check_published(function, &version, code_sha256.as_deref(), &zip.code_sha256)?;
    status("Published", format!("{function} version {version}"));
    if let Some(name) = &args.alias {
        alias::point(lambda, name, alias_at_start, &version).await?;
    }
    Ok(version)
}
