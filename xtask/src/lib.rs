//! `cargo xtask`: build, verify, run and deploy the echo Lambda with nothing but rustup.
//!
//! A library so the integration tests can reach the CLI parser and the pure checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

pub mod artifact;
pub mod bench;
pub mod bench_deploy;
pub mod bench_invoke;
pub mod build;
pub mod config;
pub mod deploy;
pub mod iam_policy;
pub mod invoke;
pub mod moto;
pub mod package;
pub mod peer;
pub mod status;
pub mod test;
pub mod tools;
pub mod verify;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, verify and ship the echo Lambda as a static, byte-reproducible bootstrap.zip",
    after_help = "Typical flow:\n  cargo xtask build                        # static musl binary -> target/lambda/x86_64/bootstrap.zip\n  cargo xtask verify-static                # re-check the zip's bootstrap\n  cargo xtask invoke '{\"hello\":\"world\"}'   # run those exact bytes locally\n  cargo xtask deploy --function-name echo  # upload them (skipped when unchanged)\n  cargo xtask test                         # everything the tests need, then the whole test suite"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cross-compile the function for musl, check it is fully static, zip it as `bootstrap`.
    Build(build::Args),
    /// Check that an ELF (or the `bootstrap` in a zip) is a fully static executable.
    ///
    /// Exit status: 0 static, 1 not static (every reason listed), 2 unreadable input.
    VerifyStatic(verify::Args),
    /// Run the shipped bootstrap locally behind a Lambda Runtime API: one event, several to
    /// one warm process, or an emulator endpoint (--serve) for curl and AWS SDKs.
    Invoke(invoke::Args),
    /// Install what the tests need (musl targets, moto, actionlint, qemu-user) and run the workspace's tests.
    Test(test::Args),
    /// Benchmarks against cargo-lambda, printed side by side.
    Bench(bench::Args),
    /// Upload the zip to an existing Lambda function (UpdateFunctionCode), safely and rerunnably.
    Deploy(deploy::Args),
    /// Print the IAM trust and permissions policies of the role CI deploys with.
    IamPolicy(iam_policy::Args),
}

/// A Lambda instruction set architecture and the Rust target that builds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, serde::Deserialize)]
pub enum Arch {
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    #[serde(rename = "arm64")]
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }

    /// Name as Lambda's `Architectures` field spells it.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// e_machine as `verify-static` names it.
    pub fn elf_machine_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// The workspace root. Commands run from here, never from the caller's cwd.
///
/// `XTASK_PROJECT_ROOT` points the tool at another checkout of this workspace
/// (the reproducibility tests build copies in other directories with it).
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("XTASK_PROJECT_ROOT") {
        return PathBuf::from(root);
    }
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo that runs us (rustup's proxy or a pinned toolchain), so nested builds match.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Runs one parsed command; errors become a message on stderr and exit status 1.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Build(args) => build::run(args).map(|_| ExitCode::SUCCESS),
        Command::VerifyStatic(args) => verify::run(args),
        Command::Invoke(args) => invoke::run(args),
        Command::Test(args) => test::run(args),
        Command::Bench(args) => bench::run(args).map(|_| ExitCode::SUCCESS),
        Command::Deploy(args) => deploy::run(args).map(|_| ExitCode::SUCCESS),
        Command::IamPolicy(args) => iam_policy::run(args).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
