//! A fault-injecting HTTP proxy in front of moto: moto never throttles and ignores RevisionId,
//! so the tests make those answers here, N times for a chosen Lambda operation, then forward.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// What to do instead of (or on top of) forwarding.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with a Lambda error: status, `x-amzn-ErrorType`, message.
    Error(u16, &'static str, &'static str),
    /// Forward, then merge these fields into the function configuration in the answer.
    Patch(Value),
}

#[derive(Debug, Clone)]
struct Rule {
    operation: &'static str,
    remaining: usize,
    fault: Fault,
}

/// One request that reached the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub operation: &'static str,
    pub path: String,
    pub body: Vec<u8>,
    pub faulted: bool,
}

pub struct Proxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    rules: Arc<Mutex<Vec<Rule>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = Proxy {
            addr,
            seen: Default::default(),
            rules: Default::default(),
            stop: Default::default(),
        };
        let (seen, rules, stop) = (proxy.seen.clone(), proxy.rules.clone(), proxy.stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (seen, rules) = (seen.clone(), rules.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, upstream, &seen, &rules);
                });
            }
        });
        proxy
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` to the next `times` requests for `operation` (e.g. "UpdateFunctionCode").
    pub fn fail(&self, operation: &'static str, times: usize, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            operation,
            remaining: times,
            fault,
        });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn operations(&self) -> Vec<&'static str> {
        self.seen().iter().map(|s| s.operation).collect()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .count()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// The Lambda operation a REST request is, from its method and path.
pub fn operation_of(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", [_, "functions"]) => "CreateFunction",
        ("GET", [_, "functions", _]) => "GetFunction",
        ("GET", [_, "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", [_, "functions", _, "code"]) => "UpdateFunctionCode",
        ("POST", [_, "functions", _, "versions"]) => "PublishVersion",
        ("GET", [_, "functions", _, "versions"]) => "ListVersionsByFunction",
        ("POST", [_, "functions", _, "aliases"]) => "CreateAlias",
        ("PUT", [_, "functions", _, "aliases", _]) => "UpdateAlias",
        ("GET", [_, "functions", _, "aliases", _]) => "GetAlias",
        _ => "Other",
    }
}

fn read_message(
    reader: &mut BufReader<TcpStream>,
) -> std::io::Result<(String, Vec<String>, Vec<u8>)> {
    let mut start = String::new();
    reader.read_line(&mut start)?;
    let mut headers = Vec::new();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        headers.push(line);
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok((start, headers, body))
}

/// Writes one message with a fresh Content-Length and `Connection: close`, so every exchange
/// ends the connection and no body framing has to be tracked across requests.
fn write_message(
    stream: &mut TcpStream,
    start_line: &str,
    headers: &[String],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("{}\r\n", start_line.trim_end());
    for h in headers {
        let lower = h.to_ascii_lowercase();
        let framing = [
            "content-length:",
            "transfer-encoding:",
            "connection:",
            "expect:",
        ];
        if framing.iter().any(|f| lower.starts_with(f)) {
            continue;
        }
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    seen: &Mutex<Vec<Seen>>,
    rules: &Mutex<Vec<Rule>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let (start, headers, body) = read_message(&mut reader)?;
    let mut words = start.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_string(),
        words.next().unwrap_or("").to_string(),
    );
    let operation = operation_of(&method, &path);
    let fault = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.operation == operation && r.remaining > 0)
            .map(|r| {
                r.remaining -= 1;
                r.fault.clone()
            })
    };
    seen.lock().unwrap().push(Seen {
        operation,
        path: path.clone(),
        body: body.clone(),
        faulted: matches!(fault, Some(Fault::Error(..))),
    });

    if let Some(Fault::Error(status, kind, message)) = &fault {
        let reason = match status {
            409 => "Conflict",
            412 => "Precondition Failed",
            429 => "Too Many Requests",
            403 => "Forbidden",
            _ => "Error",
        };
        let origin = if *status >= 500 { "Service" } else { "User" };
        let body = serde_json::json!({"Type": origin, "message": message}).to_string();
        write_message(
            &mut client,
            &format!("HTTP/1.1 {status} {reason}"),
            &[
                "Content-Type: application/json".to_string(),
                format!("x-amzn-ErrorType: {kind}"),
                "x-amzn-RequestId: 00000000-0000-0000-0000-000000000000".to_string(),
            ],
            body.as_bytes(),
        )?;
        return Ok(());
    }

    // Forward with `Connection: close`, so the upstream answer ends at EOF.
    let mut up = TcpStream::connect(upstream)?;
    write_message(
        &mut up,
        &format!("{method} {path} HTTP/1.1"),
        &headers,
        &body,
    )?;
    let mut up_reader = BufReader::new(up);
    let (status_line, up_headers, mut up_body) = read_message(&mut up_reader)?;

    if let Some(Fault::Patch(fields)) = &fault {
        if let Ok(mut json) = serde_json::from_slice::<Value>(&up_body) {
            let target = if json.get("Configuration").is_some() {
                &mut json["Configuration"]
            } else {
                &mut json
            };
            if let (Some(target), Some(fields)) = (target.as_object_mut(), fields.as_object()) {
                for (k, v) in fields {
                    target.insert(k.clone(), v.clone());
                }
            }
            up_body = serde_json::to_vec(&json).unwrap();
        }
    }
    write_message(&mut client, &status_line, &up_headers, &up_body)
}
