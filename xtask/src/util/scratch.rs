//! Private temporary directories that never outlive their owner.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::random::random_u128;

/// A private (0700) directory in TMPDIR, removed with everything in it on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn create(purpose: &str) -> Result<ScratchDir> {
        let base = std::env::temp_dir();
        let path = base.join(format!(
            "xtask-{purpose}-{}-{:016x}",
            std::process::id(),
            random_u128() as u64
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| {
                format!(
                    "creating a private directory in {}: is TMPDIR writable?",
                    base.display()
                )
            })?;
        Ok(ScratchDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
