//! `--serve`: the Runtime Interface Emulator's invoke endpoint on localhost, in front of
//! one warm sandbox, until a signal stops us.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::console::Console;
use super::endpoint::{invocations_endpoint, Answer, Job, Targets, RIE_INVOKE_PATH};
use super::front_door::Front;
use super::function::Function;
use super::gateway::{front_door_endpoint, is_lambda_api};
use super::http::{accept_loop, Stop};
use super::listen::bind_localhost;
use super::routes::Routes;
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

/// One function of those served: its names (to route requests to it) and its builds.
pub(crate) struct Served {
    pub lambda_name: String,
    pub package: String,
    /// What stands in front of it.
    pub front: Front,
    pub functions: Functions,
}

/// Serves the Runtime Interface Emulator's invoke endpoint until a signal stops us: each
/// function in its own sandbox, one event at a time, as Lambda gives each its own
/// execution environment.
pub(crate) async fn serve(
    served: Vec<Served>,
    port: u16,
    json: bool,
    console: &Console,
) -> Result<ExitCode> {
    // Installed before the port is bound, so a signal sent once "Listening" shows is ours.
    let signal = shutdown_signal();
    let loopback = bind_localhost(port).await?;
    let url = format!("http://127.0.0.1:{}{RIE_INVOKE_PATH}", loopback.port);
    let addresses: Vec<String> = loopback
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    let routes = Routes::new(
        served
            .iter()
            .map(|s| (s.lambda_name.clone(), s.package.clone()))
            .collect(),
    );
    if served.len() == 1 {
        console.status(
            "Listening",
            format!("{url} (localhost: {})", addresses.join(" and ")),
        );
        console.status(
            "Serving",
            format!(
                "any other path as {} at http://127.0.0.1:{}/ (--http)",
                served[0].front.describe(),
                loopback.port
            ),
        );
    } else {
        console.status(
            "Listening",
            format!(
                "http://127.0.0.1:{}/2015-03-31/functions/NAME/invocations for NAME in {} \
                 (localhost: {})",
                loopback.port,
                routes.list(),
                addresses.join(" and ")
            ),
        );
        for (name, one) in routes.lambda_names().zip(&served) {
            console.status(
                "Serving",
                format!(
                    "http://127.0.0.1:{}/{name}/… as {} in front of {name} (--http)",
                    loopback.port,
                    one.front.describe()
                ),
            );
        }
    }
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
    let mut queues = Vec::new();
    let mut receivers = Vec::new();
    for _ in &served {
        let (jobs, queue) = mpsc::channel::<Job>(64);
        queues.push(jobs);
        receivers.push(queue);
    }
    let fronts = served.iter().map(|s| s.front).collect();
    let targets = Arc::new(Targets {
        routes,
        queues,
        fronts,
    });
    let port = loopback.port;
    let (stop_serving, stop) = Stop::switch();
    let mut acceptors = tokio::task::JoinSet::new();
    for listener in loopback.listeners {
        let targets = targets.clone();
        acceptors.spawn(accept_loop(
            listener,
            move |req| {
                let targets = targets.clone();
                async move {
                    if is_lambda_api(req.uri().path()) {
                        invocations_endpoint(req, targets).await
                    } else {
                        front_door_endpoint(req, targets, port).await
                    }
                }
            },
            stop.clone(),
        ));
    }
    // Only the acceptors hold the senders: once they stop, each queue ends.
    drop(targets);
    // One signal stops every function's loop.
    let (signalled, stopping) = watch::channel(false);
    let signal = tokio::spawn(async move {
        signal.await;
        let _ = signalled.send(true);
    });
    let several = served.len() > 1;
    let loops = served.into_iter().zip(receivers).map(|(one, queue)| {
        let console = match several {
            true => console.labelled(&one.lambda_name),
            false => console.clone(),
        };
        let stopping = stopping.clone();
        async move { serve_one(one.functions, queue, json, &console, stopping).await }
    });
    let results = futures_util::future::join_all(loops).await;
    signal.abort();
    console.status("Stopped", "on signal");
    let _ = stop_serving.send(true);
    let finished = async { while acceptors.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(ANSWER_GRACE, finished).await;
    acceptors.abort_all();
    console.flush();
    results.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(ExitCode::SUCCESS)
}

/// One function's loop: its jobs in arrival order, in its sandbox, until `stopping`.
async fn serve_one(
    mut functions: Functions,
    mut queue: mpsc::Receiver<Job>,
    json: bool,
    console: &Console,
    mut stopping: watch::Receiver<bool>,
) -> Result<()> {
    let mut sandbox: Option<Sandbox> = None;
    let mut function = functions.borrow_and_update().clone();
    let stop = async move {
        while !*stopping.borrow_and_update() {
            if stopping.changed().await.is_err() {
                // The signal task is gone without a signal: serve on.
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::pin!(stop);
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
            () = &mut stop => break None,
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
            invocation = env.invoke_streaming(
                job.request_id.clone(),
                job.event.clone(),
                job.chunks.as_ref(),
            ) => invocation,
            () = &mut stop => break Some(job),
        };
        console.invocation(&invocation, function.settings.memory_mb, json, false)?;
        job.answer(Answer::Invoked(invocation, function.settings.memory_mb));
    };
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
    if let Some(env) = sandbox {
        env.stop().await;
    }
    Ok(())
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
