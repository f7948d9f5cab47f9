//! An alias as Lambda reports it, and the decisions over it: the move a deploy makes (guarded
//! by the RevisionId read before anything changed), and the record of each move that deploy
//! and rollback write in the alias's description ([`Record`]), kept where Lambda keeps the
//! alias, so `cargo xtask rollback` works from any machine.

/// An alias as GetAlias reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasState {
    pub version: String,
    pub revision_id: Option<String>,
    pub description: String,
    /// `AliasArn`: the function's ARN, then `:` and the alias.
    pub arn: Option<String>,
    /// The versions a weighted alias sends a share of its traffic to besides `version`.
    pub additional_versions: Vec<String>,
}

/// What an alias's description says about its last move: where from, and where to, so a
/// move made since by something else (which keeps the description) is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A deploy moved it from `previous` (`None`: the deploy created it) to `to`.
    Deployed {
        previous: Option<String>,
        to: String,
    },
    /// A rollback moved it back from `from` to `to`.
    RolledBack { from: String, to: String },
    /// Something else set the alias (the console, the CLI, a description of one's own).
    Unknown,
}

const DEPLOYED: &str = "cargo xtask deploy moved this alias from version ";
const CREATED: &str = "cargo xtask deploy created this alias at version ";
const ROLLED_BACK: &str = "cargo xtask rollback moved this alias back from version ";

/// A published version's number as Lambda writes it: digits, no leading zero.
pub fn is_version(v: &str) -> bool {
    !v.is_empty() && v.len() <= 10 && !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit())
}

impl Record {
    /// The description that records this move.
    pub fn description(&self) -> String {
        match self {
            Record::Deployed {
                previous: Some(from),
                to,
            } => format!("{DEPLOYED}{from} to version {to}"),
            Record::Deployed { previous: None, to } => format!("{CREATED}{to}"),
            Record::RolledBack { from, to } => format!("{ROLLED_BACK}{from} to version {to}"),
            Record::Unknown => String::new(),
        }
    }

    /// What `description` records; versions must be version numbers.
    pub fn parse(description: &str) -> Record {
        let pair = |rest: &str| {
            let (from, to) = rest.split_once(" to version ")?;
            (is_version(from) && is_version(to)).then(|| (from.to_string(), to.to_string()))
        };
        if let Some(to) = description.strip_prefix(CREATED).filter(|v| is_version(v)) {
            return Record::Deployed {
                previous: None,
                to: to.to_string(),
            };
        }
        if let Some((from, to)) = description.strip_prefix(DEPLOYED).and_then(pair) {
            return Record::Deployed {
                previous: Some(from),
                to,
            };
        }
        if let Some((from, to)) = description.strip_prefix(ROLLED_BACK).and_then(pair) {
            return Record::RolledBack { from, to };
        }
        Record::Unknown
    }

    /// The version the recorded move left the alias at.
    pub fn to(&self) -> Option<&str> {
        match self {
            Record::Deployed { to, .. } | Record::RolledBack { to, .. } => Some(to),
            Record::Unknown => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: &str) -> AliasState {
        AliasState {
            additional_versions: Vec::new(),
            version: version.into(),
            revision_id: Some(format!("rev-{version}")),
            description: String::new(),
            arn: None,
        }
    }

    #[test]
    fn records_read_back_what_they_write() {
        for record in [
            Record::Deployed {
                previous: Some("12".into()),
                to: "13".into(),
            },
            Record::Deployed {
                previous: None,
                to: "1".into(),
            },
            Record::RolledBack {
                from: "7".into(),
                to: "6".into(),
            },
        ] {
            assert_eq!(Record::parse(&record.description()), record);
        }
        assert_eq!(
            Record::Deployed {
                previous: Some("3".into()),
                to: "4".into()
            }
            .description(),
            "cargo xtask deploy moved this alias from version 3 to version 4"
        );
        for other in [
            "",
            "production traffic",
            "cargo xtask deploy moved this alias from version $LATEST to version 2",
            "cargo xtask deploy moved this alias from version 3",
            "cargo xtask deploy moved this alias from version 0007 to version 8",
            "cargo xtask deploy moved this alias from version 3 to version 4 and more",
            "cargo xtask rollback moved this alias back from version  to version 2",
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
