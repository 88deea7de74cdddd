//! Validators for the alias (proxy) formats the networks resolve, and for IBANs.
//!
//! Each returns `Err(reason)`; connectors wrap the reason into
//! [`ConnectorError::InvalidAlias`](crate::ConnectorError::InvalidAlias).

use std::ops::RangeInclusive;

use crate::canonical::{Alias, AliasScheme};
use crate::connector::ConnectorError;

type Check = Result<(), String>;

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn digits(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b - b'0'))
}

/// A national mobile number in E.164 form: `+<country code><national number>`, the national
/// number `len` digits long and starting with one of `first` (any digit when empty).
pub fn mobile(value: &str, country_code: &str, len: RangeInclusive<usize>, first: &[u8]) -> Check {
    let national = value
        .strip_prefix('+')
        .and_then(|v| v.strip_prefix(country_code))
        .ok_or_else(|| format!("expected E.164 form +{country_code}…"))?;
    if !all_digits(national) || !len.contains(&national.len()) {
        return Err(format!("expected {}–{} digits after +{country_code}", len.start(), len.end()));
    }
    if !first.is_empty() && !first.contains(&national.as_bytes()[0]) {
        return Err(format!("a +{country_code} mobile number does not start with {}", &national[..1]));
    }
    Ok(())
}

/// Any E.164 number: `+`, 7 to 15 digits, no leading zero.
pub fn e164(value: &str) -> Check {
    match value.strip_prefix('+') {
        Some(d) if all_digits(d) && (7..=15).contains(&d.len()) && !d.starts_with('0') => Ok(()),
        _ => Err("expected E.164 form: + and 7 to 15 digits".into()),
    }
}

/// A pragmatic e-mail check: one `@`, a local part of 1–64 printable characters, a domain of
/// dot-separated labels of letters, digits and hyphens; 254 characters at most.
pub fn email(value: &str, max_len: usize) -> Check {
    if value.len() > max_len {
        return Err(format!("longer than {max_len} characters"));
    }
    let (local, domain) = value.split_once('@').ok_or("expected local@domain")?;
    if local.is_empty() || local.len() > 64 || !local.bytes().all(|b| b.is_ascii_graphic() && b != b'@') {
        return Err("invalid local part".into());
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
        return Err("invalid domain".into());
    }
    Ok(())
}

/// Thai 13-digit citizen id or tax id: weights 13..2, check digit (11 − sum mod 11) mod 10.
pub fn thai_id13(value: &str) -> Check {
    if !all_digits(value) || value.len() != 13 {
        return Err("expected 13 digits".into());
    }
    let d: Vec<u32> = digits(value).collect();
    let sum: u32 = (0..12).map(|i| d[i] * (13 - i as u32)).sum();
    if (11 - sum % 11) % 10 == d[12] {
        Ok(())
    } else {
        Err("check digit does not match".into())
    }
}

/// Singapore NRIC/FIN: S, T, F, G or M, seven digits, a check letter.
pub fn nric(value: &str) -> Check {
    let b = value.as_bytes();
    if b.len() != 9 || !all_digits(&value[1..8]) {
        return Err("expected a letter, 7 digits and a check letter".into());
    }
    let (offset, table): (u32, &[u8; 11]) = match b[0] {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        b'M' => (3, b"XWUTRQPNJLK"),
        _ => return Err("must start with S, T, F, G or M".into()),
    };
    const W: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = digits(&value[1..8]).zip(W).map(|(d, w)| d * w).sum();
    if table[((sum + offset) % 11) as usize] == b[8] {
        Ok(())
    } else {
        Err("check letter does not match".into())
    }
}

/// Singapore UEN, by format (ACRA does not publish the check-letter algorithm):
/// businesses `nnnnnnnnX`, local companies `yyyynnnnnX`, other entities `TyyPQnnnnX`.
pub fn uen(value: &str) -> Check {
    let b = value.as_bytes();
    let letter = |c: u8| c.is_ascii_uppercase();
    let ok = match b.len() {
        9 => all_digits(&value[..8]) && letter(b[8]),
        10 if b[0].is_ascii_digit() => {
            let year: u32 = value[..4].parse().unwrap_or(0);
            all_digits(&value[..9]) && (1800..=2099).contains(&year) && letter(b[9])
        }
        10 => {
            matches!(b[0], b'T' | b'S' | b'R')
                && all_digits(&value[1..3])
                && letter(b[3])
                && letter(b[4])
                && all_digits(&value[5..9])
                && letter(b[9])
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("not a UEN (nnnnnnnnX, yyyynnnnnX or TyyPQnnnnX)".into())
    }
}

/// Malaysian MyKad number: 12 digits, the first six a date YYMMDD.
pub fn mykad(value: &str) -> Check {
    if !all_digits(value) || value.len() != 12 {
        return Err("expected 12 digits".into());
    }
    let month: u32 = value[2..4].parse().unwrap_or(0);
    let day: u32 = value[4..6].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err("the first six digits are not a date YYMMDD".into());
    }
    Ok(())
}

