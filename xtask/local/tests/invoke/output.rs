//! `--serve` goes on serving whatever becomes of its stdout and stderr: closed (no reader),
//! or never read (a full pipe); and it stops cleanly on SIGHUP as on SIGTERM.

use std::io::Read;
use std::time::Duration;

use crate::common::*;
use crate::serve::{post, read_address, signal, spawn_serve, Server, Spawned, INVOKE_PATH};
use crate::*;

/// One invocation on 127.0.0.1:`port`, answered within `wait` or the test fails.
fn invoke_on(port: u16, body: &[u8], wait: Duration) -> (u16, String, Vec<u8>) {
    post(("127.0.0.1", port), INVOKE_PATH, &[], body, wait)
}

/// Everything `pipe` holds until it closes, read on a thread.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut pipe = pipe;
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        text(&s)
    })
}

/// SIGTERM, then its exit status must say it stopped as asked.
fn stop(mut child: Spawned) {
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_goes_on_when_stdout_is_closed_after_the_address() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn_serve(&built_zip("x86_64"), tmp.path(), &[]);
    let stderr = drain(child.stderr.take().unwrap());
    let port = read_address(child.stdout.as_mut().unwrap());
    // Whoever started it read the address and went away.
    drop(child.stdout.take());
    for i in 0..5 {
        let (status, head, body) =
            invoke_on(port, format!("[{i}]").as_bytes(), Duration::from_secs(30));
        assert_eq!(status, 200, "{head}");
        assert_eq!(text(&body), echo_response(&format!("[\n    {i}\n]")));
    }
    let (status, head, _) = invoke_on(port, b"{oops", Duration::from_secs(30));
    assert_eq!(status, 200);
    assert!(head.contains("x-amz-function-error: unhandled"), "{head}");
    stop(child);
    let stderr = stderr.join().unwrap();
    assert_eq!(report_lines(&stderr).len(), 6, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_never_waits_for_readers_of_its_output() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn_serve(&fixture_zip(), tmp.path(), &[]);
    let port = read_address(child.stdout.as_mut().unwrap());
    // Nobody reads stdout or stderr from here on. Each invocation writes a JSON record of
    // over 1 KB to stdout, and the function's two log lines of as much and a REPORT line to
    // stderr: both pipes (64 KiB each on Linux) fill up within the first 60 invocations.
    // A server that waited for its readers would stop answering there; the generous bound
    // on each answer only catches that.
    for i in 0..200 {
        let event = format!("\"log:{i}:{}\"", "x".repeat(1000));
        let (status, head, body) = invoke_on(port, event.as_bytes(), Duration::from_secs(20));
        assert_eq!(status, 200, "invocation {i}: {head}");
        assert_eq!(text(&body), event, "invocation {i}");
    }
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    stop(child);
    let stderr = stderr.join().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("Stopped on signal"), "{stderr}");
    stdout.join().unwrap();
}

#[test]
fn serve_goes_on_when_stderr_is_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn_serve(&fixture_zip(), tmp.path(), &[]);
    // No reader on stderr from the start: every status, log and REPORT line meets EPIPE.
    drop(child.stderr.take());
    let mut stdout = child.stdout.take().unwrap();
    let port = read_address(&mut stdout);
    let wait = Duration::from_secs(30);
    assert_eq!(invoke_on(port, b"\"hello\"", wait).0, 200);
    // A crash, so a new process starts (with its status line) for the next event.
    let (status, _, body) = invoke_on(port, b"\"exit\"", wait);
    assert_eq!(status, 200);
    assert!(text(&body).contains("Runtime.ExitError"), "{}", text(&body));
    let (status, _, body) = invoke_on(port, b"\"again\"", wait);
    assert_eq!((status, text(&body).as_str()), (200, "\"again\""));
    let records = drain(stdout);
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "it panicked");
    assert!(status.success(), "{status:?}");
    assert_eq!(records.join().unwrap().lines().count(), 3);
}

#[test]
fn sighup_stops_serve_like_sigterm_and_removes_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&fixture_zip(), tmp.path());
    assert_eq!(server.invoke(b"\"hello\"").0, 200);
    server.record();
    let prefix = format!("xtask-invoke-{}-", server.pid());
    let scratch: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        scratch.iter().any(|name| name.starts_with(&prefix)),
        "the unpacked bootstrap is in TMPDIR while it serves: {scratch:?}"
    );
    // The terminal it ran in went away.
    let stderr = server.stop_with("HUP");
    assert!(stderr.contains("Stopped on signal"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the unpacked bootstrap is removed"
    );
}
