//! The one kind of async runtime xtask-local uses: a current-thread tokio (xtask-aws makes
//! the same in its `sdk/runtime.rs`).
//!
//! Every async part (the local Runtime API, the front door, the dev tools' clients) is
//! I/O-bound and small; one thread keeps the process light and its shutdown simple.

use anyhow::{Context, Result};

pub fn current_thread(purpose: &str) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| format!("starting the tokio runtime for {purpose}"))
}
