//! `xtask-local`'s command line: the local `cargo xtask` commands, with the same names and
//! flags (parsed by the types `cargo xtask` parses them with), since `cargo xtask` hands
//! their command line over unchanged.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::dev::bench::{Args as BenchArgs, Bench};

use crate::{dev, invoke, watch};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The local `cargo xtask` commands; `cargo xtask` builds this binary (package \
             xtask-local) the first time one of them runs, and hands them over"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // Each one's help is on its flags in `xtask`, shared with `cargo xtask`.
    Invoke(xtask::invoke::Args),
    Watch(xtask::watch::Args),
    Test(xtask::dev::test::Args),
    Bench(BenchArgs),
    #[command(hide = true)]
    EnsureDeb(xtask::dev::apt::Args),
}

pub fn run(cli: Cli) -> ExitCode {
    xtask::cli::exit_code(match cli.command {
        Command::Invoke(args) => invoke::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Test(args) => dev::test::run(args),
        // Measured by the deploy itself, so it runs where the deploy does: in xtask-aws.
        Command::Bench(BenchArgs {
            which: Bench::Deploy,
        }) => xtask::xtask_aws::exec(&[xtask::xtask_aws::Needs::Bench]).map(|never| match never {}),
        Command::Bench(args) => dev::bench::run(args).map(|_| ExitCode::SUCCESS),
        Command::EnsureDeb(args) => dev::apt::run(args).map(|_| ExitCode::SUCCESS),
    })
}

pub fn main() -> ExitCode {
    run(Cli::parse())
}
