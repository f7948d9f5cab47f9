//! One log event read for what it says (pure): Lambda's START/END/REPORT lines and, with the
//! JSON log format, its platform records; the function's lines in lambda_runtime's text
//! format (tracing's, its span naming the request), in JSON (tracing's, or Lambda's own
//! shape), or anything else as it was written.

use serde_json::Value;
use xtask::lambda::report::{Report, ReportStatus};

/// What a log event is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `START RequestId: …` or `platform.start`.
    Start {
        request_id: String,
        version: Option<String>,
    },
    /// `END RequestId: …` or `platform.runtimeDone`.
    End { request_id: String },
    /// `REPORT RequestId: …` or `platform.report`.
    Report(Report),
    /// Another line of Lambda's own (`INIT_START`, `platform.initStart`, ...).
    Platform(String),
    /// A line the function wrote.
    Log {
        request_id: Option<String>,
        level: Option<String>,
        message: String,
    },
}

impl Kind {
    /// The request it belongs to, when it says.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Kind::Start { request_id, .. } | Kind::End { request_id } => Some(request_id),
            Kind::Report(report) => Some(&report.request_id),
            Kind::Log { request_id, .. } => request_id.as_deref(),
            Kind::Platform(_) => None,
        }
    }
}

const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// Reads one event's message.
pub fn parse(message: &str) -> Kind {
    let line = message.trim_end_matches(['\n', '\r']);
    if let Some(kind) = lambda_line(line) {
        return kind;
    }
    if line.trim_start().starts_with('{') {
        if let Ok(Value::Object(json)) = serde_json::from_str::<Value>(line) {
            let json = Value::Object(json);
            return platform_record(&json).unwrap_or_else(|| json_log(&json, line));
        }
    }
    text_log(&strip_ansi(line))
}

/// Lambda's text lines.
fn lambda_line(line: &str) -> Option<Kind> {
    if line.starts_with("REPORT RequestId: ") {
        return Report::parse(line).map(Kind::Report);
    }
    if let Some(rest) = line.strip_prefix("START RequestId: ") {
        let mut words = rest.split_whitespace();
        let request_id = words.next()?.to_string();
        let version = match (words.next(), words.next()) {
            (Some("Version:"), Some(version)) => Some(version.to_string()),
            _ => None,
        };
        return Some(Kind::Start {
            request_id,
            version,
        });
    }
    if let Some(rest) = line.strip_prefix("END RequestId: ") {
        let request_id = rest.split_whitespace().next()?.to_string();
        return Some(Kind::End { request_id });
    }
    ["INIT_START ", "INIT_REPORT ", "EXTENSION\t", "TELEMETRY\t"]
        .iter()
        .any(|p| line.starts_with(p))
        .then(|| Kind::Platform(line.to_string()))
}

/// A platform record of the JSON log format: `{"time", "type": "platform.…", "record"}`.
fn platform_record(json: &Value) -> Option<Kind> {
    let kind = json["type"].as_str()?.strip_prefix("platform.")?;
    let record = &json["record"];
    let request_id = record["requestId"].as_str().map(str::to_string);
    Some(match (kind, request_id) {
        ("start", Some(request_id)) => Kind::Start {
            request_id,
            version: record["version"].as_str().map(str::to_string),
        },
        ("runtimeDone", Some(request_id)) => Kind::End { request_id },
        ("report", Some(request_id)) => {
            let metrics = &record["metrics"];
            let number = |name: &str| metrics[name].as_f64().filter(|n| *n >= 0.0);
            let status = match record["status"].as_str() {
                Some("timeout") => ReportStatus::Timeout,
                Some("success") | None => ReportStatus::Success,
                Some(_) => ReportStatus::Error(record["errorType"].as_str().map(str::to_string)),
            };
            let count = |name: &str| number(name).and_then(xtask::lambda::report::whole);
            Kind::Report(Report {
                request_id,
                duration_ms: number("durationMs")?,
                billed_ms: count("billedDurationMs")?,
                memory_mb: count("memorySizeMB")?,
                max_memory_used_mb: count("maxMemoryUsedMB")?,
                init_ms: number("initDurationMs"),
                status,
            })
        }
        _ => Kind::Platform(format!("platform.{kind}")),
    })
}

