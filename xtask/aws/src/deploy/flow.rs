//! The deploy against Lambda, step by step: connect, change the function (create or update,
//! unless it already runs this zip), wait for Lambda to apply it, check the code, publish and
//! smoke-test the published version, move the alias. The zip is already checked when this
//! starts.

use std::path::Path;

use anyhow::{bail, Result};
use xtask::deploy::{Args, Operation};
use xtask::lambda::names::FunctionRef;
use xtask::lambda::settings::{ApiKind, Declared, InvokeMode};
use xtask::lambda::Arch;
use xtask::util::status::status;
use xtask::verify::CheckedZip;

use super::extras::Extras;
use super::plan::{check_published, plan, Plan};
use super::report::{code_bytes, AliasKept, DeployOutcome, Report};
use super::smoke::{self, SmokeResult, SmokeTest};
use crate::lambda::Lambda;
use crate::model::failure::ApiFailure;
use crate::model::function::{in_progress, progress, InvokeAnswer, Progress, Remote};
use crate::model::timeouts;
use crate::sdk::{connect, Session};
use crate::steps::wait::{until_idle, upload, wait_while};
use crate::steps::{self, alias, role, settings, url, wait};

/// What a deploy starts from, all of it checked before the first request.
pub struct Inputs<'a> {
    pub args: &'a Args,
    pub declared: &'a Declared,
    /// The API to put (or keep) in front of the function.
    pub api: Option<ApiKind>,
    /// The function URL's declared invoke mode.
    pub invoke_mode: Option<InvokeMode>,
    pub function: &'a str,
    pub target: &'a FunctionRef,
    pub arch: Arch,
    pub zip_path: &'a Path,
    pub zip: &'a CheckedZip,
    pub smoke: Option<&'a SmokeTest>,
}

pub async fn deploy(inputs: Inputs<'_>) -> Result<Report> {
    let given = &inputs;
    let Inputs {
        args,
        declared,
        api,
        invoke_mode,
        function,
        target,
        arch,
        zip_path,
        zip,
        smoke,
    } = inputs;
    let session = connect(&args.aws, target).await?;
    let lambda = Lambda::new(&session, function);
    status("Deploying", format!("{function} at {}", lambda.endpoint));

    let mut extras = Extras::default();
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
        None => create(&lambda, &session, given, &mut extras).await?,
        Some(remote) => update(&lambda, args, declared, &mut extras, remote, arch, zip).await?,
    };
    // A dry run stops here: even an unchanged function gets no PublishVersion or alias move.
    let changes = !args.dry_run
        && matches!(
            outcome,
            DeployOutcome::Updated
                | DeployOutcome::Created
                | DeployOutcome::Unchanged
                | DeployOutcome::Configured
        );
    let publishes = args.publish || args.alias.is_some() || args.smoke_event.is_some();
    let mut version = "$LATEST".to_string();
    let mut smoked: Option<SmokeResult> = None;
    if let Some(changed) = remote.take_if(|_| changes) {
        let settled = settle(&lambda, changed).await?;
        check_code(&settled, function, zip)?;
        if publishes {
            version = publish(&lambda, &settled, zip).await?;
            smoked = match smoke {
                Some(test) => {
                    let streams = invoke_mode == Some(InvokeMode::ResponseStream);
                    let tested = smoke_test(&lambda, test, &version, &settled, &args.aws, streams);
                    Some(tested.await)
                }
                None => None,
            };
            match (&args.alias, &smoked) {
                (Some(alias), Some(result)) if !result.passed => {
                    let kept = match &alias_at_start {
                        Some(at) => format!("{function}:{alias} at version {}", at.version),
                        None => format!("{function}:{alias} uncreated"),
                    };
                    status("Kept", format!("{kept}: the smoke test failed"));
                }
                (Some(alias), _) => {
                    alias::point(&lambda, alias, alias_at_start.as_ref(), &version).await?
                }
                (None, _) => {}
            }
        } else if smoke.is_some() && args.smoke_event.is_some() {
            // A table's smoke test runs when a version is published; only a flag's is news.
            status(
                "Skipped",
                "the smoke test: no version is published (pass --alias or --publish)",
            );
        }
        remote = Some(settled);
    } else if smoke.is_some() {
        status("Skipped", "the smoke test (--dry-run)");
    }
    // Only a failed smoke test keeps a published version from the alias.
    let alias_moved = changes && args.alias.is_some() && smoked.as_ref().is_none_or(|s| s.passed);
    let qualifier = args.alias.as_deref();
    if let Some(auth) = args.one_time.url {
        let url = url::ensure_url(&lambda, auth, qualifier, invoke_mode, args.dry_run).await?;
        extras.url = Some(url);
    } else if let Some(mode) = invoke_mode.filter(|_| remote.is_some()) {
        extras.url = url::check_invoke_mode(&lambda, mode, qualifier, args.dry_run).await?;
    }
    let alias_missing =
        !args.dry_run && args.alias.is_some() && alias_at_start.is_none() && !alias_moved;
    if let (Some(_), true) = (api, alias_missing) {
        // Its first deploy did not make it (a failed smoke test): nothing to point an API at.
        status(
            "Skipped",
            format!(
                "the HTTP API: alias {} of {function} does not exist yet",
                args.alias.as_deref().unwrap_or_default()
            ),
        );
    } else if let Some(kind) = api {
        let arn = remote.as_ref().and_then(|r| r.arn.as_deref());
        let made = steps::api::ensure_api(
            &session,
            &lambda,
            kind,
            arn,
            args.alias.as_deref(),
            args.dry_run,
        )
        .await?;
        extras.api = Some(made);
    }

    let api_calls = session.meter.calls();
    Ok(Report {
        function: function.to_string(),
        function_arn: remote.and_then(|r| r.arn),
        outcome,
        arch,
        zip: zip_path.to_path_buf(),
        code_sha256: zip.code_sha256.clone(),
        version,
        alias: args.alias.clone().filter(|_| alias_moved),
        alias_kept: match &args.alias {
            Some(name) if changes && !alias_moved => Some(AliasKept {
                name: name.clone(),
                version: alias_at_start.map(|a| a.version),
            }),
            _ => None,
        },
        would_publish: args.dry_run && publishes,
        would_alias: args.alias.clone().filter(|_| args.dry_run),
        smoke: smoked,
        bytes_uploaded: code_bytes(&api_calls),
        api_calls,
        seconds: 0.0,
        extras,
    })
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

