//! Interlink's canonical payment and status: what every connector translates to and from.
//!
//! The model follows ISO 20022 pacs.008 / pacs.002 closely (field names in the docs below),
//! so ISO 20022 networks translate almost one to one and non-ISO networks (UPI) map onto it.
//! Everything serialises to JSON with serde, for the CLI and for golden files.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount in a currency's minor units (cents, fen, paise; JPY and IDR... use the ISO 4217
/// exponent of the currency, so IDR and JPY amounts are whole units).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor_units: i64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
}

impl Money {
    pub fn new(minor_units: i64, currency: impl Into<String>) -> Self {
        Self { minor_units, currency: currency.into() }
    }
}

/// An institution in one network, identified in that network's own scheme
/// (see [`crate::IdScheme`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Agent {
    /// Interlink network id, e.g. `HK_FPS`.
    pub network: String,
    pub institution_id: String,
}

impl Agent {
    pub fn new(network: impl Into<String>, institution_id: impl Into<String>) -> Self {
        Self { network: network.into(), institution_id: institution_id.into() }
    }
}

/// The kinds of proxy identifier (alias) the networks resolve to accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AliasScheme {
    /// Mobile number, E.164 with the leading `+` (`+85291234567`).
    Mobile,
    /// E-mail address.
    Email,
    /// National identity number (Thai citizen id, Singapore NRIC/FIN, Malaysian MyKad).
    NationalId,
    /// Tax identification number (Thai 13-digit tax id).
    TaxId,
    /// Business registration number (Malaysian SSM number).
    BusinessId,
    /// Passport number.
    Passport,
    /// Hong Kong FPS Identifier.
    FpsId,
    /// Singapore Unique Entity Number.
    Uen,
    /// Thai PromptPay e-Wallet id (15 digits).
    EWallet,
    /// UPI virtual payment address (`name@handle`).
    Vpa,
    /// Indian Aadhaar number (12 digits, Verhoeff check digit).
    Aadhaar,
    /// Brazilian individual taxpayer number (11 digits).
    Cpf,
    /// Brazilian company number (14 characters).
    Cnpj,
    /// Pix random key (EVP), a lower-case UUID.
    Evp,
}

impl AliasScheme {
    pub const ALL: [AliasScheme; 14] = [
        Self::Mobile,
        Self::Email,
        Self::NationalId,
        Self::TaxId,
        Self::BusinessId,
        Self::Passport,
        Self::FpsId,
        Self::Uen,
        Self::EWallet,
        Self::Vpa,
        Self::Aadhaar,
        Self::Cpf,
        Self::Cnpj,
        Self::Evp,
    ];

    /// The code used in JSON and, as a proprietary proxy type, on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Mobile => "MOBILE",
            Self::Email => "EMAIL",
            Self::NationalId => "NATIONAL_ID",
            Self::TaxId => "TAX_ID",
            Self::BusinessId => "BUSINESS_ID",
            Self::Passport => "PASSPORT",
            Self::FpsId => "FPS_ID",
            Self::Uen => "UEN",
            Self::EWallet => "E_WALLET",
            Self::Vpa => "VPA",
            Self::Aadhaar => "AADHAAR",
            Self::Cpf => "CPF",
            Self::Cnpj => "CNPJ",
            Self::Evp => "EVP",
        }
    }
}

impl fmt::Display for AliasScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for AliasScheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.code() == s).ok_or_else(|| format!("{s:?} is not an alias scheme"))
    }
}

/// A proxy identifier that a network resolves to an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alias {
    pub scheme: AliasScheme,
    pub value: String,
}

impl Alias {
    pub fn new(scheme: AliasScheme, value: impl Into<String>) -> Self {
        Self { scheme, value: value.into() }
    }
}

/// The paying party (pacs.008 `Dbtr`, `DbtrAcct`, `DbtrAgt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debtor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Account id at the debtor agent (an IBAN in SEPA).
    pub account: String,
    /// The debtor's own proxy, where the network carries one (UPI payer VPA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    pub agent: Agent,
}

/// The paid party (pacs.008 `Cdtr`, `CdtrAcct`, `CdtrAcct/Prxy`, `CdtrAgt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creditor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    pub agent: Agent,
}

/// The interbank leg in the destination currency, when it differs from the instructed amount
/// (pacs.008 `IntrBkSttlmAmt` with `InstdAmt` and `XchgRate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterbankSettlement {
    pub amount: Money,
    /// Units of the settlement currency per unit of the instructed currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx_rate: Option<Decimal>,
    /// The FX quote the rate came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<String>,
}

