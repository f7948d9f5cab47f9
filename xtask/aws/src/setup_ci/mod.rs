//! `cargo xtask setup-ci`: the AWS side of CI's deploy, made once and idempotently: GitHub's
//! OIDC provider (with the `sts.amazonaws.com` audience), the deploy role trusting one
//! repository's tokens, and its permissions policy, both policies `iam-policy`'s. Each item is
//! read first and written only when it differs, so a rerun writes nothing.
//!
//! - `command`: the edges: inputs, the SDK's configuration (deploy's), the steps, the output;
//! - `plan`: every decision, the policies compared as IAM reads them, the repository variables
//!   and the failure messages, as pure functions;
//! - `iam`: the STS and IAM calls, one method each;
//! - `report`: what was done, for people and `--json`.
//!
//! The flags are `xtask::setup_ci::Args`, shared with `cargo xtask`'s command line.

mod command;
pub mod iam;
pub mod plan;
pub mod report;

pub use command::run;
