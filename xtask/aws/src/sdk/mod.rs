//! The SDK edge every AWS command shares as equals: configuration loaded as the AWS CLI loads
//! it, plus the flags, with bounded timeouts; the one HTTPS client; credentials resolved up
//! front ([`Session`]); the request [`Meter`]; SDK errors as [`RawFailure`](raw::raw_failure)s.
//! The services' clients (`lambda`, `iam`) are made from a [`Session`].

#[cfg(test)]
pub mod calls;
pub mod credentials;
pub mod meter;
pub mod raw;
pub mod runtime;

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_lambda::config::SharedCredentialsProvider;
use xtask::deploy::AwsArgs;
use xtask::lambda::names::{check_endpoint_url, check_region, check_retry_env, FunctionRef};

pub use meter::{ApiCall, Meter};

use crate::model::failure::no_credentials;
use crate::model::timeouts;

fn env(var: &str) -> Option<String> {
    std::env::var_os(var).map(|v| v.to_string_lossy().into_owned())
}

/// The region and endpoint flags and the SDK's retry variables: every command that calls AWS
/// checks them before its first request (and before building anything).
pub fn check_connection(aws: &AwsArgs) -> Result<()> {
    if let Some(region) = &aws.region {
        check_region(region)?;
    }
    if let Some(url) = &aws.endpoint_url {
        check_endpoint_url(url)?;
    }
    // aws-config panics on these; the profile's own are checked once it is read.
    check_retry_env(
        env("AWS_MAX_ATTEMPTS").as_deref(),
        env("AWS_RETRY_MODE").as_deref(),
    )
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
}

/// A configuration with its credentials resolved and its requests metered: what every
/// service client is made from.
pub struct Session {
    pub sdk: Sdk,
    pub credentials: SharedCredentialsProvider,
    pub meter: Meter,
}

impl Session {
    /// Resolves the credentials of `sdk` (an explicit `--profile` winning over keys in the
    /// environment), before any request.
    pub async fn open(sdk: Sdk, profile: Option<&str>) -> Result<Session> {
        let credentials = sdk.credentials(profile).await?;
        Ok(Session {
            sdk,
            credentials,
            meter: Meter::default(),
        })
    }

    /// The endpoint URL set by the flag, the environment or a profile, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.sdk.config.endpoint_url()
    }
}

/// A session for the flags' region, profile and endpoint: the function's ARN checked against
/// the region, then credentials resolved: no request reaches AWS before it returns.
pub async fn connect(aws: &AwsArgs, target: &FunctionRef) -> Result<Session> {
    let profile = aws.profile.as_deref();
    let sdk = configure(aws.region.as_deref(), profile, aws.endpoint_url.as_deref()).await?;
    target.check_region(&sdk.region)?;
    Session::open(sdk, profile).await
}
