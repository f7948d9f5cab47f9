//! The Runtime API server, what the bootstrap talks to: it hands out events on `/next`
//! and passes what the runtime answers on to the [`Sandbox`](super::sandbox::Sandbox).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::http::{accept_loop, json_reply, read_capped, Reply, Stop};
use super::ids::new_trace_id;
use super::invocation::{error_json, InvocationError};
use super::stream;
use xtask::lambda::{MAX_PAYLOAD_BYTES, MAX_STREAMED_BYTES};

pub(super) const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// An event waiting for the runtime's next `GET /next`.
pub(super) struct PendingEvent {
    pub request_id: String,
    pub body: Bytes,
    pub deadline_ms: u128,
    pub arn: String,
}

/// What the Runtime API server saw the runtime do.
pub(super) enum ApiMsg {
    Polled(Instant),
    /// The event left in a `/next` response: the invocation's clock starts here.
    Delivered {
        request_id: String,
        at: Instant,
    },
    /// A piece of a streamed response, as it came.
    Chunk {
        request_id: String,
        bytes: Bytes,
    },
    Response {
        request_id: String,
        body: Bytes,
    },
    Error {
        request_id: String,
        error: InvocationError,
    },
    InitError(InvocationError),
}

/// A running Runtime API server, with the sandbox's ends of its channels.
pub(super) struct Server {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
    /// What the runtime does, as it happens.
    pub api: mpsc::UnboundedReceiver<ApiMsg>,
    /// Events for the runtime to take, one at a time.
    pub events: mpsc::Sender<PendingEvent>,
}

impl Server {
    /// Listens on a free port of 127.0.0.1 and serves the Runtime API there.
    pub(super) async fn start() -> Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("opening a port on 127.0.0.1 for the local Runtime API")?;
        let addr = listener
            .local_addr()
            .context("reading the Runtime API's address")?;
        let (to_driver, api) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::channel(1);
        let state = Arc::new(RuntimeApi {
            to_driver,
            events: tokio::sync::Mutex::new(events_rx),
            in_flight: Mutex::new(None),
        });
        let task = tokio::spawn(accept_loop(
            listener,
            move |req| {
                let state = state.clone();
                async move { state.handle(req).await }
            },
            Stop::never(),
        ));
        Ok(Server {
            addr,
            task,
            api,
            events,
        })
    }
}

/// A Runtime API request, by method and path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `GET …/invocation/next`
    Next,
    /// `POST …/init/error`
    InitError,
    /// `POST …/invocation/{request_id}/response`
    Response {
        request_id: &'a str,
    },
    /// `POST …/invocation/{request_id}/error`
    Error {
        request_id: &'a str,
    },
    NotFound,
}

fn route<'a>(method: &Method, path: &'a str) -> Route<'a> {
    if method == Method::GET && path == NEXT_PATH {
        return Route::Next;
    }
    if method != Method::POST {
        return Route::NotFound;
    }
    if path == INIT_ERROR_PATH {
        return Route::InitError;
    }
    match path
        .strip_prefix(INVOCATION_PREFIX)
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((request_id, "response")) => Route::Response { request_id },
        Some((request_id, "error")) => Route::Error { request_id },
        _ => Route::NotFound,
    }
}

struct RuntimeApi {
    to_driver: mpsc::UnboundedSender<ApiMsg>,
    events: tokio::sync::Mutex<mpsc::Receiver<PendingEvent>>,
    /// The request id handed out and not yet answered, so stray answers are refused as Lambda does.
    in_flight: Mutex<Option<String>>,
}

