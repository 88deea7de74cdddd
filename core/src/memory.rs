//! What the switch remembers between records, as the pure core sees it.
//!
//! State is keyed and partitioned like the input it belongs to: a request's memo lives
//! in the state of the partition its record was read from (the requests topic is keyed
//! by transaction id, so every copy of a request meets the same memo). The core only
//! reads state through [`Memory`] and writes it as [`OutputTopic::State`] records; the
//! edge keeps the store, writes the changelog in the same transaction as the other
//! outputs, and restores it after a crash or a rebalance.
//!
//! Every state value starts with a fixed header (a format byte and the entry's expiry),
//! so the edge can index and expire entries without knowing what they hold.
//!
//! [`OutputTopic::State`]: crate::pipeline::OutputTopic::State

use interlink_schemas::AuthorizationRequest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format byte of a state value.
const FORMAT_V1: u8 = 1;
/// Payments in flight and forwards whose clearing record names its settlement cycles
/// (`ClearingRecord` v3); format 1 holds the record as v2 had it, and still reads.
const FORMAT_V2: u8 = 2;
/// Format byte and the expiry (µs since the epoch, big-endian).
pub const VALUE_HEADER_LEN: usize = 9;

/// The first byte of a state key names its store.
const REQUESTS_STORE: u8 = b'r';
const IN_FLIGHT_STORE: u8 = b'f';
const USAGE_STORE: u8 = b'u';
/// Payments held for an operator's review (see [`crate::review`]).
pub(crate) const HELD_STORE: u8 = b'h';
/// A partition's netting book of one settlement currency.
pub(crate) const BOOK_STORE: u8 = b'k';
/// The netting of one settlement currency's cycles (at the currency's home partition).
pub(crate) const NETTING_STORE: u8 = b'n';
/// Separates the parts of a key (a control character no id contains unescaped).
const SEPARATOR: u8 = 0x1f;

/// The partition a keyed record belongs on, as the Java client's default partitioner
/// puts it (murmur2 of the key, sign bit cleared, modulo the partition count): the
/// contract that brings every record about one key to the partition holding its state.
pub fn home_partition(key: &[u8], partitions: u32) -> i32 {
    let hash = murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff;
    (hash % partitions.max(1)) as i32
}

/// When a state value expires, read from its header without decoding the rest.
pub fn expires_at(value: &[u8]) -> Option<i64> {
    match value {
        [FORMAT_V1 | FORMAT_V2, rest @ ..] if rest.len() >= 8 => Some(i64::from_be_bytes(rest[..8].try_into().ok()?)),
        _ => None,
    }
}

/// A state value the core cannot read: a bug or a foreign writer, never input.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("state value has an unknown format ({len} bytes, first byte {first:?})")]
    UnknownFormat { len: usize, first: Option<u8> },
    #[error("state value does not decode: {0}")]
    Decode(#[from] postcard::Error),
    #[error("state store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A request as its origin identifies it: origin network, origin institution and
/// transaction id. A request with the same key inside the window is a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey(Vec<u8>);

impl RequestKey {
    pub fn of(request: &AuthorizationRequest) -> Self {
        Self::for_payment(&request.debtor_agent, &request.transaction_id)
    }

    /// The key of the request its origin (`agent`) sent as `transaction_id`.
    pub fn for_payment(agent: &interlink_schemas::Agent, transaction_id: &str) -> Self {
        let mut key = Vec::with_capacity(3 + agent.network.len() + agent.institution_id.len() + transaction_id.len());
        key.push(REQUESTS_STORE);
        for (i, part) in [agent.network.as_str(), agent.institution_id.as_str(), transaction_id].into_iter().enumerate()
        {
            if i > 0 {
                key.push(SEPARATOR);
            }
            key.extend_from_slice(part.as_bytes());
        }
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A key: the store's byte, then the parts separated by [`SEPARATOR`].
pub(crate) fn store_key(store: u8, parts: &[&str]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.len() + parts.iter().map(|p| p.len()).sum::<usize>());
    key.push(store);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(SEPARATOR);
        }
        key.extend_from_slice(part.as_bytes());
    }
    key
}

