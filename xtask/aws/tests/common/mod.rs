//! Shared helpers for xtask-aws's integration tests: run the xtask-aws binary, build the
//! real bootstrap once per test process, compile small fixture programs.
#![allow(dead_code)]

#[path = "../../../tests/common/fixtures.rs"]
mod fixtures;
pub mod iam;
pub mod invoke;
pub mod lambda;
pub mod proxy;

#[allow(unused_imports)]
pub use fixtures::*;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use clap::ValueEnum;
use xtask::lambda::Arch;

pub fn xtask_aws() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask-aws"))
}

/// The zip `cargo xtask build --arch ARCH` makes, built once per test process.
pub fn built_zip(arch: &str) -> PathBuf {
    static BUILDS: OnceLock<Mutex<HashMap<Arch, PathBuf>>> = OnceLock::new();
    let arch = Arch::from_str(arch, false).expect("x86_64 or arm64");
    let mut builds = BUILDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    builds
        .entry(arch)
        .or_insert_with(|| {
            xtask::build::build(&xtask_local::dev::echo_function().unwrap(), arch)
                .unwrap_or_else(|e| panic!("building the {arch} zip: {e:#}"))
                .zip
        })
        .clone()
}

/// The built x86_64 bootstrap, zipped again at another level: different bytes, same program.
pub fn second_zip(dir: &Path) -> PathBuf {
    let binary =
        xtask::bootstrap_zip::bootstrap_from_zip(&std::fs::read(built_zip("x86_64")).unwrap())
            .unwrap();
    let path = dir.join("second.zip");
    std::fs::write(
        &path,
        xtask::bootstrap_zip::zip_bootstrap(&binary, 1).unwrap(),
    )
    .unwrap();
    path
}
