//! Where what invoke prints goes: our stdout and stderr written in place for a one-off run,
//! outlets that never make serving wait for `--serve`, or nowhere for the benchmarks.

use std::io::Write;
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::invocation::Invocation;
use super::logs::FunctionLogs;
use super::outlet::Outlet;
use super::output::invocation_output;
use xtask::util::status::{error_line, status, status_line, stderr_line};

/// How long a stopping server waits for its readers to take what is still queued.
const FLUSH_LIMIT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub(crate) enum Console {
    /// Our stdout and stderr, written in place; the function's output shares our stderr.
    /// A one-off run's output is its result: a slow reader slows the run, nothing is
    /// dropped, and a stdout nobody reads any more ends it.
    Direct,
    /// `--serve`: everything through [`Outlet`]s, so a reader that is slow, absent or gone
    /// never stalls or ends serving (lines are dropped instead, and counted). The
    /// function's stdout and stderr come through a pipe of ours into the stderr outlet
    /// ([`FunctionLogs`]).
    Detached { stdout: Outlet, stderr: Outlet },
    /// Nothing is shown (benchmarks).
    Quiet,
}

impl Console {
    /// Outlets for our stdout and stderr; notes about stdout go to stderr.
    pub(crate) fn detached() -> Result<Console> {
        let stderr = Outlet::start("stderr", std::io::stderr(), None)
            .context("starting the writer of stderr")?;
        let stdout = Outlet::start("stdout", std::io::stdout(), Some(stderr.clone()))
            .context("starting the writer of stdout")?;
        Ok(Console::Detached { stdout, stderr })
    }

    /// This console with its stderr lines (status lines, REPORT lines, the function's logs)
    /// told apart by `name`, for one of several functions served at once. Results on stdout
    /// stay as they are.
    pub(crate) fn labelled(&self, name: &str) -> Console {
        match self {
            Console::Detached { stdout, stderr } => Console::Detached {
                stdout: stdout.clone(),
                stderr: stderr.prefixed(&format!("[{name}] ")),
            },
            other => other.clone(),
        }
    }

    /// A cargo-style status line on stderr.
    pub(crate) fn status(&self, verb: &str, message: impl std::fmt::Display) {
        match self {
            Console::Direct => status(verb, message),
            Console::Detached { stderr, .. } => stderr.line(status_line(verb, message)),
            Console::Quiet => {}
        }
    }

    /// `error: …` on stderr, for a failure that does not end the command.
    pub(crate) fn error(&self, err: &anyhow::Error) {
        let line = error_line(format!("{err:#}"));
        match self {
            Console::Direct => stderr_line(line),
            Console::Detached { stderr, .. } => stderr.line(line),
            Console::Quiet => {}
        }
    }

    /// One line of results on stdout. Only a direct stdout can fail.
    pub(crate) fn result_line(&self, line: &[u8]) -> Result<()> {
        match self {
            Console::Direct => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(line)
                    .and_then(|()| stdout.write_all(b"\n"))
                    .and_then(|()| stdout.flush())
                    .context("writing to stdout")
            }
            Console::Detached { stdout, .. } => {
                stdout.line(line);
                Ok(())
            }
            Console::Quiet => Ok(()),
        }
    }

    /// The payload on stdout (or a JSON record with `json`), the REPORT line on stderr.
    pub(crate) fn invocation(
        &self,
        invocation: &Invocation,
        memory_mb: u32,
        json: bool,
        payload_to_stdout: bool,
    ) -> Result<()> {
        let (result, report) = invocation_output(invocation, memory_mb, json, payload_to_stdout)?;
        if let Some(result) = result {
            self.result_line(&result)?;
        }
        match self {
            Console::Direct => stderr_line(report),
            Console::Detached { stderr, .. } => stderr.line(report),
            Console::Quiet => {}
        }
        Ok(())
    }

    /// The bootstrap's stdout and stderr, as Lambda takes both to the function's logs, and
    /// what forwards them when they do not go straight to our stderr.
    pub(super) fn function_stdio(&self) -> Result<(Stdio, Stdio, Option<FunctionLogs>)> {
        match self {
            Console::Direct => {
                let logs = std::io::stderr()
                    .as_fd()
                    .try_clone_to_owned()
                    .context("duplicating stderr for the function's logs")?;
                Ok((Stdio::from(logs), Stdio::inherit(), None))
            }
            Console::Detached { stderr, .. } => {
                let (stdout, stderr, logs) = FunctionLogs::start(stderr)?;
                Ok((stdout, stderr, Some(logs)))
            }
            Console::Quiet => Ok((Stdio::null(), Stdio::null(), None)),
        }
    }

    /// Gives the readers a moment to take what is still queued, before we exit.
    pub(crate) fn flush(&self) {
        if let Console::Detached { stdout, stderr } = self {
            let deadline = Instant::now() + FLUSH_LIMIT;
            // stdout first: what it has to say about itself goes to stderr.
            stdout.flush(FLUSH_LIMIT);
            stderr.flush(deadline.saturating_duration_since(Instant::now()));
        }
    }
}
