//! What an invocation prints: the payload (or a JSON record) on stdout, the REPORT line on stderr.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::value::RawValue;

use super::invocation::{Invocation, ReportStatus};
use crate::util::time::ms_to_micros;

/// One invocation as a `--json` line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    request_id: &'a str,
    status: ReportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    payload: Payload<'a>,
    duration_ms: f64,
    billed_duration_ms: u64,
    memory_size_mb: u32,
    max_memory_used_mb: u64,
    init_duration_ms: Option<f64>,
    pid: u32,
}

/// The payload as JSON when it is JSON (kept byte for byte), else as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Json(&'a RawValue),
    Text(String),
}

fn payload_for_json(bytes: &[u8]) -> Payload<'_> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| serde_json::from_str::<&RawValue>(s).ok())
        .map_or_else(
            || Payload::Text(String::from_utf8_lossy(bytes).into_owned()),
            Payload::Json,
        )
}

/// The payload on stdout (or a JSON record with --json), the REPORT line on stderr.
pub(super) fn print_invocation(
    invocation: &Invocation,
    memory_mb: u32,
    json: bool,
    payload_to_stdout: bool,
) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        let record = Record {
            request_id: &invocation.request_id,
            status: invocation.status(),
            error_type: invocation.error_type(),
            payload: payload_for_json(invocation.payload()),
            duration_ms: ms_to_micros(invocation.duration),
            billed_duration_ms: invocation.billed_ms(),
            memory_size_mb: memory_mb,
            max_memory_used_mb: invocation.max_memory_mb(),
            init_duration_ms: invocation.init_duration.map(ms_to_micros),
            pid: invocation.pid,
        };
        serde_json::to_writer(&mut stdout, &record).context("writing the JSON record")?;
        stdout.write_all(b"\n").context("writing to stdout")?;
    } else if payload_to_stdout {
        stdout
            .write_all(invocation.payload())
            .and_then(|()| stdout.write_all(b"\n"))
            .context("writing the response to stdout")?;
    }
    stdout.flush().context("writing to stdout")?;
    eprintln!("{}", invocation.report_line(memory_mb));
    Ok(())
}
