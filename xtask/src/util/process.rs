//! Finding programs on PATH.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The first of `names` found as a file in one of PATH's directories.
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    find_in(std::env::var_os("PATH")?, names)
}

fn find_in(path: OsString, names: &[&str]) -> Option<PathBuf> {
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// PATH with `dir` in front, for a child that must find a tool beside another.
pub fn path_with(dir: &Path) -> std::io::Result<OsString> {
    std::env::join_paths(
        std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_name_in_path_order() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(b.path().join("tool"), "").unwrap();
        std::fs::write(a.path().join("tool-static"), "").unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(
            find_in(path.clone(), &["tool", "tool-static"]),
            Some(a.path().join("tool-static"))
        );
        assert_eq!(find_in(path, &["absent"]), None);
    }
}
