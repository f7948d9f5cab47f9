//! The tokio runtime the SDK's calls run on: current-thread, as xtask-local's, since every
//! call here is I/O-bound and awaited one flow at a time.

use anyhow::{Context, Result};

pub fn current_thread(purpose: &str) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| format!("starting the tokio runtime for {purpose}"))
}
