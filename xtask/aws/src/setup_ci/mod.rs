//! `cargo xtask setup-ci`: the AWS side of CI's deploy, made once and idempotently: GitHub's
//! OIDC provider (with the `sts.amazonaws.com` audience), the deploy role trusting one
//! repository's tokens, and its permissions policy, both policies `iam-policy`'s. Each item is
//! read first and written only when it differs, so a rerun writes nothing.
//!
//! - `command`: the edges: inputs, the session (`crate::sdk`), the reads and writes through
//!   `crate::iam`, the output;
//! - `plan`: every decision, the policies compared as IAM reads them, the fix for a denied
//!   call, as pure functions;
//! - `variables`: the repository variables the workflow reads and their `gh` lines;
//! - `report`: what was done, for people and `--json`.
//!
//! The flags are `xtask::setup_ci::Args`, shared with `cargo xtask`'s command line.

mod command;
pub mod plan;
pub mod report;
pub mod variables;

pub use command::run;
