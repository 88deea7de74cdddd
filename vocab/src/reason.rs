//! Why a payment was refused: ISO 20022 ExternalStatusReason1Code.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Text that is not an ExternalStatusReason1Code (1 to 4 upper-case letters or digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ExternalStatusReason1Code")]
pub struct InvalidReasonCode(pub String);

macro_rules! iso_reasons {
    ($($code:ident => $text:literal,)*) => {
        /// ISO 20022 ExternalStatusReason1Code. Known codes have a variant; anything else
        /// well-formed (1 to 4 upper-case letters or digits) is [`IsoReason::Other`].
        ///
        /// Build values with [`IsoReason::parse`] (or serde), which never yields `Other` for a
        /// known code, so equality is by code.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum IsoReason {
            $(#[doc = $text] $code,)*
            /// A code this crate has no variant for.
            Other(String),
        }

        impl IsoReason {
            /// Every known code.
            pub const KNOWN: &'static [IsoReason] = &[$(IsoReason::$code,)*];

            pub fn code(&self) -> &str {
                match self {
                    $(Self::$code => stringify!($code),)*
                    Self::Other(code) => code,
                }
            }

            /// The code of a known reason, as a `'static` string (`None` for `Other`).
            pub fn known_code(&self) -> Option<&'static str> {
                match self {
                    $(Self::$code => Some(stringify!($code)),)*
                    Self::Other(_) => None,
                }
            }

            /// The ISO 20022 name of the code ("" for [`IsoReason::Other`]).
            pub fn description(&self) -> &'static str {
                match self {
                    $(Self::$code => $text,)*
                    Self::Other(_) => "",
                }
            }

            /// Parses a code: a known one to its variant, any other 1–4 upper-case letters
            /// or digits to `Other`.
            pub fn parse(code: &str) -> Result<Self, InvalidReasonCode> {
                match code {
                    $(stringify!($code) => Ok(Self::$code),)*
                    _ if (1..=4).contains(&code.len())
                        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
                    {
                        Ok(Self::Other(code.to_string()))
                    }
                    _ => Err(InvalidReasonCode(code.to_string())),
                }
            }
        }
    };
}

iso_reasons! {
    AB05 => "Timeout at the creditor agent",
    AB06 => "Timeout at the instructed agent",
    AB07 => "Instructed agent offline",
    AB08 => "Creditor agent offline",
    AB09 => "Error at the creditor agent",
    AB10 => "Error at the instructed agent",
    AC01 => "Incorrect account number",
    AC02 => "Invalid debtor account number",
    AC03 => "Invalid creditor account number",
    AC04 => "Closed account number",
    AC06 => "Blocked account",
    AC07 => "Closed creditor account number",
    AG01 => "Transaction forbidden",
    AG03 => "Transaction type not supported",
    AM02 => "Amount not allowed",
    AM03 => "Currency not allowed",
    AM04 => "Insufficient funds",
    AM05 => "Duplication",
    AM09 => "Wrong amount",
    AM12 => "Invalid amount",
    AM14 => "Amount exceeds agreed limit",
    BE01 => "Inconsistent with end customer",
    BE23 => "Account proxy invalid",
    CUST => "Requested by customer",
    DS02 => "Order cancelled",
    DT01 => "Invalid date",
    DUPL => "Duplicate payment",
    FF01 => "Invalid file format",
    FRAD => "Fraudulent origin",
    MS02 => "Not specified reason (customer generated)",
    MS03 => "Not specified reason (agent generated)",
    NARR => "Narrative",
    RC01 => "Bank identifier incorrect",
    RR01 => "Missing debtor account or identification",
    RR04 => "Regulatory reason",
    TM01 => "Invalid cut-off time",
}

impl fmt::Display for IsoReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for IsoReason {
    type Err = InvalidReasonCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for IsoReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for IsoReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl IsoReason {
    /// A bounded label for metrics: the code of a known reason, `NARR` for any other.
    pub fn metric_label(&self) -> &'static str {
        self.known_code().unwrap_or("NARR")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_to_known_variants() {
        assert_eq!(IsoReason::parse("AM04").unwrap(), IsoReason::AM04);
        assert_eq!(IsoReason::parse("ZZ99").unwrap(), IsoReason::Other("ZZ99".into()));
        assert!(IsoReason::parse("").is_err());
        assert!(IsoReason::parse("am04").is_err());
        assert!(IsoReason::parse("AM045").is_err());
        assert!(IsoReason::parse("ÉÉ").is_err());
        for r in IsoReason::KNOWN {
            assert_eq!(&IsoReason::parse(r.code()).unwrap(), r);
            assert!(!r.description().is_empty());
        }
        let json = serde_json::to_string(&IsoReason::RC01).unwrap();
        assert_eq!(json, "\"RC01\"");
        assert_eq!(serde_json::from_str::<IsoReason>("\"NARR\"").unwrap(), IsoReason::NARR);
        assert!(serde_json::from_str::<IsoReason>("\"bad code\"").is_err());
        assert_eq!(IsoReason::Other("ZZ99".into()).metric_label(), "NARR");
        assert_eq!(IsoReason::AM04.metric_label(), "AM04");
    }
}
