//! `build` and `verify-static` on real artifacts: the built bootstrap, real
//! dynamically linked and static-pie binaries, an ELF for another machine,
//! and inputs that are not ELF at all.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;
use xtask::bootstrap_zip;

fn verify(args: &[&str]) -> (i32, String, String) {
    let out = run(xtask().arg("verify-static").args(args));
    (
        out.status.code().expect("exited, not killed"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn verify_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec![path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = verify(&args);
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, v)
}

#[test]
fn built_bootstrap_is_static_exec_in_a_deterministic_zip() {
    let build = built("x86_64");
    let zip_path = built_zip("x86_64");
    let zip = std::fs::read(&zip_path).unwrap();

    // The digests the build printed are those of the bytes on disk.
    let sha = xtask::util::digest::sha256(&zip);
    assert_eq!(build["zip_sha256"], xtask::util::digest::hex(&sha));
    assert_eq!(build["code_sha256"], xtask::lambda::code_sha256(&zip));
    assert_eq!(build["zip_bytes"], zip.len() as u64);

    // Exactly one entry: bootstrap, regular file 0755, deflated, fixed timestamp.
    let entries = bootstrap_zip::entries(&zip).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e.name, "bootstrap");
    assert!(e.is_file);
    assert_eq!(e.unix_mode, Some(0o100755));
    assert_eq!(e.method, "Deflated");
    assert_eq!(e.modified, (1980, 1, 1, 0, 0, 0));

    // Unzipped bytes are the binary cargo built and the build verified.
    let inner = bootstrap_zip::bootstrap_from_zip(&zip).unwrap();
    let binary = std::fs::read(build["binary"].as_str().unwrap()).unwrap();
    assert_eq!(inner, binary);
    assert_eq!(
        build["binary_sha256"],
        xtask::util::digest::hex(&xtask::util::digest::sha256(&binary))
    );

    // And verify-static agrees, on the zip and on the bare ELF.
    for path in [
        zip_path.as_path(),
        Path::new(build["binary"].as_str().unwrap()),
    ] {
        let (code, v) = verify_json(path, &[]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["is_static"], true);
        assert_eq!(v["class"], "ELF64");
        assert_eq!(v["machine"], "x86_64");
        assert_eq!(v["type"], "EXEC");
        assert_eq!(v["interpreter"], serde_json::Value::Null);
        assert_eq!(v["needed"], serde_json::json!([]));
        assert_eq!(v["dynamic_section"], false);
    }
    // The default path is the build output.
    let (code, stdout, _) = verify(&[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("verdict:         static"), "{stdout}");
}

#[test]
fn up_to_date_rebuild_reuses_the_zip() {
    let first = built("x86_64");
    let out = run(xtask().args(["build", "--json"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        again["fresh"], true,
        "an unchanged binary must not be re-zipped"
    );
    assert_eq!(again["zip_sha256"], first["zip_sha256"]);
    assert!(!text(&out.stderr).contains("Zipping"));
}

#[test]
fn dynamically_linked_binary_fails_listing_needed_and_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    // A host (glibc) build: dynamically linked, like most binaries on the machine.
    let bin = rustc_fixture(dir.path(), "dynamic", HELLO, &[]);
    let (code, v) = verify_json(&bin, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["is_static"], false);
    let needed: Vec<&str> = v["needed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(needed.contains(&"libc.so.6"), "{needed:?}");
    let interp = v["interpreter"].as_str().unwrap();
    assert!(interp.starts_with("/lib"), "{interp}");
    let problems = v["problems"].to_string();
    assert!(problems.contains("needs libc.so.6"), "{problems}");
    assert!(
        problems.contains(&format!("interpreter {interp}")),
        "{problems}"
    );

    // A system binary too, in the human format.
    let (code, stdout, _) = verify(&["/bin/ls"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("needs libc.so.6"), "{stdout}");
    assert!(stdout.contains("NOT static"), "{stdout}");
}

#[test]
fn static_pie_fails_strict_mode_with_the_fix_and_passes_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    // musl's default output is static-pie: no interpreter, no NEEDED, but PT_DYNAMIC.
    let bin = rustc_fixture(
        dir.path(),
        "static_pie",
        HELLO,
        &["--target", "x86_64-unknown-linux-musl", "-Clinker=rust-lld"],
    );
    let (code, v) = verify_json(&bin, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["type"], "DYN");
    assert_eq!(v["dynamic_section"], true);
    assert_eq!(v["needed"], serde_json::json!([]));
    assert_eq!(
        v["problems"],
        serde_json::json!([
            "static-pie: has a dynamic section; build with -C relocation-model=static"
        ])
    );
    let (code, v) = verify_json(&bin, &["--allow-static-pie"]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn elf_for_another_machine_fails_naming_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let bin = rustc_fixture(
        dir.path(),
        "arm",
        HELLO,
        &[
            "--target",
            "aarch64-unknown-linux-musl",
            "-Clinker=rust-lld",
            "-Crelocation-model=static",
        ],
    );
    let (code, v) = verify_json(&bin, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["machine"], "aarch64");
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("wrong machine for x86_64: found aarch64"),
        "{problems}"
    );
    // The same binary is fine for arm64.
    let (code, v) = verify_json(&bin, &["--arch", "arm64"]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn unreadable_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bootstrap = std::fs::read(built("x86_64")["binary"].as_str().unwrap()).unwrap();

    let empty = d.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let textfile = d.join("notes.txt");
    std::fs::write(&textfile, b"#!/bin/sh\necho not an ELF\n").unwrap();
    let header_only = d.join("header-only");
    std::fs::write(&header_only, &bootstrap[..80]).unwrap();
    let half = d.join("half");
    std::fs::write(&half, &bootstrap[..bootstrap.len() / 2]).unwrap();
    let no_bootstrap = d.join("other.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&no_bootstrap).unwrap());
        w.start_file("handler", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&bootstrap).unwrap();
        w.finish().unwrap();
    }
    let cut_zip = d.join("cut.zip");
    let zip = std::fs::read(built_zip("x86_64")).unwrap();
    std::fs::write(&cut_zip, &zip[..zip.len() / 3]).unwrap();

    let cases: [(&Path, &str); 7] = [
        (&empty, "the file is empty"),
        (&textfile, "not an ELF file"),
        (&header_only, "truncated"),
        (&half, "truncated ELF"),
        (&no_bootstrap, "no `bootstrap`"),
        (&cut_zip, "not a readable zip"),
        (&d.join("missing"), "cannot be read"),
    ];
    for (path, expected) in cases {
        let (code, stdout, stderr) = verify(&[path.to_str().unwrap()]);
        assert_eq!(
            code,
            2,
            "{}: stdout {stdout} stderr {stderr}",
            path.display()
        );
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The path a user named is said once, before the reason.
#[test]
fn a_file_that_is_not_elf_is_named_once() {
    let out = run(xtask()
        .args(["verify-static", "README.md"])
        .current_dir(workspace_root()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: README.md: not an ELF file or a zip (neither \\x7fELF nor PK magic)\n"
    );
    assert_eq!(text(&out.stdout), "");
}

/// A stderr nobody reads any more costs the message, not the exit status (`eprintln!`
/// would panic with 101).
#[test]
fn a_closed_stderr_keeps_the_exit_status() {
    let mut child = xtask()
        .args(["verify-static", "README.md"])
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn pure_check_agrees_with_the_cli_on_every_policy() {
    use xtask::lambda::Arch;
    use xtask::verify::{inspect, Policy};
    let bootstrap = std::fs::read(built("x86_64")["binary"].as_str().unwrap()).unwrap();
    let report = inspect(&bootstrap).unwrap();
    let strict = Policy {
        arch: Arch::X86_64,
        allow_static_pie: false,
    };
    assert!(report.problems(strict).is_empty());
    let arm = Policy {
        arch: Arch::Arm64,
        allow_static_pie: false,
    };
    assert_eq!(
        report.problems(arm),
        ["wrong machine for arm64: found x86_64, expected aarch64 (target aarch64-unknown-linux-musl)"]
    );
}

// The clean build in another directory (byte-identical zips) is in xtask-aws's deploy tests
// (deploy/functions.rs), beside two more functions and their deploy.

#[test]
fn both_architectures_build_static_and_keep_separate_artifacts() {
    let x86 = built("x86_64");
    let arm = built("arm64");
    assert_ne!(
        x86["zip"], arm["zip"],
        "artifacts for two arches must not share a path"
    );
    assert_ne!(x86["zip_sha256"], arm["zip_sha256"]);
    assert_eq!(arm["target"], "aarch64-unknown-linux-musl");
    let arm_zip = PathBuf::from(arm["zip"].as_str().unwrap());
    assert!(
        arm_zip.ends_with("lambda/echo-function/arm64/bootstrap.zip"),
        "{}",
        arm_zip.display()
    );
    // The x86_64 zip is still the one its build reported.
    let x86_zip = std::fs::read(x86["zip"].as_str().unwrap()).unwrap();
    assert_eq!(xtask::lambda::code_sha256(&x86_zip), x86["code_sha256"]);

    let (code, v) = verify_json(&arm_zip, &["--arch", "arm64"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["machine"], "aarch64");
    assert_eq!(v["type"], "EXEC");
    assert_eq!(v["dynamic_section"], false);

    let (code, stdout, _) = verify(&[arm_zip.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("wrong machine for x86_64: found aarch64"),
        "{stdout}"
    );
}

#[test]
fn arch_defaults_to_package_metadata_lambda() {
    let arm_zip = built_zip("arm64");
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join("function/src")).unwrap();
    std::fs::write(project.path().join("function/src/main.rs"), HELLO).unwrap();
    std::fs::write(
        project.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"function\"]\n",
    )
    .unwrap();
    let manifest = project.path().join("function/Cargo.toml");
    let verify_in_project = || {
        run(xtask()
            .args(["verify-static", arm_zip.to_str().unwrap()])
            .env("XTASK_PROJECT_ROOT", project.path()))
    };

    std::fs::write(
        &manifest,
        "[package]\nname = \"f\"\n\n[package.metadata.lambda]\narch = \"arm64\"\n",
    )
    .unwrap();
    let out = verify_in_project();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    std::fs::write(
        &manifest,
        "[package]\nname = \"f\"\n\n[package.metadata.lambda]\n",
    )
    .unwrap();
    let out = verify_in_project();
    assert_eq!(
        out.status.code(),
        Some(1),
        "x86_64 is the default: {}",
        text(&out.stdout)
    );

    std::fs::write(
        &manifest,
        "[package]\nname = \"f\"\n\n[package.metadata.lambda]\narch = \"sparc\"\n",
    )
    .unwrap();
    let out = verify_in_project();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid [package.metadata.lambda]"),
        "{}",
        text(&out.stderr)
    );
}

/// `verify-static` on `path`, killed if it takes longer than a minute: a hang is a failure.
fn verify_bounded(path: &Path) -> (i32, String, String) {
    let mut child = xtask()
        .args(["verify-static", path.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("verify-static {} hung", path.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().expect("exited, not killed"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The kernel reads the program header table at e_phoff even when it is 0 (over the ELF
/// header); a parser that skips such a table must not call the file static.
#[test]
fn a_program_header_table_over_the_elf_header_is_not_called_static() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = std::fs::read("/bin/ls").unwrap();
    ls[16..18].copy_from_slice(&2u16.to_le_bytes()); // e_type = EXEC
    ls[32..40].copy_from_slice(&0u64.to_le_bytes()); // e_phoff = 0
    let path = dir.path().join("ls-phoff-0");
    std::fs::write(&path, &ls).unwrap();
    let (code, stdout, stderr) = verify_bounded(&path);
    assert_eq!(code, 2, "stdout {stdout} stderr {stderr}");
    assert!(
        stderr.contains("overlaps the 64-byte ELF header"),
        "{stderr}"
    );

    // An entry size that is not the class's: the table cannot be read as the kernel would.
    let mut odd = std::fs::read("/bin/ls").unwrap();
    odd[54..56].copy_from_slice(&40u16.to_le_bytes());
    std::fs::write(&path, &odd).unwrap();
    let (code, _, stderr) = verify_bounded(&path);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("e_phentsize is 40"), "{stderr}");
}

#[test]
fn nothing_to_load_or_an_entry_outside_code_is_not_static() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = std::fs::read(built("x86_64")["binary"].as_str().unwrap()).unwrap();
    let phoff = u64_at(&bootstrap, 32) as usize;
    let phnum = u16_at(&bootstrap, 56) as usize;

    let mut no_load = bootstrap.clone();
    for i in 0..phnum {
        let at = phoff + i * 56;
        if no_load[at..at + 4] == 1u32.to_le_bytes() {
            no_load[at..at + 4].copy_from_slice(&0u32.to_le_bytes()); // PT_LOAD -> PT_NULL
        }
    }
    let path = dir.path().join("no-load");
    std::fs::write(&path, &no_load).unwrap();
    let (code, stdout, _) = verify_bounded(&path);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("no PT_LOAD segment"), "{stdout}");

    let mut entry_zero = bootstrap.clone();
    entry_zero[24..32].copy_from_slice(&0u64.to_le_bytes());
    let path = dir.path().join("entry-0");
    std::fs::write(&path, &entry_zero).unwrap();
    let (code, stdout, _) = verify_bounded(&path);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("entry point is outside"), "{stdout}");
}

/// What is not a regular file, or is larger than Lambda would ever unpack, is refused at
/// once: no blocking on a FIFO, no reading /dev/zero or a 4 GiB sparse file into memory.
#[test]
fn fifos_devices_and_huge_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let sparse = dir.path().join("sparse.zip");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    for (path, expected) in [
        (fifo.as_path(), "is a FIFO"),
        (Path::new("/dev/zero"), "is a character device"),
        (dir.path(), "is a directory"),
        (
            sparse.as_path(),
            "over Lambda's 262144000-byte unzipped limit",
        ),
    ] {
        let (code, _, stderr) = verify_bounded(path);
        assert_eq!(code, 2, "{}: {stderr}", path.display());
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
    }
}

fn zip_with(path: &Path, entries: &[(&str, Option<u32>, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, mode, data) in entries {
        let mut options = zip::write::SimpleFileOptions::default();
        if let Some(mode) = mode {
            options = options.unix_permissions(*mode);
        }
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

/// The zip layout check every command shares, through verify-static: a bootstrap Lambda
/// could not execute, or a second entry of the same name, is refused.
#[test]
fn zips_lambda_would_fail_on_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = std::fs::read(built("x86_64")["binary"].as_str().unwrap()).unwrap();
    let ok = dir.path().join("ok.zip");
    zip_with(
        &ok,
        &[
            ("bootstrap", Some(0o755), &bootstrap),
            ("config.json", Some(0o644), b"{}"),
        ],
    );
    let (code, stdout, stderr) = verify_bounded(&ok);
    assert_eq!(code, 0, "extra files are allowed: {stdout} {stderr}");

    for (mode, expected) in [(0o644, "mode 0644"), (0o700, "mode 0700")] {
        let path = dir.path().join(format!("{mode:o}.zip"));
        zip_with(&path, &[("bootstrap", Some(mode), &bootstrap)]);
        let (code, _, stderr) = verify_bounded(&path);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("0755"),
            "{stderr}"
        );
    }

    // Two entries named bootstrap: a checked static one, and another in front of it.
    // The zip crate will not write a name twice, so respell "Bootstrap" in place.
    let twice = dir.path().join("twice.zip");
    zip_with(
        &twice,
        &[
            ("Bootstrap", Some(0o755), b"#!/bin/sh\n"),
            ("bootstrap", Some(0o755), &bootstrap),
        ],
    );
    let mut bytes = std::fs::read(&twice).unwrap();
    for i in 0..bytes.len() - 9 {
        if &bytes[i..i + 9] == b"Bootstrap" {
            bytes[i] = b'b';
        }
    }
    std::fs::write(&twice, &bytes).unwrap();
    let (code, _, stderr) = verify_bounded(&twice);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`bootstrap` more than once"), "{stderr}");
}
