//! `cargo xtask build`: musl release build → static check → deterministic zip.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use xshell::{cmd, Shell};

use crate::lambda::{self, Arch};
use crate::util::digest;
use crate::util::fs::write_atomically;
use crate::util::status::status;
use crate::workspace::{self, rel};
use crate::{bootstrap_zip, verify};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lambda architecture to build for (arm64 = Graviton, aarch64-unknown-linux-musl).
    /// [default: `arch` in [package.metadata.lambda], else x86_64]
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The built deployment package and the digests that identify it.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub arch: Arch,
    pub target: &'static str,
    pub zip: PathBuf,
    pub zip_bytes: u64,
    pub zip_sha256: String,
    /// What Lambda reports as CodeSha256 once this zip is deployed.
    pub code_sha256: String,
    pub binary: PathBuf,
    pub binary_bytes: u64,
    pub binary_sha256: String,
    /// True when the zip already matched the binary and was not rewritten.
    pub fresh: bool,
}

/// Recorded beside the zip: which binary it holds, so an up-to-date rerun skips zopfli.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Stamp {
    binary_sha256: String,
    zip_sha256: String,
    level: i64,
}

pub fn run(args: Args) -> Result<()> {
    let artifact = build(crate::workspace::metadata::arch(args.arch)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&artifact)?);
    } else {
        print_summary(&artifact);
    }
    Ok(())
}

fn print_summary(a: &Artifact) {
    println!("zip:         {} ({} bytes)", a.zip.display(), a.zip_bytes);
    println!(
        "bootstrap:   {} bytes, sha256 {}",
        a.binary_bytes, a.binary_sha256
    );
    println!("zip sha256:  {}", a.zip_sha256);
    println!("CodeSha256:  {}", a.code_sha256);
}

/// Builds (or confirms up to date) the deployment zip for `arch`.
pub fn build(arch: Arch) -> Result<Artifact> {
    let sh = Shell::new()?;
    let root = workspace::project_root();
    sh.change_dir(&root);
    ensure_target(&sh, arch)?;
    compile(&sh, &root, arch)?;

    let binary_path = workspace::binary_path(arch);
    let binary = std::fs::read(&binary_path).with_context(|| {
        format!(
            "cargo reported success but {} is missing",
            binary_path.display()
        )
    })?;
    verify::require_static(&binary_path, &binary, arch)
        .context("refusing to zip a binary Lambda's provided.al2023 runtime may not run")?;
    status(
        "Verified",
        format!(
            "{} is static ({} EXEC, no dynamic section)",
            rel(&binary_path),
            arch
        ),
    );

    let zip_path = workspace::zip_path(arch);
    let binary_sha256 = digest::hex(&digest::sha256(&binary));
    let level = bootstrap_zip::BEST_DEFLATE_LEVEL;
    let (zip, fresh) = match existing_zip(&zip_path, &binary_sha256, level) {
        Some(zip) => (zip, true),
        None => {
            status("Zipping", format!("bootstrap (zopfli, level {level})"));
            let zip = bootstrap_zip::zip_bootstrap(&binary, level)?;
            write_atomically(&zip_path, &zip)?;
            let stamp = Stamp {
                binary_sha256: binary_sha256.clone(),
                zip_sha256: digest::hex(&digest::sha256(&zip)),
                level,
            };
            write_atomically(
                &stamp_path(&zip_path),
                serde_json::to_string_pretty(&stamp)?.as_bytes(),
            )?;
            (zip, false)
        }
    };
    let artifact = Artifact {
        arch,
        target: arch.target(),
        zip_bytes: zip.len() as u64,
        zip_sha256: digest::hex(&digest::sha256(&zip)),
        code_sha256: lambda::code_sha256(&zip),
        zip: zip_path,
        binary: binary_path,
        binary_bytes: binary.len() as u64,
        binary_sha256,
        fresh,
    };
    status(
        if fresh { "Fresh" } else { "Finished" },
        format!(
            "{} ({} bytes, CodeSha256 {})",
            rel(&artifact.zip),
            artifact.zip_bytes,
            artifact.code_sha256
        ),
    );
    Ok(artifact)
}

fn stamp_path(zip: &Path) -> PathBuf {
    zip.with_extension("zip.stamp.json")
}

/// The zip on disk, if it was made from exactly this binary at this level and is intact.
fn existing_zip(zip_path: &Path, binary_sha256: &str, level: i64) -> Option<Vec<u8>> {
    let stamp: Stamp = serde_json::from_slice(&std::fs::read(stamp_path(zip_path)).ok()?).ok()?;
    if stamp.binary_sha256 != binary_sha256 || stamp.level != level {
        return None;
    }
    let zip = std::fs::read(zip_path).ok()?;
    (digest::hex(&digest::sha256(&zip)) == stamp.zip_sha256).then_some(zip)
}

/// Installs the Rust target with rustup when it is missing, or says how to.
pub fn ensure_target(sh: &Shell, arch: Arch) -> Result<()> {
    let target = arch.target();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = cmd!(sh, "{rustc} --print sysroot")
        .quiet()
        .read()
        .context("running `rustc --print sysroot`: is a Rust toolchain installed?")?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    status(
        "Installing",
        format!("Rust target {target} (rustup target add {target})"),
    );
    if cmd!(sh, "rustup target add {target}")
        .quiet()
        .run()
        .is_err()
    {
        bail!(
            "the Rust target {target} is not installed and rustup could not add it; \
             run `rustup target add {target}` and try again"
        );
    }
    Ok(())
}

/// `cargo build --release` for the musl target, with source paths remapped so
/// the binary does not depend on where the checkout or cargo's home lives, and
/// the link flags that make the bootstrap small.
fn compile(sh: &Shell, root: &Path, arch: Arch) -> Result<()> {
    let cargo = crate::workspace::cargo();
    let target = arch.target();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let link_script = root.join("xtask/link/discard-unwind-tables.ld");
    let flags = [
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
        format!("--remap-path-prefix={}=/build", root.display()),
        // Size: fold identical functions; drop unwind tables (panic = "abort").
        "-Clink-arg=--icf=all".to_string(),
        "-Clink-arg=--no-eh-frame-hdr".to_string(),
        format!("-Clink-arg=-T{}", link_script.display()),
    ];
    // `--config` arrays are appended to .cargo/config.toml's, keeping its flags.
    let rustflags = format!(
        "target.{target}.rustflags={}",
        serde_json::to_string(&flags).expect("strings serialise")
    );
    let target_dir = workspace::target_dir();
    cmd!(
        sh,
        "{cargo} build --release --package echo-function --bin bootstrap --target {target} --target-dir {target_dir} --config {rustflags}"
    )
    .quiet()
    .run()
    .with_context(|| format!("cargo build for {target} failed (its errors are above)"))?;
    Ok(())
}
