//! The AWS SDK's side: configuration loaded as the AWS CLI loads it (also `setup-ci`'s), the
//! one HTTPS client, the [`Meter`] that counts every request, and SDK errors turned into
//! [`RawFailure`]s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents, SharedCredentialsProvider};
use aws_sdk_lambda::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::Client;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use xtask::lambda::names::{check_endpoint_url, check_region, FunctionRef};

use super::credentials;
use super::errors::{no_credentials, RawFailure};
use super::report::ApiCall;
use super::timeouts;

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

/// Timeouts of one attempt and of the whole call, with the connect timeout of every call.
pub fn timeouts_of(attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeouts::CONNECT)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// The timeouts of every call but the uploads (`timeouts.rs`).
pub fn call_timeouts() -> TimeoutConfig {
    timeouts_of(timeouts::CALL_ATTEMPT, timeouts::CALL)
}

/// The timeouts of a call that uploads a zip of `zip_bytes` (`timeouts.rs`).
pub fn upload_timeouts(zip_bytes: u64) -> TimeoutConfig {
    timeouts_of(
        timeouts::upload_attempt(zip_bytes),
        timeouts::upload(zip_bytes),
    )
}

/// The SDK's configuration, loaded the way the AWS CLI loads it plus the flags, with bounded
/// timeouts, and the region it resolved to (checked).
pub struct Sdk {
    pub config: SdkConfig,
    pub region: String,
}

/// Loads configuration as the AWS CLI does, plus the flags: the named profile must exist, a
/// region must be set (and well-formed, wherever it came from), and so must an endpoint URL
/// from the environment or a profile. Sends no request.
pub async fn configure(
    region: Option<&str>,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<Sdk> {
    use aws_config::identity::IdentityCache;

    credentials::check_profile(profile).await?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(call_timeouts())
        .identity_cache(
            IdentityCache::lazy()
                .load_timeout(timeouts::CREDENTIALS)
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
    let config = loader.load().await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        bail!(
            "no AWS region is set: pass --region, set AWS_REGION, or set `region` in the \
             profile (~/.aws/config)"
        );
    };
    // Where the environment or a profile set them, not the flags (checked before the build).
    check_region(&region)?;
    if let Some(url) = config.endpoint_url() {
        check_endpoint_url(url)?;
    }
    Ok(Sdk { config, region })
}

impl Sdk {
    /// Resolves credentials up front (an explicit `--profile` winning over keys in the
    /// environment), which turns "none found" (or "stuck") into one clear message before any
    /// request, instead of a dispatch failure deep in the first call.
    pub async fn credentials(&self, profile: Option<&str>) -> Result<SharedCredentialsProvider> {
        let provider = match profile {
            Some(name) => credentials::profile_provider(name, &self.config),
            None => self
                .config
                .credentials_provider()
                .ok_or_else(|| anyhow!(no_credentials("no credentials provider is configured")))?,
        };
        credentials::resolve(&provider, credentials::selected_profile(profile).as_deref()).await?;
        Ok(provider)
    }

    /// An IAM client on this configuration and these credentials, its requests metered.
    pub fn iam(
        &self,
        credentials: &SharedCredentialsProvider,
        meter: &Meter,
    ) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::config::Builder::from(&self.config)
            .credentials_provider(credentials.clone())
            .interceptor(meter.clone())
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }
}

/// Loads configuration the way the AWS CLI does, plus the flags, with bounded timeouts;
/// checks the function's ARN against the region; resolves credentials (an explicit
/// `--profile` winning over keys in the environment); returns the Lambda client, an IAM client
/// on the same configuration and credentials, and the endpoint it talks to. No request
/// reaches AWS before it returns.
pub async fn client(
    region: Option<&str>,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
    function: &FunctionRef,
    meter: &Meter,
) -> Result<(Client, aws_sdk_iam::Client, String)> {
    let sdk = configure(region, profile, endpoint_url).await?;
    function.check_region(&sdk.region)?;
    let provider = sdk.credentials(profile).await?;
    let endpoint = sdk
        .config
        .endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://lambda.{}.amazonaws.com", sdk.region));
    let config = aws_sdk_lambda::config::Builder::from(&sdk.config)
        .credentials_provider(provider.clone())
        .interceptor(meter.clone())
        .build();
    Ok((
        Client::from_conf(config),
        sdk.iam(&provider, meter),
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

/// An HTML page rather than the API's JSON (a web server, a captive portal, a proxy).
fn is_html(response: &HttpResponse) -> bool {
    let content_type = response.headers().get("content-type").unwrap_or("");
    let body = response.body().bytes().unwrap_or_default();
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    content_type.to_ascii_lowercase().contains("html") || body[start..].starts_with(b"<")
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
            html: is_html(service.raw()),
            timed_out: false,
        },
        SdkError::ResponseError(response) => RawFailure {
            status: Some(response.raw().status().as_u16()),
            no_response: false,
            detail,
            html: is_html(response.raw()),
            ..Default::default()
        },
        SdkError::TimeoutError(_) => RawFailure {
            no_response: true,
            timed_out: true,
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
