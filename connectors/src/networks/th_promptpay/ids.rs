//! Thailand's PromptPay proxy ids: the 13-digit citizen id, also used as the tax id.

use crate::id_format::{all_digits, digit_values, Check, FormatError};

/// Thai 13-digit citizen id or tax id: weights 13..2, check digit (11 − sum mod 11) mod 10.
pub fn thai_id13(value: &str) -> Check {
    if !all_digits(value) || value.len() != 13 {
        return Err(FormatError::layout("13 digits"));
    }
    let d: Vec<u32> = digit_values(value.as_bytes()).collect();
    let sum: u32 = (0..12).map(|i| d[i] * (13 - i as u32)).sum();
    if (11 - sum % 11) % 10 == d[12] {
        Ok(())
    } else {
        Err(FormatError::CheckDigits("check digit does not match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn thai_ids() {
        assert!(thai_id13("1101700207366").is_ok());
        assert!(thai_id13("1101700207367").is_err());
        assert!(thai_id13("0105555012348").is_ok());
    }

    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES {
            assert!(matches!(thai_id13(value), Err(FormatError::Layout(_))), "{value}");
        }
    }
}
