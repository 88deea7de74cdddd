//! Interlink's canonical payment and status: what every connector translates to and from.
//!
//! The model follows ISO 20022 pacs.008 / pacs.002 closely (field names in the docs below),
//! so ISO 20022 networks translate almost one to one and non-ISO networks (UPI) map onto it.
//! Everything serialises to JSON with serde, for the CLI and for golden files.

use std::fmt;
use std::str::FromStr;

pub use interlink_vocab::{IsoReason, PaymentStatus};
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

/// Text that names no [`AliasScheme`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an alias scheme")]
pub struct UnknownAliasScheme(pub String);

impl FromStr for AliasScheme {
    type Err = UnknownAliasScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.code() == s).ok_or_else(|| UnknownAliasScheme(s.to_string()))
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

/// A private person's identification (pacs.008 `Dbtr/Id/PrvtId/Othr`): personal data,
/// whose `Debug` shows the scheme and issuer only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonIdentification {
    pub id: String,
    /// `SchmeNm/Cd`: an ISO 20022 ExternalPersonIdentification1Code (`NIDN`, `CCPT`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// `Issr`: who issued it (a country code for national ids and passports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl std::fmt::Debug for PersonIdentification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonIdentification({:?}/{:?}/***)", self.scheme, self.issuer)
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
    /// Who the debtor is, where the network carries it (cross-border per-person limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<PersonIdentification>,
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
    /// `TxInfAndSts/OrgnlTxRef/IntrBkSttlmAmt`: the amount of the payment reported on,
    /// when the report repeats it (the switch checks it against the payment in flight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_amount: Option<Money>,
}

/// A settled payment sent back (pacs.004 with one `TxInf`): it refers to the original by
/// its ids and carries the amount returned and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalReturn {
    /// `GrpHdr/MsgId` of the return message.
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, microseconds since the Unix epoch (UTC).
    pub created_at: i64,
    /// `TxInf/RtrId`: the return's own id.
    pub return_id: String,
    /// `TxInf/OrgnlGrpInf/OrgnlMsgId`.
    pub original_message_id: String,
    /// `TxInf/OrgnlEndToEndId`.
    pub original_end_to_end_id: String,
    /// `TxInf/OrgnlTxId`.
    pub original_transaction_id: String,
    /// `TxInf/OrgnlUETR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_uetr: Option<String>,
    /// `TxInf/RtrdIntrBkSttlmAmt`.
    pub returned_amount: Money,
    /// `TxInf/RtrRsnInf/Rsn/Cd`, an ExternalReturnReason1Code (for example FOCR, DUPL, AC04).
    pub reason: IsoReason,
    /// `TxInf/RtrRsnInf/AddtlInf` (one line of at most 105 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    /// `TxInf/InstgAgt`: who returns the payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructing_agent: Option<Agent>,
    /// `TxInf/InstdAgt`: who receives the return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructed_agent: Option<Agent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_schemes_have_codes() {
        for a in AliasScheme::ALL {
            assert_eq!(a.code().parse::<AliasScheme>().unwrap(), a);
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{}\"", a.code()));
        }
    }
}