/// A payment in flight to a network, by the network and the wire id its messages
/// carry (which its status report names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InFlightKey(Vec<u8>);

impl InFlightKey {
    pub fn new(network: &str, wire_id: &str) -> Self {
        Self(store_key(IN_FLIGHT_STORE, &[network, wire_id]))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Which store a state key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Requests,
    InFlight,
    /// What a person has used of a limit in one period.
    Usage,
    /// Settlement: a partition's book of open cycles, or a currency's netting.
    Settlement,
    /// A payment held for review, due at its review deadline.
    Held,
    /// What the creditor rules know of one creditor.
    Creditor,
}

impl StoreKind {
    pub fn of_key(key: &[u8]) -> Option<Self> {
        match key.first() {
            Some(&REQUESTS_STORE) => Some(Self::Requests),
            Some(&IN_FLIGHT_STORE) => Some(Self::InFlight),
            Some(&USAGE_STORE) => Some(Self::Usage),
            Some(&BOOK_STORE | &NETTING_STORE) => Some(Self::Settlement),
            Some(&HELD_STORE) => Some(Self::Held),
            Some(&crate::party_watch::CREDITOR_STORE) => Some(Self::Creditor),
            _ => None,
        }
    }
}

/// SHA-256 of a request's business fields: everything but its creation time (an
/// origin that retries may stamp its retry anew) and its key, each field
/// length-prefixed so that no two different requests share an encoding.
pub fn request_hash(r: &AuthorizationRequest) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: Option<&[u8]>| match bytes {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    };
    field(Some(r.end_to_end_id.as_bytes()));
    field(Some(r.debtor_account.as_bytes()));
    field(r.creditor_agent.as_ref().map(|a| a.network.as_bytes()));
    field(r.creditor_agent.as_ref().map(|a| a.institution_id.as_bytes()));
    field(r.creditor_account.as_ref().map(String::as_bytes));
    field(r.qr_payload.as_ref().map(String::as_bytes));
    field(r.creditor_alias.as_ref().map(|a| a.scheme.as_bytes()));
    field(r.creditor_alias.as_ref().map(|a| a.value.as_bytes()));
    field(Some(&r.amount.minor_units.to_be_bytes()));
    field(Some(r.amount.currency.as_bytes()));
    // The channel as one byte: no text to format per request.
    field(Some(&[r.channel as u8]));
    field(r.purpose.as_ref().map(String::as_bytes));
    // Fields added in v2 count only when present, so a v1 request (and a memo taken
    // before the upgrade) hashes as it always did.
    let v2_fields = [
        r.debtor_name.as_deref(),
        r.debtor_id.as_ref().map(|id| id.scheme.as_str()),
        r.debtor_id.as_ref().map(|id| id.issuer.as_str()),
        r.debtor_id.as_ref().map(|id| id.value.as_str()),
        r.creditor_name.as_deref(),
    ];
    if v2_fields.iter().any(Option::is_some) {
        field(Some(b"v2"));
        for f in v2_fields {
            field(f.map(str::as_bytes));
        }
    }
    // Likewise v3's device: a request without one hashes as a v2 request does.
    if let Some(device) = &r.device_id {
        field(Some(b"v3"));
        field(Some(device.as_bytes()));
    }
    h.finalize().into()
}

/// How the first request with a key was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Settled: cleared and both sides told ACCC.
    Accepted,
    /// Refused (by routing, validation, or a destination that cannot carry it), with
    /// the ISO reason code its debtor was given.
    Rejected { reason: String },
    /// Sent on to a connected network; its final status comes from there.
    Forwarded,
    /// Held for an operator's review (the debtor was told PDNG); the review, or its
    /// timeout, replaces this with the final decision.
    Held,
}