/// Malaysian SSM business registration number, new 12-digit format: year of registration,
/// two-digit entity type (01–06), six-digit sequence.
pub fn ssm(value: &str) -> Check {
    if !all_digits(value) || value.len() != 12 {
        return Err("expected 12 digits".into());
    }
    let year: u32 = value[..4].parse().unwrap_or(0);
    let kind: u32 = value[4..6].parse().unwrap_or(0);
    if !(1900..=2099).contains(&year) || !(1..=6).contains(&kind) {
        return Err("expected YYYY, entity type 01–06, six digits".into());
    }
    Ok(())
}

/// Passport number: 5–20 upper-case letters and digits.
pub fn passport(value: &str) -> Check {
    if (5..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("expected 5 to 20 upper-case letters or digits".into())
    }
}

/// A fixed count of digits (HK FPS id, PromptPay e-Wallet id).
pub fn n_digits(value: &str, counts: &[usize]) -> Check {
    if all_digits(value) && counts.contains(&value.len()) {
        Ok(())
    } else {
        Err(format!("expected {counts:?} digits"))
    }
}

/// UPI virtual payment address: `name@handle`, name 1–256 of letters, digits, `.`, `-`, `_`;
/// handle of letters and digits (dots allowed), 255 characters in all.
pub fn vpa(value: &str) -> Check {
    let (name, handle) = value.split_once('@').ok_or("expected name@handle")?;
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let handle_ok = handle.len() >= 2
        && handle.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && handle.as_bytes()[0].is_ascii_alphabetic();
    if value.len() <= 255 && name_ok && handle_ok {
        Ok(())
    } else {
        Err("expected name@handle of letters, digits, '.', '-' and '_'".into())
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
        return Err("expected 12 digits not starting with 0 or 1".into());
    }
    if verhoeff_ok(value) {
        Ok(())
    } else {
        Err("Verhoeff check digit does not match".into())
    }
}

/// Brazilian CPF: 11 digits, two mod-11 check digits, not all the same digit.
pub fn cpf(value: &str) -> Check {
    if !all_digits(value) || value.len() != 11 {
        return Err("expected 11 digits".into());
    }
    let d: Vec<u32> = digits(value).collect();
    if d.iter().all(|&x| x == d[0]) {
        return Err("repeated digits are not a CPF".into());
    }
    for n in [9usize, 10] {
        let sum: u32 = (0..n).map(|i| d[i] * (n as u32 + 1 - i as u32)).sum();
        let r = sum * 10 % 11;
        if r % 10 != d[n] {
            return Err("check digits do not match".into());
        }
    }
    Ok(())
}

/// Brazilian CNPJ, numeric or the alphanumeric form from July 2026: 12 characters of digits
/// or upper-case letters (each worth its ASCII code − 48), then two mod-11 check digits.
pub fn cnpj(value: &str) -> Check {
    let b = value.as_bytes();
    if b.len() != 14
        || !b[..12].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || !b[12..].iter().all(u8::is_ascii_digit)
    {
        return Err("expected 12 digits or upper-case letters and 2 check digits".into());
    }
    if b.iter().all(|&c| c == b[0]) {
        return Err("repeated characters are not a CNPJ".into());
    }
    let v: Vec<u32> = b.iter().map(|&c| u32::from(c - b'0')).collect();
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let check = |n: usize, w: &[u32]| {
        let r = v[..n].iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    if check(12, &W1) == v[12] && check(13, &W2) == v[13] {
        Ok(())
    } else {
        Err("check digits do not match".into())
    }
}

/// Pix random key: a lower-case UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn uuid_lower(value: &str) -> Check {
    let b = value.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        });
    if ok {
        Ok(())
    } else {
        Err("expected a lower-case UUID".into())
    }
}

/// A UETR: lower-case UUID version 4 (ISO 20022 `UUIDv4Identifier`).
pub fn uetr(value: &str) -> Check {
    uuid_lower(value)?;
    let b = value.as_bytes();
    if b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b') {
        Ok(())
    } else {
        Err("expected a version 4 UUID".into())
    }
}

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

/// ISO 13616 IBAN: country code, two check digits, upper-case alphanumeric BBAN, mod 97 = 1.
pub fn iban(value: &str) -> Check {
    let b = value.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err("expected 2 letters, 2 check digits and up to 30 upper-case letters or digits".into());
    }
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    if rem == 1 {
        Ok(())
    } else {
        Err("IBAN check digits do not match (mod 97)".into())
    }
}

