//! Amounts in network messages: the workspace's one money implementation
//! (`interlink_vocab::money`) with ISO 20022 amount syntax and the connectors' errors.

use crate::connector::ConnectorError;
use interlink_vocab::money::{self as vocab, AmountSyntax};

/// Number of minor-unit digits of an ISO 4217 currency (2 for HKD, 0 for JPY, 3 for BHD).
pub fn exponent(currency: &str) -> Result<u32, ConnectorError> {
    vocab::currency_exponent(currency).map_err(|_| ConnectorError::CurrencyNotAllowed {
        found: currency.to_string(),
        expected: "an ISO 4217 currency".into(),
    })
}

/// Writes `minor_units` of `currency` as decimal text into `out` ("1234.50", "1234" for JPY).
pub fn write_decimal(out: &mut Vec<u8>, minor_units: i64, currency: &str) -> Result<(), ConnectorError> {
    let exp = exponent(currency)?;
    if minor_units < 0 {
        return Err(ConnectorError::InvalidAmount { path: "amount".into(), reason: "negative".into() });
    }
    vocab::write_amount(out, minor_units, exp);
    Ok(())
}

/// Decimal text for an amount.
pub fn format_decimal(minor_units: i64, currency: &str) -> Result<String, ConnectorError> {
    let mut out = Vec::with_capacity(24);
    write_decimal(&mut out, minor_units, currency)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Parses ISO 20022 decimal amount text into minor units of `currency` (see
/// [`AmountSyntax::ISO20022`]: digits with an optional fraction, no sign or exponent,
/// extra decimals only if zeros, at most 18 digits).
pub fn parse_decimal(text: &str, currency: &str, path: &str) -> Result<i64, ConnectorError> {
    let exp = exponent(currency)?;
    vocab::parse_amount(text, exp, AmountSyntax::ISO20022)
        .map_err(|e| ConnectorError::InvalidAmount { path: path.to_string(), reason: format!("{text:?}: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_amounts() {
        assert_eq!(format_decimal(123_450, "HKD").unwrap(), "1234.50");
        assert_eq!(format_decimal(1234, "JPY").unwrap(), "1234");
        assert!(format_decimal(-1, "USD").is_err());
        assert!(format_decimal(1, "XYZ").is_err());
        assert_eq!(parse_decimal("10.000", "USD", "a").unwrap(), 1000);
        assert_eq!(parse_decimal("250000000", "IDR", "a").unwrap(), 25_000_000_000);
        assert!(parse_decimal("1.5", "JPY", "a").is_err());
        assert!(matches!(parse_decimal("1", "XXQ", "a"), Err(ConnectorError::CurrencyNotAllowed { .. })));
        assert!(matches!(parse_decimal("1.001", "USD", "a"), Err(ConnectorError::InvalidAmount { .. })));
    }
}
