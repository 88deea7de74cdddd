//! IN_UPI: network profile, UPI XML wire types (`upi:ReqPay`, `upi:RespPay`), alias rules, limit,
//! and the mapping between UPI response codes and ISO 20022 status reasons.

use serde::{Deserialize, Serialize};

use super::ids;
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme, IsoReason, PaymentStatus};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "IN_UPI",
    name: "India Unified Payments Interface",
    country: "IN",
    currency: "INR",
    participant_ids: IdScheme::Ifsc,
    message_standard: "UPI XML API",
};

/// The UPI schema namespace, bound to the `upi:` prefix of the root element.
pub const NAMESPACE: &str = "http://npci.org/upi/schema/";
/// `Head/@ver` values accepted; the first is emitted.
pub const VERSIONS: &[&str] = &["2.0", "1.0"];
/// `Head/@orgId` Interlink writes.
pub const ORG_ID: &str = "INTERLINK";
/// UPI limits `Txn/@note` to 50 characters; longer remittance information is cut.
pub const NOTE_MAX: usize = 50;
/// UPI timestamps are Indian Standard Time.
pub const UTC_OFFSET_MINUTES: i32 = 330;

pub const ALIASES: &[AliasScheme] = &[AliasScheme::Vpa, AliasScheme::Mobile, AliasScheme::Aadhaar];

/// INR 1,00,000 per transaction, NPCI's general person-to-person UPI limit (higher category
/// limits, e.g. for tax or hospital payments, are out of scope).
pub const LIMIT: Option<AmountLimit> =
    Some(AmountLimit { max_minor_units: 10_000_000, source: "NPCI: UPI P2P limit INR 1,00,000 per transaction" });

/// Checks an alias against UPI's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "91", 10..=10, b"6789"),
            AliasScheme::Vpa => ids::vpa(&a.value),
            AliasScheme::Aadhaar => ids::aadhaar(&a.value),
            other => alias::common(other, &a.value),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Wire types. Attributes are `@name`; elements keep UPI's capitalised names. The root element's
// name (`upi:ReqPay`) is given when serialising and checked separately when reading.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReqPay {
    #[serde(rename = "@xmlns:upi", default, skip_serializing_if = "String::is_empty")]
    pub xmlns_upi: String,
    #[serde(rename = "Head")]
    pub head: Head,
    #[serde(rename = "Txn")]
    pub txn: Txn,
    #[serde(rename = "Payer")]
    pub payer: Party,
    #[serde(rename = "Payees")]
    pub payees: Payees,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespPay {
    #[serde(rename = "@xmlns:upi", default, skip_serializing_if = "String::is_empty")]
    pub xmlns_upi: String,
    #[serde(rename = "Head")]
    pub head: Head,
    #[serde(rename = "Txn")]
    pub txn: Txn,
    #[serde(rename = "Resp")]
    pub resp: Resp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    #[serde(rename = "@ver")]
    pub ver: String,
    #[serde(rename = "@ts")]
    pub ts: String,
    #[serde(rename = "@orgId")]
    pub org_id: String,
    #[serde(rename = "@msgId")]
    pub msg_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@note", default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(rename = "@refId", default, skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    #[serde(rename = "@ts")]
    pub ts: String,
    /// PAY for a payment; REVERSAL for a settled payment's reversal, with the original.
    #[serde(rename = "@type")]
    pub kind: String,
    /// A reversal's original transaction.
    #[serde(rename = "@orgTxnId", default, skip_serializing_if = "Option::is_none")]
    pub org_txn_id: Option<String>,
    /// A reversal's cause: the UPI response code that ends the original transaction.
    #[serde(rename = "@orgRespCode", default, skip_serializing_if = "Option::is_none")]
    pub org_resp_code: Option<String>,
}

