//! `cargo xtask verify-static`: is this ELF a fully static executable Lambda can run?
//!
//! The check is a pure function over bytes ([`inspect`] then [`ElfReport::problems`]);
//! reading files and zips happens at the edge, in [`run`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::Endianness;
use serde::Serialize;

use crate::lambda::Arch;
use crate::{bootstrap_zip, workspace};

/// What the ELF headers say about how the binary is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElfReport {
    pub class: &'static str,
    pub machine: String,
    #[serde(rename = "type")]
    pub elf_type: String,
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    pub dynamic_section: bool,
}

/// How strict the check is. Lambda runs a static-pie too, but the shipped form
/// is a plain static EXEC, so static-pie fails unless explicitly allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub arch: Arch,
    pub allow_static_pie: bool,
}

impl ElfReport {
    /// Every reason this binary is not what Lambda's `provided.*` runtime should get.
    pub fn problems(&self, policy: Policy) -> Vec<String> {
        let mut problems = Vec::new();
        for lib in &self.needed {
            problems.push(format!("needs {lib}"));
        }
        if let Some(interp) = &self.interpreter {
            problems.push(format!("interpreter {interp}"));
        }
        let is_static_pie =
            self.dynamic_section && self.needed.is_empty() && self.interpreter.is_none();
        if self.dynamic_section && !(is_static_pie && policy.allow_static_pie) {
            if is_static_pie {
                problems.push(
                    "static-pie: has a dynamic section; build with -C relocation-model=static"
                        .to_string(),
                );
            } else {
                problems.push("has a dynamic section".to_string());
            }
        }
        match self.elf_type.as_str() {
            "EXEC" => {}
            // A DYN with a dynamic section is reported above (static-pie or dynamic linking).
            "DYN" if self.dynamic_section => {}
            other => problems.push(format!(
                "ELF type {other} is not a static executable (expected EXEC)"
            )),
        }
        if self.class != "ELF64" {
            problems.push(format!(
                "{} binary; Lambda runs 64-bit ELF only",
                self.class
            ));
        }
        if self.machine != policy.arch.elf_machine_name() {
            problems.push(format!(
                "wrong machine for {}: found {}, expected {} (target {})",
                policy.arch,
                self.machine,
                policy.arch.elf_machine_name(),
                policy.arch.target()
            ));
        }
        problems
    }
}

/// Why the bytes could not be inspected at all (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInspectable(pub String);

impl std::fmt::Display for NotInspectable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotInspectable {}

/// Reads the ELF header, program headers, PT_INTERP and PT_DYNAMIC's DT_NEEDED entries.
///
/// Only program headers are consulted: they are what the kernel and the dynamic
/// loader act on, and they survive any amount of section stripping.
pub fn inspect(data: &[u8]) -> Result<ElfReport, NotInspectable> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err(NotInspectable(if data.is_empty() {
            "the file is empty".to_string()
        } else {
            "not an ELF file (no \\x7fELF magic)".to_string()
        }));
    }
    // e_ident[EI_CLASS] is byte 4.
    match data.get(4) {
        Some(&c) if c == elf::ELFCLASS64.0 => {
            inspect_as::<elf::FileHeader64<Endianness>>(data, "ELF64")
        }
        Some(&c) if c == elf::ELFCLASS32.0 => {
            inspect_as::<elf::FileHeader32<Endianness>>(data, "ELF32")
        }
        Some(other) => Err(NotInspectable(format!("unknown ELF class {other}"))),
        None => Err(NotInspectable("truncated ELF header".to_string())),
    }
}

fn inspect_as<H: FileHeader<Endian = Endianness>>(
    data: &[u8],
    class: &'static str,
) -> Result<ElfReport, NotInspectable> {
    let bad = |what: &str, e: object::read::Error| {
        NotInspectable(format!("malformed or truncated ELF: {what}: {e}"))
    };
    let header = H::parse(data).map_err(|e| bad("header", e))?;
    let endian = header.endian().map_err(|e| bad("endianness", e))?;
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| bad("program headers", e))?;

    let mut interpreter = None;
    let mut dynamic = None;
    for segment in segments {
        // A cut-off file can still have intact headers; the loader would fail on it.
        if segment.p_type(endian) == elf::PT_LOAD && segment.data(endian, data).is_err() {
            return Err(NotInspectable(format!(
                "truncated ELF: a PT_LOAD segment ends past the end of the file ({} bytes)",
                data.len()
            )));
        }
        if let Some(interp) = segment
            .interpreter(endian, data)
            .map_err(|e| bad("PT_INTERP", e))?
        {
            interpreter = Some(String::from_utf8_lossy(interp).into_owned());
        }
        if let Some(entries) = segment
            .dynamic(endian, data)
            .map_err(|e| bad("PT_DYNAMIC", e))?
        {
            dynamic = Some(entries);
        }
    }

    let needed = match dynamic {
        Some(entries) => needed_libraries::<H>(entries, segments, endian, data)?,
        None => Vec::new(),
    };

    Ok(ElfReport {
        class,
        machine: machine_name(header.e_machine(endian)),
        elf_type: type_name(header.e_type(endian)),
        interpreter,
        needed,
        dynamic_section: dynamic.is_some(),
    })
}

