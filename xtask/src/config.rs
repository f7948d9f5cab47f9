//! Per-project settings from `[package.metadata.lambda]` in function/Cargo.toml,
//! so flags need not be repeated on every command line:
//!
//! ```toml
//! [package.metadata.lambda]
//! function-name = "echo"
//! arch = "arm64"
//! ```
//!
//! Precedence: command-line flag, then environment variable (where one exists),
//! then this table, then the built-in default.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::{project_root, Arch};

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LambdaMetadata {
    pub function_name: Option<String>,
    pub arch: Option<Arch>,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    lambda: Option<LambdaMetadata>,
}

/// Parses `[package.metadata.lambda]` out of a Cargo.toml's text.
pub fn parse(manifest: &str) -> Result<LambdaMetadata> {
    let manifest: Manifest = toml::from_str(manifest)?;
    Ok(manifest
        .package
        .and_then(|p| p.metadata)
        .and_then(|m| m.lambda)
        .unwrap_or_default())
}

fn load_from(path: &Path) -> Result<LambdaMetadata> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| {
        format!(
            "invalid [package.metadata.lambda] in {} (keys: function-name = \"NAME\", arch = \"x86_64\" | \"arm64\")",
            path.display()
        )
    })
}

/// The function crate's settings.
pub fn load() -> Result<LambdaMetadata> {
    load_from(&project_root().join("function/Cargo.toml"))
}

/// `--arch` if given, else the metadata's, else x86_64.
pub fn arch(flag: Option<Arch>) -> Result<Arch> {
    Ok(match flag {
        Some(arch) => arch,
        None => load()?.arch.unwrap_or(Arch::X86_64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_and_defaults_when_absent() {
        let m = parse("[package]\nname = \"f\"\n[package.metadata.lambda]\nfunction-name = \"echo\"\narch = \"arm64\"\n").unwrap();
        assert_eq!(m.function_name.as_deref(), Some("echo"));
        assert_eq!(m.arch, Some(Arch::Arm64));
        assert_eq!(
            parse("[package]\nname = \"f\"\n").unwrap(),
            LambdaMetadata::default()
        );
    }

    #[test]
    fn rejects_unknown_arch_and_keys() {
        let err = format!(
            "{:#}",
            parse("[package.metadata.lambda]\narch = \"mips\"\n").unwrap_err()
        );
        assert!(err.contains("mips"), "{err}");
        let err = format!(
            "{:#}",
            parse("[package.metadata.lambda]\nfunction_name = \"x\"\n").unwrap_err()
        );
        assert!(err.contains("function_name"), "{err}");
    }
}
