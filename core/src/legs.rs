//! The two legs of a payment through a connected network, as pure translation: the
//! canonical payment sent into the destination network, and the authorization request
//! made from a payment a network originates.

use interlink_connectors::canonical::{Agent as NetAgent, Creditor, Debtor, InterbankSettlement, Money};
use interlink_connectors::{CanonicalPayment, CanonicalReturn, CanonicalStatus, Connector, ConnectorError};
use interlink_schemas::{Agent, Alias, Amount, AuthorizationRequest, Channel, ClearingRecord, Notification};
use interlink_vocab::IsoReason;
use sha2::{Digest, Sha256};

/// ISO 20022 transaction ids are Max35Text.
const MAX_WIRE_ID: usize = 35;
/// Marks a derived wire id; an id carried as it is never starts with it.
const DERIVED_PREFIX: &str = "H.";

/// A transaction id as it travels in a network's messages. Status reports come back
/// with it, and in-flight payments are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WireId(String);

impl WireId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for WireId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The wire id of a transaction id: injective, so two payments never share one (and
/// one network's status report can never settle another payment).
///
/// - A hyphenated lower-case UUID travels as its 32 hex digits.
/// - An id of at most 35 ASCII letters, digits, `-` and `.` travels as it is, unless it
///   could be mistaken for one of the other two forms (32 lower-case hex digits, or the
///   derived prefix).
/// - Anything else (longer, other characters, non-ASCII) travels as `H.` and the first
///   128 bits of its SHA-256 in hex (34 characters).
pub fn wire_id(transaction_id: &str) -> WireId {
    if let Some(simple) = lowercase_uuid_simple(transaction_id) {
        return WireId(simple);
    }
    let carried_as_is = (1..=MAX_WIRE_ID).contains(&transaction_id.len())
        && transaction_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !transaction_id.starts_with(DERIVED_PREFIX)
        && !is_simple_uuid_form(transaction_id);
    if carried_as_is {
        return WireId(transaction_id.to_string());
    }
    let digest = Sha256::digest(transaction_id.as_bytes());
    WireId(format!("{DERIVED_PREFIX}{}", hex(&digest[..16])))
}

/// `Some(32 hex digits)` for a hyphenated lower-case UUID.
fn lowercase_uuid_simple(id: &str) -> Option<String> {
    let is_hyphenated_lower = id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        });
    is_hyphenated_lower.then(|| id.bytes().filter(|b| *b != b'-').map(char::from).collect())
}

fn is_simple_uuid_form(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]).map(char::from).collect()
}

/// SHA-256 of `bytes` in hex (for dead letters that keep only a prefix of their input).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The transaction id of a payment `network` originates: the network's own id under
/// the network's name, so ids two networks happen to share never meet.
pub fn originated_transaction_id(network: &str, network_transaction_id: &str) -> String {
    format!("{network}:{network_transaction_id}")
}

/// The id `network` gave a payment it originated, back from its transaction id.
pub fn network_transaction_id<'a>(network: &str, transaction_id: &'a str) -> Option<&'a str> {
    transaction_id.strip_prefix(network)?.strip_prefix(':')
}

/// Why a late acceptance is returned: TM01, received after the cut-off time.
pub const LATE_ACCEPTANCE_RETURN_REASON: IsoReason = IsoReason::TM01;

/// The network's return (pacs.004) of a payment it settled after the switch had
/// refused it at its deadline: the amount the network credited goes back, with
/// [`LATE_ACCEPTANCE_RETURN_REASON`]. Returns the return's id and the message.
pub fn late_acceptance_return(
    connector: &dyn Connector,
    clearing: &ClearingRecord,
    wire: &str,
    uetr: Option<&str>,
    now: i64,
) -> Result<(String, Vec<u8>), ConnectorError> {
    let return_id: String = format!("RT{wire}").chars().take(MAX_WIRE_ID).collect();
    let amount = &clearing.credit_amount;
    let message = connector.encode_return(&CanonicalReturn {
        message_id: return_id.clone(),
        created_at: now,
        return_id: return_id.clone(),
        original_message_id: wire.to_string(),
        original_end_to_end_id: clearing.end_to_end_id.clone(),
        original_transaction_id: wire.to_string(),
        original_uetr: uetr.map(str::to_string),
        returned_amount: Money { minor_units: amount.minor_units, currency: amount.currency.clone() },
        reason: LATE_ACCEPTANCE_RETURN_REASON,
        additional_info: Some("settled after the switch's response deadline; refused to both sides".into()),
        instructing_agent: None,
        instructed_agent: None,
    })?;
    Ok((return_id, message))
}

