//! `cargo xtask invoke`: run the shipped `bootstrap` locally behind a Lambda Runtime API.
//!
//! The bootstrap is taken out of the deployment zip, written to a private directory and
//! started the way Lambda starts it: Lambda's environment, and `AWS_LAMBDA_RUNTIME_API`
//! pointing at a Runtime API served here (hyper, HTTP/1). One started process is an
//! [`Sandbox`] (an execution environment): it stays warm across invocations and is
//! replaced after a crash or a timeout, as Lambda replaces one.

use std::convert::Infallible;
use std::ffi::OsString;
use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use crate::lambda::{Arch, INIT_LIMIT, MAX_PAYLOAD_BYTES};
use crate::util::ids::{new_request_id, new_trace_id, random_u128};
use crate::util::scratch::ScratchDir;
use crate::util::status::status;
use crate::util::time::{epoch_ms, ms, ms_to_micros, utc_date};
use crate::{bootstrap_zip, build, verify};

const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
/// The Runtime Interface Emulator's endpoint, which AWS SDKs and curl can call.
pub const RIE_INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";
const VERSION: &str = "$LATEST";
/// Peak memory is sampled this often while an invocation runs, so a process
/// that crashes or times out still reports what it used.
const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(20);

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask invoke '{\"hello\":\"world\"}'\n  \
    cargo xtask invoke --data-file a.json --data-file b.json\n  \
    printf '{\"n\":1}\\n{\"n\":2}\\n' | cargo xtask invoke --lines\n  \
    cargo xtask invoke --serve --port 9000   # then POST to http://127.0.0.1:9000/2015-03-31/functions/function/invocations")]
pub struct Args {
    /// The event, as inline JSON. Without it: the --data-file files, or stdin.
    #[arg(conflicts_with_all = ["data_files", "serve"])]
    pub event: Option<String>,
    /// A file holding one event (`-` for stdin); repeat it to send several events to one warm process.
    #[arg(long = "data-file", value_name = "FILE", conflicts_with = "serve")]
    pub data_files: Vec<PathBuf>,
    /// Read one event per line (JSON Lines) from stdin or the --data-file files.
    #[arg(long, conflicts_with = "serve")]
    pub lines: bool,
    /// Deployment zip to run. Default: the zip `cargo xtask build` writes for --arch (rebuilt if stale).
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
    /// Architecture of the bootstrap; arm64 runs under qemu-aarch64 on an x86_64 host
    /// [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Function timeout in seconds (Lambda's default is 3, its maximum 900).
    #[arg(long, value_name = "SECONDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub timeout: u64,
    /// Memory size in MB, as Lambda reports it (128 to 10240).
    #[arg(long, value_name = "MB", default_value_t = 128, value_parser = clap::value_parser!(u32).range(128..=10240))]
    pub memory: u32,
    /// AWS_LAMBDA_FUNCTION_NAME for the function.
    #[arg(long, value_name = "N", default_value = "echo-function")]
    pub function_name: String,
    /// Keep the function running behind the Runtime Interface Emulator's endpoint
    /// `POST /2015-03-31/functions/function/invocations` on 127.0.0.1.
    #[arg(long)]
    pub serve: bool,
    /// Port for --serve (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 9000, requires = "serve")]
    pub port: u16,
    /// One JSON object per invocation on stdout (payload, status, durations, memory).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    // Read and check the events first: bad input should not cost a build.
    let events = if args.serve {
        Vec::new()
    } else {
        read_events(&args)?
    };
    let arch = crate::workspace::metadata::arch(args.arch)?;
    let zip = match &args.zip {
        Some(zip) => zip.clone(),
        None => build::build(arch)?.zip,
    };
    let function = Function::prepare(
        &zip,
        arch,
        Settings {
            name: args.function_name.clone(),
            memory_mb: args.memory,
            timeout: Duration::from_secs(args.timeout),
            quiet: false,
        },
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime for the local Runtime API")?;
    let result = runtime.block_on(async {
        if args.serve {
            serve(&function, args.port, args.json).await
        } else {
            invoke_all(&function, events, args.json).await
        }
    });
    drop(runtime);
    drop(function);
    result
}

// ---------------------------------------------------------------------------------------------
// Events

/// Every event of this run, in order, each checked against Lambda's payload limit.
fn read_events(args: &Args) -> Result<Vec<Bytes>> {
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(event) = &args.event {
        sources.push(("the EVENT argument".into(), event.clone().into_bytes()));
    } else if args.data_files.is_empty() {
        if std::io::stdin().is_terminal() {
            bail!(
                "no event given: pass it as an argument (`cargo xtask invoke '{{\"key\":\"value\"}}'`), \
                 with --data-file FILE, or on stdin"
            );
        }
        sources.push(("stdin".into(), read_stdin()?));
    } else {
        for file in &args.data_files {
            if file.as_os_str() == "-" {
                sources.push(("stdin".into(), read_stdin()?));
            } else {
                let bytes = std::fs::read(file).with_context(|| {
                    format!(
                        "cannot read the event file {}: check the path",
                        file.display()
                    )
                })?;
                sources.push((file.display().to_string(), bytes));
            }
        }
    }
    let mut events = Vec::new();
    for (source, bytes) in sources {
        if args.lines {
            let lines = split_lines(&bytes);
            for (n, line) in lines {
                check_event_size(line.len(), &format!("{source}, line {n}"))?;
                events.push(Bytes::copy_from_slice(line));
            }
        } else {
            check_event_size(bytes.len(), &source)?;
            events.push(Bytes::from(bytes));
        }
    }
    if events.is_empty() {
        bail!("no events: the input holds no non-empty line; pass one JSON event per line with --lines");
    }
    Ok(events)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("reading the event from stdin")?;
    Ok(bytes)
}

/// Non-blank lines with their 1-based numbers; a trailing `\r` is not part of the event.
pub fn split_lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect()
}

