//! What deploy checks before its first request (and before building), from the command line
//! and the environment alone: the function's name or ARN (never qualified), the alias, the
//! region and endpoint flags, the SDK's retry variables, and the step summary file, opened
//! here and kept. The checks themselves are `xtask::lambda::names`'s pure functions.

use anyhow::Result;
use xtask::deploy::{Args, AwsArgs};
use xtask::lambda::names::{
    check_alias, check_endpoint_url, check_region, check_retry_env, parse_function, FunctionRef,
};

use super::step_summary::StepSummary;

/// What the checks found, for the deploy to use.
#[derive(Debug)]
pub struct Checked {
    pub function: FunctionRef,
    pub summary: Option<StepSummary>,
}

fn env(var: &str) -> Option<String> {
    std::env::var_os(var).map(|v| v.to_string_lossy().into_owned())
}

/// The region and endpoint flags and the SDK's retry variables: every command that calls AWS
/// checks them before its first request.
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

pub fn check(args: &Args, function: &str) -> Result<Checked> {
    let function = parse_function(function)?;
    if let Some(alias) = &args.alias {
        check_alias(alias)?;
    }
    check_connection(&args.aws)?;
    Ok(Checked {
        function,
        summary: StepSummary::from_env()?,
    })
}
