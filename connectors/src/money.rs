//! Exact conversion between decimal amount text (`"1234.50"`) and minor units, by the
//! currency's ISO 4217 exponent.

use crate::connector::ConnectorError;

/// Number of minor-unit digits of an ISO 4217 currency (2 for HKD, 0 for JPY, 3 for BHD).
pub fn exponent(currency: &str) -> Result<u32, ConnectorError> {
    // The ten network currencies (all with exponent 2 in ISO 4217, IDR included) first:
    // no table search on the hot path.
    match currency {
        "CNY" | "HKD" | "IDR" | "THB" | "SGD" | "MYR" | "INR" | "BRL" | "EUR" | "USD" => Ok(2),
        _ => iso_currency::Currency::from_code(currency).map(|c| c.exponent().unwrap_or(0) as u32).ok_or_else(|| {
            ConnectorError::CurrencyNotAllowed { found: currency.to_string(), expected: "an ISO 4217 currency".into() }
        }),
    }
}

/// Writes `minor_units` of `currency` as decimal text into `out` ("1234.50", "1234" for JPY).
pub fn write_decimal(out: &mut Vec<u8>, minor_units: i64, currency: &str) -> Result<(), ConnectorError> {
    let exp = exponent(currency)? as usize;
    if minor_units < 0 {
        return Err(ConnectorError::InvalidAmount { path: "amount".into(), reason: "negative".into() });
    }
    let mut digits = [0u8; 20];
    let mut n = minor_units as u64;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    // digits holds the number reversed; pad to at least exp + 1 digits.
    while len < exp + 1 {
        digits[len] = b'0';
        len += 1;
    }
    for i in (exp..len).rev() {
        out.push(digits[i]);
    }
    if exp > 0 {
        out.push(b'.');
        for i in (0..exp).rev() {
            out.push(digits[i]);
        }
    }
    Ok(())
}

/// Decimal text for an amount.
pub fn format_decimal(minor_units: i64, currency: &str) -> Result<String, ConnectorError> {
    let mut out = Vec::with_capacity(24);
    write_decimal(&mut out, minor_units, currency)?;
    Ok(String::from_utf8(out).expect("digits and a dot are ASCII"))
}

/// Parses ISO 20022 decimal amount text into minor units of `currency`. Accepts digits with an
/// optional fraction; rejects signs, exponents, more fraction digits than the currency has
/// (unless they are zeros), and more than 18 digits in all (the ISO 20022 `totalDigits`).
pub fn parse_decimal(text: &str, currency: &str, path: &str) -> Result<i64, ConnectorError> {
    let bad =
        |reason: &str| ConnectorError::InvalidAmount { path: path.to_string(), reason: format!("{text:?}: {reason}") };
    let exp = exponent(currency)?;
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("expected digits before the decimal point"));
    }
    if text.contains('.') && frac.is_empty() {
        return Err(bad("expected digits after the decimal point"));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("expected digits after the decimal point"));
    }
    if int.len() + frac.len() > 18 {
        return Err(bad("more than 18 digits"));
    }
    let (kept, dropped) = frac.split_at(frac.len().min(exp as usize));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(bad(&format!("more decimal places than {currency} has ({exp})")));
    }
    let mut value: i64 = 0;
    for b in int.bytes().chain(kept.bytes()) {
        value =
            value.checked_mul(10).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or_else(|| bad("too large"))?;
    }
    for _ in kept.len()..exp as usize {
        value = value.checked_mul(10).ok_or_else(|| bad("too large"))?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_by_exponent() {
        assert_eq!(format_decimal(123_450, "HKD").unwrap(), "1234.50");
        assert_eq!(format_decimal(5, "USD").unwrap(), "0.05");
        assert_eq!(format_decimal(0, "USD").unwrap(), "0.00");
        assert_eq!(format_decimal(1234, "JPY").unwrap(), "1234");
        assert_eq!(format_decimal(1_234_567, "BHD").unwrap(), "1234.567");
        assert_eq!(format_decimal(i64::MAX, "USD").unwrap(), "92233720368547758.07");
        assert!(format_decimal(-1, "USD").is_err());
        assert!(format_decimal(1, "XYZ").is_err());
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_decimal("1234.50", "HKD", "a").unwrap(), 123_450);
        assert_eq!(parse_decimal("1234.5", "HKD", "a").unwrap(), 123_450);
        assert_eq!(parse_decimal("1234", "HKD", "a").unwrap(), 123_400);
        assert_eq!(parse_decimal("0.01", "USD", "a").unwrap(), 1);
        assert_eq!(parse_decimal("10.000", "USD", "a").unwrap(), 1000);
        assert_eq!(parse_decimal("250000000", "IDR", "a").unwrap(), 25_000_000_000);
        assert_eq!(parse_decimal("1234", "JPY", "a").unwrap(), 1234);
        for bad in ["", ".5", "5.", "-1", "+1", "1e3", "1.001", "1,00", " 1", "1.2.3", "1234567890123456789"] {
            assert!(parse_decimal(bad, "USD", "a").is_err(), "{bad:?}");
        }
        assert!(parse_decimal("1.5", "JPY", "a").is_err());
        assert!(matches!(parse_decimal("1", "XXQ", "a"), Err(ConnectorError::CurrencyNotAllowed { .. })));
    }

    proptest! {
        #[test]
        fn round_trips(minor in 0i64..=999_999_999_999_999, ccy in prop::sample::select(vec!["USD", "JPY", "BHD", "IDR"])) {
            let text = format_decimal(minor, ccy).unwrap();
            prop_assert_eq!(parse_decimal(&text, ccy, "a").unwrap(), minor);
        }
    }
}
