//! `cargo xtask bench watch`: edit → first correct answer, `cargo xtask watch` beside
//! `cargo lambda watch`, in the dev profile and in release; then `cargo xtask build` after a
//! one-line edit beside the compile time cargo reports for that very build.
//!
//! Each side serves its own copy of the function crate (ours: a copy of this workspace, as
//! the watch test makes one; the peer: [`Peer`]'s workspace) and only that copy is edited:
//! the status code the handler answers with, 201 and 202 in turn (`edit`), so every edit is
//! a real change whose answer shows it. From the write on, the side is invoked every 50 ms
//! until an answer carries the new code; answers of the old build do not count. The first
//! build of a watcher is its warm-up, reported apart. Runs alternate (ours, peer, peer, ours,
//! …) so the machine's noise falls on both.

use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Request;
use tokio::runtime::Runtime;

use super::edit::{next_edit, set_status_code, status_code_in};
use super::edit_build;
use super::group::{check_interrupted, interrupted, pause, take_over_signals, Group};
use super::table::Table;
use super::timing::{median, ratio_of, secs, POLL};
use super::{Measure, WatchArgs};
use crate::dev::http_client;
use crate::dev::peer::Peer;
use crate::runtime::current_thread;
use xtask::util::fs::copy_tree;
use xtask::util::scratch::ScratchDir;
use xtask::util::status::status;
use xtask::workspace;

/// Quiet time after an answer showed an edit, before the next edit.
const SETTLE: Duration = Duration::from_secs(2);
/// A first build may compile every dependency in release mode, on a busy machine.
const FIRST_BUILD_LIMIT: Duration = Duration::from_secs(60 * 60);
const EDIT_LIMIT: Duration = Duration::from_secs(30 * 60);
const EVENT: &[u8] = br#"{"bench":"watch"}"#;

/// What one profile measured, ours first, then the peer's.
struct ModeResult {
    release: bool,
    first_build: [Duration; 2],
    edits: [Vec<Duration>; 2],
}

pub fn run(args: WatchArgs) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    take_over_signals();
    let root = workspace::project_root();
    let scratch = ScratchDir::create("bench-watch")?;
    let ours = scratch.path().join("checkout");
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo", "function", "xtask"] {
        copy_tree(&root.join(rel), &ours.join(rel))?;
    }
    // Kept between runs of the benchmark, so only the first one compiles dependencies.
    let ours_target = workspace::target_dir().join("bench/watch");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir_all(&tmp)?;
    let runtime = current_thread("the benchmark")?;

    let mut modes = Vec::new();
    let watches: Vec<bool> = [Measure::Dev, Measure::Release]
        .iter()
        .filter(|m| args.measure.contains(m))
        .map(|m| *m == Measure::Release)
        .collect();
    if !watches.is_empty() {
        let peer = Peer::prepare()?;
        for release in watches {
            let ctx = Setup {
                runtime: &runtime,
                scratch: scratch.path(),
                ours: &ours,
                ours_target: &ours_target,
                tmp: &tmp,
                peer: &peer,
            };
            modes.push(measure_watch(&ctx, release, args.runs)?);
        }
    }
    let build = if args.measure.contains(&Measure::Build) {
        Some(edit_build::measure(
            scratch.path(),
            &ours,
            &ours_target,
            args.runs,
        )?)
    } else {
        None
    };
    println!();
    print!("{}", render_watch(&modes, args.runs));
    if let Some(build) = build {
        println!();
        print!("{}", edit_build::render(&build));
    }
    Ok(())
}

struct Setup<'a> {
    runtime: &'a Runtime,
    scratch: &'a Path,
    ours: &'a Path,
    ours_target: &'a Path,
    tmp: &'a Path,
    peer: &'a Peer,
}

/// A watcher being measured: where it listens, the file its edits go to, what that file
/// answers with now.
struct Side {
    group: Group,
    addr: SocketAddr,
    invoke_path: &'static str,
    lib: PathBuf,
    code: u16,
}