/// An IBAN of a SEPA country, with that country's IBAN length.
pub fn sepa_iban(value: &str) -> Check {
    iban(value)?;
    match SEPA_IBAN_LENGTHS.iter().find(|(cc, _)| value.starts_with(cc)) {
        Some((_, len)) if *len == value.len() => Ok(()),
        Some((cc, len)) => Err(format!("a {cc} IBAN has {len} characters")),
        None => Err(format!("{} is not a SEPA country", &value[..2])),
    }
}

/// Wraps a validator's verdict into [`ConnectorError::InvalidAlias`].
pub(crate) fn verdict(alias: &Alias, check: Check) -> Result<(), ConnectorError> {
    check.map_err(|reason| ConnectorError::InvalidAlias { scheme: alias.scheme, value: alias.value.clone(), reason })
}

/// The validator to use for schemes whose format is the same everywhere.
pub(crate) fn common(scheme: AliasScheme, value: &str) -> Check {
    match scheme {
        AliasScheme::Email => email(value, 254),
        AliasScheme::Passport => passport(value),
        AliasScheme::Vpa => vpa(value),
        AliasScheme::Aadhaar => aadhaar(value),
        AliasScheme::Cpf => cpf(value),
        AliasScheme::Cnpj => cnpj(value),
        AliasScheme::Evp => uuid_lower(value),
        AliasScheme::Uen => uen(value),
        AliasScheme::FpsId => n_digits(value, &[7, 9]),
        AliasScheme::EWallet => n_digits(value, &[15]),
        AliasScheme::TaxId => thai_id13(value),
        AliasScheme::BusinessId => ssm(value),
        AliasScheme::Mobile => e164(value),
        AliasScheme::NationalId => Err("national ids are network-specific".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        assert!(mobile("+85291234567", "852", 8..=8, b"456789").is_ok());
        assert!(mobile("+85231234567", "852", 8..=8, b"456789").is_err());
        assert!(mobile("85291234567", "852", 8..=8, b"456789").is_err());
        assert!(mobile("+8529123456", "852", 8..=8, b"456789").is_err());
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
    fn national_ids() {
        assert!(thai_id13("1101700207366").is_ok());
        assert!(thai_id13("1101700207367").is_err());
        assert!(thai_id13("0105555012348").is_ok());
        for ok in ["S1234567D", "T0123456G", "F1234567N", "G1234567X", "M1234567K"] {
            assert!(nric(ok).is_ok(), "{ok}");
        }
        assert!(nric("S1234567A").is_err());
        assert!(nric("X1234567D").is_err());
        assert!(mykad("900101145678").is_ok());
        assert!(mykad("901301145678").is_err());
        assert!(ssm("201901012345").is_ok());
        assert!(ssm("201909012345").is_err());
        for ok in ["53012345D", "201912345K", "T09LL0001B"] {
            assert!(uen(ok).is_ok(), "{ok}");
        }
        for bad in ["5301234D", "17001234AK", "X09LL0001B", "T09LL001BB"] {
            assert!(uen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn indian_and_brazilian_ids() {
        assert!(aadhaar("234123412346").is_ok());
        assert!(aadhaar("234123412345").is_err());
        assert!(aadhaar("123412341234").is_err());
        assert!(vpa("asha.k@okhdfcbank").is_ok());
        assert!(vpa("asha@1bank").is_err());
        assert!(vpa("asha k@ybl").is_err());
        assert!(cpf("52998224725").is_ok());
        assert!(cpf("52998224724").is_err());
        assert!(cpf("11111111111").is_err());
        assert!(cnpj("11222333000181").is_ok());
        assert!(cnpj("12ABC34501DE35").is_ok());
        assert!(cnpj("11222333000182").is_err());
        assert!(uuid_lower("123e4567-e89b-42d3-a456-426614174000").is_ok());
        assert!(uuid_lower("123E4567-E89B-42D3-A456-426614174000").is_err());
        assert!(uetr("123e4567-e89b-42d3-a456-426614174000").is_ok());
        assert!(uetr("123e4567-e89b-12d3-a456-426614174000").is_err());
    }

    #[test]
    fn ibans() {
        for ok in
            ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300"]
        {
            assert!(sepa_iban(ok).is_ok(), "{ok}");
        }
        assert_eq!(iban("DE89370400440532013001").unwrap_err(), "IBAN check digits do not match (mod 97)");
        assert!(sepa_iban("DE8937040044053201300").is_err());
        assert!(iban("de89370400440532013000").is_err());
        // A valid IBAN of a non-SEPA country (Brazil).
        assert!(iban("BR1800360305000010009795493C1").is_ok());
        assert!(sepa_iban("BR1800360305000010009795493C1").unwrap_err().contains("not a SEPA country"));
    }
}
