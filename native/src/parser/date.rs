//! RFC 3339 timestamps (`2018-12-20T00:00:00Z`, `2020-12-04T09:46:41.5+01:00`).

/// Parses an RFC 3339 date-time into Unix seconds (UTC). Fractional seconds
/// are truncated and any offset is applied. Dates before 1970 and anything
/// that is not exactly one RFC 3339 date-time give `None`.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    u64::try_from(parse_rfc3339_signed(text)?).ok()
}

/// Like [`parse_rfc3339`], but keeps dates before 1970 (negative seconds).
pub(super) fn parse_rfc3339_signed(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |start: usize, len: usize| -> Option<i64> {
        let slice = b.get(start..start + len)?;
        let mut value = 0i64;
        for &c in slice {
            if !c.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(c - b'0');
        }
        Some(value)
    };
    let byte = |i: usize| b.get(i).copied();

    let year = digits(0, 4)?;
    (byte(4)? == b'-').then_some(())?;
    let month = digits(5, 2)?;
    (byte(7)? == b'-').then_some(())?;
    let day = digits(8, 2)?;
    matches!(byte(10)?, b'T' | b't').then_some(())?;
    let hour = digits(11, 2)?;
    (byte(13)? == b':').then_some(())?;
    let minute = digits(14, 2)?;
    (byte(16)? == b':').then_some(())?;
    let second = digits(17, 2)?;
    let mut i = 19;
    if byte(i) == Some(b'.') {
        i += 1;
        let start = i;
        while byte(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match byte(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let oh = digits(i + 1, 2)?;
            (byte(i + 3)? == b':').then_some(())?;
            let om = digits(i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            i += 6;
            let magnitude = oh * 3600 + om * 60;
            if sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let local =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59);
    let utc = local - offset;
    if second == 60 {
        // A leap second is only valid as the last second of a UTC month; it
        // is read as the second before it.
        let (y, m, d) = civil_from_days(utc.div_euclid(86_400));
        if utc.rem_euclid(86_400) != 86_399 || d != days_in_month(y, m) {
            return None;
        }
    }
    Some(utc)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_dates() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2018-12-20T00:00:00Z"), Some(1_545_264_000));
        assert_eq!(parse_rfc3339("2020-12-21T09:23:12Z"), Some(1_608_542_592));
        assert_eq!(parse_rfc3339("2020-12-21t09:23:12z"), Some(1_608_542_592));
        assert_eq!(
            parse_rfc3339("2020-12-21T10:23:12.999+01:00"),
            Some(1_608_542_592)
        );
        assert_eq!(
            parse_rfc3339("2020-12-21T08:23:12-01:00"),
            Some(1_608_542_592)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(253_402_300_799));
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Some(1_483_228_799));
    }

    #[test]
    fn invalid_dates() {
        for bad in [
            "",
            "2020-12-21",
            "2020-12-21T09:23:12",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-12-32T00:00:00Z",
            "2020-12-21T24:00:00Z",
            "2020-12-21T09:60:00Z",
            "2020-12-21T09:23:12.Z",
            "2020-12-21T09:23:12Zx",
            "2020-12-21 09:23:12Z",
            "2020-12-21T09:23:12+0100",
            "2020-12-21T12:00:60Z",
            "1969-12-31T23:59:59Z",
            "+2020-12-21T09:23:12Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
