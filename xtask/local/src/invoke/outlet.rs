//! An output stream that never makes its writers wait.
//!
//! A server must go on serving whatever becomes of its stdout and stderr: a reader that
//! went away (EPIPE), one that reads slowly, or none at all (a pipe that fills up). Writing
//! to them in place would end serving (an error) or stall it (a full pipe blocks the
//! writer, and with it the whole event loop). So an [`Outlet`] takes whole lines into a
//! bounded queue, and a thread of its own writes them out:
//!
//! - a line that does not fit in the queue is dropped and counted, and the count is said
//!   in a note where the lines are missing (for stdout, on stderr: stdout keeps only what
//!   a machine reads there);
//! - EPIPE means nobody reads any more: from then on the outlet discards its lines;
//! - only that thread ever waits for the reader.
//!
//! Why not a non-blocking file descriptor that drops on EAGAIN: O_NONBLOCK belongs to the
//! open file description, which our stdout shares with every other process that has it
//! (the shell, the terminal's other programs): setting it would change their writes too,
//! and few programs cope with EAGAIN on stdout.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use xtask::util::status::status_line;

/// At most this many lines wait to be written…
const MAX_QUEUED_LINES: usize = 1024;
/// …and at most this many bytes (a line may hold a 6 MB payload; an empty queue takes any).
const MAX_QUEUED_BYTES: usize = 16 << 20;
/// [`Lines`] cuts what it reads into lines of this length at most, so an output that never
/// ends its line cannot take up memory without bound.
const MAX_LINE_BYTES: usize = 64 << 10;

/// A handle to one output stream and its writer thread; clones write to the same stream.
pub struct Outlet {
    shared: Arc<Shared>,
    /// Put before every line this handle queues (`[alpha] ` when several functions share
    /// one stream).
    prefix: Option<Arc<[u8]>>,
}

struct Shared {
    /// `stdout` or `stderr`, for notes.
    name: &'static str,
    /// Where notes about this stream go; `None`: into the stream itself.
    notes: Option<Outlet>,
    state: Mutex<State>,
    /// Signalled on every change of `state`.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Entry>,
    queued_lines: usize,
    queued_bytes: usize,
    /// The thread is writing what it took from the queue.
    writing: bool,
    /// The reader is gone: nothing is queued or written any more.
    closed: bool,
    dropped: u64,
    /// Live [`Outlet`] handles; the thread ends when none is left and the queue is empty.
    handles: usize,
}

/// What waits in the queue.
enum Entry {
    Line(Vec<u8>),
    /// This many lines were dropped here.
    Gap(u64),
}

/// What a failed write means.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// Nobody reads any more (EPIPE): stop writing.
    NoReader,
    /// This line is lost (a full disk, a hung-up terminal, a descriptor someone made
    /// non-blocking): count it, try the next.
    Lost,
}

fn failure(kind: io::ErrorKind) -> Failure {
    match kind {
        io::ErrorKind::BrokenPipe => Failure::NoReader,
        _ => Failure::Lost,
    }
}

/// Whether a line of `len` bytes joins a queue holding `lines` lines of `bytes` bytes.
fn admits(lines: usize, bytes: usize, len: usize) -> bool {
    lines == 0 || (lines < MAX_QUEUED_LINES && bytes + len <= MAX_QUEUED_BYTES)
}

fn dropped_note(name: &str, lines: u64) -> String {
    status_line(
        "Dropped",
        format!(
            "{lines} line{} of {name}: its reader is too slow",
            if lines == 1 { "" } else { "s" }
        ),
    )
}

fn closed_note(name: &str) -> String {
    status_line(
        "Closed",
        format!("{name}: nothing reads it any more, what goes there is dropped"),
    )
}

