//! The Lambda service: one method per API call, each answer converted to our data
//! (`convert`), each failure classified and explained.
//!
//! Only this module (`mod.rs`, `settings.rs`, `url.rs`) touches the Lambda client, and
//! together they call exactly the operations of [`Operation::ALL`], the list the deploying
//! role's IAM policy is printed from; a test below reads the calls from these files and
//! compares.

pub mod convert;
mod settings;
mod url;

pub use url::UrlSeen;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, FunctionCode, LogType, Runtime};
use aws_sdk_lambda::Client;
use xtask::deploy::Operation;
use xtask::lambda::settings::Declared;
use xtask::lambda::{Arch, BOOTSTRAP};
use xtask::verify::CheckedZip;

use crate::model::alias::AliasState;
use crate::model::failure::{classify, explain, ApiFailure, Call};
use crate::model::function::{InvokeAnswer, Remote};
use crate::sdk::raw::raw_failure;
use crate::sdk::{timeouts_of, upload_timeouts, Session};
use convert::FunctionShape;

/// A call's result; a failure comes classified, for the caller to act on, and explained.
pub type Attempt<T> = std::result::Result<T, (ApiFailure, anyhow::Error)>;

/// Settings for a call that uploads `zip`: timeouts that fit its size.
fn upload_config(zip: &CheckedZip) -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::default()
        .timeout_config(upload_timeouts(zip.bytes.len() as u64))
}

/// The CreateFunction request for a zip function on the OS-only runtime: `--create` sends it,
/// and so do the tests and the benchmark, to make a function on moto.
pub fn create_function(
    client: &Client,
    name: &str,
    arch: Arch,
    role: &str,
    zip: Vec<u8>,
) -> CreateFunctionFluentBuilder {
    client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler(BOOTSTRAP)
        .role(role)
        .architectures(Architecture::from(arch.lambda_name()))
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
}

/// The smoke test's Invoke settings: one attempt (an invocation is not idempotent), within
/// `limit`.
fn smoke_config(limit: std::time::Duration) -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::default()
        .timeout_config(timeouts_of(limit, limit))
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
}

/// `LogResult` (base64) as text.
fn decoded_log(log: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(log)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|_| format!("(LogResult is not base64: {log})"))
}

/// What to do when the function is not there.
const WHEN_MISSING: &str = "check --function-name and --region, or create it with `--create` \
(and --role ARN, or a role it creates)";

/// The sentence for `failure` of `operation` on `function` at `endpoint`.
pub fn explain_call(
    failure: &ApiFailure,
    operation: Operation,
    function: &str,
    endpoint: &str,
) -> String {
    let action = operation.iam_action();
    let resource = format!("function {function}");
    let when_denied = format!(
        "allow `{action}` on the function's ARN \
         (arn:aws:lambda:REGION:ACCOUNT:function:{function}) in the IAM policy of the \
         deploying identity"
    );
    explain(
        failure,
        &Call {
            service: "Lambda",
            action: &action,
            resource: &resource,
            endpoint: Some(endpoint),
            when_denied: &when_denied,
            when_missing: Some(WHEN_MISSING),
        },
    )
}

/// One function at one endpoint.
pub struct Lambda<'a> {
    client: Client,
    pub endpoint: String,
    pub function: &'a str,
}

impl<'a> Lambda<'a> {
    /// A client for `function` on the session's configuration and credentials, its requests
    /// metered; sends no request.
    pub fn new(session: &Session, function: &'a str) -> Lambda<'a> {
        let endpoint = session
            .endpoint_url()
            .map(str::to_string)
            .unwrap_or_else(|| format!("https://lambda.{}.amazonaws.com", session.sdk.region));
        let config = aws_sdk_lambda::config::Builder::from(&session.sdk.config)
            .credentials_provider(session.credentials.clone())
            .interceptor(session.meter.clone())
            .build();
        Lambda {
            client: Client::from_conf(config),
            endpoint,
            function,
        }
    }

    /// The sentence for `failure` of `operation` on this function.
    pub fn explain(&self, failure: &ApiFailure, operation: Operation) -> String {
        explain_call(failure, operation, self.function, &self.endpoint)
    }

    fn fail<E>(&self, operation: Operation, err: SdkError<E>) -> (ApiFailure, anyhow::Error)
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = classify(&raw_failure(&err));
        let message = self.explain(&failure, operation);
        (failure, anyhow!(message))
    }

