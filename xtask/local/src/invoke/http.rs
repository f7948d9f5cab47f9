//! The small HTTP/1 server both endpoints share: accepting connections (and stopping
//! gracefully), JSON replies, request bodies read up to a limit.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A reply's body: whole, or streamed as it is produced.
pub(super) type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;
pub(super) type Reply = Response<Body>;

/// A whole body.
pub(super) fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed_unsync()
}

/// A body sent piece by piece, as `pieces` gives them, until it closes.
pub(super) fn streamed(pieces: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
    let frames = futures_util::stream::unfold(pieces, |mut pieces| async move {
        let piece = pieces.recv().await?;
        Some((Ok(hyper::body::Frame::data(piece)), pieces))
    });
    http_body_util::StreamBody::new(frames).boxed_unsync()
}

pub(super) fn json_reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(full(body));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// The whole body if it fits in `cap` bytes, else its size (read to the end, so the
/// sender sees our answer rather than a reset connection).
pub(super) async fn read_capped(
    mut body: Incoming,
    cap: usize,
) -> Result<Result<Bytes, usize>, hyper::Error> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            total += data.len();
            if total <= cap {
                kept.extend_from_slice(&data);
            } else if !kept.is_empty() {
                kept = Vec::new();
            }
        }
    }
    Ok(if total <= cap {
        Ok(kept.into())
    } else {
        Err(total)
    })
}

/// Tells a server when to stop: it then accepts nothing more, and each connection ends
/// once it has answered the request it is serving.
#[derive(Clone)]
pub(super) struct Stop(Option<watch::Receiver<bool>>);

impl Stop {
    /// Never: the server runs until its task is aborted.
    pub(super) fn never() -> Stop {
        Stop(None)
    }

    /// A stop, and the switch that requests it (`send(true)`).
    pub(super) fn switch() -> (watch::Sender<bool>, Stop) {
        let (switch, stop) = watch::channel(false);
        (switch, Stop(Some(stop)))
    }

    async fn requested(&mut self) {
        match &mut self.0 {
            // A dropped switch stops the server too.
            Some(stop) => drop(stop.wait_for(|stop| *stop).await),
            None => std::future::pending().await,
        }
    }
}

/// Serves HTTP/1 connections on `listener` with `handler` until `stop` says so (then
/// returns once every connection has ended) or the task is aborted.
pub(super) async fn accept_loop<H, F>(listener: TcpListener, handler: H, mut stop: Stop)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    // Connection tasks live in this set, so aborting the loop ends them too.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.requested() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: back off rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small request/response exchanges: do not let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let response = handler(req);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop.requested() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}
