//! The crates `cargo xtask` compiles (package xtask alone) get the same features when the
//! first deploy compiles xtask-aws and when `cargo test --workspace` builds everything, so
//! neither compiles them again, and the binary the tests run is the one users run. cargo
//! resolves features per build: xtask/Cargo.toml turns on, for crates it already compiles,
//! the features the others need (its comment says which); this test catches a new one.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// `package version -> {features, ...}` for every crate in the build of `selection`, as
/// `cargo tree` resolves it (one set per build of the crate: for the target and for the host).
fn features(selection: &[&str], edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["-e", edges, "-f", "{p} [{f}]"])
        .args(selection)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((package, rest)) = line.split_once(" [") else {
            continue;
        };
        let package = package.trim_end_matches(" (proc-macro)");
        let features = rest.split(']').next().unwrap_or_default();
        map.entry(package.to_string())
            .or_default()
            .insert(features.to_string());
    }
    map
}

#[test]
fn xtasks_crates_are_compiled_once() {
    let alone = features(&["-p", "xtask"], "normal,build");
    assert!(alone.keys().any(|p| p.starts_with("serde ")), "{alone:?}");
    for (what, other) in [
        (
            "the first deploy (cargo build -p xtask-aws)",
            features(&["-p", "xtask-aws"], "normal,build"),
        ),
        (
            "cargo test --workspace",
            features(&["--workspace"], "normal,build,dev"),
        ),
    ] {
        let differ: Vec<String> = alone
            .iter()
            .filter_map(|(package, ours)| {
                let theirs = other.get(package)?;
                (theirs != ours).then(|| format!("{package}: {ours:?} here, {theirs:?} there"))
            })
            .collect();
        assert!(
            differ.is_empty(),
            "{what} would compile these crates of `cargo xtask` again, with other features; \
             turn those features on in xtask/Cargo.toml:\n{}",
            differ.join("\n")
        );
    }
}
