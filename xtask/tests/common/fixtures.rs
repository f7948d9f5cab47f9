//! Helpers both packages' integration tests use (xtask-aws's include this file): run a
//! command, read its output, compile small fixture programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawning a test command")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
