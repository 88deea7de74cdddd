//! Singapore's PayNow proxy ids: NRIC/FIN numbers and UENs.
//!
//! Both are checked on bytes: a proxy value may hold any Unicode, and a multi-byte character
//! simply fails the letter and digit checks.

use crate::id_format::{decimal, digit_values, is_digits, Check, FormatError};

/// Singapore NRIC/FIN: S, T, F, G or M, seven digits, a check letter.
pub fn nric(value: &str) -> Check {
    let b = value.as_bytes();
    if b.len() != 9 || !is_digits(&b[1..8]) {
        return Err(FormatError::layout("a letter, 7 digits and a check letter"));
    }
    let (offset, table): (u32, &[u8; 11]) = match b[0] {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        b'M' => (3, b"XWUTRQPNJLK"),
        _ => return Err(FormatError::not_allowed("must start with S, T, F, G or M")),
    };
    const W: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = digit_values(&b[1..8]).zip(W).map(|(d, w)| d * w).sum();
    if table[((sum + offset) % 11) as usize] == b[8] {
        Ok(())
    } else {
        Err(FormatError::CheckDigits("check letter does not match"))
    }
}

/// Singapore UEN, by format (ACRA does not publish the check-letter algorithm):
/// businesses `nnnnnnnnX`, local companies `yyyynnnnnX`, other entities `TyyPQnnnnX`.
pub fn uen(value: &str) -> Check {
    let b = value.as_bytes();
    let letter = |c: u8| c.is_ascii_uppercase();
    let ok = match b.len() {
        9 => is_digits(&b[..8]) && letter(b[8]),
        10 if b[0].is_ascii_digit() => {
            let year = decimal(&b[..4]).unwrap_or(0);
            is_digits(&b[..9]) && (1800..=2099).contains(&year) && letter(b[9])
        }
        10 => {
            matches!(b[0], b'T' | b'S' | b'R')
                && is_digits(&b[1..3])
                && letter(b[3])
                && letter(b[4])
                && is_digits(&b[5..9])
                && letter(b[9])
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(FormatError::layout("a UEN (nnnnnnnnX, yyyynnnnnX or TyyPQnnnnX)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn nrics() {
        for ok in ["S1234567D", "T0123456G", "F1234567N", "G1234567X", "M1234567K"] {
            assert!(nric(ok).is_ok(), "{ok}");
        }
        assert!(nric("S1234567A").is_err());
        assert!(nric("X1234567D").is_err());
    }

    #[test]
    fn uens() {
        for ok in ["53012345D", "201912345K", "T09LL0001B"] {
            assert!(uen(ok).is_ok(), "{ok}");
        }
        for bad in ["5301234D", "17001234AK", "X09LL0001B", "T09LL001BB"] {
            assert!(uen(bad).is_err(), "{bad}");
        }
    }

    /// These used to slice the text by byte position before checking it was ASCII.
    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES.iter().chain(&["S１234567D", "é1234567D", "５3012345D", "T09ＬL0001B"]) {
            assert!(nric(value).is_err(), "{value}");
            assert!(matches!(uen(value), Err(FormatError::Layout(_))), "{value}");
        }
    }
}
