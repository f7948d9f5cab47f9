//! One execution environment: a running bootstrap and its Runtime API. It stays warm
//! across invocations and is replaced after a crash or a timeout, as Lambda replaces one.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hyper::body::Bytes;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::console::Console;
use super::function::Function;
use super::ids::new_request_id;
use super::invocation::{Invocation, InvocationError, InvocationOutcome};
use super::logs::FunctionLogs;
use super::runtime_api::{ApiMsg, PendingEvent, Server, NEXT_PATH};
use xtask::lambda::INIT_LIMIT;
use xtask::util::time::epoch_ms;

/// Peak memory is sampled this often while an invocation runs, so a process
/// that crashes or times out still reports what it used.
const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// A started bootstrap with its own Runtime API server.
pub(crate) struct Sandbox {
    child: Child,
    /// The bootstrap's pid, which is also its process group's id.
    pid: u32,
    /// Its stdout and stderr on their way to our stderr, when they go through us.
    logs: Option<FunctionLogs>,
    /// The process group was sent SIGKILL: nothing of this environment runs any more.
    group_ended: bool,
    spawned: Instant,
    api: mpsc::UnboundedReceiver<ApiMsg>,
    events: mpsc::Sender<PendingEvent>,
    server: tokio::task::JoinHandle<()>,
    ready: bool,
    dead: bool,
    max_memory_kb: u64,
    timeout: Duration,
    arn: String,
}

/// How a wait for the runtime ended without its answer.
enum Ended {
    /// The process ended, by itself or killed by a signal.
    Exited(std::io::Result<ExitStatus>),
    /// The Runtime API server is gone: the process cannot be answered any more.
    ServerGone,
    /// What ran out of time, as Lambda says it: `Task timed out after 3.00 seconds`.
    TimedOut(String),
}

