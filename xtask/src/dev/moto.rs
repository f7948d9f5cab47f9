//! moto, a real implementation of the Lambda and IAM APIs, for the deploy tests and benchmark.
//!
//! Installed into the workspace's virtualenv (`target/tools/venv`) by `cargo xtask test`; started on 127.0.0.1 with a free
//! port and killed when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use xshell::Shell;

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

/// A Lambda client for moto with fixed test credentials, independent of the environment.
pub fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .http_client(crate::deploy::http_client())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// CreateFunction with placeholder code (provided.al2023, handler bootstrap).
pub fn create_function(endpoint: &str, name: &str, arch: &str, role: &str) -> Result<()> {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Architecture, FunctionCode, Runtime};
    let placeholder = crate::bootstrap_zip::zip_bootstrap(b"placeholder", 1)?;
    block_on(
        lambda_client(endpoint)
            .create_function()
            .function_name(name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(role)
            .architectures(Architecture::from(arch))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(placeholder))
                    .build(),
            )
            .send(),
    )
    .map_err(|e| anyhow::anyhow!(aws_sdk_lambda::error::DisplayErrorContext(e).to_string()))
    .with_context(|| format!("creating function {name} on moto"))?;
    Ok(())
}

/// Runs one SDK future to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime starts")
        .block_on(future)
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

/// One plain HTTP/1.1 request with `Connection: close`; returns the status and the body text.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("not an HTTP response")?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((code, body.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_encoding() {
        assert_eq!(super::form_encode("a b/{\"c\"}"), "a%20b%2F%7B%22c%22%7D");
    }
}
