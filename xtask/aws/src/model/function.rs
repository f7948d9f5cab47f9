//! What Lambda says about a function, as plain data read from the SDK's answers
//! (`lambda::convert`), and the decisions over it every command shares: is an update still
//! being applied, did it fail.

use anyhow::{bail, Result};
use serde::Serialize;

/// What GetFunction and its relatives say about the function, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub name: String,
    pub arn: Option<String>,
    pub code_sha256: Option<String>,
    pub architectures: Vec<String>,
    pub runtime: Option<String>,
    pub package_type: Option<String>,
    pub revision_id: Option<String>,
    pub version: Option<String>,
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub last_update_status_reason: Option<String>,
    /// The settings `deploy` manages (memory, timeout, environment, ...).
    pub settings: xtask::lambda::settings::Current,
    /// The CloudWatch Logs group it logs to, when its LoggingConfig names one.
    pub log_group: Option<String>,
}

/// Where an update (or a creation) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Done,
    Pending(String),
}

/// Reads State and LastUpdateStatus: done, still going, or failed (with Lambda's reason).
pub fn progress(remote: &Remote) -> Result<Progress> {
    let reason = |r: &Option<String>| r.clone().unwrap_or_else(|| "no reason given".to_string());
    match remote.state.as_deref() {
        Some("Failed") => bail!(
            "function {} is in state Failed: {}",
            remote.name,
            reason(&remote.state_reason)
        ),
        Some("Pending") => return Ok(Progress::Pending("State Pending".into())),
        _ => {}
    }
    match remote.last_update_status.as_deref() {
        Some("Failed") => bail!(
            "Lambda could not apply the update to {}: LastUpdateStatus Failed: {}; \
             the previous code keeps running, fix the cause and deploy again",
            remote.name,
            reason(&remote.last_update_status_reason)
        ),
        Some("InProgress") => Ok(Progress::Pending("LastUpdateStatus InProgress".into())),
        _ => Ok(Progress::Done),
    }
}

/// While an update (anyone's) is being applied, what says so; `None` once it is over, however
/// it ended: a Failed update of someone else's does not stop ours.
pub fn in_progress(remote: &Remote) -> Option<String> {
    if remote.state.as_deref() == Some("Pending") {
        return Some("State Pending".into());
    }
    (remote.last_update_status.as_deref() == Some("InProgress"))
        .then(|| "LastUpdateStatus InProgress".into())
}

/// Lambda's answer to the smoke test's Invoke.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeAnswer {
    pub status: u16,
    /// `X-Amz-Function-Error`: `Unhandled` or `Handled`.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    /// The decoded `LogResult`: the end of the invocation's log.
    pub log_tail: Option<String>,
    pub executed_version: Option<String>,
    /// `x-amzn-RequestId`: the invocation's request id, in every line it logs.
    pub request_id: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An x86_64 zip function on provided.al2023, for the decisions' tests.
    pub(crate) fn remote() -> Remote {
        Remote {
            name: "echo".into(),
            code_sha256: Some("abc=".into()),
            architectures: vec!["x86_64".into()],
            runtime: Some("provided.al2023".into()),
            package_type: Some("Zip".into()),
            ..Default::default()
        }
    }

    #[test]
    fn progress_reads_state_and_last_update_status() {
        let with = |state: Option<&str>, last: Option<&str>| Remote {
            state: state.map(Into::into),
            last_update_status: last.map(Into::into),
            last_update_status_reason: Some("bad zip".into()),
            state_reason: Some("no role".into()),
            ..remote()
        };
        assert_eq!(
            progress(&with(Some("Active"), Some("Successful"))).unwrap(),
            Progress::Done
        );
        assert_eq!(
            progress(&with(Some("Active"), None)).unwrap(),
            Progress::Done
        );
        assert!(matches!(
            progress(&with(Some("Active"), Some("InProgress"))).unwrap(),
            Progress::Pending(_)
        ));
        assert!(matches!(
            progress(&with(Some("Pending"), None)).unwrap(),
            Progress::Pending(_)
        ));
        let failed = progress(&with(Some("Active"), Some("Failed")))
            .unwrap_err()
            .to_string();
        assert!(
            failed.contains("Failed") && failed.contains("bad zip"),
            "{failed}"
        );
        let state = progress(&with(Some("Failed"), None))
            .unwrap_err()
            .to_string();
        assert!(state.contains("no role"), "{state}");
    }

    #[test]
    fn in_progress_is_anyones_update_until_it_ends() {
        let with = |state: Option<&str>, last: Option<&str>| Remote {
            state: state.map(Into::into),
            last_update_status: last.map(Into::into),
            ..remote()
        };
        assert_eq!(
            in_progress(&with(Some("Active"), Some("InProgress"))).as_deref(),
            Some("LastUpdateStatus InProgress")
        );
        assert_eq!(
            in_progress(&with(Some("Pending"), None)).as_deref(),
            Some("State Pending")
        );
        for done in ["Successful", "Failed"] {
            assert_eq!(in_progress(&with(Some("Active"), Some(done))), None);
        }
        assert_eq!(in_progress(&with(None, None)), None);
    }
}
