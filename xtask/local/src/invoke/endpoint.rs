//! The Invoke API as the Runtime Interface Emulator serves it, answered as Lambda answers:
//! invocation types, payload limits, and errors in the Lambda API's form (status,
//! `x-amzn-ErrorType`, JSON body), so that SDKs and CLIs see what they would see from Lambda.

use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::event_stream;
use super::events::request_too_large_message;
use super::function::VERSION;
use super::http::{json_reply, read_capped, Reply};
use super::ids::new_request_id;
use super::invocation::{error_json, Invocation};
use super::routes::Routes;
use xtask::lambda::{MAX_ASYNC_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES};

/// The Runtime Interface Emulator's endpoint, which AWS SDKs and curl can call.
pub(super) const RIE_INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// One accepted invocation, waiting for its turn at the function.
pub(super) struct Job {
    pub request_id: String,
    pub event: Bytes,
    /// Where the answer goes; `None` for an `Event` invocation, whose caller does not wait.
    pub reply: Option<oneshot::Sender<Answer>>,
    /// InvokeWithResponseStream: where each piece of a streamed response goes as it comes.
    pub chunks: Option<mpsc::UnboundedSender<Bytes>>,
}

/// What becomes of a job.
pub(super) enum Answer {
    /// The invocation, and the function's memory size (for its REPORT line).
    Invoked(Invocation, u32),
    /// No execution environment could be started (the server's log says why).
    NotStarted,
    /// The server stopped before the invocation ended.
    ShuttingDown,
}

impl Job {
    pub(super) fn answer(self, answer: Answer) {
        if let Some(reply) = self.reply {
            let _ = reply.send(answer);
        }
    }
}

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    /// Asynchronous: accepted at once, run in turn, its answer kept by nobody.
    Event,
    /// Checks the request and runs nothing.
    DryRun,
}

impl InvocationType {
    /// The header's value (absent: `RequestResponse`), or Lambda's answer to any other.
    fn from_header(value: Option<&[u8]>) -> Result<InvocationType, ApiError> {
        match value {
            None | Some(b"RequestResponse") => Ok(InvocationType::RequestResponse),
            Some(b"Event") => Ok(InvocationType::Event),
            Some(b"DryRun") => Ok(InvocationType::DryRun),
            Some(other) => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{}' at 'invocationType' failed to satisfy \
                 constraint: Member must satisfy enum value set: [DryRun, RequestResponse, Event]",
                String::from_utf8_lossy(other)
            ))),
        }
    }

    /// The largest event Lambda takes for this type of invocation.
    fn payload_limit(self) -> usize {
        match self {
            InvocationType::Event => MAX_ASYNC_PAYLOAD_BYTES,
            InvocationType::RequestResponse | InvocationType::DryRun => MAX_PAYLOAD_BYTES,
        }
    }

    /// Lambda's answer to an event of `size` bytes, over the limit.
    fn too_large(self, size: usize) -> ApiError {
        ApiError::too_large(match self {
            InvocationType::Event => format!(
                "{size} byte payload is too large for the Event invocation type \
                 (limit {MAX_ASYNC_PAYLOAD_BYTES} bytes)"
            ),
            InvocationType::RequestResponse | InvocationType::DryRun => request_too_large_message(),
        })
    }
}

/// An error as the Lambda API answers one.
#[derive(Debug, PartialEq, Eq)]
struct ApiError {
    status: StatusCode,
    /// `x-amzn-ErrorType`, from which SDKs take the error's code (and class).
    error_type: &'static str,
    /// The body's `Type`: `User` or `Service`; Lambda leaves it out of validation errors.
    fault: Option<&'static str>,
    /// The service model spells it `message` for some errors and `Message` for others.
    message_key: &'static str,
    message: String,
}

