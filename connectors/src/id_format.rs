//! What the format validators (aliases, national ids, IBANs, UETRs) share: their typed error
//! and helpers that read a value as ASCII bytes.
//!
//! The values come from outside (proxy fields, account ids, message ids), so they may hold any
//! Unicode. The validators look at bytes, never slice a `&str` by position: a byte index in the
//! middle of a multi-byte character would panic, while a non-ASCII byte simply fails the check.

use std::borrow::Cow;

use crate::canonical::AliasScheme;

/// Why a value is not in the format its scheme requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Wrong length, characters or layout; says what was expected.
    #[error("expected {0}")]
    Layout(Cow<'static, str>),
    /// Well-formed, but the check digits (or check letter) are wrong.
    #[error("{0}")]
    CheckDigits(&'static str),
    /// Well-formed, but a part of it holds a value the scheme does not allow.
    #[error("{0}")]
    NotAllowed(Cow<'static, str>),
    /// The scheme's format is defined by the network that resolves it, not shared.
    #[error("{0} aliases have no common format: the network resolving them defines it")]
    NoCommonFormat(AliasScheme),
}

impl FormatError {
    pub(crate) fn layout(expected: impl Into<Cow<'static, str>>) -> Self {
        Self::Layout(expected.into())
    }

    pub(crate) fn not_allowed(why: impl Into<Cow<'static, str>>) -> Self {
        Self::NotAllowed(why.into())
    }
}

/// The verdict of a format validator.
pub type Check = Result<(), FormatError>;

/// Whether `b` is one or more ASCII digits.
pub(crate) fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// Whether `s` is one or more ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    is_digits(s.as_bytes())
}

/// The values of ASCII digits; call only on bytes that [`is_digits`] accepted.
pub(crate) fn digit_values(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.iter().map(|c| u32::from(c - b'0'))
}

/// The number written by `b` in decimal, if it is all ASCII digits (and fits).
pub(crate) fn decimal(b: &[u8]) -> Option<u32> {
    if !is_digits(b) || b.len() > 9 {
        return None;
    }
    Some(digit_values(b).fold(0, |n, d| n * 10 + d))
}

/// Non-ASCII look-alikes of valid values, at the byte lengths the validators check, for their
/// tests: each must be refused with an error, never a panic.
#[cfg(test)]
pub(crate) const NON_ASCII_SAMPLES: &[&str] = &[
    "é",
    "éééééééééééé",
    "é234567D",                            // 9 bytes, as an NRIC
    "1234567é",                            // 9 bytes, as a UEN nnnnnnnnX
    "T09LL000é",                           // 10 bytes, as a UEN TyyPQnnnnX
    "20191234é",                           // 10 bytes, as a UEN yyyynnnnnX
    "9001011é567",                         // 12 bytes, as a MyKad, SSM or Aadhaar number
    "11017002073é",                        // 13 bytes, as a Thai id
    "529982247é",                          // 11 bytes, as a CPF
    "112223330001é",                       // 14 bytes, as a CNPJ
    "123e4567-e89b-42d3-a456-4266141740é", // 36 bytes, as a UUID
    "DE8937040044053201300é",              // 23 bytes, an IBAN's length
    "DÉ89370400440532013000",
    "Ｓ1234567Ｄ",
    "１１０１７００２０７３６６",
    "+６５91234567",
    "😀😀😀",
    "+65😀1234567",
    "a@b.c😀",
    "日本語@例え.jp",
    "asha@ökbank",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_read_ascii_digits_only() {
        assert!(all_digits("0123"));
        assert!(!all_digits(""));
        assert!(!all_digits("１２")); // full-width digits are not ASCII digits
        assert_eq!(decimal(b"2019"), Some(2019));
        assert_eq!(decimal("20é".as_bytes()), None);
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"9999999999"), None);
    }

    #[test]
    fn messages_read_as_before() {
        assert_eq!(FormatError::layout("13 digits").to_string(), "expected 13 digits");
        assert_eq!(FormatError::CheckDigits("check digit does not match").to_string(), "check digit does not match");
    }
}
