//! The compiled, immutable routing table and route resolution.

use super::model::{Corridor, Participant, ParticipantStatus, RouteRecord};
use super::money::{convert, currency_exponent};
use interlink_schemas::{Agent, Amount};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a set of rules does not compile into a table. Lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid rule(s): {}", .problems.len(), .problems.join("; "))]
pub struct CompileError {
    pub problems: Vec<String>,
}

/// Why a request cannot be routed, with its ISO 20022 status reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("debtor agent {0} is not a participant")]
    UnknownDebtorAgent(String),
    #[error("creditor agent {0} is not a participant")]
    UnknownCreditorAgent(String),
    #[error("participant {0} is suspended")]
    ParticipantSuspended(String),
    #[error("no corridor from {from} to {to}")]
    NoCorridor { from: String, to: String },
    #[error("corridor {0} is closed")]
    CorridorClosed(String),
    #[error("corridor from {from} to {to} does not carry {currency}")]
    CurrencyNotCarried { from: String, to: String, currency: String },
    #[error("amount {amount} exceeds the corridor maximum {max} (minor units)")]
    AboveMaximum { amount: i64, max: i64 },
    #[error("amount cannot be converted: {0}")]
    Conversion(String),
}

impl Rejection {
    /// ISO 20022 ExternalStatusReason1Code.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::UnknownDebtorAgent(_) | Self::UnknownCreditorAgent(_) => "RC01",
            Self::ParticipantSuspended(_) | Self::NoCorridor { .. } | Self::CorridorClosed(_) => "AG01",
            Self::CurrencyNotCarried { .. } => "AM03",
            Self::AboveMaximum { .. } | Self::Conversion(_) => "AM02",
        }
    }
}

/// A corridor with what every routed request needs precomputed.
#[derive(Debug, Clone)]
pub struct CompiledCorridor {
    pub rule: Corridor,
    pub id: Arc<str>,
    pub quote_id: Arc<str>,
    pub fx_rate_text: Arc<str>,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy)]
pub struct Route<'t> {
    pub debtor: &'t Participant,
    pub creditor: &'t Participant,
    pub corridor: &'t CompiledCorridor,
    /// What the creditor receives, in the corridor's destination currency.
    pub credit_minor_units: i64,
}

/// An immutable routing table at one version. Lookups never allocate.
#[derive(Debug, Default)]
pub struct RoutingTable {
    version: i64,
    /// network -> institution id -> participant
    participants: HashMap<String, HashMap<String, Participant>>,
    /// from -> to -> corridors (one per source currency)
    corridors: HashMap<String, HashMap<String, Vec<CompiledCorridor>>>,
    rule_count: usize,
}

impl RoutingTable {
    /// The table before any change set: routes nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    pub fn participant(&self, network: &str, institution_id: &str) -> Option<&Participant> {
        self.participants.get(network)?.get(institution_id)
    }

    /// Validates every rule and builds the table; reports every problem at once.
    pub fn compile<'a>(version: i64, records: impl IntoIterator<Item = &'a RouteRecord>) -> Result<Self, CompileError> {
        let mut table = RoutingTable { version, ..Default::default() };
        let mut problems = Vec::new();
        for record in records {
            table.rule_count += 1;
            if let Err(e) = check_record(record) {
                problems.push(format!("{}: {e}", record.key()));
                continue;
            }
            match record {
                RouteRecord::Participant(p) => {
                    let previous = table
                        .participants
                        .entry(p.network.clone())
                        .or_default()
                        .insert(p.institution_id.clone(), p.clone());
                    if previous.is_some() {
                        problems.push(format!("participant/{}/{}: defined twice", p.network, p.institution_id));
                    }
                }
                RouteRecord::Corridor(c) => {
                    let id: Arc<str> = c.id().into();
                    let compiled = CompiledCorridor {
                        quote_id: format!("{id}@v{version}").into(),
                        fx_rate_text: c.fx_rate.normalize().to_string().into(),
                        id,
                        rule: c.clone(),
                    };
                    let list = table.corridors.entry(c.from.clone()).or_default().entry(c.to.clone()).or_default();
                    if list.iter().any(|o| o.rule.source_currency == c.source_currency) {
                        problems.push(format!(
                            "corridor/{}/{}/{}: overlaps another corridor for the same currency",
                            c.from, c.to, c.source_currency
                        ));
                    }
                    list.push(compiled);
                }
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(CompileError { problems })
        }
    }

    /// Resolves a request's route. Precedence of checks, first failure wins:
    /// debtor known, debtor active, creditor known, creditor active, corridor exists,
    /// corridor carries the currency, corridor open, amount within the maximum.
    pub fn resolve(&self, debtor: &Agent, creditor: &Agent, amount: &Amount) -> Result<Route<'_>, Rejection> {
        let debtor_p = self
            .participant(&debtor.network, &debtor.institution_id)
            .ok_or_else(|| Rejection::UnknownDebtorAgent(debtor.to_string()))?;
        if debtor_p.status == ParticipantStatus::Suspended {
            return Err(Rejection::ParticipantSuspended(debtor.to_string()));
        }
        let creditor_p = self
            .participant(&creditor.network, &creditor.institution_id)
            .ok_or_else(|| Rejection::UnknownCreditorAgent(creditor.to_string()))?;
        if creditor_p.status == ParticipantStatus::Suspended {
            return Err(Rejection::ParticipantSuspended(creditor.to_string()));
        }
        let candidates = self
            .corridors
            .get(&debtor.network)
            .and_then(|m| m.get(&creditor.network))
            .filter(|l| !l.is_empty())
            .ok_or_else(|| Rejection::NoCorridor { from: debtor.network.clone(), to: creditor.network.clone() })?;
        let corridor = candidates.iter().find(|c| c.rule.source_currency == amount.currency).ok_or_else(|| {
            Rejection::CurrencyNotCarried {
                from: debtor.network.clone(),
                to: creditor.network.clone(),
                currency: amount.currency.clone(),
            }
        })?;
        if !corridor.rule.enabled {
            return Err(Rejection::CorridorClosed(corridor.id.to_string()));
        }
        if amount.minor_units > corridor.rule.max_amount_minor {
            return Err(Rejection::AboveMaximum { amount: amount.minor_units, max: corridor.rule.max_amount_minor });
        }
        let credit = convert(
            amount.minor_units,
            &corridor.rule.source_currency,
            &corridor.rule.destination_currency,
            corridor.rule.fx_rate,
        )
        .map_err(|e| Rejection::Conversion(e.to_string()))?;
        Ok(Route { debtor: debtor_p, creditor: creditor_p, corridor, credit_minor_units: credit })
    }
}