/// A customer credit transfer (pacs.008 with one transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalPayment {
    /// `GrpHdr/MsgId`.
    pub message_id: String,
    /// `PmtId/TxId` (and `InstrId`). At most 35 characters on ISO 20022 networks.
    pub transaction_id: String,
    /// `PmtId/EndToEndId`.
    pub end_to_end_id: String,
    /// `PmtId/UETR`, a lower-case UUID v4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uetr: Option<String>,
    /// `GrpHdr/CreDtTm`, microseconds since the Unix epoch (UTC).
    pub created_at: i64,
    /// What the debtor instructed (`InstdAmt`, or `IntrBkSttlmAmt` when there is no FX).
    pub instructed_amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interbank_settlement: Option<InterbankSettlement>,
    pub debtor: Debtor,
    pub creditor: Creditor,
    /// `Purp/Cd` (ExternalPurpose1Code, up to 4 characters) or `Purp/Prtry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `RmtInf/Ustrd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_info: Option<String>,
}

impl CanonicalPayment {
    /// The amount that moves between agents in the network that carries this leg:
    /// the interbank settlement amount when there is one, otherwise the instructed amount.
    pub fn settlement_amount(&self) -> &Money {
        self.interbank_settlement.as_ref().map_or(&self.instructed_amount, |s| &s.amount)
    }
}

/// ISO 20022 ExternalPaymentTransactionStatus1Code values Interlink uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Accepted technical validation.
    ACTC,
    /// Accepted, settlement in process.
    ACSP,
    /// Accepted, settlement completed.
    ACCC,
    /// Accepted without posting.
    ACWP,
    /// Rejected.
    RJCT,
    /// Blocked.
    BLCK,
    /// Pending.
    PDNG,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] =
        [Self::ACTC, Self::ACSP, Self::ACCC, Self::ACWP, Self::RJCT, Self::BLCK, Self::PDNG];

    pub fn code(self) -> &'static str {
        match self {
            Self::ACTC => "ACTC",
            Self::ACSP => "ACSP",
            Self::ACCC => "ACCC",
            Self::ACWP => "ACWP",
            Self::RJCT => "RJCT",
            Self::BLCK => "BLCK",
            Self::PDNG => "PDNG",
        }
    }

    /// Whether no further status follows this one.
    pub fn is_final(self) -> bool {
        matches!(self, Self::ACCC | Self::RJCT | Self::BLCK)
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.code() == s).ok_or_else(|| format!("{s:?} is not a transaction status"))
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

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
            pub fn parse(code: &str) -> Result<Self, String> {
                match code {
                    $(stringify!($code) => Ok(Self::$code),)*
                    _ if (1..=4).contains(&code.len())
                        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
                    {
                        Ok(Self::Other(code.to_string()))
                    }
                    _ => Err(format!("{code:?} is not an ExternalStatusReason1Code")),
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
    BE01 => "Inconsistent with end customer",
    BE23 => "Account proxy invalid",
    CUST => "Requested by customer",
    DS02 => "Order cancelled",
    DUPL => "Duplicate payment",
    FF01 => "Invalid file format",
    FRAD => "Fraudulent origin",
    MS02 => "Not specified reason (customer generated)",
    MS03 => "Not specified reason (agent generated)",
    NARR => "Narrative",
    RC01 => "Bank identifier incorrect",
    RR04 => "Regulatory reason",
    TM01 => "Invalid cut-off time",
}

impl fmt::Display for IsoReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for IsoReason {
    type Err = String;

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

/// The status of one payment (pacs.002 with one `TxInfAndSts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalStatus {
    /// `GrpHdr/MsgId` of the status report itself.
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, microseconds since the Unix epoch (UTC).
    pub created_at: i64,
    /// `TxInfAndSts/OrgnlGrpInf/OrgnlMsgId`.
    pub original_message_id: String,
    /// `TxInfAndSts/OrgnlEndToEndId`.
    pub original_end_to_end_id: String,
    /// `TxInfAndSts/OrgnlTxId`.
    pub original_transaction_id: String,
    /// `TxInfAndSts/OrgnlUETR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_uetr: Option<String>,
    /// `TxInfAndSts/TxSts`.
    pub status: PaymentStatus,
    /// `TxInfAndSts/StsRsnInf/Rsn/Cd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<IsoReason>,
    /// `TxInfAndSts/StsRsnInf/AddtlInf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    /// `TxInfAndSts/InstgAgt`: who sends the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructing_agent: Option<Agent>,
    /// `TxInfAndSts/InstdAgt`: who receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructed_agent: Option<Agent>,
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
        for r in IsoReason::KNOWN {
            assert_eq!(&IsoReason::parse(r.code()).unwrap(), r);
            assert!(!r.description().is_empty());
        }
        let json = serde_json::to_string(&IsoReason::RC01).unwrap();
        assert_eq!(json, "\"RC01\"");
        assert_eq!(serde_json::from_str::<IsoReason>("\"NARR\"").unwrap(), IsoReason::NARR);
        assert!(serde_json::from_str::<IsoReason>("\"bad code\"").is_err());
    }

    #[test]
    fn statuses_and_alias_schemes_have_codes() {
        for s in PaymentStatus::ALL {
            assert_eq!(s.code().parse::<PaymentStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.code()));
        }
        for a in AliasScheme::ALL {
            assert_eq!(a.code().parse::<AliasScheme>().unwrap(), a);
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{}\"", a.code()));
        }
    }
}
