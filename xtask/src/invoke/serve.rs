//! `--serve`: the Runtime Interface Emulator's invoke endpoint, in front of one warm
//! sandbox, until a signal stops us.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::console::Console;
use super::events::request_too_large_message;
use super::function::{Function, VERSION};
use super::http::{accept_loop, json_reply, read_capped, Reply};
use super::invocation::{error_json, Invocation};
use super::sandbox::{warm, Sandbox};
use super::shutdown_signal;
use crate::lambda::MAX_PAYLOAD_BYTES;

/// The Runtime Interface Emulator's endpoint, which AWS SDKs and curl can call.
const RIE_INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// One request to the emulator endpoint, waiting for its turn at the function.
struct Job {
    event: Bytes,
    reply: oneshot::Sender<Invocation>,
}

/// Serves the Runtime Interface Emulator's invoke endpoint until a signal stops us.
pub(super) async fn serve(
    function: &Function,
    port: u16,
    json: bool,
    console: &Console,
) -> Result<ExitCode> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port}: pass another --port (0 picks a free one)")
        })?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let url = format!("http://{addr}{RIE_INVOKE_PATH}");
    console.status("Listening", &url);
    if json {
        let address = serde_json::json!({"url": url, "port": addr.port()});
        console.result_line(address.to_string().as_bytes())?;
    }
    let (jobs, mut queue) = mpsc::channel::<Job>(64);
    let acceptor = tokio::spawn(accept_loop(listener, move |req| {
        invocations_endpoint(req, jobs.clone())
    }));
    // Lambda gives one environment one event at a time: jobs are served in arrival order.
    let mut sandbox: Option<Sandbox> = None;
    loop {
        let job = tokio::select! {
            Some(job) = queue.recv() => job,
            () = &mut shutdown => break,
        };
        let env = match warm(&mut sandbox, function, console).await {
            Ok(env) => env,
            Err(err) => {
                console.error(&err);
                drop(job);
                continue;
            }
        };
        let invocation = tokio::select! {
            invocation = env.invoke(job.event) => invocation,
            () = &mut shutdown => break,
        };
        console.invocation(&invocation, function.settings.memory_mb, json, false)?;
        let _ = job.reply.send(invocation);
    }
    console.status("Stopped", "on signal");
    acceptor.abort();
    if let Some(env) = sandbox {
        env.stop().await;
    }
    console.flush();
    Ok(ExitCode::SUCCESS)
}

/// `/2015-03-31/functions/{name}/invocations`: any function name is accepted, as the
/// emulator ignores it too.
fn is_invoke_path(path: &str) -> bool {
    path.strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

async fn invocations_endpoint(req: Request<Incoming>, jobs: mpsc::Sender<Job>) -> Reply {
    let path = req.uri().path();
    if !is_invoke_path(path) {
        return json_reply(
            StatusCode::NOT_FOUND,
            error_json(
                "ResourceNotFoundException",
                &format!("{path} is not an invoke endpoint: POST to {RIE_INVOKE_PATH}"),
            ),
        );
    }
    if req.method() != Method::POST {
        return json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            error_json("MethodNotAllowed", "invoke with POST"),
        );
    }
    let event = match read_capped(req.into_body(), MAX_PAYLOAD_BYTES).await {
        Ok(Ok(event)) => event,
        Ok(Err(_)) => {
            return json_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                error_json(
                    "RequestEntityTooLargeException",
                    &request_too_large_message(),
                ),
            )
        }
        Err(_) => return json_reply(StatusCode::BAD_REQUEST, Bytes::new()),
    };
    let (reply, answer) = oneshot::channel();
    if jobs.send(Job { event, reply }).await.is_err() {
        return json_reply(StatusCode::SERVICE_UNAVAILABLE, Bytes::new());
    }
    let Ok(invocation) = answer.await else {
        return json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_json(
                "ServiceException",
                "the function could not be started; see the server's log",
            ),
        );
    };
    invoke_response(&invocation)
}

/// The Invoke API's answer: the payload, with the headers that mark an unhandled error.
fn invoke_response(invocation: &Invocation) -> Reply {
    let mut response = json_reply(StatusCode::OK, invocation.payload().clone());
    let headers = response.headers_mut();
    headers.insert("x-amz-executed-version", HeaderValue::from_static(VERSION));
    if let Ok(id) = HeaderValue::from_str(&invocation.request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if !invocation.succeeded() {
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
}
