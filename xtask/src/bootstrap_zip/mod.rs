//! The deployment zip: written deterministically with one entry, `bootstrap`; read back
//! and checked the same way by every command that takes a zip.

use std::io::{Cursor, Write};

mod read;

pub use read::{bootstrap_from_zip, check_layout, entries, EntryInfo, Layout};

use anyhow::{Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::lambda::BOOTSTRAP;

/// Zopfli iterations for the shipped zip: the knee of the measured curve (`cargo xtask bench
/// zip`, BENCHMARKS.md). More buy a few bytes for seconds on every changed build; 255 (the
/// zip crate's maximum, level 264) cost a minute for under 0.03 % of size.
pub const ZOPFLI_ITERATIONS: u8 = 3;

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
        .start_file(BOOTSTRAP, entry_options(level))
        .context("starting the bootstrap zip entry")?;
    writer.write_all(binary).context("compressing bootstrap")?;
    Ok(writer.finish().context("finishing the zip")?.into_inner())
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
}
