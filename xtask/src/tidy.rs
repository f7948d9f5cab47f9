//! Checks on the source tree itself, in the spirit of rust-analyzer's tidy tests.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Product code never depends on dev tooling: only `dev/` itself and the command line
/// (which dispatches `test` and `bench`) may name it.
#[test]
fn product_modules_never_import_dev() {
    let src = src_dir();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut offenders = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        if rel.starts_with("dev") || rel == Path::new("cli.rs") || rel == Path::new("tidy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("dev::") || line.contains("crate::dev") {
                offenders.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "product code imports dev/:\n{}",
        offenders.join("\n")
    );
}
