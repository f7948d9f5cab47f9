//! `--smoke-event`: the published version is invoked (qualifier = its number, `LogType: Tail`)
//! before the alias moves; the alias moves only when it answers without an error and, with
//! `--smoke-expect`, with exactly the expected payload.
//!
//! The files are read and checked before the build and before any request; the verdict is a
//! pure function of Lambda's answer.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use xtask::lambda::MAX_PAYLOAD_BYTES;
use xtask::util::fs::read_regular;

use crate::model::function::InvokeAnswer;

/// The smoke test of this deploy: an event, and maybe the answer it must give.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeTest {
    pub event_path: PathBuf,
    pub event: Vec<u8>,
    pub expect_path: Option<PathBuf>,
    pub expect: Option<Value>,
}

/// Which files: `--smoke-event` brings only `--smoke-expect` with it; without it, the
/// metadata's pair (paths relative to the function crate), `--smoke-expect` replacing its
/// answer.
pub fn files(
    flag_event: Option<&Path>,
    flag_expect: Option<&Path>,
    metadata_event: Option<&Path>,
    metadata_expect: Option<&Path>,
    function_dir: &Path,
) -> Result<Option<(PathBuf, Option<PathBuf>)>> {
    if let Some(event) = flag_event {
        return Ok(Some((
            event.to_path_buf(),
            flag_expect.map(Path::to_path_buf),
        )));
    }
    match metadata_event {
        Some(event) => Ok(Some((
            function_dir.join(event),
            flag_expect
                .map(Path::to_path_buf)
                .or_else(|| metadata_expect.map(|e| function_dir.join(e))),
        ))),
        None if flag_expect.is_some() || metadata_expect.is_some() => bail!(
            "a smoke test's expected answer is given (--smoke-expect or metadata \
             `smoke-expect`) but no event to send: add --smoke-event FILE (or `smoke-event` \
             in [package.metadata.lambda])"
        ),
        None => Ok(None),
    }
}

impl SmokeTest {
    /// Reads and checks both files: regular files, JSON, the event within Lambda's limit.
    pub fn load(event_path: PathBuf, expect_path: Option<PathBuf>) -> Result<SmokeTest> {
        let event = read_regular(&event_path, MAX_PAYLOAD_BYTES as u64, "the smoke event")?;
        serde_json::from_slice::<Value>(&event).with_context(|| {
            format!(
                "the smoke event {} is not JSON (Lambda's Invoke takes a JSON document){}",
                event_path.display(),
                bom_note(&event)
            )
        })?;
        let expect = match &expect_path {
            None => None,
            Some(path) => {
                let bytes = read_regular(path, MAX_PAYLOAD_BYTES as u64, "the expected answer")?;
                Some(serde_json::from_slice(&bytes).with_context(|| {
                    format!(
                        "the expected answer {} is not JSON (it is compared with the \
                         function's answer as a JSON value){}",
                        path.display(),
                        bom_note(&bytes)
                    )
                })?)
            }
        };
        Ok(SmokeTest {
            event_path,
            event,
            expect_path,
            expect,
        })
    }
}

/// Some editors start a file with a byte-order mark, which JSON does not allow.
fn bom_note(bytes: &[u8]) -> &'static str {
    match bytes.starts_with(b"\xEF\xBB\xBF") {
        true => "; it starts with a UTF-8 byte-order mark: save it without one",
        false => "",
    }
}

/// How much of the payload a report shows.
const SHOWN_PAYLOAD_BYTES: usize = 4096;

/// What the smoke test found, for the report, `--json` and the step summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmokeResult {
    pub event: PathBuf,
    pub expect: Option<PathBuf>,
    pub version: String,
    pub passed: bool,
    /// Why it failed, in one sentence.
    pub failure: Option<String>,
    pub status: Option<u16>,
    pub function_error: Option<String>,
    /// The payload (its first 4 KB).
    pub payload: Option<String>,
    pub log_tail: Option<String>,
    /// When it failed: the `cargo xtask logs` line that shows the invocation's whole log.
    pub logs: Option<String>,
}

