//! `xtask-local`: the `cargo xtask` commands that run the function on this machine (`invoke`,
//! `watch`) and the dev tools (`test`, `bench`, `ensure-deb`). `cargo xtask` builds this
//! package the first time one of them runs and hands their command line over, so a fresh
//! clone's `cargo xtask build` does not compile its async stack (tokio, hyper, notify).
//!
//! The map of modules is in `xtask/ARCHITECTURE.md`.

pub mod cli;
pub mod dev;
pub mod invoke;
pub mod runtime;
pub mod watch;
