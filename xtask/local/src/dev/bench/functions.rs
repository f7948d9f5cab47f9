//! `cargo xtask bench functions`: a workspace of three functions (the echo function and two
//! made by `cargo xtask new`, one `--http`), built from clean by `cargo xtask build` and by
//! `cargo lambda build --release`, each into an empty target directory of its own; then the
//! up-to-date rerun on each side; then each function's zip size.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use super::table::{ratio, Table};
use super::{median, BuildArgs};
use crate::dev::{peer::Peer, tools};
use xtask::util::fs::copy_tree;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::workspace::project_root;

/// The functions `cargo xtask new` adds to the copy.
const NEW: [(&str, &[&str]); 2] = [("alpha", &[]), ("beta", &["--http"])];

pub fn run(args: BuildArgs) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let sh = Shell::new()?;
    let scratch = ScratchDir::create("bench-functions")?;
    let ours_root = scratch.path().join("ours");
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo", "function", "xtask"] {
        copy_tree(&project_root().join(rel), &ours_root.join(rel))?;
    }
    let xtask = crate::dev::xtask_binary()?;
    let ours_target = scratch.path().join("ours-target");
    let ours = |args: &[&str]| {
        let mut c = cmd!(sh, "{xtask} {args...}")
            .env("XTASK_PROJECT_ROOT", &ours_root)
            .env("CARGO_TARGET_DIR", &ours_target)
            .quiet();
        // Ours is timed as a user runs it: without the test build's wrapper.
        c = c.env_remove("RUSTC_WORKSPACE_WRAPPER");
        c
    };
    for (name, flags) in NEW {
        ours(&[&["new", name][..], flags].concat())
            .ignore_stdout()
            .run()?;
    }
    let members = ["function", NEW[0].0, NEW[1].0];
    let peer = Peer::prepare_from(
        &ours_root,
        &members,
        tools::cargo_lambda(&sh)?,
        scratch.path().join("peer-target"),
    )?;

    status(
        "Building",
        "ours from clean: cargo xtask build (three functions)",
    );
    let started = Instant::now();
    let built = ours(&["build", "--json"]).read()?;
    let ours_clean = started.elapsed();
    status(
        "Building",
        "the peer's from clean: cargo lambda build --release",
    );
    let started = Instant::now();
    peer.build(false)?;
    let peer_clean = started.elapsed();

    status(
        "Timing",
        format!("{} up-to-date reruns on each side", args.runs),
    );
    let ours_rerun = median(args.runs, || {
        ours(&["build"]).ignore_stdout().ignore_stderr().run()?;
        Ok(())
    })?;
    let peer_rerun = median(args.runs, || peer.build(true).map(drop))?;

    let mut table = Table::new([
        "three functions, x86_64",
        "cargo xtask",
        "cargo-lambda",
        "ratio",
    ]);
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    table.row([
        "build from clean".to_string(),
        secs(ours_clean),
        secs(peer_clean),
        ratio(ours_clean.as_secs_f64(), peer_clean.as_secs_f64()),
    ]);
    table.row([
        format!("up-to-date rerun (median of {})", args.runs),
        format!("{:.3} s", ours_rerun.as_secs_f64()),
        format!("{:.3} s", peer_rerun.as_secs_f64()),
        ratio(ours_rerun.as_secs_f64(), peer_rerun.as_secs_f64()),
    ]);
    for line in built.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let package = v["package"].as_str().unwrap_or_default();
        let bin = match package {
            "echo-function" => "bootstrap",
            other => other,
        };
        let ours_bytes = v["zip_bytes"].as_u64().unwrap_or_default();
        let peer_bytes = zip_bytes(&peer.zip_of(bin))?;
        table.row([
            format!("{package}: zip bytes"),
            ours_bytes.to_string(),
            peer_bytes.to_string(),
            ratio(ours_bytes as f64, peer_bytes as f64),
        ]);
    }
    println!();
    print!("{}", table.render());
    Ok(())
}

fn zip_bytes(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("cargo-lambda made no {}", path.display()))?
        .len())
}
