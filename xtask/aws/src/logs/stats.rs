//! `logs --stats` (pure): the window's invocations, from their REPORT lines.

use serde::Serialize;
use xtask::lambda::report::{Report, ReportStatus};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub invocations: usize,
    pub cold_starts: usize,
    pub errors: usize,
    pub timeouts: usize,
    /// Duration, milliseconds: p50, p90, p99, max.
    pub duration_ms: Option<Percentiles>,
    /// Init duration of the cold starts: p50, max.
    pub init_ms: Option<Spread>,
    pub max_memory_used_mb: Option<u64>,
    /// The memory size of the invocations (several, when it changed within the window).
    pub memory_mb: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub max: f64,
}

/// The nearest-rank percentile `p` of sorted, non-empty `values`.
fn percentile(sorted: &[f64], p: usize) -> f64 {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Over `reports`: each REPORT is one attempt (an asynchronous invocation retried writes one
/// per attempt under the same request id; events read twice are dropped before, by id).
pub fn stats<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Stats {
    let reports: Vec<&Report> = reports.into_iter().collect();
    let durations = sorted(reports.iter().map(|r| r.duration_ms));
    let inits = sorted(reports.iter().filter_map(|r| r.init_ms));
    let mut memory_mb: Vec<u64> = reports.iter().map(|r| r.memory_mb).collect();
    memory_mb.sort_unstable();
    memory_mb.dedup();
    Stats {
        invocations: reports.len(),
        cold_starts: inits.len(),
        errors: reports
            .iter()
            .filter(|r| matches!(r.status, ReportStatus::Error(_)))
            .count(),
        timeouts: reports
            .iter()
            .filter(|r| r.status == ReportStatus::Timeout)
            .count(),
        duration_ms: (!durations.is_empty()).then(|| Percentiles {
            p50: percentile(&durations, 50),
            p90: percentile(&durations, 90),
            p99: percentile(&durations, 99),
            max: durations[durations.len() - 1],
        }),
        init_ms: (!inits.is_empty()).then(|| Spread {
            p50: percentile(&inits, 50),
            max: inits[inits.len() - 1],
        }),
        max_memory_used_mb: reports.iter().map(|r| r.max_memory_used_mb).max(),
        memory_mb,
    }
}

impl Stats {
    /// For people: a few aligned lines.
    pub fn human(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        let mut out = format!(
            "invocations  {} ({}, {}, {})\n",
            self.invocations,
            plural(self.cold_starts, "cold start", "cold starts"),
            plural(self.errors, "error", "errors"),
            plural(self.timeouts, "timeout", "timeouts"),
        );
        if let Some(d) = &self.duration_ms {
            out.push_str(&format!(
                "duration     p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
                d.p50, d.p90, d.p99, d.max
            ));
        }
        if let Some(i) = &self.init_ms {
            out.push_str(&format!(
                "init         p50 {:.2} ms, max {:.2} ms\n",
                i.p50, i.max
            ));
        }
        if let Some(used) = self.max_memory_used_mb {
            let sizes: Vec<String> = self.memory_mb.iter().map(u64::to_string).collect();
            out.push_str(&format!(
                "memory       max {used} MB used of {} MB\n",
                sizes.join("/")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: usize, duration_ms: f64, init_ms: Option<f64>, status: ReportStatus) -> Report {
        Report {
            request_id: format!("r{id}"),
            duration_ms,
            billed_ms: duration_ms.ceil() as u64,
            memory_mb: 128,
            max_memory_used_mb: 10 + id as u64 % 7,
            init_ms,
            status,
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            [50, 90, 99, 100].map(|p| percentile(&v, p)),
            [50.0, 90.0, 99.0, 100.0]
        );
        assert_eq!([50, 99].map(|p| percentile(&[7.0], p)), [7.0, 7.0]);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50), 2.0);
    }

    #[test]
    fn a_window_of_invocations() {
        let mut reports: Vec<Report> = (1..=20)
            .map(|i| report(i, i as f64, None, ReportStatus::Success))
            .collect();
        reports[0].init_ms = Some(30.0);
        reports[1].init_ms = Some(10.0);
        reports[2].status = ReportStatus::Timeout;
        reports[3].status = ReportStatus::Error(Some("Runtime.ExitError".into()));
        let s = stats(&reports);
        assert_eq!(
            (s.invocations, s.cold_starts, s.errors, s.timeouts),
            (20, 2, 1, 1)
        );
        let d = s.duration_ms.clone().unwrap();
        assert_eq!((d.p50, d.p90, d.p99, d.max), (10.0, 18.0, 20.0, 20.0));
        assert_eq!(
            s.init_ms,
            Some(Spread {
                p50: 10.0,
                max: 30.0
            })
        );
        assert_eq!(
            (s.max_memory_used_mb, s.memory_mb.clone()),
            (Some(16), vec![128])
        );
        assert_eq!(
            s.human(),
            "invocations  20 (2 cold starts, 1 error, 1 timeout)\n\
             duration     p50 10.00 ms, p90 18.00 ms, p99 20.00 ms, max 20.00 ms\n\
             init         p50 10.00 ms, max 30.00 ms\n\
             memory       max 16 MB used of 128 MB\n"
        );
        let none = stats(&[]);
        assert_eq!(none.invocations, 0);
        assert_eq!(
            none.human(),
            "invocations  0 (0 cold starts, 0 errors, 0 timeouts)\n"
        );
    }
}