/// DT_NEEDED names, resolved through DT_STRTAB mapped back to a file offset via PT_LOAD.
fn needed_libraries<H: FileHeader<Endian = Endianness>>(
    entries: &[H::Dyn],
    segments: &[H::ProgramHeader],
    endian: Endianness,
    data: &[u8],
) -> Result<Vec<String>, NotInspectable> {
    let mut strtab = None;
    let mut strsz = None;
    let mut needed_offsets = Vec::new();
    for entry in entries {
        let tag = entry.d_tag(endian);
        let val: u64 = entry.d_val(endian).into();
        match tag {
            elf::DT_NULL => break,
            elf::DT_NEEDED => needed_offsets.push(val),
            elf::DT_STRTAB => strtab = Some(val),
            elf::DT_STRSZ => strsz = Some(val),
            _ => {}
        }
    }
    if needed_offsets.is_empty() {
        return Ok(Vec::new());
    }
    let (Some(addr), Some(size)) = (strtab, strsz) else {
        return Err(NotInspectable(
            "malformed ELF: DT_NEEDED entries without DT_STRTAB/DT_STRSZ".to_string(),
        ));
    };
    let table = segments
        .iter()
        .filter(|s| s.p_type(endian) == elf::PT_LOAD)
        .find_map(|s| s.data_range(endian, data, addr, size).ok().flatten())
        .ok_or_else(|| {
            NotInspectable(
                "malformed or truncated ELF: dynamic string table is outside the file".into(),
            )
        })?;
    needed_offsets
        .into_iter()
        .map(|offset| {
            let tail = usize::try_from(offset)
                .ok()
                .and_then(|o| table.get(o..))
                .ok_or_else(|| {
                    NotInspectable("malformed ELF: DT_NEEDED offset out of range".into())
                })?;
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
        })
        .collect()
}

fn machine_name(machine: elf::Machine) -> String {
    match machine {
        elf::EM_X86_64 => "x86_64".into(),
        elf::EM_AARCH64 => "aarch64".into(),
        elf::EM_386 => "x86".into(),
        elf::EM_ARM => "arm".into(),
        elf::EM_RISCV => "riscv".into(),
        elf::EM_PPC64 => "ppc64".into(),
        elf::EM_S390 => "s390".into(),
        other => format!("machine {other}"),
    }
}

fn type_name(kind: elf::FileType) -> String {
    match kind {
        elf::ET_NONE => "NONE".into(),
        elf::ET_REL => "REL".into(),
        elf::ET_EXEC => "EXEC".into(),
        elf::ET_DYN => "DYN".into(),
        elf::ET_CORE => "CORE".into(),
        other => format!("type {other}"),
    }
}

/// Loads the ELF bytes from `path`: the file itself, or `bootstrap` inside a zip.
pub fn load_elf(path: &Path) -> Result<Vec<u8>, NotInspectable> {
    let bytes = std::fs::read(path)
        .map_err(|e| NotInspectable(format!("cannot read {}: {e}", path.display())))?;
    if bootstrap_zip::is_zip(&bytes) {
        bootstrap_zip::bootstrap_from_zip(&bytes).map_err(|e| NotInspectable(format!("{e:#}")))
    } else {
        Ok(bytes)
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
    /// ELF file, or zip holding `bootstrap`. Default: the zip `cargo xtask build` writes for --arch.
    pub path: Option<PathBuf>,
    /// Architecture the binary must be built for.
    /// [default: `arch` in [package.metadata.lambda], else x86_64]
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Accept a static-pie (no interpreter, no needed libraries, but a dynamic section).
    #[arg(long)]
    pub allow_static_pie: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Exit status: 0 static, 1 not static, 2 not inspectable.
pub fn run(args: Args) -> Result<std::process::ExitCode> {
    // Exit status 1 means "not static" only; a settings problem is a usage error.
    let arch = match crate::workspace::metadata::arch(args.arch) {
        Ok(arch) => arch,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let defaulted = args.path.is_none();
    let path = args.path.unwrap_or_else(|| workspace::zip_path(arch));
    let policy = Policy {
        arch,
        allow_static_pie: args.allow_static_pie,
    };
    let outcome = load_elf(&path).and_then(|bytes| check(&path, &bytes, policy));
    match outcome {
        Ok(verdict) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            } else {
                print!("{}", verdict.human());
            }
            Ok(if verdict.is_static {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"path": path, "error": e.0, "is_static": false})
                );
            }
            eprintln!("error: {}: {}", path.display(), e.0);
            if defaulted && !path.exists() {
                eprintln!("hint: run `cargo xtask build` first, or pass a PATH");
            }
            Ok(std::process::ExitCode::from(2))
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

/// All checks on a deployment zip: limits, layout, and a static `bootstrap` for `arch`.
pub fn check_zip(path: &Path, bytes: Vec<u8>, arch: Arch) -> Result<CheckedZip> {
    let entries =
        bootstrap_zip::entries(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let unzipped_bytes = bootstrap_zip::check_layout(bytes.len() as u64, &entries)
        .with_context(|| format!("refusing to deploy {}", path.display()))?;
    let binary = bootstrap_zip::bootstrap_from_zip(&bytes)
        .with_context(|| format!("refusing to deploy {}", path.display()))?;
    require_static(&path.join("bootstrap"), &binary, arch).with_context(|| {
        format!(
            "refusing to deploy {}: Lambda's provided.al2023 runtime may not run it \
             (check `--arch`, or rebuild with `cargo xtask build --arch {arch}`)",
            path.display()
        )
    })?;
    Ok(CheckedZip {
        code_sha256: crate::lambda::code_sha256(&bytes),
        bytes,
        unzipped_bytes,
    })
}
