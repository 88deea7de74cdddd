//! The two legs of a payment through a connected network, as pure translation: the
//! canonical payment sent into the destination network, and the authorization request
//! made from a payment a network originates.

use interlink_connectors::canonical::{Agent as NetAgent, Creditor, Debtor, InterbankSettlement, Money};
use interlink_connectors::{CanonicalPayment, CanonicalStatus, Connector, ConnectorError, IsoReason, PaymentStatus};
use interlink_schemas::{
    Agent, Alias, Amount, AuthorizationRequest, Channel, ClearingRecord, Notification, TransactionStatus,
};

/// The transaction id on the wire: ISO 20022 ids are at most 35 characters, so a UUID
/// travels without its dashes. Status reports come back with it, and in-flight
/// payments are keyed by it.
pub fn wire_id(transaction_id: &str) -> String {
    let compact: String = transaction_id.chars().filter(|c| *c != '-').collect();
    compact.chars().take(35).collect()
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
) -> Result<Vec<u8>, ConnectorError> {
    let agent = |a: &Agent| NetAgent { network: a.network.clone(), institution_id: a.institution_id.clone() };
    let money = |a: &Amount| Money { minor_units: a.minor_units, currency: a.currency.clone() };
    let wire = wire_id(&clearing.transaction_id);
    let payment = CanonicalPayment {
        message_id: wire.clone(),
        transaction_id: wire,
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
    connector.encode_payment(&payment)
}

/// A payment `network` originated, as an authorization request. Its debtor must be the
/// network's own participant.
pub fn inbound_request(network: &str, p: CanonicalPayment) -> Result<AuthorizationRequest, String> {
    if p.debtor.agent.network != network {
        return Err(format!("a payment from {network} names a debtor agent in {}", p.debtor.agent.network));
    }
    Ok(AuthorizationRequest {
        // The id the origin network knows and will find in its status report.
        transaction_id: p.transaction_id.clone(),
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
    })
}

/// The status report for the network a payment came from, from the debtor's final
/// notification.
pub fn origin_status(connector: &dyn Connector, note: &Notification) -> Result<Vec<u8>, ConnectorError> {
    let wire = wire_id(&note.transaction_id);
    let status = match note.status {
        TransactionStatus::ACCC => PaymentStatus::ACCC,
        TransactionStatus::BLCK => PaymentStatus::BLCK,
        _ => PaymentStatus::RJCT,
    };
    let reason = note.reason_code.as_deref().map(|c| IsoReason::parse(c).unwrap_or(IsoReason::NARR));
    connector.encode_status(&CanonicalStatus {
        message_id: format!("IL{}", &wire[..wire.len().min(33)]),
        created_at: note.emitted_at,
        original_message_id: wire.clone(),
        original_end_to_end_id: note.end_to_end_id.clone(),
        original_transaction_id: wire,
        original_uetr: None,
        status,
        reason,
        additional_info: note.reason_text.as_ref().map(|t| t.chars().take(105).collect()),
        instructing_agent: None,
        instructed_agent: None,
    })
}

/// An ISO 20022 status reason code as a static string (for metric labels and
/// outcomes); codes the connectors do not know become NARR.
pub fn static_reason(code: &str) -> &'static str {
    IsoReason::parse(code).ok().and_then(|r| r.known_code()).unwrap_or("NARR")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_ids_fit_iso_max35() {
        assert_eq!(wire_id("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80"), "0193a1b27c4d7e2f9a103b4c5d6e7f80");
        assert_eq!(wire_id(&"x".repeat(50)).len(), 35);
        let derived = uuid::Uuid::parse_str(&uetr("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80")).unwrap();
        assert_eq!(derived.get_version_num(), 4);
        assert_eq!(uetr("0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80"), derived.to_string(), "deterministic");
        assert_eq!(uetr("8a562c67-ca16-48ba-b074-65581be6f001"), "8a562c67-ca16-48ba-b074-65581be6f001");
        assert_eq!(static_reason("AC04"), "AC04");
        assert_eq!(static_reason("ZZ99"), "NARR");
    }
}
