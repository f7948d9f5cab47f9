//! `xtask-aws`: the `cargo xtask` commands that talk to AWS (`deploy`, `rollback`, `setup-ci`,
//! `bench deploy`), in a package of their own so only they pay for compiling the AWS SDK.
//! `cargo xtask` builds this binary on first use and hands it the command line (see
//! `xtask::xtask_aws`); the flags, the build, the zip checks and the settings come from the
//! `xtask` library.

pub mod cli;
pub mod deploy;
pub mod dev;
pub mod rollback;
pub mod setup_ci;
