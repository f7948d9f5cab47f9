//! `cargo xtask deploy`: upload the built zip to an existing Lambda function, safely and
//! idempotently (UpdateFunctionCode guarded by RevisionId, then wait, verify, publish, alias).
//!
//! - `command`: settings, the zip, the output;
//! - `flow`: the deploy's steps against Lambda;
//! - `plan` and `errors`: every decision and every failure message, as pure functions;
//! - `lambda_api`: the calls, one method each; `aws`: the SDK's configuration and meter;
//! - `report`: what happened, for people, CI's step summary and `--json`;
//! - `configuration` (settings as code), `role` (`--create`'s execution role), `url` (`--url`),
//!   and `setup`, what those did, for the report.
//!
//! The flags are `xtask::deploy::Args`, shared with `cargo xtask`'s command line.

pub mod aws;
mod command;
pub mod configuration;
pub mod errors;
mod flow;
pub mod lambda_api;
pub mod plan;
pub mod report;
pub mod role;
mod setup;
pub mod url;

pub use command::run;
