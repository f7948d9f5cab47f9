//! `cargo xtask deploy`'s edges: settings, the zip on disk, the output.

use std::time::Instant;

use anyhow::{bail, Result};
use xtask::deploy::Args;
use xtask::util::runtime;
use xtask::util::status::status;
use xtask::workspace::metadata;
use xtask::{build, verify};

use super::smoke::{self, SmokeTest};
use super::{flow, preflight};

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    // Settings first: a missing name must fail before a long build.
    let metadata::Target {
        function_name: function,
        arch,
    } = metadata::target(args.function_name.as_deref(), args.arch)?;
    // The settings are checked before the build and before any request.
    let metadata = metadata::load()?;
    let declared = args.settings.over(metadata.declared());
    xtask::lambda::settings::validate(&declared)?;
    // The smoke test's files too: a typo fails here, not after the upload.
    let smoke = smoke::files(
        args.smoke_event.as_deref(),
        args.smoke_expect.as_deref(),
        metadata.smoke_event.as_deref(),
        metadata.smoke_expect.as_deref(),
        &xtask::workspace::function().dir,
    )?
    .map(|(event, expect)| SmokeTest::load(event, expect))
    .transpose()?;
    let preflight::Checked {
        function: target,
        mut summary,
    } = preflight::check(&args, &function)?;

    let zip_path = match &args.zip {
        Some(path) => path.clone(),
        None => build::build(arch)?.zip,
    };
    // Looked at before it is read: a regular file within Lambda's limits, then every check.
    let zip = verify::load_zip(&zip_path, arch)?;
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
    let mut report = runtime.block_on(flow::deploy(flow::Inputs {
        args: &args,
        declared: &declared,
        function: &function,
        target: &target,
        arch,
        zip_path: &zip_path,
        zip: &zip,
        smoke: smoke.as_ref(),
    }))?;
    report.seconds = started.elapsed().as_secs_f64();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    if let Some(summary) = &mut summary {
        summary.append(&report.markdown())?;
    }
    if let Some(failed) = report.smoke.as_ref().filter(|s| !s.passed) {
        bail!(
            "the smoke test of {function} version {} failed: {}{}",
            failed.version,
            failed.failure.as_deref().unwrap_or("see above"),
            match &report.alias_kept {
                Some(kept) => format!("; {kept}"),
                None => String::new(),
            }
        );
    }
    Ok(())
}
