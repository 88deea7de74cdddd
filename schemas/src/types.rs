//! Rust mirrors of the Avro records. Field names and order follow the `.avsc` files;
//! `registry` tests check that every struct round-trips through its schema.

use serde::{Deserialize, Serialize};

/// An institution in one network, identified in that network's own scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Agent {
    pub network: String,
    pub institution_id: String,
}

impl Agent {
    pub fn new(network: impl Into<String>, institution_id: impl Into<String>) -> Self {
        Self { network: network.into(), institution_id: institution_id.into() }
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.institution_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// In the currency's minor units.
    pub minor_units: i64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
}

impl Amount {
    pub fn new(minor_units: i64, currency: impl Into<String>) -> Self {
        Self { minor_units, currency: currency.into() }
    }
}

/// A proxy identifier (mobile number, e-mail, tax id) that a network resolves to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub scheme: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    #[default]
    Unknown,
    Mobile,
    InternetBanking,
    Qr,
    Branch,
    Api,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub transaction_id: String,
    pub end_to_end_id: String,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
    pub debtor_agent: Agent,
    pub debtor_account: String,
    pub creditor_agent: Option<Agent>,
    pub creditor_account: Option<String>,
    pub qr_payload: Option<String>,
    pub creditor_alias: Option<Alias>,
    pub amount: Amount,
    pub channel: Channel,
    pub purpose: Option<String>,
    /// Since v2: the payer's name (personal data), for screening.
    #[serde(default)]
    pub debtor_name: Option<String>,
    /// Since v2: who pays, for per-person limits; also decides the record's key
    /// ([`AuthorizationRequest::partition_key`]).
    #[serde(default)]
    pub debtor_id: Option<PersonId>,
    /// Since v2: the payee's name where the origin has it (personal data).
    #[serde(default)]
    pub creditor_name: Option<String>,
    /// Since v3: the payer's device, a stable pseudonymous id from the origin.
    #[serde(default)]
    pub device_id: Option<String>,
}

/// A natural person's identification document (ISO 20022 `PrvtId/Othr`): personal
/// data, never printed whole (its `Debug` shows the scheme and issuer only).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonId {
    /// ISO 20022 ExternalPersonIdentification1Code (`NIDN`, `CCPT`, ...).
    pub scheme: String,
    /// ISO 3166-1 alpha-2 country that issued it.
    pub issuer: String,
    pub value: String,
}

