//! The AWS SDK's side: configuration loaded as the AWS CLI loads it, the one HTTPS client,
//! the [`Meter`] that counts every request, and SDK errors turned into [`RawFailure`]s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::Client;

use super::errors::{no_credentials, RawFailure};
use super::report::ApiCall;

/// Counts every HTTP request the SDK sends and its body size, retries included.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<Vec<ApiCall>>>);

impl Meter {
    pub fn calls(&self) -> Vec<ApiCall> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "xtask-deploy-meter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let request_bytes = context.request().body().content_length().unwrap_or(0);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ApiCall {
                operation,
                request_bytes,
            });
        Ok(())
    }
}

/// HTTPS through rustls on ring: the one TLS stack compiled in (see xtask/aws/Cargo.toml).
pub fn http_client() -> aws_sdk_lambda::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Loads configuration the way the AWS CLI does, plus the flags, with bounded timeouts;
/// returns the client, an IAM client on the same configuration, and the endpoint.
pub async fn client(
    region: Option<&str>,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
    meter: &Meter,
) -> Result<(Client, aws_sdk_iam::Client, String)> {
    use aws_config::timeout::TimeoutConfig;

    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(
            TimeoutConfig::builder()
                // An unreachable endpoint fails in seconds, not minutes.
                .connect_timeout(Duration::from_secs(5))
                // A 50 MB upload on a slow CI link still fits in one attempt.
                .operation_attempt_timeout(Duration::from_secs(180))
                .operation_timeout(Duration::from_secs(420))
                .build(),
        );
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let Some(region) = sdk.region().map(|r| r.to_string()) else {
        bail!(
            "no AWS region is set: pass --region, set AWS_REGION, or set `region` in the \
             profile (~/.aws/config)"
        );
    };
    // Resolving credentials up front turns "none found" into one clear message before any
    // request, instead of a dispatch failure deep in the first call.
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow!(no_credentials("no credentials provider is configured")))?;
    if let Err(e) = aws_sdk_lambda::config::ProvideCredentials::provide_credentials(&provider).await
    {
        bail!(no_credentials(&chain(&e)));
    }
    let endpoint = sdk
        .endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://lambda.{region}.amazonaws.com"));
    let config = aws_sdk_lambda::config::Builder::from(&sdk)
        .interceptor(meter.clone())
        .build();
    let iam = aws_sdk_iam::config::Builder::from(&sdk)
        .interceptor(meter.clone())
        .build();
    Ok((
        Client::from_conf(config),
        aws_sdk_iam::Client::from_conf(iam),
        endpoint,
    ))
}

/// An error and its sources as "a: b: c" (without the Debug dump `DisplayErrorContext` adds).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Wrappers often repeat their source's text.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

pub fn raw_failure<E>(err: &SdkError<E>) -> RawFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = chain(err);
    match err {
        SdkError::ServiceError(service) => RawFailure {
            status: Some(service.raw().status().as_u16()),
            code: service.err().code().map(str::to_string),
            message: service.err().message().map(str::to_string),
            no_response: false,
            detail,
        },
        SdkError::ResponseError(response) => RawFailure {
            status: Some(response.raw().status().as_u16()),
            no_response: false,
            detail,
            ..Default::default()
        },
        _ => RawFailure {
            no_response: true,
            detail,
            ..Default::default()
        },
    }
}