/// Where a record was read: a memo remembers its first request's place, so a
/// replay of that very record (at-least-once after a crash) is decided again rather
/// than answered as a repeat of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPlace {
    pub partition: i32,
    pub offset: i64,
}

/// What the switch remembers of a request, for its duplicate window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMemo {
    pub request_hash: [u8; 32],
    pub decision: Decision,
    pub routing_version: i64,
    pub first: RecordPlace,
    pub decided_at: i64,
    /// Not part of the body: carried in the value's header.
    #[serde(skip)]
    pub expires_at: i64,
}

/// Where a payment in flight stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InFlightPhase {
    /// Sent; the network's final status is due by the entry's expiry (its deadline).
    AwaitingAnswer,
    /// No final status came by the deadline: both sides were told RJCT at `at` (µs).
    /// Kept for the duplicate window, so a late answer is recognised.
    TimedOut { at: i64 },
    /// Timed out, then settled by the network all the same: the switch sent the
    /// network a return (pacs.004) at `at`. A further copy of the acceptance sends none.
    Returned { at: i64 },
    /// Settled (ACCC) at `at`: kept for the duplicate window, so a network's return of
    /// it (pacs.004) finds what to reverse, and a repeated report settles nothing.
    Settled { at: i64 },
    /// Settled, then returned by the network at `at`: a second return reverses nothing.
    ReturnedByNetwork { at: i64 },
}

/// A payment in flight to a connected network: the clearing record it will settle
/// with, kept in the state of its wire id's partition (where the network's status
/// report arrives), with the deadline in the value's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightEntry {
    pub network: String,
    pub clearing: interlink_schemas::ClearingRecord,
    /// The UETR the outbound message carried, to check the report against.
    pub uetr: Option<String>,
    pub phase: InFlightPhase,
    /// What it holds against its debtor's net debit cap until it settles (none when
    /// the debtor has no cap).
    pub held: Option<crate::settlement::CapHold>,
    #[serde(skip)]
    pub expires_at: i64,
    /// What it counted against its debtor's limits (after the body, see [`extend_with`]).
    #[serde(skip)]
    pub hold: Option<LimitHold>,
}

/// What a request's partition sends to the partition of the payment's wire id: the
/// network's message and the payment to keep in flight there (Kafka Streams'
/// repartitioning: the state of a payment lives where its status report arrives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardCommand {
    pub network: String,
    pub wire_id: String,
    pub uetr: Option<String>,
    pub clearing: interlink_schemas::ClearingRecord,
    /// The network's own message, built by its connector at the request's partition.
    pub message: Vec<u8>,
    /// What it counted against its debtor's limits (after the body, see [`extend_with`]).
    #[serde(skip)]
    pub hold: Option<LimitHold>,
}

/// One person's use of the limits, in the state of the partition the person's requests
/// are keyed to: one entry per person, so a payment reads and writes one key however
/// many limits it counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsageKey(Vec<u8>);

