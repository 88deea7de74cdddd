//! Amounts in minor units and FX conversion with ISO 4217 exponents.

use rust_decimal::{Decimal, RoundingStrategy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an ISO 4217 currency")]
    UnknownCurrency(String),
    #[error("{amount:?} is not a valid {currency} amount: {why}")]
    BadAmount { amount: String, currency: String, why: &'static str },
    #[error("conversion overflows")]
    Overflow,
}

/// Number of minor-unit digits (2 for CNY, 0 for JPY, 3 for BHD).
pub fn currency_exponent(code: &str) -> Result<u32, MoneyError> {
    iso_currency::Currency::from_code(code)
        .map(|c| c.exponent().unwrap_or(0) as u32)
        .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
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
    let major = Decimal::from_i128_with_scale(minor as i128, from_exp);
    let converted = major.checked_mul(rate).ok_or(MoneyError::Overflow)?;
    let scaled = converted
        .round_dp_with_strategy(to_exp, RoundingStrategy::MidpointNearestEven)
        .checked_mul(Decimal::from(10i64.pow(to_exp)))
        .ok_or(MoneyError::Overflow)?;
    i64::try_from(scaled.trunc()).map_err(|_| MoneyError::Overflow)
}

/// Parses an operator-written amount ("80000.00") into minor units.
pub fn parse_major(text: &str, currency: &str) -> Result<i64, MoneyError> {
    let bad = |why| MoneyError::BadAmount { amount: text.to_string(), currency: currency.to_string(), why };
    let exp = currency_exponent(currency)?;
    let d: Decimal = text.trim().parse().map_err(|_| bad("not a decimal number"))?;
    if d.is_sign_negative() || d.is_zero() {
        return Err(bad("must be greater than zero"));
    }
    if d.scale() > exp {
        return Err(bad("more decimal places than the currency has"));
    }
    let minor = d.checked_mul(Decimal::from(10i64.pow(exp))).ok_or(bad("too large"))?;
    i64::try_from(minor.trunc()).map_err(|_| bad("too large"))
}

/// Formats minor units as a major-unit decimal ("80000.00").
pub fn format_minor(minor: i64, currency: &str) -> Result<String, MoneyError> {
    let exp = currency_exponent(currency)?;
    Ok(Decimal::from_i128_with_scale(minor as i128, exp).to_string())
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
        assert!(currency_exponent("XYZ").is_err());
    }

    #[test]
    fn conversion_rounds_half_even_in_the_target_exponent() {
        let rate: Decimal = "1.0845".parse().unwrap();
        // 100.00 CNY -> 108.45 HKD
        assert_eq!(convert(10_000, "CNY", "HKD", rate).unwrap(), 10_845);
        // 0.01 CNY * 1.0845 = 0.010845 -> 0.01
        assert_eq!(convert(1, "CNY", "HKD", rate).unwrap(), 1);
        // 1.00 USD at 150.5 -> 150.5 JPY -> 150 (half to even)
        assert_eq!(convert(100, "USD", "JPY", "150.5".parse().unwrap()).unwrap(), 150);
        assert_eq!(convert(100, "USD", "JPY", "151.5".parse().unwrap()).unwrap(), 152);
    }

    #[test]
    fn major_amounts() {
        assert_eq!(parse_major("80000.00", "CNY").unwrap(), 8_000_000);
        assert_eq!(parse_major("5", "JPY").unwrap(), 5);
        assert!(parse_major("1.001", "CNY").is_err());
        assert!(parse_major("-1", "CNY").is_err());
        assert!(parse_major("abc", "CNY").is_err());
        assert_eq!(format_minor(8_000_000, "CNY").unwrap(), "80000.00");
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
            // Both refuse a result beyond i64, and agree on everything else.
            prop_assert_eq!(convert_exact(minor, from_exp, to_exp, rate), convert_decimal(minor, from_exp, to_exp, rate).ok());
        }

        #[test]
        fn rate_one_is_identity(minor in 0i64..1_000_000_000_000) {
            prop_assert_eq!(convert(minor, "CNY", "HKD", Decimal::ONE).unwrap(), minor);
        }

        #[test]
        fn format_then_parse_round_trips(minor in 1i64..1_000_000_000_000) {
            prop_assert_eq!(parse_major(&format_minor(minor, "IDR").unwrap(), "IDR").unwrap(), minor);
        }
    }
}
