//! The README's console examples run as they are written, and print what the README shows.
//!
//! Each ```` ```console ```` block of README.md runs as one `sh` script in the checkout, with
//! `cargo xtask` the xtask binary this test run built (a `cargo` on PATH that hands `xtask` to
//! it and anything else to the real cargo), stdout and stderr together as a terminal shows
//! them. What a block needs first (moto standing in for AWS, in `eu-west-1`, with the account's
//! state the text describes; a server for `curl`; a copy of the checkout to edit for `watch`)
//! is set up by its entry in [`EXAMPLES`]; a block without an entry fails the test, so no
//! example goes unchecked. The rules of the comparison are `runner`'s.

mod common;
#[path = "readme/runner.rs"]
mod runner;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use common::*;
use runner::{blocks, check, Block};
use xtask_local::dev::moto::{isolate_aws_env, MotoServer};

/// The README's blocks, by their first command, and what each needs first.
const EXAMPLES: &[(&str, Setup)] = &[
    ("cargo xtask build", Setup::FreshZip),
    ("cargo xtask verify-static /bin/ls", Setup::Nothing),
    ("cargo xtask invoke '{\"hello\":\"world\"}'", Setup::Nothing),
    (
        "curl -s 'http://127.0.0.1:9000/hello?name=world'",
        Setup::Serve,
    ),
    ("cargo xtask watch", Setup::Watch),
    ("cargo xtask rollback", Setup::DeployedTwice),
    ("cargo xtask logs", Setup::Logged),
    (
        "cargo xtask deploy --function-name echo --create --alias live --api http",
        Setup::EmptyAccount,
    ),
    (
        "cargo xtask deploy --function-name echo --create --url",
        Setup::EmptyAccount,
    ),
    (
        "cargo xtask deploy --function-name echo --publish",
        Setup::FunctionWithOtherCode,
    ),
    ("cargo xtask bench deploy", Setup::Nothing),
    ("cargo xtask setup-ci", Setup::EmptyAccount),
];

#[derive(Debug, Clone, Copy)]
enum Setup {
    Nothing,
    /// The zip is rewritten, as on a first build (its up-to-date stamp removed).
    FreshZip,
    /// `cargo xtask invoke --serve --http rest` on port 9000, as the text before it says.
    Serve,
    /// A copy of the checkout, whose function's source is edited once `watch` serves.
    Watch,
    /// moto with nothing in it.
    EmptyAccount,
    /// moto with the function `echo` running other code than the built zip.
    FunctionWithOtherCode,
    /// moto with `echo`'s alias `live` moved by two deploys: created, then moved on.
    DeployedTwice,
    /// moto with `echo` and, in its log group, two invocations as Lambda logs them.
    Logged,
}

/// The up-to-date stamp `FreshZip` removes is shared: it runs alone; port 9000 too.
static ZIP: RwLock<()> = RwLock::new(());
static PORT_9000: Mutex<()> = Mutex::new(());

const LIMIT: Duration = Duration::from_secs(600);

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).unwrap()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The block whose first command starts with `prefix`.
fn block(prefix: &str) -> Block {
    let found: Vec<Block> = blocks(&readme())
        .into_iter()
        .filter(|b| b.commands.first().is_some_and(|c| c.starts_with(prefix)))
        .collect();
    assert_eq!(found.len(), 1, "README blocks starting `$ {prefix}`");
    found.into_iter().next().unwrap()
}

/// The shell a block runs in: `cargo xtask` is this run's xtask, AWS is moto (when given),
/// behind the tests' proxy, which answers Invoke by running the uploaded zip (moto would need
/// Docker): the smoke tests of the examples run the real bootstrap.
struct Shell {
    dir: tempfile::TempDir,
    root: PathBuf,
    aws: Option<(common::proxy::Proxy, MotoServer)>,
}

