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
pub fn echo_function() -> anyhow::Result<crate::workspace::FunctionCrate> {
    crate::workspace::functions::one(
        crate::workspace::functions::discover()?,
        &["echo-function".to_string()],
        "the benchmarks measure",
    )
}
