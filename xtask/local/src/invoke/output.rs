//! What an invocation prints: the payload (or a JSON record) for stdout, the REPORT line for
//! stderr; [`Console`](super::console::Console) writes them.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::value::RawValue;

use super::invocation::{Invocation, ReportStatus};
use xtask::util::time::ms_to_micros;

/// One invocation as a `--json` line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    request_id: &'a str,
    status: ReportStatus,
    /// Null on success: every record has the same members, which readers prefer.
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

/// What an invocation prints: the line for stdout, if any (the payload, or a JSON record
/// with `json`), and the REPORT line for stderr.
pub(super) fn invocation_output(
    invocation: &Invocation,
    memory_mb: u32,
    json: bool,
    payload_to_stdout: bool,
) -> Result<(Option<Vec<u8>>, String)> {
    let result = if json {
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
        Some(serde_json::to_vec(&record).context("writing the JSON record")?)
    } else if payload_to_stdout {
        Some(invocation.payload().to_vec())
    } else {
        None
    };
    Ok((result, invocation.report_line(memory_mb)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hyper::body::Bytes;

    use super::*;
    use crate::invoke::InvocationOutcome;

    fn answered(payload: &'static [u8]) -> Invocation {
        Invocation {
            request_id: "id".into(),
            outcome: InvocationOutcome::Response(Bytes::from_static(payload)),
            duration: Duration::from_millis(2),
            init_duration: None,
            max_memory_kb: 1024,
            pid: 7,
            logs: Vec::new(),
            streamed: false,
        }
    }

    #[test]
    fn a_record_keeps_json_payloads_as_they_are_and_quotes_the_rest() {
        let (record, report) =
            invocation_output(&answered(b"{\"b\":1, \"a\":2}"), 128, true, false).unwrap();
        let record = String::from_utf8(record.unwrap()).unwrap();
        assert!(record.contains(r#""payload":{"b":1, "a":2}"#), "{record}");
        assert!(record.contains(r#""errorType":null,"#), "{record}");
        assert!(report.starts_with("REPORT RequestId: id "), "{report}");
        let (record, _) = invocation_output(&answered(b"not json"), 128, true, false).unwrap();
        let record = String::from_utf8(record.unwrap()).unwrap();
        assert!(record.contains(r#""payload":"not json""#), "{record}");
    }

    #[test]
    fn the_payload_goes_to_stdout_only_when_asked() {
        let (out, _) = invocation_output(&answered(b"[1]"), 128, false, true).unwrap();
        assert_eq!(out.as_deref(), Some(&b"[1]"[..]));
        let (out, _) = invocation_output(&answered(b"[1]"), 128, false, false).unwrap();
        assert_eq!(out, None);
    }
}
