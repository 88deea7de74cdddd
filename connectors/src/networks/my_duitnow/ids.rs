//! Malaysia's DuitNow proxy ids: MyKad numbers and SSM business registration numbers.

use crate::id_format::{all_digits, decimal, Check, FormatError};

/// Malaysian MyKad number: 12 digits, the first six a date YYMMDD.
pub fn mykad(value: &str) -> Check {
    if !all_digits(value) || value.len() != 12 {
        return Err(FormatError::layout("12 digits"));
    }
    let b = value.as_bytes();
    let month = decimal(&b[2..4]).unwrap_or(0);
    let day = decimal(&b[4..6]).unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(FormatError::not_allowed("the first six digits are not a date YYMMDD"));
    }
    Ok(())
}

/// Malaysian SSM business registration number, new 12-digit format: year of registration,
/// two-digit entity type (01–06), six-digit sequence.
pub fn ssm(value: &str) -> Check {
    if !all_digits(value) || value.len() != 12 {
        return Err(FormatError::layout("12 digits"));
    }
    let b = value.as_bytes();
    let year = decimal(&b[..4]).unwrap_or(0);
    let kind = decimal(&b[4..6]).unwrap_or(0);
    if !(1900..=2099).contains(&year) || !(1..=6).contains(&kind) {
        return Err(FormatError::not_allowed("expected YYYY, entity type 01–06, six digits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn mykads_and_ssm_numbers() {
        assert!(mykad("900101145678").is_ok());
        assert!(mykad("901301145678").is_err());
        assert!(ssm("201901012345").is_ok());
        assert!(ssm("201909012345").is_err());
    }

    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES {
            assert!(matches!(mykad(value), Err(FormatError::Layout(_))), "{value}");
            assert!(matches!(ssm(value), Err(FormatError::Layout(_))), "{value}");
        }
    }
}
