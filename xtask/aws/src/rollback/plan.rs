//! What a rollback does, decided from the alias as GetAlias reports it: a pure function,
//! tested without AWS.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::model::alias::{is_version, AliasState, Record};

/// The move a rollback makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollback {
    pub from: String,
    pub to: String,
    /// The alias's RevisionId when it was read: UpdateAlias is refused if it moved since.
    #[serde(skip)]
    pub revision_id: Option<String>,
}

fn check_version(version: &str) -> Result<()> {
    if !is_version(version) {
        bail!(
            "--to {version:?} is not a version number: give a published version such as 7 \
             (`aws lambda list-versions-by-function` lists them)"
        );
    }
    Ok(())
}

/// Where `alias` of `function` goes back to: `to`, else the version the last deploy moved it
/// from. `Ok(None)`: it already points there.
pub fn plan(
    function: &str,
    alias: &str,
    current: Option<&AliasState>,
    to: Option<&str>,
) -> Result<Option<Rollback>> {
    let Some(current) = current else {
        bail!("alias {alias} of {function} does not exist: there is nothing to roll back");
    };
    let here = &current.version;
    let target = match to {
        Some(version) => {
            check_version(version)?;
            version.to_string()
        }
        None => match Record::parse(&current.description) {
            // Moved since by something that kept the description: the record is not about
            // where the alias is now.
            record if record.to().is_some_and(|to| to != here) => bail!(
                "alias {alias} of {function} is at version {here}, but its description records \
                 a move to version {}: something moved it since without saying where from; \
                 pass --to VERSION",
                record.to().unwrap_or_default()
            ),
            Record::Deployed {
                previous: Some(previous),
                ..
            } => previous,
            Record::Deployed { previous: None, .. } => bail!(
                "alias {alias} of {function} was created by the deploy that pointed it at \
                 version {here}: there is no earlier version to go back to; pass --to VERSION \
                 to pick one"
            ),
            Record::RolledBack { from, .. } => bail!(
                "alias {alias} of {function} was last moved by a rollback, from version {from} \
                 to version {here}; another rollback without --to would have to guess, so \
                 nothing changed: `--to {from}` undoes that rollback, `--to VERSION` picks \
                 another version"
            ),
            Record::Unknown => bail!(
                "alias {alias} of {function} (at version {here}) does not record the version \
                 it had before: its last move was not made by `cargo xtask deploy` (its \
                 description is {:?}); pass --to VERSION",
                current.description
            ),
        },
    };
    if &target == here {
        return Ok(None);
    }
    Ok(Some(Rollback {
        from: here.clone(),
        to: target,
        revision_id: current.revision_id.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(version: &str, record: Record) -> AliasState {
        AliasState {
            additional_versions: Vec::new(),
            version: version.into(),
            revision_id: Some("rev".into()),
            description: record.description(),
            arn: None,
        }
    }

    fn err(result: Result<Option<Rollback>>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn goes_back_to_the_version_the_last_deploy_came_from() {
        let deployed = alias(
            "5",
            Record::Deployed {
                previous: Some("4".into()),
                to: "5".into(),
            },
        );
        assert_eq!(
            plan("echo", "live", Some(&deployed), None).unwrap(),
            Some(Rollback {
                from: "5".into(),
                to: "4".into(),
                revision_id: Some("rev".into())
            })
        );
        // --to wins, and a version it already has is no move.
        assert_eq!(
            plan("echo", "live", Some(&deployed), Some("2"))
                .unwrap()
                .unwrap()
                .to,
            "2"
        );
        assert_eq!(
            plan("echo", "live", Some(&deployed), Some("5")).unwrap(),
            None
        );
    }

    #[test]
    fn never_guesses() {
        let twice = alias(
            "4",
            Record::RolledBack {
                from: "5".into(),
                to: "4".into(),
            },
        );
        let e = err(plan("echo", "live", Some(&twice), None));
        assert!(
            e.contains("last moved by a rollback, from version 5 to version 4"),
            "{e}"
        );
        assert!(e.contains("`--to 5` undoes that rollback"), "{e}");
        assert_eq!(
            plan("echo", "live", Some(&twice), Some("5"))
                .unwrap()
                .unwrap()
                .to,
            "5"
        );
        let created = alias(
            "1",
            Record::Deployed {
                previous: None,
                to: "1".into(),
            },
        );
        // Moved by hand after the recorded move (the description stayed): no guess either.
        let mut moved = alias(
            "7",
            Record::Deployed {
                previous: Some("4".into()),
                to: "5".into(),
            },
        );
        let e = err(plan("echo", "live", Some(&moved), None));
        assert!(
            e.contains("is at version 7, but its description records a move to version 5"),
            "{e}"
        );
        moved.version = "4".into();
        assert!(
            plan("echo", "live", Some(&moved), None).is_err(),
            "back by hand: no guess"
        );
        let e = err(plan("echo", "live", Some(&created), None));
        assert!(e.contains("no earlier version"), "{e}");
        let mut console = alias("3", Record::Unknown);
        console.description = "set by hand".into();
        let e = err(plan("echo", "live", Some(&console), None));
        assert!(
            e.contains("\"set by hand\"") && e.contains("--to VERSION"),
            "{e}"
        );
        let e = err(plan("echo", "live", None, None));
        assert!(e.contains("does not exist"), "{e}");
        for bad in ["$LATEST", "", "v3", "live", "12345678901", "004", "0"] {
            let e = err(plan("echo", "live", Some(&created), Some(bad)));
            assert!(e.contains("not a version number"), "{bad}: {e}");
        }
    }
}