    /// GetFunction; `None` when the function does not exist.
    pub async fn get(&self) -> Result<Option<Remote>> {
        match self
            .client
            .get_function()
            .function_name(self.function)
            .send()
            .await
        {
            Ok(out) => Ok(Some(match out.configuration() {
                Some(c) => c.remote(self.function),
                None => Remote {
                    name: self.function.to_string(),
                    ..Default::default()
                },
            })),
            Err(err) => match self.fail(Operation::GetFunction, err) {
                (ApiFailure::NotFound, _) => Ok(None),
                (_, error) => Err(error),
            },
        }
    }

    /// GetFunction of one published version; `None` when it does not exist.
    pub async fn get_version(&self, version: &str) -> Result<Option<Remote>> {
        match self
            .client
            .get_function()
            .function_name(self.function)
            .qualifier(version)
            .send()
            .await
        {
            Ok(out) => Ok(out.configuration().map(|c| c.remote(self.function))),
            Err(err) => match self.fail(Operation::GetFunction, err) {
                (ApiFailure::NotFound, _) => Ok(None),
                (_, error) => Err(error),
            },
        }
    }

    /// GetFunction again, for polling. (Not GetFunctionConfiguration: one IAM action fewer.)
    pub async fn refresh(&self) -> Result<Remote> {
        match self.get().await? {
            Some(remote) => Ok(remote),
            None => bail!(
                "function {} disappeared while deploying (deleted concurrently?); \
                 deploy again, with `--create --role ARN` to recreate it",
                self.function
            ),
        }
    }

    /// UpdateFunctionCode, once, guarded by `revision`; a conflict is the caller's to wait out.
    pub async fn update(
        &self,
        zip: &CheckedZip,
        revision: Option<&str>,
        dry_run: bool,
    ) -> Attempt<Remote> {
        self.client
            .update_function_code()
            .function_name(self.function)
            .zip_file(Blob::new(zip.bytes.clone()))
            .set_revision_id(revision.map(str::to_string))
            .dry_run(dry_run)
            .customize()
            .config_override(upload_config(zip))
            .send()
            .await
            .map(|out| out.remote(self.function))
            .map_err(|e| self.fail(Operation::UpdateFunctionCode, e))
    }

