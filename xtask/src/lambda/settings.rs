//! The function's settings as code: what `[package.metadata.lambda]` and the flags declare
//! (memory, timeout, environment, description, logging, ephemeral storage), checked before
//! any request, and compared with the function's configuration. Pure: the AWS side reads the
//! configuration into [`Current`] and sends what [`plan`] says.
//!
//! Only declared settings are managed: an undeclared one is left as the console or another
//! tool set it, and a declared environment adds or overwrites variables while keeping the
//! others (a variable set by hand survives unless it is declared here).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Lambda's log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum LogFormat {
    #[serde(rename = "Text")]
    #[value(name = "Text", alias = "text")]
    Text,
    #[serde(rename = "JSON")]
    #[value(name = "JSON", alias = "json")]
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "Text",
            LogFormat::Json => "JSON",
        }
    }
}

/// What stands in front of a deployed function, which `deploy --api` makes (and the local
/// front door imitates). Only API Gateway's HTTP API: REST APIs are left to their owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    /// An API Gateway HTTP API: Lambda proxy integration (payload 2.0), `$default` route and
    /// auto-deployed stage.
    Http,
}

impl ApiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Http => "http",
        }
    }

    /// `--api`'s and the table's `api` value; other kinds are refused with the reason.
    pub fn parse(text: &str) -> anyhow::Result<ApiKind> {
        match text {
            "http" => Ok(ApiKind::Http),
            "rest" => anyhow::bail!(
                "`rest`: deploy makes HTTP APIs only (`http`: what AWS recommends for a Lambda \
                 proxy, cheaper and faster, payload 2.0); point an existing REST API's \
                 AWS_PROXY integration at the function or its alias (see the README)"
            ),
            other => anyhow::bail!("`{other}` is not an API kind deploy makes: `http`"),
        }
    }
}

impl<'de> Deserialize<'de> for ApiKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ApiKind, D::Error> {
        let text = String::deserialize(d)?;
        ApiKind::parse(&text).map_err(|e| serde::de::Error::custom(format!("api = {e}")))
    }
}

/// How a function URL answers: buffered (the default), or streaming what the function
/// streams (`RESPONSE_STREAM`); deploy's smoke test of such a function streams too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum InvokeMode {
    #[serde(rename = "BUFFERED")]
    #[value(name = "BUFFERED", alias = "buffered")]
    Buffered,
    #[serde(rename = "RESPONSE_STREAM")]
    #[value(name = "RESPONSE_STREAM", alias = "response-stream")]
    ResponseStream,
}

impl InvokeMode {
    /// As Lambda spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvokeMode::Buffered => "BUFFERED",
            InvokeMode::ResponseStream => "RESPONSE_STREAM",
        }
    }

    /// Lambda's answer (moto writes `Buffered`).
    pub fn from_lambda(text: &str) -> Option<InvokeMode> {
        match text.to_ascii_uppercase().as_str() {
            "BUFFERED" => Some(InvokeMode::Buffered),
            "RESPONSE_STREAM" => Some(InvokeMode::ResponseStream),
            _ => None,
        }
    }
}

/// What is declared; `None` means "leave it as it is".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Declared {
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub environment: BTreeMap<String, String>,
    pub description: Option<String>,
    pub log_format: Option<LogFormat>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub ephemeral_storage_mb: Option<u32>,
}

/// The function's configuration as GetFunction reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Current {
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub environment: BTreeMap<String, String>,
    pub description: Option<String>,
    pub log_format: Option<LogFormat>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub ephemeral_storage_mb: Option<u32>,
}

/// One setting that differs: its name as the report shows it, then and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub setting: String,
    pub from: Option<String>,
    pub to: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.from {
            Some(from) => write!(f, "{}: {from} -> {}", self.setting, self.to),
            None => write!(f, "{}: (unset) -> {}", self.setting, self.to),
        }
    }
}

/// Variables Lambda sets itself and refuses in a function's configuration.
const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// A function's memory as Lambda accepts it, in MB.
pub const MEMORY_MB: RangeInclusive<u32> = 128..=10_240;
/// A function's timeout as Lambda accepts it, in seconds.
pub const TIMEOUT_S: RangeInclusive<u32> = 1..=900;
/// A function's ephemeral storage (/tmp) as Lambda accepts it, in MB.
pub const EPHEMERAL_STORAGE_MB: RangeInclusive<u32> = 512..=10_240;

/// Lambda's limit on all of a function's variables together (keys and values).
pub const MAX_ENVIRONMENT_BYTES: usize = 4096;

