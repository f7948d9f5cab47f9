//! `xtask-aws`: the `cargo xtask` commands that talk to AWS (`deploy`, `rollback`, `logs`,
//! `setup-ci`, `bench deploy`), in a package of their own so only they pay for compiling the AWS SDK.
//! `cargo xtask` builds this binary on first use and hands it the command line (see
//! `xtask::xtask_aws`); the flags, the build, the zip checks and the settings come from the
//! `xtask` library.
//!
//! Layers, each importing only from those below it (a tidy test in xtask keeps the modules free
//! of cycles):
//!
//! 1. `model`: what AWS says as plain data, and the shared pure decisions (failures and their
//!    sentences, time limits, aliases and their records, URL grants, log events, policy
//!    documents);
//! 2. `sdk`: the SDK edge: configuration, credentials, retries and timeouts, the request meter,
//!    SDK errors as data; a `Session` every service client is made from;
//! 3. `lambda`, `iam`, `cloudwatch` (Logs), `apigateway` (v2): one module per AWS service, owning its calls and the conversion from
//!    the SDK's types;
//! 4. `steps`: what the flows are made of (wait, settings, role, url, alias);
//! 5. `deploy`, `rollback`, `logs`, `setup_ci`: the flows, with their pure plans and reports;
//! 6. `cli`: the commands. `dev` (tests and benchmarks only) sits beside them.
//!
//! `iam` and `setup_ci`, and the execution role of `deploy --create`, are compiled with the
//! package feature `iam` only, `cloudwatch` and `logs` with `logs` only, `apigateway` with `api`
//! only (Cargo.toml says why).

#[cfg(feature = "api")]
pub mod apigateway;
pub mod cli;
#[cfg(feature = "logs")]
pub mod cloudwatch;
pub mod deploy;
pub mod dev;
#[cfg(feature = "iam")]
pub mod iam;
pub mod lambda;
#[cfg(feature = "logs")]
pub mod logs;
pub mod model;
pub mod rollback;
pub mod sdk;
#[cfg(feature = "iam")]
pub mod setup_ci;
pub mod steps;
