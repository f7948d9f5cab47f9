//! Lambda's REPORT line, the one summary of an invocation it writes to the function's logs:
//! written by the local `invoke` and `watch` as Lambda writes it (with spaces where Lambda
//! puts tabs), read back by `logs`. One type, so what we print is what we parse.
//!
//! `REPORT RequestId: ID Duration: 1.23 ms Billed Duration: 2 ms Memory Size: 128 MB Max
//! Memory Used: 20 MB[ Init Duration: 10.50 ms][ Status: timeout | Status: error Error Type: T]`

use std::fmt;

use serde::Serialize;

/// How the invocation ended, as the REPORT line's `Status` says (absent on success).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "error_type", rename_all = "lowercase")]
pub enum ReportStatus {
    Success,
    Timeout,
    /// The function failed; Lambda's error type (`Runtime.ExitError`, ...), when it says.
    Error(Option<String>),
}

/// One REPORT line's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u64,
    pub max_memory_used_mb: u64,
    /// On a cold start: the init phase.
    pub init_ms: Option<f64>,
    #[serde(flatten)]
    pub status: ReportStatus,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "REPORT RequestId: {} Duration: {:.2} ms Billed Duration: {} ms Memory Size: {} MB \
             Max Memory Used: {} MB",
            self.request_id,
            self.duration_ms,
            self.billed_ms,
            self.memory_mb,
            self.max_memory_used_mb
        )?;
        if let Some(init) = self.init_ms {
            write!(f, " Init Duration: {init:.2} ms")?;
        }
        match &self.status {
            ReportStatus::Success => Ok(()),
            ReportStatus::Timeout => write!(f, " Status: timeout"),
            ReportStatus::Error(None) => write!(f, " Status: error"),
            ReportStatus::Error(Some(kind)) => write!(f, " Status: error Error Type: {kind}"),
        }
    }
}

impl Report {
    /// A REPORT line (its trailing whitespace and newline allowed); `None` for any other line
    /// or one whose required fields are missing or malformed.
    pub fn parse(line: &str) -> Option<Report> {
        // With X-Ray tracing, Lambda adds `XRAY TraceId: …` on a second line of the event.
        let line = line.split('\n').next().unwrap_or_default();
        let rest = line.trim_end().strip_prefix("REPORT RequestId: ")?;
        // Lambda separates the fields with tabs, the local invoke with spaces.
        let (request_id, rest) = rest.split_once(char::is_whitespace)?;
        let (duration_ms, rest) = number(rest, "Duration: ", " ms")?;
        let (billed_ms, rest) = number(rest, "Billed Duration: ", " ms")?;
        let (memory_mb, rest) = number(rest, "Memory Size: ", " MB")?;
        let (max_memory_used_mb, mut rest) = number(rest, "Max Memory Used: ", " MB")?;
        let mut init_ms = None;
        if let Some((init, after)) = number(rest, "Init Duration: ", " ms") {
            init_ms = Some(init);
            rest = after;
        }
        // Lambda separates `Status: error` and `Error Type: …` with a tab too.
        let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        let status = match rest.as_str() {
            "" | "Status: success" => ReportStatus::Success,
            "Status: timeout" => ReportStatus::Timeout,
            "Status: error" => ReportStatus::Error(None),
            other => {
                let kind = other.strip_prefix("Status: error Error Type: ")?;
                ReportStatus::Error(Some(kind.to_string()))
            }
        };
        Some(Report {
            request_id: request_id.to_string(),
            duration_ms,
            billed_ms: whole(billed_ms)?,
            memory_mb: whole(memory_mb)?,
            max_memory_used_mb: whole(max_memory_used_mb)?,
            init_ms,
            status,
        })
    }

    /// The invocation failed or timed out.
    pub fn failed(&self) -> bool {
        self.status != ReportStatus::Success
    }
}