const APPLICATION_LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const SYSTEM_LEVELS: &[&str] = &["DEBUG", "INFO", "WARN"];

/// Every declared value within Lambda's bounds, each error naming the setting and the range.
pub fn validate(d: &Declared) -> Result<()> {
    if let Some(m) = d.memory_mb {
        if !MEMORY_MB.contains(&m) {
            let (min, max) = MEMORY_MB.into_inner();
            bail!("memory {m} MB is outside Lambda's {min} to {max} MB");
        }
    }
    if let Some(t) = d.timeout_s {
        if !TIMEOUT_S.contains(&t) {
            let (min, max) = TIMEOUT_S.into_inner();
            bail!("timeout {t} s is outside Lambda's {min} to {max} seconds");
        }
    }
    if let Some(e) = d.ephemeral_storage_mb {
        if !EPHEMERAL_STORAGE_MB.contains(&e) {
            let (min, max) = EPHEMERAL_STORAGE_MB.into_inner();
            bail!("ephemeral storage {e} MB is outside Lambda's {min} to {max} MB");
        }
    }
    if let Some(desc) = &d.description {
        if desc.chars().count() > 256 {
            bail!(
                "the description is {} characters, over Lambda's 256",
                desc.chars().count()
            );
        }
    }
    for name in d.environment.keys() {
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            bail!(
                "environment variable name {name:?} must start with a letter and hold only \
                 letters, digits and underscores"
            );
        }
        if RESERVED.contains(&name.as_str()) {
            bail!("environment variable {name} is reserved: Lambda sets it itself");
        }
    }
    environment_fits(&d.environment)?;
    if let Some(level) = &d.application_log_level {
        if !APPLICATION_LEVELS.contains(&level.as_str()) {
            bail!(
                "application log level {level:?} must be one of {}",
                APPLICATION_LEVELS.join(", ")
            );
        }
    }
    if let Some(level) = &d.system_log_level {
        if !SYSTEM_LEVELS.contains(&level.as_str()) {
            bail!(
                "system log level {level:?} must be one of {}",
                SYSTEM_LEVELS.join(", ")
            );
        }
    }
    let levels = d.application_log_level.is_some() || d.system_log_level.is_some();
    if levels && d.log_format != Some(LogFormat::Json) {
        bail!("log levels need the JSON log format: declare log-format = \"JSON\" (--log-format JSON)");
    }
    Ok(())
}

/// Lambda counts the variables as the JSON object it stores; 4 KB for all of them.
pub fn environment_fits(env: &BTreeMap<String, String>) -> Result<()> {
    let size = serde_json::to_string(env)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if size > MAX_ENVIRONMENT_BYTES {
        bail!(
            "the environment variables take {size} bytes, over Lambda's {MAX_ENVIRONMENT_BYTES}: \
             move large values to SSM Parameter Store or Secrets Manager"
        );
    }
    Ok(())
}

/// What the configuration should become: the current one with every declared setting
/// applied, and the environment merged (declared variables over the current ones).
pub fn desired(declared: &Declared, current: &Current) -> Current {
    let mut environment = current.environment.clone();
    environment.extend(declared.environment.clone());
    Current {
        memory_mb: declared.memory_mb.or(current.memory_mb),
        timeout_s: declared.timeout_s.or(current.timeout_s),
        environment,
        description: declared.description.clone().or(current.description.clone()),
        log_format: declared.log_format.or(current.log_format),
        application_log_level: declared
            .application_log_level
            .clone()
            .or(current.application_log_level.clone()),
        system_log_level: declared
            .system_log_level
            .clone()
            .or(current.system_log_level.clone()),
        ephemeral_storage_mb: declared
            .ephemeral_storage_mb
            .or(current.ephemeral_storage_mb),
    }
}

/// Every declared setting whose value differs from the current configuration, in a fixed
/// order; empty when nothing needs an UpdateFunctionConfiguration.
pub fn changes(declared: &Declared, current: &Current) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |setting: &str, from: Option<String>, to: Option<String>| {
        if let Some(to) = to {
            if from.as_ref() != Some(&to) {
                out.push(Change {
                    setting: setting.to_string(),
                    from,
                    to,
                });
            }
        }
    };
    let s = |v: Option<u32>| v.map(|v| v.to_string());
    push("memory (MB)", s(current.memory_mb), s(declared.memory_mb));
    push("timeout (s)", s(current.timeout_s), s(declared.timeout_s));
    push(
        "ephemeral storage (MB)",
        s(current.ephemeral_storage_mb),
        s(declared.ephemeral_storage_mb),
    );
    push(
        "description",
        current.description.clone(),
        declared.description.clone(),
    );
    push(
        "log format",
        current.log_format.map(|f| f.as_str().to_string()),
        declared.log_format.map(|f| f.as_str().to_string()),
    );
    push(
        "application log level",
        current.application_log_level.clone(),
        declared.application_log_level.clone(),
    );
    push(
        "system log level",
        current.system_log_level.clone(),
        declared.system_log_level.clone(),
    );
    for (name, value) in &declared.environment {
        push(
            &format!("environment {name}"),
            current.environment.get(name).cloned(),
            Some(value.clone()),
        );
    }
    out
}

