//! The workspace's test binaries run in lanes, side by side: `cargo test` runs them one after
//! the other, and on two cores the longest (build_verify, making release builds) leaves a core
//! idle while the others mostly wait on moto and local servers.
//!
//! `cargo test --no-run --message-format=json` builds them and names them; each then runs as
//! cargo would run it (its package's folder as the working directory, `CARGO` and
//! `CARGO_MANIFEST_DIR` set), its output kept apart and printed whole when it ends.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use xtask::util::scratch::ScratchDir;
use xtask::util::status::{status, stderr_line};

/// One test executable, as cargo built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    pub package: String,
    /// The target's name (`deploy`, `build_verify`, or the package's for unit tests).
    pub name: String,
    pub path: PathBuf,
    pub manifest_dir: PathBuf,
}

impl TestBinary {
    fn label(&self) -> String {
        format!("{} ({})", self.name, self.package)
    }
}

/// How long each binary took on a fresh clone, in two lanes (seconds, BENCHMARKS.md's CI
/// table). Only the order matters: the longest first, so no long one starts last.
const SECONDS: &[(&str, u32)] = &[
    ("deploy", 200),
    ("build_verify", 160),
    ("readme", 45),
    ("watch", 33),
    ("workflows", 18),
    ("invoke", 8),
    ("journey", 7),
    ("setup_ci", 5),
    ("deploy_forwarding", 4),
];

/// The binaries longest first; those not in the table (unit tests, a few seconds) last, in
/// their given order.
pub fn order(mut binaries: Vec<TestBinary>) -> Vec<TestBinary> {
    let seconds = |b: &TestBinary| {
        SECONDS
            .iter()
            .find(|(name, _)| *name == b.name)
            .map_or(0, |(_, s)| *s)
    };
    // A stable sort keeps cargo's order among equals.
    binaries.sort_by_key(|b| std::cmp::Reverse(seconds(b)));
    binaries
}

/// The test executables in cargo's JSON messages (`compiler-artifact` of a test profile).
pub fn parse_artifacts(messages: &str) -> Result<Vec<TestBinary>> {
    let mut found = Vec::new();
    for line in messages.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("cargo printed `{line}`"))?;
        if v["reason"] != "compiler-artifact" || v["profile"]["test"] != true {
            continue;
        }
        let Some(path) = v["executable"].as_str() else {
            continue;
        };
        let manifest = v["manifest_path"].as_str().context("no manifest_path")?;
        let manifest_dir = PathBuf::from(manifest)
            .parent()
            .context("manifest_path has no folder")?
            .to_path_buf();
        found.push(TestBinary {
            package: package_name(v["package_id"].as_str().unwrap_or_default(), &manifest_dir),
            name: v["target"]["name"].as_str().unwrap_or_default().to_string(),
            path: PathBuf::from(path),
            manifest_dir,
        });
    }
    Ok(found)
}

/// The package's name from its id (`path+file:///…/aws#xtask-aws@0.1.0`, or the older
/// `xtask-aws 0.1.0 (path+file://…)`), else its folder's name.
fn package_name(id: &str, dir: &std::path::Path) -> String {
    if let Some((_, fragment)) = id.rsplit_once('#') {
        let name = fragment.split('@').next().unwrap_or(fragment);
        // `…/xtask#0.1.0`: the fragment is only a version when the name is the folder's.
        if !name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return name.to_string();
        }
    } else if let Some(name) = id.split(' ').next().filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What one binary did.
pub struct Outcome {
    pub binary: TestBinary,
    pub passed: bool,
    pub took: Duration,
}

/// Runs `binaries` in `lanes` threads, each taking the next from the queue; prints each one's
/// output whole when it ends. A binary that cannot be started counts as failed, with why.
pub fn run(
    binaries: Vec<TestBinary>,
    lanes: usize,
    cargo: &str,
    env: &[(&str, PathBuf)],
) -> Result<Vec<Outcome>> {
    let logs = ScratchDir::create("test-output")?;
    let queue = Mutex::new(binaries.into_iter().collect::<VecDeque<_>>());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..lanes.max(1) {
            scope.spawn(|| loop {
                let Some(binary) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
                else {
                    return;
                };
                let outcome = run_one(&binary, cargo, env, logs.path()).unwrap_or_else(|e| {
                    xtask::util::status::error(format!("{}: {e:#}", binary.label()));
                    Outcome {
                        binary: binary.clone(),
                        passed: false,
                        took: Duration::ZERO,
                    }
                });
                outcomes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(outcome);
            });
        }
    });
    Ok(outcomes.into_inner().unwrap_or_else(|e| e.into_inner()))
}