/// `NAME: 12.34 UNIT` at the start of `text` (after spaces): the number and what follows.
fn number<'a>(text: &'a str, name: &str, unit: &str) -> Option<(f64, &'a str)> {
    let text = text.trim_start().strip_prefix(name)?;
    let end = text.find(unit)?;
    let value: f64 = text[..end].parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some((value, &text[end + unit.len()..]))
}

/// A whole number that fits (metrics are counts of ms and MB).
pub fn whole(value: f64) -> Option<u64> {
    (value >= 0.0 && value.fract() == 0.0 && value < u64::MAX as f64).then_some(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(init_ms: Option<f64>, status: ReportStatus) -> Report {
        Report {
            request_id: "8f5b1c2a-0000-4000-8000-000000000001".into(),
            duration_ms: 1.23,
            billed_ms: 12,
            memory_mb: 128,
            max_memory_used_mb: 3,
            init_ms,
            status,
        }
    }

    #[test]
    fn lines_are_lambdas_and_read_back() {
        let cold = report(Some(10.5), ReportStatus::Success);
        assert_eq!(
            cold.to_string(),
            "REPORT RequestId: 8f5b1c2a-0000-4000-8000-000000000001 Duration: 1.23 ms Billed \
             Duration: 12 ms Memory Size: 128 MB Max Memory Used: 3 MB Init Duration: 10.50 ms"
        );
        for r in [
            cold,
            report(None, ReportStatus::Success),
            report(None, ReportStatus::Timeout),
            report(Some(99.0), ReportStatus::Error(None)),
            report(None, ReportStatus::Error(Some("Runtime.ExitError".into()))),
        ] {
            assert_eq!(Report::parse(&r.to_string()), Some(r.clone()), "{r}");
            assert_eq!(Report::parse(&format!("{r}\t\n")), Some(r));
        }
    }

    #[test]
    fn lambdas_own_lines_parse() {
        // As CloudWatch Logs holds them (tab-separated fields, a trailing tab).
        let line = "REPORT RequestId: 3e0b4a5c-9d0e-4f1a-8b2c-7d6e5f4a3b2c\tDuration: 2.51 ms\t\
                    Billed Duration: 28 ms\tMemory Size: 128 MB\tMax Memory Used: 14 MB\t\
                    Init Duration: 24.66 ms\t\n";
        let r = Report::parse(line).unwrap();
        assert_eq!(r.request_id, "3e0b4a5c-9d0e-4f1a-8b2c-7d6e5f4a3b2c");
        assert_eq!(
            (r.duration_ms, r.billed_ms, r.init_ms),
            (2.51, 28, Some(24.66))
        );
        assert_eq!((r.memory_mb, r.max_memory_used_mb), (128, 14));
        assert!(!r.failed());
        let timed_out = "REPORT RequestId: x\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t\
                         Memory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout";
        assert_eq!(
            Report::parse(timed_out).unwrap().status,
            ReportStatus::Timeout
        );
    }

    #[test]
    fn other_and_broken_lines_are_not_reports() {
        for line in [
            "",
            "START RequestId: x Version: $LATEST",
            "REPORT RequestId: x",
            "REPORT RequestId: x Duration: ms Billed Duration: 1 ms Memory Size: 1 MB Max Memory Used: 1 MB",
            "REPORT RequestId: x Duration: -1 ms Billed Duration: 1 ms Memory Size: 1 MB Max Memory Used: 1 MB",
            "REPORT RequestId: x Duration: 1 ms Billed Duration: 1.5 ms Memory Size: 1 MB Max Memory Used: 1 MB",
            "REPORT RequestId: x Duration: NaN ms Billed Duration: 1 ms Memory Size: 1 MB Max Memory Used: 1 MB",
            "REPORT RequestId: x Duration: 1 ms Billed Duration: 1 ms Memory Size: 1 MB Max Memory Used: 1 MB Status: odd",
        ] {
            assert_eq!(Report::parse(line), None, "{line}");
        }
    }
}
