//! `--serve`: the Runtime Interface Emulator's invoke endpoint on localhost, in front of
//! one warm sandbox, until a signal stops us.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::console::Console;
use super::endpoint::{invocations_endpoint, Answer, Job, RIE_INVOKE_PATH};
use super::front_door::Front;
use super::function::Function;
use super::gateway::{front_door_endpoint, is_lambda_api};
use super::http::{accept_loop, Stop};
use super::listen::bind_localhost;
use super::sandbox::{warm, Sandbox};
use super::shutdown_signal;

/// `--json`'s first line. A struct, not `json!`: its members keep this order whether or not
/// serde_json's `preserve_order` is on in the build (the function crate turns it on for
/// workspace builds).
#[derive(Serialize)]
struct AddressLine<'a> {
    url: &'a str,
    port: u16,
    addresses: &'a [String],
}

fn address_line(url: &str, port: u16, addresses: &[String]) -> Vec<u8> {
    let line = AddressLine {
        url,
        port,
        addresses,
    };
    serde_json::to_vec(&line).expect("serialising strings and numbers into memory cannot fail")
}

/// How long a stopping server lets its connections finish sending their answers.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// The function to serve: one for `invoke --serve`; for `watch`, each new build in turn.
/// A new one replaces the running process between invocations, never during one.
pub(crate) type Functions = watch::Receiver<Arc<Function>>;

/// Serves the Runtime Interface Emulator's invoke endpoint until a signal stops us.
pub(crate) async fn serve(
    mut functions: Functions,
    port: u16,
    front: Front,
    json: bool,
    console: &Console,
) -> Result<ExitCode> {
    let loopback = bind_localhost(port).await?;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let url = format!("http://127.0.0.1:{}{RIE_INVOKE_PATH}", loopback.port);
    let addresses: Vec<String> = loopback
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    console.status(
        "Listening",
        format!("{url} (localhost: {})", addresses.join(" and ")),
    );
    console.status(
        "Serving",
        format!(
            "any other path as {} at http://127.0.0.1:{}/ (--http)",
            front.describe(),
            loopback.port
        ),
    );
    if let Some(err) = &loopback.no_ipv6 {
        console.status(
            "Note",
            format!(
                "no IPv6 loopback here ({err}): serving 127.0.0.1 only, which clients dialling \
                 [::1] for localhost do not reach"
            ),
        );
    }
    if json {
        console.result_line(&address_line(&url, loopback.port, &addresses))?;
    }
    let (jobs, mut queue) = mpsc::channel::<Job>(64);
    let port = loopback.port;
    let (stop_serving, stop) = Stop::switch();
    let mut acceptors = tokio::task::JoinSet::new();
    for listener in loopback.listeners {
        let jobs = jobs.clone();
        acceptors.spawn(accept_loop(
            listener,
            move |req| {
                let jobs = jobs.clone();
                async move {
                    if is_lambda_api(req.uri().path()) {
                        invocations_endpoint(req, jobs).await
                    } else {
                        front_door_endpoint(req, jobs, front, port).await
                    }
                }
            },
            stop.clone(),
        ));
    }
    drop(jobs);
    // Lambda gives one environment one event at a time: jobs are served in arrival order.
    let mut sandbox: Option<Sandbox> = None;
    let mut function = functions.borrow_and_update().clone();
    let interrupted = loop {
        let job = tokio::select! {
            Some(job) = queue.recv() => job,
            Ok(()) = functions.changed() => {
                // A new build: the next invocation starts it (a cold start, as after a deploy).
                function = functions.borrow_and_update().clone();
                if let Some(old) = sandbox.take() {
                    old.stop().await;
                }
                continue;
            }
            () = &mut shutdown => break None,
        };
        let env = match warm(&mut sandbox, &function, console).await {
            Ok(env) => env,
            Err(err) => {
                console.error(&err);
                job.answer(Answer::NotStarted);
                continue;
            }
        };
        let invocation = tokio::select! {
            invocation = env.invoke_as(job.request_id.clone(), job.event.clone()) => invocation,
            () = &mut shutdown => break Some(job),
        };
        console.invocation(&invocation, function.settings.memory_mb, json, false)?;
        job.answer(Answer::Invoked(invocation, function.settings.memory_mb));
    };
    console.status("Stopped", "on signal");
    // Whoever is still waiting is told why there is no answer; an Event nobody waits for
    // is dropped (Lambda would keep it queued).
    queue.close();
    let mut dropped_events = 0;
    for job in interrupted
        .into_iter()
        .chain(std::iter::from_fn(|| queue.try_recv().ok()))
    {
        if job.reply.is_none() {
            dropped_events += 1;
        }
        job.answer(Answer::ShuttingDown);
    }
    if dropped_events > 0 {
        console.status(
            "Dropped",
            format!("{dropped_events} queued Event invocation(s) that had not run"),
        );
    }
    let _ = stop_serving.send(true);
    let finished = async { while acceptors.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(ANSWER_GRACE, finished).await;
    acceptors.abort_all();
    if let Some(env) = sandbox {
        env.stop().await;
    }
    console.flush();
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_line_has_the_documented_order() {
        let addresses = ["127.0.0.1:9000".to_string(), "[::1]:9000".to_string()];
        assert_eq!(
            String::from_utf8(address_line("http://127.0.0.1:9000/i", 9000, &addresses)).unwrap(),
            r#"{"url":"http://127.0.0.1:9000/i","port":9000,"addresses":["127.0.0.1:9000","[::1]:9000"]}"#
        );
    }
}
