//! `cargo xtask deploy`'s edges: settings, the zip on disk, the output.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use xtask::deploy::Args;
use xtask::util::runtime;
use xtask::util::status::status;
use xtask::workspace::metadata;
use xtask::{build, verify};

use super::flow;

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    // Settings first: a missing name must fail before a long build.
    let metadata::Target {
        function_name: function,
        arch,
    } = metadata::target(args.function_name.as_deref(), args.arch)?;
    // The settings are checked before the build and before any request.
    let declared = args.settings.over(metadata::load()?.declared());
    xtask::lambda::settings::validate(&declared)?;

    let zip_path = match &args.zip {
        Some(path) => path.clone(),
        None => build::build(arch)?.zip,
    };
    let bytes =
        std::fs::read(&zip_path).with_context(|| format!("reading {}", zip_path.display()))?;
    let zip = verify::check_zip(&zip_path, bytes, arch)?;
    status(
        "Checked",
        format!(
            "{} ({} bytes, {} unzipped, static {arch} bootstrap, CodeSha256 {})",
            zip_path.display(),
            zip.bytes.len(),
            zip.unzipped_bytes,
            zip.code_sha256
        ),
    );

    let runtime = runtime::current_thread("the AWS SDK")?;
    let mut report = runtime.block_on(flow::deploy(
        &args, &declared, &function, arch, &zip_path, &zip,
    ))?;
    report.seconds = started.elapsed().as_secs_f64();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        append(Path::new(&summary), &report.markdown())
            .context("writing the GitHub step summary ($GITHUB_STEP_SUMMARY)")?;
    }
    Ok(())
}

fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("appending to {}", path.display()))
}
