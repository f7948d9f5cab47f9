//! Rebuilding on change: one build at a time, changes that arrive meanwhile folded into the
//! next one; a good build is published to the server, a failed one only reported.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use xshell::Shell;

use super::sources::{fingerprint, Fingerprint};
use crate::invoke::{Function, Settings, StaticCheck};
use xtask::build;
use xtask::lambda::Arch;
use xtask::util::status::{error, status};
use xtask::workspace::{self, rel, FunctionCrate};

#[derive(Clone)]
pub(super) struct Builder {
    pub arch: Arch,
    pub release: bool,
    pub settings: Settings,
    pub function: FunctionCrate,
    /// Its name in status lines, when several functions are watched.
    pub label: Option<String>,
}

impl Builder {
    /// `message`, naming the function when several are watched.
    fn named(&self, message: &str) -> String {
        match &self.label {
            Some(name) => format!("{name}: {message}"),
            None => message.to_string(),
        }
    }
}

impl Builder {
    /// Builds the function and prepares it to run, checked static either way.
    pub(super) fn build(&self) -> Result<Function> {
        if self.release {
            let zip = build::build(&self.function, self.arch)?.zip;
            return Function::prepare(&zip, self.arch, self.settings.clone(), StaticCheck::Require);
        }
        let sh = Shell::new()?;
        sh.change_dir(workspace::project_root());
        build::ensure_target(&sh, self.arch)?;
        let binary_path = build::compile_dev(&sh, &self.function, self.arch)?;
        let binary = std::fs::read(&binary_path)
            .with_context(|| format!("reading {}", binary_path.display()))?;
        let function = Function::from_binary(
            &binary,
            binary_path.parent().unwrap_or(&binary_path),
            self.arch,
            self.settings.clone(),
            StaticCheck::Require,
        )?;
        status(
            "Built",
            format!("{} (dev profile, static)", rel(&binary_path)),
        );
        Ok(function)
    }
}

/// Rebuilds after each settled change until the channel closes.
pub(super) async fn rebuild_on_change(
    builder: Builder,
    mut changes: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    publish: watch::Sender<Arc<Function>>,
    watched: Vec<PathBuf>,
    mut built_from: Fingerprint,
) {
    while let Some(mut paths) = changes.recv().await {
        // Changes that came while waiting are part of this build.
        while let Ok(more) = changes.try_recv() {
            paths.extend(more);
        }
        let now = fingerprint(&watched);
        if now == built_from {
            continue;
        }
        built_from = now;
        paths.sort();
        paths.dedup();
        let shown: Vec<String> = paths.iter().take(3).map(|p| rel(p)).collect();
        status("Changed", builder.named(&shown.join(", ")));
        let building = builder.clone();
        match tokio::task::spawn_blocking(move || building.build()).await {
            Ok(Ok(function)) => {
                status(
                    "Reloaded",
                    builder.named("the next invocation runs the new build"),
                );
                let _ = publish.send(Arc::new(function));
            }
            Ok(Err(err)) => {
                error(format!("{err:#}"));
                status(
                    "Serving",
                    builder.named("the last good build; fix the error and save again"),
                );
            }
            Err(_) => return,
        }
    }
}
