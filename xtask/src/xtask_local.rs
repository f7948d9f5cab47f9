//! The commands that run the function on this machine (`invoke`, `watch`) and the dev tools
//! (`test`, `bench` but `bench deploy`, `ensure-deb`) run in `xtask-local` (package xtask/local), so its async
//! stack (tokio, hyper, notify) is compiled the first time one of them runs, not on every
//! fresh `cargo xtask build` (see [`crate::companion`]).

use std::convert::Infallible;

use anyhow::Result;

use crate::companion::Companion;

/// The package and binary that hold the local commands.
pub const PACKAGE: &str = "xtask-local";

/// Names a prebuilt `xtask-local` to run instead of building one.
pub const BIN_ENV: &str = "XTASK_LOCAL_BIN";

/// Builds `xtask-local` (a no-op when it is up to date) and execs it with our arguments.
pub fn exec() -> Result<Infallible> {
    Companion {
        package: PACKAGE,
        bin_env: BIN_ENV,
        compiles: "the local emulator and the dev tools (invoke, watch, test, bench, ensure-deb)",
        takes: "about half a minute",
        runs: "invoke, watch, test, bench and ensure-deb",
    }
    .exec(&[])
}
