//! Shared helpers for the integration tests: run the real xtask binary, build
//! the real bootstrap once per test process, compile small fixture programs.
#![allow(dead_code)]

mod fixtures;

pub use fixtures::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

pub fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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
