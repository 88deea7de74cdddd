//! India's UPI proxy ids: virtual payment addresses and Aadhaar numbers.

use crate::id_format::{all_digits, Check, FormatError};

/// UPI virtual payment address: `name@handle`, name 1–256 of letters, digits, `.`, `-`, `_`;
/// handle of letters and digits (dots allowed), 255 characters in all.
pub fn vpa(value: &str) -> Check {
    let (name, handle) = value.split_once('@').ok_or(FormatError::layout("name@handle"))?;
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let handle_ok = handle.len() >= 2
        && handle.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && handle.as_bytes()[0].is_ascii_alphabetic();
    if value.len() <= 255 && name_ok && handle_ok {
        Ok(())
    } else {
        Err(FormatError::layout("name@handle of letters, digits, '.', '-' and '_'"))
    }
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether the Verhoeff checksum of `value` (ASCII digits only) is zero.
fn verhoeff_ok(value: &str) -> bool {
    let c = value
        .bytes()
        .rev()
        .enumerate()
        .fold(0u8, |c, (i, b)| VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][(b - b'0') as usize] as usize]);
    c == 0
}

/// Aadhaar: 12 digits, not starting with 0 or 1, Verhoeff check digit.
pub fn aadhaar(value: &str) -> Check {
    if !all_digits(value) || value.len() != 12 || value.starts_with(['0', '1']) {
        return Err(FormatError::layout("12 digits not starting with 0 or 1"));
    }
    if verhoeff_ok(value) {
        Ok(())
    } else {
        Err(FormatError::CheckDigits("Verhoeff check digit does not match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn aadhaars_and_vpas() {
        assert!(aadhaar("234123412346").is_ok());
        assert!(aadhaar("234123412345").is_err());
        assert!(aadhaar("123412341234").is_err());
        assert!(vpa("asha.k@okhdfcbank").is_ok());
        assert!(vpa("asha@1bank").is_err());
        assert!(vpa("asha k@ybl").is_err());
    }

    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in
            NON_ASCII_SAMPLES.iter().chain(&["äsha@ybl", "asha@yb😀", "asha@ＹＢＬ", "２３４１２３４１２３４６"])
        {
            assert!(matches!(aadhaar(value), Err(FormatError::Layout(_))), "{value}");
            assert!(matches!(vpa(value), Err(FormatError::Layout(_))), "{value}");
        }
    }
}
