//! A function's settings from `[package.metadata.lambda]` in its Cargo.toml, over the
//! workspace's defaults in `[workspace.metadata.lambda]`, so flags need not be repeated on
//! every command line:
//!
//! ```toml
//! [package.metadata.lambda]
//! function-name = "echo"
//! arch = "arm64"
//! ```
//!
//! Precedence, one rule for every command: command-line flag, then environment variable
//! (where one exists), then the function's table, then the workspace's, then the built-in
//! default.

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use std::collections::BTreeMap;

use crate::lambda::settings::{ApiKind, Declared, InvokeMode, LogFormat};
use crate::lambda::Arch;

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LambdaMetadata {
    pub function_name: Option<String>,
    /// The binary Lambda starts, for a package with several.
    pub bin: Option<String>,
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
    /// `deploy`'s API in front of the function (`api = "http"`), which the local front door
    /// imitates by default.
    pub api: Option<ApiKind>,
    /// The function URL's invoke mode (`invoke-mode = "RESPONSE_STREAM"`).
    pub invoke_mode: Option<InvokeMode>,
}

impl LambdaMetadata {
    /// This table over `defaults`: each key given here wins; environments merge by variable.
    pub fn over(self, defaults: &LambdaMetadata) -> LambdaMetadata {
        let d = defaults.clone();
        let mut environment = d.environment;
        environment.extend(self.environment);
        LambdaMetadata {
            function_name: self.function_name.or(d.function_name),
            bin: self.bin.or(d.bin),
            arch: self.arch.or(d.arch),
            memory: self.memory.or(d.memory),
            timeout: self.timeout.or(d.timeout),
            environment,
            description: self.description.or(d.description),
            log_format: self.log_format.or(d.log_format),
            application_log_level: self.application_log_level.or(d.application_log_level),
            system_log_level: self.system_log_level.or(d.system_log_level),
            ephemeral_storage: self.ephemeral_storage.or(d.ephemeral_storage),
            smoke_event: self.smoke_event.or(d.smoke_event),
            smoke_expect: self.smoke_expect.or(d.smoke_expect),
            api: self.api.or(d.api),
            invoke_mode: self.invoke_mode.or(d.invoke_mode),
        }
    }

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

/// The keys a table may hold, for the error that names a bad one.
const KEYS: &str = "function-name = \"NAME\", bin = \"BINARY\", arch = \"x86_64\" | \"arm64\", \
    memory = MB, timeout = SECONDS, description = \"...\", log-format = \"Text\" | \"JSON\", \
    application-log-level, system-log-level, ephemeral-storage = MB, smoke-event = \"FILE\", \
    smoke-expect = \"FILE\", api = \"http\", invoke-mode = \"BUFFERED\" | \"RESPONSE_STREAM\", \
    [package.metadata.lambda.environment]";

/// A `[package.metadata.lambda]` table as `cargo metadata` gives it.
pub fn from_json(table: &serde_json::Value) -> Result<LambdaMetadata> {
    Ok(LambdaMetadata::deserialize(table)?)
}

/// The context of a bad table: where it is and what it may hold.
pub fn invalid_table(manifest: &Path) -> String {
    format!(
        "invalid [package.metadata.lambda] in {} (keys: {KEYS})",
        manifest.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in a manifest's text, as cargo metadata hands it over.
    fn parse(manifest: &str) -> Result<LambdaMetadata> {
        let table: toml::Table = toml::from_str(manifest)?;
        from_json(&serde_json::to_value(
            &table["package"]["metadata"]["lambda"],
        )?)
    }

    #[test]
    fn reads_the_table() {
        let m = parse("[package]\nname = \"f\"\n[package.metadata.lambda]\nfunction-name = \"echo\"\narch = \"arm64\"\n").unwrap();
        assert_eq!(m.function_name.as_deref(), Some("echo"));
        assert_eq!(m.arch, Some(Arch::Arm64));
        assert_eq!(
            parse("[package.metadata.lambda]\n").unwrap(),
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
    fn a_function_table_over_the_workspace_defaults() {
        let defaults = parse(
            "[package.metadata.lambda]\nmemory = 512\nlog-format = \"JSON\"\n\
             [package.metadata.lambda.environment]\nA = \"ws\"\nB = \"ws\"\n",
        )
        .unwrap();
        let own = parse(
            "[package.metadata.lambda]\nmemory = 256\n[package.metadata.lambda.environment]\nB = \"own\"\n",
        )
        .unwrap();
        let m = own.over(&defaults);
        assert_eq!((m.memory, m.log_format), (Some(256), Some(LogFormat::Json)));
        assert_eq!(m.environment["A"], "ws");
        assert_eq!(m.environment["B"], "own");
    }

    #[test]
    fn reads_the_api_kind() {
        let m = parse("[package.metadata.lambda]\napi = \"http\"\n").unwrap();
        assert_eq!(m.api, Some(ApiKind::Http));
        let err = format!(
            "{:#}",
            parse("[package.metadata.lambda]\napi = \"rest\"\n").unwrap_err()
        );
        assert!(err.contains("deploy makes HTTP APIs only"), "{err}");
        assert!(parse("[package.metadata.lambda]\napi = \"grpc\"\n").is_err());
        let m = parse("[package.metadata.lambda]\ninvoke-mode = \"RESPONSE_STREAM\"\n").unwrap();
        assert_eq!(m.invoke_mode, Some(InvokeMode::ResponseStream));
        assert!(parse("[package.metadata.lambda]\ninvoke-mode = \"stream\"\n").is_err());
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
