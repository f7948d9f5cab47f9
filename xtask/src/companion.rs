//! The commands that need more than `build` does run in a companion binary of their own
//! package, compiled the first time one of them runs, not on every fresh `cargo xtask build`:
//! `xtask-aws` (the AWS SDK and its TLS stack) and `xtask-local` (the local emulator and the
//! dev tools: tokio, hyper, notify).
//!
//! [`Companion::exec`] builds that binary with the cargo that runs us and replaces this
//! process with it, passing the command line on untouched: flags, output and exit status
//! are the binary's.

use std::convert::Infallible;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::util::status::status;
use crate::workspace::{project_root, workspace_root_above};

/// A package feature of a companion, and what it adds to the companion's build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub name: &'static str,
    /// The crate it brings in (as in `target/debug/deps/lib<crate>-<hash>.rlib`): no such
    /// library yet means this build compiles it for the first time.
    pub crate_name: &'static str,
    /// What that compiles and about how long it takes, for the status line.
    pub compiles: &'static str,
}

/// A package whose binary runs some of `cargo xtask`'s commands.
pub struct Companion {
    /// The package, and its binary's name.
    pub package: &'static str,
    /// Names a prebuilt binary to run instead of building one (CI builds xtask-aws `--locked`
    /// before credentials exist; the tests run the one `cargo test --workspace` built).
    pub bin_env: &'static str,
    /// What its first build compiles, and about how long that takes, for the status line.
    pub compiles: &'static str,
    pub takes: &'static str,
    /// What it runs, for an error.
    pub runs: &'static str,
}

/// The workspace this xtask comes from, which holds the companions: the one of the package
/// `cargo run` names in CARGO_MANIFEST_DIR, else the project's. The two differ only when
/// XTASK_PROJECT_ROOT points the xtask at another checkout.
fn source_root() -> Result<PathBuf> {
    match std::env::var_os("CARGO_MANIFEST_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => workspace_root_above(Path::new(&dir)),
        None => Ok(project_root()),
    }
}

impl Companion {
    /// Builds the companion with `features` (a no-op when it is up to date), or takes the
    /// prebuilt one its variable names, and execs it with our arguments.
    pub fn exec(&self, features: &[Feature]) -> Result<Infallible> {
        let exe = match std::env::var_os(self.bin_env).filter(|p| !p.is_empty()) {
            Some(prebuilt) => PathBuf::from(prebuilt),
            None => self.build(&source_root()?, features)?,
        };
        let err = std::process::Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .env(crate::workspace::PROJECT_ROOT_ENV, project_root())
            .exec();
        Err(err).with_context(|| format!("starting {}", exe.display()))
    }

    /// `cargo build --package PACKAGE` in `root` (with `features`), returning the executable
    /// cargo reports.
    fn build(&self, root: &Path, features: &[Feature]) -> Result<PathBuf> {
        let package = self.package;
        // A relative CARGO_TARGET_DIR is where the cargo that built us put it: under the
        // directory we were started in, not under `root`, where this build runs.
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .filter(|t| !t.is_empty())
            .map(|t| std::path::absolute(PathBuf::from(t)))
            .transpose()
            .context("resolving CARGO_TARGET_DIR")?;
        // Where a dev build puts it; only decides whether to announce a long first compile.
        let debug = target_dir
            .clone()
            .unwrap_or_else(|| root.join("target"))
            .join("debug");
        let built = debug.join(package).exists();
        // Listed only when a feature's crate could be missing: not on every plain `invoke`.
        let libraries: Vec<String> = match built && !features.is_empty() {
            true => std::fs::read_dir(debug.join("deps"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect(),
            false => Vec::new(),
        };
        for line in self.first_use(built, &libraries, features) {
            status("Compiling", line);
        }
        let sh = Shell::new()?;
        sh.change_dir(root);
        let cargo = crate::workspace::cargo();
        let names: Vec<&str> = features.iter().map(|f| f.name).collect();
        let features = match names.is_empty() {
            true => Vec::new(),
            false => vec!["--features".to_string(), names.join(",")],
        };
        // Not --quiet: cargo's own progress on stderr (its bar on a terminal, a line per crate
        // otherwise); the JSON messages go to stdout, read for the binary's path, so a `--json`
        // stdout of ours never sees them.
        let mut build = cmd!(
        sh,
        "{cargo} build --package {package} {features...} --message-format=json-render-diagnostics"
    )
        .quiet();
        if let Some(dir) = &target_dir {
            build = build.env("CARGO_TARGET_DIR", dir);
        }
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_package_variable) {
                build = build.env_remove(name);
            }
        }
        let messages = build
            .read()
            .with_context(|| format!("building {package}, which runs {}", self.runs))?;
        executable(&messages, package)
    }

