//! Watching the function's sources: its `src/`, its manifest, the workspace's manifest and
//! lock file. inotify through `notify`; a burst of events (an editor's save writes a temp
//! file, renames it, touches the directory) arrives as one change after a short quiet spell.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{new_debouncer, DebounceEventResult, Debouncer};
use tokio::sync::mpsc;

use xtask::workspace::{self, FunctionCrate};

/// Quiet time before a change counts: long enough to gather one save's events, short
/// enough not to be felt.
const QUIET: Duration = Duration::from_millis(150);

/// Watches until dropped; every settled change sends the paths it touched.
pub struct Sources {
    _debouncer: Debouncer<RecommendedWatcher>,
}

/// What is watched: the function's sources and manifest, and the workspace's manifest
/// and lock file (a dependency change rebuilds too).
pub fn watched(function: &FunctionCrate, root: &Path) -> Vec<PathBuf> {
    let mut paths = function.sources();
    paths.push(root.join("Cargo.toml"));
    paths.push(root.join("Cargo.lock"));
    paths
}

/// Whether a changed path matters: editors' swap and backup files do not.
pub fn relevant(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx"))
}

/// What the watched files hold, by size and modification time: inotify also reports a
/// file merely opened or read (cargo reads the manifests on every build), so an event only
/// counts when this changed.
pub type Fingerprint = std::collections::BTreeMap<PathBuf, (u64, Option<std::time::SystemTime>)>;

pub fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let mut out = Fingerprint::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if relevant(&path) {
            out.insert(path, (meta.len(), meta.modified().ok()));
        }
    }
    out
}

impl Sources {
    pub fn watch(
        function: &FunctionCrate,
        changes: mpsc::UnboundedSender<Vec<PathBuf>>,
    ) -> Result<Sources> {
        let root = workspace::project_root();
        let mut debouncer = new_debouncer(QUIET, move |result: DebounceEventResult| {
            if let Ok(events) = result {
                let paths: Vec<PathBuf> = events
                    .into_iter()
                    .map(|e| e.path)
                    .filter(|p| relevant(p))
                    .collect();
                if !paths.is_empty() {
                    let _ = changes.send(paths);
                }
            }
        })
        .context("starting the file watcher (inotify)")?;
        // A crate may keep its sources elsewhere than `src/` (`[lib] path`): what is not
        // there is not watched (its manifest is).
        for path in watched(function, &root).into_iter().filter(|p| p.exists()) {
            let mode = if path.is_dir() {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            debouncer
                .watcher()
                .watch(&path, mode)
                .with_context(|| format!("watching {}", path.display()))?;
        }
        Ok(Sources {
            _debouncer: debouncer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_changes_with_content_not_with_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src/lib.rs");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "fn a() {}").unwrap();
        let paths = vec![dir.path().join("src")];
        let before = fingerprint(&paths);
        let _ = std::fs::read(&file).unwrap();
        assert_eq!(fingerprint(&paths), before);
        std::fs::write(&file, "fn a() { }").unwrap();
        assert_ne!(fingerprint(&paths), before);
        std::fs::write(dir.path().join("src/.lib.rs.swp"), "x").unwrap();
        assert_eq!(fingerprint(&paths).len(), 1);
    }

    #[test]
    fn editor_droppings_do_not_count() {
        assert!(relevant(Path::new("/w/function/src/lib.rs")));
        assert!(relevant(Path::new("/w/Cargo.lock")));
        for junk in [".lib.rs.swp", "lib.rs~", ".#lib.rs", "4913.swx"] {
            assert!(
                !relevant(&Path::new("/w/function/src").join(junk)),
                "{junk}"
            );
        }
    }
}
