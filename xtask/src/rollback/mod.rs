//! `cargo xtask rollback`: point an alias back at the version it had before the last deploy
//! moved it. Deploy records that version in the alias's description, where Lambda keeps it,
//! so any machine can roll back. Talks to AWS, so it runs in `xtask-aws` like `deploy`; here
//! are its flags, for `--help` without the SDK.

use std::convert::Infallible;

use anyhow::Result;

#[derive(Debug, clap::Args)]
#[command(
    about = "Point an alias back at the version it had before the last deploy moved it",
    after_help = "\
`cargo xtask deploy --alias NAME` writes the version the alias came from into the alias's \
description; rollback reads it there, so it works from any machine. The move is guarded by \
the alias's RevisionId: if anything moves the alias meanwhile, nothing changes.

A second rollback without --to does not guess (the alias's last move was a rollback): it \
says which --to would undo it.

Examples:
  cargo xtask rollback --alias live --dry-run   # what it would do
  cargo xtask rollback --alias live             # back to the version before the last deploy
  cargo xtask rollback --alias live --to 7      # to version 7"
)]
pub struct Args {
    /// The function. Default: $LAMBDA_FUNCTION_NAME, then the function's
    /// `function-name` in its [package.metadata.lambda], else its package's name.
    #[arg(long, env = "LAMBDA_FUNCTION_NAME", value_name = "NAME")]
    pub function_name: Option<String>,
    #[command(flatten)]
    pub package: crate::workspace::Package,
    /// The alias to move back.
    #[arg(long, value_name = "NAME")]
    pub alias: String,
    /// The version to point it at [default: the one before the last deploy, from the alias's
    /// description].
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Say what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub aws: crate::deploy::AwsArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs the rollback in `xtask-aws`, with the command line exactly as given; returns only on
/// error.
pub fn run(args: Args) -> Result<Infallible> {
    args.package
        .function_name(args.function_name.as_deref(), "rollback moves the alias of")?;
    crate::xtask_aws::exec(&[])
}
