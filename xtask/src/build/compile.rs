//! Compiling the function: the musl target, and the flags that make the bootstrap small
//! and independent of where the checkout lives.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::lambda::Arch;
use crate::util::status::status;
use crate::workspace::{self, FunctionCrate};

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
pub(super) fn compile(
    sh: &Shell,
    root: &Path,
    functions: &[&FunctionCrate],
    arch: Arch,
) -> Result<()> {
    let cargo = workspace::cargo();
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
    // Every function in one invocation: what they share compiles once.
    let selection = functions
        .iter()
        .flat_map(|f| ["--package", f.package.as_str(), "--bin", f.bin.as_str()]);
    cmd!(
        sh,
        "{cargo} build --release {selection...} --target {target} --target-dir {target_dir} --config {rustflags}"
    )
    // The shipped bytes come from rustc alone: a workspace wrapper (clippy-driver, when
    // `.ci/run` lints while building) compiles them differently.
    .env_remove("RUSTC_WORKSPACE_WRAPPER")
    .quiet()
    .run()
    .with_context(|| format!("cargo build for {target} failed (its errors are above)"))?;
    Ok(())
}

/// The watch loop's build: the same musl target and static relocation model (from
/// `.cargo/config.toml`), so what runs behaves like what ships, but cargo's dev profile:
/// incremental, unoptimised, no LTO. Returns the binary's path.
pub fn compile_dev(sh: &Shell, function: &FunctionCrate, arch: Arch) -> Result<PathBuf> {
    let cargo = workspace::cargo();
    let target = arch.target();
    let target_dir = workspace::target_dir();
    let (package, bin) = (&function.package, &function.bin);
    cmd!(
        sh,
        "{cargo} build --package {package} --bin {bin} --target {target} --target-dir {target_dir}"
    )
    // What watch serves is compiled as the shipped bootstrap is: by rustc alone.
    .env_remove("RUSTC_WORKSPACE_WRAPPER")
    .quiet()
    .run()
    .with_context(|| format!("cargo build for {target} failed (its errors are above)"))?;
    Ok(target_dir.join(target).join("debug").join(bin))
}
