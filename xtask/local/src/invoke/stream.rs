//! Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`), as Lambda takes
//! them from a runtime: the body in chunks, passed on as they come; an error reported
//! mid-stream either in HTTP trailers (`Lambda-Runtime-Function-Error-Type` and
//! `-Body`, base64), as the Runtime API documents, or in the form lambda_runtime sends today,
//! those two header lines as a chunk of the body; Lambda's limits (200 MB, and 2 MB/s after
//! the first 6 MB). Pure but for the pace's clock.

use std::time::Duration;

use base64::Engine;
use hyper::body::Bytes;
use hyper::HeaderMap;

use super::invocation::InvocationError;
use xtask::lambda::{MAX_STREAMED_BYTES, STREAM_CAPPED_BYTES_PER_S, STREAM_UNCAPPED_BYTES};

pub(super) const MODE_HEADER: &str = "lambda-runtime-function-response-mode";
const ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body";
/// What a stream's error is called when the runtime names none.
const STREAM_ERROR: &str = "Runtime.StreamError";

/// Is this `/response` a stream?
pub(super) fn is_streamed(headers: &HeaderMap) -> bool {
    headers
        .get(MODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("streaming"))
}

/// The error of `type_` with `body` (base64, as both forms carry it; raw text otherwise).
fn stream_error(type_: Option<&str>, body: Option<&str>) -> InvocationError {
    let body = body.unwrap_or_default().trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_else(|_| body.as_bytes().to_vec());
    let type_ = type_.map(str::trim).filter(|t| !t.is_empty());
    // lambda_runtime's body is the error's text; a runtime may post Lambda's JSON instead.
    match serde_json::from_slice::<serde_json::Value>(&decoded) {
        Ok(json) if json.get("errorType").is_some() => {
            InvocationError::from_runtime(Bytes::from(decoded), type_, STREAM_ERROR)
        }
        _ => InvocationError::new(
            type_.unwrap_or(STREAM_ERROR),
            &String::from_utf8_lossy(&decoded),
        ),
    }
}

/// The error in a stream's trailers, if they carry one.
pub(super) fn trailer_error(trailers: &HeaderMap) -> Option<InvocationError> {
    let get = |name: &str| trailers.get(name).and_then(|v| v.to_str().ok());
    let type_ = get(ERROR_TYPE)?;
    Some(stream_error(Some(type_), get(ERROR_BODY)))
}

/// lambda_runtime's error chunk: `Lambda-Runtime-Function-Error-Type: T\r\n
/// Lambda-Runtime-Function-Error-Body: B\r\n`, the whole chunk.
pub(super) fn chunk_error(chunk: &[u8]) -> Option<InvocationError> {
    let text = std::str::from_utf8(chunk).ok()?;
    let rest = text.strip_prefix(ERROR_TYPE)?.strip_prefix(':')?;
    let (type_, rest) = rest.split_once("\r\n")?;
    let body = rest
        .strip_prefix(ERROR_BODY)
        .and_then(|r| r.strip_prefix(':'))
        .map(|b| b.trim_end_matches("\r\n"));
    Some(stream_error(Some(type_), body))
}

/// The error of a stream past Lambda's limit.
pub(super) fn too_large(total: usize) -> InvocationError {
    InvocationError::new(
        "Function.ResponseSizeTooLarge",
        &format!(
            "Response payload size ({total} bytes) exceeded maximum allowed payload size \
             ({MAX_STREAMED_BYTES} bytes)."
        ),
    )
}

/// How long after the stream's first byte the byte at `total` may be passed on: at once up
/// to the first 6 MB, then at 2 MB/s.
pub(super) fn not_before(total: usize) -> Duration {
    let capped = total.saturating_sub(STREAM_UNCAPPED_BYTES);
    Duration::from_secs_f64(capped as f64 / STREAM_CAPPED_BYTES_PER_S as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_told_by_their_header() {
        let mut headers = HeaderMap::new();
        assert!(!is_streamed(&headers));
        headers.insert(MODE_HEADER, "streaming".parse().unwrap());
        assert!(is_streamed(&headers));
        headers.insert(MODE_HEADER, "buffered".parse().unwrap());
        assert!(!is_streamed(&headers));
    }

    #[test]
    fn errors_in_trailers_and_in_lambda_runtimes_chunk() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("disk full");
        let mut trailers = HeaderMap::new();
        assert!(trailer_error(&trailers).is_none());
        trailers.insert(ERROR_TYPE, "Runtime.StreamError".parse().unwrap());
        trailers.insert(ERROR_BODY, b64.parse().unwrap());
        let e = trailer_error(&trailers).unwrap();
        assert_eq!(e.error_type, "Runtime.StreamError");
        let json: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
        assert_eq!(json["errorMessage"], "disk full");

        let chunk = format!("{ERROR_TYPE}: Runtime.StreamError\r\n{ERROR_BODY}: {b64}\r\n");
        let e = chunk_error(chunk.as_bytes()).unwrap();
        assert_eq!(e.error_type, "Runtime.StreamError");
        let json: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
        assert_eq!(json["errorMessage"], "disk full");
        // Data that merely mentions it, or starts like it, is data.
        assert!(chunk_error(b"hello").is_none());
        assert!(chunk_error(format!("x{chunk}").as_bytes()).is_none());
        assert!(chunk_error(ERROR_TYPE.as_bytes()).is_none());
        // Lambda's JSON form of an error is kept as posted.
        let posted = base64::engine::general_purpose::STANDARD
            .encode(r#"{"errorType":"MyError","errorMessage":"m"}"#);
        trailers.insert(ERROR_BODY, posted.parse().unwrap());
        assert_eq!(trailer_error(&trailers).unwrap().error_type, "MyError");
    }

    #[test]
    fn the_first_6_mb_are_uncapped_then_2_mb_per_second() {
        assert_eq!(not_before(0), Duration::ZERO);
        assert_eq!(not_before(STREAM_UNCAPPED_BYTES), Duration::ZERO);
        assert_eq!(
            not_before(STREAM_UNCAPPED_BYTES + STREAM_CAPPED_BYTES_PER_S),
            Duration::from_secs(1)
        );
        assert_eq!(too_large(1).error_type, "Function.ResponseSizeTooLarge");
    }
}
