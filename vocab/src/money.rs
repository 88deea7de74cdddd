//! Money: ISO 4217 exponents, decimal amount text in and out of minor units, and FX
//! conversion. The one implementation that routing, the connectors (ISO 20022 amounts)
//! and the EMVCo QR codec (tag 54) share; each format's syntax is an [`AmountSyntax`].

use rust_decimal::{Decimal, RoundingStrategy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an ISO 4217 currency")]
    UnknownCurrency(String),
    #[error("{text:?} is not a valid amount: {error}")]
    Amount { text: String, error: AmountError },
    #[error("conversion overflows")]
    Overflow,
}

/// Why decimal amount text does not make an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("expected digits with at most one decimal point")]
    Syntax,
    #[error("expected digits before the decimal point")]
    NoIntegerDigits,
    #[error("expected digits after the decimal point")]
    NoFractionDigits,
    #[error("more than {0} digits")]
    TooManyDigits(usize),
    #[error("{decimals} decimal places, more than the currency's {exponent}")]
    TooManyDecimals { decimals: usize, exponent: u32 },
    #[error("must be greater than zero")]
    Zero,
    #[error("too large")]
    TooLarge,
}

/// The decimal-text rules of one format. All of them: ASCII digits and at most one `.`,
/// no sign, no grouping, no exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountSyntax {
    /// `".5"` and `"5."` are amounts (EMVCo allows a bare decimal point).
    pub bare_point: bool,
    /// Most digits in all (ISO 20022 `totalDigits` is 18).
    pub max_digits: usize,
    /// `"10.000"` in a 2-decimal currency is 10.00 rather than an error.
    pub zero_decimals_beyond_exponent: bool,
    /// Zero is refused (no payment carries nothing).
    pub positive: bool,
}

impl AmountSyntax {
    /// ISO 20022 `ActiveCurrencyAndAmount` text.
    pub const ISO20022: Self =
        Self { bare_point: false, max_digits: 18, zero_decimals_beyond_exponent: true, positive: false };
    /// EMVCo merchant-presented QR tag 54 (its 13-character limit is the TLV's; an
    /// amount is held to what `i64` minor units can carry).
    pub const EMVCO: Self =
        Self { bare_point: true, max_digits: 19, zero_decimals_beyond_exponent: false, positive: true };
    /// An amount an operator writes in a routing table ("80000.00").
    pub const OPERATOR: Self =
        Self { bare_point: false, max_digits: 18, zero_decimals_beyond_exponent: false, positive: true };
}

/// Number of minor-unit digits of an ISO 4217 currency (2 for HKD, 0 for JPY, 3 for BHD).
pub fn currency_exponent(code: &str) -> Result<u32, MoneyError> {
    // The connected networks' currencies (all with exponent 2 in ISO 4217, IDR
    // included) first: no table search on the hot path.
    match code {
        "CNY" | "HKD" | "IDR" | "THB" | "SGD" | "MYR" | "INR" | "BRL" | "EUR" | "USD" => Ok(2),
        _ => iso_currency::Currency::from_code(code)
            .map(|c| c.exponent().map_or(0, u32::from))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string())),
    }
}

/// The exponent of a currency by its ISO 4217 numeric code (`"360"` for IDR).
pub fn currency_exponent_numeric(numeric: &str) -> Option<u32> {
    let numeric: u16 = numeric.parse().ok()?;
    iso_currency::Currency::from_numeric(numeric)?.exponent().map(u32::from)
}

/// Parses decimal amount text into minor units of a currency with `exponent` decimals.
pub fn parse_amount(text: &str, exponent: u32, syntax: AmountSyntax) -> Result<i64, AmountError> {
    let (int, frac, point) = match text.split_once('.') {
        Some((i, f)) => (i, f, true),
        None => (text, "", false),
    };
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Syntax);
    }
    if int.is_empty() && (!syntax.bare_point || frac.is_empty()) {
        return Err(AmountError::NoIntegerDigits);
    }
    if point && frac.is_empty() && !syntax.bare_point {
        return Err(AmountError::NoFractionDigits);
    }
    if int.len() + frac.len() > syntax.max_digits {
        return Err(AmountError::TooManyDigits(syntax.max_digits));
    }
    let exponent_digits = usize::try_from(exponent).unwrap_or(usize::MAX);
    let (kept, dropped) = frac.split_at(frac.len().min(exponent_digits));
    if !dropped.is_empty() && (!syntax.zero_decimals_beyond_exponent || dropped.bytes().any(|b| b != b'0')) {
        return Err(AmountError::TooManyDecimals { decimals: frac.len(), exponent });
    }
    let mut minor: i64 = 0;
    for digit in int.bytes().chain(kept.bytes()) {
        minor =
            minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(digit - b'0'))).ok_or(AmountError::TooLarge)?;
    }
    if syntax.positive && minor == 0 {
        return Err(AmountError::Zero);
    }
    for _ in kept.len()..exponent_digits {
        minor = minor.checked_mul(10).ok_or(AmountError::TooLarge)?;
    }
    Ok(minor)
}

