//! `cargo xtask bench`: numbers side by side with cargo-lambda.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Local invoke latency (cold init, warm invoke) against cargo-lambda's build.
    #[arg(long)]
    pub invoke: bool,
    /// Cold starts per bootstrap for --invoke (each followed by 20 warm invokes).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub invoke_runs: usize,
}

pub fn run(args: Args) -> Result<()> {
    if args.invoke {
        return crate::bench_invoke::run_invoke_bench(args.invoke_runs);
    }
    anyhow::bail!("not yet")
}
