//! `cargo xtask bench`: numbers side by side with cargo-lambda, in one run.
//!
//! The peer builds the very same function crate (see [`crate::peer`]), so the
//! comparison is of the tooling, not of the handler.

mod invoke;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use xshell::{cmd, Shell};

use crate::build;
use crate::dev::peer;
use crate::lambda::Arch;
use crate::util::digest;
use crate::util::status::status;
use crate::workspace::project_root;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub which: Bench,
}

#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Zip size, binary size, up-to-date rebuild time and zip stability vs cargo-lambda;
    /// arm64 zip size beside x86_64's.
    Build(BuildArgs),
    /// API calls and bytes of a first and of an unchanged deploy, against moto.
    Deploy,
    /// Local invoke latency (cold init, warm invoke) against cargo-lambda's build.
    Invoke(InvokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// Cold starts per bootstrap (each followed by 20 warm invokes).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub runs: usize,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// How many up-to-date rebuilds to time on each side (the median is reported).
    #[arg(long, default_value_t = 15)]
    pub runs: usize,
}

pub fn run(args: Args) -> Result<()> {
    match args.which {
        Bench::Build(args) => bench_build(args),
        // Measured by the deploy itself, so it runs where the deploy does: in xtask-aws.
        Bench::Deploy => match crate::xtask_aws::exec()? {},
        Bench::Invoke(args) => invoke::run_invoke_bench(args.runs),
    }
}

fn bench_build(args: BuildArgs) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let sh = Shell::new()?;
    let root = project_root();
    sh.change_dir(&root);

    status("Building", "ours (cargo xtask build, both architectures)");
    let ours = build::build(Arch::X86_64)?;
    let ours_arm = build::build(Arch::Arm64)?;
    let (peer, peer_zip) = peer::build_peer()?;
    let peer_bin = peer.binary();

    status(
        "Timing",
        format!("{} up-to-date rebuilds on each side", args.runs),
    );
    let cargo = crate::workspace::cargo();
    let ours_time = median(args.runs, || {
        cmd!(sh, "{cargo} xtask build")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()?;
        Ok(())
    })?;
    let peer_time = median(args.runs, || peer.build(true).map(drop))?;

    // A touched source forces a relink: does the zip (and so CodeSha256) stay the same?
    status(
        "Touching",
        "function/src/main.rs on each side, then rebuilding",
    );
    let before_ours = ours.zip_sha256.clone();
    touch(&root.join("function/src/main.rs"))?;
    let after_ours = build::build(Arch::X86_64)?.zip_sha256;
    let before_peer = digest::hex(&digest::sha256(&std::fs::read(&peer_zip)?));
    touch(&peer.workspace().join("function/src/main.rs"))?;
    // Zip timestamps have 2-second resolution.
    std::thread::sleep(Duration::from_secs(2));
    peer.build(true)?;
    let after_peer = digest::hex(&digest::sha256(&std::fs::read(&peer_zip)?));

    let peer_zip_bytes = std::fs::metadata(&peer_zip)?.len();
    let peer_bin_bytes = std::fs::metadata(&peer_bin)?.len();
    let ratio = |a: f64, b: f64| format!("{:.2}", a / b);
    let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    println!();
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "x86_64, same function crate", "cargo xtask", "cargo-lambda", "ratio"
    );
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "zip bytes",
        ours.zip_bytes,
        peer_zip_bytes,
        ratio(ours.zip_bytes as f64, peer_zip_bytes as f64)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "bootstrap bytes",
        ours.binary_bytes,
        peer_bin_bytes,
        ratio(ours.binary_bytes as f64, peer_bin_bytes as f64)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        format!("up-to-date rebuild (median of {})", args.runs),
        secs(ours_time),
        secs(peer_time),
        ratio(ours_time.as_secs_f64(), peer_time.as_secs_f64())
    );
    println!(
        "{:<40} {:>14} {:>14}",
        "zip unchanged after touch + rebuild",
        yes_no(before_ours == after_ours),
        yes_no(before_peer == after_peer)
    );
    println!();
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "cargo xtask, by architecture", "x86_64", "arm64", "ratio"
    );
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "zip bytes",
        ours.zip_bytes,
        ours_arm.zip_bytes,
        ratio(ours_arm.zip_bytes as f64, ours.zip_bytes as f64)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "bootstrap bytes",
        ours.binary_bytes,
        ours_arm.binary_bytes,
        ratio(ours_arm.binary_bytes as f64, ours.binary_bytes as f64)
    );
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn touch(path: &Path) -> Result<()> {
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
