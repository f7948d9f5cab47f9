//! `cargo xtask bench stream`: a function that streams five chunks 400 ms apart, served by
//! `invoke --serve --http function-url`: the time to the first byte of the answer and to its
//! last, through the function URL (RESPONSE_STREAM), InvokeWithResponseStream, and the
//! buffered Invoke, which can only answer once the function is done. AWS SAM's local emulator
//! cannot stream (aws-sam-cli issue 6501): the buffered row is what it would give at best.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::group::{self, Group};
use super::table::Table;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::util::time::ms;

/// A Lambda runtime in a few lines of std: each event is answered with five chunks, 400 ms
/// apart, streamed (`Lambda-Runtime-Function-Response-Mode: streaming`), a function URL's
/// prelude first.
const RUNTIME: &str = r##"
use std::io::{Read, Write};
use std::net::TcpStream;

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap();
    loop {
        let mut s = TcpStream::connect(&api).unwrap();
        write!(s, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n").unwrap();
        let mut head = Vec::new();
        s.read_to_end(&mut head).unwrap();
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let id = head.lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id:"))
            .unwrap().trim().to_string();
        let mut s = TcpStream::connect(&api).unwrap();
        write!(s, "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\n\
                   Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
                   Connection: close\r\n\r\n").unwrap();
        let mut prelude = br#"{"statusCode":200,"headers":{"content-type":"text/plain"}}"#.to_vec();
        prelude.extend_from_slice(&[0; 8]);
        for i in 0..5 {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_millis(400));
            }
            let mut chunk = if i == 0 { prelude.clone() } else { Vec::new() };
            chunk.extend_from_slice(format!("chunk {i}\n").as_bytes());
            write!(s, "{:x}\r\n", chunk.len()).unwrap();
            s.write_all(&chunk).unwrap();
            s.write_all(b"\r\n").unwrap();
        }
        s.write_all(b"0\r\n\r\n").unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
}
"##;

/// The three ways to ask, as raw HTTP/1.1 requests.
const REQUESTS: [(&str, &str); 3] = [
    (
        "function URL (RESPONSE_STREAM)",
        "GET /stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ),
    (
        "InvokeWithResponseStream",
        "POST /2021-11-15/functions/function/response-streaming-invocations HTTP/1.1\r\n\
         Host: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    ),
    (
        "Invoke (buffered)",
        "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: localhost\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    ),
];

pub fn run(runs: usize) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    group::take_over_signals();
    let scratch = ScratchDir::create("bench-stream")?;
    let zip = streaming_zip(scratch.path())?;
    let port = crate::dev::moto::free_port()?;
    let xtask = std::env::current_exe().context("finding this binary")?;
    let mut serve = Command::new(xtask);
    serve
        .args(["invoke", "--serve", "--http", "function-url", "--port"])
        .arg(port.to_string())
        .arg("--zip")
        .arg(&zip);
    let log = scratch.path().join("serve.log");
    let mut server = Group::spawn("invoke --serve", serve, libc::SIGTERM, Some(&log))?;
    wait_for(port, &mut server)?;
    let mut table = Table::new(["5 chunks, 400 ms apart (median)", "first byte", "last byte"]);
    for (label, request) in REQUESTS {
        status("Measuring", format!("{label}, {runs} run(s)"));
        let mut first = Vec::new();
        let mut last = Vec::new();
        // One untimed run: the function's cold start is not what is measured.
        timed(port, request)?;
        for _ in 0..runs {
            let (to_first, to_last) = timed(port, request)?;
            first.push(to_first);
            last.push(to_last);
        }
        first.sort();
        last.sort();
        table.row([
            label.to_string(),
            format!("{:.0} ms", ms(first[first.len() / 2])),
            format!("{:.0} ms", ms(last[last.len() / 2])),
        ]);
    }
    server.stop();
    print!("{}", table.render());
    Ok(())
}

/// The streaming runtime, compiled with rustc for x86_64 musl and zipped as `bootstrap`.
fn streaming_zip(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let source = dir.join("stream.rs");
    std::fs::write(&source, RUNTIME)?;
    let binary = dir.join("bootstrap");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args([
            "--edition=2021",
            "-O",
            "--target",
            "x86_64-unknown-linux-musl",
        ])
        .args(["-Clinker=rust-lld", "-Crelocation-model=static", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .context("running rustc")?;
    if !out.status.success() {
        bail!(
            "compiling the streaming runtime: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let zip = dir.join("stream.zip");
    std::fs::write(
        &zip,
        xtask::bootstrap_zip::zip_bootstrap(&std::fs::read(&binary)?, 1)?,
    )?;
    Ok(zip)
}

/// Waits until the server listens on `port` (a minute at most).
fn wait_for(port: u16, server: &mut Group) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if server.exited()?.is_some() || Instant::now() > deadline {
            bail!("the server did not start: {}", server.log_tail(20));
        }
        group::pause(Duration::from_millis(50))?;
    }
    Ok(())
}

/// Sends `request`; the time to the first byte of the answer's body, and to its end.
fn timed(port: u16, request: &str) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(request.as_bytes())?;
    let mut seen = Vec::new();
    let mut first = None;
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).context("reading the answer")?;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let body_started = seen
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .is_some_and(|end| seen.len() > end + 4);
        if first.is_none() && body_started {
            first = Some(started.elapsed());
        }
    }
    let last = started.elapsed();
    if !String::from_utf8_lossy(&seen).contains("chunk 4") {
        bail!(
            "the answer lacks the last chunk: {}",
            String::from_utf8_lossy(&seen)
        );
    }
    Ok((first.unwrap_or(last), last))
}