/// Writes `minor` units as decimal text with `exponent` decimals into `out`
/// ("1234.50"; "1234" for exponent 0; a leading `-` when negative).
pub fn write_amount(out: &mut Vec<u8>, minor: i64, exponent: u32) {
    if minor < 0 {
        out.push(b'-');
    }
    // u64 has at most 20 digits and no currency has more than 4 decimals.
    let exp = usize::try_from(exponent).map_or(20, |e| e.min(20));
    let mut digits = [0u8; 21]; // in reverse, at least exp + 1 of them
    let mut n = minor.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 && len > exp {
            break;
        }
    }
    out.extend(digits[exp..len].iter().rev());
    if exp > 0 {
        out.push(b'.');
        out.extend(digits[..exp].iter().rev());
    }
}

/// Decimal text for `minor` units with `exponent` decimals.
pub fn format_amount(minor: i64, exponent: u32) -> String {
    let mut out = Vec::with_capacity(24);
    write_amount(&mut out, minor, exponent);
    String::from_utf8(out).unwrap_or_default() // digits, '-' and '.' are ASCII
}

/// Parses an amount an operator writes in `currency` ("80000.00") into minor units.
pub fn parse_major(text: &str, currency: &str) -> Result<i64, MoneyError> {
    let exponent = currency_exponent(currency)?;
    parse_amount(text.trim(), exponent, AmountSyntax::OPERATOR)
        .map_err(|error| MoneyError::Amount { text: text.to_string(), error })
}

/// Formats minor units of `currency` as a major-unit decimal ("80000.00").
pub fn format_minor(minor: i64, currency: &str) -> Result<String, MoneyError> {
    Ok(format_amount(minor, currency_exponent(currency)?))
}

/// Converts `minor` units of `from` into `to` at `rate` (to per from), rounding half
/// to even, as settlement systems do.
pub fn convert(minor: i64, from: &str, to: &str, rate: Decimal) -> Result<i64, MoneyError> {
    let (from_exp, to_exp) = (currency_exponent(from)?, currency_exponent(to)?);
    match convert_exact(minor, from_exp, to_exp, rate) {
        Some(credit) => Ok(credit),
        None => convert_decimal(minor, from_exp, to_exp, rate),
    }
}

/// The same conversion in integer arithmetic: rate = mantissa / 10^scale, so
/// credit = minor × mantissa × 10^to_exp / 10^(scale + from_exp), rounded half to even.
/// `None` when an intermediate would not fit in `i128`.
fn convert_exact(minor: i64, from_exp: u32, to_exp: u32, rate: Decimal) -> Option<i64> {
    let mut numerator = i128::from(minor).checked_mul(rate.mantissa())?;
    let shift = i64::from(rate.scale()) + i64::from(from_exp) - i64::from(to_exp);
    let denominator = if shift >= 0 {
        10i128.checked_pow(u32::try_from(shift).ok()?)?
    } else {
        numerator = numerator.checked_mul(10i128.checked_pow(u32::try_from(-shift).ok()?)?)?;
        1
    };
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    let twice = remainder.abs().checked_mul(2)?;
    let round_away = twice > denominator || (twice == denominator && quotient % 2 != 0);
    let rounded = if round_away { quotient + numerator.signum() } else { quotient };
    i64::try_from(rounded).ok()
}

