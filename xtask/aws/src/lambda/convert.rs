//! The SDK's answers about a function as our plain data ([`Remote`], with its settings as
//! [`Current`]). GetFunction, CreateFunction, UpdateFunctionCode and
//! UpdateFunctionConfiguration answer with the same fields in four distinct types; the one
//! conversion is written once and stamped on each of them.

use aws_sdk_lambda::operation::create_function::CreateFunctionOutput;
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeOutput;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput;
use aws_sdk_lambda::types::FunctionConfiguration;
use xtask::lambda::settings::{self, Current};

use crate::model::function::Remote;

/// A FunctionConfiguration, in any of the SDK's four shapes of it.
pub trait FunctionShape {
    /// The function as plain data; `name` when the answer does not repeat it.
    fn remote(&self, name: &str) -> Remote;
}

macro_rules! function_shape {
    ($($sdk:ty),*) => {$(
        impl FunctionShape for $sdk {
            fn remote(&self, name: &str) -> Remote {
                let logging = self.logging_config();
                Remote {
                    name: self.function_name().unwrap_or(name).to_string(),
                    arn: self.function_arn().map(str::to_string),
                    code_sha256: self.code_sha256().map(str::to_string),
                    architectures: self
                        .architectures()
                        .iter()
                        .map(|a| a.as_str().to_string())
                        .collect(),
                    runtime: self.runtime().map(|r| r.as_str().to_string()),
                    package_type: self.package_type().map(|p| p.as_str().to_string()),
                    revision_id: self.revision_id().map(str::to_string),
                    version: self.version().map(str::to_string),
                    state: self.state().map(|s| s.as_str().to_string()),
                    state_reason: self.state_reason().map(str::to_string),
                    last_update_status: self.last_update_status().map(|s| s.as_str().to_string()),
                    last_update_status_reason: self
                        .last_update_status_reason()
                        .map(str::to_string),
                    settings: Current {
                        memory_mb: self.memory_size().and_then(|m| u32::try_from(m).ok()),
                        timeout_s: self.timeout().and_then(|t| u32::try_from(t).ok()),
                        environment: self
                            .environment()
                            .and_then(|e| e.variables())
                            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        description: self.description().map(str::to_string),
                        log_format: logging
                            .and_then(|l| l.log_format())
                            .and_then(|f| log_format(f.as_str())),
                        application_log_level: logging
                            .and_then(|l| l.application_log_level())
                            .map(|l| l.as_str().to_string()),
                        system_log_level: logging
                            .and_then(|l| l.system_log_level())
                            .map(|l| l.as_str().to_string()),
                        ephemeral_storage_mb: self
                            .ephemeral_storage()
                            .and_then(|e| u32::try_from(e.size()).ok()),
                    },
                    log_group: logging.and_then(|l| l.log_group()).map(str::to_string),
                }
            }
        }
    )*};
}

function_shape!(
    FunctionConfiguration,
    CreateFunctionOutput,
    UpdateFunctionCodeOutput,
    UpdateFunctionConfigurationOutput
);

/// Lambda's spelling of a log format, as ours.
pub fn log_format(lambda: &str) -> Option<settings::LogFormat> {
    match lambda {
        "JSON" => Some(settings::LogFormat::Json),
        "Text" => Some(settings::LogFormat::Text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::types::{Architecture, LogFormat, LoggingConfig};

    use super::*;

    #[test]
    fn every_shape_reads_the_same_fields() {
        let logging = LoggingConfig::builder().log_format(LogFormat::Json).build();
        let get = FunctionConfiguration::builder()
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:echo")
            .code_sha256("abc=")
            .architectures(Architecture::Arm64)
            .memory_size(256)
            .logging_config(logging.clone())
            .build();
        let remote = get.remote("echo");
        assert_eq!(remote.name, "echo");
        assert_eq!(remote.architectures, ["arm64"]);
        assert_eq!(remote.settings.memory_mb, Some(256));
        assert_eq!(remote.settings.log_format, Some(settings::LogFormat::Json));
        let update = UpdateFunctionCodeOutput::builder()
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:echo")
            .code_sha256("abc=")
            .architectures(Architecture::Arm64)
            .memory_size(256)
            .logging_config(logging)
            .build();
        assert_eq!(update.remote("echo"), remote);
        assert_eq!(log_format("Text"), Some(settings::LogFormat::Text));
        assert_eq!(log_format("XML"), None);
    }
}