/// A JSON line of the function's: tracing's (`level`, `fields.message`, the request in
/// `span`/`spans`) or Lambda's own shape (`level`, `message`, `requestId`).
fn json_log(json: &Value, line: &str) -> Kind {
    let request_id = json["requestId"]
        .as_str()
        .or_else(|| json["span"]["requestId"].as_str())
        .or_else(|| {
            json["spans"]
                .as_array()?
                .iter()
                .find_map(|span| span["requestId"].as_str())
        })
        .map(str::to_string);
    let level = json["level"]
        .as_str()
        .map(|l| l.to_ascii_uppercase())
        .filter(|l| LEVELS.contains(&l.as_str()));
    let fields = json["fields"].as_object();
    let message = json["message"]
        .as_str()
        .or_else(|| fields?.get("message")?.as_str())
        .map(|m| {
            // tracing's other fields after the message, as its text format shows them.
            let extra: Vec<String> = fields
                .into_iter()
                .flatten()
                .filter(|(k, _)| *k != "message")
                .map(|(k, v)| match v.as_str() {
                    Some(s) => format!("{k}={s}"),
                    None => format!("{k}={v}"),
                })
                .collect();
            match extra.is_empty() {
                true => m.to_string(),
                false => format!("{m} {}", extra.join(" ")),
            }
        })
        .unwrap_or_else(|| line.to_string());
    Kind::Log {
        request_id,
        level,
        message,
    }
}

/// A text line: tracing's format (`  INFO Lambda runtime invoke{requestId="…" …}: message`)
/// or anything else, whole.
fn text_log(line: &str) -> Kind {
    let trimmed = line.trim_start();
    let (level, rest) = match trimmed.split_once(' ') {
        Some((word, rest)) if LEVELS.contains(&word) => (Some(word.to_string()), rest),
        _ => (None, trimmed),
    };
    let request_id = rest
        .find("requestId=\"")
        .map(|at| &rest[at + "requestId=\"".len()..])
        .and_then(|from| from.split('"').next())
        .filter(|id| !id.is_empty())
        .map(str::to_string);
    let message = match (&level, request_id.is_some()) {
        // After the spans: `…}: message`.
        (Some(_), true) => rest
            .find("}: ")
            .map_or(rest, |end| &rest[end + 3..])
            .to_string(),
        (Some(_), false) => rest.to_string(),
        (None, _) => line.to_string(),
    };
    Kind::Log {
        request_id,
        level,
        message,
    }
}

/// The text without terminal colour codes (tracing's text format writes them).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match csi_end(chars.clone()) {
                Some(rest) => chars = rest,
                // Not a whole control sequence: the ESC stays (the view escapes it), and so
                // does everything after it.
                None => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out
}