pub fn check_event_size(len: usize, source: &str) -> Result<()> {
    if len > MAX_PAYLOAD_BYTES {
        bail!(
            "the event from {source} is {len} bytes, over Lambda's 6 MB limit for a synchronous \
             invocation ({MAX_PAYLOAD_BYTES} bytes; Lambda answers \"{}\"): send a smaller event",
            request_too_large_message()
        );
    }
    Ok(())
}

fn request_too_large_message() -> String {
    format!(
        "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
    )
}

// ---------------------------------------------------------------------------------------------
// The function: its bootstrap on disk and the environment Lambda would give it

/// What the function is configured with, as Lambda's function configuration would say.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// Discard the function's logs and the start-up status line (benchmarks).
    pub quiet: bool,
}

/// The unpacked function, ready to start as many times as needed.
pub struct Function {
    pub settings: Settings,
    dir: ScratchDir,
    bootstrap: PathBuf,
    /// `qemu-aarch64` when the bootstrap is for another machine than this host.
    emulator: Option<PathBuf>,
    region: String,
    log_stream: String,
}

impl Function {
    /// Unpacks `bootstrap` from the zip into a private directory, mode 0755.
    pub fn prepare(zip_path: &Path, arch: Arch, settings: Settings) -> Result<Function> {
        let zip = std::fs::read(zip_path).with_context(|| {
            format!(
                "cannot read {}: run `cargo xtask build --arch {arch}` or pass --zip PATH",
                zip_path.display()
            )
        })?;
        let binary = bootstrap_zip::bootstrap_from_zip(&zip)
            .with_context(|| format!("unpacking {}", zip_path.display()))?;
        // A bootstrap may be a script; only an ELF has a machine to check.
        let machine = verify::inspect(&binary).ok().map(|report| report.machine);
        if let Some(machine) = &machine {
            if machine != arch.elf_machine_name() {
                bail!(
                    "the bootstrap in {} is built for {machine}, but --arch is {arch}: \
                     pass the --arch it was built for",
                    zip_path.display()
                );
            }
        }
        let emulator = if machine.is_some() && std::env::consts::ARCH != arch.elf_machine_name() {
            Some(find_emulator(arch)?)
        } else {
            None
        };
        let dir = ScratchDir::create("invoke")?;
        let bootstrap = dir.path().join("bootstrap");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&bootstrap)
            .and_then(|mut file| file.write_all(&binary))
            .with_context(|| format!("writing {}", bootstrap.display()))?;
        Ok(Function {
            region: std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|_| "us-east-1".into()),
            log_stream: format!(
                "{}/[{VERSION}]{:032x}",
                utc_date(SystemTime::now()),
                random_u128()
            ),
            settings,
            dir,
            bootstrap,
            emulator,
        })
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            self.region, self.settings.name
        )
    }

    /// Lambda's environment for a `provided.al2023` function, nothing from ours
    /// except the logging switches a developer sets on purpose.
    fn environment(&self, runtime_api: SocketAddr) -> Vec<(String, OsString)> {
        let s = &self.settings;
        let mut env: Vec<(String, OsString)> = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", s.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", s.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", VERSION.into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", s.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", self.log_stream.clone()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("_HANDLER", "bootstrap".into()),
            ("LAMBDA_TASK_ROOT", self.dir.path().display().to_string()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("TZ", ":UTC".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
        for key in [
            "AWS_LAMBDA_LOG_LEVEL",
            "AWS_LAMBDA_LOG_FORMAT",
            "RUST_LOG",
            "RUST_BACKTRACE",
        ] {
            if let Some(value) = std::env::var_os(key) {
                env.push((key.to_string(), value));
            }
        }
        env
    }
}

/// `qemu-aarch64` (or its static build) on PATH.
pub fn find_qemu_aarch64() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["qemu-aarch64", "qemu-aarch64-static"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn find_emulator(arch: Arch) -> Result<PathBuf> {
    find_qemu_aarch64().with_context(|| {
        format!(
            "the {arch} bootstrap cannot run natively on this {} host and qemu-aarch64 is not \
             installed: install it with `sudo apt-get install -y qemu-user` (Debian/Ubuntu), \
             or invoke the x86_64 build (--arch x86_64)",
            std::env::consts::ARCH
        )
    })
}

// ---------------------------------------------------------------------------------------------
// One execution environment: a running bootstrap and its Runtime API

/// An event waiting for the runtime's next `GET /next`.
struct Pending {
    request_id: String,
    body: Bytes,
    deadline_ms: u128,
    arn: String,
}

/// What the Runtime API server saw the runtime do.
enum ApiMsg {
    Polled(Instant),
    /// The event left in a `/next` response: the invocation's clock starts here.
    Delivered {
        request_id: String,
        at: Instant,
    },
    Response {
        request_id: String,
        body: Bytes,
    },
    Error {
        request_id: String,
        error: Failure,
    },
    InitError(Failure),
}

/// A failed invocation: Lambda's error type and the `errorType`/`errorMessage` JSON.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: Status,
    pub error_type: String,
    pub payload: Bytes,
}

/// The REPORT line's `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Success,
    Error,
    Timeout,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Bytes),
    Failed(Failure),
}

