//! `cargo xtask bench build`: zip and binary size, up-to-date rebuild time and zip stability,
//! ours and cargo-lambda's; arm64 beside x86_64.

use std::time::Duration;

use anyhow::{bail, Result};
use xshell::{cmd, Shell};

use super::table::{ratio, Table};
use super::{median, touch, BuildArgs};
use crate::dev::peer;
use xtask::build::{self, Artifact};
use xtask::lambda::Arch;
use xtask::util::digest::sha256_hex;
use xtask::util::status::status;
use xtask::workspace::{self, project_root};

/// What one run measured.
struct Numbers {
    runs: usize,
    ours: Artifact,
    ours_arm: Artifact,
    peer_zip_bytes: u64,
    peer_bin_bytes: u64,
    ours_rebuild: Duration,
    peer_rebuild: Duration,
    ours_stable: bool,
    peer_stable: bool,
}

pub fn run(args: BuildArgs) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let numbers = measure(args.runs)?;
    println!();
    print!("{}", render(&numbers));
    Ok(())
}

fn measure(runs: usize) -> Result<Numbers> {
    let sh = Shell::new()?;
    let root = project_root();
    sh.change_dir(&root);

    status("Building", "ours (cargo xtask build, both architectures)");
    let ours = build::build(&crate::dev::echo_function()?, Arch::X86_64)?;
    let ours_arm = build::build(&crate::dev::echo_function()?, Arch::Arm64)?;
    let (peer, peer_zip) = peer::build_peer()?;

    status("Timing", format!("{runs} up-to-date rebuilds on each side"));
    let cargo = workspace::cargo();
    let ours_rebuild = median(runs, || {
        cmd!(sh, "{cargo} xtask build")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()?;
        Ok(())
    })?;
    let peer_rebuild = median(runs, || peer.build(true).map(drop))?;

    // A touched source forces a relink: does the zip (and so CodeSha256) stay the same?
    status(
        "Touching",
        "function/src/main.rs on each side, then rebuilding",
    );
    let main_rs = |dir: &std::path::Path| dir.join("function/src/main.rs");
    touch(&main_rs(&root))?;
    let ours_stable =
        build::build(&crate::dev::echo_function()?, Arch::X86_64)?.zip_sha256 == ours.zip_sha256;
    let before_peer = sha256_hex(&std::fs::read(&peer_zip)?);
    touch(&main_rs(peer.workspace()))?;
    // Zip timestamps have 2-second resolution.
    std::thread::sleep(Duration::from_secs(2));
    peer.build(true)?;
    let peer_stable = sha256_hex(&std::fs::read(&peer_zip)?) == before_peer;

    Ok(Numbers {
        runs,
        peer_zip_bytes: std::fs::metadata(&peer_zip)?.len(),
        peer_bin_bytes: std::fs::metadata(peer.binary())?.len(),
        ours,
        ours_arm,
        ours_rebuild,
        peer_rebuild,
        ours_stable,
        peer_stable,
    })
}

fn render(n: &Numbers) -> String {
    let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut peers = Table::new([
        "x86_64, same function crate",
        "cargo xtask",
        "cargo-lambda",
        "ratio",
    ]);
    peers
        .row([
            "zip bytes".to_string(),
            n.ours.zip_bytes.to_string(),
            n.peer_zip_bytes.to_string(),
            ratio(n.ours.zip_bytes as f64, n.peer_zip_bytes as f64),
        ])
        .row([
            "bootstrap bytes".to_string(),
            n.ours.binary_bytes.to_string(),
            n.peer_bin_bytes.to_string(),
            ratio(n.ours.binary_bytes as f64, n.peer_bin_bytes as f64),
        ])
        .row([
            format!("up-to-date rebuild (median of {})", n.runs),
            secs(n.ours_rebuild),
            secs(n.peer_rebuild),
            ratio(n.ours_rebuild.as_secs_f64(), n.peer_rebuild.as_secs_f64()),
        ])
        .row([
            "zip unchanged after touch + rebuild",
            yes_no(n.ours_stable),
            yes_no(n.peer_stable),
            "",
        ]);
    let mut arches = Table::new(["cargo xtask, by architecture", "x86_64", "arm64", "ratio"]);
    arches
        .row([
            "zip bytes".to_string(),
            n.ours.zip_bytes.to_string(),
            n.ours_arm.zip_bytes.to_string(),
            ratio(n.ours_arm.zip_bytes as f64, n.ours.zip_bytes as f64),
        ])
        .row([
            "bootstrap bytes".to_string(),
            n.ours.binary_bytes.to_string(),
            n.ours_arm.binary_bytes.to_string(),
            ratio(n.ours_arm.binary_bytes as f64, n.ours.binary_bytes as f64),
        ]);
    format!("{}\n{}", peers.render(), arches.render())
}
