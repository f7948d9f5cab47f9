//! `--alias`, never moved backwards: the alias's version and RevisionId are read (GetAlias)
//! before anything changes, and the move is guarded by that RevisionId. An alias that another
//! deploy moved (or created) meanwhile is left where that deploy put it, with a clear error.
//! Each move writes the alias's description ([`Record`]), the version it came from.

use anyhow::{bail, Result};
use xtask::util::status::status;

use crate::lambda::Lambda;
use crate::model::alias::{
    alias_move, created_meanwhile, moved_meanwhile, AliasMove, AliasState, Record,
};
use crate::model::failure::ApiFailure;

/// Points `alias` at `version`, guarded by what GetAlias said when the deploy began.
pub async fn point(
    lambda: &Lambda<'_>,
    alias: &str,
    at_start: Option<&AliasState>,
    version: &str,
) -> Result<()> {
    let function = lambda.function;
    match alias_move(at_start, version) {
        AliasMove::Already => {
            status("Unchanged", format!("{function}:{alias} -> {version}"));
            return Ok(());
        }
        AliasMove::Create => match lambda
            .create_alias(
                alias,
                version,
                &Record::Deployed {
                    previous: None,
                    to: version.to_string(),
                }
                .description(),
            )
            .await
        {
            Ok(()) => {}
            Err((ApiFailure::Conflict(_), _)) => {
                let current = lambda.get_alias(alias).await.ok().flatten();
                bail!(created_meanwhile(
                    function,
                    alias,
                    current.as_ref(),
                    version
                ));
            }
            Err((_, error)) => return Err(error),
        },
        AliasMove::Update { revision_id } => {
            let record = Record::Deployed {
                previous: at_start.map(|a| a.version.clone()),
                to: version.to_string(),
            };
            match lambda
                .update_alias(
                    alias,
                    version,
                    revision_id.as_deref(),
                    &record.description(),
                )
                .await
            {
                Ok(()) => {}
                Err((ApiFailure::StaleRevision | ApiFailure::NotFound, _)) => {
                    let current = lambda.get_alias(alias).await.ok().flatten();
                    let start = at_start.cloned().unwrap_or_default();
                    bail!(moved_meanwhile(
                        function,
                        alias,
                        &start,
                        current.as_ref(),
                        version
                    ));
                }
                Err((_, error)) => return Err(error),
            }
        }
    }
    status("Aliased", format!("{function}:{alias} -> {version}"));
    Ok(())
}
