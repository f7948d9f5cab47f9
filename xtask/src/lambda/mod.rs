//! Facts about AWS Lambda itself: architectures, limits, how it names a zip's digest; its
//! naming rules (`names`), the bounds of a function's settings (`settings`) and its REPORT
//! line (`report`).

pub mod names;
pub mod report;
pub mod settings;

use std::time::Duration;

use base64::Engine;
use clap::ValueEnum;
use serde::Serialize;

use crate::util::digest::sha256;

/// Zipped deployment package uploaded through the API (UpdateFunctionCode's ZipFile).
pub const MAX_ZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// A function's code once unzipped (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// A synchronous invocation's request and response payloads.
pub const MAX_PAYLOAD_BYTES: usize = 6_291_456;
/// A streamed response's limit (response streaming: 200 MB), and what streams at full speed
/// before Lambda caps the rest at [`STREAM_CAPPED_BYTES_PER_S`].
pub const MAX_STREAMED_BYTES: usize = 200 * 1024 * 1024;
pub const STREAM_UNCAPPED_BYTES: usize = MAX_PAYLOAD_BYTES;
pub const STREAM_CAPPED_BYTES_PER_S: usize = 2 * 1024 * 1024;
/// An asynchronous invocation's event (1 MB, as the Invoke API reference says; it used to be
/// 256 KB).
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1_048_576;
/// How long Lambda lets a runtime initialise before its first `/next`.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);
/// A function's timeout when its configuration sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// A function's memory when its configuration sets none.
pub const DEFAULT_MEMORY_MB: u32 = 128;
/// The executable a provided runtime starts, at the root of the zip.
pub const BOOTSTRAP: &str = "bootstrap";

/// A Lambda instruction set architecture and the Rust target that builds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, serde::Deserialize)]
pub enum Arch {
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    #[serde(rename = "arm64")]
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }

    /// Name as Lambda's `Architectures` field spells it.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// e_machine as `verify-static` names it.
    pub fn elf_machine_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// Lambda's CodeSha256: base64 of the SHA-256 of the zip bytes.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha256(zip))
}

/// What ends the JSON prelude (status, headers, cookies) of a function URL's streamed
/// response (`application/vnd.awslambda.http-integration-response`), before its body.
pub const PRELUDE_END: [u8; 8] = [0; 8];

/// Where [`PRELUDE_END`] begins in `stream`, if it is there.
pub fn prelude_end(stream: &[u8]) -> Option<usize> {
    stream
        .windows(PRELUDE_END.len())
        .position(|w| w == PRELUDE_END)
}

/// A function URL's streamed response without its JSON prelude, as the URL's client gets
/// it; a payload without one, whole.
pub fn without_prelude(payload: &[u8]) -> &[u8] {
    let starts_json = payload
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    match prelude_end(payload) {
        Some(end) if starts_json => &payload[end + PRELUDE_END.len()..],
        _ => payload,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_streams_prelude_is_not_its_body() {
        let mut payload = br#"{"statusCode":200}"#.to_vec();
        payload.extend_from_slice(&[0; 8]);
        payload.extend_from_slice(b"{\"a\":1}");
        assert_eq!(without_prelude(&payload), b"{\"a\":1}");
        assert_eq!(without_prelude(b"{\"a\":1}"), b"{\"a\":1}");
        assert_eq!(without_prelude(b"\0\0\0\0\0\0\0\0x"), b"\0\0\0\0\0\0\0\0x");
    }

    use super::*;

    #[test]
    fn code_sha256_of_known_input() {
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
