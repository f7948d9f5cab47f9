//! `cargo xtask watch`'s flags. The command runs in xtask-local ([`crate::xtask_local`]):
//! the loop is in xtask/local/src/watch/.

use std::convert::Infallible;

use anyhow::Result;

use crate::invoke::{Front, Limits};
use crate::lambda::Arch;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    cargo xtask watch            # then: curl 'http://127.0.0.1:9000/hello?name=world'\n  \
    cargo xtask watch --release  # serve the zip `cargo xtask build` makes")]
pub struct Args {
    /// Serve the release zip `cargo xtask build` makes (slower to rebuild, exactly what ships).
    #[arg(long)]
    pub release: bool,
    /// What stands in front of the function for every path outside the Invoke API
    /// [default: http-api for a function whose table declares `api = "http"`, else rest].
    #[arg(long, value_enum, value_name = "FRONT")]
    pub http: Option<Front>,
    /// Port on localhost (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 9000)]
    pub port: u16,
    /// Architecture to build; arm64 runs under qemu-aarch64 on an x86_64 host
    /// [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub package: crate::workspace::Package,
    /// One JSON object per invocation on stdout, after the address line.
    #[arg(long)]
    pub json: bool,
}

/// Hands the command over to xtask-local.
pub fn run(_args: Args) -> Result<Infallible> {
    crate::xtask_local::exec()
}
