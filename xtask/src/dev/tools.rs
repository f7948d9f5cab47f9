//! Tools the tests and benchmarks need that rustup does not provide, installed
//! on demand into `target/tools/` so a fresh machine needs nothing by hand.

use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::util::status::status;
use crate::workspace;

/// A Python virtualenv private to this workspace.
pub fn venv() -> PathBuf {
    workspace::target_dir().join("tools/venv")
}

/// `venv/bin/<program>`, installing `package` with pip first if it is missing.
pub fn pip_tool(sh: &Shell, program: &str, package: &str) -> Result<PathBuf> {
    let venv = venv();
    let bin = venv.join("bin").join(program);
    if bin.exists() {
        return Ok(bin);
    }
    if !venv.join("bin/pip").exists() {
        status("Creating", format!("Python virtualenv {}", venv.display()));
        cmd!(sh, "python3 -m venv {venv}")
            .quiet()
            .run()
            .context("creating a virtualenv needs python3 with the venv module (Debian: apt-get install python3-venv)")?;
    }
    status(
        "Installing",
        format!("{package} (pip, into {})", venv.display()),
    );
    let pip = venv.join("bin/pip");
    cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check {package}"
    )
    .quiet()
    .run()
    .with_context(|| format!("pip install {package} failed; is PyPI reachable?"))?;
    anyhow::ensure!(
        bin.exists(),
        "{package} installed but {} is missing",
        bin.display()
    );
    Ok(bin)
}

/// The cargo-lambda binary the benchmarks compare against (PyPI ships it with zig).
pub fn cargo_lambda(sh: &Shell) -> Result<PathBuf> {
    pip_tool(sh, "cargo-lambda", "cargo-lambda")
}
