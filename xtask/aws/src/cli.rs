//! `xtask-aws`'s command line: the `cargo xtask` commands that talk to AWS, with the same
//! names and flags, since `cargo xtask` hands their command line over unchanged. It can be
//! run directly too (CI compiles it before any credentials exist).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::dev::bench;

use crate::{deploy, rollback};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The `cargo xtask` commands that talk to AWS; `cargo xtask` builds this binary \
             (package xtask-aws) the first time one of them runs, and hands them over"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of deploy's flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    // Its help is on `deploy::Args`, shared with `cargo xtask`.
    Deploy(xtask::deploy::Args),
    // Its help is on `rollback::Args`, shared with `cargo xtask`.
    Rollback(xtask::rollback::Args),
    // Its help is on `logs::Args`, shared with `cargo xtask`.
    Logs(xtask::logs::Args),
    // Its help is on `setup_ci::Args`, shared with `cargo xtask`.
    SetupCi(xtask::setup_ci::Args),
    /// Benchmarks; only `bench deploy` runs here (the others run in xtask-local).
    Bench(bench::Args),
}

pub fn run(cli: Cli) -> ExitCode {
    xtask::cli::exit_code(match cli.command {
        Command::Deploy(args) => deploy::run(args).map(|_| ExitCode::SUCCESS),
        Command::Rollback(args) => rollback::run(args).map(|_| ExitCode::SUCCESS),
        #[cfg(feature = "logs")]
        Command::Logs(args) => crate::logs::run(args).map(|_| ExitCode::SUCCESS),
        #[cfg(not(feature = "logs"))]
        Command::Logs(_) => Err(anyhow::anyhow!(WITHOUT_LOGS)),
        #[cfg(feature = "iam")]
        Command::SetupCi(args) => crate::setup_ci::run(args).map(|_| ExitCode::SUCCESS),
        #[cfg(not(feature = "iam"))]
        Command::SetupCi(_) => Err(anyhow::anyhow!(crate::steps::role::WITHOUT_IAM)),
        #[cfg(feature = "bench")]
        Command::Bench(bench::Args {
            which: bench::Bench::Deploy,
        }) => crate::dev::bench::run().map(|_| ExitCode::SUCCESS),
        #[cfg(not(feature = "bench"))]
        Command::Bench(bench::Args {
            which: bench::Bench::Deploy,
        }) => Err(anyhow::anyhow!(WITHOUT_BENCH)),
        // They start xtask-local's commands, which this binary does not have.
        Command::Bench(_) => Err(anyhow::anyhow!(
            "only `bench deploy` runs in xtask-aws: run the others through `cargo xtask bench`"
        )),
    })
}

/// `bench` in a build without the benchmarks.
#[cfg(not(feature = "bench"))]
const WITHOUT_BENCH: &str = "this xtask-aws was built without the benchmarks (its package \
feature `bench`): build it with `cargo build --package xtask-aws --features bench`, or run \
`cargo xtask bench deploy` without XTASK_AWS_BIN set, which builds what it needs";

/// `logs` in a build without CloudWatch Logs.
#[cfg(not(feature = "logs"))]
const WITHOUT_LOGS: &str = "this xtask-aws was built without CloudWatch Logs (its package \
feature `logs`), which `logs` calls: run it through `cargo xtask logs`, which builds what it \
needs, or build it with `cargo build --package xtask-aws --features logs`";

pub fn main() -> ExitCode {
    run(Cli::parse())
}
