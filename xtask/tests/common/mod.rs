//! Shared helpers for the integration tests: run the real xtask binary, build
//! the real bootstrap once per test process, compile small fixture programs.
#![allow(dead_code)]

pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawning a test command")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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

/// Compiles a one-file Rust program with `rustc` and returns the binary's path.
pub fn rustc_fixture(dir: &Path, name: &str, source: &str, args: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, source).unwrap();
    let out_path = dir.join(name);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = run(Command::new(rustc)
        .arg("--edition=2021")
        .arg("-O")
        .arg("-o")
        .arg(&out_path)
        .args(args)
        .arg(&src));
    assert!(out.status.success(), "rustc {name}: {}", text(&out.stderr));
    out_path
}

pub const HELLO: &str = "fn main() { println!(\"hello\"); }\n";
