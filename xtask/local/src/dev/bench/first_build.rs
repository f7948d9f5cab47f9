//! `cargo xtask bench first-build`: a fresh clone's first `cargo xtask build` (compiling the
//! xtask itself, then the function, then the zip), beside cargo-lambda's first use on the
//! same crate (`pip install cargo-lambda` into a new virtualenv, then its first build).
//!
//! Both start from an empty target directory; both use this machine's cargo registry and
//! pip cache, so downloads are not what is timed. `--rev` measures another commit of ours
//! (e.g. one from before the AWS SDK moved into its own package).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use super::table::{ratio, Table};
use super::FirstBuildArgs;
use crate::dev::peer::Peer;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::workspace::{self, project_root};

struct Ours {
    time: Duration,
    crates: usize,
    aws_crates: usize,
}

pub fn run(args: FirstBuildArgs) -> Result<()> {
    let scratch = ScratchDir::create("first-build")?;
    let ours = ours(scratch.path(), &args.rev)?;
    let (install, peer_build) = peer(scratch.path())?;
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let mut table = Table::new([
        "fresh clone, first build",
        "cargo xtask",
        "cargo-lambda",
        "ratio",
    ]);
    table
        .row([
            "install the tool".to_string(),
            "(rustup only)".into(),
            secs(install),
            String::new(),
        ])
        .row([
            "first build of the function".to_string(),
            secs(ours.time),
            secs(peer_build),
            String::new(),
        ])
        .row([
            "total".to_string(),
            secs(ours.time),
            secs(install + peer_build),
            ratio(
                ours.time.as_secs_f64(),
                (install + peer_build).as_secs_f64(),
            ),
        ])
        .row([
            format!("crates compiled ({} of them AWS SDK)", ours.aws_crates),
            ours.crates.to_string(),
            String::new(),
            String::new(),
        ]);
    println!();
    println!("cargo xtask at {}", args.rev);
    print!("{}", table.render());
    Ok(())
}

/// `git clone` of this checkout at `rev` into `dir`, with an empty target directory.
pub(super) fn clone_at(dir: &Path, rev: &str) -> Result<()> {
    let sh = Shell::new()?;
    let root = project_root();
    cmd!(sh, "git clone --quiet --no-hardlinks {root} {dir}")
        .quiet()
        .run()
        .context("cloning this checkout")?;
    sh.change_dir(dir);
    cmd!(sh, "git checkout --quiet {rev}").quiet().run()?;
    Ok(())
}

/// `cargo ARGS` in the clone at `dir` as a user runs it there (its own target directory, no
/// variable of ours), timed; the crates it compiled.
pub(super) fn cargo_in(dir: &Path, args: &[&str]) -> Result<(Duration, Vec<String>)> {
    let start = Instant::now();
    let out = std::process::Command::new(workspace::cargo())
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("XTASK_PROJECT_ROOT")
        .env_remove("CARGO")
        .output()
        .with_context(|| format!("running cargo {} in the clone", args.join(" ")))?;
    let time = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(
        out.status.success(),
        "cargo {} in the clone failed:\n{stderr}",
        args.join(" ")
    );
    let compiled = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Compiling "))
        .map(str::to_string)
        .collect();
    Ok((time, compiled))
}

/// Of `compiled` (cargo's `Compiling NAME vX` lines), the AWS SDK's crates.
pub(super) fn aws_crates(compiled: &[String]) -> usize {
    compiled
        .iter()
        .filter(|c| c.starts_with("aws-") || c.starts_with("aws_"))
        .count()
}

/// `git clone` of this checkout at `rev`, then `cargo xtask build` in it, timed.
fn ours(scratch: &Path, rev: &str) -> Result<Ours> {
    let clone = scratch.join("clone");
    clone_at(&clone, rev)?;
    status(
        "Timing",
        format!("a fresh clone's first `cargo xtask build` at {rev}"),
    );
    let (time, compiled) = cargo_in(&clone, &["xtask", "build"])?;
    Ok(Ours {
        time,
        crates: compiled.len(),
        aws_crates: aws_crates(&compiled),
    })
}

/// A new virtualenv and `pip install cargo-lambda` in it, timed: the peer ready to deploy.
pub(super) fn install_peer(scratch: &Path) -> Result<(Duration, std::path::PathBuf)> {
    let sh = Shell::new()?;
    let venv = scratch.join("venv");
    cmd!(sh, "python3 -m venv {venv}").quiet().run()?;
    let pip = venv.join("bin/pip");
    status("Timing", "pip install cargo-lambda into a new virtualenv");
    let start = Instant::now();
    cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check cargo-lambda"
    )
    .quiet()
    .run()
    .context("pip install cargo-lambda")?;
    Ok((start.elapsed(), venv.join("bin/cargo-lambda")))
}

/// The peer installed, then its first build into an empty target.
fn peer(scratch: &Path) -> Result<(Duration, Duration)> {
    let (install, program) = install_peer(scratch)?;
    let peer = Peer::prepare_with(program, scratch.join("peer-target"))?;
    status(
        "Timing",
        "cargo-lambda's first build of the same function crate",
    );
    let start = Instant::now();
    peer.build(true)?;
    Ok((install, start.elapsed()))
}
