//! `cargo xtask bench invoke`: cold init and warm invoke latency of our bootstrap and of
//! cargo-lambda's build of the same function, through the same local Runtime API.
//!
//! Both run under identical conditions: `invoke`'s [`Sandbox`], the same event, runs
//! interleaved (ours, peer, peer, ours, …) so machine noise falls on both alike.

use anyhow::{bail, Context, Result};
use hyper::body::Bytes;

use crate::invoke::{
    Console, Function, Invocation, InvocationOutcome, Sandbox, Settings, StaticCheck,
};
use crate::runtime::current_thread;
use xtask::build;
use xtask::lambda::{Arch, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT};
use xtask::util::status::status;
use xtask::util::time::ms;

/// Warm invocations measured after each cold start.
const WARM_PER_RUN: usize = 20;
const EVENT: &[u8] =
    br#"{"path":"/bench","httpMethod":"POST","body":"{\"n\":42}","isBase64Encoded":false}"#;

/// Samples for one bootstrap, in milliseconds.
#[derive(Default)]
struct Samples {
    cold_init: Vec<f64>,
    warm: Vec<f64>,
}

pub fn run_invoke_bench(runs: usize) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let ours = build::build(&crate::dev::echo_function()?, Arch::X86_64)?.zip;
    // Kept alive to the end: the peer's scratch workspace goes with it.
    let (_peer, peer) = crate::dev::peer::build_peer()?;
    let contenders = [("ours", ours), ("cargo-lambda", peer)];
    let functions = contenders
        .iter()
        .map(|(_, zip)| {
            Function::prepare(
                zip,
                Arch::X86_64,
                Settings {
                    name: "bench".into(),
                    memory_mb: DEFAULT_MEMORY_MB,
                    timeout: DEFAULT_TIMEOUT,
                    environment: Default::default(),
                },
                // The peer's build is run as it ships; ours was checked by `build`.
                StaticCheck::Skip,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let runtime = current_thread("the benchmark")?;
    status(
        "Measuring",
        format!(
            "{runs} cold starts and {} warm invokes each",
            runs * WARM_PER_RUN
        ),
    );
    let samples = runtime.block_on(async {
        let mut samples = [Samples::default(), Samples::default()];
        // One unmeasured round first, so both binaries are in the page cache.
        for function in &functions {
            sample_once(function, &mut Samples::default()).await?;
        }
        for run in 0..runs {
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                sample_once(&functions[i], &mut samples[i]).await?;
            }
        }
        anyhow::Ok(samples)
    })?;
    drop(runtime);

    let sizes = contenders
        .iter()
        .map(|(_, zip)| std::fs::metadata(zip).map(|m| m.len()))
        .collect::<std::io::Result<Vec<_>>>()
        .context("reading the zips' sizes")?;
    print_table(runs, &samples, &sizes);
    Ok(())
}

/// One cold start and its warm invocations.
async fn sample_once(function: &Function, into: &mut Samples) -> Result<()> {
    // Logs and status lines would be noise among the measurements.
    let mut sandbox = Sandbox::start(function, &Console::Quiet).await?;
    let cold = sandbox.invoke(Bytes::from_static(EVENT)).await;
    let init = checked(&cold)?
        .init_duration
        .context("a cold start reports its init duration")?;
    into.cold_init.push(ms(init));
    for _ in 0..WARM_PER_RUN {
        let warm = sandbox.invoke(Bytes::from_static(EVENT)).await;
        into.warm.push(ms(checked(&warm)?.duration));
    }
    sandbox.stop().await;
    Ok(())
}

fn checked(invocation: &Invocation) -> Result<&Invocation> {
    match &invocation.outcome {
        InvocationOutcome::Response(_) => Ok(invocation),
        InvocationOutcome::Failed(error) => bail!(
            "a benchmark invocation failed ({}): {}",
            error.error_type,
            String::from_utf8_lossy(&error.payload)
        ),
    }
}

/// The `q` quantile (0..=1) by nearest rank.
fn quantile(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

fn print_table(runs: usize, samples: &[Samples; 2], sizes: &[u64]) {
    println!(
        "Local invoke, x86_64, {runs} cold starts and {} warm invokes each; median (p90)",
        runs * WARM_PER_RUN
    );
    println!(
        "{:<32} {:>20} {:>20} {:>12}",
        "", "ours", "cargo-lambda", "ours/peer"
    );
    let row = |label: &str, pick: fn(&Samples) -> &Vec<f64>| {
        let [ours, peer] = [pick(&samples[0]), pick(&samples[1])];
        let (om, pm) = (quantile(ours, 0.5), quantile(peer, 0.5));
        println!(
            "{label:<32} {:>20} {:>20} {:>11.2}x",
            format!("{om:.3} ms ({:.3})", quantile(ours, 0.9)),
            format!("{pm:.3} ms ({:.3})", quantile(peer, 0.9)),
            om / pm
        );
    };
    row("cold init (exec -> first /next)", |s| &s.cold_init);
    row("warm invoke (event -> response)", |s| &s.warm);
    println!(
        "{:<32} {:>20} {:>20} {:>11.2}x",
        "zip size",
        format!("{} bytes", sizes[0]),
        format!("{} bytes", sizes[1]),
        sizes[0] as f64 / sizes[1] as f64
    );
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_by_nearest_rank() {
        let s = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(quantile(&s, 0.5), 3.0);
        assert_eq!(quantile(&s, 0.0), 1.0);
        assert_eq!(quantile(&s, 1.0), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
