//! The function's logs under `--serve`: its stdout and stderr come through a pipe of ours
//! into the stderr [`Outlet`], so they never block the function on our readers, nor get
//! EPIPE from them.
//!
//! The pipe is read by the event loop as it fills, and read to its current end before an
//! invocation's REPORT line: what the function logged before it answered is in the pipe
//! by the time its answer arrives, so its lines come before the REPORT line, as on Lambda.
//! The pipe also keeps the end of what was logged since the previous invocation ended: the
//! Invoke API's `LogType: Tail` answer.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::task::JoinHandle;

use super::outlet::{Lines, Outlet};

/// At most this much is read in one go, so a function that writes without pause cannot
/// hold the event loop.
const MAX_READ_AT_ONCE: usize = 1 << 20;

/// What `LogType: Tail` returns: the last 4 KB of the invocation's log, as Lambda does.
pub(crate) const LOG_TAIL_BYTES: usize = 4096;

/// The read end of the function's log pipe, and the task that reads it as it fills.
pub(super) struct FunctionLogs {
    pipe: Arc<Pipe>,
    task: JoinHandle<()>,
}

struct Pipe {
    fd: AsyncFd<File>,
    lines: Mutex<Lines>,
    outlet: Outlet,
    /// The end of what was logged since the last [`FunctionLogs::take_tail`].
    tail: Mutex<Tail>,
}

/// The last [`LOG_TAIL_BYTES`] of the lines pushed into it.
#[derive(Debug, Default)]
pub(crate) struct Tail(std::collections::VecDeque<u8>);

impl Tail {
    pub(crate) fn push(&mut self, line: &[u8]) {
        self.0.extend(line);
        if line.last() != Some(&b'\n') {
            self.0.push_back(b'\n');
        }
        let excess = self.0.len().saturating_sub(LOG_TAIL_BYTES);
        self.0.drain(..excess);
    }

    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0).into()
    }
}

impl FunctionLogs {
    /// A pipe for the function's stdout and stderr (the two ends to give it), read into
    /// `outlet`. Needs the tokio runtime.
    pub(super) fn start(outlet: &Outlet) -> Result<(Stdio, Stdio, FunctionLogs)> {
        let (reader, writer) = io::pipe().context("opening a pipe for the function's logs")?;
        let writer_too = writer
            .try_clone()
            .context("duplicating the pipe for the function's logs")?;
        let reader = File::from(std::os::fd::OwnedFd::from(reader));
        set_nonblocking(&reader).context("making the log pipe non-blocking")?;
        let pipe = Arc::new(Pipe {
            // SAFETY: the File owns its descriptor, and it stays open and the same for as
            // long as the AsyncFd holds the File.
            fd: unsafe { AsyncFd::register_with_interest(reader, Interest::READABLE) }
                .map_err(|e| e.into_parts().1)
                .context("watching the log pipe")?,
            lines: Mutex::new(Lines::default()),
            outlet: outlet.clone(),
            tail: Mutex::default(),
        });
        let task = tokio::spawn(read_as_it_fills(pipe.clone()));
        let logs = FunctionLogs { pipe, task };
        Ok((Stdio::from(writer), Stdio::from(writer_too), logs))
    }

    /// Forwards what the pipe holds now.
    pub(super) fn catch_up(&self) {
        let _ = self.pipe.read_now();
    }

    /// What was logged since the last call (its last [`LOG_TAIL_BYTES`]), read to the
    /// pipe's current end.
    pub(super) fn take_tail(&self) -> Vec<u8> {
        self.catch_up();
        self.pipe
            .tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl Drop for FunctionLogs {
    fn drop(&mut self) {
        self.catch_up();
        self.task.abort();
    }
}

async fn read_as_it_fills(pipe: Arc<Pipe>) {
    loop {
        let Ok(mut ready) = pipe.fd.readable().await else {
            return;
        };
        match pipe.read_now() {
            Ok(Left::Nothing) => ready.clear_ready(),
            Ok(Left::More) => tokio::task::yield_now().await,
            Ok(Left::End) | Err(_) => return,
        }
    }
}

/// What a read of the pipe left in it.
enum Left {
    /// Nothing, for now.
    Nothing,
    /// Maybe more: [`MAX_READ_AT_ONCE`] was read.
    More,
    /// Its end: every writer closed it.
    End,
}

impl Pipe {
    /// Reads what the pipe holds, up to [`MAX_READ_AT_ONCE`], line by line into the outlet.
    fn read_now(&self) -> io::Result<Left> {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let emit = &mut |line: Vec<u8>| {
            tail.push(&line);
            self.outlet.line(line)
        };
        let mut buf = [0u8; 16 << 10];
        let mut read = 0;
        while read < MAX_READ_AT_ONCE {
            match io::Read::read(&mut self.fd.get_ref(), &mut buf) {
                Ok(0) => {
                    lines.finish(emit);
                    return Ok(Left::End);
                }
                Ok(n) => {
                    read += n;
                    lines.push(&buf[..n], emit);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Left::Nothing),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Left::More)
    }
}

fn set_nonblocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with no pointers involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
