//! Clock readings and durations in the units Lambda reports, and the calendar (UTC) its logs
//! and events are dated in: days from and to civil dates, RFC 3339 times.

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
    let (year, month, day) = civil_from_days((since / 86_400) as i64);
    (year, month, day, since % 86_400)
}

/// Howard Hinnant's civil_from_days: the date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Its inverse (days_from_civil): days from 1970-01-01 to a valid date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-12-03T10:00:00.123Z`: milliseconds since the epoch (CloudWatch Logs' timestamps) in
/// RFC 3339, UTC.
pub fn rfc3339_ms(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        epoch_ms.rem_euclid(1000)
    )
}

/// An RFC 3339 time (`2026-12-03T10:00:00Z`, with fractions of a second and any offset; `t`
/// and `z` in either case, or a space between date and time) as milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && matches!(b.get(10), Some(b'T' | b't' | b' '))) {
        return None;
    }
    if !(at(13, b':') && at(16, b':')) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if at(i, b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Milliseconds: the first three digits, padded.
        for k in 0..3 {
            millis = millis * 10
                + b.get(start + k)
                    .filter(|_| start + k < i)
                    .map_or(0, |d| i64::from(d - b'0'));
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Some(secs * 1000 + millis)
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

    #[test]
    fn rfc3339_round_trips_and_reads_offsets() {
        for ms in [
            0,
            1_795_651_199_123,
            951_782_400_000,
            -86_400_000,
            4_102_444_800_999,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339_ms(ms)), Some(ms), "{ms}");
        }
        assert_eq!(rfc3339_ms(1_795_651_199_123), "2026-11-25T23:59:59.123Z");
        let utc = parse_rfc3339("2026-12-03T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-12-03T12:30:00+02:30"), Some(utc));
        assert_eq!(parse_rfc3339("2026-12-03t09:00:00-01:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-12-03 10:00:00z"), Some(utc));
        assert_eq!(parse_rfc3339("2026-12-03T10:00:00.5Z"), Some(utc + 500));
        assert_eq!(
            parse_rfc3339("2026-12-03T10:00:00.123456789Z"),
            Some(utc + 123)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        for bad in [
            "",
            "2026-12-03",
            "2026-12-03T10:00:00",
            "2026-12-03T10:00Z",
            "2026-13-03T10:00:00Z",
            "2026-02-29T10:00:00Z",
            "2026-12-03T24:00:00Z",
            "2026-12-03T10:00:00.Z",
            "2026-12-03T10:00:00+0200",
            "2026-12-03T10:00:00Zjunk",
            "２026-12-03T10:00:00Z",
            "+026-12-03T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
