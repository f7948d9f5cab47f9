//! The ELF verdict, a pure function over bytes: what the headers say about how the kernel
//! would load the file ([`inspect`]), and every reason that is not a static executable for
//! Lambda ([`ElfReport::problems`]).
//!
//! Only program headers are consulted: they are what the kernel and the dynamic loader act
//! on, and they survive any amount of section stripping. The table is validated the way the
//! kernel reads it before anything trusts it, since a parser that skips an odd table (the
//! `object` crate returns none when `e_phoff` is 0) would see no PT_INTERP where the kernel
//! finds one.

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::Endianness;
use serde::Serialize;

use crate::lambda::Arch;

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
    /// PT_LOAD segments: without one, nothing is mapped and nothing runs.
    #[serde(skip)]
    pub load_segments: usize,
    /// Whether `e_entry` lies inside an executable PT_LOAD segment.
    #[serde(skip)]
    pub entry_executable: bool,
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
        if self.load_segments == 0 {
            problems.push("no PT_LOAD segment: the kernel would map nothing to run".to_string());
        } else if !self.entry_executable {
            problems
                .push("the entry point is outside every executable PT_LOAD segment".to_string());
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
    check_program_header_table::<H>(header, endian, data.len())?;
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| bad("program headers", e))?;

    let entry: u64 = header.e_entry(endian).into();
    let mut load_segments = 0;
    let mut entry_executable = false;
    let mut interpreter = None;
    let mut dynamic = None;
    for segment in segments {
        if segment.p_type(endian) == elf::PT_LOAD {
            load_segments += 1;
            let start: u64 = segment.p_vaddr(endian).into();
            let size: u64 = segment.p_memsz(endian).into();
            let executable = segment.p_flags(endian).contains(elf::PF_X);
            if executable && entry >= start && entry - start < size {
                entry_executable = true;
            }
        }
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
        load_segments,
        entry_executable,
    })
}

/// The program header table as the kernel reads it (fs/binfmt_elf.c, load_elf_phdrs): at
/// `e_phoff`, `e_phnum` entries of exactly the class's entry size, inside the file, at most
/// 64 KiB. A table that overlaps the ELF header, or an extended count (PN_XNUM), is refused:
/// no linker writes one, and a verdict must never rest on a table read differently here.
fn check_program_header_table<H: FileHeader<Endian = Endianness>>(
    header: &H,
    endian: Endianness,
    file_len: usize,
) -> Result<(), NotInspectable> {
    let bad = |why: String| {
        NotInspectable(format!(
            "truncated or inconsistent ELF program header table: {why}"
        ))
    };
    let phoff: u64 = header.e_phoff(endian).into();
    let phnum = u64::from(header.e_phnum(endian));
    let phentsize = u64::from(header.e_phentsize(endian));
    let entry_size = std::mem::size_of::<H::ProgramHeader>() as u64;
    let ehsize = std::mem::size_of::<H>() as u64;
    if phnum == 0 {
        // Nothing to read; `problems` reports that nothing would load.
        return Ok(());
    }
    if phnum == u64::from(elf::PN_XNUM) {
        return Err(bad("extended program header count (PN_XNUM)".into()));
    }
    if phentsize != entry_size {
        return Err(bad(format!(
            "e_phentsize is {phentsize}, the {entry_size}-byte entries of this class are expected"
        )));
    }
    if phoff < ehsize {
        return Err(bad(format!(
            "e_phoff {phoff} overlaps the {ehsize}-byte ELF header"
        )));
    }
    let table = phnum * entry_size;
    if table > 65_536 {
        return Err(bad(format!(
            "{table} bytes, over the kernel's 64 KiB limit"
        )));
    }
    if phoff
        .checked_add(table)
        .is_none_or(|end| end > file_len as u64)
    {
        return Err(bad(format!(
            "{phnum} entries at offset {phoff} end past the end of the file ({file_len} bytes)"
        )));
    }
    Ok(())
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
