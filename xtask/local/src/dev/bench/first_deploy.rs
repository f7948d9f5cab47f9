//! `cargo xtask bench first-deploy`: what a fresh clone's first `cargo xtask deploy` compiles
//! before it sends anything (the xtask-aws binary, after a first `cargo xtask build` compiled
//! the xtask), beside cargo-lambda's deploy, which is ready once `pip install cargo-lambda`
//! ends. Each `--rev` is a clone of its own with an empty target directory, so an older commit
//! and this one are measured side by side, in one run, on the same machine.

use std::time::Duration;

use anyhow::Result;

use super::first_build::{aws_crates, cargo_in, clone_at, install_peer};
use super::table::{ratio, Table};
use super::FirstDeployArgs;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;

struct Measured {
    rev: String,
    time: Duration,
    crates: usize,
    aws_crates: usize,
}

pub fn run(args: FirstDeployArgs) -> Result<()> {
    let scratch = ScratchDir::create("first-deploy")?;
    let mut measured = Vec::new();
    for (n, rev) in args.rev.iter().enumerate() {
        let clone = scratch.path().join(format!("clone-{n}"));
        clone_at(&clone, rev)?;
        status(
            "Building",
            format!("the xtask at {rev} (`cargo xtask build`, not timed)"),
        );
        cargo_in(&clone, &["xtask", "build"])?;
        status(
            "Timing",
            format!("the first deploy's compile at {rev} (cargo build --package xtask-aws)"),
        );
        let (time, compiled) = cargo_in(&clone, &["build", "--package", "xtask-aws"])?;
        measured.push(Measured {
            rev: rev.clone(),
            time,
            crates: compiled.len(),
            aws_crates: aws_crates(&compiled),
        });
    }
    let (install, _) = install_peer(scratch.path())?;
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let mut table = Table::new([
        "before the first deploy",
        "time",
        "crates compiled",
        "AWS SDK crates",
        "ratio to the first",
    ]);
    let first = measured.first().map(|m| m.time.as_secs_f64());
    for m in &measured {
        table.row([
            format!("cargo xtask at {}", m.rev),
            secs(m.time),
            m.crates.to_string(),
            m.aws_crates.to_string(),
            first
                .map(|f| ratio(m.time.as_secs_f64(), f))
                .unwrap_or_default(),
        ]);
    }
    table.row([
        "cargo-lambda (pip install)".to_string(),
        secs(install),
        String::new(),
        String::new(),
        first
            .map(|f| ratio(install.as_secs_f64(), f))
            .unwrap_or_default(),
    ]);
    println!();
    print!("{}", table.render());
    Ok(())
}
