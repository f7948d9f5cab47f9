//! Tooling for developing this project, not for shipping a function: the test runner, the
//! tools it installs, moto, the cargo-lambda peer, the benchmarks, and the HTTP client they
//! and the deploy tests talk to local servers with. Product modules never import from here
//! (a test in `tidy` checks that).

pub mod apt;
pub mod bench;
pub mod http_client;
pub mod lanes;
pub mod moto;
pub mod peer;
pub mod test;
pub mod tools;

/// The echo function, which the benchmarks measure and the tests exercise.
pub fn echo_function() -> anyhow::Result<xtask::workspace::FunctionCrate> {
    xtask::workspace::functions::one(
        xtask::workspace::functions::discover()?,
        &["echo-function".to_string()],
        "the benchmarks measure",
    )
}

/// The `xtask` binary beside this one (cargo builds both into the same directory): what
/// `cargo xtask` runs, for the benchmarks that time its commands.
pub fn xtask_binary() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    let here = std::env::current_exe().context("finding this binary")?;
    let xtask = here.with_file_name("xtask");
    anyhow::ensure!(
        xtask.is_file(),
        "{} is missing: run this through `cargo xtask`, which builds it",
        xtask.display()
    );
    Ok(xtask)
}

/// Set by `cargo xtask test` for the tests it runs: `cargo test --workspace` has just built
/// every binary, so [`binary_for_tests`] need not ask cargo (whose lock a release build in
/// another lane may hold for a minute).
pub const BINARIES_BUILT_ENV: &str = "XTASK_TEST_BINARIES_BUILT";

/// A workspace binary, for the tests of another package than its own (cargo names none for
/// them): built up to date once per test process (`cargo build --package NAME --bin NAME`)
/// unless `cargo xtask test` built it ([`BINARIES_BUILT_ENV`]), beside the running test
/// (target/debug/deps/TEST -> target/debug/NAME).
pub fn binary_for_tests(name: &str) -> std::path::PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os(BINARIES_BUILT_ENV).is_none() && !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args(["build", "--quiet", "--package", name, "--bin", name])
            .current_dir(xtask::workspace::project_root())
            .env_remove(xtask::workspace::PROJECT_ROOT_ENV)
            .output()
            .expect("running cargo");
        assert!(
            out.status.success(),
            "building {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        built.push(name.to_string());
    }
    assert!(path.exists(), "{name} is not at {}", path.display());
    path
}
