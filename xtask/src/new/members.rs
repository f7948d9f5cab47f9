//! The decisions of `cargo xtask new` (pure): is the name one Lambda and cargo both take,
//! and the workspace manifest with the new member added, its formatting kept.

use anyhow::{bail, Context, Result};

/// Names cargo refuses for a package, or that would share a path in `target/` with cargo's
/// own folders (the binary is named after the package).
const RESERVED: &[&str] = &[
    "test",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "proc-macro",
    "build",
    "deps",
    "examples",
    "incremental",
    "bootstrap",
    "xtask",
    "target",
];

/// Rust's keywords: a package name becomes a crate name (`-` → `_`) that must not be one.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// A name that is at once a Lambda function name, a cargo package name and a folder name.
pub fn check_name(name: &str) -> Result<()> {
    if crate::lambda::names::parse_function(name).is_err() || name.contains(':') {
        bail!("{name:?} cannot name a Lambda function: 1 to 64 letters, digits, `-` or `_`");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.starts_with('-') {
        bail!("{name:?}: a package name starts with a letter or `_`");
    }
    if name != name.to_ascii_lowercase() {
        bail!("{name:?}: use lower case (cargo warns on, and some file systems fold, upper case)");
    }
    if RESERVED.contains(&name) || KEYWORDS.contains(&name.replace('-', "_").as_str()) {
        bail!("{name:?} is reserved (a Rust keyword, or a name cargo or this workspace uses)");
    }
    Ok(())
}

/// `manifest` (the workspace's Cargo.toml) with `member` appended to `[workspace] members`,
/// everything else byte for byte. Refused when the array is not found as written text.
pub fn add_member(manifest: &str, member: &str) -> Result<String> {
    let before = members(manifest)?;
    if before.iter().any(|m| m == member) {
        bail!("{member:?} is already a member of the workspace");
    }
    let cannot = || {
        anyhow::anyhow!(
            "cannot find `members = [...]` under [workspace] in the workspace's Cargo.toml to \
             add {member:?}; add it by hand"
        )
    };
    // Offsets come from the text itself (`split_inclusive` keeps `\r\n`), so a CRLF file
    // or a multi-byte character cannot shift them.
    let header = manifest
        .split_inclusive('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .find(|(_, line)| line.trim() == "[workspace]")
        .map(|(start, _)| start)
        .ok_or_else(cannot)?;
    let key = header + manifest[header..].find("\nmembers").ok_or_else(cannot)?;
    let open = key + manifest[key..].find('[').ok_or_else(cannot)?;
    let close = open + manifest[open..].find(']').ok_or_else(cannot)?;
    let inside = &manifest[open + 1..close];
    let trimmed = inside.trim_end();
    let addition = match trimmed.trim() {
        "" => format!("\"{member}\""),
        t if t.ends_with(',') && inside.contains('\n') => {
            format!("\n    \"{member}\",")
        }
        t if t.ends_with(',') => format!(" \"{member}\""),
        _ if inside.contains('\n') => format!(",\n    \"{member}\","),
        _ => format!(", \"{member}\""),
    };
    let at = open + 1 + trimmed.len();
    let edited = format!("{}{addition}{}", &manifest[..at], &manifest[at..]);
    // The edit is trusted only when cargo would read exactly one more member from it.
    let after = members(&edited).map_err(|_| cannot())?;
    let mut expected = before;
    expected.push(member.to_string());
    if after != expected {
        return Err(cannot());
    }
    Ok(edited)
}

/// The names of the packages a lock file holds (`[[package]] name = "…"`).
pub fn locked_packages(lock: &str) -> impl Iterator<Item = &str> {
    lock.lines().filter_map(|line| {
        line.strip_prefix("name = \"")
            .and_then(|rest| rest.strip_suffix('"'))
    })
}

fn members(manifest: &str) -> Result<Vec<String>> {
    let table: toml::Table = toml::from_str(manifest).context("the workspace's Cargo.toml")?;
    let members = table
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .context("the workspace's Cargo.toml has no [workspace] members array")?;
    members
        .iter()
        .map(|m| {
            m.as_str()
                .map(str::to_string)
                .context("a member that is not a string")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lambda_and_cargo_both_take() {
        for good in ["orders", "orders-api", "a", "order_events2"] {
            check_name(good).unwrap();
        }
        for (bad, why) in [
            ("", "cannot name a Lambda function"),
            ("a\nb", "cannot name a Lambda function"),
            (&"x".repeat(65), "cannot name a Lambda function"),
            ("a.b", "cannot name a Lambda function"),
            ("2fast", "starts with a letter"),
            ("-x", "starts with a letter"),
            ("Orders", "lower case"),
            ("test", "reserved"),
            ("self", "reserved"),
            ("build", "reserved"),
            ("bootstrap", "reserved"),
        ] {
            let err = format!("{:#}", check_name(bad).unwrap_err());
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_member_is_added_and_nothing_else_changes() {
        let one_line = "[workspace]\nmembers = [\"function\", \"xtask\"]\nresolver = \"2\"\n";
        assert_eq!(
            add_member(one_line, "orders").unwrap(),
            "[workspace]\nmembers = [\"function\", \"xtask\", \"orders\"]\nresolver = \"2\"\n"
        );
        let lines = "# top\n[workspace]\nresolver = \"2\"\nmembers = [\n    \"function\",\n    \"xtask\",\n]\n\n[profile.release]\nlto = true\n";
        assert_eq!(
            add_member(lines, "orders").unwrap(),
            "# top\n[workspace]\nresolver = \"2\"\nmembers = [\n    \"function\",\n    \"xtask\",\n    \"orders\",\n]\n\n[profile.release]\nlto = true\n"
        );
        let no_comma = "[workspace]\nmembers = [\n  \"function\"\n]\n";
        assert_eq!(
            members(&add_member(no_comma, "orders").unwrap()).unwrap(),
            ["function", "orders"]
        );
        assert_eq!(
            add_member("[workspace]\nmembers = []\n", "orders").unwrap(),
            "[workspace]\nmembers = [\"orders\"]\n"
        );
    }

    #[test]
    fn the_lock_file_names_its_packages() {
        let lock = "version = 4\n\n[[package]]\nname = \"tokio\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"serde\"\n";
        assert_eq!(
            locked_packages(lock).collect::<Vec<_>>(),
            ["tokio", "serde"]
        );
    }

    #[test]
    fn a_crlf_manifest_with_other_scripts_is_edited_in_place() {
        let crlf = "# é ü\r\n[workspace]\r\nmembers = [\"function\"]\r\n";
        assert_eq!(
            add_member(crlf, "orders").unwrap(),
            "# é ü\r\n[workspace]\r\nmembers = [\"function\", \"orders\"]\r\n"
        );
    }

    #[test]
    fn manifests_it_cannot_edit_are_refused() {
        let err = |m: &str| format!("{:#}", add_member(m, "orders").unwrap_err());
        assert!(err("[workspace]\nmembers = [\"orders\"]\n").contains("already a member"));
        assert!(err("[package]\nname = \"x\"\n").contains("no [workspace] members"));
        // An inline table form the text edit does not know.
        let e = err("workspace = { members = [\"a\"] }\n");
        assert!(e.contains("add it by hand"), "{e}");
        // A `]` inside a member's name would end the array early: the check catches it.
        let e = err("[workspace]\nmembers = [\"a]b\"]\n");
        assert!(e.contains("add it by hand"), "{e}");
        assert!(err("not toml [").contains("Cargo.toml"));
    }
}
