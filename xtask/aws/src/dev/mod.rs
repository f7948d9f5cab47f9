//! Tooling for developing this project that needs the AWS SDK: moto's Lambda side for the
//! deploy tests, and `bench deploy`. Product modules never import from here (a test in
//! xtask's `tidy` checks that).

#[cfg(feature = "bench")]
pub mod bench;
pub mod moto_clients;