/// Checks one rule on its own: known networks, ids in their network's scheme, ISO
/// currencies, positive rates and caps.
pub fn check_record(record: &RouteRecord) -> Result<(), String> {
    match record {
        RouteRecord::Participant(p) => check_participant(p),
        RouteRecord::Corridor(c) => check_corridor(c),
    }
}

fn check_participant(p: &Participant) -> Result<(), String> {
    let network =
        interlink_connectors::network(&p.network).ok_or_else(|| format!("unknown network {:?}", p.network))?;
    network.validate_participant_id(&p.institution_id).map_err(|e| e.to_string())?;
    currency_exponent(&p.settlement_currency).map_err(|e| e.to_string())?;
    if p.name.trim().is_empty() {
        return Err("name must not be empty".into());
    }
    if let Some(bic) = &p.bic {
        interlink_connectors::IdScheme::Bic.validate(bic).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn check_corridor(c: &Corridor) -> Result<(), String> {
    for n in [&c.from, &c.to] {
        interlink_connectors::network(n).ok_or_else(|| format!("unknown network {n:?}"))?;
    }
    currency_exponent(&c.source_currency).map_err(|e| e.to_string())?;
    currency_exponent(&c.destination_currency).map_err(|e| e.to_string())?;
    if c.fx_rate <= Decimal::ZERO {
        return Err(format!("fx_rate must be greater than zero, got {}", c.fx_rate));
    }
    if c.source_currency == c.destination_currency && c.fx_rate != Decimal::ONE {
        return Err("fx_rate must be 1 when both currencies are the same".into());
    }
    if c.max_amount_minor <= 0 {
        return Err("max_amount must be greater than zero".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn participant(network: &str, id: &str, currency: &str) -> RouteRecord {
        RouteRecord::Participant(Participant {
            network: network.into(),
            institution_id: id.into(),
            name: format!("Bank {id}"),
            bic: None,
            status: ParticipantStatus::Active,
            settlement_currency: currency.into(),
        })
    }

    pub(crate) fn corridor(from: &str, to: &str, src: &str, dst: &str, rate: &str, max: i64) -> RouteRecord {
        RouteRecord::Corridor(Corridor {
            from: from.into(),
            to: to.into(),
            enabled: true,
            source_currency: src.into(),
            destination_currency: dst.into(),
            fx_rate: rate.parse().unwrap(),
            max_amount_minor: max,
        })
    }

    fn sample() -> Vec<RouteRecord> {
        vec![
            participant("CN_IBPS", "102100099996", "CNY"),
            participant("CN_IBPS", "103100000026", "CNY"),
            participant("HK_FPS", "004", "HKD"),
            participant("HK_FPS", "012", "HKD"),
            corridor("CN_IBPS", "HK_FPS", "CNY", "HKD", "1.0845", 8_000_000),
            corridor("CN_IBPS", "HK_FPS", "CNY", "CNY", "1", 8_000_000).clone(),
        ]
    }

    fn cn() -> Agent {
        Agent::new("CN_IBPS", "102100099996")
    }
    fn hk() -> Agent {
        Agent::new("HK_FPS", "004")
    }

    #[test]
    fn overlapping_corridors_are_rejected() {
        let err = RoutingTable::compile(1, &sample()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].contains("overlaps"), "{err}");
    }

    fn table() -> RoutingTable {
        let mut rules = sample();
        rules.pop();
        rules.push(corridor("CN_IBPS", "HK_FPS", "HKD", "HKD", "1", 1_000_000));
        RoutingTable::compile(7, &rules).unwrap()
    }

    #[test]
    fn routes_with_fx_and_records_the_version_in_the_quote() {
        let t = table();
        let r = t.resolve(&cn(), &hk(), &Amount::new(10_000, "CNY")).unwrap();
        assert_eq!(r.credit_minor_units, 10_845);
        assert_eq!(r.creditor.institution_id, "004");
        assert_eq!(&*r.corridor.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@v7");
        assert_eq!(&*r.corridor.fx_rate_text, "1.0845");
        // Same corridor, paid in HKD: no conversion.
        let r = t.resolve(&cn(), &hk(), &Amount::new(10_000, "HKD")).unwrap();
        assert_eq!(r.credit_minor_units, 10_000);
    }

    #[test]
    fn rejections_carry_iso_codes_in_precedence_order() {
        let t = table();
        let unknown = Agent::new("HK_FPS", "999");
        let reject = |d: &Agent, c: &Agent, a: Amount| t.resolve(d, c, &a).unwrap_err();
        assert_eq!(
            reject(&unknown, &unknown, Amount::new(1, "CNY")),
            Rejection::UnknownDebtorAgent("HK_FPS/999".into())
        );
        assert_eq!(reject(&cn(), &unknown, Amount::new(1, "CNY")).reason_code(), "RC01");
        // Reverse direction has no corridor.
        assert_eq!(reject(&hk(), &cn(), Amount::new(1, "HKD")).reason_code(), "AG01");
        assert_eq!(reject(&cn(), &hk(), Amount::new(1, "USD")).reason_code(), "AM03");
        assert_eq!(
            reject(&cn(), &hk(), Amount::new(8_000_001, "CNY")),
            Rejection::AboveMaximum { amount: 8_000_001, max: 8_000_000 }
        );
        assert!(t.resolve(&cn(), &hk(), &Amount::new(8_000_000, "CNY")).is_ok());
    }

    #[test]
    fn suspended_and_closed_reject_with_ag01() {
        let mut rules = sample();
        rules.pop();
        if let RouteRecord::Participant(p) = &mut rules[2] {
            p.status = ParticipantStatus::Suspended;
        }
        let t = RoutingTable::compile(1, &rules).unwrap();
        assert_eq!(
            t.resolve(&cn(), &hk(), &Amount::new(1, "CNY")).unwrap_err(),
            Rejection::ParticipantSuspended("HK_FPS/004".into())
        );
        let mut rules = sample();
        rules.pop();
        if let RouteRecord::Corridor(c) = &mut rules[4] {
            c.enabled = false;
        }
        let t = RoutingTable::compile(1, &rules).unwrap();
        let r = t.resolve(&cn(), &Agent::new("HK_FPS", "012"), &Amount::new(1, "CNY")).unwrap_err();
        assert_eq!(r.reason_code(), "AG01");
        assert!(matches!(r, Rejection::CorridorClosed(_)));
    }

    #[test]
    fn invalid_rules_are_all_reported() {
        let rules = vec![
            participant("XX_NOWHERE", "1", "CNY"),
            participant("CN_IBPS", "12345", "CNY"),
            participant("HK_FPS", "004", "HKX"),
            corridor("CN_IBPS", "HK_FPS", "CNY", "HKD", "0", 1),
            corridor("CN_IBPS", "HK_FPS", "HKD", "HKD", "1.5", 1),
            corridor("CN_IBPS", "HK_FPS", "USD", "HKD", "7.8", 0),
        ];
        let err = RoutingTable::compile(1, &rules).unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
        assert!(err.problems[0].contains("unknown network"));
        assert!(err.problems[1].contains("12 digits"));
        assert!(err.problems[3].contains("greater than zero"));
    }

    proptest! {
        /// Whatever the amount, a route either succeeds within the cap or is rejected
        /// with AM02 above it: the cap check is exact at the boundary.
        #[test]
        fn cap_is_exact(amount in 1i64..20_000_000) {
            let t = table();
            let r = t.resolve(&cn(), &hk(), &Amount::new(amount, "CNY"));
            if amount <= 8_000_000 {
                prop_assert!(r.is_ok());
            } else {
                prop_assert_eq!(r.unwrap_err().reason_code(), "AM02");
            }
        }

        /// An unknown debtor is reported before anything about the creditor or corridor.
        #[test]
        fn debtor_checks_come_first(id in "[0-9]{3}", currency in "[A-Z]{3}") {
            prop_assume!(id != "004" && id != "012");
            let t = table();
            let r = t.resolve(&Agent::new("HK_FPS", id), &Agent::new("ZZ", "x"), &Amount::new(-5, currency));
            prop_assert!(matches!(r, Err(Rejection::UnknownDebtorAgent(_))));
        }
    }
}
