//! Participant-id schemes of the networks, with their check digits where they have one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdScheme {
    /// CNAPS bank code: 12 digits.
    Cnaps,
    /// Hong Kong bank (clearing) code used by FPS: 3 digits.
    HkClearingCode,
    /// Thai bank code: 3 digits.
    ThBankCode,
    /// ISO 9362 BIC: 4 letters (institution), 2 letters (country), 2 alphanumerics
    /// (location), optionally 3 alphanumerics (branch).
    Bic,
    /// Indian Financial System Code: 4 letters, a zero, 6 alphanumerics.
    Ifsc,
    /// Brazilian ISPB: 8 digits.
    Ispb,
    /// ABA routing transit number: 9 digits with a weighted mod-10 check digit.
    AbaRoutingNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id:?} is not a valid {scheme}: {problem}")]
pub struct IdSchemeError {
    pub id: String,
    pub scheme: &'static str,
    pub problem: &'static str,
}

impl IdScheme {
    pub fn name(self) -> &'static str {
        match self {
            Self::Cnaps => "CNAPS bank code",
            Self::HkClearingCode => "Hong Kong clearing code",
            Self::ThBankCode => "Thai bank code",
            Self::Bic => "BIC",
            Self::Ifsc => "IFSC",
            Self::Ispb => "ISPB",
            Self::AbaRoutingNumber => "ABA routing number",
        }
    }

    pub fn validate(self, id: &str) -> Result<(), IdSchemeError> {
        let fail = |problem| Err(IdSchemeError { id: id.to_string(), scheme: self.name(), problem });
        let b = id.as_bytes();
        let digits = |n: usize| b.len() == n && b.iter().all(u8::is_ascii_digit);
        match self {
            Self::Cnaps if !digits(12) => fail("expected 12 digits"),
            Self::HkClearingCode | Self::ThBankCode if !digits(3) => fail("expected 3 digits"),
            Self::Ispb if !digits(8) => fail("expected 8 digits"),
            Self::Bic => {
                if b.len() != 8 && b.len() != 11 {
                    return fail("expected 8 or 11 characters");
                }
                let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
                if !b[..6].iter().all(u8::is_ascii_uppercase) {
                    return fail("institution and country code must be letters");
                }
                if !b[6..].iter().all(upper_alnum) {
                    return fail("location and branch must be upper-case letters or digits");
                }
                Ok(())
            }
            Self::Ifsc => {
                let ok = b.len() == 11
                    && b[..4].iter().all(u8::is_ascii_uppercase)
                    && b[4] == b'0'
                    && b[5..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if ok {
                    Ok(())
                } else {
                    fail("expected 4 letters, 0, then 6 letters or digits")
                }
            }
            Self::AbaRoutingNumber => {
                if !digits(9) {
                    return fail("expected 9 digits");
                }
                let d: Vec<u32> = b.iter().map(|c| u32::from(c - b'0')).collect();
                let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
                if sum.is_multiple_of(10) {
                    Ok(())
                } else {
                    fail("check digit does not match")
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdScheme::*;

    #[test]
    fn known_good_ids() {
        assert!(Cnaps.validate("102100099996").is_ok());
        assert!(HkClearingCode.validate("004").is_ok());
        assert!(Bic.validate("BKCHHKHH").is_ok());
        assert!(Bic.validate("HSBCHKHHHKH").is_ok());
        assert!(Ifsc.validate("SBIN0001234").is_ok());
        assert!(Ispb.validate("00000000").is_ok());
        // Federal Reserve Bank of New York.
        assert!(AbaRoutingNumber.validate("021000021").is_ok());
    }

    #[test]
    fn bad_ids_say_why() {
        assert_eq!(Cnaps.validate("10210009999").unwrap_err().problem, "expected 12 digits");
        assert!(Bic.validate("bkchhkhh").is_err());
        assert!(Bic.validate("BKCH1KHH").is_err());
        assert!(Ifsc.validate("SBIN1001234").is_err());
        assert_eq!(AbaRoutingNumber.validate("021000022").unwrap_err().problem, "check digit does not match");
    }
}