/// One invocation as Lambda's REPORT line describes it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From the runtime taking the event (`/next`) to its answer.
    pub duration: Duration,
    /// Exec to the first `/next`, on a cold start only.
    pub init_duration: Option<Duration>,
    pub max_memory_kb: u64,
    pub pid: u32,
}

impl Invocation {
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Response(_))
    }

    pub fn status(&self) -> Status {
        match &self.outcome {
            Outcome::Response(_) => Status::Success,
            Outcome::Failed(f) => f.status,
        }
    }

    /// The bytes Lambda's Invoke API would return as the payload.
    pub fn payload(&self) -> &Bytes {
        match &self.outcome {
            Outcome::Response(body) => body,
            Outcome::Failed(f) => &f.payload,
        }
    }

    /// Lambda bills the init phase of `provided` runtimes too, rounded up to the millisecond.
    pub fn billed_ms(&self) -> u64 {
        let total = self.duration + self.init_duration.unwrap_or_default();
        (total.as_micros().div_ceil(1000) as u64).max(1)
    }

    pub fn max_memory_mb(&self) -> u64 {
        self.max_memory_kb.div_ceil(1024)
    }

    pub fn report_line(&self, memory_mb: u32) -> String {
        let mut line = format!(
            "REPORT RequestId: {} Duration: {:.2} ms Billed Duration: {} ms Memory Size: {memory_mb} MB Max Memory Used: {} MB",
            self.request_id,
            ms(self.duration),
            self.billed_ms(),
            self.max_memory_mb(),
        );
        if let Some(init) = self.init_duration {
            line.push_str(&format!(" Init Duration: {:.2} ms", ms(init)));
        }
        if let Outcome::Failed(f) = &self.outcome {
            match f.status {
                Status::Timeout => line.push_str(" Status: timeout"),
                _ => line.push_str(&format!(" Status: error Error Type: {}", f.error_type)),
            }
        }
        line
    }
}

/// A started bootstrap with its own Runtime API server.
pub struct Sandbox {
    child: Child,
    pid: u32,
    spawned: Instant,
    api: mpsc::UnboundedReceiver<ApiMsg>,
    events: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
    ready: bool,
    dead: bool,
    max_memory_kb: u64,
    timeout: Duration,
    arn: String,
}

impl Sandbox {
    /// Starts the bootstrap as Lambda would; it initialises until its first `/next`.
    pub async fn start(function: &Function) -> Result<Sandbox> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("opening a port on 127.0.0.1 for the local Runtime API")?;
        let addr = listener
            .local_addr()
            .context("reading the Runtime API's address")?;
        let (to_driver, api) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::channel(1);
        let state = Arc::new(RuntimeApi {
            to_driver,
            events: tokio::sync::Mutex::new(events_rx),
            in_flight: Mutex::new(None),
        });
        let server = tokio::spawn(accept_loop(listener, move |req| {
            let state = state.clone();
            async move { state.handle(req).await }
        }));

