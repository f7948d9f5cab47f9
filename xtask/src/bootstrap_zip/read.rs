//! Reading a deployment zip back, and the one layout check every command applies to it
//! (build on what it wrote, verify-static, invoke and deploy on what they are given).
//!
//! The rules, each a way Lambda would fail late or a checked file could hide another:
//! - exactly one entry named `bootstrap` at the root, and no name twice (zip readers keep
//!   the last of two equal names, so a checked `bootstrap` could hide a different first one);
//! - `bootstrap` is a regular file (not a directory or a symlink) whose Unix mode lets every
//!   user read and execute it (0755 or wider): Lambda runs it as a user that owns nothing,
//!   and a 0644 or 0700 `bootstrap` fails at init with "permission denied"; a zip with no
//!   Unix modes (made on Windows) gives no such guarantee and is refused;
//! - other files are allowed (data or config the function reads from /var/task), but no
//!   name may be absolute or climb out with `..`;
//! - at most 50 MB zipped (a direct upload) and 250 MB unzipped, from the central directory
//!   alone, before anything is inflated.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use anyhow::{bail, Context, Result};
use zip::ZipArchive;

use crate::lambda::{BOOTSTRAP, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};

/// One entry of a zip, as the layout check and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub name: String,
    pub unix_mode: Option<u32>,
    pub is_file: bool,
    pub size: u64,
    pub compressed_size: u64,
    pub method: String,
    pub modified: (u16, u8, u8, u8, u8, u8),
}

/// What the layout check found: where `bootstrap` is and how much the zip unpacks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub bootstrap_index: usize,
    pub unzipped_bytes: u64,
}

pub fn entries(zip: &[u8]) -> Result<Vec<EntryInfo>> {
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .context("not a readable zip archive (truncated or corrupt)")?;
    // The zip crate indexes entries by name and keeps the last of two equal names, so a
    // name given twice is found from the central directory itself.
    let names = central_directory_names(zip)?;
    if names.len() != archive.len() {
        let mut seen = HashSet::new();
        let twice = names
            .iter()
            .find(|n| !seen.insert(n.as_slice()))
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        bail!(
            "the zip holds `{twice}` more than once; unzip tools keep one and drop the other, \
             so what was checked may not be what runs: rebuild it with `cargo xtask build`"
        );
    }
    (0..archive.len())
        .map(|i| {
            let f = archive
                .by_index_raw(i)
                .context("reading the zip's directory")?;
            let t = f.last_modified().unwrap_or_default();
            Ok(EntryInfo {
                name: f
                    .name()
                    .context("entry name is not valid text")?
                    .into_owned(),
                unix_mode: f.unix_mode(),
                is_file: f.is_file(),
                size: f.size(),
                compressed_size: f.compressed_size(),
                method: f.compression().to_string(),
                modified: (
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                ),
            })
        })
        .collect()
}

