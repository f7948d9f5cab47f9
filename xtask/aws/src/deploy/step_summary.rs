//! `$GITHUB_STEP_SUMMARY`: opened for appending before the first request, so a path that
//! cannot take the summary (a directory, a device such as /dev/full) fails the run before it
//! changes anything, instead of after it reported "updated".

use std::fs::{File, Metadata, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub const VAR: &str = "GITHUB_STEP_SUMMARY";

/// The summary file, open for appending.
#[derive(Debug)]
pub struct StepSummary {
    path: PathBuf,
    file: File,
}

/// Why `metadata` (of an existing path) cannot take a summary, if it cannot.
pub fn unusable(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_dir() {
        Some("a directory")
    } else if !kind.is_file() {
        Some("not a regular file")
    } else {
        None
    }
}

impl StepSummary {
    /// `$GITHUB_STEP_SUMMARY` when set (and not empty), opened for appending.
    pub fn from_env() -> Result<Option<StepSummary>> {
        match std::env::var_os(VAR).filter(|s| !s.is_empty()) {
            Some(path) => StepSummary::open(Path::new(&path)).map(Some),
            None => Ok(None),
        }
    }

    /// Opens `path` for appending, creating it when missing; refuses anything but a
    /// writable regular file.
    pub fn open(path: &Path) -> Result<StepSummary> {
        let refuse = |why: &str| {
            anyhow::anyhow!(
                "{VAR}={} is {why}: point it at a writable file (GitHub Actions sets it), or \
                 unset it",
                path.display()
            )
        };
        if let Ok(metadata) = std::fs::metadata(path) {
            if let Some(why) = unusable(&metadata) {
                return Err(refuse(why));
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| refuse(&format!("not writable ({e})")))?;
        // Checked again on the open file: the path may have changed in between.
        if let Some(why) = unusable(&file.metadata()?) {
            bail!(refuse(why));
        }
        Ok(StepSummary {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn append(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("appending the summary to {VAR}={}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<StepSummary>) -> String {
        format!("{:#}", result.unwrap_err())
    }

    #[test]
    fn opens_files_and_creates_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        let mut summary = StepSummary::open(&path).unwrap();
        summary.append("one\n").unwrap();
        let mut again = StepSummary::open(&path).unwrap();
        again.append("two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }

    #[test]
    fn refuses_directories_devices_and_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let err = message(StepSummary::open(dir.path()));
        assert!(err.contains("is a directory"), "{err}");
        assert!(err.contains(VAR), "{err}");
        let err = message(StepSummary::open(Path::new("/dev/full")));
        assert!(err.contains("/dev/full is not a regular file"), "{err}");
        let err = message(StepSummary::open(
            &dir.path().join("no/such/dir/summary.md"),
        ));
        assert!(err.contains("not writable"), "{err}");
    }
}
