//! Account numbers: ISO 13616 IBANs (with the SEPA countries' lengths), and the form of
//! account a network's own customers hold, with a valid example of it for callers that
//! make payments up (the load generator, simulators).

use crate::id_format::{Check, FormatError};

/// IBAN lengths of the SEPA countries (EPC list, 2025, including AL, MD, ME and MK).
const SEPA_IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AL", 28),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
];

/// The IBAN length of a SEPA country.
pub fn sepa_iban_length(country: &str) -> Option<usize> {
    SEPA_IBAN_LENGTHS.iter().find(|(cc, _)| *cc == country).map(|(_, len)| *len)
}

/// The remainder mod 97 of an IBAN rearranged for checking (`bytes` are ASCII upper-case
/// letters and digits; letters count as 10–35).
fn mod97<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u32 {
    bytes.into_iter().fold(0, |rem, &c| {
        if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A' + 10)) % 97
        }
    })
}

/// ISO 13616 IBAN: country code, two check digits, upper-case alphanumeric BBAN, mod 97 = 1.
pub fn iban(value: &str) -> Check {
    let b = value.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(FormatError::layout("2 letters, 2 check digits and up to 30 upper-case letters or digits"));
    }
    if mod97(b[4..].iter().chain(&b[..4])) == 1 {
        Ok(())
    } else {
        Err(FormatError::CheckDigits("IBAN check digits do not match (mod 97)"))
    }
}

/// An IBAN of a SEPA country, with that country's IBAN length.
pub fn sepa_iban(value: &str) -> Check {
    iban(value)?;
    // An IBAN is ASCII, so its first two bytes are its country code.
    let country = &value[..2];
    match sepa_iban_length(country) {
        Some(len) if len == value.len() => Ok(()),
        Some(len) => Err(FormatError::not_allowed(format!("a {country} IBAN has {len} characters"))),
        None => Err(FormatError::not_allowed(format!("{country} is not a SEPA country"))),
    }
}

/// The form of account number a network's own customers hold; see
/// [`Connector::account_form`](crate::Connector::account_form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountForm {
    /// A local account number of `len` digits. The networks check no more than that an
    /// account is there and fits Max34Text, so any digits do.
    Digits { len: usize },
    /// An IBAN of `country`, `len` characters long in all (22 for Germany).
    Iban { country: &'static str, len: usize },
}

impl AccountForm {
    /// The form a network needs when it says nothing: local digits, 12 of them (a common
    /// length; the networks take any up to 34).
    pub const LOCAL_DIGITS: AccountForm = AccountForm::Digits { len: 12 };

    /// A valid account of this form, made from `n`: the same `n` gives the same account, and
    /// different `n` below 10^(digits in the form) give different accounts. An IBAN gets an
    /// all-digit BBAN holding `n` and the check digits that make it pass mod 97.
    pub fn example(&self, n: u64) -> String {
        match *self {
            AccountForm::Digits { len } => last_digits(n, len),
            AccountForm::Iban { country, len } => {
                let bban = last_digits(n, len.saturating_sub(4));
                // Check digits: 98 − (BBAN ‖ country ‖ "00") mod 97, letters as 10–35.
                let rem = mod97(bban.as_bytes().iter().chain(country.as_bytes()).chain(b"00"));
                format!("{country}{:02}{bban}", 98 - rem)
            }
        }
    }
}

/// `n` as exactly `len` decimal digits: zero-padded, or its last `len` digits.
fn last_digits(n: u64, len: usize) -> String {
    let s = format!("{n:0len$}");
    s[s.len() - len..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn ibans() {
        for ok in
            ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300"]
        {
            assert!(sepa_iban(ok).is_ok(), "{ok}");
        }
        assert_eq!(iban("DE89370400440532013001").unwrap_err().to_string(), "IBAN check digits do not match (mod 97)");
        assert!(matches!(iban("DE89370400440532013001"), Err(FormatError::CheckDigits(_))));
        assert!(sepa_iban("DE8937040044053201300").is_err());
        assert!(iban("de89370400440532013000").is_err());
        // A valid IBAN of a non-SEPA country (Brazil).
        assert!(iban("BR1800360305000010009795493C1").is_ok());
        assert!(sepa_iban("BR1800360305000010009795493C1").unwrap_err().to_string().contains("not a SEPA country"));
    }

    #[test]
    fn non_ascii_ibans_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES {
            assert!(matches!(iban(value), Err(FormatError::Layout(_))), "{value}");
            assert!(sepa_iban(value).is_err(), "{value}");
        }
    }

    #[test]
    fn example_ibans_are_valid_and_distinct() {
        let german = AccountForm::Iban { country: "DE", len: 22 };
        let mut seen = std::collections::HashSet::new();
        for n in (0..2_000).chain([u64::MAX, 10u64.pow(18) - 1, 370_400_440_532_013_000]) {
            let account = german.example(n);
            assert!(account.starts_with("DE"), "{account}");
            assert_eq!(sepa_iban(&account), Ok(()), "{account}");
            assert!(seen.insert(account));
        }
        // The known example IBAN is what its BBAN gives.
        assert_eq!(german.example(370_400_440_532_013_000), "DE89370400440532013000");
        // Every SEPA country's length gives a valid IBAN of that country.
        for (country, len) in SEPA_IBAN_LENGTHS {
            let account = AccountForm::Iban { country, len: *len }.example(42);
            assert_eq!(sepa_iban(&account), Ok(()), "{account}");
        }
    }

    #[test]
    fn example_digits_have_the_length_asked() {
        assert_eq!(AccountForm::LOCAL_DIGITS.example(42), "000000000042");
        assert_eq!(AccountForm::Digits { len: 3 }.example(123_456), "456");
        assert_eq!(AccountForm::Digits { len: 25 }.example(u64::MAX).len(), 25);
    }
}
