//! Where build outputs live, and the digests Lambda and users compare.

use std::path::PathBuf;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{project_root, Arch};

/// Cargo's target directory for this workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                project_root().join(dir)
            }
        }
        None => project_root().join("target"),
    }
}

/// The release binary cargo produces for `arch`.
pub fn binary_path(arch: Arch) -> PathBuf {
    target_dir()
        .join(arch.target())
        .join("release")
        .join("bootstrap")
}

/// One directory per architecture, so the two never overwrite each other.
pub fn lambda_dir(arch: Arch) -> PathBuf {
    target_dir().join("lambda").join(arch.lambda_name())
}

pub fn zip_path(arch: Arch) -> PathBuf {
    lambda_dir(arch).join("bootstrap.zip")
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lambda's CodeSha256: base64 of the SHA-256 of the zip bytes.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha256(zip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_input() {
        // sha256("abc") from FIPS 180-2, appendix B.1.
        let d = sha256(b"abc");
        assert_eq!(
            hex(&d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
