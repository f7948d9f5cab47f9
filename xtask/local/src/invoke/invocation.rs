//! What one invocation came to, in Lambda's words: the payload or the error, and the REPORT line.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use hyper::body::Bytes;
use serde::Serialize;

use super::function::VERSION;
use super::logs::LOG_TAIL_BYTES;
use xtask::lambda::{self, report::Report};
use xtask::util::time::ms;

/// One invocation as Lambda's REPORT line describes it.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub request_id: String,
    pub outcome: InvocationOutcome,
    /// From the runtime taking the event (`/next`) to its answer.
    pub duration: Duration,
    /// Exec to the first `/next`, on a cold start only.
    pub init_duration: Option<Duration>,
    pub max_memory_kb: u64,
    pub pid: u32,
    /// The function's log lines since the previous invocation (under `--serve`; empty when
    /// its logs go straight to our stderr), at most [`LOG_TAIL_BYTES`].
    pub logs: Vec<u8>,
    /// The runtime streamed its response (`Lambda-Runtime-Function-Response-Mode: streaming`).
    pub streamed: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum InvocationOutcome {
    Response(Bytes),
    Failed(InvocationError),
}

/// A failed invocation: Lambda's error type and the `errorType`/`errorMessage` JSON.
#[derive(Debug, Clone)]
pub(crate) struct InvocationError {
    /// The function ran out of time (REPORT `Status: timeout`), rather than failed.
    pub timed_out: bool,
    pub error_type: String,
    pub payload: Bytes,
}

/// The REPORT line's `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum ReportStatus {
    Success,
    Error,
    Timeout,
}

impl Invocation {
    pub(super) fn succeeded(&self) -> bool {
        matches!(self.outcome, InvocationOutcome::Response(_))
    }

    pub(super) fn status(&self) -> ReportStatus {
        match &self.outcome {
            InvocationOutcome::Response(_) => ReportStatus::Success,
            InvocationOutcome::Failed(e) if e.timed_out => ReportStatus::Timeout,
            InvocationOutcome::Failed(_) => ReportStatus::Error,
        }
    }

    /// Lambda's error type, when the invocation failed.
    pub(super) fn error_type(&self) -> Option<&str> {
        match &self.outcome {
            InvocationOutcome::Response(_) => None,
            InvocationOutcome::Failed(e) => Some(&e.error_type),
        }
    }

    /// The bytes Lambda's Invoke API would return as the payload.
    pub(super) fn payload(&self) -> &Bytes {
        match &self.outcome {
            InvocationOutcome::Response(body) => body,
            InvocationOutcome::Failed(e) => &e.payload,
        }
    }

    /// Lambda bills the init phase of `provided` runtimes too, rounded up to the millisecond.
    pub(super) fn billed_ms(&self) -> u64 {
        let total = self.duration + self.init_duration.unwrap_or_default();
        (total.as_micros().div_ceil(1000) as u64).max(1)
    }

    pub(super) fn max_memory_mb(&self) -> u64 {
        self.max_memory_kb.div_ceil(1024)
    }

    /// The Invoke API's `X-Amz-Log-Result` (`LogType: Tail`): the last 4 KB of the
    /// invocation's log, START to REPORT as Lambda writes it, base64.
    pub(super) fn log_result(&self, memory_mb: u32) -> String {
        use base64::Engine;
        let mut log =
            format!("START RequestId: {} Version: {VERSION}\n", self.request_id).into_bytes();
        log.extend_from_slice(&self.logs);
        log.extend_from_slice(format!("END RequestId: {}\n", self.request_id).as_bytes());
        log.extend_from_slice(self.report_line(memory_mb).as_bytes());
        log.push(b'\n');
        let tail = &log[log.len().saturating_sub(LOG_TAIL_BYTES)..];
        base64::engine::general_purpose::STANDARD.encode(tail)
    }

    pub(super) fn report_line(&self, memory_mb: u32) -> String {
        Report {
            request_id: self.request_id.clone(),
            duration_ms: ms(self.duration),
            billed_ms: self.billed_ms(),
            memory_mb: memory_mb.into(),
            max_memory_used_mb: self.max_memory_mb(),
            init_ms: self.init_duration.map(ms),
            status: match &self.outcome {
                InvocationOutcome::Response(_) => lambda::report::ReportStatus::Success,
                InvocationOutcome::Failed(e) if e.timed_out => {
                    lambda::report::ReportStatus::Timeout
                }
                InvocationOutcome::Failed(e) => {
                    lambda::report::ReportStatus::Error(Some(e.error_type.clone()))
                }
            },
        }
        .to_string()
    }
}

impl InvocationError {
    /// An error of `error_type` with Lambda's payload for it.
    pub(super) fn new(error_type: &str, message: &str) -> InvocationError {
        InvocationError {
            timed_out: false,
            error_type: error_type.to_string(),
            payload: error_json(error_type, message),
        }
    }

