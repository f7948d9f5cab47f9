//! `cargo xtask test`'s flags.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test` (e.g. a test name filter), after `--`.
    /// Given, the tests run as `cargo test` runs them: one binary after the other.
    #[arg(last = true)]
    pub cargo_test_args: Vec<String>,
    /// How many test binaries run side by side (1: one after the other, as `cargo test`).
    /// Two on two cores: see BENCHMARKS.md's CI table for the curve.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub lanes: u16,
}