impl UsageKey {
    pub fn new(person_key: &str) -> Self {
        Self(store_key(USAGE_STORE, &[person_key]))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Which usage: a limit, one of its periods (its label: `2026-12-01`, `2026-12`,
/// `2026`), in its currency, as a 64-bit FNV-1a fingerprint. A person's entry is
/// rewritten by every payment, so it is kept small: a few fixed-size lines, no text
/// (the explanation of a refusal takes the names from the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UsageOf(pub u64);

impl UsageOf {
    pub fn new(limit_id: &str, period: &str, currency: &str) -> Self {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for (i, part) in [limit_id, period, currency].into_iter().enumerate() {
            if i > 0 {
                hash = (hash ^ u64::from(SEPARATOR)).wrapping_mul(0x100_0000_01b3);
            }
            for b in part.bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
        Self(hash)
    }
}

/// What a person has used of one limit in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLine {
    pub of: UsageOf,
    /// In the limit currency's minor units.
    pub used_minor: i64,
    pub payments: u32,
    /// When the line may be forgotten (µs): its period's end, plus a margin.
    pub keep_until: i64,
}

/// What a person has used of every limit, in the periods still kept, and what the
/// anomaly rules know of the person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonUsage {
    pub lines: Vec<UsageLine>,
    /// Not part of the body: the last line's or profile's `keep_until`, in the header.
    #[serde(skip)]
    pub expires_at: i64,
    /// One per anomaly rule that has seen the person (after the body, see
    /// [`extend_with`]; absent from entries written before anomaly rules, and from
    /// entries of people no rule has seen, which therefore encode as they always did).
    #[serde(skip)]
    pub profiles: Vec<Profile>,
}

/// What one anomaly rule knows of one person: fixed-size, so the person's entry (read
/// and rewritten by every payment) stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The rule, its pattern and its currency, fingerprinted like a usage.
    pub of: UsageOf,
    /// When the profile may be forgotten (µs): a while after the person's last payment.
    pub keep_until: i64,
    pub seen: Seen,
}

/// What a rule remembers, by its pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Seen {
    /// The exponentially decayed mean and variance of the person's accepted amounts
    /// (in the rule's currency's minor units), and how many payments they have seen.
    Amounts { payments: u32, mean: f64, variance: f64 },
    /// The creditors the person paid within the retention, the most recently paid
    /// [`crate::anomaly::KNOWN_CREDITORS`] of them at most.
    Creditors(Vec<KnownCreditor>),
}

/// A creditor a person paid: a 64-bit fingerprint of its network, institution and
/// account (no account number in the state), and when it was last paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownCreditor {
    pub fingerprint: [u8; 8],
    /// Minutes since the epoch: enough for a retention counted in days, in 4 bytes.
    pub last_paid_minute: u32,
}

/// What a payment counted against its debtor's limits while it is not final: released
/// if its network refuses it, it times out, or it is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitHold {
    /// The debtor's person key: the release goes to that partition.
    pub person_key: String,
    pub counted: Vec<Counted>,
}

/// One usage a payment counted in, and for how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub of: UsageOf,
    pub amount_minor: i64,
}

/// Sent to a person's partition (on the forwards topic, keyed by the person key):
/// give back what a payment that did not settle counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRelease {
    pub transaction_id: String,
    pub person_key: String,
    pub counted: Vec<Counted>,
    /// Why: the network refused it, it timed out, or it came back.
    pub because: String,
}

/// First byte of a [`LimitRelease`] on the forwards topic (a forward starts with the
/// format byte, 1).
const RELEASE_TAG: u8 = b'R';

impl LimitRelease {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        encode_tagged(RELEASE_TAG, self)
    }

    /// `Some` for a release record (decoded or not), `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Result<Self, MemoryError>> {
        decode_tagged(RELEASE_TAG, bytes)
    }
}

/// An internal record of the forwards topic other than a forward: its tag byte (a
/// forward starts with its format byte, 1 or 2), then `body` in postcard.
pub(crate) fn encode_tagged<T: Serialize>(tag: u8, body: &T) -> Result<Vec<u8>, MemoryError> {
    Ok(postcard::to_extend(body, vec![tag])?)
}

/// `Some` for a record with `tag` (decoded or not), `None` for any other record.
pub(crate) fn decode_tagged<T: for<'de> Deserialize<'de>>(tag: u8, bytes: &[u8]) -> Option<Result<T, MemoryError>> {
    match bytes {
        [first, rest @ ..] if *first == tag => Some(postcard::from_bytes(rest).map_err(MemoryError::from)),
        _ => None,
    }
}

/// Appends an optional trailing section to a postcard body. Older readers ignore it
/// and older values lack it, so adding one changes no existing value's meaning.
fn extend_with<T: Serialize>(out: Vec<u8>, extra: &Option<T>) -> Result<Vec<u8>, MemoryError> {
    Ok(match extra {
        Some(x) => postcard::to_extend(x, out)?,
        None => out,
    })
}

