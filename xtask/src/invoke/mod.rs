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
use std::path::PathBuf;
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

use crate::build;
use crate::lambda::settings::{MEMORY_MB, TIMEOUT_S};
use crate::lambda::{Arch, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT};
use crate::util::runtime::current_thread;
use crate::util::status::error;
use crate::workspace::{FunctionCrate, Package};

use sandbox::warm;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask invoke '{\"hello\":\"world\"}'\n  \
    cargo xtask invoke --data-file a.json --data-file b.json\n  \
    cargo xtask invoke --example rest        # GET /hello?name=world through a REST API\n  \
    printf '{\"n\":1}\\n{\"n\":2}\\n' | cargo xtask invoke --lines\n  \
    cargo xtask invoke --serve --port 9000   # then POST to http://127.0.0.1:9000/2015-03-31/functions/function/invocations")]
pub struct Args {
    /// The event, as inline JSON. Without it: the --data-file files, or stdin.
    #[arg(conflicts_with_all = ["data_files", "serve"])]
    pub event: Option<String>,
    /// Send the event FRONT makes of `GET /hello?name=world` (sent with curl to
    /// 127.0.0.1:9000), made by the code that turns HTTP requests into events.
    #[arg(long, value_enum, value_name = "FRONT", conflicts_with_all = ["event", "data_files", "lines", "serve"])]
    pub example: Option<Front>,
    /// A file holding one event (`-` for stdin); repeat it to send several events to one warm process.
    #[arg(long = "data-file", value_name = "FILE", conflicts_with = "serve")]
    pub data_files: Vec<PathBuf>,
    /// Read one event per line (JSON Lines) from stdin or the --data-file files.
    #[arg(long, conflicts_with = "serve")]
    pub lines: bool,
    /// Deployment zip to run. Default: the zip `cargo xtask build` writes for --arch (rebuilt if stale).
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
    /// Run a bootstrap that is not fully static (a dynamically linked or static-pie ELF):
    /// it may work here and fail on Lambda, which is why it is refused by default.
    #[arg(long)]
    pub allow_dynamic: bool,
    /// Architecture of the bootstrap; arm64 runs under qemu-aarch64 on an x86_64 host
    /// [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    #[command(flatten)]
    pub limits: Limits,
    /// AWS_LAMBDA_FUNCTION_NAME for the function [default: its `function-name` in
    /// [package.metadata.lambda], else its package's name].
    #[arg(long, value_name = "N")]
    pub function_name: Option<String>,
    #[command(flatten)]
    pub package: Package,
    /// Keep the function running behind the Runtime Interface Emulator's endpoint
    /// `POST /2015-03-31/functions/function/invocations` on localhost (127.0.0.1 and ::1),
    /// answering as Lambda's Invoke API does.
    #[arg(long)]
    pub serve: bool,
    /// With --serve, what stands in front of the function for every path outside the
    /// Invoke API: each HTTP request becomes the event FRONT would send, the function's
    /// answer the HTTP response FRONT would give [default: http-api for a function whose
    /// table declares `api = "http"`, else rest].
    #[arg(long, value_enum, value_name = "FRONT", requires = "serve")]
    pub http: Option<Front>,
    /// Port for --serve (0 picks one free on both 127.0.0.1 and ::1).
    #[arg(long, value_name = "P", default_value_t = 9000, requires = "serve")]
    pub port: u16,
    /// One JSON object per invocation on stdout (payload, status, durations, memory).
    #[arg(long)]
    pub json: bool,
}

/// The function's timeout and memory, as its configuration would set them (`invoke`, `watch`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Limits {
    /// Function timeout in seconds (Lambda's default is 3, its maximum 900)
    /// [default: the function's `timeout` in [package.metadata.lambda], else 3].
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(u64::from(*TIMEOUT_S.start())..=u64::from(*TIMEOUT_S.end()))
    )]
    pub timeout: Option<u64>,
    /// Memory size in MB, as Lambda reports it (128 to 10240)
    /// [default: the function's `memory` in [package.metadata.lambda], else 128].
    #[arg(
        long,
        value_name = "MB",
        value_parser = clap::value_parser!(u32).range(i64::from(*MEMORY_MB.start())..=i64::from(*MEMORY_MB.end()))
    )]
    pub memory: Option<u32>,
}

impl Limits {
    /// What Lambda would start `function` with: the flags, else its declared settings, else
    /// Lambda's defaults; its declared environment; `name` as its name.
    pub(crate) fn settings(self, function: &FunctionCrate, name: &str) -> Result<Settings> {
        let declared = &function.metadata;
        // The table's values are held to Lambda's bounds here as deploy holds them.
        crate::lambda::settings::validate(&declared.declared())?;
        Ok(Settings {
            name: name.to_string(),
            memory_mb: self.memory.or(declared.memory).unwrap_or(DEFAULT_MEMORY_MB),
            timeout: self
                .timeout
                .or(declared.timeout.map(u64::from))
                .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
            environment: declared.environment.clone(),
        })
    }
}

/// The name the function runs as: the flag, checked as deploy checks it, else its own.
pub(crate) fn function_name(flag: Option<&str>, function: &FunctionCrate) -> Result<String> {
    match flag {
        Some(name) => {
            let parsed = crate::lambda::names::parse_function(name)?;
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
        let all = crate::workspace::Packages::default().all()?;
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
        args.limits.settings(&selected, &name)?,
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
        .map(|(f, _)| args.limits.settings(f, &f.lambda_name()))
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