    /// PublishVersion of exactly `code_sha256`; returns the version number and the CodeSha256
    /// Lambda says the version holds.
    pub async fn publish(
        &self,
        code_sha256: &str,
        revision: Option<&str>,
    ) -> Result<(String, Option<String>)> {
        let out = self
            .client
            .publish_version()
            .function_name(self.function)
            .code_sha256(code_sha256)
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.fail(Operation::PublishVersion, e).1)?;
        let version = out
            .version()
            .map(str::to_string)
            .context("PublishVersion answered without a version number")?;
        Ok((version, out.code_sha256().map(str::to_string)))
    }

    /// CreateFunction with the declared settings, once; the caller retries while a new role
    /// has not reached Lambda.
    pub async fn create(
        &self,
        zip: &CheckedZip,
        arch: Arch,
        role: &str,
        declared: &Declared,
    ) -> Attempt<Remote> {
        let request = create_function(&self.client, self.function, arch, role, zip.bytes.clone());
        settings::on_create(request, declared)
            .map_err(|e| (ApiFailure::Other(e.to_string()), e))?
            .customize()
            .config_override(upload_config(zip))
            .send()
            .await
            .map(|out| out.remote(self.function))
            .map_err(|e| self.fail(Operation::CreateFunction, e))
    }

    /// GetAlias; `None` when the alias does not exist.
    pub async fn get_alias(&self, alias: &str) -> Result<Option<AliasState>> {
        match self
            .client
            .get_alias()
            .function_name(self.function)
            .name(alias)
            .send()
            .await
        {
            Ok(out) => Ok(Some(AliasState {
                version: out.function_version().unwrap_or_default().to_string(),
                revision_id: out.revision_id().map(str::to_string),
                description: out.description().unwrap_or_default().to_string(),
                arn: out.alias_arn().map(str::to_string),
                additional_versions: out
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .map(|weights| weights.keys().cloned().collect())
                    .unwrap_or_default(),
            })),
            Err(err) => match self.fail(Operation::GetAlias, err) {
                (ApiFailure::NotFound, _) => Ok(None),
                (_, error) => Err(error),
            },
        }
    }

    /// UpdateAlias to `version`, refused by Lambda if the alias's RevisionId is no longer
    /// `revision`.
    pub async fn update_alias(
        &self,
        alias: &str,
        version: &str,
        revision: Option<&str>,
        description: &str,
    ) -> Attempt<()> {
        self.client
            .update_alias()
            .function_name(self.function)
            .name(alias)
            .function_version(version)
            .description(description)
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail(Operation::UpdateAlias, e))
    }

    /// CreateAlias at `version`, refused by Lambda if the alias exists.
    pub async fn create_alias(&self, alias: &str, version: &str, description: &str) -> Attempt<()> {
        self.client
            .create_alias()
            .function_name(self.function)
            .name(alias)
            .function_version(version)
            .description(description)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail(Operation::CreateAlias, e))
    }
}

