//! The function's settings as code, on the AWS side: the configuration GetFunction returns read
//! into [`Current`], the declared settings put on CreateFunction, and UpdateFunctionConfiguration
//! (guarded by RevisionId) when they differ. The decisions are `xtask::lambda::settings`'.

use std::collections::HashMap;

use anyhow::{Context, Result};
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::types::{
    ApplicationLogLevel, Environment, EphemeralStorage, LogFormat, LoggingConfig, SystemLogLevel,
};
use xtask::deploy::Operation;
use xtask::lambda::settings::{self, Current, Declared};
use xtask::util::status::status;

use super::errors::ApiFailure;
use super::lambda_api::{Attempt, Lambda};
use super::plan::Remote;

/// [`Current`] from anything shaped like a FunctionConfiguration (GetFunction's, or the answer
/// of CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration).
macro_rules! current_from {
    ($c:expr) => {{
        let c = $c;
        let logging = c.logging_config();
        xtask::lambda::settings::Current {
            memory_mb: c.memory_size().and_then(|m| u32::try_from(m).ok()),
            timeout_s: c.timeout().and_then(|t| u32::try_from(t).ok()),
            environment: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            description: c.description().map(str::to_string),
            log_format: logging
                .and_then(|l| l.log_format())
                .and_then(|f| $crate::deploy::configuration::log_format(f.as_str())),
            application_log_level: logging
                .and_then(|l| l.application_log_level())
                .map(|l| l.as_str().to_string()),
            system_log_level: logging
                .and_then(|l| l.system_log_level())
                .map(|l| l.as_str().to_string()),
            ephemeral_storage_mb: c
                .ephemeral_storage()
                .and_then(|e| u32::try_from(e.size()).ok()),
        }
    }};
}
pub(crate) use current_from;

/// Lambda's spelling of a log format, as ours.
pub fn log_format(lambda: &str) -> Option<settings::LogFormat> {
    match lambda {
        "JSON" => Some(settings::LogFormat::Json),
        "Text" => Some(settings::LogFormat::Text),
        _ => None,
    }
}

/// The declared logging, or `None` when nothing about logging is declared.
fn logging(declared: &Declared) -> Option<LoggingConfig> {
    let declared_any = declared.log_format.is_some()
        || declared.application_log_level.is_some()
        || declared.system_log_level.is_some();
    declared_any.then(|| {
        LoggingConfig::builder()
            .set_log_format(declared.log_format.map(|f| LogFormat::from(f.as_str())))
            .set_application_log_level(
                declared
                    .application_log_level
                    .as_deref()
                    .map(ApplicationLogLevel::from),
            )
            .set_system_log_level(
                declared
                    .system_log_level
                    .as_deref()
                    .map(SystemLogLevel::from),
            )
            .build()
    })
}

fn ephemeral(mb: Option<u32>) -> Result<Option<EphemeralStorage>> {
    mb.map(|mb| {
        EphemeralStorage::builder()
            .size(mb as i32)
            .build()
            .context("building EphemeralStorage")
    })
    .transpose()
}

fn environment(variables: &std::collections::BTreeMap<String, String>) -> Environment {
    let map: HashMap<String, String> = variables.clone().into_iter().collect();
    Environment::builder().set_variables(Some(map)).build()
}

/// `--create`: the declared settings on the CreateFunction request (the rest are Lambda's
/// defaults).
pub fn on_create(
    request: CreateFunctionFluentBuilder,
    declared: &Declared,
) -> Result<CreateFunctionFluentBuilder> {
    Ok(request
        .set_memory_size(declared.memory_mb.map(|m| m as i32))
        .set_timeout(declared.timeout_s.map(|t| t as i32))
        .set_description(declared.description.clone())
        .set_environment(
            (!declared.environment.is_empty()).then(|| environment(&declared.environment)),
        )
        .set_logging_config(logging(declared))
        .set_ephemeral_storage(ephemeral(declared.ephemeral_storage_mb)?))
}

/// The changes, printed; and applied unless `dry_run`: UpdateFunctionConfiguration with the
/// declared settings only (the environment merged with the current one, since Lambda replaces
/// it whole), guarded by `remote`'s RevisionId. Returns the function as the update left it
/// (still to settle) or `None` when nothing was sent.
pub async fn apply(
    lambda: &Lambda<'_>,
    declared: &Declared,
    remote: &Remote,
    dry_run: bool,
) -> Result<(Vec<settings::Change>, Option<Remote>)> {
    let changes = settings::changes(declared, &remote.settings);
    if changes.is_empty() {
        return Ok((changes, None));
    }
    for change in &changes {
        status(
            if dry_run { "Would set" } else { "Setting" },
            format!("{}: {change}", lambda.function),
        );
    }
    if dry_run {
        return Ok((changes, None));
    }
    let want = settings::desired(declared, &remote.settings);
    let revision = remote.revision_id.as_deref();
    let updated = super::wait::on_conflict(lambda, "the settings", || {
        lambda.update_configuration(declared, &want, revision)
    })
    .await?;
    Ok((changes, Some(updated)))
}

impl Lambda<'_> {
    /// UpdateFunctionConfiguration, once, guarded by `revision`; a conflict is the caller's
    /// to wait out.
    pub async fn update_configuration(
        &self,
        declared: &Declared,
        want: &Current,
        revision: Option<&str>,
    ) -> Attempt<Remote> {
        let storage = ephemeral(declared.ephemeral_storage_mb)
            .map_err(|e| (ApiFailure::Other(e.to_string()), e))?;
        self.client
            .update_function_configuration()
            .function_name(self.function)
            .set_memory_size(declared.memory_mb.map(|m| m as i32))
            .set_timeout(declared.timeout_s.map(|t| t as i32))
            .set_description(declared.description.clone())
            .set_environment(
                (!declared.environment.is_empty()).then(|| environment(&want.environment)),
            )
            .set_logging_config(logging(declared))
            .set_ephemeral_storage(storage)
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map(|out| super::lambda_api::remote_from!(self.function, &out))
            .map_err(|err| self.fail(Operation::UpdateFunctionConfiguration, err))
    }
}

/// What a failed code upload after applied settings left: said so the next run is understood.
pub fn left_between(function: &str, changes: &[settings::Change], running: Option<&str>) -> String {
    format!(
        "the settings of {function} were updated ({}), but its code was not: it runs its \
         previous code (CodeSha256 {}) with the new settings; rerun the deploy to upload the code \
         (the settings are already in place)",
        changes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        running.unwrap_or("unknown")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_only_when_declared() {
        assert!(logging(&Declared::default()).is_none());
        let l = logging(&Declared {
            log_format: Some(settings::LogFormat::Json),
            application_log_level: Some("DEBUG".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.log_format().map(|f| f.as_str()), Some("JSON"));
        assert_eq!(l.application_log_level().map(|f| f.as_str()), Some("DEBUG"));
        assert!(l.system_log_level().is_none());
        assert_eq!(log_format("Text"), Some(settings::LogFormat::Text));
        assert_eq!(log_format("XML"), None);
    }

    #[test]
    fn the_state_left_between_is_spelled_out() {
        let change = settings::Change {
            setting: "memory (MB)".into(),
            from: Some("128".into()),
            to: "256".into(),
        };
        let m = left_between("echo", &[change], Some("abc="));
        assert!(m.contains("memory (MB): 128 -> 256"), "{m}");
        assert!(m.contains("previous code (CodeSha256 abc=)"), "{m}");
        assert!(m.contains("rerun the deploy"), "{m}");
    }
}
