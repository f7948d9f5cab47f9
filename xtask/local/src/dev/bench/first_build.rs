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

use super::table::Table;
use super::timing::{median, ratio_of, secs};
use super::FirstBuildArgs;
use crate::dev::peer::Peer;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::workspace::{self, project_root};

/// One side's first builds, round by round.
struct Side {
    label: String,
    /// Install (the peer's pip install; nothing for ours) and first build, per round.
    times: Vec<(Duration, Duration)>,
    crates: Option<usize>,
    aws_crates: usize,
}

pub fn run(args: FirstBuildArgs) -> Result<()> {
    let scratch = ScratchDir::create("first-build")?;
    let mut sides: Vec<Side> = args
        .revs
        .iter()
        .map(|rev| Side {
            label: format!("cargo xtask @{rev}"),
            times: Vec::new(),
            crates: None,
            aws_crates: 0,
        })
        .collect();
    sides.push(Side {
        label: "cargo-lambda".into(),
        times: Vec::new(),
        crates: None,
        aws_crates: 0,
    });
    let peer_index = sides.len() - 1;
    for round in 0..usize::from(args.runs) {
        // Each side goes first in one round, last in the next: a machine that slows down or
        // warms up during a run does not favour one side.
        let mut order: Vec<usize> = (0..sides.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let dir = scratch.path().join(format!("round-{round}-side-{i}"));
            std::fs::create_dir_all(&dir)?;
            if i == peer_index {
                sides[i].times.push(peer(&dir)?);
            } else {
                let ours = ours(&dir, &args.revs[i])?;
                sides[i].times.push((Duration::ZERO, ours.time));
                sides[i].crates = Some(ours.crates);
                sides[i].aws_crates = ours.aws_crates;
            }
            // Each round's clone and targets go once timed: the disk stays small.
            std::fs::remove_dir_all(&dir).ok();
        }
    }
    let medians: Vec<(Option<Duration>, Option<Duration>, Option<Duration>)> = sides
        .iter()
        .map(|side| {
            let installs: Vec<Duration> = side.times.iter().map(|t| t.0).collect();
            let builds: Vec<Duration> = side.times.iter().map(|t| t.1).collect();
            let totals: Vec<Duration> = side.times.iter().map(|t| t.0 + t.1).collect();
            (median(&installs), median(&builds), median(&totals))
        })
        .collect();
    let peer_total = medians[peer_index].2;
    let mut header = vec![format!(
        "fresh clone, first build (median of {})",
        args.runs
    )];
    header.extend(sides.iter().map(|s| s.label.clone()));
    let mut table = Table::new(header);
    let row = |label: &str, cell: &dyn Fn(usize) -> String| {
        let mut cells = vec![label.to_string()];
        cells.extend((0..sides.len()).map(cell));
        cells
    };
    table
        .row(row("install the tool", &|i| match i == peer_index {
            true => secs(medians[i].0),
            false => "(rustup only)".into(),
        }))
        .row(row("first build of the function", &|i| secs(medians[i].1)))
        .row(row("total", &|i| secs(medians[i].2)))
        .row(row("ratio to cargo-lambda", &|i| {
            ratio_of(medians[i].2, peer_total)
        }))
        .row(row(
            "crates compiled (AWS SDK)",
            &|i| match sides[i].crates {
                Some(n) => format!("{n} ({})", sides[i].aws_crates),
                None => String::new(),
            },
        ));
    println!();
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

struct Ours {
    time: Duration,
    crates: usize,
    aws_crates: usize,
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