impl Lambda<'_> {
    /// Invoke of `version` (RequestResponse, `LogType: Tail`) with `event`, in one attempt
    /// of at most `limit`: a smoke test runs the function once.
    pub async fn invoke(
        &self,
        version: &str,
        event: &[u8],
        limit: std::time::Duration,
    ) -> Result<InvokeAnswer> {
        let out = self
            .client
            .invoke()
            .function_name(self.function)
            .qualifier(version)
            .log_type(LogType::Tail)
            .payload(Blob::new(event))
            .customize()
            .config_override(smoke_config(limit))
            .send()
            .await
            .map_err(|e| self.fail(Operation::Invoke, e).1)?;
        let log_tail = out.log_result().map(decoded_log);
        Ok(InvokeAnswer {
            status: u16::try_from(out.status_code()).unwrap_or(0),
            function_error: out.function_error().map(str::to_string),
            payload: out
                .payload()
                .map(|p| p.as_ref().to_vec())
                .unwrap_or_default(),
            log_tail,
            executed_version: out.executed_version().map(str::to_string),
            request_id: out.request_id().map(str::to_string),
        })
    }

    /// InvokeWithResponseStream of `version` with `event` (the smoke test of a function whose
    /// URL streams), within `limit`: the payload assembled from its chunks; the error, if any,
    /// from InvokeComplete, as the buffered Invoke's answer would carry it.
    pub async fn invoke_stream(
        &self,
        version: &str,
        event: &[u8],
        limit: std::time::Duration,
    ) -> Result<InvokeAnswer> {
        use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
        let mut out = self
            .client
            .invoke_with_response_stream()
            .function_name(self.function)
            .qualifier(version)
            .log_type(LogType::Tail)
            .payload(Blob::new(event))
            .customize()
            .config_override(smoke_config(limit))
            .send()
            .await
            .map_err(|e| self.fail(Operation::InvokeWithResponseStream, e).1)?;
        let mut answer = InvokeAnswer {
            status: u16::try_from(out.status_code()).unwrap_or(0),
            executed_version: out.executed_version().map(str::to_string),
            request_id: out.request_id().map(str::to_string),
            ..Default::default()
        };
        loop {
            let event = out.event_stream.recv().await.map_err(|e| {
                anyhow!(
                    "the response stream of {}:{version} broke off: {}",
                    self.function,
                    crate::sdk::raw::chain(&e)
                )
            })?;
            match event {
                Some(Event::PayloadChunk(chunk)) => {
                    if let Some(bytes) = chunk.payload() {
                        answer.payload.extend_from_slice(bytes.as_ref());
                    }
                }
                Some(Event::InvokeComplete(end)) => {
                    answer.log_tail = end.log_result().map(decoded_log);
                    if let Some(code) = end.error_code() {
                        answer.function_error = Some(code.to_string());
                        answer.payload = serde_json::json!({
                            "errorType": code,
                            "errorMessage": end.error_details().unwrap_or_default(),
                        })
                        .to_string()
                        .into_bytes();
                    }
                    return Ok(answer);
                }
                Some(_) => {}
                None => bail!(
                    "the response stream of {}:{version} ended without InvokeComplete",
                    self.function
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `client.<operation>(` in the code of the files that call Lambda.
    fn operations_called() -> BTreeSet<String> {
        crate::sdk::calls::operations_called(&[
            include_str!("mod.rs"),
            include_str!("settings.rs"),
            include_str!("url.rs"),
        ])
    }

    #[test]
    fn calls_exactly_the_listed_operations() {
        let listed: BTreeSet<String> = Operation::ALL
            .iter()
            .map(|op| op.name().to_string())
            .collect();
        assert_eq!(
            operations_called(),
            listed,
            "the calls in lambda/ (left) and xtask::deploy::Operation::ALL (right), \
             which `cargo xtask iam-policy` prints the deploying role's permissions from, differ"
        );
    }

    #[test]
    fn lambda_failures_name_the_fix() {
        let endpoint = "https://lambda.eu-west-1.amazonaws.com";
        let say =
            |failure: &ApiFailure, operation| explain_call(failure, operation, "echo", endpoint);
        let missing = say(&ApiFailure::NotFound, Operation::GetFunction);
        assert!(
            missing.starts_with(
                "function echo does not exist at the Lambda endpoint \
                 https://lambda.eu-west-1.amazonaws.com; check --function-name"
            ),
            "{missing}"
        );
        assert!(missing.contains("--create` (and --role ARN"), "{missing}");
        let denied = say(
            &ApiFailure::AccessDenied("nope".into()),
            Operation::UpdateFunctionCode,
        );
        assert!(
            denied.contains("lambda:UpdateFunctionCode")
                && denied.contains("arn:aws:lambda:REGION:ACCOUNT:function:echo"),
            "{denied}"
        );
        let unreachable = say(
            &ApiFailure::Unreachable("refused".into()),
            Operation::GetFunction,
        );
        assert!(
            unreachable.starts_with("could not reach the Lambda endpoint https://"),
            "{unreachable}"
        );
        assert!(unreachable.contains("--endpoint-url"), "{unreachable}");
        assert!(say(&ApiFailure::StaleRevision, Operation::UpdateFunctionCode).contains("rerun"));
        let local = |failure: &ApiFailure| {
            explain_call(
                failure,
                Operation::GetFunction,
                "echo",
                "http://127.0.0.1:8080",
            )
        };
        assert!(local(&ApiFailure::NotTheApi).starts_with(
            "the endpoint at http://127.0.0.1:8080 answered with HTML, not the Lambda API: \
             check --endpoint-url (and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA)"
        ));
        let late = local(&ApiFailure::TimedOut("after 50s".into()));
        assert!(
            late.starts_with(
                "the Lambda endpoint http://127.0.0.1:8080 did not answer lambda:GetFunction in \
                 time (after 50s)"
            ),
            "{late}"
        );
        assert!(
            say(&ApiFailure::Throttled("x".into()), Operation::GetFunction)
                .starts_with("Lambda kept throttling lambda:GetFunction")
        );
    }
}
