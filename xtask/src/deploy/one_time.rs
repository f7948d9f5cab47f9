//! `deploy`'s flags for the function's settings (over `[package.metadata.lambda]`) and for the
//! one-time setup (`--create`'s execution role, `--url`), flattened into [`super::Args`].

use crate::lambda::settings::{parse_env_pair, ApiKind, Declared, InvokeMode, LogFormat};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// Memory in MB, 128 to 10240 [default: `[package.metadata.lambda] memory`, else unmanaged].
    #[arg(long, value_name = "MB")]
    pub memory: Option<u32>,
    /// Timeout in seconds, 1 to 900 [default: metadata `timeout`].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u32>,
    /// Set an environment variable (repeatable); over metadata's [package.metadata.lambda.environment].
    /// Variables not declared are left as they are.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// The function's description [default: metadata `description`].
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Log format [default: metadata `log-format`].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Application log level (TRACE..FATAL; needs JSON logs) [default: metadata `application-log-level`].
    #[arg(long, value_name = "LEVEL")]
    pub application_log_level: Option<String>,
    /// System log level (DEBUG, INFO, WARN; needs JSON logs) [default: metadata `system-log-level`].
    #[arg(long, value_name = "LEVEL")]
    pub system_log_level: Option<String>,
    /// Ephemeral storage (/tmp) in MB, 512 to 10240 [default: metadata `ephemeral-storage`].
    #[arg(long, value_name = "MB")]
    pub ephemeral_storage: Option<u32>,
}

impl SettingsArgs {
    /// The flags over what the metadata declares; the environment is merged, flags winning.
    pub fn over(&self, metadata: Declared) -> Declared {
        let mut environment = metadata.environment;
        environment.extend(self.env.iter().cloned());
        Declared {
            memory_mb: self.memory.or(metadata.memory_mb),
            timeout_s: self.timeout.or(metadata.timeout_s),
            environment,
            description: self.description.clone().or(metadata.description),
            log_format: self.log_format.or(metadata.log_format),
            application_log_level: self
                .application_log_level
                .clone()
                .or(metadata.application_log_level),
            system_log_level: self.system_log_level.clone().or(metadata.system_log_level),
            ephemeral_storage_mb: self.ephemeral_storage.or(metadata.ephemeral_storage_mb),
        }
    }
}

/// Who may call the Function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlAuth {
    /// Anyone (AuthType NONE, with the two resource-policy statements that allow it).
    Public,
    /// Callers signing with SigV4 who hold lambda:InvokeFunctionUrl (AuthType AWS_IAM).
    Iam,
}

impl UrlAuth {
    /// As Lambda's AuthType spells it.
    pub fn auth_type(self) -> &'static str {
        match self {
            UrlAuth::Public => "NONE",
            UrlAuth::Iam => "AWS_IAM",
        }
    }
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct OneTimeArgs {
    /// With --create and no --role: the execution role to create or reuse [default: the
    /// function's name followed by `-role`].
    #[arg(
        long,
        value_name = "NAME",
        requires = "create",
        conflicts_with = "role"
    )]
    pub role_name: Option<String>,
    /// Create (or keep) a Function URL, on --alias when given, else on the function itself.
    /// A one-time action that needs broader rights than the update-only CI policy.
    #[arg(long, value_enum, value_name = "public|iam")]
    pub url: Option<UrlAuth>,
    /// Put an API Gateway HTTP API in front of the function (of --alias when given), or
    /// check and correct the one there [default: `[package.metadata.lambda] api`]. Making it
    /// is a one-time action, with broader rights than the update-only CI policy.
    #[arg(long, value_name = "http", value_parser = ApiKind::parse)]
    pub api: Option<ApiKind>,
    /// The function URL's invoke mode: RESPONSE_STREAM passes a streamed response on as it
    /// is produced (and the smoke test uses InvokeWithResponseStream) [default:
    /// `[package.metadata.lambda] invoke-mode`, else the URL's is left as it is].
    #[arg(long, value_enum, value_name = "MODE")]
    pub invoke_mode: Option<InvokeMode>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn flags_win_over_metadata_and_environments_merge() {
        let metadata = Declared {
            memory_mb: Some(256),
            timeout_s: Some(10),
            environment: BTreeMap::from([
                ("MODE".to_string(), "toml".to_string()),
                ("KEPT".to_string(), "toml".to_string()),
            ]),
            ..Default::default()
        };
        let flags = SettingsArgs {
            memory: Some(512),
            env: vec![("MODE".into(), "flag".into()), ("NEW".into(), "1".into())],
            ..Default::default()
        };
        let d = flags.over(metadata.clone());
        assert_eq!((d.memory_mb, d.timeout_s), (Some(512), Some(10)));
        assert_eq!(d.environment["MODE"], "flag");
        assert_eq!(d.environment["KEPT"], "toml");
        assert_eq!(d.environment["NEW"], "1");
        assert_eq!(SettingsArgs::default().over(metadata.clone()), metadata);
    }

    #[test]
    fn role_names() {
        use crate::lambda::names::execution_role_name;
        assert_eq!(execution_role_name("echo"), "echo-role");
        assert_eq!(execution_role_name(&"f".repeat(64)).len(), 64);
        assert_eq!(UrlAuth::Public.auth_type(), "NONE");
        assert_eq!(UrlAuth::Iam.auth_type(), "AWS_IAM");
    }
}
