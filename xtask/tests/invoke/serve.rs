//! `--serve`: the Runtime Interface Emulator's endpoint, and [`Server`], a running one
//! for the tests of the endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::*;
use crate::*;

/// A running `invoke --serve`, stopped with SIGTERM on drop.
struct Server {
    child: std::process::Child,
    url_port: u16,
    records: std::sync::mpsc::Receiver<Value>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn start(zip: &Path, tmp: &Path) -> Server {
        let mut child = xtask()
            .args(["invoke", "--serve", "--port", "0", "--json"])
            .args(zip_arg(zip))
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let (tx, records) = std::sync::mpsc::channel::<Value>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        let first = records
            .recv_timeout(Duration::from_secs(30))
            .expect("the server prints its address");
        assert!(first["url"]
            .as_str()
            .unwrap()
            .ends_with("/2015-03-31/functions/function/invocations"));
        Server {
            child,
            url_port: first["port"].as_u64().unwrap() as u16,
            records,
            stderr: Some(stderr),
        }
    }

    /// One HTTP/1.1 exchange: (status code, headers, body).
    fn post(&self, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.url_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        // A refused request may be answered before its body is read.
        let _ = s.write_all(body);
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&buf[..split]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), buf[split + 4..].to_vec())
    }

    fn invoke(&self, body: &[u8]) -> (u16, String, Vec<u8>) {
        self.post("/2015-03-31/functions/function/invocations", body)
    }

    fn record(&self) -> Value {
        self.records.recv_timeout(Duration::from_secs(30)).unwrap()
    }

    /// SIGTERM, as a service manager stops it; returns its stderr.
    fn stop(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    server.record();

    // Lambda's request limit, and paths that are not the endpoint.
    let (status, _, body) = server.invoke(&vec![b' '; 6_291_457]);
    assert_eq!(status, 413);
    assert!(text(&body).contains("6291456"), "{}", text(&body));
    let (status, _, _) = server.post("/2015-03-31/functions/function/other", b"{}");
    assert_eq!(status, 404);

    let pid = first["pid"].as_u64().unwrap();
    let stderr = server.stop();
    assert_eq!(report_lines(&stderr).len(), 3, "{stderr}");
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