    /// What a build is about to compile for the first time, one status line each: the whole
    /// companion when its binary is not there, else each feature whose crate's library is not
    /// among `libraries` (the file names in target/debug/deps). Nothing when all are there:
    /// then cargo only checks they are up to date.
    fn first_use(&self, built: bool, libraries: &[String], features: &[Feature]) -> Vec<String> {
        let later = "once; later runs only check it is up to date";
        if !built {
            return vec![format!(
                "{} (first use only: {}, {later})",
                self.compiles, self.takes
            )];
        }
        features
            .iter()
            .filter(|f| {
                let prefix = format!("lib{}-", f.crate_name);
                !libraries
                    .iter()
                    .any(|l| l.starts_with(&prefix) && l.ends_with(".rlib"))
            })
            .map(|f| format!("{} (first use only, {later})", f.compiles))
            .collect()
    }
}

/// A variable `cargo run` sets for the xtask package (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...).
/// Passed on, they would make this build differ from one started in a shell, as CI's is:
/// build scripts that read one (ring's reads CARGO_MANIFEST_DIR) would run again, and
/// everything above them would be recompiled.
fn is_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || [
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "OUT_DIR",
        ]
        .contains(&name)
}

/// The `package` executable named in cargo's JSON messages (one object per line).
pub fn executable(messages: &str, package: &str) -> Result<PathBuf> {
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_our_bin = message["reason"] == "compiler-artifact"
            && message["target"]["name"] == package
            && message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
        if let (true, Some(exe)) = (is_our_bin, message["executable"].as_str()) {
            return Ok(PathBuf::from(exe));
        }
    }
    bail!("cargo built {package} but reported no executable for it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_binary_among_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"xtask","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"xtask-aws","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"xtask-aws","kind":["bin"]},"executable":"/t/debug/xtask-aws","fresh":true}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n"
        );
        assert_eq!(
            executable(messages, "xtask-aws").unwrap(),
            PathBuf::from("/t/debug/xtask-aws")
        );
        let err =
            executable(r#"{"reason":"build-finished","success":true}"#, "xtask-aws").unwrap_err();
        assert!(err.to_string().contains("no executable"), "{err}");
    }

    #[test]
    fn a_first_compile_is_announced_once_for_what_it_is() {
        let aws = Companion {
            package: "xtask-aws",
            bin_env: "X",
            compiles: "the AWS SDK",
            takes: "a few minutes",
            runs: "AWS",
        };
        let logs = Feature {
            name: "logs",
            crate_name: "aws_sdk_cloudwatchlogs",
            compiles: "CloudWatch Logs's SDK crate",
        };
        let api = Feature {
            name: "api",
            crate_name: "aws_sdk_apigatewayv2",
            compiles: "API Gateway's SDK crate",
        };
        // No binary yet: one line for the whole build, whatever the features.
        let lines = aws.first_use(false, &[], &[logs, api]);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("the AWS SDK (first use only: a few minutes"),
            "{lines:?}"
        );
        // Built before without the features: a line for each feature's crate not yet compiled.
        let libraries = vec![
            "libaws_sdk_lambda-0a1b.rlib".to_string(),
            "libaws_sdk_apigatewayv2-9f8e.rlib".to_string(),
            // Not a library of the crate: a crate whose name only starts the same, a .d file.
            "libaws_sdk_cloudwatchlogs_extra-1.rlib".to_string(),
            "aws_sdk_cloudwatchlogs-2.d".to_string(),
        ];
        assert_eq!(
            aws.first_use(true, &libraries, &[logs, api]),
            vec![
                "CloudWatch Logs's SDK crate (first use only, once; later runs only check it is \
                  up to date)"
                    .to_string()
            ]
        );
        // Everything there: cargo's check only.
        assert!(aws.first_use(true, &libraries, &[api]).is_empty());
        assert!(aws.first_use(true, &libraries, &[]).is_empty());
    }

    #[test]
    fn only_package_variables_are_left_out_of_the_build() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_NAME",
            "OUT_DIR",
        ] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "PATH",
        ] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
