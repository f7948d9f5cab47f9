//! Invoke, which moto can only answer by running the function in Docker (not here): the proxy
//! runs the very zip that was uploaded under `cargo xtask invoke --serve`, and hands it the
//! request.
//!
//! Every zip an UpdateFunctionCode or CreateFunction sends through the proxy is kept by its
//! CodeSha256. An Invoke asks moto which code the qualified version holds (GetFunction with
//! the Qualifier), starts (once per zip) `xtask invoke --serve` on it, forwards the request
//! and answers with the emulator's answer, `X-Amz-Executed-Version` naming the version as
//! Lambda's does.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Request, Response};
use serde_json::Value;

/// The emulators started so far, one per zip, and the zips seen.
#[derive(Default)]
pub struct Functions {
    zips: Mutex<HashMap<String, PathBuf>>,
    servers: Mutex<HashMap<String, (Child, u16)>>,
    dir: Mutex<Option<tempfile::TempDir>>,
}

/// The `xtask` binary, up to date (`cargo test -p xtask-aws` alone does not build it).
pub fn xtask_binary() -> PathBuf {
    xtask_local::dev::binary_for_tests("xtask")
}

/// The `xtask-local` binary (which runs `cargo xtask invoke`), up to date.
pub fn xtask_local_binary() -> PathBuf {
    xtask_local::dev::binary_for_tests("xtask-local")
}

fn query_param(path: &str, key: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.replace("%24", "$"))
    })
}

impl Functions {
    /// Keeps the zip an UpdateFunctionCode or CreateFunction request carries.
    pub fn keep_zip(&self, operation: &str, body: &[u8]) {
        if !matches!(operation, "UpdateFunctionCode" | "CreateFunction") {
            return;
        }
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let zip = match operation {
            "CreateFunction" => &json["Code"]["ZipFile"],
            _ => &json["ZipFile"],
        };
        let Some(zip) = zip
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        else {
            return;
        };
        let sha = xtask::lambda::code_sha256(&zip);
        let mut dir = self.dir.lock().unwrap();
        let dir = dir.get_or_insert_with(|| tempfile::tempdir().unwrap());
        let path = dir
            .path()
            .join(format!("{}.zip", self.zips.lock().unwrap().len()));
        std::fs::write(&path, zip).unwrap();
        self.zips.lock().unwrap().entry(sha).or_insert(path);
    }

    /// The emulator's port for the zip of `sha`, started on first use.
    fn server_for(&self, sha: &str) -> Result<u16, String> {
        if let Some((_, port)) = self.servers.lock().unwrap().get(sha) {
            return Ok(*port);
        }
        let zip = self
            .zips
            .lock()
            .unwrap()
            .get(sha)
            .cloned()
            .ok_or_else(|| format!("no zip with CodeSha256 {sha} went through the proxy"))?;
        let log = zip.with_extension("log");
        let mut child = Command::new(xtask_local_binary())
            .args(["invoke", "--serve", "--port", "0", "--json", "--zip"])
            .arg(&zip)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .map_err(|e| format!("starting xtask invoke --serve: {e}"))?;
        // Its first line is {"url", "port"}; what follows is not needed (it copes with EPIPE).
        let mut stdout = child.stdout.take().unwrap();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        drop(stdout);
        let port = serde_json::from_slice::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .ok_or_else(|| {
                let _ = child.kill();
                let _ = child.wait();
                format!(
                    "xtask invoke --serve did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })? as u16;
        self.servers
            .lock()
            .unwrap()
            .insert(sha.to_string(), (child, port));
        Ok(port)
    }

    /// Lambda's answer to an Invoke request for `path`.
    pub async fn invoke(
        &self,
        upstream: SocketAddr,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response<Full<Bytes>> {
        let function = super::lambda::function_of(path);
        let qualifier = query_param(path, "Qualifier").unwrap_or_else(|| "$LATEST".into());
        let mut get = Request::get(format!(
            "/2015-03-31/functions/{function}?Qualifier={}",
            qualifier.replace('$', "%24")
        ));
        if let Some(auth) = headers.get(hyper::header::AUTHORIZATION) {
            get = get.header(hyper::header::AUTHORIZATION, auth);
        }
        let found =
            match xtask_local::dev::http_client::send(upstream, get.body(Full::default()).unwrap())
                .await
            {
                Ok(found) => found,
                Err(e) => {
                    return super::proxy::lambda_error(502, "ServiceException", &format!("{e:#}"))
                }
            };
        if !found.status().is_success() {
            return super::proxy::lambda_error(
                404,
                "ResourceNotFoundException",
                &format!("Function not found: {function}:{qualifier}"),
            );
        }
        let config: Value = serde_json::from_slice(found.body()).unwrap_or(Value::Null);
        let sha = config["Configuration"]["CodeSha256"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // Blocks the proxy while the emulator binds its port (it starts the function on the
        // first invocation, not before): a fraction of a second, once per zip.
        let port = match self.server_for(&sha) {
            Ok(port) => port,
            Err(why) => return super::proxy::lambda_error(500, "ServiceException", &why),
        };
        // The emulator answers both, as Lambda does.
        let mut forward = match path.contains("/response-streaming-invocations") {
            true => Request::post("/2021-11-15/functions/function/response-streaming-invocations"),
            false => Request::post("/2015-03-31/functions/function/invocations"),
        };
        for name in ["x-amz-log-type", "x-amz-invocation-type", "content-type"] {
            if let Some(value) = headers.get(name) {
                forward = forward.header(name, value);
            }
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let answer =
            match xtask_local::dev::http_client::send(addr, forward.body(Full::new(body)).unwrap())
                .await
            {
                Ok(answer) => answer,
                Err(e) => {
                    return super::proxy::lambda_error(502, "ServiceException", &format!("{e:#}"))
                }
            };
        let (parts, body) = answer.into_parts();
        let mut response = Response::builder().status(parts.status);
        for (name, value) in &parts.headers {
            if name != "x-amz-executed-version" && name != "content-length" {
                response = response.header(name, value);
            }
        }
        let version = config["Configuration"]["Version"]
            .as_str()
            .unwrap_or(&qualifier);
        response
            .header("x-amz-executed-version", version)
            .body(Full::new(body))
            .unwrap()
    }
}

impl Drop for Functions {
    fn drop(&mut self) {
        for (_, (mut child, _)) in self.servers.lock().unwrap().drain() {
            // SIGTERM: it stops its function's process group and exits.
            // SAFETY: kill(2) on a pid we spawned and have not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }
}
