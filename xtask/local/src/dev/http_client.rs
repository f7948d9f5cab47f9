//! A small HTTP/1.1 client on hyper, for the local servers the tooling talks to (moto, the
//! deploy tests' proxy): plain HTTP, one connection per request, bounded waits.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// For the whole exchange once connected.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `request` (its URI a path, e.g. `/moto-api/`) to `addr` and reads the whole answer.
pub async fn send(addr: SocketAddr, mut request: Request<Full<Bytes>>) -> Result<Response<Bytes>> {
    if !request.headers().contains_key(HOST) {
        let host =
            HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header");
        request.headers_mut().insert(HOST, host);
    }
    let what = format!("{} {} at {addr}", request.method(), request.uri());
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .ok()
        .with_context(|| format!("{what}: no connection within {CONNECT_TIMEOUT:?}"))?
        .with_context(|| format!("{what}: connecting"))?;
    let exchange = async {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // Drives the connection; it ends when `sender` is dropped.
        tokio::spawn(connection);
        let (parts, body) = sender.send_request(request).await?.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, hyper::Error>(Response::from_parts(parts, body))
    };
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
        .await
        .ok()
        .with_context(|| format!("{what}: no answer within {EXCHANGE_TIMEOUT:?}"))?
        .with_context(|| format!("{what} failed"))
}

/// [`send`] from synchronous code, on a runtime of its own.
pub fn send_blocking(addr: SocketAddr, request: Request<Full<Bytes>>) -> Result<Response<Bytes>> {
    crate::runtime::current_thread("an HTTP request")?.block_on(send(addr, request))
}
