//! A bootstrap's own children end with it, as Lambda ends a whole execution environment:
//! after a timeout, after a crash, and when invoke stops.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::serve::Server;
use crate::*;

/// Processes a test saw started, killed when it ends, so a failing test leaves none behind.
#[derive(Default)]
struct Leftovers(Vec<u32>);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Leftovers {
    /// The pid the fixture wrote to `file` (a `spawn…:FILE` event), waiting up to 30 s for it.
    fn read(&mut self, file: &Path) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let pid = loop {
            if let Ok(pid) = std::fs::read_to_string(file) {
                break pid.trim().parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "{} never written",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.0.push(pid);
        pid
    }
}

/// True while `pid` runs (a zombie has ended: it only waits to be reaped).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X'))
    })
}

/// True once `pid` has ended; waits up to 10 s, as a kill takes a moment to land.
fn ended(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn spawn_event(what: &str, file: &Path) -> Vec<u8> {
    format!("\"{what}:{}\"", file.display()).into_bytes()
}

#[test]
fn children_end_with_the_bootstrap_on_timeout_crash_and_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    let pids = tempfile::tempdir().unwrap();
    let mut leftovers = Leftovers::default();
    let server = Server::start_with(&fixture_zip(), tmp.path(), &["--timeout", "1"]);

    // A timeout (Lambda ends the environment, with everything the function started), and
    // a crash (the bootstrap exits, its child goes with it).
    for (event, answer, how) in [
        ("spawn-and-sleep", "Sandbox.Timedout", "timed-out"),
        ("spawn-and-exit", "exit status 3", "crashed"),
    ] {
        let file = pids.path().join(event);
        let (status, head, body) = server.invoke(&spawn_event(event, &file));
        assert_eq!(status, 200, "{head}");
        assert!(text(&body).contains(answer), "{}", text(&body));
        let child = leftovers.read(&file);
        assert!(
            ended(child),
            "the child {child} of a {how} bootstrap still runs"
        );
        server.record();
    }

    // A healthy bootstrap's child runs as long as it does, and ends when the server stops.
    let file = pids.path().join("shutdown");
    let (status, _, body) = server.invoke(&spawn_event("spawn", &file));
    assert_eq!(status, 200);
    let child = leftovers.read(&file);
    assert_eq!(text(&body), child.to_string());
    assert!(running(child), "the child {child} of a warm bootstrap runs");
    server.record();
    server.stop();
    assert!(ended(child), "the child {child} outlived the server");
}

#[test]
fn a_one_off_run_leaves_no_child_behind() {
    let pids = tempfile::tempdir().unwrap();
    let mut leftovers = Leftovers::default();
    let file = pids.path().join("timeout");
    let event = text(&spawn_event("spawn-and-sleep", &file));
    let out = invoke_fixture(&["--timeout", "1", &event], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let child = leftovers.read(&file);
    assert!(
        ended(child),
        "the child {child} of a timed-out bootstrap still runs"
    );
}
