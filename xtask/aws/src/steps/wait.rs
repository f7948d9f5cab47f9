//! Waiting on Lambda, bounded and with progress on stderr: while an update is applied (ours or
//! another's), before sending an update again after a conflict, so a busy function never gets
//! the zip (or its settings) sent again in a tight loop, and while a new execution role has not
//! reached Lambda (CreateFunction sent again).

use std::time::Instant;

use anyhow::{bail, Result};
use xtask::lambda::settings::Declared;
use xtask::lambda::Arch;
use xtask::util::status::status;
use xtask::verify::CheckedZip;

use super::role::{role_not_yet_assumable, LAMBDA_SERVICE};
use crate::lambda::{Attempt, Lambda};
use crate::model::failure::ApiFailure;
use crate::model::function::{in_progress, Remote};
use crate::model::timeouts::{backoff, CONFLICT_UPLOADS, ROLE_PROPAGATION_BUDGET, UPDATE};

/// Polls GetFunction while `pending` says what is still going on, for up to [`UPDATE`].
pub async fn wait_while(
    lambda: &Lambda<'_>,
    mut remote: Remote,
    pending: impl Fn(&Remote) -> Result<Option<String>>,
) -> Result<Remote> {
    let started = Instant::now();
    let mut attempt = 0;
    while let Some(what) = pending(&remote)? {
        let wait = backoff(attempt);
        if started.elapsed() + wait > UPDATE {
            bail!(
                "function {} is still {what} after {} s; check it in the Lambda console \
                 and deploy again once it settles",
                lambda.function,
                UPDATE.as_secs()
            );
        }
        status(
            "Waiting",
            format!(
                "for {} ({what}, {:.0} s so far, at most {} s)",
                lambda.function,
                started.elapsed().as_secs_f64(),
                UPDATE.as_secs()
            ),
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
        remote = lambda.refresh().await?;
    }
    Ok(remote)
}

/// Waits until no update is being applied to the function, whoever started it.
pub async fn until_idle(lambda: &Lambda<'_>, remote: Remote) -> Result<Remote> {
    wait_while(lambda, remote, |r| Ok(in_progress(r))).await
}

/// UpdateFunctionCode; while another update is in progress (409), waits for it to end before
/// sending the zip again, at most [`CONFLICT_UPLOADS`] times in all.
pub async fn upload(
    lambda: &Lambda<'_>,
    zip: &CheckedZip,
    revision: Option<&str>,
    dry_run: bool,
) -> Result<Remote> {
    on_conflict(lambda, "the zip", || lambda.update(zip, revision, dry_run)).await
}

/// Sends an update of `what` (the zip, the settings) with `send`; while another update is in
/// progress (409), waits for it to end before sending again, at most [`CONFLICT_UPLOADS`]
/// times in all.
pub async fn on_conflict<F, Fut>(lambda: &Lambda<'_>, what: &str, mut send: F) -> Result<Remote>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<Remote>>,
{
    let function = lambda.function;
    let mut sends = 0;
    loop {
        sends += 1;
        let (failure, error) = match send().await {
            Ok(updated) => return Ok(updated),
            Err(failed) => failed,
        };
        let ApiFailure::Conflict(reason) = failure else {
            return Err(error);
        };
        if sends >= CONFLICT_UPLOADS {
            bail!(
                "another update kept {function} busy: {what} went out {sends} times, each \
                 time once the update before had ended, and each time Lambda answered that \
                 another was in progress ({reason}); find what keeps updating the function, \
                 then deploy again"
            );
        }
        status(
            "Waiting",
            format!(
                "another update of {function} is in progress; sending {what} again once it \
                 ended (attempt {} of at most {CONFLICT_UPLOADS})",
                sends + 1
            ),
        );
        tokio::time::sleep(backoff(sends - 1)).await;
        let remote = lambda.refresh().await?;
        until_idle(lambda, remote).await?;
    }
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
        match lambda.create(zip, arch, role, declared).await {
            Ok(created) => return Ok(created),
            Err((failure, error)) if role_not_yet_assumable(&failure) => {
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
            Err((_, error)) => return Err(error),
        }
    }
}