/// Every entry's name as the central directory spells it, duplicates included: the records
/// from the end-of-central-directory record's start back to the directory's beginning.
fn central_directory_names(zip: &[u8]) -> Result<Vec<Vec<u8>>> {
    let corrupt = || anyhow::anyhow!("not a readable zip archive (corrupt central directory)");
    let u16_at = |at: usize| -> Result<usize> {
        let b = zip.get(at..at + 2).ok_or_else(corrupt)?;
        Ok(usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |at: usize| -> Result<usize> {
        let b = zip.get(at..at + 4).ok_or_else(corrupt)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    // The EOCD record is 22 bytes plus a comment of at most 65,535.
    let search_from = zip.len().saturating_sub(22 + 65_535);
    let eocd = (search_from..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(corrupt)?;
    let cd_size = u32_at(eocd + 12)?;
    let mut at = eocd.checked_sub(cd_size).ok_or_else(corrupt)?;
    let mut names = Vec::new();
    while at < eocd {
        if !zip[at..].starts_with(b"PK\x01\x02") {
            return Err(corrupt());
        }
        let (name_len, extra_len, comment_len) =
            (u16_at(at + 28)?, u16_at(at + 30)?, u16_at(at + 32)?);
        let name = zip.get(at + 46..at + 46 + name_len).ok_or_else(corrupt)?;
        names.push(name.to_vec());
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(names)
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

/// The layout rules (see the module's documentation), over the central directory alone.
pub fn check_layout(zipped_bytes: u64, entries: &[EntryInfo]) -> Result<Layout> {
    if zipped_bytes > MAX_ZIPPED_BYTES {
        bail!(
            "the zip is {zipped_bytes} bytes, over Lambda's {MAX_ZIPPED_BYTES}-byte limit for a \
             direct upload; make the bootstrap smaller (release profile, strip) or upload through S3"
        );
    }
    let names = || -> String {
        if entries.is_empty() {
            "none".to_string()
        } else {
            entries
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut seen = HashSet::new();
    for e in entries {
        if !seen.insert(e.name.as_str()) {
            bail!(
                "the zip holds `{}` more than once; unzip tools keep one and drop the other, \
                 so what was checked may not be what runs: rebuild it with `cargo xtask build`",
                e.name
            );
        }
        if e.name.starts_with('/') || e.name.split(['/', '\\']).any(|part| part == "..") {
            bail!(
                "the zip has an entry with an unsafe path, `{}` (absolute or climbing out \
                 with `..`); Lambda unpacks every entry under /var/task",
                e.name
            );
        }
    }
    let bootstraps: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].name == BOOTSTRAP)
        .collect();
    // Two would have been refused above as a name given twice.
    let &[index] = bootstraps.as_slice() else {
        bail!(
            "the zip has no `bootstrap` at its root (entries: {}); Lambda's provided runtimes \
             execute ./bootstrap: rebuild it with `cargo xtask build`",
            names()
        );
    };
    let bootstrap = &entries[index];
    check_bootstrap_mode(bootstrap)?;
    let unzipped: u64 = entries.iter().map(|e| e.size).sum();
    if unzipped > MAX_UNZIPPED_BYTES {
        bail!(
            "the zip unpacks to {unzipped} bytes, over Lambda's {MAX_UNZIPPED_BYTES}-byte \
             unzipped limit; make the bootstrap smaller"
        );
    }
    Ok(Layout {
        bootstrap_index: index,
        unzipped_bytes: unzipped,
    })
}

fn check_bootstrap_mode(bootstrap: &EntryInfo) -> Result<()> {
    let Some(mode) = bootstrap.unix_mode else {
        bail!(
            "`bootstrap` in the zip carries no Unix permissions (a zip made on Windows?), so \
             Lambda may unpack it without the execute bit and fail at init: rebuild it with \
             `cargo xtask build`"
        );
    };
    let file_type = mode & S_IFMT;
    // Some tools write permissions without a file type; a directory flag still shows in is_file.
    if !bootstrap.is_file || (file_type != 0 && file_type != S_IFREG) {
        bail!("`bootstrap` in the zip is not a regular file (mode {mode:o})");
    }
    let permissions = mode & 0o7777;
    if permissions & 0o755 != 0o755 {
        bail!(
            "`bootstrap` in the zip has mode {permissions:04o}; Lambda runs it as a user that owns \
             nothing, so it needs 0755 (read and execute for everyone) or wider, else init fails \
             with \"permission denied\": rebuild it with `cargo xtask build`, or `chmod 755 \
             bootstrap` before zipping"
        );
    }
    Ok(())
}

/// Extracts `bootstrap` from a deployment zip after the layout check, refusing anything
/// Lambda would not run.
pub fn bootstrap_from_zip(zip: &[u8]) -> Result<Vec<u8>> {
    let layout = check_layout(zip.len() as u64, &entries(zip)?)?;
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .context("not a readable zip archive (truncated or corrupt)")?;
    let mut file = archive
        .by_index(layout.bootstrap_index)
        .context("reading `bootstrap` from the zip (truncated, corrupt or encrypted)")?;
    let size = file.size();
    let mut out = Vec::with_capacity(size.min(MAX_UNZIPPED_BYTES) as usize);
    // The central directory's size is a claim; never inflate past it or past the limit.
    (&mut file)
        .take(size.min(MAX_UNZIPPED_BYTES) + 1)
        .read_to_end(&mut out)
        .context("decompressing `bootstrap` from the zip (truncated or corrupt)")?;
    if out.len() as u64 != size {
        bail!(
            "`bootstrap` in the zip inflates to more than the {size} bytes its directory entry \
             claims: the zip is corrupt or hostile"
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    use super::*;
    use crate::bootstrap_zip::zip_bootstrap;

    fn entry(name: &str, size: u64) -> EntryInfo {
        EntryInfo {
            name: name.to_string(),
            unix_mode: Some(0o100755),
            is_file: true,
            size,
            compressed_size: size / 2,
            method: "Deflated".into(),
            modified: (1980, 1, 1, 0, 0, 0),
        }
    }

    fn with_mode(mode: Option<u32>) -> EntryInfo {
        EntryInfo {
            unix_mode: mode,
            ..entry("bootstrap", 1)
        }
    }

    fn err(entries: &[EntryInfo]) -> String {
        format!("{:#}", check_layout(10, entries).unwrap_err())
    }

    #[test]
    fn layout_limits() {
        assert_eq!(
            check_layout(100, &[entry("bootstrap", 300)]).unwrap(),
            Layout {
                bootstrap_index: 0,
                unzipped_bytes: 300
            }
        );
        let over_zipped = check_layout(MAX_ZIPPED_BYTES + 1, &[entry("bootstrap", 1)]);
        assert!(format!("{:#}", over_zipped.unwrap_err()).contains("52428800-byte limit"));
        let over_unzipped = check_layout(
            100,
            &[entry("bootstrap", MAX_UNZIPPED_BYTES), entry("data", 1)],
        );
        assert!(format!("{:#}", over_unzipped.unwrap_err()).contains("262144000-byte unzipped"));
        assert_eq!(
            check_layout(100, &[entry("bootstrap", MAX_UNZIPPED_BYTES)])
                .unwrap()
                .unzipped_bytes,
            MAX_UNZIPPED_BYTES
        );
    }

    #[test]
    fn exactly_one_bootstrap_and_no_name_twice() {
        let none = err(&[entry("main", 1)]);
        assert!(
            none.contains("no `bootstrap`") && none.contains("main"),
            "{none}"
        );
        let two = err(&[entry("bootstrap", 1), entry("bootstrap", 1)]);
        assert!(two.contains("`bootstrap` more than once"), "{two}");
        let twice = err(&[entry("bootstrap", 1), entry("a", 1), entry("a", 1)]);
        assert!(twice.contains("`a` more than once"), "{twice}");
        assert!(err(&[]).contains("entries: none"));
        let nested = err(&[entry("dir/bootstrap", 1)]);
        assert!(nested.contains("no `bootstrap`"), "{nested}");
        // Extra files beside bootstrap are fine.
        let layout = check_layout(10, &[entry("config.json", 5), entry("bootstrap", 1)]).unwrap();
        assert_eq!(layout.bootstrap_index, 1);
        assert_eq!(layout.unzipped_bytes, 6);
    }

    #[test]
    fn bootstrap_must_be_a_regular_file_everyone_can_run() {
        for ok in [0o100755, 0o100775, 0o100777, 0o755] {
            assert!(check_layout(10, &[with_mode(Some(ok))]).is_ok(), "{ok:o}");
        }
        for (bad, says) in [
            (Some(0o100644), "mode 0644"),
            (Some(0o100700), "mode 0700"),
            (Some(0o100751), "mode 0751"),
            (Some(0o120777), "not a regular file"),
            (None, "no Unix permissions"),
        ] {
            let e = err(&[with_mode(bad)]);
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        let dir = EntryInfo {
            is_file: false,
            unix_mode: Some(0o040755),
            ..entry("bootstrap", 0)
        };
        assert!(err(&[dir]).contains("not a regular file"));
    }

    #[test]
    fn unsafe_names_are_refused() {
        for name in ["/etc/passwd", "../bootstrap", "a/../../b"] {
            let e = err(&[entry("bootstrap", 1), entry(name, 1)]);
            assert!(e.contains("unsafe path"), "{name}: {e}");
        }
    }

    fn zip_of(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, mode, data) in files {
            let options = SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn extraction_applies_the_layout_check() {
        let zip = zip_of(&[("bootstrap", 0o755, b"x"), ("data", 0o644, b"y")]);
        assert_eq!(bootstrap_from_zip(&zip).unwrap(), b"x");
        let zip = zip_of(&[("bootstrap", 0o644, b"x")]);
        let e = format!("{:#}", bootstrap_from_zip(&zip).unwrap_err());
        assert!(e.contains("mode 0644"), "{e}");
        let zip = zip_of(&[("main", 0o755, b"x")]);
        let e = format!("{:#}", bootstrap_from_zip(&zip).unwrap_err());
        assert!(e.contains("no `bootstrap`") && e.contains("main"), "{e}");
    }

    #[test]
    fn two_bootstrap_entries_are_refused_whatever_their_order() {
        // The zip crate refuses to write a duplicate name: write "Bootstrap" and respell it
        // in the local header and the central directory (same length, same data CRC).
        let mut bytes = zip_of(&[
            ("bootstrap", 0o755, b"first"),
            ("Bootstrap", 0o755, b"second"),
        ]);
        let mut respelled = 0;
        for i in 0..bytes.len() - 9 {
            if &bytes[i..i + 9] == b"Bootstrap" {
                bytes[i] = b'b';
                respelled += 1;
            }
        }
        assert_eq!(respelled, 2);
        let e = format!("{:#}", bootstrap_from_zip(&bytes).unwrap_err());
        assert!(e.contains("`bootstrap` more than once"), "{e}");
    }

    #[test]
    fn truncated_zip_is_refused() {
        let zip = zip_bootstrap(b"hello world", 11).unwrap();
        let err = format!(
            "{:#}",
            bootstrap_from_zip(&zip[..zip.len() / 2]).unwrap_err()
        );
        assert!(err.contains("not a readable zip"), "{err}");
    }
}