impl std::fmt::Debug for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonId({}/{}/***)", self.scheme, self.issuer)
    }
}

impl PersonId {
    pub fn new(scheme: impl Into<String>, issuer: impl Into<String>, value: impl Into<String>) -> Self {
        Self { scheme: scheme.into(), issuer: issuer.into(), value: value.into() }
    }

    /// The person's key: lowercase hex SHA-256 of `SCHEME/ISSUER/value` (scheme and
    /// issuer upper-cased). Every request of one person carries it as its Kafka key, so
    /// the person's limits and the request's duplicate check share one partition; being
    /// a digest, it puts no identity number into keys, state or logs.
    pub fn person_key(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.scheme.to_ascii_uppercase().as_bytes());
        h.update(b"/");
        h.update(self.issuer.to_ascii_uppercase().as_bytes());
        h.update(b"/");
        h.update(self.value.as_bytes());
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut key = String::with_capacity(64);
        for b in h.finalize() {
            key.push(char::from(HEX[usize::from(b >> 4)]));
            key.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        key
    }
}

impl AuthorizationRequest {
    /// The Kafka key this request must be written with: its debtor's person key when it
    /// names its debtor (v2), else its transaction id. Every copy of a request carries
    /// the same, so it meets its duplicate check, and a person's requests meet their
    /// limits, in one partition.
    pub fn partition_key(&self) -> std::borrow::Cow<'_, str> {
        match &self.debtor_id {
            Some(id) => std::borrow::Cow::Owned(id.person_key()),
            None => std::borrow::Cow::Borrowed(&self.transaction_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingRecord {
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub debtor_agent: Agent,
    pub debtor_account: String,
    pub creditor_agent: Agent,
    pub creditor_account: Option<String>,
    pub debit_amount: Amount,
    pub credit_amount: Amount,
    /// Decimal string, spread included.
    pub fx_rate: String,
    pub quote_id: String,
    pub corridor: String,
    pub routing_version: i64,
    pub request_created_at: i64,
    pub cleared_at: i64,
    /// Set on a return: the transaction id of the payment this record reverses.
    #[serde(default)]
    pub reverses: Option<String>,
    /// The netting cycle of the debit leg (v3), when its currency has a scheme.
    #[serde(default)]
    pub debit_settlement_cycle: Option<String>,
    /// The netting cycle of the credit leg (v3).
    #[serde(default)]
    pub credit_settlement_cycle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Party {
    Debtor,
    Creditor,
}

/// A notification's status is the workspace's one payment status. The Avro enum
/// `TransactionStatus` holds the seven the switch tells the parties (ACTC ACSP ACCC ACWP
/// RJCT BLCK PDNG); a network's other codes are translated before they are notified
/// (interlink-core, `told_refused`), and encoding any other fails.
pub use interlink_vocab::PaymentStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub notification_id: String,
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub party: Party,
    pub agent: Agent,
    pub status: PaymentStatus,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    pub amount: Amount,
    pub routing_version: i64,
    pub request_created_at: i64,
    pub emitted_at: i64,
    /// Answers a request sent again: the status is the one first decided.
    #[serde(default)]
    pub repeat: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    #[default]
    Unknown,
    /// The bytes are not a record of the expected schema.
    Decode,
    /// A well-formed record that breaks a business rule.
    Validation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    #[serde(with = "apache_avro::serde::bytes_opt")]
    pub original_key: Option<Vec<u8>>,
    #[serde(with = "apache_avro::serde::bytes_opt")]
    pub original_value: Option<Vec<u8>>,
    pub error_kind: ErrorKind,
    pub error_message: String,
    pub reason_code: Option<String>,
    pub transaction_id: Option<String>,
    pub dead_lettered_at: i64,
}

/// Which risk control decided (`RiskAlert.control`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskControl {
    Limit,
    Block,
    Sanctions,
    /// An anomaly rule on the debtor's own payments (v2).
    Anomaly,
}

impl RiskControl {
    /// The Avro symbol.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Block => "BLOCK",
            Self::Sanctions => "SANCTIONS",
            Self::Anomaly => "ANOMALY",
        }
    }
}

/// What a risk control did (`RiskAlert.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskAction {
    #[default]
    Refused,
    Held,
    Alerted,
    /// Released by an operator after review (v2).
    Approved,
}

impl RiskAction {
    /// The Avro symbol.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Refused => "REFUSED",
            Self::Held => "HELD",
            Self::Alerted => "ALERTED",
            Self::Approved => "APPROVED",
        }
    }
}

/// A risk decision, explained (`interlink.risk.alerts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAlert {
    pub alert_id: String,
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub control: RiskControl,
    pub rule: String,
    pub action: RiskAction,
    pub reason_code: String,
    pub explanation: String,
    pub routing_version: i64,
    #[serde(default)]
    pub corridor: Option<String>,
    pub debtor_agent: Agent,
    #[serde(default)]
    pub creditor_agent: Option<Agent>,
    pub amount: Amount,
    /// Microseconds since the Unix epoch.
    pub decided_at: i64,
    /// HELD: the request's key, under which a review decision reaches the payment (v2).
    #[serde(default)]
    pub review_key: Option<String>,
    /// HELD: when the payment is refused unless reviewed (µs since the epoch; v2).
    #[serde(default)]
    pub review_deadline: Option<i64>,
}

/// A return (pacs.004) the switch sent a network for a payment the network settled after
/// the switch had refused it at its response deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReturn {
    pub return_id: String,
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub network: String,
    pub wire_transaction_id: String,
    pub creditor_agent: Agent,
    pub returned_amount: Amount,
    pub reason_code: String,
    pub timed_out_at: i64,
    pub returned_at: i64,
}

/// What a `SettlementRecord` is: one participant's position, or the cycle's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SettlementRecordKind {
    Position,
    Summary,
}

/// A closed netting cycle (`interlink.settlement`): a participant's multilateral net
/// position in the cycle's currency, or the cycle's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRecord {
    pub cycle_id: String,
    pub kind: SettlementRecordKind,
    pub currency: String,
    /// µs since the epoch, as are the other times.
    pub opened_after: i64,
    pub cut_off: i64,
    pub closed_at: i64,
    pub routing_version: i64,
    #[serde(default)]
    pub participant: Option<Agent>,
    #[serde(default)]
    pub participant_name: Option<String>,
    pub gross_debit_minor: i64,
    pub gross_credit_minor: i64,
    /// Credits minus debits: positive receives.
    pub net_minor: i64,
    pub debits: i64,
    pub credits: i64,
    pub participants: i32,
    pub clearing_records: i64,
    pub late_records: i64,
    pub partitions: i32,
}
