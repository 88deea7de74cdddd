//! Amounts as the specification writes them: digits with at most one `.` decimal mark,
//! no sign, no grouping, no exponent.

use super::error::{QrError, TagPath};
use interlink_vocab::money::{parse_amount, AmountError, AmountSyntax};

/// Whether `s` is a well-formed, non-zero amount (`"50000"`, `"98.73"`, `"98."`, `".5"`).
///
/// The specification allows up to 13 characters of digits and one decimal mark (the
/// length is the TLV's to check); Interlink also rejects zero, which no payment can carry.
pub(crate) fn is_amount(s: &str) -> bool {
    // As many decimals as the text has: only the syntax is checked here.
    let decimals = s.split_once('.').map_or(0, |(_, f)| f.len());
    parse_amount(s, u32::try_from(decimals).unwrap_or(u32::MAX), AmountSyntax::EMVCO).is_ok()
}

/// Whether `s` is a convenience fee percentage between 00.01 and 99.99.
pub(crate) fn is_percentage(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    is_amount(s) && int.len() <= 2 && frac.len() <= 2
}

/// `amount` in minor units of a currency with `exponent` decimal places.
pub(crate) fn to_minor_units(tag: TagPath, amount: &str, exponent: u32) -> Result<i64, QrError> {
    parse_amount(amount, exponent, AmountSyntax::EMVCO).map_err(|e| match e {
        AmountError::TooManyDecimals { decimals, exponent } => QrError::AmountPrecision { decimals, exponent },
        AmountError::TooLarge => QrError::AmountOverflow,
        _ => QrError::InvalidAmount { tag, found: amount.to_string() },
    })
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
