//! `cargo xtask bench zip`: bytes and seconds by zopfli iteration count, on the very
//! bootstrap `build` ships, so the iteration count is picked at the knee of a measured curve.

use std::time::Instant;

use anyhow::{bail, Result};

use super::table::Table;
use super::ZipArgs;
use xtask::bootstrap_zip::{self, zopfli_level, ZOPFLI_ITERATIONS};
use xtask::build;
use xtask::lambda::Arch;
use xtask::util::status::status;

struct Point {
    iterations: u8,
    bytes: u64,
    seconds: f64,
}

pub fn run(args: ZipArgs) -> Result<()> {
    if args.iterations.is_empty() || args.iterations.contains(&0) {
        bail!("--iterations takes counts from 1 to 255");
    }
    let binary = std::fs::read(build::build(&crate::dev::echo_function()?, Arch::X86_64)?.binary)?;
    let mut points = Vec::new();
    for &iterations in &args.iterations {
        status("Zipping", format!("bootstrap with {iterations} iterations"));
        let start = Instant::now();
        let zip = bootstrap_zip::zip_bootstrap(&binary, zopfli_level(iterations))?;
        points.push(Point {
            iterations,
            bytes: zip.len() as u64,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    println!();
    print!("{}", render(binary.len(), &points));
    Ok(())
}

fn render(binary_bytes: usize, points: &[Point]) -> String {
    let smallest = points.iter().map(|p| p.bytes).min().unwrap_or(1);
    let mut table = Table::new([
        format!("zopfli iterations ({binary_bytes}-byte bootstrap)"),
        "zip bytes".into(),
        "over smallest".into(),
        "seconds".into(),
    ]);
    for p in points {
        let shipped = if p.iterations == ZOPFLI_ITERATIONS {
            " (shipped)"
        } else {
            ""
        };
        table.row([
            format!("{}{shipped}", p.iterations),
            p.bytes.to_string(),
            format!(
                "{:.3} %",
                (p.bytes - smallest) as f64 * 100.0 / smallest as f64
            ),
            format!("{:.1}", p.seconds),
        ]);
    }
    table.render()
}
