//! A Lambda runtime in a few lines of std, built with rustc for x86_64 musl and zipped once
//! per test process: it answers each event by what the event says.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::rustc_fixture;

/// A Lambda runtime in a few lines of std: it answers each event by what the event says.
const FIXTURE: &str = r##"
use std::io::{Read, Write};
use std::net::TcpStream;

fn call(api: &str, method: &str, path: &str, body: &[u8]) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(api).expect("connect to the Runtime API");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    (String::from_utf8_lossy(&buf[..split]).into_owned(), buf[split + 4..].to_vec())
}

fn header(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A streamed response: each chunk, `pause` apart, then the end with `trailers` (or none);
/// before the chunk at `wait.0`, waits until the file `wait.1` exists.
fn stream(api: &str, id: &str, chunks: &[Vec<u8>], pause: u64, trailers: &str, wait: Option<(usize, &str)>) {
    let mut s = TcpStream::connect(api).expect("connect to the Runtime API");
    write!(s, "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\n\
               Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
               Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\
               Connection: close\r\n\r\n").unwrap();
    for (i, chunk) in chunks.iter().enumerate() {
        if let Some((at, file)) = wait {
            while i == at && !std::path::Path::new(file).exists() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        write!(s, "{:x}\r\n", chunk.len()).unwrap();
        s.write_all(chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
        s.flush().unwrap();
    }
    write!(s, "0\r\n{trailers}\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_default()
}

fn main() {
    let api = env("AWS_LAMBDA_RUNTIME_API");
    if env("AWS_LAMBDA_FUNCTION_NAME") == "init-error" {
        eprintln!("fixture: giving up during init");
        call(&api, "POST", "/2018-06-01/runtime/init/error",
             br#"{"errorType":"Fixture.InitFailed","errorMessage":"settings missing"}"#);
        std::process::exit(1);
    }
    loop {
        let (head, body) = call(&api, "GET", "/2018-06-01/runtime/invocation/next", b"");
        let id = header(&head, "lambda-runtime-aws-request-id");
        let respond = |body: &[u8]| {
            call(&api, "POST", &format!("/2018-06-01/runtime/invocation/{id}/response"), body)
        };
        // "disk full", as lambda_runtime reports a stream's error (base64).
        const ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n";
        const ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body: ZGlzayBmdWxs\r\n";
        let text = String::from_utf8_lossy(&body).trim_matches('"').to_string();
        if let Some(rest) = text.strip_prefix("stream:") {
            // "stream:N:MS": N chunks, MS apart.
            let (n, ms) = rest.split_once(':').unwrap();
            let chunks: Vec<Vec<u8>> = (0..n.parse::<usize>().unwrap())
                .map(|i| format!("chunk {i}\n").into_bytes())
                .collect();
            stream(&api, &id, &chunks, ms.parse().unwrap(), "", None);
            continue;
        }
        if let Some(file) = text.strip_prefix("stream-wait:") {
            stream(&api, &id, &[b"first\n".to_vec(), b"second\n".to_vec()], 0, "", Some((1, file)));
            continue;
        }
        if let Some(bytes) = text.strip_prefix("stream-big:") {
            let total: usize = bytes.parse().unwrap();
            let chunks: Vec<Vec<u8>> = (0..total)
                .step_by(65536)
                .map(|at| vec![b'x'; (total - at).min(65536)])
                .collect();
            stream(&api, &id, &chunks, 0, "", None);
            continue;
        }
        // Behind a function URL: a prelude, the first chunk, then (once the file the query's
        // `gate=` names exists) the second.
        if contains(&body, b"/front-door-stream") {
            let text = String::from_utf8_lossy(&body).into_owned();
            let query = text.split("\"rawQueryString\":\"").nth(1).unwrap_or_default();
            let gate = query.split('"').next().unwrap_or_default().trim_start_matches("gate=").to_string();
            let mut head = br#"{"statusCode":201,"headers":{"content-type":"text/plain","x-fixture":"stream"},"cookies":["a=1"]}"#.to_vec();
            head.extend_from_slice(&[0u8; 8]);
            head.extend_from_slice(b"first\n");
            stream(&api, &id, &[head, b"second\n".to_vec()], 0, "", Some((1, &gate)));
            continue;
        }
        match text.as_str() {
            "stream-fail-trailer" => {
                stream(&api, &id, &[b"partial\n".to_vec()], 0, &format!("{ERROR_TYPE}{ERROR_BODY}"), None);
                continue;
            }
            "stream-fail-inbody" => {
                let error = format!("{ERROR_TYPE}{ERROR_BODY}").into_bytes();
                stream(&api, &id, &[b"partial\n".to_vec(), error], 0, "", None);
                continue;
            }
            _ => {}
        }
        match &body[..] {
            b"\"sleep\"" => loop { std::thread::sleep(std::time::Duration::from_secs(60)) },
            b"\"exit\"" => std::process::exit(3),
            b"\"abort\"" => std::process::abort(),
            // Behind the front door the event is a whole API Gateway event: a path says what
            // to do.
            _ if contains(&body, b"/front-door-crash") => std::process::exit(3),
            _ if contains(&body, b"/front-door-sleep") => loop {
                std::thread::sleep(std::time::Duration::from_secs(60))
            },
            _ if contains(&body, b"/front-door-proxy") => {
                respond(br#"{"statusCode":201,"headers":{"x-fixture":"yes"},"multiValueHeaders":{"set-cookie":["a=1","b=2"]},"body":"aGk=","isBase64Encoded":true}"#);
            }
            b"\"env\"" => {
                let mut out = String::from("{");
                for key in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                            "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME",
                            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "_HANDLER", "HOME"] {
                    out.push_str(&format!("\"{key}\":\"{}\",", env(key)));
                }
                for key in ["lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn",
                            "lambda-runtime-trace-id"] {
                    out.push_str(&format!("\"{key}\":\"{}\",", header(&head, key)));
                }
                out.push_str(&format!("\"id\":\"{id}\",\"pid\":{}}}", std::process::id()));
                respond(out.as_bytes());
            }
            b"\"bad-id\"" => {
                let (status, _) = call(&api, "POST", "/2018-06-01/runtime/invocation/nope/response", b"1");
                respond(format!("\"{}\"", status.lines().next().unwrap_or_default()).as_bytes());
            }
            // "log:…": the event on stdout and on stderr (both are the function's logs),
            // then as the answer.
            _ if body.starts_with(b"\"log:") => {
                println!("fixture stdout: {}", String::from_utf8_lossy(&body));
                eprintln!("fixture stderr: {}", String::from_utf8_lossy(&body));
                respond(&body);
            }
            // "spawn:FILE", "spawn-and-sleep:FILE", "spawn-and-exit:FILE": start a child
            // process (a long `sleep`), write its pid to FILE, then answer with the pid, run
            // past any timeout, or exit.
            _ if body.starts_with(b"\"spawn") => {
                let text = String::from_utf8_lossy(&body[1..body.len() - 1]).into_owned();
                let (what, file) = text.split_once(':').expect("spawn…:FILE");
                let child = std::process::Command::new("/bin/sleep")
                    .arg("120")
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("starting /bin/sleep");
                let pid = child.id().to_string();
                std::fs::write(format!("{file}.part"), &pid).unwrap();
                std::fs::rename(format!("{file}.part"), file).unwrap();
                match what {
                    "spawn" => {
                        respond(pid.as_bytes());
                    }
                    "spawn-and-exit" => std::process::exit(3),
                    _ => loop { std::thread::sleep(std::time::Duration::from_secs(60)) },
                }
            }
            _ => {
                respond(&body);
            }
        }
    }
}
"##;

/// The fixture as a deployment zip, built once per test process.
pub(crate) fn fixture_zip() -> PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("invoke-fixture");
        std::fs::create_dir_all(&dir).unwrap();
        let binary = rustc_fixture(
            &dir,
            "fixture",
            FIXTURE,
            &[
                "--target",
                "x86_64-unknown-linux-musl",
                "-Clinker=rust-lld",
                "-Crelocation-model=static",
            ],
        );
        let zip = xtask::bootstrap_zip::zip_bootstrap(&std::fs::read(binary).unwrap(), 1).unwrap();
        let path = dir.join("fixture.zip");
        std::fs::write(&path, zip).unwrap();
        path
    })
    .clone()
}
