//! `cargo xtask deploy`: upload the built zip to an existing Lambda function, safely and
//! idempotently (UpdateFunctionCode guarded by RevisionId, then wait, verify, publish, alias).
//!
//! - `command`: settings, the zip, the output; `preflight`: the checks before any request
//!   (names, retry variables, `step_summary`, the file CI reads);
//! - `flow`: the deploy's steps against Lambda; `wait`: polling and conflicts, bounded;
//!   `alias`: moving the alias, guarded by its RevisionId, recording where it came from;
//!   `smoke`: the published version's smoke test before the alias moves;
//! - `plan` and `errors`: every decision and every failure message, as pure functions;
//! - `lambda_api`: the calls, one method each; `aws`: the SDK's configuration and meter;
//!   `credentials`: profiles and credential resolution; `timeouts`: every time limit;
//! - `report`: what happened, for people, CI's step summary and `--json`;
//! - `configuration` (settings as code), `role` (`--create`'s execution role), `url` (`--url`),
//!   and `setup`, what those did, for the report.
//!
//! The flags are `xtask::deploy::Args`, shared with `cargo xtask`'s command line.

pub mod alias;
pub mod aws;
mod command;
pub mod configuration;
pub mod credentials;
pub mod errors;
mod flow;
pub mod lambda_api;
pub mod plan;
pub mod preflight;
pub mod report;
pub mod role;
mod setup;
pub mod smoke;
pub mod step_summary;
pub mod timeouts;
pub mod url;
mod wait;

pub use command::run;
