//! The function: its bootstrap on disk and the environment Lambda would give it.

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use tokio::process::Command;

use xtask::bootstrap_zip;
use xtask::lambda::Arch;
use xtask::util::process::find_program;
use xtask::util::random::random_u128;
use xtask::util::scratch::ScratchDir;
use xtask::util::time::utc_date;
use xtask::verify::{self, Kind};

/// Whether the bootstrap must pass `verify-static` before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticCheck {
    Require,
    /// `--allow-dynamic`, or a peer's build the benchmarks run as it is.
    Skip,
}

/// The function version every invocation runs, as an unpublished function's.
pub(super) const VERSION: &str = "$LATEST";

/// What the function is configured with, as Lambda's function configuration would say.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub name: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// The declared environment, set beside Lambda's own variables.
    pub environment: std::collections::BTreeMap<String, String>,
}

/// The unpacked function, ready to start as many times as needed.
pub(crate) struct Function {
    pub settings: Settings,
    dir: ScratchDir,
    bootstrap: PathBuf,
    /// `qemu-aarch64` when the bootstrap is for another machine than this host.
    emulator: Option<PathBuf>,
    region: String,
    log_stream: String,
}

impl Function {
    /// Unpacks `bootstrap` from the zip into a private directory, mode 0755, after the
    /// checks every zip gets (layout, limits) and, unless `check` says otherwise, the static
    /// check deploy applies: what runs here should be what Lambda can run.
    pub(crate) fn prepare(
        zip_path: &Path,
        arch: Arch,
        settings: Settings,
        check: StaticCheck,
    ) -> Result<Function> {
        let zip = verify::read_input(zip_path, &[Kind::Zip])
            .map_err(anyhow::Error::new)
            .with_context(|| format!("run `cargo xtask build --arch {arch}` or pass --zip PATH"))?;
        let binary = bootstrap_zip::bootstrap_from_zip(&zip.bytes)
            .with_context(|| format!("unpacking {}", zip_path.display()))?;
        Function::from_binary(&binary, zip_path, arch, settings, check)
    }

    /// The bootstrap from `binary` (taken from `origin`, named in errors), checked as
    /// [`prepare`](Self::prepare) checks it.
    pub(crate) fn from_binary(
        binary: &[u8],
        origin: &Path,
        arch: Arch,
        settings: Settings,
        check: StaticCheck,
    ) -> Result<Function> {
        let emulator = emulator_for(binary, arch, origin)?;
        if check == StaticCheck::Require {
            verify::require_static(&origin.join("bootstrap"), binary, arch).with_context(|| {
                format!(
                    "refusing to run {}: it would not run on Lambda's provided.al2023 \
                         runtime (pass --allow-dynamic to run it here anyway)",
                    origin.display()
                )
            })?;
        }
        let dir = ScratchDir::create("invoke")?;
        let bootstrap = dir.path().join("bootstrap");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&bootstrap)
            .and_then(|mut file| file.write_all(binary))
            .with_context(|| format!("writing {}", bootstrap.display()))?;
        Ok(Function {
            region: std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|_| "us-east-1".into()),
            log_stream: format!(
                "{}/[{VERSION}]{:032x}",
                utc_date(SystemTime::now()),
                random_u128()
            ),
            settings,
            dir,
            bootstrap,
            emulator,
        })
    }

    pub(super) fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            self.region, self.settings.name
        )
    }

    /// The bootstrap as Lambda starts it: in its task root, with Lambda's environment and
    /// nothing else, under the emulator when it needs one.
    pub(super) fn command(&self, runtime_api: SocketAddr) -> Command {
        let mut command = match &self.emulator {
            Some(qemu) => {
                let mut c = Command::new(qemu);
                c.arg(&self.bootstrap);
                c
            }
            None => Command::new(&self.bootstrap),
        };
        command
            .env_clear()
            .envs(self.environment(runtime_api))
            .current_dir(self.dir.path());
        command
    }

    /// What [`command`](Self::command) runs, for an error message.
    pub(super) fn program(&self) -> String {
        format!(
            "{}{}",
            self.bootstrap.display(),
            match &self.emulator {
                Some(q) => format!(" under {}", q.display()),
                None => String::new(),
            }
        )
    }

    pub(super) fn is_emulated(&self) -> bool {
        self.emulator.is_some()
    }

    /// Lambda's environment for a `provided.al2023` function, nothing from ours
    /// except the logging switches a developer sets on purpose.
    fn environment(&self, runtime_api: SocketAddr) -> Vec<(String, OsString)> {
        let s = &self.settings;
        let mut env: Vec<(String, OsString)> = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", s.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", s.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", VERSION.into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", s.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", self.log_stream.clone()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("_HANDLER", "bootstrap".into()),
            ("LAMBDA_TASK_ROOT", self.dir.path().display().to_string()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("TZ", ":UTC".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
        // Lambda refuses declared variables that shadow its reserved ones; none is added
        // over them here either.
        for (key, value) in &s.environment {
            if !env.iter().any(|(k, _)| k == key) {
                env.push((key.clone(), value.into()));
            }
        }
        for key in [
            "AWS_LAMBDA_LOG_LEVEL",
            "AWS_LAMBDA_LOG_FORMAT",
            "RUST_LOG",
            "RUST_BACKTRACE",
        ] {
            if let Some(value) = std::env::var_os(key) {
                env.push((key.to_string(), value));
            }
        }
        env
    }
}

/// The emulator the bootstrap needs on this host, if any, once its machine matches `arch`.
fn emulator_for(binary: &[u8], arch: Arch, zip_path: &Path) -> Result<Option<PathBuf>> {
    // A bootstrap may be a script; only an ELF has a machine to check.
    let Ok(report) = verify::inspect(binary) else {
        return Ok(None);
    };
    if report.machine != arch.elf_machine_name() {
        bail!(
            "the bootstrap in {} is built for {}, but --arch is {arch}: \
             pass the --arch it was built for",
            zip_path.display(),
            report.machine
        );
    }
    if std::env::consts::ARCH == arch.elf_machine_name() {
        return Ok(None);
    }
    find_qemu_aarch64().map(Some).with_context(|| {
        format!(
            "the {arch} bootstrap cannot run natively on this {} host and qemu-aarch64 is not \
             installed: install it with `sudo apt-get install -y qemu-user` (Debian/Ubuntu), \
             or invoke the x86_64 build (--arch x86_64)",
            std::env::consts::ARCH
        )
    })
}

/// `qemu-aarch64` (or its static build) on PATH.
pub(crate) fn find_qemu_aarch64() -> Option<PathBuf> {
    find_program(&["qemu-aarch64", "qemu-aarch64-static"])
}