impl Outlet {
    /// An outlet writing to a duplicate of `fd` (our stdout or stderr), named `name`;
    /// notes about it go to `notes`, or into the stream itself.
    pub fn start(name: &'static str, fd: impl AsFd, notes: Option<Outlet>) -> io::Result<Outlet> {
        let file = File::from(fd.as_fd().try_clone_to_owned()?);
        let shared = Arc::new(Shared {
            name,
            notes,
            state: Mutex::new(State {
                handles: 1,
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name(format!("{name} writer"))
            .spawn(move || writer.write_queued(file))?;
        Ok(Outlet {
            shared,
            prefix: None,
        })
    }

    /// Another handle on the same stream whose lines start with `prefix`.
    pub fn prefixed(&self, prefix: &str) -> Outlet {
        let mut outlet = self.clone();
        outlet.prefix = Some(prefix.as_bytes().into());
        outlet
    }

    /// Queues `line` (a newline is added if it has none); never waits.
    pub fn line(&self, line: impl Into<Vec<u8>>) {
        let mut line = line.into();
        if let Some(prefix) = &self.prefix {
            line.splice(0..0, prefix.iter().copied());
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let mut state = self.shared.lock();
        if state.closed {
            return;
        }
        if admits(state.queued_lines, state.queued_bytes, line.len()) {
            state.queued_lines += 1;
            state.queued_bytes += line.len();
            state.queue.push_back(Entry::Line(line));
        } else {
            state.dropped += 1;
            match state.queue.back_mut() {
                Some(Entry::Gap(lines)) => *lines += 1,
                _ => state.queue.push_back(Entry::Gap(1)),
            }
        }
        self.shared.changed.notify_all();
    }

    /// Waits until everything queued is written (true), the reader is gone (true), or
    /// `limit` has passed (false).
    pub fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.shared.lock();
        while !state.closed && (state.writing || !state.queue.is_empty()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl Clone for Outlet {
    fn clone(&self) -> Outlet {
        self.shared.lock().handles += 1;
        Outlet {
            shared: self.shared.clone(),
            prefix: self.prefix.clone(),
        }
    }
}

impl Drop for Outlet {
    fn drop(&mut self) {
        self.shared.lock().handles -= 1;
        self.shared.changed.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer thread: writes what is queued, a note where lines were dropped, until
    /// the reader is gone or no handle is left.
    fn write_queued(&self, mut file: File) {
        loop {
            let entry = {
                let mut state = self.lock();
                loop {
                    if let Some(entry) = state.queue.pop_front() {
                        if let Entry::Line(line) = &entry {
                            state.queued_lines -= 1;
                            state.queued_bytes -= line.len();
                        }
                        state.writing = true;
                        break entry;
                    }
                    if state.handles == 0 {
                        return;
                    }
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
            };
            let is_line = matches!(entry, Entry::Line(_));
            let written = match entry {
                Entry::Line(line) => file.write_all(&line),
                Entry::Gap(lines) => {
                    let note = dropped_note(self.name, lines);
                    match &self.notes {
                        Some(notes) => {
                            notes.line(note);
                            Ok(())
                        }
                        None => file.write_all(format!("{note}\n").as_bytes()),
                    }
                }
            };
            let mut state = self.lock();
            state.writing = false;
            if let Err(err) = written {
                match failure(err.kind()) {
                    // A note that cannot be written is not queued again.
                    Failure::Lost if !is_line => {}
                    Failure::NoReader => {
                        state.closed = true;
                        state.queue.clear();
                        state.queued_lines = 0;
                        state.queued_bytes = 0;
                        if let Some(notes) = &self.notes {
                            notes.line(closed_note(self.name));
                        }
                    }
                    Failure::Lost => {
                        state.dropped += 1;
                        match state.queue.front_mut() {
                            Some(Entry::Gap(lines)) => *lines += 1,
                            _ => state.queue.push_front(Entry::Gap(1)),
                        }
                    }
                }
            }
            self.changed.notify_all();
            if state.closed {
                return;
            }
        }
    }
}

/// Cuts a byte stream read piece by piece into lines, each with its newline; a line longer
/// than [`MAX_LINE_BYTES`] without one is cut there, each piece a line of its own.
#[derive(Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// The lines `chunk` completes, to `emit`; the rest waits for the next chunk.
    pub fn push(&mut self, mut chunk: &[u8], emit: &mut impl FnMut(Vec<u8>)) {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&chunk[..=end]);
            emit(std::mem::take(&mut self.pending));
            chunk = &chunk[end + 1..];
        }
        self.pending.extend_from_slice(chunk);
        while self.pending.len() >= MAX_LINE_BYTES {
            let rest = self.pending.split_off(MAX_LINE_BYTES);
            emit(std::mem::replace(&mut self.pending, rest));
        }
    }

    /// What is left when the stream ends: a last line without its newline.
    pub fn finish(&mut self, emit: &mut impl FnMut(Vec<u8>)) {
        if !self.pending.is_empty() {
            emit(std::mem::take(&mut self.pending));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Lines dropped so far because the reader was too slow.
    fn dropped(outlet: &Outlet) -> u64 {
        outlet.shared.lock().dropped
    }

    #[test]
    fn an_empty_queue_takes_any_line_a_full_one_none() {
        assert!(admits(0, 0, MAX_QUEUED_BYTES * 2));
        assert!(admits(MAX_QUEUED_LINES - 1, 0, 10));
        assert!(!admits(MAX_QUEUED_LINES, 0, 10));
        assert!(admits(1, MAX_QUEUED_BYTES - 10, 10));
        assert!(!admits(1, MAX_QUEUED_BYTES - 10, 11));
    }

    #[test]
    fn only_a_broken_pipe_means_no_reader() {
        assert_eq!(failure(io::ErrorKind::BrokenPipe), Failure::NoReader);
        assert_eq!(failure(io::ErrorKind::WouldBlock), Failure::Lost);
        assert_eq!(failure(io::ErrorKind::StorageFull), Failure::Lost);
    }

    #[test]
    fn notes_read_like_status_lines() {
        assert_eq!(
            dropped_note("stdout", 3),
            "     Dropped 3 lines of stdout: its reader is too slow"
        );
        assert!(dropped_note("stderr", 1).ends_with(" 1 line of stderr: its reader is too slow"));
    }

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for chunk in chunks {
            lines.push(chunk, &mut |l| out.push(l));
        }
        lines.finish(&mut |l| out.push(l));
        out
    }

    #[test]
    fn lines_are_whole_across_reads_and_cut_when_endless() {
        assert_eq!(
            split(&[b"a\nb", b"c\n\nd"]),
            [&b"a\n"[..], b"bc\n", b"\n", b"d"]
        );
        let long = vec![b'x'; MAX_LINE_BYTES * 2 + 5];
        let got = split(&[&long]);
        let lengths: Vec<usize> = got.iter().map(Vec::len).collect();
        assert_eq!(lengths, [MAX_LINE_BYTES, MAX_LINE_BYTES, 5]);
    }

    #[test]
    fn a_reader_that_never_reads_costs_lines_not_time() {
        let (mut reader, writer) = io::pipe().unwrap();
        let outlet = Outlet::start("stderr", &writer, None).unwrap();
        drop(writer);
        // Far more than the pipe and the queue hold; `line` never waits, so this returns.
        let line = "x".repeat(100);
        for _ in 0..5_000 {
            outlet.line(line.as_str());
        }
        assert!(dropped(&outlet) > 0);
        // The reader catches up: what was queued arrives, with a note where lines are
        // missing (the writer takes lines while they are queued: there may be several gaps).
        let lines = std::thread::spawn(move || {
            let mut all = String::new();
            reader.read_to_string(&mut all).unwrap();
            all
        });
        assert!(outlet.flush(Duration::from_secs(30)));
        let dropped = dropped(&outlet);
        outlet.line("last");
        drop(outlet);
        let all = lines.join().unwrap();
        let noted: u64 = all
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("Dropped "))
            .map(|rest| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(noted, dropped);
        assert_eq!(
            all.lines().filter(|l| *l == line).count() as u64,
            5_000 - dropped
        );
        assert!(all.ends_with("\nlast\n"));
    }

    #[test]
    fn a_reader_gone_closes_the_outlet() {
        let (reader, writer) = io::pipe().unwrap();
        let (notes_reader, notes_writer) = io::pipe().unwrap();
        let notes = Outlet::start("stderr", &notes_writer, None).unwrap();
        let outlet = Outlet::start("stdout", &writer, Some(notes.clone())).unwrap();
        drop((reader, writer, notes_writer));
        outlet.line("nobody reads this");
        // Closed: flush returns at once, and later lines are discarded, not counted.
        assert!(outlet.flush(Duration::from_secs(30)));
        outlet.line("nor this");
        assert_eq!(dropped(&outlet), 0);
        drop(outlet);
        assert!(notes.flush(Duration::from_secs(30)));
        drop(notes);
        let mut said = String::new();
        let mut notes_reader = notes_reader;
        notes_reader.read_to_string(&mut said).unwrap();
        assert_eq!(said, format!("{}\n", closed_note("stdout")));
    }
}
