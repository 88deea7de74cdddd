//! Amounts as the specification writes them: digits with at most one `.` decimal mark,
//! no sign, no grouping, no exponent.

use super::error::{QrError, TagPath};

/// Whether `s` is a well-formed, non-zero amount (`"50000"`, `"98.73"`, `"98."`, `".5"`).
///
/// The specification allows up to 13 characters of digits and one decimal mark; Interlink also
/// rejects zero, which no payment can carry.
pub(crate) fn is_amount(s: &str) -> bool {
    let mut dots = 0;
    let mut nonzero = false;
    for b in s.bytes() {
        match b {
            b'.' => dots += 1,
            b'1'..=b'9' => nonzero = true,
            b'0' => {}
            _ => return false,
        }
    }
    dots <= 1 && nonzero
}

/// Whether `s` is a convenience fee percentage between 00.01 and 99.99.
pub(crate) fn is_percentage(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    is_amount(s) && int.len() <= 2 && frac.len() <= 2
}

/// `amount` in minor units of a currency with `exponent` decimal places.
pub(crate) fn to_minor_units(tag: TagPath, amount: &str, exponent: u32) -> Result<i64, QrError> {
    if !is_amount(amount) {
        return Err(QrError::InvalidAmount { tag, found: amount.to_string() });
    }
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let exponent_digits = usize::try_from(exponent).unwrap_or(usize::MAX);
    if frac.len() > exponent_digits {
        return Err(QrError::AmountPrecision { decimals: frac.len(), exponent });
    }
    let mut minor: i64 = 0;
    for digit in int.bytes().chain(frac.bytes()) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or(QrError::AmountOverflow)?;
    }
    // The amount is not zero, so scaling overflows within 19 steps whatever the exponent.
    for _ in frac.len()..exponent_digits {
        minor = minor.checked_mul(10).ok_or(QrError::AmountOverflow)?;
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: TagPath = TagPath::top(54);

    #[test]
    fn formats() {
        for ok in ["1", "50000", "98.73", "98.", ".5", "0.01", "9999999999.99"] {
            assert!(is_amount(ok), "{ok}");
        }
        for bad in ["", ".", "0", "0.00", "1.2.3", "-1", "+1", "1,000", "1e3", " 1", "١"] {
            assert!(!is_amount(bad), "{bad}");
        }
        for ok in ["3", "3.5", "00.01", "99.99"] {
            assert!(is_percentage(ok), "{ok}");
        }
        for bad in ["0", "100", "5.125", "00.00"] {
            assert!(!is_percentage(bad), "{bad}");
        }
    }

    #[test]
    fn minor_units() {
        assert_eq!(to_minor_units(AT, "98.7", 2), Ok(9870));
        assert_eq!(to_minor_units(AT, "98.", 2), Ok(9800));
        assert_eq!(to_minor_units(AT, ".5", 2), Ok(50));
        assert_eq!(to_minor_units(AT, "50000", 0), Ok(50000));
        assert_eq!(to_minor_units(AT, "1.5", 3), Ok(1500));
        assert_eq!(to_minor_units(AT, "1.55", 1), Err(QrError::AmountPrecision { decimals: 2, exponent: 1 }));
        assert_eq!(to_minor_units(AT, "1", 19), Err(QrError::AmountOverflow));
        assert_eq!(to_minor_units(AT, "1", u32::MAX), Err(QrError::AmountOverflow));
        assert_eq!(to_minor_units(AT, "9223372036854775807", 0), Ok(i64::MAX));
        assert_eq!(to_minor_units(AT, "9223372036854775808", 0), Err(QrError::AmountOverflow));
        assert_eq!(to_minor_units(AT, "1e3", 2), Err(QrError::InvalidAmount { tag: AT, found: "1e3".into() }));
    }
}