fn measure_watch(ctx: &Setup, release: bool, runs: usize) -> Result<ModeResult> {
    let profile = if release { "--release" } else { "dev profile" };
    let mut first_build = [Duration::ZERO; 2];
    let mut sides = Vec::with_capacity(2);
    // One after the other, so neither first build competes with the other.
    for (i, first) in first_build.iter_mut().enumerate() {
        let started = Instant::now();
        let mut side = if i == 0 {
            start_ours(ctx, release)?
        } else {
            start_peer(ctx, release)?
        };
        status(
            "Waiting",
            format!("for {}'s first build ({profile})", side.group.name()),
        );
        *first = wait_for(ctx.runtime, &mut side, started, FIRST_BUILD_LIMIT)?;
        status(
            "Ready",
            format!("{} after {:.1} s", side.group.name(), first.as_secs_f64()),
        );
        sides.push(side);
    }
    let mut edits = [Vec::new(), Vec::new()];
    for run in 0..runs {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let Some(side) = sides.get_mut(i) else {
                continue;
            };
            let time = edit_and_wait(ctx.runtime, side)?;
            status(
                "Measured",
                format!(
                    "{} ({profile}) run {}: {:.2} s",
                    side.group.name(),
                    run + 1,
                    time.as_secs_f64()
                ),
            );
            edits[i].push(time);
            pause(SETTLE)?;
        }
    }
    for side in &mut sides {
        status("Stopping", side.group.name());
        side.group.stop();
    }
    Ok(ModeResult {
        release,
        first_build,
        edits,
    })
}

/// `xtask watch` (this very binary) on the copy of our workspace.
fn start_ours(ctx: &Setup, release: bool) -> Result<Side> {
    let port = free_port()?;
    let mut command = Command::new(std::env::current_exe().context("finding this binary")?);
    command
        .args(["watch", "--arch", "x86_64", "--port", &port.to_string()])
        .args(release.then_some("--release"))
        .current_dir(ctx.ours)
        .env_remove("XTASK_PROJECT_ROOT")
        .env("CARGO_MANIFEST_DIR", ctx.ours.join("xtask"))
        .env("CARGO_TARGET_DIR", ctx.ours_target)
        .env("TMPDIR", ctx.tmp);
    let log = ctx.scratch.join(format!("ours-watch-{release}.log"));
    let group = Group::spawn("cargo xtask watch", command, libc::SIGINT, Some(&log))?;
    let lib = ctx.ours.join("function/src/lib.rs");
    side(
        group,
        port,
        "/2015-03-31/functions/function/invocations",
        &lib,
    )
}

/// `cargo lambda watch` on the peer's workspace: its default is a debug build for the
/// host, `--release` its release profile.
fn start_peer(ctx: &Setup, release: bool) -> Result<Side> {
    let port = free_port()?;
    let mut command = ctx.peer.command()?;
    command
        .args(["watch", "--invoke-port", &port.to_string()])
        .args(release.then_some("--release"))
        .env_remove("CARGO_MANIFEST_DIR");
    let log = ctx.scratch.join(format!("peer-watch-{release}.log"));
    let group = Group::spawn("cargo lambda watch", command, libc::SIGTERM, Some(&log))?;
    let lib = ctx.peer.workspace().join("function/src/lib.rs");
    // The function is named after its binary.
    side(
        group,
        port,
        "/2015-03-31/functions/bootstrap/invocations",
        &lib,
    )
}

fn side(group: Group, port: u16, invoke_path: &'static str, lib: &Path) -> Result<Side> {
    let text =
        std::fs::read_to_string(lib).with_context(|| format!("reading {}", lib.display()))?;
    let code = status_code_in(&text)
        .with_context(|| format!("{} sets no status code to edit", lib.display()))?;
    Ok(Side {
        group,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        invoke_path,
        lib: lib.to_path_buf(),
        code,
    })
}

/// A port free on both loopbacks now (cargo-lambda listens on `[::]`, ours on 127.0.0.1 and
/// ::1); it is handed to the watcher, which binds it a moment later.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Writes the next edit and times it until the first answer that shows it.
fn edit_and_wait(runtime: &Runtime, side: &mut Side) -> Result<Duration> {
    let next = next_edit(Some(side.code));
    let text = std::fs::read_to_string(&side.lib)?;
    let edited = set_status_code(&text, next)
        .with_context(|| format!("{} sets no status code to edit", side.lib.display()))?;
    let start = Instant::now();
    std::fs::write(&side.lib, edited).with_context(|| format!("writing {}", side.lib.display()))?;
    side.code = next;
    wait_for(runtime, side, start, EDIT_LIMIT)
}

