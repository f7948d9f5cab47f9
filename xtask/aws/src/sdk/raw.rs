//! SDK errors as [`RawFailure`]s: what `model::failure::classify` reads.

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::model::failure::RawFailure;

/// An error and its sources as "a: b: c" (without the Debug dump `DisplayErrorContext` adds).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Wrappers often repeat their source's text.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// An HTML page rather than the API's JSON (a web server, a captive portal, a proxy).
fn is_html(response: &HttpResponse) -> bool {
    let content_type = response.headers().get("content-type").unwrap_or("");
    let body = response.body().bytes().unwrap_or_default();
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    content_type.to_ascii_lowercase().contains("html") || body[start..].starts_with(b"<")
}

pub fn raw_failure<E>(err: &SdkError<E>) -> RawFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = chain(err);
    match err {
        SdkError::ServiceError(service) => RawFailure {
            status: Some(service.raw().status().as_u16()),
            code: service.err().code().map(str::to_string),
            message: service.err().message().map(str::to_string),
            no_response: false,
            detail,
            html: is_html(service.raw()),
            timed_out: false,
        },
        SdkError::ResponseError(response) => RawFailure {
            status: Some(response.raw().status().as_u16()),
            no_response: false,
            detail,
            html: is_html(response.raw()),
            ..Default::default()
        },
        SdkError::TimeoutError(_) => RawFailure {
            no_response: true,
            timed_out: true,
            detail,
            ..Default::default()
        },
        _ => RawFailure {
            no_response: true,
            detail,
            ..Default::default()
        },
    }
}