impl ApiError {
    /// Lambda answers an oversized event with this type (not the service model's
    /// `RequestTooLargeException`): boto3 raises a `ClientError` with this code, the AWS
    /// CLI prints it, the same as against Lambda.
    fn too_large(message: String) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error_type: "RequestEntityTooLargeException",
            fault: Some("User"),
            message_key: "message",
            message,
        }
    }

    fn validation(message: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error_type: "ValidationException",
            fault: None,
            message_key: "message",
            message,
        }
    }

    fn not_found(path: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            fault: Some("User"),
            message_key: "Message",
            message: format!("{path} is not an invoke endpoint: POST to {RIE_INVOKE_PATH}"),
        }
    }

    /// Lambda's answer for a function that does not exist, naming those served here.
    fn no_such_function(name: &str, served: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            fault: Some("User"),
            message_key: "Message",
            message: format!("Function not found: {name} (served here: {served})"),
        }
    }

    fn service(status: StatusCode, message: &str) -> ApiError {
        ApiError {
            status,
            error_type: "ServiceException",
            fault: Some("Service"),
            message_key: "Message",
            message: message.to_string(),
        }
    }

    fn shutting_down() -> ApiError {
        ApiError::service(
            StatusCode::SERVICE_UNAVAILABLE,
            "the Lambda emulator (cargo xtask invoke --serve) is shutting down: \
             the invocation did not run to its end",
        )
    }

    fn not_started() -> ApiError {
        ApiError::service(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the function could not be started; see the server's log",
        )
    }

    fn body(&self) -> Bytes {
        let mut body = serde_json::Map::new();
        if let Some(fault) = self.fault {
            body.insert("Type".into(), fault.into());
        }
        body.insert(self.message_key.into(), self.message.clone().into());
        serde_json::Value::Object(body).to_string().into()
    }

    fn reply(&self) -> Reply {
        let mut reply = json_reply(self.status, self.body());
        let headers = reply.headers_mut();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.error_type),
        );
        request_id_header(&mut reply, &new_request_id());
        reply
    }
}

fn request_id_header(reply: &mut Reply, request_id: &str) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        reply.headers_mut().insert("x-amzn-requestid", id);
    }
}

/// `/2015-03-31/functions/{name}/invocations`: any function name is accepted, as the
/// emulator ignores it too.
#[cfg(test)]
fn is_invoke_path(path: &str) -> bool {
    invoked_name(path).is_some()
}

