//! Checks on the source tree itself, in the spirit of rust-analyzer's tidy tests.

mod features;
mod imports;

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

/// The sources of the three packages: xtask's, xtask-aws's (xtask/aws) and xtask-local's
/// (xtask/local).
fn src_dirs() -> [PathBuf; 3] {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        xtask.join("src"),
        xtask.join("aws/src"),
        xtask.join("local/src"),
    ]
}

/// Product code never depends on dev tooling: only `dev/` itself and the command lines
/// (which dispatch `test` and `bench`) may name it, in any of the packages.
#[test]
fn product_modules_never_import_dev() {
    let mut offenders = Vec::new();
    for src in src_dirs() {
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(!files.is_empty(), "no sources in {}", src.display());
        for file in files {
            let rel = file.strip_prefix(&src).unwrap();
            if rel.starts_with("dev") || rel.starts_with("tidy") || rel == Path::new("cli.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("dev::") || line.contains("crate::dev") {
                    offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "product code imports dev/:\n{}",
        offenders.join("\n")
    );
}

/// Files stay small enough to read in one sitting: a file that outgrows this becomes a
/// folder of files, one concern each.
const MAX_LINES_BEFORE_TESTS: usize = 500;

#[test]
fn no_source_file_grows_past_its_limit() {
    let mut long = Vec::new();
    for src in src_dirs() {
        let mut files = Vec::new();
        sources(&src, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .count();
            if code > MAX_LINES_BEFORE_TESTS {
                long.push(format!("{}: {code} lines", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_LINES_BEFORE_TESTS} lines before #[cfg(test)]:\n{}",
        long.join("\n")
    );
}
