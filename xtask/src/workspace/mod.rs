//! The workspace the xtask works on: where it is, which cargo builds it, where outputs go,
//! and its functions (members with a `[package.metadata.lambda]` table) with their settings.

pub mod functions;
pub mod metadata;

pub use functions::{FunctionCrate, Package, Packages};

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Names another checkout to work on; `cargo xtask` also sets it for the companion binaries
/// it hands commands to.
pub const PROJECT_ROOT_ENV: &str = "XTASK_PROJECT_ROOT";

/// The workspace root. Commands run from here, never from the caller's cwd.
///
/// Resolved at run time, never from a path compiled in: a checkout moved or copied together
/// with its `target/` keeps the old xtask binary (cargo's fingerprint does not change), and
/// that binary must work on the checkout it runs in. In order: `XTASK_PROJECT_ROOT` (another
/// checkout on purpose); the `CARGO_MANIFEST_DIR` that `cargo run` and `cargo test` set; the
/// current directory. From the latter two, the nearest ancestor whose Cargo.toml has `[workspace]`.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os(PROJECT_ROOT_ENV).filter(|r| !r.is_empty()) {
        return PathBuf::from(root);
    }
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    match start.as_deref().map(workspace_root_above) {
        Some(Ok(root)) => root,
        Some(Err(err)) => fail(err),
        None => fail(anyhow::anyhow!("the current directory is unreadable")),
    }
}

fn fail(err: anyhow::Error) -> ! {
    crate::util::status::error(format!(
        "{err:#}; run `cargo xtask` inside the workspace, or set XTASK_PROJECT_ROOT"
    ));
    std::process::exit(2)
}

/// The nearest directory at or above `start` whose Cargo.toml declares `[workspace]`.
pub fn workspace_root_above(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let value: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
        if value.contains_key("workspace") {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no Cargo.toml with [workspace] at or above {}",
        start.display()
    )
}

/// The cargo that runs us (rustup's proxy or a pinned toolchain), so nested builds match.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

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

/// `path` relative to the workspace root when it is inside it, for status lines.
pub fn rel(path: &Path) -> String {
    path.strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_nearest_workspace_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        std::fs::create_dir_all(root.join("xtask/src")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"xtask\"]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\n",
        )
        .unwrap();
        assert_eq!(workspace_root_above(&root.join("xtask/src")).unwrap(), root);
        assert_eq!(workspace_root_above(&root).unwrap(), root);
        let err = workspace_root_above(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no Cargo.toml with [workspace]"), "{err}");
    }
}
