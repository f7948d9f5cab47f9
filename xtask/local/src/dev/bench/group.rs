//! Processes a benchmark starts (watchers, builds, and what they start in turn: cargo,
//! rustc, the function), each leading a process group of its own, stopped and reaped with
//! everything they started on every way out: done, an error, Ctrl-C.
//!
//! Ctrl-C does not kill the benchmark: [`take_over_signals`] turns SIGINT, SIGTERM and SIGHUP
//! into a flag that the waits check ([`check_interrupted`]), so the benchmark returns an
//! error and its guards run: each [`Group`] asks its leader to stop, then kills whatever of
//! its tree is left, and the scratch directories go with their owners.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From here on SIGINT, SIGTERM and SIGHUP only raise a flag, and this process adopts the
/// orphans of what it starts (a child subreaper), so a group's leftovers can be reaped.
pub fn take_over_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { libc::signal(signal, handler as libc::sighandler_t) };
    }
    // SAFETY: prctl with these arguments reads and writes no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// An error once Ctrl-C (or SIGTERM, SIGHUP) came.
pub fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

/// Sleeps, then says whether Ctrl-C came meanwhile.
pub fn pause(time: Duration) -> Result<()> {
    std::thread::sleep(time);
    check_interrupted()
}

/// Resolves once Ctrl-C came: for `select!` beside a request.
pub async fn interrupted() {
    while !INTERRUPTED.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a leader has to stop by itself (and stop its children) before SIGKILL.
const GRACE: Duration = Duration::from_secs(10);
/// How long the sweep of leftovers may take.
const SWEEP: Duration = Duration::from_secs(5);

/// A spawned process leading its own process group; stopped with its tree when dropped.
pub struct Group {
    name: String,
    child: Child,
    /// The signal that asks it to stop cleanly (removing its temp files, ending its children).
    polite: libc::c_int,
    log: Option<PathBuf>,
    /// The leader and its descendants as last seen: orphans come to us, not to the leader's
    /// ancestors, so who they were is remembered while the leader lives.
    tree: BTreeSet<libc::pid_t>,
    stopped: bool,
}

impl Group {
    /// Spawns `command` as the leader of a new process group, stdin closed, its stdout and
    /// stderr into `log` when given (else as `command` says). If this process dies first,
    /// the leader gets `polite`.
    pub fn spawn(
        name: &str,
        mut command: Command,
        polite: libc::c_int,
        log: Option<&Path>,
    ) -> Result<Group> {
        command.process_group(0).stdin(Stdio::null());
        if let Some(log) = log {
            let file = std::fs::File::create(log)
                .with_context(|| format!("creating {}", log.display()))?;
            command.stdout(file.try_clone()?).stderr(file);
        }
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, polite);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let tree = libc::pid_t::try_from(child.id()).into_iter().collect();
        Ok(Group {
            name: name.to_string(),
            child,
            polite,
            log: log.map(Path::to_path_buf),
            tree,
            stopped: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The leader's exit status once it has exited (reaped), else None. Each call also
    /// notes the tree's new members.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        let status = self
            .child
            .try_wait()
            .with_context(|| format!("waiting for {}", self.name))?;
        if status.is_none() {
            let leader = self.leader();
            grow(&mut self.tree, &processes(), leader);
        }
        Ok(status)
    }

    fn leader(&self) -> libc::pid_t {
        libc::pid_t::try_from(self.child.id()).unwrap_or(0)
    }

    /// Waits for the leader to exit, giving up on Ctrl-C.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        loop {
            if let Some(status) = self.exited()? {
                return Ok(status);
            }
            pause(Duration::from_millis(20))?;
        }
    }

    /// The last `n` lines of its log, for an error message.
    pub fn log_tail(&self, n: usize) -> String {
        let Some(text) = self.log.as_ref().and_then(|l| std::fs::read(l).ok()) else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Asks the group to stop, kills what is left of the whole tree after [`GRACE`], and
    /// reaps the leader and every orphan of the tree that came to us. Idempotent.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let leader = self.leader();
        if leader <= 1 {
            return;
        }
        let mut tree = std::mem::take(&mut self.tree);
        if let Ok(None) = self.child.try_wait() {
            grow(&mut tree, &processes(), leader);
            // SAFETY: killpg has no memory-safety preconditions; the leader is unreaped, so
            // the group is ours.
            unsafe { libc::killpg(leader, self.polite) };
            let deadline = Instant::now() + GRACE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                grow(&mut tree, &processes(), leader);
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above; the leader is unreaped or was reaped an instant ago and
            // the group id stays reserved while any member lives.
            unsafe { libc::killpg(leader, libc::SIGKILL) };
            let _ = self.child.wait();
        }
        sweep(leader, &mut tree);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills and reaps what is left of `tree` (the leader is reaped already): members still
/// running under a member, and orphans that came to us as their subreaper.
fn sweep(leader: libc::pid_t, tree: &mut BTreeSet<libc::pid_t>) {
    let me = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    let deadline = Instant::now() + SWEEP;
    loop {
        let table = processes();
        grow(tree, &table, leader);
        let left = leftovers(&table, tree, leader, me);
        if left.is_empty() || Instant::now() > deadline {
            return;
        }
        for process in left {
            if process.state != 'Z' {
                // SAFETY: kill has no memory-safety preconditions; the pid is a live
                // member of the tree (its parent is in the tree, or it is our orphan).
                unsafe { libc::kill(process.pid, libc::SIGKILL) };
            }
            if process.ppid == me {
                // SAFETY: waitpid with a null status pointer writes nothing.
                unsafe { libc::waitpid(process.pid, std::ptr::null_mut(), libc::WNOHANG) };
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Process {
    pid: libc::pid_t,
    state: char,
    ppid: libc::pid_t,
    pgrp: libc::pid_t,
}

/// `PID (COMM) STATE PPID PGRP …`; COMM may hold spaces and parentheses, so the fields after it
/// are read from the last `)`.
fn parse_stat(text: &str) -> Option<Process> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_once(" (")?.0.trim().parse().ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Process {
        pid,
        state,
        ppid,
        pgrp,
    })
}

fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|text| parse_stat(&text))
        .collect()
}

/// Adds to `tree` every process whose parent is in it, or that is in the leader's process
/// group, until nothing more is added.
fn grow(tree: &mut BTreeSet<libc::pid_t>, table: &[Process], leader: libc::pid_t) {
    loop {
        let before = tree.len();
        for process in table {
            if tree.contains(&process.ppid) || process.pgrp == leader {
                tree.insert(process.pid);
            }
        }
        if tree.len() == before {
            return;
        }
    }
}

/// Members of `tree` other than the (reaped) leader that still exist, whose parent is in the
/// tree or is us (an orphan we adopted), or that are in the leader's group: a pid reused by a
/// stranger is none of these.
fn leftovers(
    table: &[Process],
    tree: &BTreeSet<libc::pid_t>,
    leader: libc::pid_t,
    me: libc::pid_t,
) -> Vec<Process> {
    table
        .iter()
        .filter(|p| p.pid != leader && tree.contains(&p.pid))
        .filter(|p| p.ppid == me || tree.contains(&p.ppid) || p.pgrp == leader)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, state: char, ppid: i32) -> Process {
        Process {
            pid,
            state,
            ppid,
            pgrp: pid,
        }
    }

    #[test]
    fn stat_lines_with_awkward_names() {
        assert_eq!(
            parse_stat("4570 (bootstrap) S 4569 4570 4570 0 -1 4194560 …"),
            Some(Process {
                pgrp: 4570,
                ..p(4570, 'S', 4569)
            })
        );
        assert_eq!(
            parse_stat("12 (a (b) c) Z 1 9 12 0"),
            Some(Process {
                pgrp: 9,
                ..p(12, 'Z', 1)
            })
        );
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("x (y) S z"), None);
    }

    #[test]
    fn trees_grow_through_every_generation() {
        // 10 → 11 → 12 → 13; 20 is a stranger; 30 is a child of the stranger; 40 was
        // orphaned (its parent is 1 now) but is still in the leader's group.
        let table = [
            p(13, 'S', 12),
            p(12, 'S', 11),
            p(11, 'S', 10),
            p(20, 'S', 1),
            p(30, 'S', 20),
            Process {
                pgrp: 10,
                ..p(40, 'S', 1)
            },
        ];
        let mut tree = BTreeSet::from([10]);
        grow(&mut tree, &table, 10);
        assert_eq!(tree, BTreeSet::from([10, 11, 12, 13, 40]));
    }

    #[test]
    fn leftovers_are_members_under_a_member_or_our_orphans() {
        let me = 1000;
        let tree = BTreeSet::from([10, 11, 12, 13]);
        let table = [
            p(11, 'Z', me), // an orphan of the leader, a zombie now ours
            p(12, 'S', 11), // still under a member
            p(13, 'S', 77), // a reused pid: a stranger's child
            p(10, 'S', me), // the leader itself is never a leftover
        ];
        assert_eq!(
            leftovers(&table, &tree, 10, me),
            vec![p(11, 'Z', me), p(12, 'S', 11)]
        );
    }
}
