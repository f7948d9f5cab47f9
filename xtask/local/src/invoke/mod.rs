//! `cargo xtask invoke`: run the shipped `bootstrap` locally behind a Lambda Runtime API.
//!
//! The bootstrap is taken out of the deployment zip, written to a private directory and
//! started the way Lambda starts it: Lambda's environment, and `AWS_LAMBDA_RUNTIME_API`
//! pointing at a Runtime API served here (hyper, HTTP/1). One started process is an
//! [`Sandbox`] (an execution environment): it stays warm across invocations and is
//! replaced after a crash or a timeout, as Lambda replaces one.
//!
//! - `events`: the events of a run, from the argument, files, stdin or `--example`
//! - `front_door`: HTTP requests as API Gateway or function URL events, and the function's
//!   answers as HTTP responses (pure)
//! - `function`: the bootstrap out of the zip, and Lambda's environment for it
//! - `sandbox`: one started bootstrap, invoked again and again
//! - `runtime_api`: the Runtime API server the bootstrap talks to
//! - `invocation`: what one invocation came to, and its REPORT line
//! - `output`: what an invocation prints
//! - `console`: where it goes (in place, through outlets that never wait, or nowhere),
//!   and `logs`: the function's logs on their way through a pipe of ours
//! - `outlet`: an output stream that never makes its writers wait
//! - `ids`: request and trace ids in Lambda's forms (clock readings in its units: `util::time`)
//! - `serve`: `--serve`, the Runtime Interface Emulator's endpoint on localhost (`listen`),
//!   answered as the Invoke API answers (`endpoint`)
//! - `gateway`: with `--serve`, every request outside the Invoke API through the front door
//! - `http`: the HTTP/1 plumbing both servers share

mod console;
mod endpoint;
mod event_stream;
mod events;
mod front_door;
mod function;
mod gateway;
mod http;
mod ids;
mod invocation;
mod listen;
mod logs;
mod outlet;
mod output;
mod routes;
mod runtime_api;
mod sandbox;
mod serve;
mod stream;

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use hyper::body::Bytes;

pub(crate) use console::Console;
pub(crate) use front_door::Front;
pub(crate) use function::{find_qemu_aarch64, Function, Settings, StaticCheck};
pub(crate) use invocation::{Invocation, InvocationOutcome};
pub(crate) use sandbox::Sandbox;
pub(crate) use serve::{serve, Served};
pub use xtask::invoke::{Args, Limits};

use crate::runtime::current_thread;
use xtask::build;
use xtask::lambda::{Arch, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT};
use xtask::util::status::error;
use xtask::workspace::FunctionCrate;

use sandbox::warm;

/// What Lambda would start `function` with: the `limits` flags, else its declared settings,
/// else Lambda's defaults; its declared environment; `name` as its name.
pub(crate) fn settings(limits: Limits, function: &FunctionCrate, name: &str) -> Result<Settings> {
    let declared = &function.metadata;
    // The table's values are held to Lambda's bounds here as deploy holds them.
    xtask::lambda::settings::validate(&declared.declared())?;
    Ok(Settings {
        name: name.to_string(),
        memory_mb: limits
            .memory
            .or(declared.memory)
            .unwrap_or(DEFAULT_MEMORY_MB),
        timeout: limits
            .timeout
            .or(declared.timeout.map(u64::from))
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        environment: declared.environment.clone(),
    })
}

