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