fn shown(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(&payload[..payload.len().min(SHOWN_PAYLOAD_BYTES)]);
    match payload.len() > SHOWN_PAYLOAD_BYTES {
        true => format!("{text}… ({} bytes in all)", payload.len()),
        false => text.into_owned(),
    }
}

/// Equal as JSON values: objects whatever their key order, numbers by their value
/// (`2.5` = `2.50` = `25e-1`; serde_json keeps numbers as written here, for the function's
/// sake), everything else as it is.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                    (Some(x), Some(y), _, _) => x == y,
                    (_, _, Some(x), Some(y)) => x == y,
                    _ => x.as_f64().is_some_and(|x| y.as_f64() == Some(x)),
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The verdict on `answer` from invoking `version` (or the Invoke call's failure).
pub fn verdict(
    test: &SmokeTest,
    version: &str,
    answer: std::result::Result<&InvokeAnswer, &str>,
) -> SmokeResult {
    let mut result = SmokeResult {
        event: test.event_path.clone(),
        expect: test.expect_path.clone(),
        version: version.to_string(),
        passed: false,
        failure: None,
        status: None,
        function_error: None,
        payload: None,
        log_tail: None,
        logs: None,
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(call_failed) => {
            result.failure = Some(format!("the Invoke call failed: {call_failed}"));
            return result;
        }
    };
    result.status = Some(answer.status);
    result.function_error = answer.function_error.clone();
    result.payload = Some(shown(&answer.payload));
    result.log_tail = answer.log_tail.clone();
    result.failure = if answer.status != 200 {
        Some(format!("Invoke answered status {}, not 200", answer.status))
    } else if let Some(error) = &answer.function_error {
        Some(format!(
            "the function returned an error (FunctionError {error})"
        ))
    } else if answer
        .executed_version
        .as_deref()
        .is_some_and(|v| v != version)
    {
        Some(format!(
            "Lambda ran version {}, not the published version {version}",
            answer.executed_version.as_deref().unwrap_or_default()
        ))
    } else {
        test.expect.as_ref().and_then(|expected| {
            let path = test.expect_path.as_deref().unwrap_or(Path::new("?"));
            // A stream's prelude (status, headers) is not the answer.
            match serde_json::from_slice::<Value>(xtask::lambda::without_prelude(&answer.payload)) {
                Ok(got) if same_json(&got, expected) => None,
                Ok(_) => Some(format!(
                    "the answer differs from {} (compared as JSON values)",
                    path.display()
                )),
                Err(_) => Some(format!(
                    "the answer is not JSON, so it cannot equal {}",
                    path.display()
                )),
            }
        })
    };
    result.passed = result.failure.is_none();
    result
}

impl SmokeResult {
    /// For people: one line when it passed; the failure, what became of the alias (`kept`,
    /// a sentence), the payload and the log when it did not.
    pub fn human(&self, kept: Option<&str>) -> String {
        let what = format!("{} on version {}", self.event.display(), self.version);
        if self.passed {
            let checked = match &self.expect {
                Some(expect) => format!(", answer equals {}", expect.display()),
                None => String::new(),
            };
            return format!("smoke test:  passed ({what}{checked})\n");
        }
        let mut out = format!(
            "smoke test:  FAILED ({what}): {}\n",
            self.failure.as_deref().unwrap_or("")
        );
        if let Some(kept) = kept {
            out.push_str(&format!("             {kept}\n"));
        }
        if let Some(error) = &self.function_error {
            out.push_str(&format!("FunctionError: {error}\n"));
        }
        if let Some(payload) = &self.payload {
            out.push_str(&format!("payload:     {payload}\n"));
        }
        if let Some(log) = self.log_tail.as_deref().filter(|l| !l.trim().is_empty()) {
            out.push_str("log tail:\n");
            for line in log.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        if let Some(logs) = &self.logs {
            out.push_str(&format!("whole log:   {logs}\n"));
        }
        out
    }

    /// For the step summary: a table row, and the details of a failure.
    pub fn markdown(&self) -> (String, String) {
        let row = format!(
            "| smoke test | {} (`{}` on version `{}`) |\n",
            if self.passed { "passed" } else { "**failed**" },
            self.event.display(),
            self.version
        );
        let mut details = String::new();
        if !self.passed {
            details.push_str(&format!(
                "\n**Smoke test failed:** {}\n",
                self.failure.as_deref().unwrap_or("")
            ));
            if let Some(payload) = &self.payload {
                details.push_str(&format!("\nPayload:\n\n```\n{payload}\n```\n"));
            }
            if let Some(log) = self.log_tail.as_deref().filter(|l| !l.trim().is_empty()) {
                details.push_str(&format!("\nLog tail:\n\n```\n{}\n```\n", log.trim_end()));
            }
            if let Some(logs) = &self.logs {
                details.push_str(&format!("\nThe whole log: `{logs}`\n"));
            }
        }
        (row, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_with(expect: Option<Value>) -> SmokeTest {
        SmokeTest {
            event_path: "smoke/event.json".into(),
            event: b"{}".to_vec(),
            expect_path: expect.as_ref().map(|_| "smoke/expect.json".into()),
            expect,
        }
    }

    fn answer(payload: &str) -> InvokeAnswer {
        InvokeAnswer {
            status: 200,
            payload: payload.as_bytes().to_vec(),
            log_tail: Some("START\nREPORT\n".into()),
            executed_version: Some("4".into()),
            ..Default::default()
        }
    }

    #[test]
    fn passes_on_200_without_function_error_and_the_expected_json() {
        let plain = verdict(&test_with(None), "4", Ok(&answer("anything")));
        assert!(plain.passed, "{plain:?}");
        let expected = test_with(Some(serde_json::json!({"a": 1, "b": [1, 2]})));
        // Compared as JSON: whitespace and key order do not matter.
        let same = verdict(&expected, "4", Ok(&answer("{ \"b\": [1,2], \"a\": 1 }")));
        assert!(same.passed, "{same:?}");
        let other = verdict(&expected, "4", Ok(&answer("{\"a\": 2, \"b\": [1, 2]}")));
        assert!(!other.passed);
        assert!(other
            .failure
            .unwrap()
            .contains("differs from smoke/expect.json"));
        let text = verdict(&expected, "4", Ok(&answer("not json")));
        assert!(text.failure.unwrap().contains("not JSON"));
    }

    #[test]
    fn fails_on_function_errors_other_statuses_versions_and_call_failures() {
        let mut errored = answer(r#"{"errorType":"Boom","errorMessage":"no"}"#);
        errored.function_error = Some("Unhandled".into());
        let result = verdict(&test_with(None), "4", Ok(&errored));
        assert!(!result.passed);
        assert_eq!(result.function_error.as_deref(), Some("Unhandled"));
        assert!(result
            .failure
            .as_deref()
            .unwrap()
            .contains("FunctionError Unhandled"));
        assert!(result.payload.as_deref().unwrap().contains("Boom"));
        assert_eq!(result.log_tail.as_deref(), Some("START\nREPORT\n"));
        let human = result.human(Some("alias live was left at version 3"));
        assert!(
            human.contains("FAILED") && human.contains("alias live was left at version 3"),
            "{human}"
        );
        assert!(human.contains("  REPORT"), "{human}");
        let (row, details) = result.markdown();
        assert!(
            row.contains("**failed**") && details.contains("Log tail"),
            "{row}{details}"
        );

        let mut status = answer("{}");
        status.status = 202;
        assert!(!verdict(&test_with(None), "4", Ok(&status)).passed);
        let mut latest = answer("{}");
        latest.executed_version = Some("$LATEST".into());
        let ran = verdict(&test_with(None), "4", Ok(&latest));
        assert!(ran.failure.unwrap().contains("ran version $LATEST"));
        let call = verdict(&test_with(None), "4", Err("access denied"));
        assert!(!call.passed && call.failure.unwrap().contains("access denied"));
    }

    #[test]
    fn long_payloads_are_cut_for_the_report() {
        let big = "x".repeat(10_000);
        let shown = verdict(&test_with(None), "4", Ok(&answer(&big)))
            .payload
            .unwrap();
        assert!(
            shown.len() < 4200 && shown.ends_with("(10000 bytes in all)"),
            "{}",
            shown.len()
        );
    }

    #[test]
    fn files_come_from_the_flags_or_the_metadata_never_mixed() {
        let dir = Path::new("/ws/function");
        let some = |p: &str| Some(PathBuf::from(p));
        assert_eq!(files(None, None, None, None, dir).unwrap(), None);
        assert_eq!(
            files(
                some("e.json").as_deref(),
                None,
                some("m.json").as_deref(),
                some("x.json").as_deref(),
                dir
            )
            .unwrap(),
            Some(("e.json".into(), None))
        );
        assert_eq!(
            files(
                None,
                None,
                some("smoke/e.json").as_deref(),
                some("smoke/x.json").as_deref(),
                dir
            )
            .unwrap(),
            Some((
                "/ws/function/smoke/e.json".into(),
                some("/ws/function/smoke/x.json")
            ))
        );
        assert_eq!(
            files(
                None,
                some("mine.json").as_deref(),
                some("e.json").as_deref(),
                some("x.json").as_deref(),
                dir
            )
            .unwrap(),
            Some(("/ws/function/e.json".into(), some("mine.json")))
        );
        let err = files(None, some("x.json").as_deref(), None, None, dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no event to send"), "{err}");
    }

    #[test]
    fn load_checks_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(&event, "{\"ping\": true}").unwrap();
        let expect = dir.path().join("expect.json");
        std::fs::write(&expect, "[1]").unwrap();
        let test = SmokeTest::load(event.clone(), Some(expect.clone())).unwrap();
        assert_eq!(test.expect, Some(serde_json::json!([1])));
        std::fs::write(&expect, "nope").unwrap();
        let err = format!(
            "{:#}",
            SmokeTest::load(event.clone(), Some(expect)).unwrap_err()
        );
        assert!(
            err.contains("expected answer") && err.contains("not JSON"),
            "{err}"
        );
        std::fs::write(&event, b"\xEF\xBB\xBF{}").unwrap();
        let err = format!("{:#}", SmokeTest::load(event.clone(), None).unwrap_err());
        assert!(err.contains("byte-order mark"), "{err}");
        std::fs::write(&event, "").unwrap();
        assert!(SmokeTest::load(event, None).is_err());
        let err = format!(
            "{:#}",
            SmokeTest::load(dir.path().into(), None).unwrap_err()
        );
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    fn answers_equal_as_json_values_numbers_by_value() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(same_json(
            &v(r#"{"a":2.50,"b":[1e3,1]}"#),
            &v(r#"{"b":[1000.0,1],"a":2.5}"#)
        ));
        assert!(same_json(
            &v("18446744073709551615"),
            &v("18446744073709551615")
        ));
        assert!(!same_json(&v(r#"{"a":2.5}"#), &v(r#"{"a":2.6}"#)));
        assert!(!same_json(&v(r#"{"a":1}"#), &v(r#"{"a":"1"}"#)));
        assert!(!same_json(&v("[1,2]"), &v("[2,1]")));
        assert!(!same_json(&v(r#"{"a":1}"#), &v(r#"{"a":1,"b":null}"#)));
    }
}
