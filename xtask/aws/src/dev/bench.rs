//! `cargo xtask bench deploy`: what a deploy costs on the wire, measured against moto.
//!
//! A first deploy must carry the zip once; an unchanged redeploy must cost one GetFunction and
//! no code bytes. The counts come from the deploy's own SDK interceptor (every HTTP attempt).

use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use xshell::Shell;
use xtask::build;
use xtask::lambda::Arch;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask_local::dev::moto::{find_or_install, isolate_aws_env, MotoServer};

use crate::dev::moto_clients as moto;

/// One measured deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: &'static str,
    pub outcome: String,
    pub operations: Vec<String>,
    pub code_bytes: u64,
    pub request_bytes: u64,
    pub seconds: f64,
}

pub fn row(label: &'static str, report: &Value) -> Result<Row> {
    let calls = report["api_calls"]
        .as_array()
        .context("the deploy report has no api_calls")?;
    Ok(Row {
        label,
        outcome: report["outcome"].as_str().unwrap_or("?").to_string(),
        operations: calls
            .iter()
            .map(|c| c["operation"].as_str().unwrap_or("?").to_string())
            .collect(),
        code_bytes: report["bytes_uploaded"].as_u64().unwrap_or(0),
        request_bytes: calls
            .iter()
            .map(|c| c["request_bytes"].as_u64().unwrap_or(0))
            .sum(),
        seconds: report["seconds"].as_f64().unwrap_or(0.0),
    })
}

pub fn table(zip_bytes: u64, rows: &[Row]) -> String {
    let mut out = format!(
        "deploy against moto (127.0.0.1), x86_64 bootstrap.zip of {zip_bytes} bytes\n\
         {:<20} {:<10} {:>9} {:>12} {:>14} {:>8}  operations\n",
        "run", "outcome", "API calls", "code bytes", "request bytes", "time"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:<10} {:>9} {:>12} {:>14} {:>6.2} s  {}\n",
            r.label,
            r.outcome,
            r.operations.len(),
            r.code_bytes,
            r.request_bytes,
            r.seconds,
            r.operations.join(", ")
        ));
    }
    out
}

pub fn run() -> Result<()> {
    let sh = Shell::new()?;
    let artifact = build::build(&xtask_local::dev::echo_function()?, Arch::X86_64)?;
    let moto = MotoServer::start_with(find_or_install(&sh)?)?;
    status("Started", format!("moto at {}", moto.endpoint()));
    let role = moto.create_role("bench-role")?;
    moto::create_function(&moto.endpoint(), "bench", Arch::X86_64, &role)?;

    let mut rows = Vec::new();
    for label in ["first deploy", "unchanged redeploy"] {
        let report = deploy(&moto.endpoint(), &artifact.zip)?;
        rows.push(row(label, &report)?);
    }
    print!("{}", table(artifact.zip_bytes, &rows));
    Ok(())
}

/// The real CLI in a child process (this binary's `deploy`), with moto's fake credentials
/// kept out of our environment.
fn deploy(endpoint: &str, zip: &std::path::Path) -> Result<Value> {
    let exe = std::env::current_exe().context("locating the xtask-aws binary")?;
    let scratch = ScratchDir::create("bench-deploy")?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "deploy",
        "--function-name",
        "bench",
        "--json",
        "--endpoint-url",
        endpoint,
    ])
    .arg("--zip")
    .arg(zip);
    let out = isolate_aws_env(&mut cmd, scratch.path())
        .output()
        .context("running `xtask deploy`")?;
    if !out.status.success() {
        bail!(
            "the benchmark deploy failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("`xtask deploy --json` printed no JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_table() {
        let report = serde_json::json!({
            "outcome": "unchanged",
            "bytes_uploaded": 0,
            "seconds": 0.1,
            "api_calls": [{"operation": "GetFunction", "request_bytes": 0}]
        });
        let r = row("unchanged redeploy", &report).unwrap();
        assert_eq!(r.operations, ["GetFunction"]);
        assert_eq!(r.code_bytes, 0);
        let t = table(100, &[r]);
        assert!(t.contains("unchanged redeploy"), "{t}");
        assert!(t.contains("GetFunction"), "{t}");
    }
}
