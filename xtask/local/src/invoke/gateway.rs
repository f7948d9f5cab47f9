//! The front door on `--serve` (and `watch`): any request outside the Invoke API becomes the
//! event an API Gateway or a function URL would send ([`front_door::event`]), and the
//! function's answer becomes the HTTP response they would give ([`front_door::response`]).
//! `curl 'http://127.0.0.1:9000/hello?name=world'` shows what AWS hands the function.

use std::net::{IpAddr, Ipv4Addr};

use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::endpoint::{Answer, Job, Targets};
use super::front_door::{self, Front, HttpResponse, Stamp};
use super::http::{read_capped, Reply};
use xtask::lambda::MAX_PAYLOAD_BYTES;

/// The request body API Gateway takes (10 MB); what reaches the function is bounded again
/// by Lambda's 6 MB payload limit, as on AWS.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Whether a path belongs to the Lambda API (the Invoke endpoint and its neighbours),
/// rather than to the front door.
pub(super) fn is_lambda_api(path: &str) -> bool {
    // Invoke's API version, and InvokeWithResponseStream's.
    path.starts_with("/2015-03-31/") || path.starts_with("/2021-11-15/")
}

/// Turns one HTTP request into an invocation and its answer into the HTTP response.
pub(super) async fn front_door_endpoint(
    req: Request<Incoming>,
    targets: std::sync::Arc<Targets>,
    port: u16,
) -> Reply {
    let stamp = Stamp::now();
    let (parts, body) = req.into_parts();
    // Several functions: the first path segment names one (API Gateway's answer otherwise).
    let Some((index, path)) = targets.routes.front(parts.uri.path()) else {
        return plain(404, r#"{"message":"Not Found"}"#);
    };
    let jobs: mpsc::Sender<Job> = targets.queues[index].clone();
    let front: Front = targets.fronts[index];
    let body = match read_capped(body, MAX_BODY_BYTES).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return plain(413, r#"{"message":"Request Too Long"}"#),
        Err(_) => return plain(400, r#"{"message":"Bad Request"}"#),
    };
    let request = front_door::Request {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().map(str::to_string),
        protocol: "HTTP/1.1".into(),
        // Names in lower case, as hyper parsed them: the client's spelling is not ours to
        // read (see `front_door::example_request`).
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
            .collect(),
        body: body.to_vec(),
        // The server listens on loopback only.
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port,
    };
    let event = front_door::event(front, &request, &stamp);
    if event.len() > MAX_PAYLOAD_BYTES {
        // What API Gateway answers when Lambda refuses the payload.
        return reply(HttpResponse::function_error(front));
    }
    let (answer_to, answer) = oneshot::channel();
    // A function URL passes a streamed response on as it comes.
    let (sink, chunks) = match front {
        Front::FunctionUrl => {
            let (sink, chunks) = mpsc::unbounded_channel();
            (Some(sink), Some(chunks))
        }
        _ => (None, None),
    };
    let job = Job {
        request_id: stamp.request_id.clone(),
        event: Bytes::from(event),
        reply: Some(answer_to),
        chunks: sink,
    };
    if jobs.send(job).await.is_err() {
        return plain(503, r#"{"message":"Service Unavailable"}"#);
    }
    let mut start = Vec::new();
    if let Some(mut chunks) = chunks {
        // Until the prelude is whole (then the body streams), or the invocation ends.
        while let Some(chunk) = chunks.recv().await {
            start.extend_from_slice(&chunk);
            match front_door::stream_head(&start) {
                Ok(None) => continue,
                Ok(Some((head, body_at))) => {
                    return stream_through(head, start.split_off(body_at), chunks)
                }
                // Lambda answers a prelude it cannot read as it answers a broken response.
                Err(_) => return reply(HttpResponse::function_error(front)),
            }
        }
    }
    let answer = match front.integration_timeout() {
        Some(limit) => match tokio::time::timeout(limit, answer).await {
            Ok(answer) => answer,
            Err(_) => return reply(HttpResponse::timed_out(front)),
        },
        None => answer.await,
    };
    reply(match answer {
        // A stream that ended before its prelude did: the whole of it, read as one.
        Ok(Answer::Invoked(invocation, _)) if invocation.succeeded() && invocation.streamed => {
            match front_door::stream_head(invocation.payload()) {
                Ok(Some((mut head, body_at))) => {
                    head.body = invocation.payload()[body_at..].to_vec();
                    head
                }
                Ok(None) | Err(_) => HttpResponse::function_error(front),
            }
        }
        Ok(Answer::Invoked(invocation, _)) if invocation.succeeded() => {
            front_door::response(front, invocation.payload())
        }
        Ok(Answer::Invoked(..)) | Ok(Answer::NotStarted) => HttpResponse::function_error(front),
        Ok(Answer::ShuttingDown) | Err(_) => {
            return plain(503, r#"{"message":"Service Unavailable"}"#);
        }
    })
}

/// The head the prelude declared, then the body as the function streams it: what came with the
/// prelude, then each chunk. A client that goes away stops nothing: the invocation runs on.
fn stream_through(
    head: HttpResponse,
    first: Vec<u8>,
    mut chunks: mpsc::UnboundedReceiver<Bytes>,
) -> Reply {
    let (body, pieces) = mpsc::channel(16);
    tokio::spawn(async move {
        if !first.is_empty() && body.send(Bytes::from(first)).await.is_err() {
            return;
        }
        while let Some(chunk) = chunks.recv().await {
            if body.send(chunk).await.is_err() {
                return;
            }
        }
    });
    let mut reply = reply(head);
    *reply.body_mut() = super::http::streamed(pieces);
    reply
}

fn plain(status: u16, body: &'static str) -> Reply {
    reply(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    })
}

/// The front's answer as hyper's response; a header a client could not read is dropped.
fn reply(response: HttpResponse) -> Reply {
    let mut reply = Response::new(super::http::full(response.body));
    *reply.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            reply.headers_mut().append(name, value);
        }
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lambda_api_keeps_its_paths() {
        assert!(is_lambda_api("/2015-03-31/functions/function/invocations"));
        assert!(is_lambda_api("/2015-03-31/functions/function/other"));
        assert!(!is_lambda_api("/hello"));
        assert!(!is_lambda_api("/"));
        assert!(!is_lambda_api("/2015-03-31"));
    }

    #[test]
    fn responses_keep_repeated_headers_and_fall_back_on_bad_status() {
        let r = reply(HttpResponse {
            status: 201,
            headers: vec![
                ("set-cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
                ("bad header".into(), "x".into()),
            ],
            body: b"hi".to_vec(),
        });
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(r.headers().len(), 2);
        assert_eq!(
            reply(HttpResponse {
                status: 1000,
                headers: vec![],
                body: vec![]
            })
            .status(),
            502
        );
    }
}
