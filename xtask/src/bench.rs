//! `cargo xtask bench`: numbers side by side with cargo-lambda.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    anyhow::bail!("not yet")
}
