//! A fault-injecting HTTP proxy in front of moto: moto never throttles and ignores RevisionId,
//! so the tests make those answers here, N times for a chosen Lambda operation, then forward.
//! On every request it also plays what real Lambda does and moto does not (`lambda.rs`), and
//! it answers Invoke by running the uploaded zip (`invoke.rs`), and plays the one IAM operation
//! setup-ci calls that moto lacks (`iam.rs`). CloudWatch Logs' requests pass through it too,
//! for the same faults.
//!
//! hyper serves the SDK (keep-alive, chunked bodies, `Expect`) and the xtask's hyper client
//! forwards to moto.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use super::invoke::Functions;
use super::lambda::Lambda;

/// What to do instead of (or on top of) forwarding.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with a Lambda error: status, `x-amzn-ErrorType`, message.
    Error(u16, &'static str, &'static str),
    /// Forward, then merge these fields into the function configuration in the answer.
    Patch(Value),
    /// Answer with this status, `Content-Type` and body, as a server that is not Lambda would.
    Answer(u16, &'static str, &'static str),
    /// Wait until [`Proxy::release`], then go on as usual (a deploy stalled mid-way).
    Hold,
}

#[derive(Debug, Clone)]
struct Rule {
    operation: &'static str,
    /// Requests for `operation` to let through before this rule applies.
    skip: usize,
    remaining: usize,
    fault: Fault,
}

/// One request that reached the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub operation: &'static str,
    pub path: String,
    pub body: Vec<u8>,
    pub faulted: bool,
    /// The `Authorization` header: its `Credential=KEY/...` names the access key that signed.
    pub authorization: String,
}

