//! `--serve`: the Runtime Interface Emulator's endpoint, and [`Server`], a running one
//! for the tests of the endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::*;
use crate::*;

/// The emulator's invoke path, for any function name.
pub(crate) const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// An HTTP answer: the status code, the head (lower-cased) and the body.
pub(crate) type Answer = (u16, String, Vec<u8>);

/// A spawned server, killed when dropped, so that a failing test leaves none behind.
pub(crate) struct Spawned(Child);

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `xtask invoke --serve --port 0 --json --zip ZIP ARGS`, with TMPDIR `tmp`, its stdout
/// and stderr piped to us.
pub(crate) fn spawn_serve(zip: &Path, tmp: &Path, args: &[&str]) -> Spawned {
    let child = xtask()
        .args(["invoke", "--serve", "--port", "0", "--json"])
        .args(zip_arg(zip))
        .args(args)
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Spawned(child)
}

/// The first line on the server's stdout, `{"url":…,"port":…,"addresses":[…]}` in that
/// order (the README's), read byte by byte so nothing after it is consumed; returns the port.
pub(crate) fn read_address(stdout: &mut ChildStdout) -> u16 {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).expect("reading the server's stdout") == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let first: Value = serde_json::from_slice(&line)
        .unwrap_or_else(|e| panic!("the server prints its address first ({e}): {}", text(&line)));
    // On the raw text: `Value` may sort the keys.
    let raw = text(&line);
    let at = |key: &str| {
        raw.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no {key} in the address line: {raw}"))
    };
    assert!(
        raw.starts_with(r#"{"url":"#) && at("url") < at("port") && at("port") < at("addresses"),
        "the address line's keys are url, port, addresses in that order: {raw}"
    );
    assert_eq!(first.as_object().unwrap().len(), 3, "{raw}");
    assert!(first["addresses"].is_array(), "{raw}");
    assert!(
        first["url"].as_str().unwrap().ends_with(INVOKE_PATH),
        "{first}"
    );
    first["port"].as_u64().unwrap() as u16
}

/// One HTTP/1.1 POST with `headers`, answered within `wait`.
pub(crate) fn post(
    to: impl ToSocketAddrs,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    wait: Duration,
) -> Answer {
    let mut s = TcpStream::connect(to).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // A refused request may be answered before its body is read.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .unwrap_or_else(|e| panic!("no answer to POST {path} within {wait:?}: {e}"));
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {:?}", text(&buf)));
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), buf[split + 4..].to_vec())
}

/// `kill -SIGNAL pid`.
pub(crate) fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}

/// A running `invoke --serve`, its stdout read as JSON records, killed on drop.
pub(crate) struct Server {
    child: Spawned,
    pub port: u16,
    records: std::sync::mpsc::Receiver<Value>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    pub(crate) fn start(zip: &Path, tmp: &Path) -> Server {
        Server::start_with(zip, tmp, &[])
    }

    pub(crate) fn start_with(zip: &Path, tmp: &Path, args: &[&str]) -> Server {
        let mut child = spawn_serve(zip, tmp, args);
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let mut stdout = child.stdout.take().unwrap();
        let port = read_address(&mut stdout);
        let (tx, records) = std::sync::mpsc::channel::<Value>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            port,
            records,
            stderr: Some(stderr),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One HTTP/1.1 exchange on 127.0.0.1.
    pub(crate) fn post(&self, path: &str, body: &[u8]) -> Answer {
        post(
            ("127.0.0.1", self.port),
            path,
            &[],
            body,
            Duration::from_secs(30),
        )
    }

    pub(crate) fn invoke(&self, body: &[u8]) -> Answer {
        self.post(INVOKE_PATH, body)
    }

    pub(crate) fn record(&self) -> Value {
        self.records.recv_timeout(Duration::from_secs(30)).unwrap()
    }

    /// SIGTERM, as a service manager stops it; returns its stderr.
    pub(crate) fn stop(self) -> String {
        self.stop_with("TERM")
    }

    /// Stops it with `sig`, which it must take as a request to stop; returns its stderr.
    pub(crate) fn stop_with(self, sig: &str) -> String {
        signal(self.child.id(), sig);
        self.finish()
    }

    /// Waits for it to exit, which it must do with success; returns its stderr.
    pub(crate) fn finish(mut self) -> String {
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        assert!(status.success(), "{status:?}\n{stderr}");
        stderr
    }
}

#[test]
fn serve_answers_the_emulator_endpoint_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&built_zip("x86_64"), tmp.path());
    let (status, head, body) = server.invoke(br#"{"via":"http"}"#);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(text(&body), echo_response("{\n    \"via\": \"http\"\n}"));
    let first = server.record();
    assert!(!first["initDurationMs"].is_null());
    assert_eq!(first["status"], "success");
    assert_eq!(record_members(&first), RECORD_MEMBERS, "{first}");
    assert_eq!(first["errorType"], Value::Null);

    // Warm: the same process, no init.
    let (status, _, body) = server.invoke(b"[1]");
    assert_eq!(status, 200);
    assert_eq!(text(&body), echo_response("[\n    1\n]"));
    let second = server.record();
    assert_eq!(second["pid"], first["pid"]);
    assert!(second["initDurationMs"].is_null());

    // The function's error is marked as the Invoke API marks it.
    let (status, head, body) = server.invoke(b"{oops");
    assert_eq!(status, 200);
    assert!(head.contains("x-amz-function-error: unhandled"), "{head}");
    assert!(text(&body).contains("DeserializeError"), "{}", text(&body));
    let error = server.record();
    assert_eq!(error["status"], "error");
    assert_eq!(record_members(&error), RECORD_MEMBERS, "{error}");
    assert_eq!(error["errorType"], error["payload"]["errorType"], "{error}");
    assert!(error["errorType"].is_string(), "{error}");

    // Lambda's request limit, and paths that are not the endpoint.
    let (status, _, body) = server.invoke(&vec![b' '; 6_291_457]);
    assert_eq!(status, 413);
    assert!(text(&body).contains("6291456"), "{}", text(&body));
    let (status, _, _) = server.post("/2015-03-31/functions/function/other", b"{}");
    assert_eq!(status, 404);

    let pid = first["pid"].as_u64().unwrap();
    let stderr = server.stop();
    let reports = report_lines(&stderr);
    assert_eq!(reports.len(), 3, "{stderr}");
    // The function's log line for each invocation it handled comes before its REPORT line,
    // as on Lambda.
    for report in reports.iter().filter(|r| !r.contains("Status: error")) {
        let id = report.split(' ').nth(2).unwrap();
        let logged = stderr.find(&format!("echoing event request_id={id}"));
        assert!(
            logged.is_some_and(|at| at < stderr.find(report).unwrap()),
            "{stderr}"
        );
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "{pid} left running"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the unpacked bootstrap is removed"
    );
}

#[test]
fn serve_restarts_the_process_after_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&fixture_zip(), tmp.path());
    let (status, _, body) = server.invoke(b"\"first\"");
    assert_eq!((status, text(&body).as_str()), (200, "\"first\""));
    let first = server.record();

    let (status, head, body) = server.invoke(b"\"exit\"");
    assert_eq!(status, 200);
    assert!(head.contains("x-amz-function-error: unhandled"), "{head}");
    assert!(text(&body).contains("exit status 3"), "{}", text(&body));
    server.record();

    let (status, _, body) = server.invoke(b"\"again\"");
    assert_eq!((status, text(&body).as_str()), (200, "\"again\""));
    let again = server.record();
    assert_ne!(again["pid"], first["pid"]);
    assert!(!again["initDurationMs"].is_null());
    server.stop();
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