/// Reads a postcard body and the optional section after it.
fn take_with<T: for<'de> Deserialize<'de>, X: for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<(T, Option<X>), MemoryError> {
    let (body, rest) = postcard::take_from_bytes::<T>(bytes)?;
    let extra = if rest.is_empty() { None } else { Some(postcard::from_bytes::<X>(rest)?) };
    Ok((body, extra))
}

/// A state value: the header (format byte, expiry), then `body` in postcard.
pub(crate) fn frame<T: Serialize>(expires_at: i64, body: &T) -> Result<Vec<u8>, MemoryError> {
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_V1);
    out.extend_from_slice(&expires_at.to_be_bytes());
    Ok(postcard::to_extend(body, out)?)
}

/// The body of a value written by [`frame`].
pub(crate) fn unframe<T: for<'de> Deserialize<'de>>(value: &[u8]) -> Result<T, MemoryError> {
    if expires_at(value).is_none() {
        return Err(MemoryError::UnknownFormat { len: value.len(), first: value.first().copied() });
    }
    Ok(postcard::from_bytes(&value[VALUE_HEADER_LEN..])?)
}

macro_rules! framed_value {
    ($t:ty) => {
        impl $t {
            pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
                let mut out = Vec::with_capacity(128);
                out.push(FORMAT_V1);
                out.extend_from_slice(&self.expires_at.to_be_bytes());
                Ok(postcard::to_extend(self, out)?)
            }

            pub fn decode(value: &[u8]) -> Result<Self, MemoryError> {
                let expires_at = expires_at(value)
                    .ok_or(MemoryError::UnknownFormat { len: value.len(), first: value.first().copied() })?;
                let mut decoded: Self = postcard::from_bytes(&value[VALUE_HEADER_LEN..])?;
                decoded.expires_at = expires_at;
                Ok(decoded)
            }
        }
    };
}

impl InFlightEntry {
    /// Whether a network's message about this payment names it, not only its id: the
    /// same end-to-end id, and the same UETR where both have one.
    pub fn is_named_by(&self, end_to_end_id: &str, uetr: Option<&str>) -> bool {
        let uetr_agrees = match (uetr, self.uetr.as_deref()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        end_to_end_id == self.clearing.end_to_end_id && uetr_agrees
    }
}

framed_value!(RequestMemo);

impl PersonUsage {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        let mut out = Vec::with_capacity(128);
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        let profiles = (!self.profiles.is_empty()).then_some(&self.profiles);
        extend_with(postcard::to_extend(self, out)?, &profiles)
    }

    pub fn decode(value: &[u8]) -> Result<Self, MemoryError> {
        let expires_at =
            expires_at(value).ok_or(MemoryError::UnknownFormat { len: value.len(), first: value.first().copied() })?;
        let (mut usage, profiles): (Self, Option<Vec<Profile>>) = take_with(&value[VALUE_HEADER_LEN..])?;
        (usage.expires_at, usage.profiles) = (expires_at, profiles.unwrap_or_default());
        Ok(usage)
    }
}

impl InFlightEntry {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        let mut out = Vec::with_capacity(256);
        out.push(FORMAT_V2);
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        extend_with(postcard::to_extend(self, out)?, &self.hold)
    }

    pub fn decode(value: &[u8]) -> Result<Self, MemoryError> {
        let expires_at =
            expires_at(value).ok_or(MemoryError::UnknownFormat { len: value.len(), first: value.first().copied() })?;
        let body = &value[VALUE_HEADER_LEN..];
        let (mut entry, hold): (Self, _) = match value[0] {
            FORMAT_V1 => take_with::<before_cycles::InFlightEntry, _>(body).map(|(e, h)| (e.into(), h))?,
            _ => take_with(body)?,
        };
        (entry.expires_at, entry.hold) = (expires_at, hold);
        Ok(entry)
    }
}