    /// Sandbox.Timedout: `what` (`Task timed out after 3.00 seconds`) ran out of time.
    pub(super) fn timeout(request_id: &str, what: &str) -> InvocationError {
        InvocationError {
            timed_out: true,
            ..InvocationError::new(
                "Sandbox.Timedout",
                &format!("RequestId: {request_id} Error: {what}"),
            )
        }
    }

    /// Runtime.ExitError as Lambda words it: `exit status 3`, `signal: aborted`.
    pub(super) fn exit(request_id: &str, exit: Option<ExitStatus>) -> InvocationError {
        let how = match exit {
            Some(status) => describe_exit(status),
            None => "the runtime stopped answering".to_string(),
        };
        InvocationError::new(
            "Runtime.ExitError",
            &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
        )
    }

    /// The runtime's error body as Lambda passes it on: its own `errorType`/`errorMessage`
    /// JSON when it sent one, else a wrapper naming the header's type.
    pub(super) fn from_runtime(
        body: Bytes,
        header_type: Option<&str>,
        fallback: &str,
    ) -> InvocationError {
        let posted_type = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("errorType")?.as_str().map(str::to_string));
        match posted_type {
            Some(error_type) => InvocationError {
                timed_out: false,
                error_type,
                payload: body,
            },
            None => InvocationError::new(
                header_type.unwrap_or(fallback),
                &String::from_utf8_lossy(&body),
            ),
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let Some(signal) = status.signal() else {
        return status.to_string();
    };
    let name = match signal {
        libc::SIGABRT => "aborted".to_string(),
        libc::SIGKILL => "killed".to_string(),
        libc::SIGSEGV => "segmentation fault".to_string(),
        libc::SIGBUS => "bus error".to_string(),
        libc::SIGILL => "illegal instruction".to_string(),
        libc::SIGFPE => "floating point exception".to_string(),
        libc::SIGTERM => "terminated".to_string(),
        libc::SIGINT => "interrupt".to_string(),
        other => format!("signal {other}"),
    };
    if status.core_dumped() {
        format!("signal: {name} (core dumped)")
    } else {
        format!("signal: {name}")
    }
}

/// `{"errorType":…,"errorMessage":…}`, the shape of Lambda's error payloads.
pub(super) fn error_json(error_type: &str, message: &str) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorPayload<'a> {
        error_type: &'a str,
        error_message: &'a str,
    }
    serde_json::to_vec(&ErrorPayload {
        error_type,
        error_message: message,
    })
    .unwrap_or_default()
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_has_lambdas_fields() {
        let inv = Invocation {
            request_id: "id".into(),
            outcome: InvocationOutcome::Response(Bytes::new()),
            duration: Duration::from_micros(1_234),
            init_duration: Some(Duration::from_micros(10_500)),
            max_memory_kb: 2049,
            pid: 1,
            logs: Vec::new(),
            streamed: false,
        };
        assert_eq!(
            inv.report_line(128),
            "REPORT RequestId: id Duration: 1.23 ms Billed Duration: 12 ms Memory Size: 128 MB \
             Max Memory Used: 3 MB Init Duration: 10.50 ms"
        );
    }

    #[test]
    fn exits_are_described_like_lambda() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGABRT)),
            "signal: aborted"
        );
    }

    #[test]
    fn runtime_errors_keep_the_posted_json_or_wrap_text() {
        let f = InvocationError::from_runtime(
            Bytes::from_static(br#"{"errorType":"E","errorMessage":"m"}"#),
            None,
            "Runtime.Unknown",
        );
        assert_eq!(f.error_type, "E");
        let f = InvocationError::from_runtime(
            Bytes::from_static(b"oops"),
            Some("H"),
            "Runtime.Unknown",
        );
        assert_eq!(f.error_type, "H");
        assert_eq!(
            &f.payload[..],
            br#"{"errorType":"H","errorMessage":"oops"}"#
        );
    }

    #[test]
    fn log_result_is_the_last_4_kb_from_start_to_report() {
        use base64::Engine;
        let decode = |s: String| {
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
        };
        let mut inv = Invocation {
            request_id: "r1".into(),
            outcome: InvocationOutcome::Response(Bytes::new()),
            duration: Duration::from_millis(1),
            init_duration: None,
            max_memory_kb: 1024,
            pid: 1,
            logs: b"hello\n".to_vec(),
            streamed: false,
        };
        let log = decode(inv.log_result(128));
        assert!(
            log.starts_with("START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\nREPORT RequestId: r1 Duration: "),
            "{log}"
        );
        assert!(log.ends_with("MB\n"), "{log}");
        inv.logs = "x".repeat(10_000).into_bytes();
        let log = decode(inv.log_result(128));
        assert_eq!(log.len(), LOG_TAIL_BYTES);
        assert!(
            log.starts_with("xxx") && log.contains("\nREPORT RequestId: r1"),
            "{log}"
        );
    }
}
