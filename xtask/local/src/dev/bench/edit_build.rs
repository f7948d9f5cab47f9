//! `cargo xtask build` after a one-line edit of the function, end to end, beside the
//! compile time cargo itself reports for the release build it runs (its `Finished`
//! line): what the xtask adds around cargo (`cargo run`'s check of the xtask, start-up,
//! the static check, the zopfli zip). Part of `cargo xtask bench watch`, which edits the
//! same copy of the workspace.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::edit::{next_edit, set_status_code, status_code_in};
use super::group::{check_interrupted, Group};
use super::table::Table;
use super::timing::{median, ratio_of, secs, POLL};
use xtask::util::status::status;
use xtask::workspace;

/// `cargo xtask build` after an edit, one run.
pub(super) struct BuildRun {
    /// The whole command, `cargo xtask build` through the cargo alias.
    total: Duration,
    /// What cargo's `Finished `release` profile … in X` line says.
    cargo: Duration,
    /// From the start until that line.
    until_finished: Duration,
}

/// Times `cargo xtask build` after one-line edits in the copy of our workspace, beside the
/// compile time cargo prints for the release build it runs.
pub(super) fn measure(
    scratch: &Path,
    ours: &Path,
    target: &Path,
    runs: usize,
) -> Result<Vec<BuildRun>> {
    status(
        "Building",
        "the copy once with `cargo xtask build` (untimed: compiles the xtask there)",
    );
    timed_build(scratch, ours, target)?;
    let lib = ours.join("function/src/lib.rs");
    let mut out = Vec::with_capacity(runs);
    for run in 0..runs {
        let text = std::fs::read_to_string(&lib)?;
        let next = next_edit(status_code_in(&text));
        let edited = set_status_code(&text, next).context("lib.rs sets no status code")?;
        std::fs::write(&lib, edited)?;
        let timing = timed_build(scratch, ours, target)?;
        status(
            "Measured",
            format!(
                "cargo xtask build run {}: {:.2} s, cargo's compile {:.2} s",
                run + 1,
                timing.total.as_secs_f64(),
                timing.cargo.as_secs_f64()
            ),
        );
        out.push(timing);
    }
    Ok(out)
}

/// `cargo xtask build` in `ours`, as a user types it; its stderr read line by line.
fn timed_build(scratch: &Path, ours: &Path, target: &Path) -> Result<BuildRun> {
    let mut command = Command::new(workspace::cargo());
    command
        .args(["xtask", "build", "--arch", "x86_64"])
        .current_dir(ours)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("XTASK_PROJECT_ROOT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut group = Group::spawn("cargo xtask build", command, libc::SIGINT, None)?;
    let stderr = group.take_stderr().context("cargo xtask build's stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send((start.elapsed(), line)).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(POLL) {
            Ok(line) => lines.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => check_interrupted()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let exit = group.wait()?;
    let total = start.elapsed();
    let log: Vec<String> = lines.iter().map(|(_, l)| l.clone()).collect();
    let _ = std::fs::write(scratch.join("build.log"), log.join("\n"));
    if !exit.success() {
        bail!("cargo xtask build failed ({exit}):\n{}", log.join("\n"));
    }
    let (until_finished, cargo) = lines
        .iter()
        .find_map(|(at, line)| cargo_finished_release(line).map(|d| (*at, d)))
        .with_context(|| {
            format!(
                "cargo xtask build printed no `Finished `release` profile` line:\n{}",
                log.join("\n")
            )
        })?;
    Ok(BuildRun {
        total,
        cargo,
        until_finished,
    })
}

/// The time in cargo's `Finished `release` profile [optimized] target(s) in 25.02s` (or
/// `in 1m 05s`), the line of the release build only (`cargo run`'s own build of the xtask
/// prints a `dev` one first).
fn cargo_finished_release(line: &str) -> Option<Duration> {
    let rest = line.trim().strip_prefix("Finished `release` profile")?;
    let (_, time) = rest.rsplit_once(" in ")?;
    let time = time.trim();
    let (minutes, seconds) = match time.split_once("m ") {
        Some((m, s)) => (m.parse::<u64>().ok()?, s),
        None => (0, time),
    };
    let seconds: f64 = seconds.strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(minutes as f64 * 60.0 + seconds).ok()
}

pub(super) fn render(runs: &[BuildRun]) -> String {
    let pick = |f: fn(&BuildRun) -> Duration| median(&runs.iter().map(f).collect::<Vec<_>>());
    let total = pick(|r| r.total);
    let cargo = pick(|r| r.cargo);
    let before = pick(|r| r.until_finished.saturating_sub(r.cargo));
    let after = pick(|r| r.total.saturating_sub(r.until_finished));
    let mut table = Table::new([
        format!("after a one-line edit, median of {}", runs.len()),
        "time".to_string(),
        "ratio".to_string(),
    ]);
    table
        .row([
            "cargo xtask build, end to end".to_string(),
            secs(total),
            String::new(),
        ])
        .row([
            "cargo's own `Finished release` time".to_string(),
            secs(cargo),
            String::new(),
        ])
        .row([
            "end to end / cargo's (target <= 1.5)".to_string(),
            String::new(),
            ratio_of(total, cargo),
        ])
        .row([
            "  before the compile (cargo run, xtask start)".to_string(),
            secs(before),
            String::new(),
        ])
        .row([
            "  after it (verify, zopfli zip, stamp)".to_string(),
            secs(after),
            String::new(),
        ]);
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_finished_lines() {
        let at = |line| cargo_finished_release(line);
        assert_eq!(
            at("    Finished `release` profile [optimized] target(s) in 25.02s"),
            Some(Duration::from_millis(25_020))
        );
        assert_eq!(
            at("    Finished `release` profile [optimized] target(s) in 1m 05s"),
            Some(Duration::from_secs(65))
        );
        assert_eq!(
            at("    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.21s"),
            None
        );
        assert_eq!(
            at("    Finished target/lambda/x86_64/bootstrap.zip (572408 bytes, …)"),
            None
        );
    }

    #[test]
    fn the_table_shows_the_ratio_and_where_the_rest_goes() {
        let ms = Duration::from_millis;
        let text = render(&[BuildRun {
            total: ms(30_000),
            cargo: ms(25_000),
            until_finished: ms(25_500),
        }]);
        assert!(text.contains("1.20"), "{text}");
        assert!(text.contains("4.50 s"), "{text}");
    }
}
