//! moto's Lambda (and IAM, CloudWatch Logs, API Gateway) side through the AWS SDK, for the deploy tests and benchmark: clients with
//! fixed test credentials and the function they deploy to. Installing and starting moto
//! needs no SDK: that is `xtask_local::dev::moto`.

use anyhow::{Context, Result};
use aws_sdk_lambda::Client;
use xtask::lambda::Arch;

use crate::lambda;
use crate::sdk::http_client;

/// A client of the SDK crate `$sdk` for moto at `$endpoint` in `$region`, with fixed test
/// credentials, independent of the environment.
macro_rules! moto_client {
    ($sdk:ident, $endpoint:expr, $region:expr) => {{
        let config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new($region.to_string()))
            .credentials_provider($sdk::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .endpoint_url($endpoint)
            .http_client(http_client())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// A Lambda client for moto (us-east-1).
pub fn lambda_client(endpoint: &str) -> Client {
    moto_client!(aws_sdk_lambda, endpoint, "us-east-1")
}

/// An IAM client for moto.
#[cfg(feature = "iam")]
pub fn iam_client(endpoint: &str) -> aws_sdk_iam::Client {
    moto_client!(aws_sdk_iam, endpoint, "us-east-1")
}

/// A CloudWatch Logs client for moto in `region`.
#[cfg(feature = "logs")]
pub fn logs_client(endpoint: &str, region: &str) -> aws_sdk_cloudwatchlogs::Client {
    moto_client!(aws_sdk_cloudwatchlogs, endpoint, region)
}

/// An API Gateway (v2) client for moto in `region`.
#[cfg(feature = "api")]
pub fn apigateway_client(endpoint: &str, region: &str) -> aws_sdk_apigatewayv2::Client {
    moto_client!(aws_sdk_apigatewayv2, endpoint, region)
}

/// The CreateFunction `deploy --create` sends, with placeholder code.
pub fn create_function(endpoint: &str, name: &str, arch: Arch, role: &str) -> Result<()> {
    let placeholder = xtask::bootstrap_zip::zip_bootstrap(b"placeholder", 1)?;
    let client = lambda_client(endpoint);
    block_on(lambda::create_function(&client, name, arch, role, placeholder).send())
        .map_err(|e| anyhow::anyhow!(aws_sdk_lambda::error::DisplayErrorContext(e).to_string()))
        .with_context(|| format!("creating function {name} on moto"))?;
    Ok(())
}

/// Runs one SDK future to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    crate::sdk::runtime::current_thread("a request to moto")
        .expect("a current-thread tokio runtime starts")
        .block_on(future)
}
