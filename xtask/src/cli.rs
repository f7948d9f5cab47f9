//! The command line: `cargo xtask <command>`, parsed by clap and dispatched to a module per command.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::{build, deploy, dev, iam_policy, invoke, logs, new, rollback, setup_ci, verify, watch};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, verify and ship the workspace's Lambda functions, each as a static, byte-reproducible bootstrap.zip",
    after_help = "Typical flow:\n  cargo xtask build                        # static musl binaries -> target/lambda/<package>/x86_64/bootstrap.zip\n  cargo xtask verify-static                # re-check the zip's bootstrap\n  cargo xtask invoke '{\"hello\":\"world\"}'   # run those exact bytes locally\n  cargo xtask deploy --function-name echo  # upload them (skipped when unchanged)\n  cargo xtask test                         # everything the tests need, then the whole test suite"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of deploy's flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a function crate to the workspace: its [package.metadata.lambda] table, a smoke
    /// event and its answer, a unit test.
    New(new::Args),
    /// Cross-compile the functions for musl, check each is fully static, zip each as `bootstrap`.
    Build(build::Args),
    /// Check that an ELF (or the `bootstrap` in a zip) is a fully static executable.
    ///
    /// Exit status: 0 static, 1 not static (every reason listed), 2 unreadable input.
    VerifyStatic(verify::Args),
    /// Run the shipped bootstrap locally behind a Lambda Runtime API: one event, several to
    /// one warm process, or an emulator endpoint (--serve) for curl and AWS SDKs.
    Invoke(invoke::Args),
    /// Serve the function locally (Invoke API and HTTP front door), rebuild on every save and
    /// swap the process between invocations.
    Watch(watch::Args),
    /// Install what the tests need (musl targets, moto, the AWS CLI v1, actionlint, zizmor, qemu-user) and run the workspace's tests.
    Test(dev::test::Args),
    /// Benchmarks against cargo-lambda, printed side by side.
    Bench(dev::bench::Args),
    // Its help is on `deploy::Args`, which `xtask-aws` parses too.
    Deploy(deploy::Args),
    // Its help is on `rollback::Args`, which `xtask-aws` parses too.
    Rollback(rollback::Args),
    // Its help is on `logs::Args`, which `xtask-aws` parses too.
    Logs(logs::Args),
    /// Print the IAM trust and permissions policies of the role CI deploys with.
    IamPolicy(iam_policy::Args),
    // Its help is on `setup_ci::Args`, which `xtask-aws` parses too.
    SetupCi(setup_ci::Args),
    /// Install a Debian package unless it is installed, as `test` installs qemu-user: with
    /// apt-get as root, else through passwordless sudo. For the tests.
    #[command(hide = true)]
    EnsureDeb(dev::apt::Args),
}

/// Runs one parsed command; errors become a message on stderr and exit status 1.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::New(args) => new::run(args).map(|_| ExitCode::SUCCESS),
        Command::Build(args) => build::run(args).map(|_| ExitCode::SUCCESS),
        Command::VerifyStatic(args) => verify::run(args),
        Command::Invoke(args) => invoke::run(args).map(|never| match never {}),
        Command::Watch(args) => watch::run(args).map(|never| match never {}),
        // Measured by the deploy itself, so it runs where the deploy does: in xtask-aws.
        Command::Bench(dev::bench::Args {
            which: dev::bench::Bench::Deploy,
        }) => crate::xtask_aws::exec(&[crate::xtask_aws::Needs::Bench]).map(|never| match never {}),
        Command::Test(_) | Command::Bench(_) | Command::EnsureDeb(_) => {
            crate::xtask_local::exec().map(|never| match never {})
        }
        Command::Deploy(args) => deploy::run(args).map(|never| match never {}),
        Command::Rollback(args) => rollback::run(args).map(|never| match never {}),
        Command::Logs(args) => logs::run(args).map(|never| match never {}),
        Command::IamPolicy(args) => iam_policy::run(args).map(|_| ExitCode::SUCCESS),
        Command::SetupCi(args) => setup_ci::run(args).map(|never| match never {}),
    };
    exit_code(result)
}

/// A command's result as the process's: errors become a message on stderr and exit status 1.
pub fn exit_code(result: Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            crate::util::status::error(format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}

/// The binary's entry point: parse, run, exit with the command's status.
pub fn main() -> ExitCode {
    run(Cli::parse())
}
