//! The one kind of async runtime the xtask uses: a current-thread tokio.
//!
//! Every async part (the local Runtime API, the AWS SDK) is I/O-bound and small;
//! one thread keeps the process light and its shutdown simple.

use anyhow::{Context, Result};

pub fn current_thread(purpose: &str) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| format!("starting the tokio runtime for {purpose}"))
}