impl Sandbox {
    /// Starts the bootstrap as Lambda would; it initialises until its first `/next`. Its
    /// logs and our status line go to `console`.
    pub(crate) async fn start(function: &Function, console: &Console) -> Result<Sandbox> {
        let (stdout, stderr, logs) = console.function_stdio()?;
        let server = Server::start().await?;
        let mut command = function.command(server.addr);
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        die_with_parent(&mut command);
        own_process_group(&mut command);
        let spawned = Instant::now();
        let child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                server.task.abort();
                return Err(err).with_context(|| format!("starting {}", function.program()));
            }
        };
        // The pipe ends the function writes to belong to it alone now: the forwarder of its
        // logs sees their end when it ends.
        drop(command);
        let pid = child.id().unwrap_or_default();
        console.status(
            "Starting",
            format!(
                "bootstrap (pid {pid}{}), Runtime API on {}",
                if function.is_emulated() {
                    ", under qemu-aarch64"
                } else {
                    ""
                },
                server.addr
            ),
        );
        Ok(Sandbox {
            child,
            pid,
            logs,
            group_ended: false,
            spawned,
            api: server.api,
            events: server.events,
            server: server.task,
            ready: false,
            dead: false,
            max_memory_kb: 0,
            timeout: function.settings.timeout,
            arn: function.arn(),
        })
    }

    /// False once the process ended or was ended; Lambda would start a new environment.
    fn is_alive(&mut self) -> bool {
        if !self.dead && !matches!(self.child.try_wait(), Ok(None)) {
            self.dead = true;
        }
        !self.dead
    }

    /// Kills the process and waits for it, so nothing is left behind.
    pub(crate) async fn stop(mut self) {
        self.kill().await;
        self.server.abort();
    }

    async fn kill(&mut self) {
        self.end_group();
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.dead = true;
    }

    /// Sends SIGKILL to the bootstrap's process group: the bootstrap and every process it
    /// started (unless one left the group), as Lambda ends the whole environment. Done
    /// once, and before the bootstrap is reaped where we can: while it is unreaped, its pid
    /// is the group's for sure. After it exited by itself, the group's id stays reserved as
    /// long as any member lives, so the signal still reaches only ours.
    fn end_group(&mut self) {
        if self.group_ended {
            return;
        }
        self.group_ended = true;
        // Never 0 or 1 (our own group, or every process): only a real child's pid.
        let Ok(pgid) = libc::pid_t::try_from(self.pid) else {
            return;
        };
        if pgid > 1 {
            // SAFETY: killpg has no memory-safety preconditions.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
    }

    fn sample_memory(&mut self) {
        if let Some(kb) = peak_rss_kb(self.pid) {
            self.max_memory_kb = self.max_memory_kb.max(kb);
        }
    }

    /// Serves one event and waits for the runtime's answer, the timeout, or the process's end.
    pub(crate) async fn invoke(&mut self, event: Bytes) -> Invocation {
        self.invoke_as(new_request_id(), event).await
    }

    /// [`invoke`](Self::invoke) under a request id given beforehand (to a caller of the
    /// Invoke API that does not wait for the answer).
    pub(crate) async fn invoke_as(&mut self, request_id: String, event: Bytes) -> Invocation {
        self.invoke_streaming(request_id, event, None).await
    }

    /// [`invoke_as`](Self::invoke_as), each piece of a streamed response also sent to `sink`
    /// as it comes (the whole response is in the invocation all the same).
    pub(crate) async fn invoke_streaming(
        &mut self,
        request_id: String,
        event: Bytes,
        sink: Option<&tokio::sync::mpsc::UnboundedSender<Bytes>>,
    ) -> Invocation {
        let mut init_duration = None;
        if !self.ready {
            match self.initialise(&request_id).await {
                Ok(init) => init_duration = Some(init),
                Err(outcome) => {
                    let init = Some(self.spawned.elapsed());
                    return self.finished(request_id, outcome, Duration::ZERO, init);
                }
            }
        }
        let mut deadline = tokio::time::Instant::now() + self.timeout;
        let pending = PendingEvent {
            request_id: request_id.clone(),
            body: event,
            deadline_ms: epoch_ms() + self.timeout.as_millis(),
            arn: self.arn.clone(),
        };
        // Until the runtime takes the event (it may still be finishing the previous one).
        let mut started = Instant::now();
        if self.events.send(pending).await.is_err() {
            // Only if the server task is gone, which `stop` alone does.
            let error = InvocationError::exit(&request_id, None);
            let outcome = InvocationOutcome::Failed(error);
            return self.finished(request_id, outcome, Duration::ZERO, None);
        }
        let mut sampler = tokio::time::interval_at(
            tokio::time::Instant::now() + MEMORY_SAMPLE_EVERY,
            MEMORY_SAMPLE_EVERY,
        );
        let mut streamed = false;
        let outcome = loop {
            let ended = tokio::select! {
                biased;
                msg = self.api.recv() => match msg {
                    Some(ApiMsg::Delivered { request_id: id, at }) if id == request_id => {
                        started = at;
                        deadline = tokio::time::Instant::from_std(at + self.timeout);
                        continue;
                    }
                    Some(ApiMsg::Chunk { request_id: id, bytes }) if id == request_id => {
                        streamed = true;
                        if let Some(sink) = sink {
                            let _ = sink.send(bytes);
                        }
                        continue;
                    }
                    Some(ApiMsg::Response { request_id: id, body }) if id == request_id => {
                        break InvocationOutcome::Response(body)
                    }
                    Some(ApiMsg::Error { request_id: id, error }) if id == request_id => {
                        break InvocationOutcome::Failed(error)
                    }
                    Some(_) => continue,
                    None => Ended::ServerGone,
                },
                exit = self.child.wait() => Ended::Exited(exit),
                _ = tokio::time::sleep_until(deadline) => Ended::TimedOut(format!(
                    "Task timed out after {:.2} seconds",
                    self.timeout.as_secs_f64()
                )),
                _ = sampler.tick() => {
                    self.sample_memory();
                    continue;
                }
            };
            break self.ended(&request_id, ended).await;
        };
        let duration = started.elapsed();
        let mut invocation = self.finished(request_id, outcome, duration, init_duration);
        invocation.streamed = streamed;
        invocation
    }

    /// Waits for the first `/next` (Init Duration), an init error, an exit, or Lambda's init
    /// limit; the outcome to report when the runtime never got ready.
    async fn initialise(&mut self, request_id: &str) -> Result<Duration, InvocationOutcome> {
        let limit = tokio::time::Instant::from_std(self.spawned + INIT_LIMIT);
        let ended = loop {
            tokio::select! {
                biased;
                msg = self.api.recv() => match msg {
                    Some(ApiMsg::Polled(at)) => {
                        self.ready = true;
                        return Ok(at.duration_since(self.spawned));
                    }
                    Some(ApiMsg::InitError(error)) => {
                        // Lambda discards an environment whose init failed; give the
                        // runtime a moment to exit by itself so its last logs are kept.
                        self.sample_memory();
                        let _ = tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await;
                        self.kill().await;
                        return Err(InvocationOutcome::Failed(error));
                    }
                    Some(_) => {}
                    None => break Ended::ServerGone,
                },
                exit = self.child.wait() => break Ended::Exited(exit),
                _ = tokio::time::sleep_until(limit) => break Ended::TimedOut(format!(
                    "Init timed out after {:.2} seconds: the bootstrap never asked for an \
                     event ({NEXT_PATH})",
                    INIT_LIMIT.as_secs_f64()
                )),
                () = tokio::time::sleep(MEMORY_SAMPLE_EVERY) => self.sample_memory(),
            }
        };
        Err(self.ended(request_id, ended).await)
    }

    /// The failure to report when the runtime did not answer, with the process ended.
    async fn ended(&mut self, request_id: &str, how: Ended) -> InvocationOutcome {
        let error = match how {
            Ended::Exited(exit) => {
                self.dead = true;
                // What it started dies with it, as its environment would.
                self.end_group();
                // An answer sent just before exiting still counts.
                if let Some(outcome) = self.drain_answer(request_id) {
                    return outcome;
                }
                InvocationError::exit(request_id, exit.ok())
            }
            Ended::ServerGone => {
                self.kill().await;
                InvocationError::exit(request_id, None)
            }
            Ended::TimedOut(what) => {
                self.sample_memory();
                self.kill().await;
                InvocationError::timeout(request_id, &what)
            }
        };
        InvocationOutcome::Failed(error)
    }

    fn drain_answer(&mut self, request_id: &str) -> Option<InvocationOutcome> {
        while let Ok(msg) = self.api.try_recv() {
            match msg {
                ApiMsg::Response {
                    request_id: id,
                    body,
                } if id == request_id => return Some(InvocationOutcome::Response(body)),
                ApiMsg::Error {
                    request_id: id,
                    error,
                } if id == request_id => return Some(InvocationOutcome::Failed(error)),
                ApiMsg::InitError(error) => return Some(InvocationOutcome::Failed(error)),
                _ => {}
            }
        }
        None
    }

    fn finished(
        &mut self,
        request_id: String,
        outcome: InvocationOutcome,
        duration: Duration,
        init_duration: Option<Duration>,
    ) -> Invocation {
        if !self.dead {
            self.sample_memory();
        }
        // What the function logged before it answered comes before what we print about it.
        let logs = match &self.logs {
            Some(logs) => logs.take_tail(),
            None => Vec::new(),
        };
        Invocation {
            request_id,
            outcome,
            duration,
            init_duration,
            max_memory_kb: self.max_memory_kb,
            pid: self.pid,
            logs,
            streamed: false,
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // `stop` is the tidy way; this covers early returns and cancellation.
        self.server.abort();
        self.end_group();
        let _ = self.child.start_kill();
    }
}

/// The running environment in `slot`, or a new one if there is none or it ended.
pub(super) async fn warm<'a>(
    slot: &'a mut Option<Sandbox>,
    function: &Function,
    console: &Console,
) -> Result<&'a mut Sandbox> {
    let alive = slot.as_mut().is_some_and(Sandbox::is_alive);
    if !alive {
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        *slot = Some(Sandbox::start(function, console).await?);
    }
    slot.as_mut()
        .context("no execution environment could be started")
}

/// The bootstrap must not outlive us, even if we are killed without a chance to clean up.
/// (What it starts itself ends with its process group, see [`own_process_group`], but would
/// survive our being killed by SIGKILL: the death signal is not inherited.)
fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// The bootstrap leads a process group of its own, so that it ends with everything it
/// started (`Sandbox::end_group`). That makes it a background job of our terminal, which
/// with `stty tostop` would stop it (SIGTTOU) at its first log line: it ignores that signal,
/// which lets the write through.
fn own_process_group(command: &mut Command) {
    command.process_group(0);
    // SAFETY: signal is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// Peak resident set size of a live process (VmHWM), in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
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