impl RuntimeApi {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_string();
        match route(req.method(), &path) {
            Route::Next => self.next().await,
            Route::InitError => self.init_error(req).await,
            Route::Response { request_id } => self.response(request_id, req).await,
            Route::Error { request_id } => self.error(request_id, req).await,
            Route::NotFound => json_reply(
                StatusCode::NOT_FOUND,
                error_json(
                    "NotFound",
                    &format!(
                        "{} {path} is not part of the Lambda Runtime API",
                        req.method()
                    ),
                ),
            ),
        }
    }

    /// Long-polls until the driver hands over an event, as Lambda's `/next` does.
    async fn next(&self) -> Reply {
        let _ = self.to_driver.send(ApiMsg::Polled(Instant::now()));
        let pending = self.events.lock().await.recv().await;
        let Some(p) = pending else {
            return json_reply(StatusCode::GONE, Bytes::new());
        };
        *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.request_id.clone());
        let _ = self.to_driver.send(ApiMsg::Delivered {
            request_id: p.request_id.clone(),
            at: Instant::now(),
        });
        let mut reply = Response::new(super::http::full(p.body));
        let headers = reply.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("lambda-runtime-aws-request-id", p.request_id.clone()),
            ("lambda-runtime-deadline-ms", p.deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", p.arn),
            ("lambda-runtime-trace-id", new_trace_id()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        reply
    }

    async fn init_error(&self, req: Request<Incoming>) -> Reply {
        let header_type = error_type_header(&req);
        let body = match read_capped(req.into_body(), MAX_PAYLOAD_BYTES).await {
            Ok(Ok(body)) => body,
            Ok(Err(size)) => Bytes::from(format!("init error of {size} bytes, not kept")),
            Err(_) => return json_reply(StatusCode::BAD_REQUEST, Bytes::new()),
        };
        let error =
            InvocationError::from_runtime(body, header_type.as_deref(), "Runtime.InitError");
        let _ = self.to_driver.send(ApiMsg::InitError(error));
        accepted()
    }

    async fn response(&self, request_id: &str, req: Request<Incoming>) -> Reply {
        if stream::is_streamed(req.headers()) {
            return self.streamed(request_id, req.into_body()).await;
        }
        let (request_id, body) = match self.answer(request_id, req.into_body()).await {
            Ok(answer) => answer,
            Err(reply) => return reply,
        };
        let _ = self.to_driver.send(ApiMsg::Response { request_id, body });
        accepted()
    }

    async fn error(&self, request_id: &str, req: Request<Incoming>) -> Reply {
        let header_type = error_type_header(&req);
        let (request_id, body) = match self.answer(request_id, req.into_body()).await {
            Ok(answer) => answer,
            Err(reply) => return reply,
        };
        let error = InvocationError::from_runtime(body, header_type.as_deref(), "Runtime.Unknown");
        let _ = self.to_driver.send(ApiMsg::Error { request_id, error });
        accepted()
    }

    /// A streamed response: each chunk passed on as it comes (at Lambda's pace), then the
    /// whole of it, or the error the runtime reported mid-stream.
    async fn streamed(&self, request_id: &str, mut body: Incoming) -> Reply {
        let request_id = match self.take_in_flight(request_id) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let mut all = Vec::new();
        let first = tokio::time::Instant::now();
        let ended = loop {
            let frame = match body.frame().await {
                None => break Ok(()),
                Some(Ok(frame)) => frame,
                Some(Err(_)) => {
                    break Err(InvocationError::from_runtime(
                        Bytes::from_static(b"the runtime's streamed response broke off"),
                        None,
                        "Runtime.StreamError",
                    ))
                }
            };
            let trailers = match frame.into_data() {
                Ok(chunk) => {
                    if let Some(error) = stream::chunk_error(&chunk) {
                        break Err(error);
                    }
                    let total = all.len() + chunk.len();
                    if total > MAX_STREAMED_BYTES {
                        break Err(stream::too_large(total));
                    }
                    tokio::time::sleep_until(first + stream::not_before(total)).await;
                    all.extend_from_slice(&chunk);
                    let _ = self.to_driver.send(ApiMsg::Chunk {
                        request_id: request_id.clone(),
                        bytes: chunk,
                    });
                    continue;
                }
                Err(frame) => frame.into_trailers(),
            };
            if let Some(error) = trailers.ok().as_ref().and_then(stream::trailer_error) {
                break Err(error);
            }
        };
        let _ = self.to_driver.send(match ended {
            Ok(()) => ApiMsg::Response {
                request_id,
                body: all.into(),
            },
            Err(error) => ApiMsg::Error { request_id, error },
        });
        accepted()
    }

    /// The request in flight, if `request_id` names it (it no longer is after this); else
    /// the reply to an answer for another request.
    // The Err is the reply to send at once, on a path taken once per bad request: boxing
    // it would buy nothing.
    #[allow(clippy::result_large_err)]
    fn take_in_flight(&self, request_id: &str) -> Result<String, Reply> {
        let expected = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight.as_deref() == Some(request_id) {
                in_flight.take()
            } else {
                None
            }
        };
        expected.ok_or_else(|| {
            json_reply(
                StatusCode::BAD_REQUEST,
                error_json(
                    "InvalidRequestID",
                    &format!("{request_id} is not the request being processed"),
                ),
            )
        })
    }

    /// The body of an answer to the request in flight, which it no longer is after this.
    /// An answer to another request, or one that cannot be read whole, gets its reply here.
    #[allow(clippy::result_large_err)]
    async fn answer(&self, request_id: &str, body: Incoming) -> Result<(String, Bytes), Reply> {
        let request_id = self.take_in_flight(request_id)?;
        match read_capped(body, MAX_PAYLOAD_BYTES).await {
            Ok(Ok(body)) => Ok((request_id, body)),
            Ok(Err(size)) => {
                let error = InvocationError::new(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size ({size} bytes) exceeded maximum allowed payload \
                         size ({MAX_PAYLOAD_BYTES} bytes)."
                    ),
                );
                let reply = error.payload.clone();
                let _ = self.to_driver.send(ApiMsg::Error { request_id, error });
                Err(json_reply(StatusCode::PAYLOAD_TOO_LARGE, reply))
            }
            Err(_) => {
                let error = InvocationError::from_runtime(
                    Bytes::from_static(b"the runtime's HTTP request broke off"),
                    None,
                    "Runtime.Unknown",
                );
                let _ = self.to_driver.send(ApiMsg::Error { request_id, error });
                Err(json_reply(StatusCode::BAD_REQUEST, Bytes::new()))
            }
        }
    }
}