/// `KEY=VALUE` from `--env`.
pub fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn err(d: Declared) -> String {
        format!("{:#}", validate(&d).unwrap_err())
    }

    #[test]
    fn bounds_are_checked_before_any_request() {
        assert!(validate(&Declared::default()).is_ok());
        let ok = Declared {
            memory_mb: Some(128),
            timeout_s: Some(900),
            ephemeral_storage_mb: Some(10_240),
            environment: env(&[("A_1", "x")]),
            log_format: Some(LogFormat::Json),
            application_log_level: Some("DEBUG".into()),
            ..Default::default()
        };
        assert!(validate(&ok).is_ok());
        assert!(err(Declared {
            memory_mb: Some(127),
            ..Default::default()
        })
        .contains("128 to 10240"));
        assert!(err(Declared {
            memory_mb: Some(10_241),
            ..Default::default()
        })
        .contains("128 to 10240"));
        assert!(err(Declared {
            timeout_s: Some(0),
            ..Default::default()
        })
        .contains("1 to 900"));
        assert!(err(Declared {
            timeout_s: Some(901),
            ..Default::default()
        })
        .contains("1 to 900"));
        assert!(err(Declared {
            ephemeral_storage_mb: Some(511),
            ..Default::default()
        })
        .contains("512 to 10240"));
    }

    #[test]
    fn environment_names_reserved_keys_and_the_4_kb_limit() {
        for bad in ["1A", "A-B", "", "A B"] {
            let e = err(Declared {
                environment: env(&[(bad, "x")]),
                ..Default::default()
            });
            assert!(e.contains("must start with a letter"), "{bad:?}: {e}");
        }
        let e = err(Declared {
            environment: env(&[("AWS_REGION", "x")]),
            ..Default::default()
        });
        assert!(e.contains("reserved"), "{e}");
        let big = "x".repeat(4_000);
        let e = err(Declared {
            environment: env(&[("A", &big), ("B", "y".repeat(200).as_str())]),
            ..Default::default()
        });
        assert!(e.contains("over Lambda's 4096"), "{e}");
        let e = err(Declared {
            application_log_level: Some("INFO".into()),
            ..Default::default()
        });
        assert!(e.contains("need the JSON log format"), "{e}");
        let e = err(Declared {
            log_format: Some(LogFormat::Json),
            system_log_level: Some("TRACE".into()),
            ..Default::default()
        });
        assert!(e.contains("DEBUG, INFO, WARN"), "{e}");
    }

    #[test]
    fn only_declared_settings_that_differ_are_changes() {
        let current = Current {
            memory_mb: Some(128),
            timeout_s: Some(3),
            environment: env(&[("KEPT", "console"), ("MODE", "old")]),
            description: Some(String::new()),
            log_format: Some(LogFormat::Text),
            ..Default::default()
        };
        assert!(changes(&Declared::default(), &current).is_empty());
        let declared = Declared {
            memory_mb: Some(256),
            timeout_s: Some(3),
            environment: env(&[("MODE", "new"), ("ADDED", "1")]),
            ..Default::default()
        };
        let got: Vec<String> = changes(&declared, &current)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "memory (MB): 128 -> 256",
                "environment ADDED: (unset) -> 1",
                "environment MODE: old -> new",
            ]
        );
        let want = desired(&declared, &current);
        assert_eq!(
            want.environment,
            env(&[("ADDED", "1"), ("KEPT", "console"), ("MODE", "new")])
        );
        assert_eq!((want.memory_mb, want.timeout_s), (Some(256), Some(3)));
        assert!(
            changes(&declared, &want).is_empty(),
            "applied settings are not changes"
        );
    }

    #[test]
    fn env_pairs() {
        assert_eq!(parse_env_pair("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert_eq!(parse_env_pair("A=").unwrap(), ("A".into(), String::new()));
        assert!(parse_env_pair("=x").is_err());
        assert!(parse_env_pair("novalue").is_err());
    }
}