/// The function does not exist: create it with `--create` (and the declared settings), else
/// say how to.
async fn create(
    lambda: &Lambda<'_>,
    session: &Session,
    inputs: &Inputs<'_>,
    extras: &mut Extras,
) -> Result<(DeployOutcome, Option<Remote>)> {
    let &Inputs {
        args,
        declared,
        target,
        arch,
        zip,
        ..
    } = inputs;
    let function = lambda.function;
    if !args.create {
        bail!(lambda.explain(&ApiFailure::NotFound, Operation::GetFunction));
    }
    // The role is named after the function's name, also when an ARN was given.
    let (role, report) = role::execution_role(session, &target.name, args).await?;
    extras.role = report;
    // Every declared setting goes on CreateFunction: the report lists them as set.
    extras.settings = xtask::lambda::settings::changes(declared, &Default::default());
    if args.dry_run {
        status("Skipped", format!("creating {function} (--dry-run)"));
        return Ok((DeployOutcome::WouldCreate, None));
    }
    status(
        "Creating",
        format!(
            "{function} (provided.al2023, {arch}, {} bytes; each attempt may take up to {} s)",
            zip.bytes.len(),
            timeouts::upload_attempt(zip.bytes.len() as u64).as_secs()
        ),
    );
    let started = std::time::Instant::now();
    let created = wait::create_function(lambda, zip, arch, &role, declared).await?;
    status(
        "Created",
        format!("{function} in {:.1} s", started.elapsed().as_secs_f64()),
    );
    Ok((DeployOutcome::Created, Some(created)))
}

