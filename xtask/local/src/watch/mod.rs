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

use crate::invoke::{serve, Console};
use crate::runtime::current_thread;
use xtask::invoke::Front;
pub use xtask::watch::Args;

pub fn run(args: Args) -> Result<ExitCode> {
    // `-p`: that function; else every function of the workspace, each served as `invoke
    // --serve` serves several.
    let functions = match &args.package.package {
        Some(_) => vec![args.package.one("watch serves")?],
        None => xtask::workspace::Packages::default().all()?,
    };
    let several = functions.len() > 1;
    let root = xtask::workspace::project_root();
    let mut watched = Vec::new();
    for function in functions {
        let builder = reload::Builder {
            arch: function.arch(args.arch),
            release: args.release,
            settings: crate::invoke::settings(args.limits, &function, &function.lambda_name())?,
            label: several.then(|| function.lambda_name()),
            function,
        };
        let paths = sources::watched(&builder.function, &root);
        watched.push((builder, paths));
    }
    // Each fingerprint is taken before the first builds, so an edit made during them is
    // built next. The first builds must succeed: there is nothing to serve before them.
    let mut first = Vec::new();
    for (builder, paths) in &watched {
        let built_from = sources::fingerprint(paths);
        first.push((builder.build()?, built_from));
    }
    let runtime = current_thread("the watch loop")?;
    runtime.block_on(async {
        let mut served = Vec::new();
        let mut rebuilds = Vec::new();
        let mut keep = Vec::new();
        for ((builder, paths), (built, built_from)) in watched.into_iter().zip(first) {
            let (publish, functions) = watch::channel(Arc::new(built));
            let (changes_tx, changes) = mpsc::unbounded_channel();
            // A change reloads only the functions whose sources (their own, or a workspace
            // crate they depend on) it touched.
            keep.push(sources::Sources::watch(&builder.function, changes_tx)?);
            served.push(crate::invoke::Served {
                lambda_name: builder.function.lambda_name(),
                package: builder.function.package.clone(),
                front: Front::for_function(args.http, builder.function.metadata.api),
                functions,
            });
            rebuilds.push(tokio::spawn(reload::rebuild_on_change(
                builder, changes, publish, paths, built_from,
            )));
        }
        let result = serve(served, args.port, args.json, &Console::detached()?).await;
        for rebuild in rebuilds {
            rebuild.abort();
            let _ = rebuild.await;
        }
        drop(keep);
        result
    })
}
