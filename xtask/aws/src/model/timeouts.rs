//! Every time limit of the commands that call AWS, and the pace of their polls, in one place;
//! the README's "Timeouts" table lists them.
//!
//! Calls without code (GetFunction, PublishVersion, the alias calls) are answered by Lambda in
//! well under a second, so a server that accepts and never answers fails them in under a
//! minute. An upload carries the zip base64-encoded in JSON (4/3 of the zip), so its limit
//! grows with the zip, from an assumed slowest link, [`UPLOAD_RATE`].

use std::time::Duration;

/// An endpoint that does not accept the connection.
pub const CONNECT: Duration = Duration::from_secs(5);

/// One attempt of a call without code: from sending it to the end of the answer.
pub const CALL_ATTEMPT: Duration = Duration::from_secs(20);
/// A call without code, the SDK's retries included.
pub const CALL: Duration = Duration::from_secs(50);

/// The slowest upload link we plan for, in bytes per second: 500 kB/s (4 Mbit/s), a slow
/// ADSL or a congested office uplink. GitHub's runners upload to AWS at tens of MB/s. At
/// this rate the largest zip Lambda takes through the API (50 MiB, a 69.9 MB request) needs
/// 140 s; the 0.57 MB echo zip (a 0.76 MB request) needs 2 s.
pub const UPLOAD_RATE: u64 = 500_000;
/// What an upload takes on top of the transfer: encoding and signing the request (hashing
/// it), TLS, Lambda checking and storing the zip, the answer. Measured against moto on
/// localhost (where the transfer itself is instant), UpdateFunctionCode with a 51.0 MB zip
/// (a 68.0 MB request) took 4.6 to 5.2 s from sending to answer; 30 s leaves room for Lambda.
pub const UPLOAD_SLACK: Duration = Duration::from_secs(30);

/// How long resolving credentials may take (a `credential_process`, SSO, assume-role).
pub const CREDENTIALS: Duration = Duration::from_secs(30);

/// How long to wait for an update to be applied, ours or another's (Lambda's take seconds).
pub const UPDATE: Duration = Duration::from_secs(300);
/// How many times the zip is sent while other updates keep conflicting with ours; between two
/// sends deploy waits (polling GetFunction) until the other update is over.
pub const CONFLICT_UPLOADS: u32 = 3;

/// How long to retry CreateFunction while a new role is not yet assumable (IAM takes seconds).
pub const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(90);

/// The smoke test's Invoke of a function with a timeout of `function_timeout`: a cold start,
/// the function's own limit, and a call's worth of network on top.
pub fn smoke(function_timeout: Duration) -> Duration {
    xtask::lambda::INIT_LIMIT + function_timeout + CALL_ATTEMPT
}

/// The request body of an upload of `zip_bytes`: the zip in base64, inside JSON.
pub fn upload_body(zip_bytes: u64) -> u64 {
    zip_bytes.div_ceil(3) * 4
}

/// One attempt of an upload of `zip_bytes` (UpdateFunctionCode, CreateFunction).
pub fn upload_attempt(zip_bytes: u64) -> Duration {
    UPLOAD_SLACK + Duration::from_secs(upload_body(zip_bytes).div_ceil(UPLOAD_RATE))
}

/// An upload, retries included: two full attempts (a third only when the first failed fast).
pub fn upload(zip_bytes: u64) -> Duration {
    upload_attempt(zip_bytes) * 2
}

/// Waits between polls and conflict retries: 0.5 s, 1 s, 2 s, then every 2 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(2)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xtask::lambda::MAX_ZIPPED_BYTES;

    #[test]
    fn upload_limits_grow_with_the_zip() {
        assert_eq!(upload_body(3), 4);
        assert_eq!(upload_body(MAX_ZIPPED_BYTES), 69_905_068);
        // The largest zip: 140 s of transfer at the assumed rate, plus the slack.
        assert_eq!(
            upload_attempt(MAX_ZIPPED_BYTES),
            Duration::from_secs(30 + 140)
        );
        assert_eq!(upload(MAX_ZIPPED_BYTES), Duration::from_secs(340));
        // The echo zip.
        assert_eq!(upload_attempt(572_437), Duration::from_secs(32));
        // A call without code is bounded well below an upload.
        assert!(CALL < upload_attempt(0) * 2 && CALL_ATTEMPT < CALL);
    }

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(40), Duration::from_secs(2));
    }
}
