//! `cargo xtask bench`: numbers side by side with cargo-lambda.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// API calls and bytes of a first and an unchanged deploy, against moto.
    #[arg(long)]
    pub deploy: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.deploy {
        return crate::bench_deploy::run();
    }
    anyhow::bail!("not yet")
}
