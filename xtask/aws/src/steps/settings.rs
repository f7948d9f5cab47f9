//! The declared settings applied to a function that exists: the changes printed, then
//! UpdateFunctionConfiguration guarded by the RevisionId read, waiting out a conflict.

use anyhow::Result;
use xtask::lambda::settings::{self, Declared};
use xtask::util::status::status;

use crate::lambda::Lambda;
use crate::model::function::Remote;

/// The changes, printed; and applied unless `dry_run`: UpdateFunctionConfiguration with the
/// declared settings only (the environment merged with the current one, since Lambda replaces
/// it whole), guarded by `remote`'s RevisionId. Returns the function as the update left it
/// (still to settle) or `None` when nothing was sent.
pub async fn apply(
    lambda: &Lambda<'_>,
    declared: &Declared,
    remote: &Remote,
    dry_run: bool,
) -> Result<(Vec<settings::Change>, Option<Remote>)> {
    let changes = settings::changes(declared, &remote.settings);
    if changes.is_empty() {
        return Ok((changes, None));
    }
    for change in &changes {
        status(
            if dry_run { "Would set" } else { "Setting" },
            format!("{}: {change}", lambda.function),
        );
    }
    if dry_run {
        return Ok((changes, None));
    }
    let want = settings::desired(declared, &remote.settings);
    let revision = remote.revision_id.as_deref();
    let updated = super::wait::on_conflict(lambda, "the settings", || {
        lambda.update_configuration(declared, &want, revision)
    })
    .await?;
    Ok((changes, Some(updated)))
}

/// What a failed code upload after applied settings left: said so the next run is understood.
pub fn left_between(function: &str, changes: &[settings::Change], running: Option<&str>) -> String {
    format!(
        "the settings of {function} were updated ({}), but its code was not: it runs its \
         previous code (CodeSha256 {}) with the new settings; rerun the deploy to upload the code \
         (the settings are already in place)",
        changes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        running.unwrap_or("unknown")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_left_between_is_spelled_out() {
        let change = settings::Change {
            setting: "memory (MB)".into(),
            from: Some("128".into()),
            to: "256".into(),
        };
        let m = left_between("echo", &[change], Some("abc="));
        assert!(m.contains("memory (MB): 128 -> 256"), "{m}");
        assert!(m.contains("previous code (CodeSha256 abc=)"), "{m}");
        assert!(m.contains("rerun the deploy"), "{m}");
    }
}