/// Why a payment a network sent cannot become an authorization request.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error(transparent)]
    Decode(#[from] ConnectorError),
    #[error("a payment from {network} names a debtor agent in {debtor_network}")]
    ForeignDebtor { network: String, debtor_network: String },
    #[error("{network}'s transaction id {id:?} is longer than 35 characters")]
    IdTooLong { network: String, id: String },
}

/// Canonical authorizations carry no party names; networks that require one get the
/// ISO 20022 convention for a name the sender does not have.
const NAME_NOT_PROVIDED: &str = "NOTPROVIDED";

/// The payment's UETR (a version-4 UUID, which some networks require): the
/// transaction id itself when it is one, else derived from it deterministically, so a
/// payment re-sent after a crash carries the same UETR.
pub fn uetr(transaction_id: &str) -> String {
    if let Ok(u) = uuid::Uuid::parse_str(transaction_id) {
        if u.get_version_num() == 4 {
            return u.to_string();
        }
    }
    let fnv = |seed: u64| transaction_id.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The destination network's message for a routed payment.
pub fn outbound_message(
    connector: &dyn Connector,
    request: &AuthorizationRequest,
    clearing: &ClearingRecord,
) -> Result<(WireId, Vec<u8>), ConnectorError> {
    let agent = |a: &Agent| NetAgent { network: a.network.clone(), institution_id: a.institution_id.clone() };
    let money = |a: &Amount| Money { minor_units: a.minor_units, currency: a.currency.clone() };
    let wire = wire_id(&clearing.transaction_id);
    let payment = CanonicalPayment {
        message_id: wire.as_str().to_string(),
        transaction_id: wire.as_str().to_string(),
        end_to_end_id: clearing.end_to_end_id.clone(),
        uetr: Some(uetr(&clearing.transaction_id)),
        created_at: clearing.request_created_at,
        instructed_amount: money(&clearing.debit_amount),
        interbank_settlement: Some(InterbankSettlement {
            amount: money(&clearing.credit_amount),
            fx_rate: clearing.fx_rate.parse().ok(),
            quote_id: Some(clearing.quote_id.clone()),
        }),
        debtor: Debtor {
            name: Some(NAME_NOT_PROVIDED.into()),
            account: clearing.debtor_account.clone(),
            alias: None,
            agent: agent(&clearing.debtor_agent),
            identification: None,
        },
        creditor: Creditor {
            name: Some(NAME_NOT_PROVIDED.into()),
            account: clearing.creditor_account.clone(),
            alias: None,
            agent: agent(&clearing.creditor_agent),
        },
        purpose: request.purpose.clone(),
        remittance_info: None,
    };
    Ok((wire, connector.encode_payment(&payment)?))
}

/// A payment `network` originated, as an authorization request. Its debtor must be the
/// network's own participant.
pub fn inbound_request(network: &str, p: CanonicalPayment) -> Result<AuthorizationRequest, InboundError> {
    if p.debtor.agent.network != network {
        return Err(InboundError::ForeignDebtor { network: network.into(), debtor_network: p.debtor.agent.network });
    }
    if p.transaction_id.chars().count() > MAX_WIRE_ID {
        return Err(InboundError::IdTooLong { network: network.into(), id: p.transaction_id });
    }
    Ok(AuthorizationRequest {
        // The origin network finds its own id again in the status report.
        transaction_id: originated_transaction_id(network, &p.transaction_id),
        end_to_end_id: p.end_to_end_id,
        created_at: p.created_at,
        debtor_agent: Agent::new(p.debtor.agent.network, p.debtor.agent.institution_id),
        debtor_account: p.debtor.account,
        creditor_agent: Some(Agent::new(p.creditor.agent.network, p.creditor.agent.institution_id)),
        creditor_account: p.creditor.account,
        qr_payload: None,
        creditor_alias: None::<Alias>,
        amount: Amount::new(p.instructed_amount.minor_units, p.instructed_amount.currency),
        channel: Channel::Api,
        purpose: p.purpose,
        debtor_id: p.debtor.identification.as_ref().map(|id| person_id(network, id)),
        debtor_name: p.debtor.name,
        creditor_name: p.creditor.name,
        // Network messages carry no device of the payer.
        device_id: None,
    })
}

/// The debtor's identification as a request carries it: a national id or passport
/// without a stated scheme or issuer is taken as issued where the network is (network
/// ids start with their country's code).
fn person_id(network: &str, id: &interlink_connectors::PersonIdentification) -> interlink_schemas::PersonId {
    let country = network.get(..2).unwrap_or(network);
    interlink_schemas::PersonId::new(
        id.scheme.as_deref().unwrap_or("NIDN"),
        id.issuer.as_deref().unwrap_or(country),
        &id.id,
    )
}

/// The status report for the network a payment came from, from the debtor's final
/// notification, with the id the network gave the payment.
pub fn origin_status(connector: &dyn Connector, note: &Notification) -> Result<(WireId, Vec<u8>), ConnectorError> {
    let network = connector.profile().id;
    let wire = match network_transaction_id(network, &note.transaction_id) {
        Some(id) => WireId(id.to_string()),
        None => wire_id(&note.transaction_id),
    };
    let reason = note.reason_code.as_deref().map(|c| IsoReason::parse(c).unwrap_or(IsoReason::NARR));
    let message_id: String = format!("IL{wire}").chars().take(MAX_WIRE_ID).collect();
    let message = connector.encode_status(&CanonicalStatus {
        message_id,
        created_at: note.emitted_at,
        original_message_id: wire.as_str().to_string(),
        original_end_to_end_id: note.end_to_end_id.clone(),
        original_transaction_id: wire.as_str().to_string(),
        original_uetr: None,
        status: note.status,
        reason,
        additional_info: note.reason_text.as_ref().map(|t| t.chars().take(105).collect()),
        instructing_agent: None,
        instructed_agent: None,
        original_amount: None,
    })?;
    Ok((wire, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_ids_fit_iso_max35() {
        assert_eq!(wire_id("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80").as_str(), "0193a1b27c4d7e2f9a103b4c5d6e7f80");
        assert_eq!(wire_id("tx-1").as_str(), "tx-1");
        assert_eq!(wire_id("tx1").as_str(), "tx1");
        let long = wire_id(&"x".repeat(50));
        assert!(long.as_str().starts_with("H.") && long.as_str().len() == 34, "{long}");
        let derived = uuid::Uuid::parse_str(&uetr("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80")).unwrap();
        assert_eq!(derived.get_version_num(), 4);
        assert_eq!(uetr("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80"), derived.to_string(), "deterministic");
        assert_eq!(uetr("8a562c67-ca16-48ba-b074-65581be6f001"), "8a562c67-ca16-48ba-b074-65581be6f001");
    }

    #[test]
    fn ids_that_used_to_collide_no_longer_do() {
        assert_ne!(wire_id("tx-1"), wire_id("tx1"));
        let (a, b) = (format!("{}A", "y".repeat(40)), format!("{}B", "y".repeat(40)));
        assert_ne!(wire_id(&a), wire_id(&b), "sharing 35 characters");
        // A UUID and the same digits written without dashes are two different ids.
        let uuid = "0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80";
        assert_ne!(wire_id(uuid), wire_id("0193a1b27c4d7e2f9a103b4c5d6e7f80"));
        assert_ne!(wire_id(uuid), wire_id(&uuid.to_uppercase()));
        // An id that looks derived is itself derived.
        let derived = wire_id(&"x".repeat(50));
        assert_ne!(wire_id(derived.as_str()), derived);
    }

    #[test]
    fn non_ascii_ids_do_not_panic() {
        for id in ["é".repeat(17), "é".repeat(64), "支付-1".into(), "🙂".into(), "Ｔ1".into()] {
            let w = wire_id(&id);
            assert!(w.as_str().is_ascii() && w.as_str().len() <= MAX_WIRE_ID, "{id} -> {w}");
        }
    }

    #[test]
    fn originated_ids_carry_their_network() {
        let id = originated_transaction_id("HK_FPS", "FPS123");
        assert_eq!(id, "HK_FPS:FPS123");
        assert_eq!(network_transaction_id("HK_FPS", &id), Some("FPS123"));
        assert_eq!(network_transaction_id("CN_IBPS", &id), None);
        assert_ne!(originated_transaction_id("HK_FPS", "X"), originated_transaction_id("CN_IBPS", "X"));
    }

    proptest! {
        /// Distinct transaction ids have distinct wire ids, which are ASCII and fit 35.
        #[test]
        fn wire_ids_are_injective(a in "\\PC{1,64}", b in "[a-z0-9.-]{1,40}") {
            let (wa, wb) = (wire_id(&a), wire_id(&b));
            prop_assert!(wa.as_str().is_ascii() && wa.as_str().len() <= MAX_WIRE_ID);
            prop_assert!(wb.as_str().is_ascii() && wb.as_str().len() <= MAX_WIRE_ID);
            prop_assert_eq!(a == b, wa == wb);
        }
    }
}
