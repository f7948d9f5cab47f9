//! `invoke` end to end: the real built bootstrap behind the local Runtime API, and a
//! small fixture runtime (built here with rustc) for timeouts, crashes and init errors.
//!
//! - `fixture`: the fixture runtime and its zip
//! - `run`: one-off runs (events from arguments, files, stdin), failures, arm64
//! - `serve`: `--serve`, the emulator endpoint, and a running server for the other tests
//! - `group`: a bootstrap's children end with it
//! - `output`: `--serve` with closed or unread stdout and stderr, and signals
//! - `api`: the endpoint as AWS SDKs and CLIs see it (boto3, the AWS CLI, IPv6 localhost)
//! - `stream`: streamed responses

mod api;
#[path = "../../../tests/common/mod.rs"]
mod common;
mod fixture;
mod gateway;
mod group;
mod output;
mod run;
mod serve;
mod stream;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use common::*;
use serde_json::Value;

use fixture::fixture_zip;

fn zip_arg(zip: &Path) -> [String; 2] {
    ["--zip".to_string(), zip.display().to_string()]
}

/// `xtask invoke ARGS` with `stdin` piped in.
fn invoke(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = xtask()
        .arg("invoke")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn invoke_zip(zip: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut all: Vec<&str> = vec!["--zip", zip.to_str().unwrap()];
    all.extend_from_slice(args);
    invoke(&all, stdin)
}

/// The real echo bootstrap, as built.
fn invoke_echo(args: &[&str], stdin: &[u8]) -> Output {
    invoke_zip(&built_zip("x86_64"), args, stdin)
}

fn invoke_fixture(args: &[&str], stdin: &[u8]) -> Output {
    invoke_zip(&fixture_zip(), args, stdin)
}

fn records(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {}", text(&out.stderr)))
        })
        .collect()
}

/// The members of every `--json` record, whatever its status (`errorType` null on success),
/// sorted.
const RECORD_MEMBERS: [&str; 10] = [
    "billedDurationMs",
    "durationMs",
    "errorType",
    "initDurationMs",
    "maxMemoryUsedMb",
    "memorySizeMb",
    "payload",
    "pid",
    "requestId",
    "status",
];

/// A record's member names, sorted (`Value` may or may not keep them in order).
fn record_members(record: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = record
        .as_object()
        .unwrap_or_else(|| panic!("a record is an object: {record}"))
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    names
}

fn report_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("REPORT RequestId: "))
        .collect()
}

/// What the echo function answers for `body`, exactly.
fn echo_response(pretty_body: &str) -> String {
    format!(
        "{{\"statusCode\":200,\"headers\":{{}},\"body\":{},\"isBase64Encoded\":false}}",
        serde_json::to_string(pretty_body).unwrap()
    )
}