impl ForwardCommand {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        extend_with(postcard::to_extend(self, vec![FORMAT_V2])?, &self.hold)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MemoryError> {
        let (mut command, hold): (Self, _) = match bytes {
            [FORMAT_V2, rest @ ..] => take_with(rest)?,
            [FORMAT_V1, rest @ ..] => {
                take_with::<before_cycles::ForwardCommand, _>(rest).map(|(c, h)| (c.into(), h))?
            }
            _ => return Err(MemoryError::UnknownFormat { len: bytes.len(), first: bytes.first().copied() }),
        };
        command.hold = hold;
        Ok(command)
    }
}

/// Payments in flight and forwards as format 1 wrote them, with the clearing record
/// as it was before it named its settlement cycles: state written by the previous
/// release, still read after an upgrade.
mod before_cycles {
    use interlink_schemas::{Agent, Amount};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(super) struct ClearingRecord {
        transaction_id: String,
        end_to_end_id: String,
        debtor_agent: Agent,
        debtor_account: String,
        creditor_agent: Agent,
        creditor_account: Option<String>,
        debit_amount: Amount,
        credit_amount: Amount,
        fx_rate: String,
        quote_id: String,
        corridor: String,
        routing_version: i64,
        request_created_at: i64,
        cleared_at: i64,
        reverses: Option<String>,
    }

    impl From<ClearingRecord> for interlink_schemas::ClearingRecord {
        fn from(c: ClearingRecord) -> Self {
            Self {
                transaction_id: c.transaction_id,
                end_to_end_id: c.end_to_end_id,
                debtor_agent: c.debtor_agent,
                debtor_account: c.debtor_account,
                creditor_agent: c.creditor_agent,
                creditor_account: c.creditor_account,
                debit_amount: c.debit_amount,
                credit_amount: c.credit_amount,
                fx_rate: c.fx_rate,
                quote_id: c.quote_id,
                corridor: c.corridor,
                routing_version: c.routing_version,
                request_created_at: c.request_created_at,
                cleared_at: c.cleared_at,
                reverses: c.reverses,
                debit_settlement_cycle: None,
                credit_settlement_cycle: None,
            }
        }
    }

    #[derive(Deserialize)]
    pub(super) struct InFlightEntry {
        network: String,
        clearing: ClearingRecord,
        uetr: Option<String>,
        phase: super::InFlightPhase,
    }

    impl From<InFlightEntry> for super::InFlightEntry {
        fn from(e: InFlightEntry) -> Self {
            Self {
                network: e.network,
                clearing: e.clearing.into(),
                uetr: e.uetr,
                phase: e.phase,
                held: None,
                expires_at: 0,
                hold: None,
            }
        }
    }

    #[derive(Deserialize)]
    pub(super) struct ForwardCommand {
        network: String,
        wire_id: String,
        uetr: Option<String>,
        clearing: ClearingRecord,
        message: Vec<u8>,
    }

    impl From<ForwardCommand> for super::ForwardCommand {
        fn from(c: ForwardCommand) -> Self {
            Self {
                network: c.network,
                wire_id: c.wire_id,
                uetr: c.uetr,
                clearing: c.clearing.into(),
                message: c.message,
                hold: None,
            }
        }
    }
}

/// The state the core reads: the edge's store for the partition being decided, with
/// the writes of the open batch applied.
pub trait Memory {
    /// The raw state value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MemoryError>;
}

/// Remembers nothing: every request is a first (for tools and tests without state).
pub struct Forgetful;

impl Memory for Forgetful {
    fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>, MemoryError> {
        Ok(None)
    }
}