/// `Payer`, and each `Payees/Payee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    #[serde(rename = "@addr", default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(rename = "@name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "@seqNum")]
    pub seq_num: String,
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "@code")]
    pub code: String,
    #[serde(rename = "Ac", default, skip_serializing_if = "Option::is_none")]
    pub ac: Option<Ac>,
    #[serde(rename = "Amount")]
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payees {
    #[serde(rename = "Payee", default)]
    pub payee: Vec<Party>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ac {
    #[serde(rename = "@addrType")]
    pub addr_type: String,
    #[serde(rename = "Detail", default)]
    pub details: Vec<Detail>,
}

impl Ac {
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details.iter().find(|d| d.name == name).map(|d| d.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "@value")]
    pub value: String,
}

impl Detail {
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self { name: name.to_string(), value: value.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    #[serde(rename = "@value")]
    pub value: String,
    #[serde(rename = "@curr")]
    pub curr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resp {
    #[serde(rename = "@reqMsgId")]
    pub req_msg_id: String,
    #[serde(rename = "@result")]
    pub result: String,
    #[serde(rename = "@errCode", default, skip_serializing_if = "Option::is_none")]
    pub err_code: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Status and reason mapping.

/// `Resp/@result` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpiResult {
    Success,
    Failure,
    Pending,
    /// Deemed approved: the credit leg's outcome is not yet known.
    Deemed,
}

impl UpiResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Pending => "PENDING",
            Self::Deemed => "DEEMED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Success, Self::Failure, Self::Pending, Self::Deemed].into_iter().find(|r| r.as_str() == s)
    }
}

impl From<PaymentStatus> for UpiResult {
    fn from(s: PaymentStatus) -> Self {
        // Exhaustive: a new status must be given a UPI result here. ACWP is reported as
        // SUCCESS as before (the payee bank accepted it); the others follow their finality.
        match s {
            PaymentStatus::ACCC | PaymentStatus::ACSC | PaymentStatus::CPUC | PaymentStatus::ACWP => Self::Success,
            PaymentStatus::RJCT | PaymentStatus::BLCK | PaymentStatus::CANC => Self::Failure,
            PaymentStatus::ACCP
            | PaymentStatus::ACFC
            | PaymentStatus::ACFW
            | PaymentStatus::ACIS
            | PaymentStatus::ACPD
            | PaymentStatus::ACSP
            | PaymentStatus::ACTC
            | PaymentStatus::ACWC
            | PaymentStatus::PART
            | PaymentStatus::PATC
            | PaymentStatus::PDNG
            | PaymentStatus::PRES
            | PaymentStatus::RCVC
            | PaymentStatus::RCVD
            | PaymentStatus::RVCM
            | PaymentStatus::RVMC
            | PaymentStatus::RVNA
            | PaymentStatus::RVNC
            | PaymentStatus::RVNM => Self::Pending,
        }
    }
}

impl From<UpiResult> for PaymentStatus {
    fn from(r: UpiResult) -> Self {
        match r {
            UpiResult::Success => Self::ACCC,
            UpiResult::Failure => Self::RJCT,
            UpiResult::Pending => Self::PDNG,
            UpiResult::Deemed => Self::ACSP,
        }
    }
}

/// A `Resp/@errCode` that is not 2–3 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a UPI response code")]
pub struct NotAUpiCode(pub String);

macro_rules! upi_codes {
    ($($code:ident => $text:literal,)*) => {
        /// UPI response codes (`Resp/@errCode`) from NPCI's published list that Interlink maps;
        /// any other well-formed code is [`UpiErrorCode::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum UpiErrorCode {
            $(#[doc = $text] $code,)*
            Other(String),
        }

        impl UpiErrorCode {
            pub const KNOWN: &'static [UpiErrorCode] = &[$(UpiErrorCode::$code,)*];

            pub fn code(&self) -> &str {
                match self {
                    $(Self::$code => stringify!($code),)*
                    Self::Other(c) => c,
                }
            }

            pub fn description(&self) -> &'static str {
                match self {
                    $(Self::$code => $text,)*
                    Self::Other(_) => "response code not mapped by Interlink",
                }
            }

            /// A known code to its variant; any other 2–3 upper-case letters or digits to `Other`.
            pub fn parse(code: &str) -> Result<Self, NotAUpiCode> {
                match code {
                    $(stringify!($code) => Ok(Self::$code),)*
                    _ if (2..=3).contains(&code.len())
                        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
                    {
                        Ok(Self::Other(code.to_string()))
                    }
                    _ => Err(NotAUpiCode(code.to_string())),
                }
            }
        }
    };
}

