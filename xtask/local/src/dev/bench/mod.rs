//! `cargo xtask bench`: numbers side by side with cargo-lambda, in one run.
//!
//! The peer builds the very same function crate (see [`crate::dev::peer`]), so the
//! comparison is of the tooling, not of the handler.

mod build;
mod edit;
mod edit_build;
mod first_build;
mod first_deploy;
mod functions;
mod group;
mod invoke;
mod stream;
mod table;
mod timing;
mod watch;
mod zip;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
pub use xtask::dev::bench::{
    Args, Bench, BuildArgs, FirstBuildArgs, FirstDeployArgs, InvokeArgs, Measure, StreamArgs,
    WatchArgs, ZipArgs,
};

pub fn run(args: Args) -> Result<()> {
    match args.which {
        Bench::Build(args) => build::run(args),
        Bench::Functions(args) => functions::run(args),
        Bench::Zip(args) => zip::run(args),
        Bench::FirstBuild(args) => first_build::run(args),
        Bench::FirstDeploy(args) => first_deploy::run(args),
        // Measured by the deploy itself, so it runs where the deploy does: in xtask-aws.
        Bench::Deploy => match xtask::xtask_aws::exec(&[xtask::xtask_aws::Needs::Bench])? {},
        Bench::Invoke(args) => invoke::run_invoke_bench(args.runs),
        Bench::Stream(args) => stream::run(args.runs),
        Bench::Watch(args) => watch::run(args),
    }
}

pub(crate) fn touch(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.set_modified(std::time::SystemTime::now())?;
    Ok(())
}

/// Median wall time of `runs` calls, after one untimed warm-up call.
pub fn median(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}