impl Shell {
    fn new(root: &Path, moto: Option<MotoServer>) -> Shell {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let xtask = common::invoke::xtask_binary();
        assert!(
            xtask.exists(),
            "{} (cargo test --workspace builds it)",
            xtask.display()
        );
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let shim = bin.join("cargo");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\nif [ \"$1\" = xtask ]; then shift; exec '{}' \"$@\"; fi\nexec '{cargo}' \"$@\"\n",
                xtask.display()
            ),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .args(["+x", shim.to_str().unwrap()])
            .status()
            .unwrap();
        Shell {
            dir,
            root: root.to_path_buf(),
            aws: moto.map(|moto| (common::proxy::Proxy::start(moto.addr), moto)),
        }
    }

    fn command(&self, script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("exec 2>&1\n{script}"))
            .current_dir(&self.root)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.dir.path().join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env(xtask::xtask_aws::BIN_ENV, env!("CARGO_BIN_EXE_xtask-aws"))
            .env(
                xtask::xtask_local::BIN_ENV,
                common::invoke::xtask_local_binary(),
            )
            .env("XTASK_PROJECT_ROOT", &self.root)
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        isolate_aws_env(&mut cmd, self.dir.path());
        // As a user in eu-west-1 sees it; the requests go to moto.
        cmd.env("AWS_REGION", "eu-west-1");
        if let Some((proxy, _)) = &self.aws {
            cmd.env("AWS_ENDPOINT_URL", proxy.endpoint());
        }
        cmd
    }

    /// Runs `script`, failing the test if it does not end within [`LIMIT`]; its output.
    fn run(&self, script: &str) -> Vec<String> {
        let (_, output) = self.run_bounded(script);
        output.lines().map(str::to_string).collect()
    }

    /// Runs `script` in a process group of its own, all of which is killed if it is not
    /// done within [`LIMIT`] (the test then fails); its success and output.
    fn run_bounded(&self, script: &str) -> (bool, String) {
        use std::os::unix::process::CommandExt;
        let mut child = self.command(script).process_group(0).spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (done, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            let _ = done.send(text);
        });
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // What the script left running may hold the pipe: read what came, briefly.
                let text = output
                    .recv_timeout(Duration::from_secs(10))
                    .unwrap_or_default();
                return (status.success(), text);
            }
            if Instant::now() > deadline {
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                panic!("`{script}` still ran after {LIMIT:?}; it and all it started were killed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A zip of other code than the built one, in the shell's directory.
    fn other_zip(&self) -> String {
        second_zip(self.dir.path()).display().to_string()
    }

    /// Runs `script` and insists it succeeds (a set-up step, not an example).
    fn setup(&self, script: &str) {
        let (ok, output) = self.run_bounded(script);
        assert!(ok, "set-up `{script}` failed:\n{output}");
    }
}

/// A background shell and all it started, in a process group of its own, stopped with SIGINT
/// (as Ctrl-C in a terminal) when dropped.
struct Background(Child);

impl Background {
    fn start(mut cmd: Command) -> Background {
        use std::os::unix::process::CommandExt;
        Background(cmd.process_group(0).spawn().unwrap())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let group = -(self.0.id() as i32);
        if let Ok(None) = self.0.try_wait() {
            unsafe { libc::kill(group, libc::SIGINT) };
            // Ctrl-C's way out is bounded: then SIGKILL, for the whole group.
            let deadline = Instant::now() + Duration::from_secs(30);
            while let Ok(None) = self.0.try_wait() {
                if Instant::now() > deadline {
                    unsafe { libc::kill(group, libc::SIGKILL) };
                    let _ = self.0.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Waits until `server` listens on `port`; fails the test if it ends first (e.g. the port
/// was taken) or takes over a minute.
fn wait_for_port(server: &mut Background, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the server for the example ended ({status}) before listening on {port}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server ended; something else listens on {port}"
    );
}

/// Runs the README block that starts with `prefix` after its set-up; compares its output.
fn example(prefix: &str) {
    let setup = EXAMPLES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, s)| *s)
        .unwrap();
    let block = block(prefix);
    // Built before any example runs, so no block shows cargo compiling the function.
    built_zip("x86_64");
    let root = workspace_root();
    let moto = || Some(MotoServer::start().expect("moto starts (cargo xtask test installs it)"));
    let printed = match setup {
        Setup::Nothing => {
            let _shared = ZIP.read().unwrap();
            Shell::new(&root, None).run(&block.script())
        }
        Setup::FreshZip => {
            let _alone = ZIP.write().unwrap();
            let stamp = built_zip("x86_64").with_extension("zip.stamp.json");
            std::fs::remove_file(&stamp).unwrap();
            Shell::new(&root, None).run(&block.script())
        }
        Setup::Serve => {
            let _shared = ZIP.read().unwrap();
            let _port = PORT_9000.lock().unwrap_or_else(|e| e.into_inner());
            let shell = Shell::new(&root, None);
            let mut server = shell.command("cargo xtask invoke --serve");
            server.stdout(Stdio::null());
            let mut server = Background::start(server);
            wait_for_port(&mut server, 9000);
            shell.run(&block.script())
        }
        Setup::Watch => {
            let _port = PORT_9000.lock().unwrap_or_else(|e| e.into_inner());
            watch(&block)
        }
        Setup::EmptyAccount => {
            // A deploy without --zip builds (and may rewrite the stamp FreshZip removes).
            let _shared = ZIP.read().unwrap();
            Shell::new(&root, moto()).run(&block.script())
        }
        Setup::FunctionWithOtherCode => {
            let _shared = ZIP.read().unwrap();
            let shell = Shell::new(&root, moto());
            let other = shell.other_zip();
            shell.setup(&format!(
                "cargo xtask deploy --function-name echo --create --zip {other}"
            ));
            shell.run(&block.script())
        }
        Setup::DeployedTwice => {
            let _shared = ZIP.read().unwrap();
            let shell = Shell::new(&root, moto());
            shell.setup("cargo xtask deploy --function-name echo --create --alias live");
            let other = shell.other_zip();
            shell.setup(&format!(
                "cargo xtask deploy --function-name echo --alias live --zip {other}"
            ));
            shell.run(&block.script())
        }
        Setup::Logged => {
            let _shared = ZIP.read().unwrap();
            let shell = Shell::new(&root, moto());
            let zip = built_zip("x86_64");
            shell.setup(&format!(
                "cargo xtask deploy --function-name echo --create --zip {}",
                zip.display()
            ));
            let (_, moto) = shell.aws.as_ref().unwrap();
            write_two_invocations(&moto.endpoint());
            shell.run(&block.script())
        }
    };
    // Cargo's notes that another cargo (a test running beside this one) holds a lock are
    // about the test run, not what a user sees.
    let printed: Vec<String> = printed
        .into_iter()
        .filter(|l| {
            !l.trim_start()
                .starts_with("Blocking waiting for file lock on ")
        })
        .collect();
    if let Err(why) = check(&block.shown, &printed) {
        panic!(
            "README.md line {}: `{}`: {why}",
            block.line,
            block.commands.join("; ")
        );
    }
}

/// Two invocations of the echo function in its log group, in the lines Lambda writes with
/// the text format (tabs in REPORT), the first a cold start; a minute old.
fn write_two_invocations(endpoint: &str) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let ids = [
        "8286f3e9-9e5b-4a8e-bd3e-2b2e7c6e0c11",
        "0d6b0e3c-5a37-4c1e-9b57-51b3b1a2f7aa",
    ];
    let mut lines = vec![
        "INIT_START Runtime Version: provided:al2023.v109\tRuntime Version ARN: \
         arn:aws:lambda:eu-west-1::runtime:0123456789abcdef\n"
            .to_string(),
    ];
    for (n, id) in ids.iter().enumerate() {
        let (duration, billed, init) = match n {
            0 => ("1.52", 28, "Init Duration: 25.91 ms\t"),
            _ => ("1.03", 2, ""),
        };
        lines.extend([
            format!("START RequestId: {id} Version: 1\n"),
            format!(
                " INFO Lambda runtime invoke{{requestId=\"{id}\" xrayTraceId=\"Root=1-6750a2b1-0123456789abcdef01234567;Parent=89abcdef01234567;Sampled=0\"}}: echoing event request_id={id}\n"
            ),
            format!("END RequestId: {id}\n"),
            format!(
                "REPORT RequestId: {id}\tDuration: {duration} ms\tBilled Duration: {billed} ms\t\
                 Memory Size: 128 MB\tMax Memory Used: 14 MB\t{init}\n"
            ),
        ]);
    }
    let now = xtask::util::time::epoch_ms() as i64;
    let date = xtask::util::time::utc_date(std::time::SystemTime::now());
    let logs = xtask_aws::dev::moto_clients::logs_client(endpoint, "eu-west-1");
    let group = "/aws/lambda/echo";
    let stream = format!("{date}/[1]4f0c2e1d8a9b4c7e9f1a2b3c4d5e6f70");
    xtask_aws::dev::moto_clients::block_on(async {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(&stream)
            .send()
            .await
            .unwrap();
        let events = lines.iter().enumerate().map(|(i, line)| {
            InputLogEvent::builder()
                .timestamp(now - 60_000 + i as i64 * 100)
                .message(line)
                .build()
                .unwrap()
        });
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(&stream)
            .set_log_events(Some(events.collect()))
            .send()
            .await
            .unwrap();
    });
}

/// `watch` in a copy of the checkout: once it serves, the function's source is edited; once
/// it reloads, Ctrl-C. Its output up to then.
fn watch(block: &Block) -> Vec<String> {
    let parent = tempfile::tempdir().unwrap();
    let copy = parent.path().join("checkout");
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo", "function", "xtask"] {
        xtask::util::fs::copy_tree(&workspace_root().join(rel), &copy.join(rel)).unwrap();
    }
    // The copy's builds share their dependencies with every other copy's.
    let shared = workspace_root().join("target/copies");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, copy.join("target")).unwrap();
    let shell = Shell::new(&copy, None);
    let mut child = Background::start(shell.command(&block.script()));
    let mut stdout = child.0.stdout.take().unwrap();
    let seen = std::sync::Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + LIMIT;
        while !seen.lock().unwrap().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "watch never printed {needle:?}:\n{}",
                seen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("Serving");
    let lib = copy.join("function/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\n// edited\n")).unwrap();
    wait_for("Reloaded");
    drop(child);
    reader.join().unwrap();
    // Up to the reload: the README stops there (what Ctrl-C prints is not shown).
    let text = seen.lock().unwrap().clone();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let reloaded = lines.iter().position(|l| l.contains("Reloaded")).unwrap();
    lines.truncate(reloaded + 1);
    lines
}

