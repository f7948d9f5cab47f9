//! Clock readings and durations in the units Lambda reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds with microsecond precision, without float noise in JSON.
pub fn ms_to_micros(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

pub fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// `YYYY/MM/DD` in UTC, as log stream names begin.
pub fn utc_date(t: SystemTime) -> String {
    let (year, month, day, _) = civil(t);
    format!("{year:04}/{month:02}/{day:02}")
}

/// `10/Jul/2026:19:19:04 +0000`: the Common Log Format time API Gateway puts in its events.
pub fn utc_clf(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, secs) = civil(t);
    format!(
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[month as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Year, month (1-12), day (1-31) and seconds into that day, in UTC.
fn civil(t: SystemTime) -> (i64, i64, i64, u64) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let days = since / 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, since % 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_utc() {
        let at = |secs| utc_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970/01/01");
        assert_eq!(at(951_782_400), "2000/02/29");
        assert_eq!(at(1_795_651_199), "2026/11/25");
    }

    #[test]
    fn common_log_format_times() {
        let at = |ms| utc_clf(UNIX_EPOCH + Duration::from_millis(ms));
        // requestTime and requestTimeEpoch of an event API Gateway sent.
        assert_eq!(at(1_783_711_144_836), "10/Jul/2026:19:19:04 +0000");
        assert_eq!(at(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(at(951_868_799_000), "29/Feb/2000:23:59:59 +0000");
    }
}
