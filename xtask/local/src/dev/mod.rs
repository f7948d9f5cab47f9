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

/// A workspace binary that `cargo test --workspace` (and `cargo xtask test`) built beside the
/// running test (target/debug/deps/TEST -> target/debug/NAME), for the tests of another
/// package than the binary's, where cargo names none.
pub fn binary_beside_test(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo xtask test` (or `cargo build -p {name}` first)",
        path.display()
    );
    path
}
