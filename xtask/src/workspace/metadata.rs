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

use std::collections::BTreeMap;

use crate::lambda::settings::{Declared, LogFormat};
use crate::lambda::Arch;

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LambdaMetadata {
    pub function_name: Option<String>,
    pub arch: Option<Arch>,
    /// The function's settings, managed by `deploy` (see `deploy::settings`).
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    pub description: Option<String>,
    pub log_format: Option<LogFormat>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub ephemeral_storage: Option<u32>,
    /// `deploy`'s smoke test: an event file and the answer it must give, relative to the
    /// function crate's directory.
    pub smoke_event: Option<std::path::PathBuf>,
    pub smoke_expect: Option<std::path::PathBuf>,
}

impl LambdaMetadata {
    /// The settings this table declares, for `deploy` to apply.
    pub fn declared(&self) -> Declared {
        Declared {
            memory_mb: self.memory,
            timeout_s: self.timeout,
            environment: self.environment.clone(),
            description: self.description.clone(),
            log_format: self.log_format,
            application_log_level: self.application_log_level.clone(),
            system_log_level: self.system_log_level.clone(),
            ephemeral_storage_mb: self.ephemeral_storage,
        }
    }
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
            "invalid [package.metadata.lambda] in {} (keys: function-name = \"NAME\", arch = \"x86_64\" | \"arm64\", \
             memory = MB, timeout = SECONDS, description = \"...\", log-format = \"Text\" | \"JSON\", \
             application-log-level, system-log-level, ephemeral-storage = MB, smoke-event = \"FILE\", \
             smoke-expect = \"FILE\", [package.metadata.lambda.environment])",
            path.display()
        )
    })
}

/// The function crate's settings.
pub fn load() -> Result<LambdaMetadata> {
    load_from(&super::function().manifest())
}

/// `--arch` if given, else the metadata's, else x86_64.
pub fn arch(flag: Option<Arch>) -> Result<Arch> {
    Ok(match flag {
        Some(arch) => arch,
        None => load()?.arch.unwrap_or(Arch::X86_64),
    })
}

/// What a command needs to know about the function before it talks to AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub function_name: String,
    pub arch: Arch,
}

/// The function name and architecture, each from its flag (or environment variable, which clap
/// folds into the flag), else the metadata, else the default; reads the manifest only when a
/// flag is missing. A blank name counts as none.
pub fn target(function_name: Option<&str>, arch: Option<Arch>) -> Result<Target> {
    let given = function_name.filter(|n| !n.trim().is_empty());
    let metadata = if given.is_none() || arch.is_none() {
        load()?
    } else {
        LambdaMetadata::default()
    };
    resolve(given, arch, metadata)
}

/// The function name alone, from its flag (or environment variable), else the metadata: for
/// commands that have no artifact, so no architecture (`setup-ci`).
pub fn function_name(flag: Option<&str>) -> Result<String> {
    // With an architecture given, the manifest is read only when the name is missing.
    Ok(target(flag, Some(Arch::X86_64))?.function_name)
}

fn resolve(given: Option<&str>, arch: Option<Arch>, metadata: LambdaMetadata) -> Result<Target> {
    let function_name = given
        .map(str::to_string)
        .or(metadata.function_name.filter(|n| !n.trim().is_empty()))
        .context(
            "no function name given: pass --function-name NAME, set LAMBDA_FUNCTION_NAME, or add \
             `function-name = \"...\"` under [package.metadata.lambda] in function/Cargo.toml",
        )?;
    Ok(Target {
        function_name,
        arch: arch.or(metadata.arch).unwrap_or(Arch::X86_64),
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

    #[test]
    fn flags_win_over_metadata_and_blank_names_count_as_none() {
        let metadata = LambdaMetadata {
            function_name: Some("from-toml".into()),
            arch: Some(Arch::Arm64),
            ..Default::default()
        };
        let t = resolve(Some("flag"), None, metadata.clone()).unwrap();
        assert_eq!((t.function_name.as_str(), t.arch), ("flag", Arch::Arm64));
        let t = resolve(None, Some(Arch::X86_64), metadata).unwrap();
        assert_eq!(
            (t.function_name.as_str(), t.arch),
            ("from-toml", Arch::X86_64)
        );
        let blank = LambdaMetadata {
            function_name: Some("  ".into()),
            ..Default::default()
        };
        let err = resolve(None, None, blank).unwrap_err().to_string();
        assert!(err.contains("no function name given"), "{err}");
    }

    #[test]
    fn reads_the_function_settings() {
        let m = parse(
            "[package.metadata.lambda]\nmemory = 256\ntimeout = 10\nlog-format = \"JSON\"\n\
             application-log-level = \"DEBUG\"\n[package.metadata.lambda.environment]\nMODE = \"prod\"\n",
        )
        .unwrap();
        let d = m.declared();
        assert_eq!((d.memory_mb, d.timeout_s), (Some(256), Some(10)));
        assert_eq!(d.log_format, Some(LogFormat::Json));
        assert_eq!(d.environment.get("MODE").map(String::as_str), Some("prod"));
        assert!(parse("[package.metadata.lambda]\nmemory = \"lots\"\n").is_err());
    }
}