/// After an ESC, a whole CSI sequence as ECMA-48 has it (`[`, parameter bytes 0x30-0x3F,
/// intermediate bytes 0x20-0x2F, one final byte 0x40-0x7E): what follows it.
fn csi_end(mut chars: std::str::Chars<'_>) -> Option<std::str::Chars<'_>> {
    if chars.next()? != '[' {
        return None;
    }
    let mut intermediate = false;
    loop {
        match chars.next()? {
            '\u{30}'..='\u{3f}' if !intermediate => {}
            '\u{20}'..='\u{2f}' => intermediate = true,
            '\u{40}'..='\u{7e}' => return Some(chars),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3e0b4a5c-9d0e-4f1a-8b2c-7d6e5f4a3b2c";

    fn log(request_id: Option<&str>, level: Option<&str>, message: &str) -> Kind {
        Kind::Log {
            request_id: request_id.map(str::to_string),
            level: level.map(str::to_string),
            message: message.to_string(),
        }
    }

    #[test]
    fn only_whole_control_sequences_are_taken_out() {
        assert_eq!(strip_ansi("\u{1b}[1;32mok\u{1b}[0m done"), "ok done");
        // Cut short, or broken by a byte no sequence has: nothing after the ESC is lost.
        assert_eq!(strip_ansi("a \u{1b}[1;3"), "a \u{1b}[1;3");
        assert_eq!(strip_ansi("\u{1b}[1ünï code"), "\u{1b}[1ünï code");
        assert_eq!(strip_ansi("\u{1b}[12\nnext line"), "\u{1b}[12\nnext line");
        assert_eq!(strip_ansi("\u{1b}(B plain \u{1b}"), "\u{1b}(B plain \u{1b}");
        // A parameter byte after an intermediate one ends the sequence as malformed.
        assert_eq!(strip_ansi("\u{1b}[ 1m x"), "\u{1b}[ 1m x");
    }

    #[test]
    fn lambdas_text_lines() {
        assert_eq!(
            parse(&format!("START RequestId: {ID} Version: 7\n")),
            Kind::Start {
                request_id: ID.into(),
                version: Some("7".into())
            }
        );
        assert_eq!(
            parse(&format!("END RequestId: {ID}\n")),
            Kind::End {
                request_id: ID.into()
            }
        );
        let report = parse(&format!(
            "REPORT RequestId: {ID}\tDuration: 2.51 ms\tBilled Duration: 28 ms\tMemory Size: \
             128 MB\tMax Memory Used: 14 MB\tInit Duration: 24.66 ms\t\n"
        ));
        let Kind::Report(r) = report else {
            panic!("{report:?}")
        };
        assert_eq!((r.billed_ms, r.init_ms), (28, Some(24.66)));
        assert!(matches!(
            parse("INIT_START Runtime Version: provided:al2023.v50\tRuntime Version ARN: x\n"),
            Kind::Platform(_)
        ));
    }

    #[test]
    fn tracing_text_lines_name_their_request() {
        let line = format!(
            "\u{1b}[32m INFO\u{1b}[0m \u{1b}[1mLambda runtime invoke\u{1b}[0m{{requestId=\"{ID}\" \
             xrayTraceId=\"Root=1-2-3\"}}: echoing 17 bytes\n"
        );
        assert_eq!(
            parse(&line),
            log(Some(ID), Some("INFO"), "echoing 17 bytes")
        );
        assert_eq!(
            parse("  WARN starting without a config file"),
            log(None, Some("WARN"), "starting without a config file")
        );
        assert_eq!(
            parse("thread 'main' panicked at src/main.rs:3:5"),
            log(None, None, "thread 'main' panicked at src/main.rs:3:5")
        );
    }

    #[test]
    fn json_lines_of_tracing_and_of_lambda() {
        let tracing = format!(
            r#"{{"level":"ERROR","fields":{{"message":"bad event","size":3}},"span":{{"requestId":"{ID}","name":"Lambda runtime invoke"}},"spans":[]}}"#
        );
        assert_eq!(
            parse(&tracing),
            log(Some(ID), Some("ERROR"), "bad event size=3")
        );
        let in_spans = format!(
            r#"{{"level":"info","fields":{{"message":"hi"}},"spans":[{{"requestId":"{ID}"}}]}}"#
        );
        assert_eq!(parse(&in_spans), log(Some(ID), Some("INFO"), "hi"));
        let lambdas = format!(
            r#"{{"timestamp":"2026-12-03T10:00:00Z","level":"WARN","message":"slow","requestId":"{ID}"}}"#
        );
        assert_eq!(parse(&lambdas), log(Some(ID), Some("WARN"), "slow"));
        // JSON without a message is shown whole; broken JSON is text.
        assert_eq!(parse(r#"{"a":1}"#), log(None, None, r#"{"a":1}"#));
        assert_eq!(parse(r#"{"a":"#), log(None, None, r#"{"a":"#));
    }

    #[test]
    fn platform_records() {
        let start = format!(
            r#"{{"time":"2026-12-03T10:00:00.000Z","type":"platform.start","record":{{"requestId":"{ID}","version":"$LATEST"}}}}"#
        );
        assert_eq!(
            parse(&start),
            Kind::Start {
                request_id: ID.into(),
                version: Some("$LATEST".into())
            }
        );
        let report = format!(
            r#"{{"time":"2026-12-03T10:00:00.100Z","type":"platform.report","record":{{"requestId":"{ID}","metrics":{{"durationMs":2.51,"billedDurationMs":28,"memorySizeMB":128,"maxMemoryUsedMB":14,"initDurationMs":24.66}},"status":"error","errorType":"Runtime.ExitError"}}}}"#
        );
        let Kind::Report(r) = parse(&report) else {
            panic!()
        };
        assert_eq!(
            r.status,
            ReportStatus::Error(Some("Runtime.ExitError".into()))
        );
        assert_eq!(
            (r.duration_ms, r.max_memory_used_mb, r.init_ms),
            (2.51, 14, Some(24.66))
        );
        let timeout = report.replace(r#""status":"error""#, r#""status":"timeout""#);
        let Kind::Report(r) = parse(&timeout) else {
            panic!()
        };
        assert_eq!(r.status, ReportStatus::Timeout);
        // A report without its metrics is a platform record, not a wrong invocation.
        let broken = format!(r#"{{"type":"platform.report","record":{{"requestId":"{ID}"}}}}"#);
        assert!(matches!(parse(&broken), Kind::Log { .. }));
        assert_eq!(
            parse(r#"{"type":"platform.initStart","record":{}}"#),
            Kind::Platform("platform.initStart".into())
        );
    }
}
