//! `cargo xtask deploy`: upload the built zip to a Lambda function, safely and idempotently.
//!
//! What talks to AWS lives in the `xtask-aws` package (xtask/aws), so only a deploy pays for
//! compiling the AWS SDK: `run` builds that binary on first use and hands the command line to
//! it. Here are the parts every command line needs: the flags, and the list of Lambda
//! operations deploy calls, which `iam-policy` turns into the deploying role's permissions.

mod args;
mod aws_args;
mod one_time;
mod operations;

use std::convert::Infallible;

use anyhow::Result;

pub use args::Args;
pub use aws_args::AwsArgs;
pub use one_time::{OneTimeArgs, SettingsArgs, UrlAuth};
pub use operations::Operation;

/// Runs the deploy in `xtask-aws`, with the command line exactly as given; returns only on error.
pub fn run(args: Args) -> Result<Infallible> {
    // An unknown -p or a bad table fails here, before a first use compiles the SDK; xtask-aws
    // reads them again, the same way.
    args.packages.all()?;
    // Only the execution role of `--create` calls IAM.
    let needs = match args.create && args.role.is_none() {
        true => crate::xtask_aws::Needs::Iam,
        false => crate::xtask_aws::Needs::Lambda,
    };
    crate::xtask_aws::exec(needs)
}