struct State {
    seen: Mutex<Vec<Seen>>,
    rules: Mutex<Vec<Rule>>,
    lambda: Mutex<Lambda>,
    /// The uploaded zips, run for Invoke.
    functions: Functions,
    /// Held requests go on once this is true.
    released: watch::Sender<bool>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            seen: Mutex::default(),
            rules: Mutex::default(),
            lambda: Mutex::default(),
            functions: Functions::default(),
            released: watch::Sender::new(false),
        });
        let (stop, stopped) = oneshot::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            xtask_local::runtime::current_thread("the test proxy")
                .unwrap()
                .block_on(serve(listener, upstream, shared, stopped));
        });
        Proxy {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` to the next `times` requests for `operation` (e.g. "UpdateFunctionCode").
    pub fn fail(&self, operation: &'static str, times: usize, fault: Fault) {
        self.fail_later(operation, 0, times, fault);
    }

    /// [`Proxy::fail`], once `skip` requests for `operation` went through untouched.
    pub fn fail_later(&self, operation: &'static str, skip: usize, times: usize, fault: Fault) {
        self.state.rules.lock().unwrap().push(Rule {
            operation,
            skip,
            remaining: times,
            fault,
        });
    }

    /// Lets the requests held by [`Fault::Hold`] (and any later one) go on.
    pub fn release(&self) {
        self.state.released.send_replace(true);
    }

    /// Makes every update stay InProgress for the next `reads` GetFunction answers, with 409
    /// for UpdateFunctionCode and PublishVersion meanwhile, as Lambda does.
    pub fn updates_take(&self, reads: usize) {
        self.state.lambda.lock().unwrap().update_reads = reads;
    }

    /// Waits (up to a minute) until a request for `operation` has reached the proxy.
    pub fn wait_for(&self, operation: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.count(operation) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no {operation} request within a minute: {:?}",
                self.operations()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn operations(&self) -> Vec<&'static str> {
        self.seen().iter().map(|s| s.operation).collect()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .count()
    }

    pub fn clear(&self) {
        self.state.seen.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Lambda operation a REST request is, from its method and path.
pub fn operation_of(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", [_, "functions"]) => "CreateFunction",
        ("GET", [_, "functions", _]) => "GetFunction",
        ("GET", [_, "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", [_, "functions", _, "code"]) => "UpdateFunctionCode",
        ("POST", [_, "functions", _, "versions"]) => "PublishVersion",
        ("GET", [_, "functions", _, "versions"]) => "ListVersionsByFunction",
        ("POST", [_, "functions", _, "aliases"]) => "CreateAlias",
        ("PUT", [_, "functions", _, "aliases", _]) => "UpdateAlias",
        ("GET", [_, "functions", _, "aliases", _]) => "GetAlias",
        ("PUT", [_, "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("GET", [_, "functions", _, "url"]) => "GetFunctionUrlConfig",
        ("POST", [_, "functions", _, "url"]) => "CreateFunctionUrlConfig",
        ("PUT", [_, "functions", _, "url"]) => "UpdateFunctionUrlConfig",
        ("GET", [_, "functions", _, "policy"]) => "GetPolicy",
        ("POST", [_, "functions", _, "policy"]) => "AddPermission",
        ("POST", [_, "functions", _, "invocations"]) => "Invoke",
        ("POST", ["2021-11-15", "functions", _, "response-streaming-invocations"]) => {
            "InvokeWithResponseStream"
        }
        // API Gateway (v2).
        ("GET", ["v2", "apis"]) => "GetApis",
        ("POST", ["v2", "apis"]) => "CreateApi",
        ("GET", ["v2", "apis", _, "integrations"]) => "GetIntegrations",
        ("POST", ["v2", "apis", _, "integrations"]) => "CreateIntegration",
        ("PATCH", ["v2", "apis", _, "integrations", _]) => "UpdateIntegration",
        ("GET", ["v2", "apis", _, "routes"]) => "GetRoutes",
        ("POST", ["v2", "apis", _, "routes"]) => "CreateRoute",
        ("PATCH", ["v2", "apis", _, "routes", _]) => "UpdateRoute",
        ("GET", ["v2", "apis", _, "stages"]) => "GetStages",
        ("POST", ["v2", "apis", _, "stages"]) => "CreateStage",
        ("PATCH", ["v2", "apis", _, "stages", _]) => "UpdateStage",
        _ => "Other",
    }
}

/// The IAM operations the tests see (IAM's query protocol names them in the form body), and
/// STS's one, which speaks the same protocol.
pub const IAM_OPERATIONS: &[&str] = &[
    "GetRole",
    "CreateRole",
    "ListAttachedRolePolicies",
    "AttachRolePolicy",
    // setup-ci's.
    "ListOpenIDConnectProviders",
    "GetOpenIDConnectProvider",
    "CreateOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider",
    "UpdateAssumeRolePolicy",
    "GetRolePolicy",
    "PutRolePolicy",
    "GetCallerIdentity",
];

/// `Action=CreateRole&...` -> "CreateRole".
pub fn iam_operation_of(body: &[u8]) -> Option<&'static str> {
    let body = std::str::from_utf8(body).ok()?;
    let action = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))?;
    IAM_OPERATIONS.iter().copied().find(|op| *op == action)
}

/// The CloudWatch Logs operations the tests see.
pub const LOGS_OPERATIONS: &[&str] = &["FilterLogEvents", "StartLiveTail", "PutLogEvents"];

/// `X-Amz-Target: Logs_20140328.FilterLogEvents` -> "FilterLogEvents".
pub fn logs_operation_of(headers: &HeaderMap) -> Option<&'static str> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    let action = target.strip_prefix("Logs_20140328.")?;
    LOGS_OPERATIONS.iter().copied().find(|op| *op == action)
}

/// Accepts connections until `stopped` fires; each is served by hyper.
async fn serve(
    listener: std::net::TcpListener,
    upstream: SocketAddr,
    state: Arc<State>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(request, upstream, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let operation = match operation_of(parts.method.as_str(), &path) {
        "Other" => iam_operation_of(&body)
            .or_else(|| logs_operation_of(&parts.headers))
            .unwrap_or("Other"),
        lambda => lambda,
    };
    let fault = {
        let mut rules = state.rules.lock().unwrap();
        let mut found = None;
        for rule in rules.iter_mut().filter(|r| r.operation == operation) {
            if rule.skip > 0 {
                rule.skip -= 1;
            } else if rule.remaining > 0 && found.is_none() {
                rule.remaining -= 1;
                found = Some(rule.fault.clone());
            }
        }
        found
    };
    state.seen.lock().unwrap().push(Seen {
        operation,
        path: path.clone(),
        body: body.to_vec(),
        faulted: matches!(fault, Some(Fault::Error(..) | Fault::Answer(..))),
        authorization: parts
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    });

    if let (Some(Fault::Error(status, code, message)), true) =
        (&fault, IAM_OPERATIONS.contains(&operation))
    {
        // IAM answers errors in XML (its query protocol).
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>0</RequestId></ErrorResponse>"
        );
        let response = Response::builder()
            .status(*status)
            .header("Content-Type", "text/xml")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        return Ok(response);
    }
    if let (Some(Fault::Error(status, code, message)), true) =
        (&fault, LOGS_OPERATIONS.contains(&operation))
    {
        // CloudWatch Logs answers errors in its JSON protocol.
        let body = serde_json::json!({"__type": code, "message": message}).to_string();
        let response = Response::builder()
            .status(*status)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        return Ok(response);
    }
    match &fault {
        Some(Fault::Hold) => {
            let _ = state
                .released
                .subscribe()
                .wait_for(|released| *released)
                .await;
        }
        Some(Fault::Error(status, kind, message)) => {
            return Ok(lambda_error(*status, kind, message));
        }
        Some(Fault::Answer(status, content_type, body)) => {
            let response = Response::builder()
                .status(*status)
                .header("Content-Type", *content_type)
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap();
            return Ok(response);
        }
        _ => {}
    }
    if operation == "AddClientIDToOpenIDConnectProvider" {
        return Ok(super::iam::add_client_id(upstream, &end_to_end(&parts.headers), &body).await);
    }
    let refused = state.lambda.lock().unwrap().before(operation, &path, &body);
    if let Some((status, kind, message)) = refused {
        return Ok(lambda_error(status, kind, &message));
    }
    if operation == "Invoke" || operation == "InvokeWithResponseStream" {
        return Ok(state
            .functions
            .invoke(upstream, &path, &parts.headers, body)
            .await);
    }
    state.functions.keep_zip(operation, &body);
    let request_body = body.clone();

    let mut forward = Request::builder().method(parts.method).uri(&path);
    *forward.headers_mut().unwrap() = end_to_end(&parts.headers);
    let answer =
        xtask_local::dev::http_client::send(upstream, forward.body(Full::new(body)).unwrap()).await;
    let (parts, mut body) = match answer {
        Ok(answer) => answer.into_parts(),
        Err(err) => {
            let response = Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(format!("{err:#}"))))
                .unwrap();
            return Ok(response);
        }
    };
    let lambda = state.lambda.lock().unwrap().after(
        operation,
        &path,
        &request_body,
        parts.status.as_u16(),
        body.to_vec(),
    );
    body = match lambda {
        Ok(answer) => Bytes::from(answer),
        Err((status, kind, message)) => return Ok(lambda_error(status, kind, &message)),
    };
    if let Some(Fault::Patch(fields)) = &fault {
        body = patch(body, fields);
    }
    let mut response = Response::builder().status(parts.status);
    *response.headers_mut().unwrap() = end_to_end(&parts.headers);
    Ok(response.body(Full::new(body)).unwrap())
}

/// An error answer as Lambda sends it.
pub fn lambda_error(status: u16, kind: &str, message: &str) -> Response<Full<Bytes>> {
    let origin = if status >= 500 { "Service" } else { "User" };
    let body = serde_json::json!({"Type": origin, "message": message}).to_string();
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("x-amzn-ErrorType", kind)
        .header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// The headers without the ones about this hop's framing, which hyper sets for the next.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    const FRAMING: [HeaderName; 4] = [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, EXPECT];
    let mut kept = headers.clone();
    for name in &FRAMING {
        kept.remove(name);
    }
    kept
}

/// Merges `fields` into the function configuration of a JSON answer (GetFunction nests it).
pub fn patch(body: Bytes, fields: &Value) -> Bytes {
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let target = if json.get("Configuration").is_some() {
        &mut json["Configuration"]
    } else {
        &mut json
    };
    if let (Some(target), Some(fields)) = (target.as_object_mut(), fields.as_object()) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    Bytes::from(serde_json::to_vec(&json).unwrap())
}