upi_codes! {
    U16 => "risk threshold exceeded",
    U28 => "PSP not available",
    U29 => "address resolution failed",
    U30 => "debit has failed",
    U31 => "credit has failed",
    U67 => "debit timeout",
    U68 => "credit timeout",
    U78 => "beneficiary bank offline",
    BT => "beneficiary bank unavailable (timeout)",
    UT => "remitter bank unavailable (timeout)",
    ZA => "transaction declined by customer",
    ZH => "invalid virtual address",
    ZM => "invalid MPIN",
    Z6 => "number of PIN tries exceeded",
    Z7 => "transaction frequency limit exceeded",
    Z8 => "per-transaction limit exceeded",
    Z9 => "insufficient funds in remitter account",
    YE => "remitting account is blocked or frozen",
    YF => "beneficiary account is blocked or frozen",
    XH => "remitter account does not exist",
    XI => "beneficiary account does not exist",
    ZX => "remitter account inactive or dormant",
    ZY => "beneficiary account inactive or dormant",
    XB => "invalid transaction (remitter)",
    XC => "invalid transaction (beneficiary)",
    K1 => "suspected fraud, declined on risk score",
    B1 => "registered mobile number linked to the account changed or removed",
}

impl From<&UpiErrorCode> for IsoReason {
    fn from(code: &UpiErrorCode) -> Self {
        match code {
            UpiErrorCode::U16 => IsoReason::AG01,
            UpiErrorCode::U28 => IsoReason::AB07,
            UpiErrorCode::U29 => IsoReason::BE23,
            UpiErrorCode::U30 => IsoReason::MS03,
            UpiErrorCode::U31 => IsoReason::AB09,
            UpiErrorCode::U67 => IsoReason::AB06,
            UpiErrorCode::U68 => IsoReason::AB05,
            UpiErrorCode::U78 => IsoReason::AB08,
            UpiErrorCode::BT => IsoReason::AB05,
            UpiErrorCode::UT => IsoReason::AB06,
            UpiErrorCode::ZA => IsoReason::CUST,
            UpiErrorCode::ZH => IsoReason::BE23,
            UpiErrorCode::ZM => IsoReason::AG01,
            UpiErrorCode::Z6 => IsoReason::AG01,
            UpiErrorCode::Z7 => IsoReason::AG01,
            UpiErrorCode::Z8 => IsoReason::AM02,
            UpiErrorCode::Z9 => IsoReason::AM04,
            UpiErrorCode::YE => IsoReason::AC06,
            UpiErrorCode::YF => IsoReason::AC06,
            UpiErrorCode::XH => IsoReason::AC02,
            UpiErrorCode::XI => IsoReason::AC03,
            UpiErrorCode::ZX => IsoReason::AC06,
            UpiErrorCode::ZY => IsoReason::AC06,
            UpiErrorCode::XB => IsoReason::MS03,
            UpiErrorCode::XC => IsoReason::MS03,
            UpiErrorCode::K1 => IsoReason::FRAD,
            UpiErrorCode::B1 => IsoReason::BE01,
            UpiErrorCode::Other(_) => IsoReason::NARR,
        }
    }
}

