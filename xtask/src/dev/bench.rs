//! `cargo xtask bench`'s flags: which benchmark, and its settings.

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub which: Bench,
}

#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Zip size, binary size, up-to-date rebuild time and zip stability vs cargo-lambda;
    /// arm64 zip size beside x86_64's.
    Build(BuildArgs),
    /// Three functions (the echo function and two from `cargo xtask new`) built from clean,
    /// then rerun up to date, beside `cargo lambda build --release` on the same workspace;
    /// each zip's size.
    Functions(BuildArgs),
    /// A fresh clone's first `cargo xtask build` beside cargo-lambda's first use
    /// (pip install, then its first build of the same crate).
    FirstBuild(FirstBuildArgs),
    /// What a fresh clone's first `cargo xtask deploy` compiles before it sends anything,
    /// for each `--rev` (e.g. an older commit and HEAD), beside `pip install cargo-lambda`.
    FirstDeploy(FirstDeployArgs),
    /// The zip's size and time by zopfli iterations on the built bootstrap: the curve the
    /// shipped iteration count was picked from.
    Zip(ZipArgs),
    /// API calls and bytes of a first and of an unchanged deploy, against moto.
    Deploy,
    /// Local invoke latency (cold init, warm invoke) against cargo-lambda's build.
    Invoke(InvokeArgs),
    /// A streamed answer through the local emulator: time to its first byte and to its last,
    /// by function URL, InvokeWithResponseStream and the buffered Invoke.
    Stream(StreamArgs),
    /// Edit -> first correct answer of `cargo xtask watch` beside `cargo lambda watch`
    /// (dev profile and --release), and `cargo xtask build` after a one-line edit beside
    /// the compile time cargo reports for it.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Edits timed on each side, in each profile (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: usize,
    /// What to measure, comma-separated: `dev` and `release` (watch, ours and the peer's),
    /// `build` (`cargo xtask build` after an edit vs cargo's reported compile time).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "dev,release,build"
    )]
    pub measure: Vec<Measure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Measure {
    /// Both watchers in their default (dev) profile.
    Dev,
    /// Both watchers with `--release`.
    Release,
    /// `cargo xtask build` after a one-line edit.
    Build,
}

#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// Cold starts per bootstrap (each followed by 20 warm invokes).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub runs: usize,
}

#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// Requests timed each way (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, clap::Args)]
pub struct FirstBuildArgs {
    /// The commits of ours to clone and build, side by side (e.g. `--rev 2d3f928 HEAD`).
    #[arg(long = "rev", value_name = "REV", default_value = "HEAD", num_args = 1..)]
    pub revs: Vec<String>,
    /// Rounds: each builds every side once from nothing, in an order that alternates from one
    /// round to the next; the medians are reported.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub runs: u16,
}

#[derive(Debug, clap::Args)]
pub struct FirstDeployArgs {
    /// The commits of ours to clone and measure, in order (the first is the ratios' base).
    #[arg(long, default_value = "HEAD", num_args = 1..)]
    pub rev: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ZipArgs {
    /// Iteration counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,5,8,15,30,60,255")]
    pub iterations: Vec<u8>,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// How many up-to-date rebuilds to time on each side (the median is reported).
    #[arg(long, default_value_t = 15)]
    pub runs: usize,
}
