//! `cargo xtask deploy`'s edges: settings, the zips on disk, the output. Every selected
//! function (all of the workspace's unless `-p` names some) is checked before the first build
//! and the first request, built in one cargo invocation, then deployed, a few at a time, each
//! guarded as a deploy of one is; one failing neither stops nor hides the others.

use std::path::PathBuf;
use std::time::Instant;

use crate::sdk::runtime;
use anyhow::{bail, Result};
use futures_util::stream::{self, StreamExt};
use xtask::deploy::Args;
use xtask::lambda::names::FunctionRef;
use xtask::lambda::settings::{ApiKind, Declared, InvokeMode};
use xtask::lambda::Arch;
use xtask::util::status::{error, status};
use xtask::verify::CheckedZip;
use xtask::workspace::FunctionCrate;
use xtask::{build, verify};

use super::report::{summary_table, Report};
use super::smoke::{self, SmokeTest};
use super::step_summary::StepSummary;
use super::{flow, preflight};

/// Deploys in flight at once: each spends most of its time waiting on Lambda (updates to
/// apply, versions to publish), and a few keep well within Lambda's control-plane rates.
const AT_ONCE: usize = 4;

/// One function, everything checked, ready for its flow.
struct Prepared {
    name: String,
    target: FunctionRef,
    arch: Arch,
    declared: Declared,
    /// The API in front of it: `--api`, else the table's `api`.
    api: Option<ApiKind>,
    /// Its function URL's invoke mode: `--invoke-mode`, else the table's.
    invoke_mode: Option<InvokeMode>,
    smoke: Option<SmokeTest>,
    crate_: FunctionCrate,
}

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    // Settings first: a bad name, table or smoke file must fail before a long build.
    let selected = args.packages.all()?;
    if selected.len() > 1 {
        for (given, flag) in [
            (
                args.function_name.is_some(),
                "--function-name (or LAMBDA_FUNCTION_NAME)",
            ),
            (args.zip.is_some(), "--zip"),
        ] {
            if given {
                bail!(
                    "{flag} is for one function, and this deploy would update {}: pass -p \
                     NAME to deploy one",
                    selected
                        .iter()
                        .map(FunctionCrate::label)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    let mut summary: Option<StepSummary> = None;
    let mut prepared = Vec::new();
    for function in selected {
        let (one, step_summary) = prepare(&args, function)?;
        summary = summary.or(step_summary);
        prepared.push(one);
    }

    let zips: Vec<PathBuf> = match (&args.zip, &args.zip_dir) {
        (Some(path), _) => vec![path.clone()],
        // Built elsewhere (CI's test job), laid out as `target/lambda` is.
        (None, Some(dir)) => prepared
            .iter()
            .map(|p| p.crate_.zip_in(dir, p.arch))
            .collect(),
        (None, None) => build::build_all(
            &prepared
                .iter()
                .map(|p| (p.crate_.clone(), p.arch))
                .collect::<Vec<_>>(),
        )?
        .into_iter()
        .map(|a| a.zip)
        .collect(),
    };
    // Looked at before it is read: a regular file within Lambda's limits, then every check.
    let mut checked: Vec<CheckedZip> = Vec::new();
    for (zip_path, p) in zips.iter().zip(&prepared) {
        let zip = verify::load_zip(zip_path, p.arch)?;
        status(
            "Checked",
            format!(
                "{} ({} bytes, {} unzipped, static {} bootstrap, CodeSha256 {})",
                zip_path.display(),
                zip.bytes.len(),
                zip.unzipped_bytes,
                p.arch,
                zip.code_sha256
            ),
        );
        checked.push(zip);
    }

    let runtime = runtime::current_thread("the AWS SDK")?;
    let before_flows = started.elapsed();
    let outcomes: Vec<Result<Report>> =
        runtime.block_on(
            // In the workspace's order, AT_ONCE at a time.
            stream::iter(prepared.iter().zip(&zips).zip(&checked).map(
                |((p, zip_path), zip)| async {
                    let flow_started = Instant::now();
                    let inputs = flow::Inputs {
                        args: &args,
                        declared: &p.declared,
                        api: p.api,
                        invoke_mode: p.invoke_mode,
                        function: &p.name,
                        target: &p.target,
                        arch: p.arch,
                        zip_path,
                        zip,
                        smoke: p.smoke.as_ref(),
                    };
                    flow::deploy(inputs).await.map(|mut report| {
                        // What this function's deploy took, the checks and builds before included.
                        report.seconds = (before_flows + flow_started.elapsed()).as_secs_f64();
                        report
                    })
                },
            ))
            .buffered(AT_ONCE)
            .collect(),
        );

    let several = prepared.len() > 1;
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    for (p, outcome) in prepared.iter().zip(outcomes) {
        match outcome {
            Ok(report) => {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    if several && !reports.is_empty() {
                        println!();
                    }
                    print!("{}", report.human());
                }
                if let Some(summary) = &mut summary {
                    summary.append(&report.markdown())?;
                }
                if let Some(smoke) = report.smoke.as_ref().filter(|s| !s.passed) {
                    failed.push(format!(
                        "the smoke test of {} version {} failed: {}{}",
                        p.name,
                        smoke.version,
                        smoke.failure.as_deref().unwrap_or("see above"),
                        match &report.alias_kept {
                            Some(kept) => format!("; {kept}"),
                            None => String::new(),
                        }
                    ));
                }
                reports.push((p.name.clone(), Ok(report)));
            }
            Err(e) if !several => return Err(e),
            Err(e) => {
                let message = format!("{e:#}");
                error(format!("deploying {}: {message}", p.name));
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({ "function": p.name, "error": message })
                    );
                }
                failed.push(format!("{}: {message}", p.name));
                reports.push((p.name.clone(), Err(message)));
            }
        }
    }
    if several {
        let table = summary_table(&reports);
        if !args.json {
            print!("\n{}", table.text);
        }
        if let Some(summary) = &mut summary {
            summary.append(&table.markdown)?;
        }
    }
    match failed.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one}"),
        several => bail!(
            "{} of {} deploys failed:\n  - {}",
            several.len(),
            prepared.len(),
            several.join("\n  - ")
        ),
    }
}

/// One function's name, settings and smoke files, all checked.
fn prepare(args: &Args, function: FunctionCrate) -> Result<(Prepared, Option<StepSummary>)> {
    let name = args
        .function_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| function.function_name().to_string());
    let arch = function.arch(args.arch);
    let metadata = &function.metadata;
    let declared = args.settings.over(metadata.declared());
    xtask::lambda::settings::validate(&declared)?;
    // The smoke test's files too: a typo fails here, not after the upload.
    let smoke = smoke::files(
        args.smoke_event.as_deref(),
        args.smoke_expect.as_deref(),
        metadata.smoke_event.as_deref(),
        metadata.smoke_expect.as_deref(),
        &function.dir,
    )?
    .map(|(event, expect)| SmokeTest::load(event, expect))
    .transpose()?;
    let preflight::Checked {
        function: target,
        summary,
    } = preflight::check(args, &name)?;
    Ok((
        Prepared {
            name,
            target,
            arch,
            declared,
            api: args.one_time.api.or(metadata.api),
            invoke_mode: args.one_time.invoke_mode.or(metadata.invoke_mode),
            smoke,
            crate_: function,
        },
        summary,
    ))
}