impl From<&IsoReason> for UpiErrorCode {
    /// The beneficiary-side code UPI expects from a payee bank: Interlink answers a UPI
    /// `ReqPay` as the payee's side.
    fn from(reason: &IsoReason) -> Self {
        match reason {
            // Both a timeout: no answer by the deadline, or an answer after it.
            IsoReason::AB05 | IsoReason::TM01 => UpiErrorCode::U68,
            IsoReason::AB06 => UpiErrorCode::U67,
            IsoReason::AB07 => UpiErrorCode::U28,
            IsoReason::AB08 => UpiErrorCode::U78,
            IsoReason::AB09 | IsoReason::AB10 => UpiErrorCode::U31,
            IsoReason::AC01 | IsoReason::AC03 | IsoReason::AC04 | IsoReason::AC07 => UpiErrorCode::XI,
            IsoReason::AC02 => UpiErrorCode::XH,
            IsoReason::AC06 => UpiErrorCode::YF,
            // Z8: a limit set by the remitting member, per transaction or per period.
            IsoReason::AM02 | IsoReason::AM14 => UpiErrorCode::Z8,
            IsoReason::AM04 => UpiErrorCode::Z9,
            IsoReason::BE01 => UpiErrorCode::B1,
            IsoReason::BE23 => UpiErrorCode::ZH,
            IsoReason::CUST => UpiErrorCode::ZA,
            IsoReason::FRAD => UpiErrorCode::K1,
            IsoReason::FF01 => UpiErrorCode::XB,
            IsoReason::AG01
            | IsoReason::AG03
            | IsoReason::AM03
            | IsoReason::AM05
            | IsoReason::AM09
            | IsoReason::AM12
            | IsoReason::DS02
            | IsoReason::DT01
            | IsoReason::DUPL
            | IsoReason::MS02
            | IsoReason::MS03
            | IsoReason::NARR
            | IsoReason::RC01
            | IsoReason::RR01
            | IsoReason::RR04
            | IsoReason::Other(_) => UpiErrorCode::XC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        for (scheme, value, ok) in [
            (AliasScheme::Vpa, "asha.k@okhdfcbank", true),
            (AliasScheme::Vpa, "asha k@okhdfcbank", false),
            (AliasScheme::Mobile, "+919876543210", true),
            (AliasScheme::Mobile, "+911234567890", false),
            (AliasScheme::Aadhaar, "234123412346", true),
            (AliasScheme::Aadhaar, "234123412345", false),
            (AliasScheme::Email, "a@b.in", false),
        ] {
            assert_eq!(validate_alias(&Alias::new(scheme, value)).is_ok(), ok, "{scheme} {value}");
        }
    }

    #[test]
    fn codes_parse_and_map() {
        for code in UpiErrorCode::KNOWN {
            assert_eq!(&UpiErrorCode::parse(code.code()).unwrap(), code);
            assert!(!code.description().is_empty());
            // Every known code maps to a known ISO reason, never to the NARR fallback.
            assert_ne!(IsoReason::from(code), IsoReason::NARR, "{}", code.code());
        }
        assert_eq!(UpiErrorCode::parse("QQ").unwrap(), UpiErrorCode::Other("QQ".into()));
        assert_eq!(UpiErrorCode::parse("q"), Err(NotAUpiCode("q".into())));
        assert_eq!(UpiErrorCode::parse("q").unwrap_err().to_string(), "\"q\" is not a UPI response code");
        for not_ascii in ["é", "Zé", "ＺＡ", "😀"] {
            assert!(UpiErrorCode::parse(not_ascii).is_err(), "{not_ascii}");
        }
        assert_eq!(IsoReason::from(&UpiErrorCode::Other("QQ".into())), IsoReason::NARR);
        // The reasons Interlink reports most survive ISO -> UPI -> ISO.
        for r in [
            IsoReason::AM04,
            IsoReason::AM02,
            IsoReason::AC03,
            IsoReason::AC02,
            IsoReason::AC06,
            IsoReason::AB05,
            IsoReason::AB06,
            IsoReason::BE23,
            IsoReason::FRAD,
            IsoReason::MS03,
            IsoReason::CUST,
        ] {
            assert_eq!(IsoReason::from(&UpiErrorCode::from(&r)), r, "{r}");
        }
    }

    #[test]
    fn results_map_both_ways() {
        assert_eq!(PaymentStatus::from(UpiResult::from(PaymentStatus::ACCC)), PaymentStatus::ACCC);
        assert_eq!(PaymentStatus::from(UpiResult::from(PaymentStatus::RJCT)), PaymentStatus::RJCT);
        assert_eq!(UpiResult::from(PaymentStatus::BLCK), UpiResult::Failure);
        assert_eq!(PaymentStatus::from(UpiResult::parse("DEEMED").unwrap()), PaymentStatus::ACSP);
        assert!(UpiResult::parse("OK").is_none());
    }
}