        let mut command = match &function.emulator {
            Some(qemu) => {
                let mut c = Command::new(qemu);
                c.arg(&function.bootstrap);
                c
            }
            None => Command::new(&function.bootstrap),
        };
        let quiet = function.settings.quiet;
        // Lambda sends stdout and stderr alike to the logs; here both go to our stderr,
        // keeping stdout for responses.
        let (stdout, stderr) = if quiet {
            (Stdio::null(), Stdio::null())
        } else {
            let logs = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .context("duplicating stderr for the function's logs")?;
            (Stdio::from(logs), Stdio::inherit())
        };
        command
            .env_clear()
            .envs(function.environment(addr))
            .current_dir(function.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        // The bootstrap must not outlive us, even if we are killed without a chance to clean up.
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let spawned = Instant::now();
        let child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                server.abort();
                return Err(err).with_context(|| {
                    format!(
                        "starting {}{}",
                        function.bootstrap.display(),
                        match &function.emulator {
                            Some(q) => format!(" under {}", q.display()),
                            None => String::new(),
                        }
                    )
                });
            }
        };
        let pid = child.id().unwrap_or_default();
        if !quiet {
            status(
                "Starting",
                format!(
                    "bootstrap (pid {pid}{}), Runtime API on {addr}",
                    if function.emulator.is_some() {
                        ", under qemu-aarch64"
                    } else {
                        ""
                    }
                ),
            );
        }
        Ok(Sandbox {
            child,
            pid,
            spawned,
            api,
            events,
            server,
            ready: false,
            dead: false,
            max_memory_kb: 0,
            timeout: function.settings.timeout,
            arn: function.arn(),
        })
    }

    /// False once the process ended or was ended; Lambda would start a new environment.
    pub fn is_alive(&mut self) -> bool {
        if !self.dead && !matches!(self.child.try_wait(), Ok(None)) {
            self.dead = true;
        }
        !self.dead
    }

    /// Kills the process and waits for it, so nothing is left behind.
    pub async fn stop(mut self) {
        self.kill().await;
        self.server.abort();
    }

    async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.dead = true;
    }

    fn sample_memory(&mut self) {
        if let Some(kb) = peak_rss_kb(self.pid) {
            self.max_memory_kb = self.max_memory_kb.max(kb);
        }
    }

    /// Serves one event and waits for the runtime's answer, the timeout, or the process's end.
    pub async fn invoke(&mut self, event: Bytes) -> Invocation {
        let request_id = new_request_id();
        let mut init_duration = None;
        if !self.ready {
            match self.initialise(&request_id).await {
                Ok(init) => init_duration = Some(init),
                Err(failure) => {
                    return self.finished(
                        request_id,
                        Outcome::Failed(failure),
                        Duration::ZERO,
                        Some(self.spawned.elapsed()),
                    )
                }
            }
        }
        let mut deadline = tokio::time::Instant::now() + self.timeout;
        let pending = Pending {
            request_id: request_id.clone(),
            body: event,
            deadline_ms: epoch_ms() + self.timeout.as_millis(),
            arn: self.arn.clone(),
        };
        // Until the runtime takes the event (it may still be finishing the previous one).
        let mut started = Instant::now();
        if self.events.send(pending).await.is_err() {
            // Only if the server task is gone, which `stop` alone does.
            let failure = exit_failure(&request_id, None);
            return self.finished(request_id, Outcome::Failed(failure), Duration::ZERO, None);
        }
        let mut sampler = tokio::time::interval_at(
            tokio::time::Instant::now() + MEMORY_SAMPLE_EVERY,
            MEMORY_SAMPLE_EVERY,
        );
        let outcome = loop {
            tokio::select! {
                biased;
                msg = self.api.recv() => match msg {
                    Some(ApiMsg::Delivered { request_id: id, at }) if id == request_id => {
                        started = at;
                        deadline = tokio::time::Instant::from_std(at + self.timeout);
                    }
                    Some(ApiMsg::Response { request_id: id, body }) if id == request_id => {
                        break Outcome::Response(body)
                    }
                    Some(ApiMsg::Error { request_id: id, error }) if id == request_id => {
                        break Outcome::Failed(error)
                    }
                    Some(_) => {}
                    // The server task ended; the process cannot be answered any more.
                    None => {
                        self.kill().await;
                        break Outcome::Failed(exit_failure(&request_id, None));
                    }
                },
                exit = self.child.wait() => {
                    self.dead = true;
                    // An answer sent just before exiting still counts.
                    if let Some(outcome) = self.drain_answer(&request_id) {
                        break outcome;
                    }
                    break Outcome::Failed(exit_failure(&request_id, exit.ok()));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.sample_memory();
                    self.kill().await;
                    break Outcome::Failed(Failure {
                        status: Status::Timeout,
                        error_type: "Sandbox.Timedout".into(),
                        payload: error_json(
                            "Sandbox.Timedout",
                            &format!(
                                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                                self.timeout.as_secs_f64()
                            ),
                        ),
                    });
                }
                _ = sampler.tick() => self.sample_memory(),
            }
        };
        let duration = started.elapsed();
        self.finished(request_id, outcome, duration, init_duration)
    }

    fn finished(
        &mut self,
        request_id: String,
        outcome: Outcome,
        duration: Duration,
        init_duration: Option<Duration>,
    ) -> Invocation {
        if !self.dead {
            self.sample_memory();
        }
        Invocation {
            request_id,
            outcome,
            duration,
            init_duration,
            max_memory_kb: self.max_memory_kb,
            pid: self.pid,
        }
    }

    fn drain_answer(&mut self, request_id: &str) -> Option<Outcome> {
        while let Ok(msg) = self.api.try_recv() {
            match msg {
                ApiMsg::Response {
                    request_id: id,
                    body,
                } if id == request_id => return Some(Outcome::Response(body)),
                ApiMsg::Error {
                    request_id: id,
                    error,
                } if id == request_id => return Some(Outcome::Failed(error)),
                ApiMsg::InitError(failure) => return Some(Outcome::Failed(failure)),
                _ => {}
            }
        }
        None
    }

    /// Waits for the first `/next` (Init Duration), an init error, an exit, or Lambda's init limit.
    async fn initialise(&mut self, request_id: &str) -> Result<Duration, Failure> {
        let limit = tokio::time::Instant::from_std(self.spawned + INIT_LIMIT);
        loop {
            tokio::select! {
                biased;
                msg = self.api.recv() => match msg {
                    Some(ApiMsg::Polled(at)) => {
                        self.ready = true;
                        return Ok(at.duration_since(self.spawned));
                    }
                    Some(ApiMsg::InitError(failure)) => {
                        // Lambda discards an environment whose init failed; give the
                        // runtime a moment to exit by itself so its last logs are kept.
                        self.sample_memory();
                        let _ = tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await;
                        self.kill().await;
                        return Err(failure);
                    }
                    Some(_) => {}
                    None => {
                        self.kill().await;
                        return Err(exit_failure(request_id, None));
                    }
                },
                exit = self.child.wait() => {
                    self.dead = true;
                    if let Some(Outcome::Failed(failure)) = self.drain_answer(request_id) {
                        return Err(failure);
                    }
                    return Err(exit_failure(request_id, exit.ok()));
                }
                _ = tokio::time::sleep_until(limit) => {
                    self.sample_memory();
                    self.kill().await;
                    return Err(Failure {
                        status: Status::Timeout,
                        error_type: "Sandbox.Timedout".into(),
                        payload: error_json(
                            "Sandbox.Timedout",
                            &format!(
                                "RequestId: {request_id} Error: Init timed out after {:.2} seconds: \
                                 the bootstrap never asked for an event ({NEXT_PATH})",
                                INIT_LIMIT.as_secs_f64()
                            ),
                        ),
                    });
                }
                () = tokio::time::sleep(MEMORY_SAMPLE_EVERY) => self.sample_memory(),
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // `stop` is the tidy way; this covers early returns and cancellation.
        self.server.abort();
        let _ = self.child.start_kill();
    }
}

/// Runtime.ExitError as Lambda words it: `exit status 3`, `signal: aborted`.
fn exit_failure(request_id: &str, exit: Option<ExitStatus>) -> Failure {
    let how = match exit {
        Some(status) => describe_exit(status),
        None => "the runtime stopped answering".to_string(),
    };
    Failure {
        status: Status::Error,
        error_type: "Runtime.ExitError".into(),
        payload: error_json(
            "Runtime.ExitError",
            &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
        ),
    }
}

pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let Some(signal) = status.signal() else {
        return status.to_string();
    };
    let name = match signal {
        libc::SIGABRT => "aborted".to_string(),
        libc::SIGKILL => "killed".to_string(),
        libc::SIGSEGV => "segmentation fault".to_string(),
        libc::SIGBUS => "bus error".to_string(),
        libc::SIGILL => "illegal instruction".to_string(),
        libc::SIGFPE => "floating point exception".to_string(),
        libc::SIGTERM => "terminated".to_string(),
        libc::SIGINT => "interrupt".to_string(),
        other => format!("signal {other}"),
    };
    if status.core_dumped() {
        format!("signal: {name} (core dumped)")
    } else {
        format!("signal: {name}")
    }
}

