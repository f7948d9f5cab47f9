//! `cargo xtask deploy`: upload the built zip to a Lambda function (created with `--create`),
//! safely and idempotently (UpdateFunctionCode guarded by RevisionId, then wait, verify,
//! publish, smoke test, alias).
//!
//! - `command`: settings, the zip, the output; `preflight`: the checks before any request
//!   (names, the connection flags, `step_summary`, the file CI reads);
//! - `flow`: the deploy's steps (`crate::steps`) against Lambda, in order;
//! - `plan`: deploy's decisions, and `smoke`: the smoke test's files and verdict, as pure
//!   functions;
//! - `report` and `extras` (settings, role, URL): what happened, for people, CI's step summary
//!   and `--json`.
//!
//! The flags are `xtask::deploy::Args`, shared with `cargo xtask`'s command line.

mod command;
mod extras;
mod flow;
pub mod plan;
pub mod preflight;
pub mod report;
pub mod smoke;
pub mod step_summary;

pub use command::run;