#[test]
fn every_console_block_has_an_example_entry() {
    for block in blocks(&readme()) {
        let first = block.commands.first().cloned().unwrap_or_default();
        assert!(
            EXAMPLES.iter().any(|(prefix, _)| first.starts_with(prefix)),
            "README.md line {}: `{first}` has no entry in EXAMPLES (tests/readme.rs)",
            block.line
        );
    }
    assert!(blocks(&readme()).len() >= EXAMPLES.len());
}

#[test]
fn build() {
    example("cargo xtask build");
}

#[test]
fn verify_static() {
    example("cargo xtask verify-static /bin/ls");
}

#[test]
fn invoke() {
    example("cargo xtask invoke '{\"hello\":\"world\"}'");
}

#[test]
fn front_door_with_curl() {
    example("curl -s 'http://127.0.0.1:9000/hello?name=world'");
}

#[test]
fn watch_reloads_an_edit() {
    example("cargo xtask watch");
}

#[test]
fn rollback() {
    example("cargo xtask rollback");
}

#[test]
fn logs() {
    example("cargo xtask logs");
}

#[test]
fn deploy_an_http_api() {
    example("cargo xtask deploy --function-name echo --create --alias live --api http");
}

#[test]
fn deploy_from_an_empty_account() {
    example("cargo xtask deploy --function-name echo --create --url");
}

#[test]
fn deploy_publish_and_alias() {
    example("cargo xtask deploy --function-name echo --publish");
}

#[test]
fn bench_deploy() {
    example("cargo xtask bench deploy");
}

#[test]
fn setup_ci() {
    example("cargo xtask setup-ci");
}
