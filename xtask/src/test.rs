//! `cargo xtask test`: make sure everything the tests need is here, then run them all.

use std::process::ExitCode;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::status::status;
use crate::{build, invoke, project_root, Arch};

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
    ensure_qemu(&sh)?;
    status("Testing", "workspace (cargo test --workspace)");
    let cargo = crate::cargo();
    let extra = &args.cargo_test_args;
    cmd!(sh, "{cargo} test --workspace {extra...}")
        .quiet()
        .run()
        .context("tests failed")?;
    Ok(ExitCode::SUCCESS)
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
