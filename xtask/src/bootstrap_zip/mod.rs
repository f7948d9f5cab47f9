//! The deployment zip: written deterministically with one entry, `bootstrap`; read back
//! and checked the same way by every command that takes a zip.

use std::io::{Cursor, Read, Write};

use anyhow::{bail, Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::lambda::{MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};

/// Zopfli iterations for the shipped zip: the knee of the measured curve (`cargo xtask bench
/// zip`, BENCHMARKS.md). More buy a few bytes for seconds on every changed build; 255 (the
/// zip crate's maximum, level 264) cost a minute for under 0.03 % of size.
pub const ZOPFLI_ITERATIONS: u8 = 5;

/// The zip crate's Deflate level for `iterations` zopfli iterations: levels above
/// flate2's best (9) select zopfli with `level - 9` iterations.
pub const fn zopfli_level(iterations: u8) -> i64 {
    9 + iterations as i64
}

/// The level `build` zips at.
pub const DEFLATE_LEVEL: i64 = zopfli_level(ZOPFLI_ITERATIONS);

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Options every byte of the output depends on: fixed, so equal input gives an equal zip.
fn entry_options(level: i64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(level))
        // 1980-01-01 00:00:00, the earliest DOS time: no clock leaks into the zip.
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755)
        .system(zip::System::Unix)
}

/// Zips `bootstrap` bytes into a Lambda deployment package.
pub fn zip_bootstrap(binary: &[u8], level: i64) -> Result<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(binary.len() / 2)));
    writer
        .start_file("bootstrap", entry_options(level))
        .context("starting the bootstrap zip entry")?;
    writer.write_all(binary).context("compressing bootstrap")?;
    Ok(writer.finish().context("finishing the zip")?.into_inner())
}

/// One entry of a zip, as `deploy` and the tests inspect it.
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

pub fn entries(zip: &[u8]) -> Result<Vec<EntryInfo>> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).context("not a readable zip archive")?;
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

/// Extracts `bootstrap` from a deployment zip, refusing anything Lambda would not run.
pub fn bootstrap_from_zip(zip: &[u8]) -> Result<Vec<u8>> {
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .context("not a readable zip archive (truncated or corrupt)")?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let mut file =
        match archive.by_name("bootstrap") {
            Ok(f) => f,
            Err(_) => {
                bail!(
            "the zip has no `bootstrap` at its root (entries: {}); Lambda's provided runtimes \
             execute ./bootstrap: rebuild with `cargo xtask build`",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )
            }
        };
    if !file.is_file() {
        bail!("`bootstrap` in the zip is not a regular file");
    }
    if file.size() > MAX_UNZIPPED_BYTES {
        bail!(
            "`bootstrap` unzips to {} bytes, over Lambda's {MAX_UNZIPPED_BYTES}-byte unzipped limit",
            file.size()
        );
    }
    let mut out = Vec::with_capacity(file.size() as usize);
    file.read_to_end(&mut out)
        .context("decompressing `bootstrap` from the zip (truncated or corrupt)")?;
    Ok(out)
}

/// Size and layout limits, from the zip's central directory alone (nothing is inflated).
pub fn check_layout(zipped_bytes: u64, entries: &[EntryInfo]) -> Result<u64> {
    if zipped_bytes > MAX_ZIPPED_BYTES {
        bail!(
            "the zip is {zipped_bytes} bytes, over Lambda's {}-byte limit for a direct upload; \
             make the bootstrap smaller (release profile, strip) or upload through S3",
            MAX_ZIPPED_BYTES
        );
    }
    let bootstraps = entries.iter().filter(|e| e.name == "bootstrap").count();
    if bootstraps != 1 {
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        bail!(
            "the zip must hold exactly one `bootstrap` at its root, found {bootstraps} \
             (entries: {}); rebuild it with `cargo xtask build`",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
    }
    let unzipped: u64 = entries.iter().map(|e| e.size).sum();
    if unzipped > MAX_UNZIPPED_BYTES {
        bail!(
            "the zip unpacks to {unzipped} bytes, over Lambda's {}-byte unzipped limit; \
             make the bootstrap smaller",
            MAX_UNZIPPED_BYTES
        );
    }
    Ok(unzipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_is_deterministic_and_round_trips() {
        let payload: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let a = zip_bootstrap(&payload, 11).unwrap();
        let b = zip_bootstrap(&payload, 11).unwrap();
        assert_eq!(a, b);
        assert!(is_zip(&a));
        assert_eq!(bootstrap_from_zip(&a).unwrap(), payload);
        let e = entries(&a).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name, "bootstrap");
        assert_eq!(e[0].unix_mode.map(|m| m & 0o7777), Some(0o755));
        assert_eq!(e[0].unix_mode.map(|m| m & 0o170000), Some(0o100000));
        assert_eq!(e[0].modified, (1980, 1, 1, 0, 0, 0));
        assert_eq!(e[0].method, "Deflated");
    }

    #[test]
    fn zip_without_bootstrap_is_refused() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("main", SimpleFileOptions::default()).unwrap();
        w.write_all(b"x").unwrap();
        let zip = w.finish().unwrap().into_inner();
        let err = format!("{:#}", bootstrap_from_zip(&zip).unwrap_err());
        assert!(
            err.contains("no `bootstrap`") && err.contains("main"),
            "{err}"
        );
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

    #[test]
    fn layout_limits() {
        assert_eq!(check_layout(100, &[entry("bootstrap", 300)]).unwrap(), 300);
        let over_zipped = check_layout(MAX_ZIPPED_BYTES + 1, &[entry("bootstrap", 1)]);
        assert!(format!("{:#}", over_zipped.unwrap_err()).contains("52428800-byte limit"));
        let over_unzipped = check_layout(
            100,
            &[entry("bootstrap", MAX_UNZIPPED_BYTES), entry("data", 1)],
        );
        assert!(format!("{:#}", over_unzipped.unwrap_err()).contains("262144000-byte unzipped"));
        assert_eq!(
            check_layout(100, &[entry("bootstrap", MAX_UNZIPPED_BYTES)]).unwrap(),
            MAX_UNZIPPED_BYTES
        );
    }

    #[test]
    fn exactly_one_bootstrap() {
        let none = check_layout(10, &[entry("main", 1)])
            .unwrap_err()
            .to_string();
        assert!(none.contains("found 0") && none.contains("main"), "{none}");
        let two = check_layout(10, &[entry("bootstrap", 1), entry("bootstrap", 1)])
            .unwrap_err()
            .to_string();
        assert!(two.contains("found 2"), "{two}");
        let empty = check_layout(10, &[]).unwrap_err().to_string();
        assert!(empty.contains("entries: none"), "{empty}");
    }
}
