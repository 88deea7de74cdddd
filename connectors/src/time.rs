//! ISO 8601 date-times (ISO 20022 `ISODateTime`, UPI `ts`) to and from microseconds since the
//! Unix epoch, without a calendar dependency.

const MICROS_PER_SEC: i64 = 1_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn push2(out: &mut Vec<u8>, n: i64) {
    out.push(b'0' + (n / 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// Writes `micros` as local time at `offset_minutes` east of UTC:
/// `2025-06-22T10:15:30+08:00`, with `.123` or `.123456` when there is a fraction, and `Z`
/// for offset 0. Years outside 0000–9999 are clamped into range by the caller's validation.
pub fn write_datetime(out: &mut Vec<u8>, micros: i64, offset_minutes: i32) {
    let local = micros + i64::from(offset_minutes) * 60 * MICROS_PER_SEC;
    let secs = local.div_euclid(MICROS_PER_SEC);
    let frac = local.rem_euclid(MICROS_PER_SEC);
    write_date(out, secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    out.push(b'T');
    push2(out, tod / 3600);
    out.push(b':');
    push2(out, tod / 60 % 60);
    out.push(b':');
    push2(out, tod % 60);
    if frac != 0 {
        out.push(b'.');
        let (value, digits) = if frac % 1000 == 0 { (frac / 1000, 3) } else { (frac, 6) };
        for i in (0..digits).rev() {
            out.push(b'0' + (value / 10i64.pow(i) % 10) as u8);
        }
    }
    if offset_minutes == 0 {
        out.push(b'Z');
    } else {
        out.push(if offset_minutes < 0 { b'-' } else { b'+' });
        let abs = i64::from(offset_minutes.unsigned_abs());
        push2(out, abs / 60);
        out.push(b':');
        push2(out, abs % 60);
    }
}

fn write_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let y = y.clamp(0, 9999);
    push2(out, y / 100);
    push2(out, y % 100);
    out.push(b'-');
    push2(out, m);
    out.push(b'-');
    push2(out, d);
}

/// Writes the calendar date (`2025-06-22`) of `micros` at `offset_minutes` east of UTC.
pub fn write_local_date(out: &mut Vec<u8>, micros: i64, offset_minutes: i32) {
    let local = micros + i64::from(offset_minutes) * 60 * MICROS_PER_SEC;
    write_date(out, local.div_euclid(MICROS_PER_SEC).div_euclid(86_400));
}

pub fn format_datetime(micros: i64, offset_minutes: i32) -> String {
    let mut out = Vec::with_capacity(32);
    write_datetime(&mut out, micros, offset_minutes);
    String::from_utf8(out).expect("ASCII")
}

/// Whether `micros` lies in years 0001–9999, the range the text form can carry.
pub fn in_range(micros: i64) -> bool {
    const MIN: i64 = -62_135_596_800 * MICROS_PER_SEC; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_214_400 * MICROS_PER_SEC; // 9999-12-31T00:00:00Z, a day of margin for offsets
    (MIN..MAX).contains(&micros)
}

/// Why a text is not an ISO 8601 date-time [`parse_datetime`] reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an ISO 8601 date-time: {problem}")]
pub struct DateTimeError {
    pub text: String,
    pub problem: &'static str,
}

/// Parses `YYYY-MM-DDThh:mm:ss[.f…][Z|±hh:mm]` into microseconds since the epoch. A time
/// without an offset is taken as UTC; fraction digits past microseconds are truncated.
///
/// Reads bytes by position, never slices the `&str`: a non-ASCII character fails the digit
/// and separator checks instead of splitting a character.
pub fn parse_datetime(text: &str) -> Result<i64, DateTimeError> {
    let b = text.as_bytes();
    let bad = |problem: &'static str| DateTimeError { text: text.to_string(), problem };
    let num = |range: std::ops::Range<usize>| -> Result<i64, DateTimeError> {
        let s = b.get(range).ok_or_else(|| bad("too short"))?;
        if !s.iter().all(u8::is_ascii_digit) {
            return Err(bad("expected digits"));
        }
        Ok(s.iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(bad("expected YYYY-MM-DDThh:mm:ss"));
    }
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 || y < 1 {
        return Err(bad("field out of range"));
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                frac = frac * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(bad("empty fraction"));
        }
        for _ in n..6 {
            frac *= 10;
        }
    }
    let offset_secs = match &b[i..] {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 14 || om > 59 {
                return Err(bad("offset out of range"));
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return Err(bad("expected Z or an offset ±hh:mm")),
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    let micros = secs * MICROS_PER_SEC + frac;
    if !in_range(micros) {
        return Err(bad("outside years 0001-9999 in UTC"));
    }
    Ok(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        // 2025-06-22T02:15:30Z
        let t = 1_750_558_530 * MICROS_PER_SEC;
        assert_eq!(format_datetime(t, 0), "2025-06-22T02:15:30Z");
        assert_eq!(format_datetime(t, 480), "2025-06-22T10:15:30+08:00");
        assert_eq!(format_datetime(t, 330), "2025-06-22T07:45:30+05:30");
        assert_eq!(format_datetime(t + 123_000, -180), "2025-06-21T23:15:30.123-03:00");
        assert_eq!(format_datetime(t + 7, 0), "2025-06-22T02:15:30.000007Z");
        assert_eq!(parse_datetime("2025-06-22T10:15:30+08:00").unwrap(), t);
        assert_eq!(parse_datetime("2025-06-22T02:15:30").unwrap(), t);
        assert_eq!(parse_datetime("2025-06-22T02:15:30.1234567Z").unwrap(), t + 123_456);
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z").unwrap(), 0);
        let mut d = Vec::new();
        write_local_date(&mut d, t, -180);
        assert_eq!(d, b"2025-06-21");
        for bad in [
            "",
            "2025-02-29T00:00:00Z",
            "2025-06-22 10:15:30Z",
            "2025-06-22T24:00:00Z",
            "2025-06-22T10:15:30+8:00",
            "2025-06-22T10:15:30.Z",
            "2025-06-22T10:15:30Zjunk",
            "0000-01-01T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00Z",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad:?}");
        }
        assert!(parse_datetime("2024-02-29T00:00:00Z").is_ok());
        assert_eq!(
            parse_datetime("2025-13-01T00:00:00Z").unwrap_err().to_string(),
            "\"2025-13-01T00:00:00Z\" is not an ISO 8601 date-time: field out of range"
        );
    }

    #[test]
    fn non_ascii_text_is_refused_cleanly() {
        for bad in [
            "é",
            "ééééééééééééééééééééé",
            "２０２５-06-22T10:15:30Z",
            "2025-06-22T10:15:30é",
            "2025-06-22T10:15:30.12é",
            "2025-06-22T10:15:30+0é:00",
            "2025-06-22T10:15:3é",
            "2025-06-22T10:15:30+08:0😀",
            "2025-06-22Ｔ10:15:30Z",
            "😀😀😀😀😀😀😀😀",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(micros in -62_000_000_000_000_000i64..253_000_000_000_000_000, off in -720i32..=840) {
            let off = off - off % 15;
            prop_assert_eq!(parse_datetime(&format_datetime(micros, off)).unwrap(), micros);
        }

        #[test]
        fn arbitrary_text_is_an_error_or_a_time(text in "\\PC{0,40}") {
            if let Ok(micros) = parse_datetime(&text) {
                prop_assert!(in_range(micros));
            }
        }
    }
}
