//! `cargo xtask deploy`: upload the built zip to a Lambda function, safely and idempotently.
//!
//! What talks to AWS lives in the `xtask-aws` package (xtask/aws), so only a deploy pays for
//! compiling the AWS SDK: `run` builds that binary on first use and hands the command line to
//! it. Here are the parts every command line needs: the flags, and the list of Lambda
//! operations deploy calls, which `iam-policy` turns into the deploying role's permissions.

mod api_calls;
mod args;
mod aws_args;
mod one_time;
mod operations;

use std::convert::Infallible;

use anyhow::Result;

pub use api_calls::{api_resources, ApiCall};
pub use args::Args;
pub use aws_args::AwsArgs;
pub use one_time::{OneTimeArgs, SettingsArgs, UrlAuth};
pub use operations::Operation;

/// Runs the deploy in `xtask-aws`, with the command line exactly as given; returns only on error.
pub fn run(args: Args) -> Result<Infallible> {
    // An unknown -p or a bad table fails here, before a first use compiles the SDK; xtask-aws
    // reads them again, the same way.
    let functions = args.packages.all()?;
    let mut needs = Vec::new();
    // Only the execution role of `--create` calls IAM.
    if args.create && args.role.is_none() {
        needs.push(crate::xtask_aws::Needs::Iam);
    }
    // An API, asked for or declared by a function deployed.
    let declared = functions.iter().any(|f| f.metadata.api.is_some());
    if args.one_time.api.is_some() || declared {
        needs.push(crate::xtask_aws::Needs::Api);
    }
    crate::xtask_aws::exec(&needs)
}