/// The name the function runs as: the flag, checked as deploy checks it, else its own.
pub(crate) fn function_name(flag: Option<&str>, function: &FunctionCrate) -> Result<String> {
    match flag {
        Some(name) => {
            let parsed = xtask::lambda::names::parse_function(name)?;
            Ok(parsed.name.to_string())
        }
        None => Ok(function.lambda_name()),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    // Read and check the events first: bad input should not cost a build.
    let events = if args.serve {
        Vec::new()
    } else {
        events::read_events(&args)?
    };
    let check = if args.allow_dynamic {
        StaticCheck::Skip
    } else {
        StaticCheck::Require
    };
    if args.serve && args.package.package.is_none() && args.zip.is_none() {
        let all = xtask::workspace::Packages::default().all()?;
        if all.len() > 1 {
            if args.function_name.is_some() {
                anyhow::bail!(
                    "--function-name names one function, and --serve serves every function of \
                     the workspace here: pass -p NAME to serve one"
                );
            }
            return serve_all(&args, all, check);
        }
    }
    let selected = args.package.one("invoke runs")?;
    let name = function_name(args.function_name.as_deref(), &selected)?;
    let arch = selected.arch(args.arch);
    let zip = match &args.zip {
        Some(zip) => zip.clone(),
        None => build::build(&selected, arch)?.zip,
    };
    let function = std::sync::Arc::new(Function::prepare(
        &zip,
        arch,
        settings(args.limits, &selected, &name)?,
        check,
    )?);
    if args.serve {
        let front = Front::for_function(args.http, selected.metadata.api);
        return serve_prepared(&args, vec![(name, selected.package, front, function)]);
    }
    let runtime = current_thread("the local Runtime API")?;
    let result = runtime.block_on(invoke_all(&function, events, args.json));
    drop(runtime);
    drop(function);
    result
}

/// `--serve` for every function of the workspace: built in one go, each started as Lambda
/// would start it (its declared memory, timeout and environment), each in its own sandbox.
fn serve_all(args: &Args, all: Vec<FunctionCrate>, check: StaticCheck) -> Result<ExitCode> {
    let planned: Vec<(FunctionCrate, Arch)> = all
        .into_iter()
        .map(|f| {
            let arch = f.arch(args.arch);
            (f, arch)
        })
        .collect();
    // Every table is checked before the build.
    let settings = planned
        .iter()
        .map(|(f, _)| settings(args.limits, f, &f.lambda_name()))
        .collect::<Result<Vec<_>>>()?;
    let built = build::build_all(&planned)?;
    let mut functions = Vec::new();
    for (((f, arch), settings), artifact) in planned.iter().zip(settings).zip(&built) {
        functions.push((
            f.lambda_name(),
            f.package.clone(),
            Front::for_function(args.http, f.metadata.api),
            std::sync::Arc::new(Function::prepare(&artifact.zip, *arch, settings, check)?),
        ));
    }
    serve_prepared(args, functions)
}

/// Serves the prepared functions (each with its Lambda name and package) until a signal.
fn serve_prepared(
    args: &Args,
    functions: Vec<(String, String, Front, std::sync::Arc<Function>)>,
) -> Result<ExitCode> {
    let runtime = current_thread("the local Runtime API")?;
    let result = runtime.block_on(async {
        // The senders are kept (and dropped) here: the functions never change.
        let mut keep = Vec::new();
        let mut served = Vec::new();
        for (lambda_name, package, front, function) in &functions {
            let (sender, receiver) = tokio::sync::watch::channel(function.clone());
            keep.push(sender);
            served.push(serve::Served {
                lambda_name: lambda_name.clone(),
                package: package.clone(),
                front: *front,
                functions: receiver,
            });
        }
        serve::serve(served, args.port, args.json, &Console::detached()?).await
    });
    drop(runtime);
    drop(functions);
    result
}

/// Sends the events one after another to one warm process (a new one after a crash
/// or timeout); exit status 1 if any invocation failed.
async fn invoke_all(function: &Function, events: Vec<Bytes>, json: bool) -> Result<ExitCode> {
    let console = Console::Direct;
    let mut sandbox: Option<Sandbox> = None;
    let mut failed = 0;
    let total = events.len();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    for event in events {
        let env = warm(&mut sandbox, function, &console).await?;
        // A streamed response reaches stdout as it comes (a JSON record waits for the end).
        let (sink, chunks) = tokio::sync::mpsc::unbounded_channel();
        let printer = (!json).then(|| tokio::spawn(print_chunks(chunks)));
        let request_id = ids::new_request_id();
        let invocation = tokio::select! {
            invocation = env.invoke_streaming(request_id, event, Some(&sink)) => invocation,
            () = &mut shutdown => {
                console.status("Stopped", "on signal");
                if let Some(env) = sandbox {
                    env.stop().await;
                }
                return Ok(ExitCode::from(130));
            }
        };
        drop(sink);
        let printed = match printer {
            Some(printer) => printer.await.unwrap_or(Ok(false))?,
            None => false,
        };
        // What streamed out is on stdout already; a failure's error payload still is not.
        let payload_to_stdout = !(printed && invocation.succeeded());
        console.invocation(
            &invocation,
            function.settings.memory_mb,
            json,
            payload_to_stdout,
        )?;
        if !invocation.succeeded() {
            failed += 1;
        }
    }
    if let Some(env) = sandbox {
        env.stop().await;
    }
    if failed > 0 {
        error(format!(
            "{failed} of {total} invocation{} failed",
            if total == 1 { "" } else { "s" }
        ));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a streamed response's chunks to stdout as they come, then a newline if it did not
/// end with one (as a buffered payload's line ends); whether anything streamed.
async fn print_chunks(mut chunks: tokio::sync::mpsc::UnboundedReceiver<Bytes>) -> Result<bool> {
    use anyhow::Context;
    use std::io::Write;
    let mut last = None;
    while let Some(chunk) = chunks.recv().await {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&chunk)
            .and_then(|()| stdout.flush())
            .context("writing the streamed response to stdout")?;
        last = chunk.last().copied().or(last);
    }
    if last.is_some_and(|b| b != b'\n') {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(b"\n").and_then(|()| stdout.flush())?;
    }
    Ok(last.is_some())
}

/// Resolves on SIGINT, SIGTERM or SIGHUP (the terminal went away): each asks us to stop,
/// and stopping cleans up. The handlers are installed by this call, not on first poll, so
/// a signal right after start-up is not lost.
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn wait(signal: std::io::Result<Signal>) {
        match signal {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    let hangup = signal(SignalKind::hangup());
    async move {
        tokio::select! {
            () = wait(interrupt) => {}
            () = wait(terminate) => {}
            () = wait(hangup) => {}
        }
    }
}
