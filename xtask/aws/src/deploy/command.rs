//! `cargo xtask deploy`'s edges: settings, the zip on disk, the output.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use xtask::deploy::Args;
use xtask::util::runtime;
use xtask::util::status::status;
use xtask::workspace::metadata;
use xtask::{build, verify};

use super::{flow, preflight};

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    // Settings first: a missing name must fail before a long build.
    let metadata::Target {
        function_name: function,
        arch,
    } = metadata::target(args.function_name.as_deref(), args.arch)?;
    if args.create && args.role.is_none() {
        bail!("--create needs the execution role: add --role ARN");
    }
    let preflight::Checked {
        function: target,
        mut summary,
    } = preflight::check(&args, &function)?;

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
        &args, &function, &target, arch, &zip_path, &zip,
    ))?;
    report.seconds = started.elapsed().as_secs_f64();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    if let Some(summary) = &mut summary {
        summary.append(&report.markdown())?;
    }
    Ok(())
}
