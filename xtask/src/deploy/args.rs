//! `cargo xtask deploy`'s flags. They live here, beside the rest of the command line, so
//! `--help` and the workflow tests need no AWS SDK; `xtask-aws` parses the same struct.

use std::path::PathBuf;

use super::aws_args::AwsArgs;
use super::one_time::{OneTimeArgs, SettingsArgs};
use crate::lambda::Arch;

#[derive(Debug, clap::Args)]
#[command(
    about = "Upload the zip to a Lambda function (UpdateFunctionCode; --create makes a missing one), safely and rerunnably"
)]
pub struct Args {
    /// Function to update. Default: $LAMBDA_FUNCTION_NAME, then the function's
    /// `function-name` in its [package.metadata.lambda], else its package's name.
    #[arg(long, env = "LAMBDA_FUNCTION_NAME", value_name = "NAME")]
    pub function_name: Option<String>,
    #[command(flatten)]
    pub packages: crate::workspace::Packages,
    /// Deploy this zip instead of building `target/lambda/<package>/<arch>/bootstrap.zip`
    /// (one function).
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
    /// Deploy each function's zip from DIR, laid out as `target/lambda` is
    /// (`DIR/<package>/<arch>/bootstrap.zip`), instead of building: for CI, whose test job
    /// builds them and whose deploy job runs no compiler.
    #[arg(long, value_name = "DIR", conflicts_with = "zip")]
    pub zip_dir: Option<PathBuf>,
    /// Architecture of the artifact [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Publish a version of exactly the uploaded code (PublishVersion with its CodeSha256).
    #[arg(long)]
    pub publish: bool,
    /// Point this alias at the published version, creating it if missing (implies --publish).
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// After publishing, invoke the new version with this event (a JSON file) before the
    /// alias moves; the alias moves only if it answers without an error (implies --publish)
    /// [default: `[package.metadata.lambda] smoke-event`, used when a version is published].
    #[arg(long, value_name = "FILE")]
    pub smoke_event: Option<PathBuf>,
    /// The smoke test's answer must also equal this JSON file (compared as JSON values)
    /// [default: metadata `smoke-expect`].
    #[arg(long, value_name = "FILE")]
    pub smoke_expect: Option<PathBuf>,
    /// Upload even when the function already runs this exact zip.
    #[arg(long)]
    pub force: bool,
    /// Validate everything (UpdateFunctionCode with DryRun) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Create the function (provided.al2023, handler bootstrap) if it does not exist; without
    /// --role, with an execution role it creates or reuses (see --role-name).
    #[arg(long)]
    pub create: bool,
    /// Execution role for --create (none is created then).
    #[arg(long, value_name = "ARN", requires = "create")]
    pub role: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub one_time: OneTimeArgs,
}
