//! File writes that readers never see half done, tree copies, and reads of files a user
//! names that look before they read.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Opens `path` for reading if it is a regular file; else says what it is ("is a FIFO").
/// Opened O_NONBLOCK, so a FIFO with no writer cannot make it wait.
pub fn open_regular(path: &Path) -> std::result::Result<(File, u64), String> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let kind = meta.file_type();
    if kind.is_file() {
        // O_NONBLOCK changes nothing for a regular file's reads.
        return Ok((file, meta.len()));
    }
    Err(format!(
        "is {}",
        if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        }
    ))
}

/// The whole of `path`, a regular file of at most `max` bytes (`what` names it in errors).
pub fn read_regular(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let (file, len) =
        open_regular(path).map_err(|why| anyhow::anyhow!("{what} {} {why}", path.display()))?;
    let too_big = |len: u64| {
        format!(
            "{what} {} is {len} bytes, over the {max}-byte limit",
            path.display()
        )
    };
    if len > max {
        bail!(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // It may grow while being read.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Writes via a temporary file and a rename, so readers never see half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .context("output path has no parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("moving {} into place", path.display()))
}

/// Copies a file, or a directory recursively, leaving out `target/` folders.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        return Ok(());
    }
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_name() != "target" {
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_within_a_limit_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(read_regular(&file, 2, "event").unwrap(), b"{}");
        let err = read_regular(&file, 1, "event").unwrap_err().to_string();
        assert!(err.contains("is 2 bytes, over the 1-byte limit"), "{err}");
        let err = read_regular(dir.path(), 10, "event")
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("is a directory"), "{err}");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = read_regular(&fifo, 10, "event").unwrap_err().to_string();
        assert!(err.ends_with("is a FIFO"), "{err}");
        let err = read_regular(&dir.path().join("none"), 10, "event")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be read"), "{err}");
        let err = read_regular(Path::new("/dev/zero"), 10, "event")
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("is a character device"), "{err}");
    }
}