/// `{"errorType":…,"errorMessage":…}`, the shape of Lambda's error payloads.
fn error_json(error_type: &str, message: &str) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorPayload<'a> {
        error_type: &'a str,
        error_message: &'a str,
    }
    serde_json::to_vec(&ErrorPayload {
        error_type,
        error_message: message,
    })
    .unwrap_or_default()
    .into()
}

/// The runtime's error body as Lambda passes it on: its own `errorType`/`errorMessage`
/// JSON when it sent one, else a wrapper naming the header's type.
fn runtime_error(body: Bytes, header_type: Option<&str>, fallback: &str) -> Failure {
    let posted_type = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("errorType")?.as_str().map(str::to_string));
    match posted_type {
        Some(error_type) => Failure {
            status: Status::Error,
            error_type,
            payload: body,
        },
        None => {
            let error_type = header_type.unwrap_or(fallback);
            Failure {
                status: Status::Error,
                error_type: error_type.to_string(),
                payload: error_json(error_type, &String::from_utf8_lossy(&body)),
            }
        }
    }
}

/// Peak resident set size of a live process (VmHWM), in kB.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------------
// The Runtime API server (what the bootstrap talks to)

type Reply = Response<Full<Bytes>>;

struct RuntimeApi {
    to_driver: mpsc::UnboundedSender<ApiMsg>,
    events: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    /// The request id handed out and not yet answered, so stray answers are refused as Lambda does.
    in_flight: Mutex<Option<String>>,
}

