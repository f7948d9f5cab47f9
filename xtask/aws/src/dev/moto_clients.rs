//! moto's Lambda (and IAM, CloudWatch Logs) side through the AWS SDK, for the deploy tests and benchmark: clients with
//! fixed test credentials and the function they deploy to. Installing and starting moto
//! needs no SDK: that is `xtask::dev::moto`.

use anyhow::{Context, Result};
use aws_sdk_lambda::Client;
use xtask::lambda::Arch;

use crate::lambda;
use crate::sdk::http_client;

/// A Lambda client for moto with fixed test credentials, independent of the environment.
pub fn lambda_client(endpoint: &str) -> Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .build();
    Client::from_conf(config)
}

/// An IAM client for moto with the same fixed test credentials.
#[cfg(feature = "iam")]
pub fn iam_client(endpoint: &str) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// A CloudWatch Logs client for moto in `region`, with the same fixed test credentials.
#[cfg(feature = "logs")]
pub fn logs_client(endpoint: &str, region: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new(
            region.to_string(),
        ))
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
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
    xtask::util::runtime::current_thread("a request to moto")
        .expect("a current-thread tokio runtime starts")
        .block_on(future)
}
