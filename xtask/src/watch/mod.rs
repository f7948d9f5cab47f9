//! `cargo xtask watch`: the local loop. Serves the function as `invoke --serve` does (the
//! Invoke API and the HTTP front door), watches its sources, and on every change rebuilds
//! and swaps the process between invocations, never during one. A build that fails is
//! shown and the last good one keeps serving.
//!
//! By default the build is cargo's dev profile for the same musl target with the same
//! static relocation model (incremental, so a one-line change relinks in seconds, and what
//! runs is still a static Linux binary, as on Lambda); `--release` serves the very zip
//! `cargo xtask build` makes.

mod reload;
mod sources;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::{mpsc, watch};

use crate::invoke::{serve, Console, Front, Limits};
use crate::lambda::Arch;
use crate::util::runtime::current_thread;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    cargo xtask watch            # then: curl 'http://127.0.0.1:9000/hello?name=world'\n  \
    cargo xtask watch --release  # serve the zip `cargo xtask build` makes")]
pub struct Args {
    /// Serve the release zip `cargo xtask build` makes (slower to rebuild, exactly what ships).
    #[arg(long)]
    pub release: bool,
    /// What stands in front of the function for every path outside the Invoke API.
    #[arg(long, value_enum, value_name = "FRONT", default_value = "rest")]
    pub http: Front,
    /// Port on localhost (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 9000)]
    pub port: u16,
    /// Architecture to build; arm64 runs under qemu-aarch64 on an x86_64 host
    /// [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub package: crate::workspace::Package,
    /// One JSON object per invocation on stdout, after the address line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let function = args.package.one("watch serves")?;
    let builder = reload::Builder {
        arch: function.arch(args.arch),
        release: args.release,
        settings: args.limits.settings(&function, &function.lambda_name())?,
        function: function.clone(),
    };
    let watched = sources::watched(&function, &crate::workspace::project_root());
    // Taken before the first build, so an edit made during it is built next.
    let built_from = sources::fingerprint(&watched);
    // The first build must succeed: there is nothing to serve before it.
    let first = builder.build()?;
    let runtime = current_thread("the watch loop")?;
    runtime.block_on(async {
        let (publish, functions) = watch::channel(Arc::new(first));
        let (changes_tx, changes) = mpsc::unbounded_channel();
        let _sources = sources::Sources::watch(&function, changes_tx)?;
        let rebuilds = tokio::spawn(reload::rebuild_on_change(
            builder, changes, publish, watched, built_from,
        ));
        let served = vec![crate::invoke::Served {
            lambda_name: function.lambda_name(),
            package: function.package.clone(),
            functions,
        }];
        let result = serve(
            served,
            args.port,
            args.http,
            args.json,
            &Console::detached()?,
        )
        .await;
        rebuilds.abort();
        let _ = rebuilds.await;
        result
    })
}