/// The `Lambda-Runtime-Function-Error-Type` a runtime may send with an error.
fn error_type_header(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn accepted() -> Reply {
    json_reply(
        StatusCode::ACCEPTED,
        Bytes::from_static(b"{\"status\":\"OK\"}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_the_runtime_api() {
        let post = |path| route(&Method::POST, path);
        assert_eq!(route(&Method::GET, NEXT_PATH), Route::Next);
        assert_eq!(post("/2018-06-01/runtime/init/error"), Route::InitError);
        assert_eq!(
            post("/2018-06-01/runtime/invocation/abc-1/response"),
            Route::Response {
                request_id: "abc-1"
            }
        );
        assert_eq!(
            post("/2018-06-01/runtime/invocation/abc-1/error"),
            Route::Error {
                request_id: "abc-1"
            }
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        assert_eq!(route(&Method::POST, NEXT_PATH), Route::NotFound);
        assert_eq!(
            route(&Method::GET, "/2018-06-01/runtime/init/error"),
            Route::NotFound
        );
        assert_eq!(
            route(
                &Method::GET,
                "/2018-06-01/runtime/invocation/abc-1/response"
            ),
            Route::NotFound
        );
        assert_eq!(
            route(
                &Method::PUT,
                "/2018-06-01/runtime/invocation/abc-1/response"
            ),
            Route::NotFound
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/abc-1/result"),
            Route::NotFound
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/"),
            Route::NotFound
        );
        assert_eq!(route(&Method::GET, "/"), Route::NotFound);
    }

    #[test]
    fn the_request_id_is_everything_before_the_last_segment() {
        // Such ids are never in flight: the handler refuses them as Lambda does.
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation//response"),
            Route::Response { request_id: "" }
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/a/b/error"),
            Route::Error { request_id: "a/b" }
        );
    }
}
