//! The benchmarks' peer: cargo-lambda building the very same function crate.
//!
//! The crate and lock file are copied into a scratch workspace in TMPDIR, outside
//! this checkout, so our `.cargo/config.toml` (linker, relocation model) cannot
//! reach the peer's build; its release profile is cargo-lambda's recommended size
//! profile. The target directory lives under ours so reruns only relink.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::dev::tools;
use xtask::util::fs::copy_tree;
use xtask::util::process::path_with;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::workspace::{self, project_root};

/// cargo-lambda's recommended size profile, as its documentation gives it.
const PEER_MANIFEST: &str = r#"[workspace]
members = MEMBERS
resolver = "2"

[workspace.package]
edition = "2021"
rust-version = "1.94"
license = "MIT OR Apache-2.0"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true
"#;

pub struct Peer {
    workspace: ScratchDir,
    cargo_lambda: PathBuf,
    target_dir: PathBuf,
}

impl Peer {
    /// Installs cargo-lambda if needed and lays out the peer's workspace.
    pub fn prepare() -> Result<Peer> {
        let sh = Shell::new()?;
        let cargo_lambda = tools::cargo_lambda(&sh)?;
        Peer::prepare_with(
            cargo_lambda,
            workspace::target_dir().join("bench/cargo-lambda"),
        )
    }

    /// The peer's workspace, built by `cargo_lambda` into `target_dir`.
    pub fn prepare_with(cargo_lambda: PathBuf, target_dir: PathBuf) -> Result<Peer> {
        Peer::prepare_from(&project_root(), &["function"], cargo_lambda, target_dir)
    }

    /// The peer's workspace holding the crates `members` of the workspace at `root`, with
    /// its lock file.
    pub fn prepare_from(
        root: &Path,
        members: &[&str],
        cargo_lambda: PathBuf,
        target_dir: PathBuf,
    ) -> Result<Peer> {
        let workspace = ScratchDir::create("cargo-lambda-peer")?;
        for member in members {
            copy_tree(&root.join(member), &workspace.path().join(member))?;
        }
        std::fs::copy(root.join("Cargo.lock"), workspace.path().join("Cargo.lock"))
            .context("copying Cargo.lock for the cargo-lambda build")?;
        let manifest = PEER_MANIFEST.replace(
            "MEMBERS",
            &serde_json::to_string(members).expect("strings serialise"),
        );
        std::fs::write(workspace.path().join("Cargo.toml"), manifest)
            .context("writing the cargo-lambda workspace's Cargo.toml")?;
        Ok(Peer {
            workspace,
            cargo_lambda,
            target_dir,
        })
    }

    pub fn workspace(&self) -> &Path {
        self.workspace.path()
    }

    pub fn zip(&self) -> PathBuf {
        self.zip_of("bootstrap")
    }

    /// Where cargo-lambda writes the zip of the binary `bin`.
    pub fn zip_of(&self, bin: &str) -> PathBuf {
        self.target_dir
            .join("lambda")
            .join(bin)
            .join("bootstrap.zip")
    }

    pub fn binary(&self) -> PathBuf {
        self.target_dir
            .join("x86_64-unknown-linux-musl/release/bootstrap")
    }

    /// `cargo lambda build --release --target x86_64-unknown-linux-musl --output-format zip`.
    /// `quiet` hides cargo's output (for timed reruns); failures then say less.
    pub fn build(&self, quiet: bool) -> Result<PathBuf> {
        let sh = Shell::new()?;
        sh.change_dir(self.workspace());
        let cargo_lambda = &self.cargo_lambda;
        let mut build = cmd!(
            sh,
            "{cargo_lambda} lambda build --release --target x86_64-unknown-linux-musl --output-format zip"
        )
        .env("PATH", self.path()?)
        .env("CARGO_TARGET_DIR", &self.target_dir)
        .quiet();
        if quiet {
            build = build.ignore_stderr();
        }
        for key in ours_only() {
            build = build.env_remove(&key);
        }
        build
            .run()
            .context("cargo-lambda's build failed (its errors are above, unless quiet)")?;
        let zip = self.zip();
        if !zip.is_file() {
            bail!(
                "cargo-lambda reported success but {} is missing",
                zip.display()
            );
        }
        Ok(zip)
    }

    /// `cargo lambda …` (the arguments are the caller's) in the peer's workspace, with the
    /// same environment as [`Peer::build`]: for `cargo lambda watch`.
    pub fn command(&self) -> Result<std::process::Command> {
        let mut command = std::process::Command::new(&self.cargo_lambda);
        command
            .arg("lambda")
            .current_dir(self.workspace())
            .env("PATH", self.path()?)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        for key in ours_only() {
            command.env_remove(key);
        }
        Ok(command)
    }

    /// PATH with cargo-lambda's folder first (its zig is there).
    fn path(&self) -> Result<std::ffi::OsString> {
        let dir = self.cargo_lambda.parent().unwrap_or(Path::new("."));
        path_with(dir).context("building PATH for cargo-lambda")
    }
}

/// Settings in our environment meant for our build (profile overrides, flags), which must
/// not reach the peer's.
fn ours_only() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| {
            let name = key.to_string_lossy();
            name.starts_with("CARGO_PROFILE_")
                || name.starts_with("CARGO_BUILD_")
                || name.ends_with("RUSTFLAGS")
        })
        .collect()
}

/// Announces and runs the peer's first build.
pub fn build_peer() -> Result<(Peer, PathBuf)> {
    let peer = Peer::prepare()?;
    status(
        "Building",
        "the same function with cargo-lambda (its recommended size profile, musl, zip)",
    );
    let zip = peer.build(false)?;
    Ok((peer, zip))
}