/// The core's tests' request: ICBC (CN IBPS) pays CNY 100.00 to HSBC (HK FPS 004).
/// Tests change what they are about with struct update syntax.
#[cfg(test)]
pub(crate) fn sample_request() -> AuthorizationRequest {
    use interlink_schemas::{Agent, Amount, Channel};
    AuthorizationRequest {
        transaction_id: "tx-1".into(),
        end_to_end_id: "E2E-1".into(),
        created_at: 10,
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222".into(),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some("HK-1".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(10_000, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    }
}

/// What the core's tests share: a state store in a map, and sample records.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{Memory, MemoryError};
    use crate::pipeline::{OutputRecord, OutputTopic};
    use interlink_schemas::{Agent, Amount, ClearingRecord};
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// A state store in a map, written the way the edge writes it: every State output.
    #[derive(Default)]
    pub(crate) struct MapMemory(RefCell<HashMap<Vec<u8>, Vec<u8>>>);

    impl Memory for MapMemory {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MemoryError> {
            Ok(self.0.borrow().get(key).cloned())
        }
    }

    impl MapMemory {
        /// Applies the State outputs among `out`.
        pub(crate) fn apply(&self, out: &[OutputRecord]) {
            for o in out.iter().filter(|o| o.topic == OutputTopic::State) {
                let key = o.key.clone().expect("state records are keyed");
                match &o.payload {
                    Some(v) => self.0.borrow_mut().insert(key, v.clone()),
                    None => self.0.borrow_mut().remove(&key),
                };
            }
        }

        /// Applies the State outputs among `out` and returns the others.
        pub(crate) fn take(&self, out: Vec<OutputRecord>) -> Vec<OutputRecord> {
            self.apply(&out);
            out.into_iter().filter(|o| o.topic != OutputTopic::State).collect()
        }
    }

    /// ICBC pays HSBC CNY 100.00, credited HKD 108.00.
    pub(crate) fn sample_clearing() -> ClearingRecord {
        ClearingRecord {
            transaction_id: "tx-1".into(),
            end_to_end_id: "E2E-1".into(),
            debtor_agent: Agent::new("CN_IBPS", "102100099996"),
            debtor_account: "6222".into(),
            creditor_agent: Agent::new("HK_FPS", "004"),
            creditor_account: Some("HK-1".into()),
            debit_amount: Amount::new(10_000, "CNY"),
            credit_amount: Amount::new(10_800, "HKD"),
            fx_rate: "1.08".into(),
            quote_id: "q".into(),
            corridor: "CN_IBPS>HK_FPS:CNY-HKD".into(),
            routing_version: 1,
            request_created_at: 10,
            cleared_at: 20,
            reverses: None,
            debit_settlement_cycle: None,
            credit_settlement_cycle: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In-flight entries and forwards written before clearing records named their
    /// cycles (format 1) still read after the upgrade, holds included.
    #[test]
    fn state_written_before_settlement_cycles_still_reads() {
        let c = tests_support::sample_clearing();
        let old_clearing = (
            &c.transaction_id,
            &c.end_to_end_id,
            &c.debtor_agent,
            &c.debtor_account,
            &c.creditor_agent,
            &c.creditor_account,
            &c.debit_amount,
            &c.credit_amount,
            &c.fx_rate,
            &c.quote_id,
            &c.corridor,
            c.routing_version,
            c.request_created_at,
            c.cleared_at,
            &c.reverses,
        );
        let hold =
            LimitHold { person_key: "ab".repeat(32), counted: vec![Counted { of: UsageOf(7), amount_minor: 5 }] };
        let uetr = Some("u".to_string());
        let mut entry = vec![FORMAT_V1];
        entry.extend_from_slice(&99i64.to_be_bytes());
        let entry =
            postcard::to_extend(&("HK_FPS", old_clearing, &uetr, InFlightPhase::AwaitingAnswer), entry).unwrap();
        let entry = postcard::to_extend(&hold, entry).unwrap();
        let decoded = InFlightEntry::decode(&entry).unwrap();
        assert_eq!((decoded.clearing, decoded.expires_at, decoded.hold.as_ref()), (c.clone(), 99, Some(&hold)));
        assert_eq!(decoded.phase, InFlightPhase::AwaitingAnswer);

        let forward =
            postcard::to_extend(&("HK_FPS", "W1", &uetr, old_clearing, vec![1u8, 2]), vec![FORMAT_V1]).unwrap();
        let decoded = ForwardCommand::decode(&forward).unwrap();
        assert_eq!((decoded.clearing, decoded.message, decoded.hold), (c, vec![1, 2], None));
    }
    use interlink_schemas::Channel;
    use proptest::prelude::*;

    fn request() -> AuthorizationRequest {
        sample_request()
    }

    /// The Java client's `Utils.murmur2` vectors that librdkafka checks its
    /// Java-compatible partitioner against (`rdmurmur2.c`).
    #[test]
    fn keys_hash_as_the_java_client_hashes_them() {
        let java = |key: &str| murmur2::murmur2(key.as_bytes(), murmur2::KAFKA_SEED);
        assert_eq!(java("kafka"), 0xd067_cf64);
        assert_eq!(java("giberish123456789"), 0x8f55_2b0c);
        assert_eq!(java(""), 0x106e_08d9);
        assert_eq!(home_partition(b"kafka", 7), ((0xd067_cf64u32 & 0x7fff_ffff) % 7) as i32);
        assert_eq!(home_partition(b"anything", 1), 0);
    }

    #[test]
    fn a_retry_stamped_anew_hashes_the_same_but_any_business_change_does_not() {
        let first = request();
        let retry = AuthorizationRequest { created_at: 99, ..request() };
        assert_eq!(request_hash(&first), request_hash(&retry));
        let changes: [fn(&mut AuthorizationRequest); 5] = [
            |r| r.amount.minor_units += 1,
            |r| r.creditor_account = None,
            |r| r.end_to_end_id.push('x'),
            |r| r.purpose = Some(String::new()),
            |r| r.channel = Channel::Api,
        ];
        let mut named = request();
        named.debtor_name = Some("CHAN Tai Man".into());
        assert_ne!(request_hash(&first), request_hash(&named));
        for change in changes {
            let mut modified = request();
            change(&mut modified);
            assert_ne!(request_hash(&first), request_hash(&modified), "{modified:?}");
        }
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        let mut a = request();
        let mut b = request();
        (a.end_to_end_id, a.debtor_account) = ("AB".into(), "C".into());
        (b.end_to_end_id, b.debtor_account) = ("A".into(), "BC".into());
        assert_ne!(request_hash(&a), request_hash(&b));
    }

    #[test]
    fn keys_name_origin_institution_and_id() {
        let key = RequestKey::of(&request());
        assert_eq!(key.as_bytes(), b"rCN_IBPS\x1f102100099996\x1ftx-1");
        assert_eq!(StoreKind::of_key(key.as_bytes()), Some(StoreKind::Requests));
        let mut other = request();
        other.debtor_agent.institution_id = "102100099997".into();
        assert_ne!(RequestKey::of(&other), key);
    }

    #[test]
    fn a_memo_round_trips_with_its_expiry_in_the_header() {
        let memo = RequestMemo {
            request_hash: [7; 32],
            decision: Decision::Rejected { reason: "RC01".into() },
            routing_version: 4,
            first: RecordPlace { partition: 2, offset: 77 },
            decided_at: 1_000,
            expires_at: 86_400_001_000,
        };
        let bytes = memo.encode().unwrap();
        assert_eq!(expires_at(&bytes), Some(86_400_001_000));
        assert_eq!(RequestMemo::decode(&bytes).unwrap(), memo);
        assert!(bytes.len() < 64, "{} bytes", bytes.len());
    }

    proptest! {
        #[test]
        fn arbitrary_values_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = RequestMemo::decode(&bytes);
            let _ = expires_at(&bytes);
        }
    }
}
