//! What the edit benchmarks (`watch`, `edit_build`) share about time: how often a wait
//! looks again, and how their samples are summed up in a table.

use std::time::Duration;

use super::table::ratio;

/// How often a timed wait looks again (for an answer, a line, an interruption).
pub(super) const POLL: Duration = Duration::from_millis(50);

/// The median; the mean of the middle two for an even count.
pub(super) fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

pub(super) fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

pub(super) fn ratio_of(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => ratio(a.as_secs_f64(), b.as_secs_f64()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let s = |v: &[u64]| {
            v.iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect::<Vec<_>>()
        };
        assert_eq!(median(&s(&[5, 1, 3])), Some(Duration::from_millis(3)));
        assert_eq!(median(&s(&[4, 1, 3, 2])), Some(Duration::from_micros(2500)));
        assert_eq!(median(&[]), None);
    }
}
