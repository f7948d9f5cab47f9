//! `cargo xtask new NAME [--http | --stream]`: a new function crate in the workspace, ready to build,
//! verify, invoke, watch and deploy. Every check comes before the first write, and a failure
//! after it puts the workspace back as it was.

mod members;
mod template;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::util::fs::write_atomically;
use crate::util::status::status;
use crate::workspace;

pub use template::Kind;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask new orders          # orders/: any JSON event in, JSON out\n  \
    cargo xtask new orders-api --http  # API Gateway / function URL events in, HTTP responses out\n  \
    cargo xtask new feed --stream   # a function URL event in, the answer streamed as produced\n\n\
    The crate is added to the workspace's members, with its [package.metadata.lambda] table, a \
    smoke event and the answer it must give, and a unit test.")]
pub struct Args {
    /// The function's name: its folder, package, binary and Lambda function name (lower-case
    /// letters, digits, `-` and `_`, at most 64).
    pub name: String,
    /// A handler for HTTP events (API Gateway HTTP and REST APIs, function URLs).
    #[arg(long)]
    pub http: bool,
    /// A handler that streams its answer (lambda_runtime's streaming response), behind a
    /// function URL in RESPONSE_STREAM mode (`invoke-mode` in its table).
    #[arg(long, conflicts_with = "http")]
    pub stream: bool,
}

pub fn run(args: Args) -> Result<()> {
    let name = args.name.as_str();
    members::check_name(name)?;
    let root = workspace::project_root();
    let dir = root.join(name);
    if std::fs::symlink_metadata(&dir).is_ok() {
        bail!("{} already exists", dir.display());
    }
    for (package, bins) in workspace::functions::members()? {
        if package == name || bins.iter().any(|b| b == name) {
            bail!("the workspace already has a package or binary named {name:?} ({package})");
        }
    }
    if let Some(f) = workspace::functions::discover()?
        .into_iter()
        .find(|f| f.lambda_name() == name)
    {
        bail!("{} is already the Lambda function {name:?}", f.package);
    }
    // cargo could not tell the new package from a dependency of the same name (`-p NAME`).
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    if members::locked_packages(&lock).any(|locked| locked == name) {
        bail!(
            "{name:?} is the name of a dependency in Cargo.lock: cargo could not tell them apart"
        );
    }
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let edited = members::add_member(&manifest, name)?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&manifest_path)
        .with_context(|| format!("{} cannot be written", manifest_path.display()))?;
    let kind = match (args.http, args.stream) {
        (true, _) => Kind::Http,
        (_, true) => Kind::Stream,
        _ => Kind::Event,
    };

    // From the first write to the last, Ctrl-C (or a TERM) waits: the workspace ends either
    // with the new function or as it was, never in between. cargo, started meanwhile,
    // inherits the same disposition.
    let _hold = HoldSignals::new();
    let mut undo = Undo {
        dir: None,
        manifest: (manifest_path.clone(), manifest.into_bytes()),
        lock: (
            root.join("Cargo.lock"),
            std::fs::read(root.join("Cargo.lock")).ok(),
        ),
        done: false,
    };
    write_crate(&root, &dir, name, kind, &mut undo)?;
    write_atomically(&manifest_path, edited.as_bytes())?;
    // Cargo.lock gains the package (its dependencies are already locked).
    let out = std::process::Command::new(workspace::cargo())
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .context("running `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "cargo could not read the workspace with {name} in it (nothing was kept): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    undo.done = true;
    status(
        "Created",
        format!(
            "{}/ (package and Lambda function {name}{}), a member of the workspace",
            workspace::rel(&dir),
            match kind {
                Kind::Http => ", HTTP events",
                Kind::Stream => ", a streamed answer",
                Kind::Event => "",
            }
        ),
    );
    println!("cargo xtask build -p {name}");
    println!("cargo xtask invoke -p {name} --data-file {name}/smoke/event.json");
    println!("cargo xtask deploy -p {name} --create --alias live");
    Ok(())
}

/// The files, written in a private folder beside their place and moved there in one rename.
fn write_crate(root: &Path, dir: &Path, name: &str, kind: Kind, undo: &mut Undo) -> Result<()> {
    let staging = root.join(format!(
        ".{name}.new-{:08x}",
        crate::util::random::random_u128() as u32
    ));
    std::fs::create_dir(&staging)
        .with_context(|| format!("{} cannot be written", root.display()))?;
    let written = (|| -> Result<()> {
        for (path, text) in template::files(name, kind) {
            let path = staging.join(path);
            std::fs::create_dir_all(path.parent().expect("files are in folders"))?;
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        std::fs::rename(&staging, dir)
            .with_context(|| format!("moving the new crate to {}", dir.display()))
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    } else {
        undo.dir = Some(dir.to_path_buf());
    }
    written
}

/// SIGINT and SIGTERM ignored while it lives, as they were before afterwards.
struct HoldSignals([libc::sighandler_t; 2]);

impl HoldSignals {
    fn new() -> HoldSignals {
        // SAFETY: signal(2) with SIG_IGN installs no handler code; the previous dispositions
        // are restored on drop.
        unsafe {
            HoldSignals([
                libc::signal(libc::SIGINT, libc::SIG_IGN),
                libc::signal(libc::SIGTERM, libc::SIG_IGN),
            ])
        }
    }
}

impl Drop for HoldSignals {
    fn drop(&mut self) {
        // SAFETY: puts back the dispositions `new` found.
        unsafe {
            libc::signal(libc::SIGINT, self.0[0]);
            libc::signal(libc::SIGTERM, self.0[1]);
        }
    }
}

/// Puts the workspace back unless the command finished.
struct Undo {
    dir: Option<PathBuf>,
    manifest: (PathBuf, Vec<u8>),
    lock: (PathBuf, Option<Vec<u8>>),
    done: bool,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = write_atomically(&self.manifest.0, &self.manifest.1);
        match &self.lock.1 {
            Some(bytes) => {
                let _ = write_atomically(&self.lock.0, bytes);
            }
            None => {
                let _ = std::fs::remove_file(&self.lock.0);
            }
        }
    }
}