/// The function exists: apply the declared settings that differ, then upload the zip unless it
/// already runs it (each guarded by its RevisionId). Settings first: new code may need them, and
/// the previous code keeps running with them; a failed upload says so, and a rerun uploads.
async fn update(
    lambda: &Lambda<'_>,
    args: &Args,
    declared: &Declared,
    extras: &mut Extras,
    remote: Remote,
    arch: Arch,
    zip: &CheckedZip,
) -> Result<(DeployOutcome, Option<Remote>)> {
    let function = lambda.function;
    let code = plan(&remote, &zip.code_sha256, arch, args.force)?;
    let (changes, configured) = settings::apply(lambda, declared, &remote, args.dry_run).await?;
    extras.settings = changes;
    let remote = match configured {
        Some(configured) => settle(lambda, configured).await?,
        None => remote,
    };
    if code == Plan::Unchanged && !extras.settings.is_empty() {
        let outcome = match args.dry_run {
            true => DeployOutcome::WouldConfigure,
            false => DeployOutcome::Configured,
        };
        return Ok((outcome, Some(remote)));
    }
    if code == Plan::Unchanged {
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
            "{} bytes to {function}{} (each attempt may take up to {} s)",
            zip.bytes.len(),
            if args.dry_run { " (dry run)" } else { "" },
            timeouts::upload_attempt(zip.bytes.len() as u64).as_secs()
        ),
    );
    let started = std::time::Instant::now();
    let updated = upload(lambda, zip, remote.revision_id.as_deref(), args.dry_run)
        .await
        .map_err(|e| match extras.settings.is_empty() || args.dry_run {
            true => e,
            false => e.context(settings::left_between(
                function,
                &extras.settings,
                remote.code_sha256.as_deref(),
            )),
        })?;
    status(
        if args.dry_run {
            "Validated"
        } else {
            "Uploaded"
        },
        format!(
            "{} bytes to {function} in {:.1} s",
            zip.bytes.len(),
            started.elapsed().as_secs_f64()
        ),
    );
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

/// PublishVersion, checked to hold the zip; returns the version.
///
/// Rerun-safe: an unchanged $LATEST is still published (Lambda returns the existing version
/// when nothing changed), so a run that died before publishing is completed.
async fn publish(lambda: &Lambda<'_>, settled: &Remote, zip: &CheckedZip) -> Result<String> {
    let function = lambda.function;
    let (version, code_sha256) = lambda
        .publish(&zip.code_sha256, settled.revision_id.as_deref())
        .await?;
    check_published(function, &version, code_sha256.as_deref(), &zip.code_sha256)?;
    status("Published", format!("{function} version {version}"));
    Ok(version)
}

/// Invokes `version` with the smoke event; a failed call is a failed smoke test.
async fn smoke_test(
    lambda: &Lambda<'_>,
    test: &SmokeTest,
    version: &str,
    settled: &Remote,
    aws: &xtask::deploy::AwsArgs,
    streams: bool,
) -> SmokeResult {
    let function = lambda.function;
    status(
        "Smoke-testing",
        format!("{function}:{version} with {}", test.event_path.display()),
    );
    // Lambda's default timeout when the function reports none.
    let timeout = settled
        .settings
        .timeout_s
        .map(|s| std::time::Duration::from_secs(s.into()))
        .unwrap_or(xtask::lambda::DEFAULT_TIMEOUT);
    // A function whose URL streams is tested as its callers call it.
    let limit = timeouts::smoke(timeout);
    let answer = match streams {
        true => lambda.invoke_stream(version, &test.event, limit).await,
        false => lambda.invoke(version, &test.event, limit).await,
    };
    let mut result = match &answer {
        Ok(answer) => smoke::verdict(test, version, Ok(answer)),
        Err(error) => smoke::verdict(test, version, Err(&format!("{error:#}"))),
    };
    if let (
        false,
        Ok(InvokeAnswer {
            request_id: Some(id),
            ..
        }),
    ) = (result.passed, &answer)
    {
        let at = xtask::util::time::epoch_ms() as i64;
        result.logs = Some(xtask::logs::command_for(function, version, id, at, aws));
    }
    match &result.failure {
        None => status("Passed", format!("the smoke test of {function}:{version}")),
        Some(why) => status(
            "Failed",
            format!("the smoke test of {function}:{version}: {why}"),
        ),
    }
    result
}
