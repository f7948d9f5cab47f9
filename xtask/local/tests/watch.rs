//! `watch` on a copy of the workspace with a second function (made by `cargo xtask new`),
//! with real edits of the echo function's source: a change is served after a rebuild of that
//! function alone, a broken edit leaves the last good build serving and shows the compiler's
//! error, a fix is served again, and Ctrl-C leaves no process and no temp dir.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

/// The echo function's `/hello` through the front door, which routes by the first segment
/// when several functions are served.
const ECHO_HELLO: &str = "/echo-function/hello";

/// Polls until the answer's status is `want`, for at most `limit`.
fn wait_for_status(port: u16, want: u16, limit: Duration, log: &Mutex<String>) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Some((status, text)) = get(port, ECHO_HELLO) {
            if status == want {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {want} answer within {limit:?}; watch's stderr:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sets the status code the echo handler answers with (`status_code: 200,` in `echo`, not
/// the field's declaration).
fn set_status_code(lib: &Path, code: &str) {
    let text = std::fs::read_to_string(lib).unwrap();
    let start = text
        .match_indices("status_code: ")
        .map(|(i, m)| i + m.len())
        .find(|&i| text[i..].starts_with(|c: char| c.is_ascii_digit()))
        .expect("the handler sets status_code to a number");
    let end = start + text[start..].find(',').unwrap();
    std::fs::write(lib, format!("{}{code}{}", &text[..start], &text[end..])).unwrap();
}

/// The watch process, interrupted and reaped if the test fails before it stops it.
struct Watching(std::process::Child);

impl Drop for Watching {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn edits_are_served_broken_edits_are_not_and_ctrl_c_leaves_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let copy = parent.path().join("checkout");
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo", "function", "xtask"] {
        xtask::util::fs::copy_tree(&workspace_root().join(rel), &copy.join(rel)).unwrap();
    }
    let tmp = parent.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let in_copy = |cmd: &mut std::process::Command| {
        cmd.current_dir(&copy)
            .env_remove("XTASK_PROJECT_ROOT")
            .env("CARGO_MANIFEST_DIR", copy.join("xtask"))
            .env("CARGO_TARGET_DIR", copy.join("target"));
    };
    let mut new = xtask();
    new.args(["new", "alpha", "--http"]);
    in_copy(&mut new);
    let made = run(&mut new);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let mut child = Watching(
        xtask()
            .args(["watch", "--port", "0", "--json"])
            .current_dir(&copy)
            .env_remove("XTASK_PROJECT_ROOT")
            .env("CARGO_MANIFEST_DIR", copy.join("xtask"))
            .env("CARGO_TARGET_DIR", copy.join("target"))
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.0.stderr.take().unwrap();
    let sink = stderr_text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let address: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("{e}: {line}\n{}", stderr_text.lock().unwrap()));
    let port = address["port"].as_u64().unwrap() as u16;
    // The records on stdout name the bootstrap's pid; keep reading them.
    let pids = Arc::new(Mutex::new(Vec::<u64>::new()));
    let seen = pids.clone();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if let Ok(record) = serde_json::from_str::<Value>(&line) {
                if let Some(pid) = record["pid"].as_u64() {
                    seen.lock().unwrap().push(pid);
                }
            }
        }
    });

    let first = wait_for_status(port, 200, Duration::from_secs(30), &stderr_text);
    assert!(first.contains("\"path\": \"/hello\""), "{first}");
    // The other function answers at its own prefix.
    let alpha = get(port, "/alpha/hello?name=z").unwrap();
    assert!(alpha.1.ends_with(r#"{"hello":"z"}"#), "{}", alpha.1);

    let lib = copy.join("function/src/lib.rs");
    set_status_code(&lib, "203");
    wait_for_status(port, 203, Duration::from_secs(600), &stderr_text);

    // A broken edit: the compiler's error is shown, the last good build keeps serving.
    let good = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{good}\nfn broken( {{\n")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !stderr_text.lock().unwrap().contains("the last good build") {
        assert!(Instant::now() < deadline, "{}", stderr_text.lock().unwrap());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        stderr_text.lock().unwrap().contains("error"),
        "the compiler's error is shown"
    );
    assert_eq!(get(port, ECHO_HELLO).unwrap().0, 203);

    // Fixed: served again.
    std::fs::write(&lib, &good).unwrap();
    set_status_code(&lib, "204");
    wait_for_status(port, 204, Duration::from_secs(600), &stderr_text);

    // Only the edited function was rebuilt and reloaded; the other kept its process.
    let log = stderr_text.lock().unwrap().clone();
    assert!(
        log.contains("Reloaded echo-function: the next invocation"),
        "{log}"
    );
    assert!(!log.contains("alpha: "), "alpha was rebuilt: {log}");
    let alpha = get(port, "/alpha/hello?name=z").unwrap();
    assert!(alpha.1.ends_with(r#"{"hello":"z"}"#), "{}", alpha.1);

    // Ctrl-C: the server stops, with its bootstraps and its private directories.
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.0.wait().unwrap();
    reader.join().unwrap();
    assert!(
        status.success(),
        "{status:?}\n{}",
        stderr_text.lock().unwrap()
    );
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "temp files left behind: {left:?}");
    let pids = pids.lock().unwrap().clone();
    assert!(pids.len() >= 3, "{pids:?}");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "bootstrap {pid} still runs"
        );
    }
}
