//! `cargo xtask build`: musl release build → static check → deterministic zip, for every
//! function of the workspace (or those named with `-p`) in one cargo invocation per
//! architecture, so their shared dependencies compile once.

mod compile;

pub use compile::{compile_dev, ensure_target};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use xshell::Shell;

use crate::lambda::{self, Arch};
use crate::util::digest;
use crate::util::fs::write_atomically;
use crate::util::status::status;
use crate::workspace::{self, rel, FunctionCrate, Packages};
use crate::{bootstrap_zip, verify};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub packages: Packages,
    /// Lambda architecture to build for (arm64 = Graviton, aarch64-unknown-linux-musl).
    /// [default: each function's `arch` in [package.metadata.lambda], else x86_64]
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Print the results as JSON on stdout: one object per function, one per line.
    #[arg(long)]
    pub json: bool,
}

/// The built deployment package and the digests that identify it.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub package: String,
    pub function_name: String,
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
    let planned: Vec<(FunctionCrate, Arch)> = args
        .packages
        .all()?
        .into_iter()
        .map(|f| {
            let arch = f.arch(args.arch);
            (f, arch)
        })
        .collect();
    let artifacts = build_all(&planned)?;
    for artifact in &artifacts {
        if args.json {
            println!("{}", serde_json::to_string(artifact)?);
        } else {
            print_summary(artifact, artifacts.len() > 1);
        }
    }
    Ok(())
}

fn print_summary(a: &Artifact, named: bool) {
    if named {
        println!("{} ({}, {}):", a.package, a.function_name, a.arch);
    }
    println!("zip:         {} ({} bytes)", a.zip.display(), a.zip_bytes);
    println!(
        "bootstrap:   {} bytes, sha256 {}",
        a.binary_bytes, a.binary_sha256
    );
    println!("zip sha256:  {}", a.zip_sha256);
    println!("CodeSha256:  {}", a.code_sha256);
}

/// Builds (or confirms up to date) one function's deployment zip for `arch`.
pub fn build(function: &FunctionCrate, arch: Arch) -> Result<Artifact> {
    let mut built = build_all(&[(function.clone(), arch)])?;
    Ok(built.pop().expect("one artifact per function"))
}

/// Builds every function for its architecture: one cargo invocation per architecture, then
/// each binary checked and zipped, the zips side by side (zopfli takes a core each).
pub fn build_all(functions: &[(FunctionCrate, Arch)]) -> Result<Vec<Artifact>> {
    let sh = Shell::new()?;
    let root = workspace::project_root();
    sh.change_dir(&root);
    for arch in Arch::ALL {
        let group: Vec<&FunctionCrate> = functions
            .iter()
            .filter(|(_, a)| *a == arch)
            .map(|(f, _)| f)
            .collect();
        if !group.is_empty() {
            ensure_target(&sh, arch)?;
            compile::compile(&sh, &root, &group, arch)?;
        }
    }
    std::thread::scope(|scope| {
        let zipping: Vec<_> = functions
            .iter()
            .map(|(function, arch)| scope.spawn(move || finish(function, *arch)))
            .collect();
        let results: Vec<Result<Artifact>> = zipping
            .into_iter()
            .map(|z| z.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        // Every function's problem is shown, not only the first one's.
        let failed = results.iter().filter(|r| r.is_err()).count();
        if failed > 1 {
            for e in results.iter().filter_map(|r| r.as_ref().err()) {
                crate::util::status::error(format!("{e:#}"));
            }
            anyhow::bail!(
                "{failed} of {} functions could not be zipped",
                results.len()
            );
        }
        results.into_iter().collect()
    })
}

/// The built binary checked static and zipped (unless its zip is already this binary's).
fn finish(function: &FunctionCrate, arch: Arch) -> Result<Artifact> {
    let binary_path = function.binary_path(arch);
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

    let zip_path = function.zip_path(arch);
    let binary_sha256 = digest::sha256_hex(&binary);
    let level = bootstrap_zip::DEFLATE_LEVEL;
    let (zip, fresh) = match existing_zip(&zip_path, &binary_sha256, level) {
        Some(zip) => (zip, true),
        None => {
            status(
                "Zipping",
                format!(
                    "{} (zopfli, {} iterations)",
                    function.package,
                    bootstrap_zip::ZOPFLI_ITERATIONS
                ),
            );
            let zip = bootstrap_zip::zip_bootstrap(&binary, level)?;
            // The same check invoke and deploy apply, before the zip is on disk.
            let zip = verify::check_zip(&zip_path, zip, arch)?.bytes;
            write_atomically(&zip_path, &zip)?;
            let stamp = Stamp {
                binary_sha256: binary_sha256.clone(),
                zip_sha256: digest::sha256_hex(&zip),
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
        package: function.package.clone(),
        function_name: function.function_name().to_string(),
        arch,
        target: arch.target(),
        zip_bytes: zip.len() as u64,
        zip_sha256: digest::sha256_hex(&zip),
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
    (digest::sha256_hex(&zip) == stamp.zip_sha256).then_some(zip)
}