fn convert_decimal(minor: i64, from_exp: u32, to_exp: u32, rate: Decimal) -> Result<i64, MoneyError> {
    let major = Decimal::from_i128_with_scale(i128::from(minor), from_exp);
    let converted = major.checked_mul(rate).ok_or(MoneyError::Overflow)?;
    let scaled = converted
        .round_dp_with_strategy(to_exp, RoundingStrategy::MidpointNearestEven)
        .checked_mul(Decimal::from(10i64.checked_pow(to_exp).ok_or(MoneyError::Overflow)?))
        .ok_or(MoneyError::Overflow)?;
    i64::try_from(scaled.trunc()).map_err(|_| MoneyError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exponents() {
        assert_eq!(currency_exponent("CNY").unwrap(), 2);
        assert_eq!(currency_exponent("JPY").unwrap(), 0);
        assert_eq!(currency_exponent("BHD").unwrap(), 3);
        assert_eq!(currency_exponent("XYZ"), Err(MoneyError::UnknownCurrency("XYZ".into())));
        assert_eq!(currency_exponent_numeric("360"), Some(2));
        assert_eq!(currency_exponent_numeric("392"), Some(0));
        assert_eq!(currency_exponent_numeric("é"), None);
    }

    #[test]
    fn formats_by_exponent() {
        assert_eq!(format_amount(123_450, 2), "1234.50");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(0, 2), "0.00");
        assert_eq!(format_amount(1234, 0), "1234");
        assert_eq!(format_amount(0, 0), "0");
        assert_eq!(format_amount(1_234_567, 3), "1234.567");
        assert_eq!(format_amount(-5, 2), "-0.05");
        assert_eq!(format_amount(i64::MAX, 2), "92233720368547758.07");
        assert_eq!(format_amount(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(format_minor(8_000_000, "CNY").unwrap(), "80000.00");
    }

    #[test]
    fn iso20022_amounts() {
        let p = |t| parse_amount(t, 2, AmountSyntax::ISO20022);
        assert_eq!(p("1234.50"), Ok(123_450));
        assert_eq!(p("1234.5"), Ok(123_450));
        assert_eq!(p("1234"), Ok(123_400));
        assert_eq!(p("0.01"), Ok(1));
        assert_eq!(p("10.000"), Ok(1000));
        assert_eq!(p("0"), Ok(0));
        for bad in ["", ".5", "5.", "-1", "+1", "1e3", "1.001", "1,00", " 1", "1.2.3", "1234567890123456789", "１"] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_amount("1.5", 0, AmountSyntax::ISO20022),
            Err(AmountError::TooManyDecimals { decimals: 1, exponent: 0 })
        );
    }

    #[test]
    fn emvco_amounts() {
        let p = |t, e| parse_amount(t, e, AmountSyntax::EMVCO);
        assert_eq!(p("98.7", 2), Ok(9870));
        assert_eq!(p("98.", 2), Ok(9800));
        assert_eq!(p(".5", 2), Ok(50));
        assert_eq!(p("50000", 0), Ok(50000));
        assert_eq!(p("0.00", 2), Err(AmountError::Zero));
        assert_eq!(p("1.00", 0), Err(AmountError::TooManyDecimals { decimals: 2, exponent: 0 }));
        assert_eq!(p(".", 2), Err(AmountError::NoIntegerDigits));
        assert_eq!(p("99999999999999999999", 0), Err(AmountError::TooManyDigits(19)));
    }

    #[test]
    fn operator_amounts() {
        assert_eq!(parse_major("80000.00", "CNY").unwrap(), 8_000_000);
        assert_eq!(parse_major("5", "JPY").unwrap(), 5);
        assert!(parse_major("1.001", "CNY").is_err());
        assert!(parse_major("1.00", "JPY").is_err());
        assert!(parse_major("-1", "CNY").is_err());
        assert!(parse_major("0", "CNY").is_err());
        assert!(parse_major("abc", "CNY").is_err());
    }

    #[test]
    fn conversion_rounds_half_even_in_the_target_exponent() {
        let rate: Decimal = "1.0845".parse().unwrap();
        assert_eq!(convert(10_000, "CNY", "HKD", rate).unwrap(), 10_845);
        assert_eq!(convert(1, "CNY", "HKD", rate).unwrap(), 1);
        assert_eq!(convert(100, "USD", "JPY", "150.5".parse().unwrap()).unwrap(), 150);
        assert_eq!(convert(100, "USD", "JPY", "151.5".parse().unwrap()).unwrap(), 152);
    }

    proptest! {
        /// The integer fast path and the decimal path agree on every amount and rate.
        #[test]
        fn exact_and_decimal_conversions_agree(
            minor in -1_000_000_000_000i64..1_000_000_000_000,
            mantissa in 1i64..100_000_000,
            scale in 0u32..10,
            from_exp in 0u32..4,
            to_exp in 0u32..4,
        ) {
            let rate = Decimal::new(mantissa, scale);
            prop_assert_eq!(convert_exact(minor, from_exp, to_exp, rate), convert_decimal(minor, from_exp, to_exp, rate).ok());
        }

        #[test]
        fn format_then_parse_round_trips(minor in 0i64..=999_999_999_999_999, exp in 0u32..4) {
            let text = format_amount(minor, exp);
            prop_assert_eq!(parse_amount(&text, exp, AmountSyntax::ISO20022), Ok(minor));
        }

        #[test]
        fn any_text_parses_or_errors(text in "\\PC{0,24}", exp in 0u32..4) {
            for syntax in [AmountSyntax::ISO20022, AmountSyntax::EMVCO, AmountSyntax::OPERATOR] {
                if let Ok(minor) = parse_amount(&text, exp, syntax) {
                    prop_assert!(minor >= 0);
                }
            }
        }

        #[test]
        fn rate_one_is_identity(minor in 0i64..1_000_000_000_000) {
            prop_assert_eq!(convert(minor, "CNY", "HKD", Decimal::ONE).unwrap(), minor);
        }
    }
}
