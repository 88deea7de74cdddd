//! Business validation of a decoded authorization request. A request that fails here
//! is malformed (dead-lettered, and its debtor told why); one that passes may still be
//! rejected by routing.

use interlink_schemas::{Agent, AuthorizationRequest};
use interlink_vocab::money::currency_exponent;
use interlink_vocab::IsoReason;

/// ISO 20022 Max35Text, the limit on end-to-end ids and account ids.
const MAX35: usize = 35;
const MAX_TRANSACTION_ID: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// ISO 20022 ExternalStatusReason1Code given to the debtor.
    pub reason: IsoReason,
    pub message: String,
}

fn invalid(reason: IsoReason, message: impl Into<String>) -> ValidationError {
    ValidationError { reason, message: message.into() }
}

/// How the creditor is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditorAddress<'a> {
    Agent(&'a Agent),
    QrPayload(&'a str),
    Alias,
}

/// Checks a request; on success returns how its creditor is addressed.
pub fn validate(req: &AuthorizationRequest) -> Result<CreditorAddress<'_>, ValidationError> {
    text("transaction_id", &req.transaction_id, MAX_TRANSACTION_ID)?;
    text("end_to_end_id", &req.end_to_end_id, MAX35)?;
    text("debtor_account", &req.debtor_account, MAX35)?;
    if req.created_at <= 0 {
        return Err(invalid(IsoReason::FF01, format!("created_at {} is not a time after the epoch", req.created_at)));
    }
    agent("debtor_agent", &req.debtor_agent)?;
    if let Some(account) = &req.creditor_account {
        text("creditor_account", account, MAX35)?;
    }
    if req.amount.minor_units <= 0 {
        return Err(invalid(IsoReason::AM12, format!("amount {} must be greater than zero", req.amount.minor_units)));
    }
    currency_exponent(&req.amount.currency).map_err(|e| invalid(IsoReason::AM03, e.to_string()))?;

    let address = match (&req.creditor_agent, &req.qr_payload, &req.creditor_alias) {
        (Some(a), None, None) => CreditorAddress::Agent(a),
        (None, Some(qr), None) => CreditorAddress::QrPayload(qr),
        (None, None, Some(_)) => CreditorAddress::Alias,
        (None, None, None) => {
            return Err(invalid(IsoReason::FF01, "no creditor: set creditor_agent, qr_payload or creditor_alias"))
        }
        _ => {
            return Err(invalid(
                IsoReason::FF01,
                "more than one of creditor_agent, qr_payload and creditor_alias is set",
            ))
        }
    };
    if let CreditorAddress::Agent(a) = address {
        agent("creditor_agent", a)?;
    }
    // ISO 20022 Max140Text names.
    for (field, name) in [("debtor_name", &req.debtor_name), ("creditor_name", &req.creditor_name)] {
        if let Some(name) = name {
            text(field, name, 140)?;
        }
    }
    if let Some(id) = &req.debtor_id {
        // ExternalPersonIdentification1Code is four capital letters; the issuer an
        // ISO 3166 alpha-2 country.
        if id.scheme.len() != 4 || !id.scheme.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                IsoReason::RR01,
                "debtor_id.scheme must be an ISO 20022 person identification code (NIDN, CCPT, ...)",
            ));
        }
        if id.issuer.len() != 2 || !id.issuer.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(IsoReason::RR01, "debtor_id.issuer must be an ISO 3166 alpha-2 country code"));
        }
        text("debtor_id.value", &id.value, MAX35)?;
    }
    Ok(address)
}

fn text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(invalid(IsoReason::FF01, format!("{field} is empty")));
    }
    if value.chars().count() > max {
        return Err(invalid(IsoReason::FF01, format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

fn agent(field: &str, agent: &Agent) -> Result<(), ValidationError> {
    let network = interlink_connectors::network(&agent.network)
        .ok_or_else(|| invalid(IsoReason::RC01, format!("{field}: unknown network {:?}", agent.network)))?;
    network
        .validate_participant_id(&agent.institution_id)
        .map_err(|e| invalid(IsoReason::RC01, format!("{field}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_schemas::Amount;

    fn req() -> AuthorizationRequest {
        AuthorizationRequest {
            created_at: 1,
            creditor_account: None,
            amount: Amount::new(100, "CNY"),
            ..crate::memory::sample_request()
        }
    }

    fn reason(f: impl FnOnce(&mut AuthorizationRequest)) -> (IsoReason, String) {
        let mut r = req();
        f(&mut r);
        let e = validate(&r).unwrap_err();
        (e.reason, e.message)
    }

    #[test]
    fn a_good_request_passes() {
        assert_eq!(validate(&req()).unwrap(), CreditorAddress::Agent(&Agent::new("HK_FPS", "004")));
    }

    #[test]
    fn each_rule_has_its_reason() {
        assert_eq!(reason(|r| r.amount.minor_units = 0).0, IsoReason::AM12);
        assert_eq!(reason(|r| r.amount.minor_units = -5).0, IsoReason::AM12);
        assert_eq!(reason(|r| r.amount.currency = "XXY".into()).0, IsoReason::AM03);
        assert_eq!(reason(|r| r.transaction_id = " ".into()), (IsoReason::FF01, "transaction_id is empty".into()));
        assert_eq!(reason(|r| r.end_to_end_id = "x".repeat(36)).0, IsoReason::FF01);
        assert_eq!(reason(|r| r.created_at = 0).0, IsoReason::FF01);
        let (code, msg) = reason(|r| r.debtor_agent.network = "MARS".into());
        assert_eq!(code, IsoReason::RC01);
        assert!(msg.contains("debtor_agent: unknown network"), "{msg}");
        let (code, msg) = reason(|r| r.creditor_agent = Some(Agent::new("HK_FPS", "4")));
        assert_eq!(code, IsoReason::RC01);
        assert!(msg.contains("3 digits"), "{msg}");
        assert_eq!(reason(|r| r.creditor_agent = None).0, IsoReason::FF01);
        assert!(reason(|r| r.qr_payload = Some("000201".into())).1.contains("more than one"));
        let id =
            |scheme: &str, issuer: &str, value: &str| Some(interlink_schemas::PersonId::new(scheme, issuer, value));
        assert_eq!(reason(|r| r.debtor_id = id("nidn", "HK", "A1234563")).0, IsoReason::RR01);
        assert_eq!(reason(|r| r.debtor_id = id("NIDN", "HKG", "A1234563")).0, IsoReason::RR01);
        assert_eq!(reason(|r| r.debtor_id = id("NIDN", "HK", " ")).0, IsoReason::FF01);
        assert_eq!(reason(|r| r.debtor_name = Some("x".repeat(141))).0, IsoReason::FF01);
        let mut named = req();
        (named.debtor_id, named.debtor_name) = (id("NIDN", "HK", "A1234563"), Some("CHAN Tai Man".into()));
        assert!(validate(&named).is_ok());
    }

    #[test]
    fn qr_and_alias_addressing_are_recognised() {
        let mut r = req();
        r.creditor_agent = None;
        r.qr_payload = Some("000201".into());
        assert_eq!(validate(&r).unwrap(), CreditorAddress::QrPayload("000201"));
    }
}