impl RuntimeApi {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        if method == Method::GET && path == NEXT_PATH {
            return self.next().await;
        }
        if method != Method::POST {
            return json_reply(StatusCode::NOT_FOUND, not_found(&method, &path));
        }
        let header_type = req
            .headers()
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if path == INIT_ERROR_PATH {
            let body = match read_capped(req.into_body(), MAX_PAYLOAD_BYTES).await {
                Ok(Ok(body)) => body,
                Ok(Err(size)) => Bytes::from(format!("init error of {size} bytes, not kept")),
                Err(_) => return json_reply(StatusCode::BAD_REQUEST, Bytes::new()),
            };
            let failure = runtime_error(body, header_type.as_deref(), "Runtime.InitError");
            let _ = self.to_driver.send(ApiMsg::InitError(failure));
            return accepted();
        }
        let Some((request_id, kind)) = path
            .strip_prefix(INVOCATION_PREFIX)
            .and_then(|rest| rest.rsplit_once('/'))
        else {
            return json_reply(StatusCode::NOT_FOUND, not_found(&method, &path));
        };
        if kind != "response" && kind != "error" {
            return json_reply(StatusCode::NOT_FOUND, not_found(&method, &path));
        }
        let expected = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight.as_deref() == Some(request_id) {
                in_flight.take()
            } else {
                None
            }
        };
        let Some(request_id) = expected else {
            return json_reply(
                StatusCode::BAD_REQUEST,
                error_json(
                    "InvalidRequestID",
                    &format!("{request_id} is not the request being processed"),
                ),
            );
        };
        let body = match read_capped(req.into_body(), MAX_PAYLOAD_BYTES).await {
            Ok(Ok(body)) => body,
            Ok(Err(size)) => {
                let message = format!(
                    "Response payload size ({size} bytes) exceeded maximum allowed payload size \
                     ({MAX_PAYLOAD_BYTES} bytes)."
                );
                let failure = Failure {
                    status: Status::Error,
                    error_type: "Function.ResponseSizeTooLarge".into(),
                    payload: error_json("Function.ResponseSizeTooLarge", &message),
                };
                let reply = failure.payload.clone();
                let _ = self.to_driver.send(ApiMsg::Error {
                    request_id,
                    error: failure,
                });
                return json_reply(StatusCode::PAYLOAD_TOO_LARGE, reply);
            }
            Err(_) => {
                let failure = runtime_error(
                    Bytes::from_static(b"the runtime's HTTP request broke off"),
                    None,
                    "Runtime.Unknown",
                );
                let _ = self.to_driver.send(ApiMsg::Error {
                    request_id,
                    error: failure,
                });
                return json_reply(StatusCode::BAD_REQUEST, Bytes::new());
            }
        };
        let msg = if kind == "response" {
            ApiMsg::Response { request_id, body }
        } else {
            ApiMsg::Error {
                request_id,
                error: runtime_error(body, header_type.as_deref(), "Runtime.Unknown"),
            }
        };
        let _ = self.to_driver.send(msg);
        accepted()
    }

    /// Long-polls until the driver hands over an event, as Lambda's `/next` does.
    async fn next(&self) -> Reply {
        let _ = self.to_driver.send(ApiMsg::Polled(Instant::now()));
        let pending = self.events.lock().await.recv().await;
        let Some(p) = pending else {
            return json_reply(StatusCode::GONE, Bytes::new());
        };
        *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.request_id.clone());
        let _ = self.to_driver.send(ApiMsg::Delivered {
            request_id: p.request_id.clone(),
            at: Instant::now(),
        });
        let mut reply = Response::new(Full::new(p.body));
        let headers = reply.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("lambda-runtime-aws-request-id", p.request_id.clone()),
            ("lambda-runtime-deadline-ms", p.deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", p.arn),
            ("lambda-runtime-trace-id", new_trace_id()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        reply
    }
}

fn not_found(method: &Method, path: &str) -> Bytes {
    error_json(
        "NotFound",
        &format!("{method} {path} is not part of the Lambda Runtime API"),
    )
}

fn accepted() -> Reply {
    json_reply(
        StatusCode::ACCEPTED,
        Bytes::from_static(b"{\"status\":\"OK\"}"),
    )
}

