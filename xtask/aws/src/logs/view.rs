//! What `logs` prints for each event (pure): a line for people, START/END folded into the
//! invocation's REPORT line, or one JSON object. A line the function wrote without naming its
//! request gets the request its log stream was running (one execution environment runs one
//! invocation at a time, START to END).

use std::collections::HashMap;

use serde::Serialize;
use xtask::lambda::report::{Report, ReportStatus};
use xtask::util::time::rfc3339_ms;

use super::entry::{parse, Kind};
use crate::model::log::{stream_version, LogEvent};

/// One event, read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub version: Option<String>,
    pub request_id: Option<String>,
    /// `start`, `end`, `report`, `platform` or `log`.
    pub kind: &'static str,
    pub level: Option<String>,
    /// The function's message (without tracing's level and spans), or Lambda's line.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    pub stream: String,
    pub event_id: Option<String>,
}

/// Reads events in order, remembering which request each log stream is running.
#[derive(Debug, Default)]
pub struct Reader {
    running: HashMap<String, String>,
}

impl Reader {
    pub fn read(&mut self, event: &LogEvent) -> Entry {
        let kind = parse(&event.message);
        let request_id = match &kind {
            Kind::Start { request_id, .. } => {
                self.running
                    .insert(event.stream.clone(), request_id.clone());
                Some(request_id.clone())
            }
            Kind::Report(report) => {
                self.running.remove(&event.stream);
                Some(report.request_id.clone())
            }
            Kind::Log {
                request_id: None, ..
            } => self.running.get(&event.stream).cloned(),
            other => other.request_id().map(str::to_string),
        };
        let (name, level, message, report) = match kind {
            Kind::Start { .. } => ("start", None, one_line(&event.message), None),
            Kind::End { .. } => ("end", None, one_line(&event.message), None),
            Kind::Report(report) => ("report", None, one_line(&event.message), Some(report)),
            Kind::Platform(_) => ("platform", None, one_line(&event.message), None),
            Kind::Log { level, message, .. } => ("log", level, message, None),
        };
        Entry {
            time: rfc3339_ms(event.timestamp),
            timestamp: event.timestamp,
            version: stream_version(&event.stream).map(str::to_string),
            request_id,
            kind: name,
            level,
            message,
            report,
            stream: event.stream.clone(),
            event_id: event.event_id.clone(),
        }
    }
}

fn one_line(message: &str) -> String {
    message.trim_end().to_string()
}

/// `text` safe for a terminal: control characters (a logged request could carry escape
/// sequences) written as `\u{..}`, tabs kept.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The line for people, `None` for what the REPORT line folds in (START, END, Lambda's
/// other lines).
pub fn human(entry: &Entry) -> Option<String> {
    human_raw(entry).map(|line| printable(&line))
}

fn human_raw(entry: &Entry) -> Option<String> {
    let version = entry
        .version
        .as_deref()
        .map_or(String::new(), |v| format!(" [{v}]"));
    let request = entry.request_id.as_deref().unwrap_or("-");
    let head = format!("{}{version} {request}", entry.time);
    match (&entry.report, entry.kind) {
        (Some(report), _) => Some(format!("{head} REPORT {}", summary(report))),
        (None, "log") => {
            let level = entry.level.as_deref().unwrap_or("-");
            let message = entry.message.trim_end();
            Some(format!("{head} {level:<5} {message}"))
        }
        _ => None,
    }
}

/// `2.51 ms (billed 28 ms), 14 of 128 MB, cold start (init 24.66 ms), ERROR Runtime.ExitError`
pub fn summary(report: &Report) -> String {
    let mut line = format!(
        "{:.2} ms (billed {} ms), {} of {} MB",
        report.duration_ms, report.billed_ms, report.max_memory_used_mb, report.memory_mb
    );
    if let Some(init) = report.init_ms {
        line.push_str(&format!(", cold start (init {init:.2} ms)"));
    }
    match &report.status {
        ReportStatus::Success => {}
        ReportStatus::Timeout => line.push_str(", TIMED OUT"),
        ReportStatus::Error(kind) => {
            line.push_str(", ERROR");
            if let Some(kind) = kind {
                line.push_str(&format!(" {kind}"));
            }
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream: &str, timestamp: i64, message: &str) -> LogEvent {
        LogEvent {
            event_id: Some(format!("{timestamp}")),
            stream: stream.into(),
            timestamp,
            message: message.into(),
        }
    }

    #[test]
    fn an_invocation_folds_into_its_report_line() {
        let s = "2026/12/03/[7]abc";
        let t = 1_796_292_000_000;
        let mut reader = Reader::default();
        let lines: Vec<Option<String>> = [
            "INIT_START Runtime Version: provided:al2023.v50\n",
            "START RequestId: r1 Version: 7\n",
            "  INFO Lambda runtime invoke{requestId=\"r1\"}: echoing\n",
            "plain println from the handler\n",
            "END RequestId: r1\n",
            "REPORT RequestId: r1\tDuration: 2.51 ms\tBilled Duration: 28 ms\tMemory Size: 128 MB\t\
             Max Memory Used: 14 MB\tInit Duration: 24.66 ms\t\n",
            "after the invocation\n",
        ]
        .iter()
        .enumerate()
        .map(|(i, m)| human(&reader.read(&event(s, t + i as i64, m))))
        .collect();
        assert_eq!(
            lines,
            [
                None,
                None,
                Some("2026-12-03T10:00:00.002Z [7] r1 INFO  echoing".into()),
                Some("2026-12-03T10:00:00.003Z [7] r1 -     plain println from the handler".into()),
                None,
                Some(
                    "2026-12-03T10:00:00.005Z [7] r1 REPORT 2.51 ms (billed 28 ms), 14 of 128 \
                     MB, cold start (init 24.66 ms)"
                        .into()
                ),
                Some("2026-12-03T10:00:00.006Z [7] - -     after the invocation".into()),
            ]
        );
    }

    #[test]
    fn escape_sequences_do_not_reach_the_terminal() {
        let mut reader = Reader::default();
        let entry = reader.read(&event(
            "2026/12/03/[1]x",
            0,
            "{\"level\":\"INFO\",\"message\":\"\\u001b]52;c;aGk=\\u0007 \\r done\",\"requestId\":\"\\u001b[31mr\"}",
        ));
        let line = human(&entry).unwrap();
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("\\u{1b}]52;c;aGk="), "{line}");
    }

    #[test]
    fn failures_are_marked_and_json_keeps_every_field() {
        let mut reader = Reader::default();
        let timed_out = reader.read(&event(
            "2026/12/03/[$LATEST]x",
            0,
            "REPORT RequestId: r2 Duration: 3000.00 ms Billed Duration: 3000 ms Memory Size: \
             128 MB Max Memory Used: 20 MB Status: timeout",
        ));
        assert!(human(&timed_out)
            .unwrap()
            .ends_with("20 of 128 MB, TIMED OUT"));
        let json = serde_json::to_value(&timed_out).unwrap();
        assert_eq!(json["kind"], "report");
        assert_eq!(json["version"], "$LATEST");
        assert_eq!(json["request_id"], "r2");
        assert_eq!(json["report"]["status"], "timeout");
        assert_eq!(json["report"]["billed_ms"], 3000);
        assert_eq!(json["time"], "1970-01-01T00:00:00.000Z");
        let failed = Report {
            status: ReportStatus::Error(Some("Runtime.ExitError".into())),
            ..timed_out.report.unwrap()
        };
        assert!(summary(&failed).ends_with("ERROR Runtime.ExitError"));
    }
}
