//! Payments held for an operator's review: what the switch keeps of a held payment, and
//! the operator's decision that reaches it.
//!
//! A payment a risk rule holds (an anomaly rule whose action is `hold`, a sanctions hit
//! under `risk.screening_action = "hold"`) is not final: its debtor is told PDNG, and the
//! request itself is kept in the state of its request partition, under its request's
//! identity, with the review deadline in the value's header. An operator's decision
//! (`interlinkctl risk review`) travels on the forwards topic keyed by the request's own
//! key, so it reaches that partition; there the payment is decided again (approved) or
//! refused, in the same transaction as the entry's tombstone. A deadline that passes
//! first refuses it: the switch's promise of a final outcome within a known time holds
//! for held payments too.

use crate::memory::{self, MemoryError, RecordPlace, HELD_STORE};
use interlink_schemas::{Agent, Amount, RiskControl};
use serde::{Deserialize, Serialize};

/// A held payment's key: the same identity as its request's memo (origin network,
/// origin institution, transaction id), in the held store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeldKey(Vec<u8>);

impl HeldKey {
    pub fn new(debtor_network: &str, debtor_institution: &str, transaction_id: &str) -> Self {
        Self(memory::store_key(HELD_STORE, &[debtor_network, debtor_institution, transaction_id]))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What the switch keeps of a held payment until it is reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPayment {
    /// The request record as it was read (Confluent-framed Avro): decided again, as it
    /// was, when approved.
    pub request: Vec<u8>,
    /// The request record's key (a transaction id or a person key).
    pub partition_key: String,
    /// What refusing it needs (its debtor's notification, its alert, its memo), kept
    /// apart from the request so that a refusal never depends on reading the request
    /// again (its writer's schema may be unknown to a worker started since).
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub debtor_agent: Agent,
    pub amount: Amount,
    pub request_created_at: i64,
    pub request_hash: [u8; 32],
    /// Where the request was read: dead letters of its later decision name that record.
    pub topic: String,
    pub place: RecordPlace,
    /// The control and rule that held it, the reason it is refused with, and why it
    /// was held (the rule, its version, the figures, the threshold).
    pub control: RiskControl,
    pub rule: String,
    pub reason: String,
    pub explanation: String,
    pub routing_version: i64,
    pub corridor: Option<String>,
    pub creditor_agent: Option<Agent>,
    pub held_at: i64,
    /// The review deadline (in the value's header).
    #[serde(skip)]
    pub expires_at: i64,
}

impl HeldPayment {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        memory::frame(self.expires_at, self)
    }

    pub fn decode(value: &[u8]) -> Result<Self, MemoryError> {
        let mut held: Self = memory::unframe(value)?;
        held.expires_at = memory::expires_at(value).unwrap_or_default();
        Ok(held)
    }
}

/// An operator's decision on a held payment, on the forwards topic keyed by the held
/// request's key (the `review_key` of its HELD alert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCommand {
    pub debtor_network: String,
    pub debtor_institution: String,
    pub transaction_id: String,
    pub verdict: ReviewVerdict,
    /// Who decided, and why: kept in the alert that records the decision.
    pub operator: String,
    pub note: String,
    pub decided_at: i64,
}

/// What the operator decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewVerdict {
    /// Let it go ahead: it is decided again, with the holding rules passed.
    Approve,
    /// Refuse it with the reason of the rule that held it.
    Refuse,
}

impl ReviewVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Refuse => "refused",
        }
    }
}

/// First byte of a [`ReviewCommand`] on the forwards topic (forwards start with their
/// format byte, releases with `R`).
const REVIEW_TAG: u8 = b'V';

impl ReviewCommand {
    pub fn held_key(&self) -> HeldKey {
        HeldKey::new(&self.debtor_network, &self.debtor_institution, &self.transaction_id)
    }

    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        memory::encode_tagged(REVIEW_TAG, self)
    }

    /// `Some` for a review record (decoded or not), `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Result<Self, MemoryError>> {
        memory::decode_tagged(REVIEW_TAG, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::StoreKind;

    #[test]
    fn a_held_payment_and_a_review_round_trip_and_are_told_apart() {
        let held = HeldPayment {
            request: vec![0, 0, 0, 0, 102, 1, 2],
            partition_key: "ab".repeat(32),
            transaction_id: "tx-1".into(),
            end_to_end_id: "E2E-1".into(),
            debtor_agent: Agent::new("HK_FPS", "004"),
            amount: Amount::new(800_000, "HKD"),
            request_created_at: 900,
            request_hash: [7; 32],
            topic: "interlink.auth.requests".into(),
            place: RecordPlace { partition: 3, offset: 77 },
            control: RiskControl::Anomaly,
            rule: "big-north".into(),
            reason: "FRAD".into(),
            explanation: "amount far above the usual".into(),
            routing_version: 4,
            corridor: Some("HK_FPS>CN_IBPS".into()),
            creditor_agent: Some(Agent::new("CN_IBPS", "102100099996")),
            held_at: 1_000,
            expires_at: 3_601_000,
        };
        let value = held.encode().unwrap();
        assert_eq!(memory::expires_at(&value), Some(3_601_000), "the deadline is in the header");
        assert_eq!(HeldPayment::decode(&value).unwrap(), held);

        let review = ReviewCommand {
            debtor_network: "HK_FPS".into(),
            debtor_institution: "004".into(),
            transaction_id: "tx-1".into(),
            verdict: ReviewVerdict::Approve,
            operator: "ops-1".into(),
            note: "customer confirmed".into(),
            decided_at: 2_000,
        };
        let bytes = review.encode().unwrap();
        assert_eq!(ReviewCommand::decode(&bytes).unwrap().unwrap(), review);
        assert!(ReviewCommand::decode(&[1, 2, 3]).is_none(), "a forward is not a review");
        assert!(ReviewCommand::decode(&[REVIEW_TAG, 0xff]).unwrap().is_err(), "a broken review says so");
        let key = review.held_key();
        assert_eq!(StoreKind::of_key(key.as_bytes()), Some(StoreKind::Held));
        assert_eq!(key, HeldKey::new("HK_FPS", "004", "tx-1"));
    }
}