/// Invokes every [`POLL`] until an answer carries `side.code`; the time since `start`.
fn wait_for(
    runtime: &Runtime,
    side: &mut Side,
    start: Instant,
    limit: Duration,
) -> Result<Duration> {
    loop {
        check_interrupted()?;
        if let Some(exit) = side.group.exited()? {
            bail!(
                "{} exited ({exit}); its output ends:\n{}",
                side.group.name(),
                side.group.log_tail(30)
            );
        }
        if let Ok(body) = invoke(runtime, side) {
            if answer_shows(&body, side.code) {
                return Ok(start.elapsed());
            }
        }
        if start.elapsed() > limit {
            bail!(
                "no answer with statusCode {} from {} within {} s; its output ends:\n{}",
                side.code,
                side.group.name(),
                limit.as_secs(),
                side.group.log_tail(30)
            );
        }
        pause(POLL)?;
    }
}

/// One invoke through the side's Invoke API; the answer's body.
fn invoke(runtime: &Runtime, side: &Side) -> Result<Bytes> {
    let request = Request::post(side.invoke_path).body(Full::new(Bytes::from_static(EVENT)))?;
    runtime.block_on(async {
        tokio::select! {
            answer = http_client::send(side.addr, request) => Ok(answer?.into_body()),
            () = interrupted() => bail!("interrupted"),
        }
    })
}

/// Whether an Invoke API answer is the function's response with `statusCode` = `code`.
fn answer_shows(body: &[u8], code: u16) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("statusCode")?.as_u64())
        == Some(u64::from(code))
}

fn render_watch(modes: &[ModeResult], runs: usize) -> String {
    if modes.is_empty() {
        return String::new();
    }
    let mut table = Table::new([
        "edit -> first correct answer, x86_64",
        "cargo xtask watch",
        "cargo lambda watch",
        "ratio",
    ]);
    for mode in modes {
        let profile = if mode.release {
            "--release"
        } else {
            "dev profile"
        };
        let [ours, peer] = [median(&mode.edits[0]), median(&mode.edits[1])];
        table.row([
            format!("{profile}: median of {runs}"),
            secs(ours),
            secs(peer),
            ratio_of(ours, peer),
        ]);
        let [ours, peer] = mode.first_build.map(Some);
        table.row([
            format!("{profile}: first build at start (warm-up)"),
            secs(ours),
            secs(peer),
            String::new(),
        ]);
    }
    format!(
        "{}ours: x86_64-unknown-linux-musl, static; --release is `cargo xtask build`'s zip (fat LTO, zopfli)\n\
         cargo lambda watch: the host's target (not musl), `cargo run` of the bootstrap; --release fat LTO\n",
        table.render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answer_with_the_new_code_counts() {
        let answer = br#"{"statusCode":201,"headers":{},"body":"{}","isBase64Encoded":false}"#;
        assert!(answer_shows(answer, 201));
        assert!(!answer_shows(answer, 202));
        assert!(!answer_shows(br#"{"errorType":"Runtime.ExitError"}"#, 201));
        assert!(!answer_shows(b"502 Bad Gateway", 201));
        assert!(!answer_shows(br#"{"statusCode":"201"}"#, 201));
    }

    #[test]
    fn tables_show_medians_and_ratios() {
        let ms = Duration::from_millis;
        let text = render_watch(
            &[ModeResult {
                release: false,
                first_build: [ms(60_000), ms(50_000)],
                edits: [vec![ms(1000), ms(3000), ms(2000)], vec![ms(4000)]],
            }],
            3,
        );
        assert!(text.contains("dev profile: median of 3"), "{text}");
        assert!(text.contains("2.00 s"), "{text}");
        assert!(text.contains("0.50"), "{text}");
    }
}
