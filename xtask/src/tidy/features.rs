//! The crates `cargo xtask` compiles (package xtask alone) get the same features when the
//! first `invoke` compiles xtask-local, when the first deploy compiles xtask-aws and when
//! `cargo test --workspace` builds everything, and those of xtask-local the same in the last
//! two, so no later build compiles them again, and the binaries the tests run are the ones
//! users run. cargo resolves features per build: xtask/Cargo.toml and xtask/local/Cargo.toml
//! turn on, for crates they already compile, the features the later builds need (their
//! comments say which); this test catches a new one.

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
    let xtask = features(&["-p", "xtask"], "normal,build");
    assert!(xtask.keys().any(|p| p.starts_with("serde ")), "{xtask:?}");
    let local = features(&["-p", "xtask-local"], "normal,build");
    assert!(local.keys().any(|p| p.starts_with("hyper ")), "{local:?}");
    // The builds that follow, as `cargo xtask` and the tests run them: xtask-aws with each
    // feature it is built with on first use (`cargo xtask` turns on one at a time; CI's deploy
    // tool has `api`), and the tests with all of them.
    let mut later: Vec<(String, _)> = vec![(
        "the first invoke (cargo build -p xtask-local)".to_string(),
        local.clone(),
    )];
    for feature in [None, Some("iam"), Some("logs"), Some("api"), Some("bench")] {
        let mut selection = vec!["-p", "xtask-aws"];
        selection.extend(feature.iter().flat_map(|f| ["--features", *f]));
        later.push((
            format!("cargo build {}", selection.join(" ")),
            features(&selection, "normal,build"),
        ));
    }
    let all = "xtask-aws/iam,xtask-aws/logs,xtask-aws/api,xtask-aws/bench";
    later.push((
        format!("cargo test --workspace --features {all}"),
        features(&["--workspace", "--features", all], "normal,build,dev"),
    ));
    let mut differ = Vec::new();
    for (first, alone, later) in [
        ("xtask", &xtask, &later[..]),
        ("xtask/local", &local, &later[1..]),
    ] {
        for (what, other) in later {
            differ.extend(alone.iter().filter_map(|(package, ours)| {
                let theirs = other.get(package)?;
                (theirs != ours).then(|| {
                    format!(
                        "{what} recompiles {package}: {ours:?} in {first}, {theirs:?} there; \
                         turn the missing features on in the Cargo.toml of the build that lacks them"
                    )
                })
            }));
        }
    }
    assert!(
        differ.is_empty(),
        "crates would be compiled again, with other features:\n{}",
        differ.join("\n")
    );
}