fn json_reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// The whole body if it fits in `cap` bytes, else its size (read to the end, so the
/// sender sees our answer rather than a reset connection).
async fn read_capped(mut body: Incoming, cap: usize) -> Result<Result<Bytes, usize>, hyper::Error> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            total += data.len();
            if total <= cap {
                kept.extend_from_slice(&data);
            } else if !kept.is_empty() {
                kept = Vec::new();
            }
        }
    }
    Ok(if total <= cap {
        Ok(kept.into())
    } else {
        Err(total)
    })
}

/// Serves HTTP/1 connections on `listener` with `handler` until the task is aborted.
async fn accept_loop<H, F>(listener: TcpListener, handler: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    // Connection tasks live in this set, so aborting the loop ends them too.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: back off rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small request/response exchanges: do not let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let response = handler(req);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

// ---------------------------------------------------------------------------------------------
// The two modes

/// Sends the events one after another to one warm process (a new one after a crash
/// or timeout); exit status 1 if any invocation failed.
async fn invoke_all(function: &Function, events: Vec<Bytes>, json: bool) -> Result<ExitCode> {
    let mut sandbox: Option<Sandbox> = None;
    let mut failed = 0;
    let total = events.len();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    for event in events {
        let env = warm(&mut sandbox, function).await?;
        let invocation = tokio::select! {
            invocation = env.invoke(event) => invocation,
            () = &mut shutdown => {
                status("Stopped", "on signal");
                if let Some(env) = sandbox {
                    env.stop().await;
                }
                return Ok(ExitCode::from(130));
            }
        };
        print_invocation(&invocation, function, json, true)?;
        if !invocation.succeeded() {
            failed += 1;
        }
    }
    if let Some(env) = sandbox {
        env.stop().await;
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {total} invocation{} failed",
            if total == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The running environment, or a new one if there is none or it ended.
async fn warm<'a>(slot: &'a mut Option<Sandbox>, function: &Function) -> Result<&'a mut Sandbox> {
    let alive = slot.as_mut().is_some_and(Sandbox::is_alive);
    if !alive {
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        *slot = Some(Sandbox::start(function).await?);
    }
    slot.as_mut()
        .context("no execution environment could be started")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    request_id: &'a str,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    payload: Payload<'a>,
    duration_ms: f64,
    billed_duration_ms: u64,
    memory_size_mb: u32,
    max_memory_used_mb: u64,
    init_duration_ms: Option<f64>,
    pid: u32,
}

/// The payload as JSON when it is JSON (kept byte for byte), else as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Json(&'a RawValue),
    Text(String),
}

fn payload_for_json(bytes: &[u8]) -> Payload<'_> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| serde_json::from_str::<&RawValue>(s).ok())
        .map_or_else(
            || Payload::Text(String::from_utf8_lossy(bytes).into_owned()),
            Payload::Json,
        )
}

/// The payload on stdout (or a JSON record with --json), the REPORT line on stderr.
fn print_invocation(
    invocation: &Invocation,
    function: &Function,
    json: bool,
    payload_to_stdout: bool,
) -> Result<()> {
    let memory_mb = function.settings.memory_mb;
    let mut stdout = std::io::stdout().lock();
    if json {
        let record = Record {
            request_id: &invocation.request_id,
            status: invocation.status(),
            error_type: match &invocation.outcome {
                Outcome::Failed(f) => Some(&f.error_type),
                Outcome::Response(_) => None,
            },
            payload: payload_for_json(invocation.payload()),
            duration_ms: ms_to_micros(invocation.duration),
            billed_duration_ms: invocation.billed_ms(),
            memory_size_mb: memory_mb,
            max_memory_used_mb: invocation.max_memory_mb(),
            init_duration_ms: invocation.init_duration.map(ms_to_micros),
            pid: invocation.pid,
        };
        serde_json::to_writer(&mut stdout, &record).context("writing the JSON record")?;
        stdout.write_all(b"\n").context("writing to stdout")?;
    } else if payload_to_stdout {
        stdout
            .write_all(invocation.payload())
            .and_then(|()| stdout.write_all(b"\n"))
            .context("writing the response to stdout")?;
    }
    stdout.flush().context("writing to stdout")?;
    eprintln!("{}", invocation.report_line(memory_mb));
    Ok(())
}

/// One request to the emulator endpoint, waiting for its turn at the function.
struct Job {
    event: Bytes,
    reply: oneshot::Sender<Invocation>,
}

