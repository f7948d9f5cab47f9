//! Tools the tests and benchmarks need that rustup does not provide, installed
//! on demand into `target/tools/` so a fresh machine needs nothing by hand.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use xtask::util::status::status;
use xtask::workspace;

/// A Python virtualenv private to this workspace.
pub fn venv() -> PathBuf {
    workspace::target_dir().join("tools/venv")
}

/// `venv/bin/<program>`, installing `package` with pip first if it is missing.
pub fn pip_tool(sh: &Shell, program: &str, package: &str) -> Result<PathBuf> {
    pip_tool_checked(sh, program, package, |_| true)
}

/// As [`pip_tool`], for a pinned `package` (`name==version`): an installed program that
/// `is_current` rejects (another version) is installed again.
pub fn pip_tool_checked(
    sh: &Shell,
    program: &str,
    package: &str,
    is_current: impl Fn(&Path) -> bool,
) -> Result<PathBuf> {
    let venv = venv();
    let bin = venv.join("bin").join(program);
    let usable = venv_runs(&venv);
    if usable && bin.exists() && is_current(&bin) {
        return Ok(bin);
    }
    if !usable {
        // A virtualenv's scripts name the path it was made at: a checkout moved with its
        // target/ keeps a venv whose pip and tools no longer start. Make it anew.
        status("Creating", format!("Python virtualenv {}", venv.display()));
        cmd!(sh, "python3 -m venv --clear {venv}")
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
    anyhow::ensure!(
        is_current(&bin),
        "{package} installed but {} is not that version",
        bin.display()
    );
    Ok(bin)
}

/// True when the venv's pip would run inside this venv: its interpreter line names this
/// venv's python (not the one at a path the venv was moved from), and that python runs.
fn venv_runs(venv: &Path) -> bool {
    let pip = venv.join("bin/pip");
    let Ok(script) = std::fs::read_to_string(&pip) else {
        return false;
    };
    let interpreter = script
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .map(str::trim);
    // The interpreter must be this venv's own, not the one at the path it was made at.
    let own = |python: &str| {
        let dir = Path::new(python)
            .parent()
            .and_then(|d| d.canonicalize().ok());
        dir.is_some() && dir == venv.join("bin").canonicalize().ok()
    };
    interpreter.is_some_and(own)
        && std::process::Command::new(venv.join("bin/python"))
            .args(["-c", ""])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// The AWS CLI v1 (`awscli` on PyPI; v2 is not published there): the invoke tests run the
/// README's v1 example with it.
pub fn aws_cli_v1(sh: &Shell) -> Result<PathBuf> {
    pip_tool(sh, "aws", "awscli")
}

/// The cargo-lambda binary the benchmarks compare against (PyPI ships it with zig).
pub fn cargo_lambda(sh: &Shell) -> Result<PathBuf> {
    pip_tool(sh, "cargo-lambda", "cargo-lambda")
}
