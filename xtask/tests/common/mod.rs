//! Shared helpers for the integration tests: run the real xtask binary, build
//! the real bootstrap once per test process, compile small fixture programs.
#![allow(dead_code)]

mod fixtures;

pub use fixtures::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// `cargo xtask`: the `xtask` binary, handing its local commands to an up-to-date
/// `xtask-local` (as the deploy tests hand theirs to `xtask-aws`).
pub fn xtask() -> Command {
    let mut cmd = Command::new(built_binary(option_env!("CARGO_BIN_EXE_xtask"), "xtask"));
    cmd.env(xtask::xtask_local::BIN_ENV, xtask_local());
    cmd
}

/// The `xtask-local` binary, up to date.
pub fn xtask_local() -> PathBuf {
    built_binary(option_env!("CARGO_BIN_EXE_xtask-local"), "xtask-local")
}

/// A workspace binary: where cargo says it built it for this package's tests, else built
/// for them (the tests of xtask and of xtask-local share these helpers).
fn built_binary(cargo_says: Option<&str>, name: &str) -> PathBuf {
    cargo_says.map_or_else(|| xtask_local::dev::binary_for_tests(name), PathBuf::from)
}

pub fn workspace_root() -> PathBuf {
    xtask::workspace::workspace_root_above(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `cargo xtask build --json` for `arch`, once per test process.
pub fn built(arch: &str) -> Value {
    static BUILDS: OnceLock<Mutex<std::collections::HashMap<String, Value>>> = OnceLock::new();
    let builds = BUILDS.get_or_init(Default::default);
    let mut builds = builds.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = builds.get(arch) {
        return v.clone();
    }
    let out = run(xtask().args(["build", "--json", "--arch", arch]));
    assert!(
        out.status.success(),
        "xtask build --arch {arch} failed:\n{}",
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("build --json prints JSON");
    builds.insert(arch.to_string(), v.clone());
    v
}

pub fn built_zip(arch: &str) -> PathBuf {
    PathBuf::from(built(arch)["zip"].as_str().unwrap())
}
