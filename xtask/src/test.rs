//! `cargo xtask test`: make sure everything the tests need is here (musl targets, moto),
//! then run them all.

use std::process::ExitCode;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::status::status;
use crate::{build, moto, project_root, Arch};

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
    // The deploy tests run against moto, a real implementation of the Lambda API.
    let moto_server = moto::ensure_installed(&sh)?;
    sh.set_var(moto::MOTO_SERVER_ENV, &moto_server);
    status("Testing", "workspace (cargo test --workspace)");
    let cargo = crate::cargo();
    let extra = &args.cargo_test_args;
    cmd!(sh, "{cargo} test --workspace {extra...}")
        .quiet()
        .run()
        .context("tests failed")?;
    Ok(ExitCode::SUCCESS)
}
