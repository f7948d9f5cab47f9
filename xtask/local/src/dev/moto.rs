//! moto, a real implementation of the Lambda and IAM APIs, for the deploy tests and benchmark.
//!
//! Installed into the workspace's virtualenv (`target/tools/venv`) by `cargo xtask test`; started on 127.0.0.1 with a free
//! port and killed when dropped. Its Lambda side is spoken to with the AWS SDK, in xtask-aws
//! (xtask/aws/src/dev/moto_clients.rs); what is here needs no SDK.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use xshell::Shell;

use crate::dev::http_client;

/// The env var through which `cargo xtask test` hands the tests moto's path.
pub const MOTO_SERVER_ENV: &str = "MOTO_SERVER";

fn venv_moto_server() -> PathBuf {
    crate::dev::tools::venv().join("bin").join("moto_server")
}

/// Installs `moto[server]` into the workspace's virtualenv unless it is already there.
pub fn ensure_installed(sh: &Shell) -> Result<PathBuf> {
    crate::dev::tools::pip_tool(sh, "moto_server", "moto[server]")
}

/// $MOTO_SERVER, else the virtualenv's, else `moto_server` on PATH.
pub fn server_path() -> PathBuf {
    if let Some(path) = std::env::var_os(MOTO_SERVER_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let venv = venv_moto_server();
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("moto_server")
}

/// moto as the tests find it, installing it into the virtualenv only when there is none.
pub fn find_or_install(sh: &Shell) -> Result<PathBuf> {
    let found = server_path();
    let on_path = |name: &std::path::Path| {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
            .unwrap_or(false)
    };
    if found.is_absolute() || on_path(&found) {
        return Ok(found);
    }
    ensure_installed(sh)
}

/// A moto server on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    pub addr: SocketAddr,
}

impl MotoServer {
    pub fn start() -> Result<MotoServer> {
        Self::start_with(server_path())
    }

    pub fn start_with(program: PathBuf) -> Result<MotoServer> {
        let port = free_port()?;
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // AWS managed policies (AWSLambdaBasicExecutionRole, for `deploy --create`'s role)
            // exist only with this.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} failed; run `cargo xtask test` (it installs moto) or \
                     `pip install 'moto[server]'`",
                    program.display()
                )
            })?;
        let mut server = MotoServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if request(server.addr, "GET", "/moto-api/", &[], b"").is_ok() {
                return Ok(server);
            }
            if let Some(exit) = server.child.try_wait()? {
                bail!("{} exited before answering ({exit})", program.display());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer on {} within 60 s",
                    program.display(),
                    server.addr
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// IAM CreateRole (query protocol, form-encoded); returns the role's ARN.
    pub fn create_role(&self, name: &str) -> Result<String> {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let body = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={}&AssumeRolePolicyDocument={}",
            form_encode(name),
            form_encode(policy)
        );
        // moto picks the service from the credential scope; it does not check signatures.
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=0",
            ),
        ];
        let (code, text) = request(self.addr, "POST", "/", &headers, body.as_bytes())?;
        if code != 200 {
            bail!("IAM CreateRole answered HTTP {code}: {text}");
        }
        let arn = text
            .split("<Arn>")
            .nth(1)
            .and_then(|rest| rest.split("</Arn>").next())
            .context("IAM CreateRole answered without an <Arn>")?;
        Ok(arn.to_string())
    }
}

/// A child that talks to moto gets its fixed test credentials and nothing from the caller's
/// AWS setup (profiles, config files under `scratch`, endpoints, retry settings, CI's summary).
pub fn isolate_aws_env<'a>(cmd: &'a mut Command, scratch: &Path) -> &'a mut Command {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_LAMBDA",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "LAMBDA_FUNCTION_NAME",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", scratch.join("aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            scratch.join("aws-credentials"),
        )
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free local port")?;
    Ok(listener.local_addr()?.port())
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One request to `addr`; returns the status and the body as text.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String)> {
    let mut builder = hyper::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .with_context(|| format!("building the request {method} {path}"))?;
    let response = http_client::send_blocking(addr, request)?;
    Ok((
        response.status().as_u16(),
        String::from_utf8_lossy(response.body()).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_encoding() {
        assert_eq!(super::form_encode("a b/{\"c\"}"), "a%20b%2F%7B%22c%22%7D");
    }
}
