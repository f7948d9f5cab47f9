//! `--alias`, never moved backwards: the alias's version and RevisionId are read (GetAlias)
//! before anything changes, and the move is guarded by that RevisionId. An alias that another
//! deploy moved (or created) meanwhile is left where that deploy put it, with a clear error.
//!
//! Each move writes the alias's description ([`Record`]): the version it came from, kept
//! where Lambda keeps the alias, so `cargo xtask rollback` works from any machine.

use anyhow::{bail, Result};
use xtask::util::status::status;

use super::errors::ApiFailure;
use super::lambda_api::Lambda;

/// An alias as GetAlias reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasState {
    pub version: String,
    pub revision_id: Option<String>,
    pub description: String,
}

/// What an alias's description says about its last move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A deploy moved it, from `previous` (`None`: the deploy created it).
    Deployed { previous: Option<String> },
    /// A rollback moved it back, from `from`.
    RolledBack { from: String },
    /// Something else set the alias (the console, the CLI, a description of one's own).
    Unknown,
}

const DEPLOYED_FROM: &str = "cargo xtask deploy moved this alias from version ";
const CREATED: &str = "cargo xtask deploy created this alias";
const ROLLED_BACK_FROM: &str = "cargo xtask rollback moved this alias back from version ";

impl Record {
    /// The description that records this move.
    pub fn description(&self) -> String {
        match self {
            Record::Deployed {
                previous: Some(version),
            } => format!("{DEPLOYED_FROM}{version}"),
            Record::Deployed { previous: None } => CREATED.to_string(),
            Record::RolledBack { from } => format!("{ROLLED_BACK_FROM}{from}"),
            Record::Unknown => String::new(),
        }
    }

    /// What `description` records; a version must be a version number.
    pub fn parse(description: &str) -> Record {
        let version = |v: &str| {
            (!v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
                .then(|| v.to_string())
        };
        if description == CREATED {
            return Record::Deployed { previous: None };
        }
        if let Some(v) = description.strip_prefix(DEPLOYED_FROM).and_then(version) {
            return Record::Deployed { previous: Some(v) };
        }
        if let Some(v) = description.strip_prefix(ROLLED_BACK_FROM).and_then(version) {
            return Record::RolledBack { from: v };
        }
        Record::Unknown
    }
}

/// What to do with the alias once `version` is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasMove {
    /// It already points at the version (a rerun): no call.
    Already,
    /// It did not exist when the deploy began: CreateAlias, which fails if it exists now.
    Create,
    /// UpdateAlias with the RevisionId read when the deploy began, which fails if it moved.
    Update { revision_id: Option<String> },
}

/// The move from what GetAlias said when the deploy began.
pub fn alias_move(at_start: Option<&AliasState>, version: &str) -> AliasMove {
    match at_start {
        None => AliasMove::Create,
        Some(alias) if alias.version == version => AliasMove::Already,
        Some(alias) => AliasMove::Update {
            revision_id: alias.revision_id.clone(),
        },
    }
}

fn now(state: Option<&AliasState>) -> String {
    match state {
        Some(s) => format!("now points to version {}", s.version),
        None => "no longer exists".to_string(),
    }
}

/// UpdateAlias was refused (its RevisionId is stale, or the alias is gone).
pub fn moved_meanwhile(
    function: &str,
    alias: &str,
    at_start: &AliasState,
    current: Option<&AliasState>,
    published: &str,
) -> String {
    format!(
        "alias {alias} of {function} moved since this deploy began: it pointed to version {} \
         and {}; another deploy or change moved it, so it was left as it is (this deploy \
         published version {published}, which the alias does not point to); rerun the deploy \
         to go on top of the other one",
        at_start.version,
        now(current)
    )
}

/// CreateAlias was refused: the alias appeared since GetAlias said there was none.
pub fn created_meanwhile(
    function: &str,
    alias: &str,
    current: Option<&AliasState>,
    published: &str,
) -> String {
    format!(
        "alias {alias} of {function} was created since this deploy began: it {}, and was left \
         as it is (this deploy published version {published}, which the alias does not point \
         to); rerun the deploy to go on top of the other one",
        now(current)
    )
}

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
                &Record::Deployed { previous: None }.description(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: &str) -> AliasState {
        AliasState {
            version: version.into(),
            revision_id: Some(format!("rev-{version}")),
            description: String::new(),
        }
    }

    #[test]
    fn records_read_back_what_they_write() {
        for record in [
            Record::Deployed {
                previous: Some("12".into()),
            },
            Record::Deployed { previous: None },
            Record::RolledBack { from: "7".into() },
        ] {
            assert_eq!(Record::parse(&record.description()), record);
        }
        assert_eq!(
            Record::Deployed {
                previous: Some("3".into())
            }
            .description(),
            "cargo xtask deploy moved this alias from version 3"
        );
        for other in [
            "",
            "production traffic",
            "cargo xtask deploy moved this alias from version $LATEST",
            "cargo xtask deploy moved this alias from version 3 and more",
            "cargo xtask rollback moved this alias back from version ",
        ] {
            assert_eq!(Record::parse(other), Record::Unknown, "{other}");
        }
    }

    #[test]
    fn moves_are_guarded_by_the_revision_read_at_the_start() {
        assert_eq!(alias_move(None, "3"), AliasMove::Create);
        assert_eq!(alias_move(Some(&at("3")), "3"), AliasMove::Already);
        assert_eq!(
            alias_move(Some(&at("2")), "3"),
            AliasMove::Update {
                revision_id: Some("rev-2".into())
            }
        );
    }

    #[test]
    fn refusals_say_where_the_alias_is_and_what_was_published() {
        let moved = moved_meanwhile("echo", "live", &at("1"), Some(&at("3")), "2");
        assert!(
            moved.starts_with(
                "alias live of echo moved since this deploy began: it pointed to version 1 \
                 and now points to version 3;"
            ),
            "{moved}"
        );
        assert!(moved.contains("published version 2"), "{moved}");
        assert!(moved.contains("rerun"), "{moved}");
        let gone = moved_meanwhile("echo", "live", &at("1"), None, "2");
        assert!(gone.contains("and no longer exists"), "{gone}");
        let created = created_meanwhile("echo", "live", Some(&at("2")), "3");
        assert!(
            created.starts_with(
                "alias live of echo was created since this deploy began: it now points to \
                 version 2"
            ),
            "{created}"
        );
    }
}