fn run_one(
    binary: &TestBinary,
    cargo: &str,
    env: &[(&str, PathBuf)],
    logs: &Path,
) -> Result<Outcome> {
    status("Running", binary.label());
    // One file for both streams keeps their lines in the order they were written.
    // Cargo's file names are unique (a hash each); target names are not (a lib and a bin).
    let log_path = logs.join(
        binary
            .path
            .file_name()
            .context("a test binary without a name")?,
    );
    let mut log = std::fs::OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let started = Instant::now();
    let exit = Command::new(&binary.path)
        .current_dir(&binary.manifest_dir)
        .env("CARGO", cargo)
        .env("CARGO_MANIFEST_DIR", &binary.manifest_dir)
        .env("CARGO_PKG_NAME", &binary.package)
        .env_remove(xtask::workspace::PROJECT_ROOT_ENV)
        .env(super::BINARIES_BUILT_ENV, "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .status()
        .with_context(|| format!("running {}", binary.path.display()))?;
    let took = started.elapsed();
    let mut output = String::new();
    {
        use std::io::{Read, Seek};
        log.rewind()?;
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes)?;
        output.push_str(&String::from_utf8_lossy(&bytes));
    }
    let passed = exit.success();
    // Held while printing, so two binaries' outputs never interleave.
    static PRINT: Mutex<()> = Mutex::new(());
    let _printing = PRINT.lock().unwrap_or_else(|e| e.into_inner());
    stderr_line(format!(
        "---- {} ({}, {:.1} s) ----\n{}",
        binary.label(),
        if passed { "passed" } else { "FAILED" },
        took.as_secs_f64(),
        output.trim_end()
    ));
    Ok(Outcome {
        binary: binary.clone(),
        passed,
        took,
    })
}

/// One line per binary, then an error naming those that failed.
pub fn summarize(outcomes: &[Outcome]) -> Result<()> {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.binary.label())
        .collect();
    for o in outcomes {
        status(
            if o.passed { "Passed" } else { "Failed" },
            format!("{} in {:.1} s", o.binary.label(), o.took.as_secs_f64()),
        );
    }
    if !failed.is_empty() {
        bail!("tests failed in {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(name: &str) -> TestBinary {
        TestBinary {
            package: "xtask".into(),
            name: name.into(),
            path: PathBuf::from(format!("/t/{name}")),
            manifest_dir: PathBuf::from("/w/xtask"),
        }
    }

    #[test]
    fn the_longest_run_first_and_unknown_ones_last_in_their_order() {
        let given = ["xtask", "watch", "xtask_aws", "build_verify", "deploy"].map(binary);
        let names: Vec<String> = order(given.to_vec()).into_iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            ["deploy", "build_verify", "watch", "xtask", "xtask_aws"]
        );
    }

    #[test]
    fn test_executables_are_read_from_cargos_messages() {
        let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/xtask/aws#xtask-aws@0.1.0","manifest_path":"/w/xtask/aws/Cargo.toml","target":{"name":"deploy"},"profile":{"test":true},"executable":"/w/target/debug/deps/deploy-1"}
{"reason":"compiler-artifact","package_id":"path+file:///w/xtask#0.1.0","manifest_path":"/w/xtask/Cargo.toml","target":{"name":"xtask"},"profile":{"test":false},"executable":"/w/target/debug/xtask"}
{"reason":"compiler-artifact","package_id":"path+file:///w/xtask#0.1.0","manifest_path":"/w/xtask/Cargo.toml","target":{"name":"xtask"},"profile":{"test":true},"executable":"/w/target/debug/deps/xtask-2"}
{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0","manifest_path":"/r/serde/Cargo.toml","target":{"name":"serde"},"profile":{"test":false},"executable":null}
{"reason":"build-finished","success":true}"#;
        let found = parse_artifacts(messages).unwrap();
        assert_eq!(
            found,
            [
                TestBinary {
                    package: "xtask-aws".into(),
                    name: "deploy".into(),
                    path: "/w/target/debug/deps/deploy-1".into(),
                    manifest_dir: "/w/xtask/aws".into(),
                },
                TestBinary {
                    package: "xtask".into(),
                    name: "xtask".into(),
                    path: "/w/target/debug/deps/xtask-2".into(),
                    manifest_dir: "/w/xtask".into(),
                },
            ]
        );
        assert_eq!(
            package_name("xtask 0.1.0 (path+file:///w/xtask)", "/w/xtask".as_ref()),
            "xtask"
        );
        assert!(parse_artifacts("{not json").is_err());
    }
}
