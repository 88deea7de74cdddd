//! Validators for the alias (proxy) formats several networks share: mobile numbers, e-mail
//! addresses, passport numbers, fixed-length digit ids. A format that belongs to one network
//! (NRIC, UEN, Thai id, MyKad, SSM, Aadhaar, VPA, CPF, CNPJ) lives in that network's folder,
//! in `networks/<name>/ids.rs`.
//!
//! Each returns a [`FormatError`]; connectors wrap it into
//! [`ConnectorError::InvalidAlias`] with [`verdict`].

use std::ops::RangeInclusive;

use crate::canonical::{Alias, AliasScheme};
use crate::connector::ConnectorError;
use crate::id_format::{all_digits, Check, FormatError};

/// A national mobile number in E.164 form: `+<country code><national number>`, the national
/// number `len` digits long and starting with one of `first` (any digit when empty).
pub fn mobile(value: &str, country_code: &str, len: RangeInclusive<usize>, first: &[u8]) -> Check {
    let national = value
        .strip_prefix('+')
        .and_then(|v| v.strip_prefix(country_code))
        .ok_or_else(|| FormatError::layout(format!("E.164 form +{country_code}…")))?;
    if !all_digits(national) || !len.contains(&national.len()) {
        return Err(FormatError::layout(format!("{}–{} digits after +{country_code}", len.start(), len.end())));
    }
    // All ASCII digits from here, so the first byte is the first character.
    let lead = national.as_bytes()[0];
    if !first.is_empty() && !first.contains(&lead) {
        return Err(FormatError::not_allowed(format!(
            "a +{country_code} mobile number does not start with {}",
            char::from(lead)
        )));
    }
    Ok(())
}

/// Any E.164 number: `+`, 7 to 15 digits, no leading zero.
pub fn e164(value: &str) -> Check {
    match value.strip_prefix('+') {
        Some(d) if all_digits(d) && (7..=15).contains(&d.len()) && !d.starts_with('0') => Ok(()),
        _ => Err(FormatError::layout("E.164 form: + and 7 to 15 digits")),
    }
}

/// A pragmatic e-mail check: one `@`, a local part of 1–64 printable ASCII characters, a
/// domain of dot-separated labels of letters, digits and hyphens; `max_len` bytes at most.
pub fn email(value: &str, max_len: usize) -> Check {
    if value.len() > max_len {
        return Err(FormatError::layout(format!("at most {max_len} characters")));
    }
    let (local, domain) = value.split_once('@').ok_or(FormatError::layout("local@domain"))?;
    if local.is_empty() || local.len() > 64 || !local.bytes().all(|b| b.is_ascii_graphic() && b != b'@') {
        return Err(FormatError::not_allowed("invalid local part"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(FormatError::not_allowed("invalid domain"));
    }
    Ok(())
}

/// Passport number: 5–20 upper-case letters and digits.
pub fn passport(value: &str) -> Check {
    if (5..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FormatError::layout("5 to 20 upper-case letters or digits"))
    }
}

/// A fixed count of digits (HK FPS id, PromptPay e-Wallet id).
pub fn n_digits(value: &str, counts: &[usize]) -> Check {
    if all_digits(value) && counts.contains(&value.len()) {
        Ok(())
    } else {
        Err(FormatError::layout(format!("{counts:?} digits")))
    }
}

/// Wraps a validator's verdict into [`ConnectorError::InvalidAlias`].
pub(crate) fn verdict(alias: &Alias, check: Check) -> Result<(), ConnectorError> {
    check.map_err(|reason| ConnectorError::InvalidAlias {
        scheme: alias.scheme,
        value: alias.value.clone(),
        reason: reason.to_string(),
    })
}

/// The validator of a scheme whose format is the same in every network that resolves it.
/// Other schemes are the network's to check ([`FormatError::NoCommonFormat`] here).
pub(crate) fn common(scheme: AliasScheme, value: &str) -> Check {
    match scheme {
        AliasScheme::Email => email(value, 254),
        AliasScheme::Passport => passport(value),
        AliasScheme::Mobile => e164(value),
        other => Err(FormatError::NoCommonFormat(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn mobiles() {
        assert!(mobile("+85291234567", "852", 8..=8, b"456789").is_ok());
        assert!(mobile("+85231234567", "852", 8..=8, b"456789").is_err());
        assert!(mobile("85291234567", "852", 8..=8, b"456789").is_err());
        assert!(mobile("+8529123456", "852", 8..=8, b"456789").is_err());
        assert_eq!(
            mobile("+85231234567", "852", 8..=8, b"456789").unwrap_err().to_string(),
            "a +852 mobile number does not start with 3"
        );
        assert!(e164("+4915112345678").is_ok());
        assert!(e164("+0123456789").is_err());
    }

    #[test]
    fn emails() {
        assert!(email("li.wei@example.cn", 254).is_ok());
        for bad in ["", "a", "a@b", "@b.c", "a@b..c", "a b@c.d", "a@-b.c", "a@b@c.d"] {
            assert!(email(bad, 254).is_err(), "{bad}");
        }
        assert!(email(&format!("{}@b.co", "a".repeat(60)), 64).is_err());
    }

    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES {
            assert!(mobile(value, "65", 8..=8, b"89").is_err(), "{value}");
            assert!(e164(value).is_err(), "{value}");
            assert!(email(value, 254).is_err(), "{value}");
            assert!(passport(value).is_err(), "{value}");
            assert!(n_digits(value, &[1, 2, 3, 7, 9, 15]).is_err(), "{value}");
        }
    }

    #[test]
    fn network_specific_schemes_have_no_common_format() {
        assert_eq!(common(AliasScheme::Uen, "53012345D"), Err(FormatError::NoCommonFormat(AliasScheme::Uen)));
        assert!(common(AliasScheme::Email, "a@b.co").is_ok());
    }
}
