//! `cargo xtask verify-static`: is this ELF a fully static executable Lambda can run?
//!
//! The check is a pure function over bytes ([`inspect`] then [`ElfReport::problems`], in
//! `elf.rs`); reading files and zips happens at the edge (`input.rs`), and [`check_zip`] is
//! the one check every deployment zip goes through, whichever command takes it.

mod elf;
mod input;

pub use elf::{inspect, ElfReport, NotInspectable, Policy};
pub use input::{read_input, Input, Kind};

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::bootstrap_zip;
use crate::lambda::Arch;
use crate::util::status::{error, hint};
use crate::workspace::Packages;

/// Loads the ELF bytes from `path`: the file itself, or `bootstrap` inside a zip (after the
/// zip's layout check).
pub fn load_elf(path: &Path) -> Result<Vec<u8>, NotInspectable> {
    let input = read_input(path, &[Kind::Elf, Kind::Zip])?;
    match input.kind {
        Kind::Elf => Ok(input.bytes),
        Kind::Zip => bootstrap_zip::bootstrap_from_zip(&input.bytes)
            .map_err(|e| NotInspectable(format!("{}: {e:#}", path.display()))),
    }
}

/// Outcome of a full check, as printed by `verify-static` and reused by `build`.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub path: PathBuf,
    pub arch: Arch,
    #[serde(flatten)]
    pub report: ElfReport,
    pub is_static: bool,
    pub problems: Vec<String>,
}

pub fn check(path: &Path, bytes: &[u8], policy: Policy) -> Result<Verdict, NotInspectable> {
    let report = inspect(bytes)?;
    let problems = report.problems(policy);
    Ok(Verdict {
        path: path.to_path_buf(),
        arch: policy.arch,
        is_static: problems.is_empty(),
        report,
        problems,
    })
}

impl Verdict {
    pub fn human(&self) -> String {
        let r = &self.report;
        let mut out = format!(
            "{}\n  class:           {}\n  machine:         {}\n  type:            {}\n  interpreter:     {}\n  needed:          {}\n  dynamic section: {}\n",
            self.path.display(),
            r.class,
            r.machine,
            r.elf_type,
            r.interpreter.as_deref().unwrap_or("none"),
            if r.needed.is_empty() { "none".to_string() } else { r.needed.join(", ") },
            if r.dynamic_section { "yes" } else { "no" },
        );
        if self.is_static {
            out.push_str(&format!(
                "  verdict:         static ({} Lambda bootstrap)\n",
                self.arch
            ));
        } else {
            out.push_str("  verdict:         NOT static\n");
            for p in &self.problems {
                out.push_str(&format!("    - {p}\n"));
            }
        }
        out
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ELF file, or zip holding `bootstrap`. Default: the zip `cargo xtask build` writes for
    /// each function (or those named with -p) and its architecture.
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub packages: Packages,
    /// Architecture the binary must be built for.
    /// [default: the function's `arch` in [package.metadata.lambda], else x86_64]
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Accept a static-pie (no interpreter, no needed libraries, but a dynamic section).
    #[arg(long)]
    pub allow_static_pie: bool,
    /// Print the report as JSON on stdout (one object per file checked).
    #[arg(long)]
    pub json: bool,
}

/// Exit status: 0 static, 1 not static, 2 not inspectable (the worst over the files checked).
pub fn run(args: Args) -> Result<std::process::ExitCode> {
    // Exit status 1 means "not static" only; a settings problem is a usage error.
    let inputs = match inputs(&args) {
        Ok(inputs) => inputs,
        Err(e) => {
            error(format!("{e:#}"));
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let mut worst = 0;
    for (path, arch) in inputs {
        let policy = Policy {
            arch,
            allow_static_pie: args.allow_static_pie,
        };
        worst = worst.max(check_one(&path, policy, args.path.is_none(), args.json)?);
    }
    Ok(std::process::ExitCode::from(worst))
}

/// The files to check and the architecture each must be for.
fn inputs(args: &Args) -> Result<Vec<(PathBuf, Arch)>> {
    if let Some(path) = &args.path {
        let arch = crate::workspace::functions::arch_for_path(&args.packages.package, args.arch)?;
        return Ok(vec![(path.clone(), arch)]);
    }
    Ok(args
        .packages
        .all()?
        .into_iter()
        .map(|f| {
            let arch = f.arch(args.arch);
            (f.zip_path(arch), arch)
        })
        .collect())
}

/// Checks one file, prints its report; returns its exit status.
fn check_one(path: &Path, policy: Policy, defaulted: bool, json: bool) -> Result<u8> {
    // Read errors name the path already; the ELF check's are about bytes, so name it here.
    let outcome = load_elf(path).and_then(|bytes| {
        check(path, &bytes, policy)
            .map_err(|e| NotInspectable(format!("{}: {}", path.display(), e.0)))
    });
    match outcome {
        Ok(verdict) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            } else {
                print!("{}", verdict.human());
            }
            Ok(if verdict.is_static { 0 } else { 1 })
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"path": path, "error": e.0, "is_static": false})
                );
            }
            error(&e.0);
            if defaulted && !path.exists() {
                hint("run `cargo xtask build` first, or pass a PATH");
            }
            Ok(2)
        }
    }
}

/// Used by `build` and `deploy`: the same check, as an error when it fails.
pub fn require_static(path: &Path, bytes: &[u8], arch: Arch) -> Result<Verdict> {
    let policy = Policy {
        arch,
        allow_static_pie: false,
    };
    let verdict = check(path, bytes, policy)
        .with_context(|| format!("{} is not a usable ELF", path.display()))?;
    if !verdict.is_static {
        bail!(
            "{} is not a fully static {arch} executable:\n  - {}",
            path.display(),
            verdict.problems.join("\n  - ")
        );
    }
    Ok(verdict)
}
/// A deployment zip that passed every check Lambda would otherwise fail late on.
#[derive(Debug, Clone)]
pub struct CheckedZip {
    pub bytes: Vec<u8>,
    pub code_sha256: String,
    pub unzipped_bytes: u64,
}

/// Reads a deployment zip a user gave (`--zip`) and applies every check: see [`check_zip`].
pub fn load_zip(path: &Path, arch: Arch) -> Result<CheckedZip> {
    let input = read_input(path, &[Kind::Zip])?;
    check_zip(path, input.bytes, arch)
}

/// All checks on a deployment zip: limits, layout, and a static `bootstrap` for `arch`.
pub fn check_zip(path: &Path, bytes: Vec<u8>, arch: Arch) -> Result<CheckedZip> {
    let entries =
        bootstrap_zip::entries(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let layout = bootstrap_zip::check_layout(bytes.len() as u64, &entries)
        .with_context(|| format!("refusing {}", path.display()))?;
    let binary = bootstrap_zip::bootstrap_from_zip(&bytes)
        .with_context(|| format!("refusing {}", path.display()))?;
    require_static(&path.join("bootstrap"), &binary, arch).with_context(|| {
        format!(
            "refusing {}: Lambda's provided.al2023 runtime may not run it \
             (check `--arch`, or rebuild with `cargo xtask build --arch {arch}`)",
            path.display()
        )
    })?;
    let unzipped_bytes = layout.unzipped_bytes;
    Ok(CheckedZip {
        code_sha256: crate::lambda::code_sha256(&bytes),
        bytes,
        unzipped_bytes,
    })
}