/// NAME in `/2015-03-31/functions/NAME/invocations`.
fn invoked_name(path: &str) -> Option<&str> {
    path.strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// NAME in `/2021-11-15/functions/NAME/response-streaming-invocations`
/// (InvokeWithResponseStream).
fn stream_invoked_name(path: &str) -> Option<&str> {
    path.strip_prefix("/2021-11-15/functions/")
        .and_then(|rest| rest.strip_suffix("/response-streaming-invocations"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// Where invocations go: each served function's queue, and which one a request is for.
pub(super) struct Targets {
    pub routes: Routes,
    pub queues: Vec<mpsc::Sender<Job>>,
    /// What stands in front of each function.
    pub fronts: Vec<super::Front>,
}

/// The invoke endpoint: checks the request as Lambda does, hands the event to the serve
/// loop through `jobs`, and answers as the Invoke API answers.
pub(super) async fn invocations_endpoint(
    req: Request<Incoming>,
    targets: std::sync::Arc<Targets>,
) -> Reply {
    let path = req.uri().path();
    let (name, streaming) = match (invoked_name(path), stream_invoked_name(path)) {
        (Some(name), _) => (name, false),
        (None, Some(name)) => (name, true),
        (None, None) => return ApiError::not_found(path).reply(),
    };
    let jobs = match targets.routes.invoke(name) {
        Ok(index) => targets.queues[index].clone(),
        Err(name) => return ApiError::no_such_function(&name, &targets.routes.list()).reply(),
    };
    if req.method() != Method::POST {
        return json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            error_json("MethodNotAllowed", "invoke with POST"),
        );
    }
    let header = req.headers().get("x-amz-invocation-type");
    // `LogType: Tail` (the header is absent for `None`): the end of the log in the answer.
    let tail = match req
        .headers()
        .get("x-amz-log-type")
        .map(HeaderValue::as_bytes)
    {
        None | Some(b"None") => false,
        Some(b"Tail") => true,
        Some(other) => {
            return ApiError::validation(format!(
                "1 validation error detected: Value '{}' at 'logType' failed to satisfy \
                 constraint: Member must satisfy enum value set: [Tail, None]",
                String::from_utf8_lossy(other)
            ))
            .reply()
        }
    };
    let kind = match InvocationType::from_header(header.map(HeaderValue::as_bytes)) {
        // InvokeWithResponseStream has no asynchronous form.
        Ok(InvocationType::Event) if streaming => {
            return ApiError::validation(
                "1 validation error detected: Value 'Event' at 'invocationType' failed to \
                 satisfy constraint: Member must satisfy enum value set: [RequestResponse, \
                 DryRun]"
                    .into(),
            )
            .reply()
        }
        Ok(kind) => kind,
        Err(error) => return error.reply(),
    };
    let event = match read_capped(req.into_body(), kind.payload_limit()).await {
        Ok(Ok(event)) => event,
        Ok(Err(size)) => return kind.too_large(size).reply(),
        Err(_) => return json_reply(StatusCode::BAD_REQUEST, Bytes::new()),
    };
    let request_id = new_request_id();
    let (reply, answer) = match kind {
        InvocationType::DryRun => return empty_reply(StatusCode::NO_CONTENT, &request_id),
        InvocationType::Event => (None, None),
        InvocationType::RequestResponse => {
            let (reply, answer) = oneshot::channel();
            (Some(reply), Some(answer))
        }
    };
    let (chunks, streamed) = match streaming {
        true => {
            let (sink, chunks) = mpsc::unbounded_channel();
            (Some(sink), Some(chunks))
        }
        false => (None, None),
    };
    let job = Job {
        request_id: request_id.clone(),
        event,
        reply,
        chunks,
    };
    if jobs.send(job).await.is_err() {
        return ApiError::shutting_down().reply();
    }
    let Some(answer) = answer else {
        return empty_reply(StatusCode::ACCEPTED, &request_id);
    };
    if let Some(chunks) = streamed {
        return stream_response(&request_id, chunks, answer, tail);
    }
    match answer.await {
        Ok(Answer::Invoked(invocation, memory_mb)) => {
            invoke_response(&invocation, tail.then_some(memory_mb))
        }
        Ok(Answer::NotStarted) => ApiError::not_started().reply(),
        Ok(Answer::ShuttingDown) | Err(_) => ApiError::shutting_down().reply(),
    }
}

/// InvokeWithResponseStream's answer, sent as the invocation runs: each piece of the response
/// as a `PayloadChunk` event (a response that was not streamed, whole, in one), then
/// `InvokeComplete` with the error, if any, and with `tail` the log's end. A client that goes
/// away stops nothing: the invocation runs to its end, as on Lambda.
fn stream_response(
    request_id: &str,
    mut chunks: mpsc::UnboundedReceiver<Bytes>,
    answer: oneshot::Receiver<Answer>,
    tail: bool,
) -> Reply {
    let (body, pieces) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut connected = true;
        while let Some(chunk) = chunks.recv().await {
            connected = connected && body.send(event_stream::payload_chunk(&chunk)).await.is_ok();
        }
        let complete = match answer.await {
            Ok(Answer::Invoked(invocation, memory_mb)) => {
                if !invocation.streamed && invocation.succeeded() {
                    let _ = body
                        .send(event_stream::payload_chunk(invocation.payload()))
                        .await;
                }
                let error = (!invocation.succeeded()).then(|| error_of(&invocation));
                let log = tail.then(|| invocation.log_result(memory_mb));
                event_stream::invoke_complete(
                    error.as_ref().map(|(t, m)| (t.as_str(), m.as_str())),
                    log.as_deref(),
                )
            }
            Ok(Answer::NotStarted) => event_stream::invoke_complete(
                Some(("ServiceException", "the function could not be started")),
                None,
            ),
            Ok(Answer::ShuttingDown) | Err(_) => event_stream::invoke_complete(
                Some(("ServiceException", "the Lambda emulator is shutting down")),
                None,
            ),
        };
        let _ = body.send(complete).await;
    });
    let mut reply = Response::new(super::http::streamed(pieces));
    let headers = reply.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    headers.insert("x-amz-executed-version", HeaderValue::from_static(VERSION));
    request_id_header(&mut reply, request_id);
    reply
}

/// A failed invocation's error type and message, from its payload.
fn error_of(invocation: &Invocation) -> (String, String) {
    let json: serde_json::Value = serde_json::from_slice(invocation.payload()).unwrap_or_default();
    (
        invocation.error_type().unwrap_or("Unhandled").to_string(),
        json["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// `Event` and `DryRun`'s answers: a status and no body.
fn empty_reply(status: StatusCode, request_id: &str) -> Reply {
    let mut reply = json_reply(status, Bytes::new());
    request_id_header(&mut reply, request_id);
    reply
}

/// The Invoke API's answer: the payload, with the headers that mark an unhandled error, and
/// with `tail_of` (the function's memory size) the log's end.
fn invoke_response(invocation: &Invocation, tail_of: Option<u32>) -> Reply {
    // A streamed response past the buffered limit, asked for with the buffered Invoke.
    let too_large = invocation.streamed && invocation.payload().len() > MAX_PAYLOAD_BYTES;
    let payload = match too_large {
        true => {
            super::invocation::InvocationError::new(
                "Function.ResponseSizeTooLarge",
                &format!(
                    "Response payload size exceeded maximum allowed payload size \
                 ({MAX_PAYLOAD_BYTES} bytes)."
                ),
            )
            .payload
        }
        false => invocation.payload().clone(),
    };
    let mut response = json_reply(StatusCode::OK, payload);
    request_id_header(&mut response, &invocation.request_id);
    let headers = response.headers_mut();
    headers.insert("x-amz-executed-version", HeaderValue::from_static(VERSION));
    if let Some(memory_mb) = tail_of {
        if let Ok(log) = HeaderValue::from_str(&invocation.log_result(memory_mb)) {
            headers.insert("x-amz-log-result", log);
        }
    }
    if !invocation.succeeded() || too_large {
        // As the Invoke API marks errors the function did not handle.
        headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_function_name_is_an_invoke_path() {
        assert!(is_invoke_path(RIE_INVOKE_PATH));
        assert!(is_invoke_path("/2015-03-31/functions/echo/invocations"));
        assert!(!is_invoke_path("/2015-03-31/functions//invocations"));
        assert!(!is_invoke_path("/2015-03-31/functions/a/b/invocations"));
        assert!(!is_invoke_path("/2015-03-31/functions/echo"));
        assert!(!is_invoke_path("/"));
    }

    #[test]
    fn invocation_types_are_lambdas_three_and_no_other() {
        let of = |v: &[u8]| InvocationType::from_header(Some(v));
        assert_eq!(
            InvocationType::from_header(None),
            Ok(InvocationType::RequestResponse)
        );
        assert_eq!(of(b"RequestResponse"), Ok(InvocationType::RequestResponse));
        assert_eq!(of(b"Event"), Ok(InvocationType::Event));
        assert_eq!(of(b"DryRun"), Ok(InvocationType::DryRun));
        for other in [&b"event"[..], b"", b"Async"] {
            let error = of(other).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert_eq!(error.error_type, "ValidationException");
            assert!(error.message.contains("at 'invocationType'"), "{error:?}");
        }
    }

    #[test]
    fn events_have_the_limit_of_their_invocation_type() {
        assert_eq!(
            InvocationType::RequestResponse.payload_limit(),
            MAX_PAYLOAD_BYTES
        );
        assert_eq!(InvocationType::DryRun.payload_limit(), MAX_PAYLOAD_BYTES);
        assert_eq!(
            InvocationType::Event.payload_limit(),
            MAX_ASYNC_PAYLOAD_BYTES
        );
        assert_eq!(
            InvocationType::Event.too_large(1_048_577).message,
            "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
        );
        assert_eq!(
            InvocationType::RequestResponse.too_large(7_000_000).message,
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        );
    }

    #[test]
    fn api_errors_have_lambdas_body() {
        let body = ApiError::too_large("too big".into()).body();
        assert_eq!(&body[..], br#"{"Type":"User","message":"too big"}"#);
        let body = ApiError::shutting_down().body();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["Type"], "Service");
        assert!(body["Message"].as_str().unwrap().contains("shutting down"));
        let body = ApiError::validation("bad".into()).body();
        assert_eq!(&body[..], br#"{"message":"bad"}"#);
    }
}
