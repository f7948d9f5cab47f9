//! The function's settings as code, as the Lambda API takes them: the declared settings on
//! CreateFunction, and UpdateFunctionConfiguration (guarded by RevisionId). Reading them back
//! is `convert`'s; deciding what differs is `xtask::lambda::settings`'; applying it is
//! `steps::settings`'.

use std::collections::HashMap;

use anyhow::{Context, Result};
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::types::{
    ApplicationLogLevel, Environment, EphemeralStorage, LogFormat, LoggingConfig, SystemLogLevel,
};
use xtask::deploy::Operation;
use xtask::lambda::settings::{Current, Declared};

use super::convert::FunctionShape;
use super::{Attempt, Lambda};
use crate::model::failure::ApiFailure;
use crate::model::function::Remote;

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
pub(super) fn on_create(
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
            .map(|out| out.remote(self.function))
            .map_err(|err| self.fail(Operation::UpdateFunctionConfiguration, err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_only_when_declared() {
        assert!(logging(&Declared::default()).is_none());
        let l = logging(&Declared {
            log_format: Some(xtask::lambda::settings::LogFormat::Json),
            application_log_level: Some("DEBUG".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.log_format().map(|f| f.as_str()), Some("JSON"));
        assert_eq!(l.application_log_level().map(|f| f.as_str()), Some("DEBUG"));
        assert!(l.system_log_level().is_none());
    }
}