/// Serves the Runtime Interface Emulator's invoke endpoint until a signal stops us.
async fn serve(function: &Function, port: u16, json: bool) -> Result<ExitCode> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port}: pass another --port (0 picks a free one)")
        })?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let url = format!("http://{addr}{RIE_INVOKE_PATH}");
    status("Listening", &url);
    if json {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(
            &mut stdout,
            &serde_json::json!({"url": url, "port": addr.port()}),
        )?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    let (jobs, mut queue) = mpsc::channel::<Job>(64);
    let acceptor = tokio::spawn(accept_loop(listener, move |req| {
        invocations_endpoint(req, jobs.clone())
    }));
    // Lambda gives one environment one event at a time: jobs are served in arrival order.
    let mut sandbox: Option<Sandbox> = None;
    loop {
        let job = tokio::select! {
            Some(job) = queue.recv() => job,
            () = &mut shutdown => break,
        };
        let env = match warm(&mut sandbox, function).await {
            Ok(env) => env,
            Err(err) => {
                eprintln!("error: {err:#}");
                drop(job);
                continue;
            }
        };
        let invocation = tokio::select! {
            invocation = env.invoke(job.event) => invocation,
            () = &mut shutdown => break,
        };
        print_invocation(&invocation, function, json, false)?;
        let _ = job.reply.send(invocation);
    }
    status("Stopped", "on signal");
    acceptor.abort();
    if let Some(env) = sandbox {
        env.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn invocations_endpoint(req: Request<Incoming>, jobs: mpsc::Sender<Job>) -> Reply {
    let path = req.uri().path();
    // Any function name is accepted, as the emulator ignores it too.
    let is_invoke = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'));
    if !is_invoke {
        return json_reply(
            StatusCode::NOT_FOUND,
            error_json(
                "ResourceNotFoundException",
                &format!("{path} is not an invoke endpoint: POST to {RIE_INVOKE_PATH}"),
            ),
        );
    }
    if req.method() != Method::POST {
        return json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            error_json("MethodNotAllowed", "invoke with POST"),
        );
    }
    let event = match read_capped(req.into_body(), MAX_PAYLOAD_BYTES).await {
        Ok(Ok(event)) => event,
        Ok(Err(_)) => {
            return json_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                error_json(
                    "RequestEntityTooLargeException",
                    &request_too_large_message(),
                ),
            )
        }
        Err(_) => return json_reply(StatusCode::BAD_REQUEST, Bytes::new()),
    };
    let (reply, answer) = oneshot::channel();
    if jobs.send(Job { event, reply }).await.is_err() {
        return json_reply(StatusCode::SERVICE_UNAVAILABLE, Bytes::new());
    }
    let Ok(invocation) = answer.await else {
        return json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_json(
                "ServiceException",
                "the function could not be started; see the server's log",
            ),
        );
    };
    let mut response = json_reply(StatusCode::OK, invocation.payload().clone());
    let headers = response.headers_mut();
    headers.insert("x-amz-executed-version", HeaderValue::from_static(VERSION));
    if let Ok(id) = HeaderValue::from_str(&invocation.request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if !invocation.succeeded() {
        // As the Invoke API marks errors the function did not handle.
        headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    response
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed by this call, not on
/// first poll, so a signal right after start-up is not lost.
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
    async move {
        tokio::select! {
            () = wait(interrupt) => {}
            () = wait(terminate) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ids, clocks

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_carriage_returns() {
        let got = split_lines(b"{\"a\":1}\r\n\n  \n[2]\n");
        assert_eq!(got, vec![(1, &b"{\"a\":1}"[..]), (4, &b"[2]"[..])]);
    }

    #[test]
    fn oversized_events_are_refused_with_the_limit() {
        assert!(check_event_size(MAX_PAYLOAD_BYTES, "x").is_ok());
        let err = check_event_size(MAX_PAYLOAD_BYTES + 1, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("6291456"), "{err}");
    }

    #[test]
    fn report_line_has_lambdas_fields() {
        let inv = Invocation {
            request_id: "id".into(),
            outcome: Outcome::Response(Bytes::new()),
            duration: Duration::from_micros(1_234),
            init_duration: Some(Duration::from_micros(10_500)),
            max_memory_kb: 2049,
            pid: 1,
        };
        assert_eq!(
            inv.report_line(128),
            "REPORT RequestId: id Duration: 1.23 ms Billed Duration: 12 ms Memory Size: 128 MB \
             Max Memory Used: 3 MB Init Duration: 10.50 ms"
        );
    }

    #[test]
    fn exits_are_described_like_lambda() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGABRT)),
            "signal: aborted"
        );
    }

    #[test]
    fn runtime_errors_keep_the_posted_json_or_wrap_text() {
        let f = runtime_error(
            Bytes::from_static(br#"{"errorType":"E","errorMessage":"m"}"#),
            None,
            "Runtime.Unknown",
        );
        assert_eq!(f.error_type, "E");
        let f = runtime_error(Bytes::from_static(b"oops"), Some("H"), "Runtime.Unknown");
        assert_eq!(f.error_type, "H");
        assert_eq!(
            &f.payload[..],
            br#"{"errorType":"H","errorMessage":"oops"}"#
        );
    }
}
