//! `cargo xtask bench`: numbers side by side with cargo-lambda, in one run.
//!
//! The peer builds the very same function crate, copied into a scratch
//! workspace under `target/bench/` with cargo-lambda's recommended release
//! profile, so the comparison is of the tooling, not of the handler.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::status::status;
use crate::{artifact, build, project_root, tools, Arch};

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
        Bench::Deploy => crate::bench_deploy::run(),
        Bench::Invoke(args) => crate::bench_invoke::run_invoke_bench(args.runs),
    }
}

/// cargo-lambda's recommended size profile, from its documentation.
const PEER_PROFILE: &str = r#"
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true
"#;

fn bench_build(args: BuildArgs) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let sh = Shell::new()?;
    let root = project_root();
    sh.change_dir(&root);
    let cargo_lambda = tools::cargo_lambda(&sh)?;

    status("Building", "ours (cargo xtask build, both architectures)");
    let ours = build::build(Arch::X86_64)?;
    let ours_arm = build::build(Arch::Arm64)?;

    status(
        "Building",
        "cargo-lambda (same function crate, recommended profile)",
    );
    let peer_dir = peer_workspace(&root)?;
    let peer_zip = peer_dir.join("target/lambda/bootstrap/bootstrap.zip");
    let peer_bin = peer_dir.join("target/x86_64-unknown-linux-musl/release/bootstrap");
    let peer_build = |sh: &Shell| -> Result<()> {
        let _dir = sh.push_dir(&peer_dir);
        let path = path_with(cargo_lambda.parent().unwrap())?;
        cmd!(sh, "{cargo_lambda} lambda build --release --target x86_64-unknown-linux-musl --output-format zip")
            .env("PATH", path)
            .quiet()
            .ignore_stderr()
            .run()
            .context("cargo-lambda build failed")
    };
    peer_build(&sh)?;

    status(
        "Timing",
        format!("{} up-to-date rebuilds on each side", args.runs),
    );
    let cargo = crate::cargo();
    let ours_time = median(args.runs, || {
        cmd!(sh, "{cargo} xtask build")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()?;
        Ok(())
    })?;
    let peer_time = median(args.runs, || peer_build(&sh))?;

    // A touched source forces a relink: does the zip (and so CodeSha256) stay the same?
    status(
        "Touching",
        "function/src/main.rs on each side, then rebuilding",
    );
    let before_ours = ours.zip_sha256.clone();
    touch(&root.join("function/src/main.rs"))?;
    let after_ours = build::build(Arch::X86_64)?.zip_sha256;
    let before_peer = artifact::hex(&artifact::sha256(&std::fs::read(&peer_zip)?));
    touch(&peer_dir.join("function/src/main.rs"))?;
    // Zip timestamps have 2-second resolution.
    std::thread::sleep(Duration::from_secs(2));
    peer_build(&sh)?;
    let after_peer = artifact::hex(&artifact::sha256(&std::fs::read(&peer_zip)?));

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

/// `target/bench/cargo-lambda`: the function crate and lock file, with the peer's profile.
fn peer_workspace(root: &Path) -> Result<PathBuf> {
    let dir = artifact::target_dir().join("bench/cargo-lambda");
    let function = dir.join("function");
    std::fs::create_dir_all(function.join("src"))?;
    for file in ["Cargo.toml", "src/lib.rs", "src/main.rs"] {
        let from = root.join("function").join(file);
        let to = function.join(file);
        // Copy only on change, so an unchanged copy stays up to date for cargo.
        let bytes = std::fs::read(&from).with_context(|| format!("reading {}", from.display()))?;
        if std::fs::read(&to).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&to, &bytes)?;
        }
    }
    let manifest = format!(
        "[workspace]\nmembers = [\"function\"]\nresolver = \"2\"\n\n[workspace.package]\nedition = \"2021\"\nrust-version = \"1.94\"\nlicense = \"MIT OR Apache-2.0\"\n{PEER_PROFILE}"
    );
    write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes())?;
    write_if_changed(
        &dir.join("Cargo.lock"),
        &std::fs::read(root.join("Cargo.lock"))?,
    )?;
    Ok(dir)
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn touch(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.set_modified(std::time::SystemTime::now())?;
    Ok(())
}

fn path_with(dir: &Path) -> Result<std::ffi::OsString> {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(paths)?)
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
