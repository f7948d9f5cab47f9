//! `cargo xtask`: build, verify, run, deploy and roll back a Lambda function with nothing but
//! rustup.
//!
//! A library so the integration tests can reach the CLI parser and the pure checks; the
//! map of modules is in `xtask/ARCHITECTURE.md`.

pub mod bootstrap_zip;
pub mod build;
pub mod cli;
pub mod companion;
pub mod deploy;
pub mod dev;
pub mod iam_policy;
pub mod invoke;
pub mod lambda;
pub mod logs;
pub mod new;
pub mod rollback;
pub mod setup_ci;
pub mod util;
pub mod verify;
pub mod watch;
pub mod workspace;
pub mod xtask_aws;
pub mod xtask_local;

#[cfg(test)]
mod tidy;
