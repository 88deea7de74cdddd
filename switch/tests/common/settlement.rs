//! What the settlement tests share: schemes that close where a test wants, and the
//! positions of a cycle recomputed from clearing records alone.

use interlink_routing::{RouteRecord, SettlementScheme};
use interlink_schemas::ClearingRecord;
use std::collections::BTreeMap;

/// The sample table's settlement currencies.
pub const CURRENCIES: [&str; 10] = ["BRL", "CNY", "EUR", "HKD", "IDR", "INR", "MYR", "SGD", "THB", "USD"];

/// A scheme closing at midnight every day in `time_zone`, and at the operators'
/// cut-offs `manual`.
pub fn scheme(currency: &str, time_zone: &str, manual: Vec<String>) -> RouteRecord {
    RouteRecord::Settlement(SettlementScheme {
        currency: currency.into(),
        time_zone: time_zone.into(),
        cut_offs: vec!["00:00".into()],
        every_minutes: None,
        business_days: serde_json::from_str(r#"["mon","tue","wed","thu","fri","sat","sun"]"#).unwrap(),
        holidays: vec![],
        fx_participant: None,
        manual_cut_offs: manual,
    })
}

/// The sample table without its own schemes.
pub fn sample_rules_unsettled() -> Vec<RouteRecord> {
    let mut rules = super::sample_rules();
    rules.retain(|r| !matches!(r, RouteRecord::Settlement(_)));
    rules
}

/// The sample table with a scheme per currency instead of its own: midnight UTC, and
/// an operator's cut-off at `cut_off`.
pub fn rules_closing_at(cut_off: jiff::Timestamp) -> Vec<RouteRecord> {
    let mut rules = sample_rules_unsettled();
    rules.extend(CURRENCIES.iter().map(|c| scheme(c, "UTC", vec![cut_off.to_string()])));
    rules
}

/// (cycle, network, institution) -> (debited, credited, debits, credits).
pub type Positions = BTreeMap<(String, String, String), (i64, i64, i64, i64)>;

/// The positions of every cycle, from clearing records alone: each leg against the
/// other party, or the switch's FX account.
pub fn recompute(clearing: &[ClearingRecord]) -> Positions {
    let mut positions = Positions::new();
    let mut book = |cycle: &Option<String>, who: (&str, &str), debit: i64, credit: i64| {
        let cycle = cycle.clone().expect("every currency has a scheme: every leg names its cycle");
        let e = positions.entry((cycle, who.0.to_string(), who.1.to_string())).or_default();
        e.0 += debit;
        e.1 += credit;
        e.2 += i64::from(debit > 0);
        e.3 += i64::from(credit > 0);
    };
    for c in clearing {
        let debtor = (c.debtor_agent.network.as_str(), c.debtor_agent.institution_id.as_str());
        let creditor = (c.creditor_agent.network.as_str(), c.creditor_agent.institution_id.as_str());
        let (debit, credit) = (c.debit_amount.minor_units, c.credit_amount.minor_units);
        book(&c.debit_settlement_cycle, debtor, debit, 0);
        book(&c.credit_settlement_cycle, creditor, 0, credit);
        if c.debit_amount.currency != c.credit_amount.currency {
            book(&c.debit_settlement_cycle, ("INTERLINK", "FX"), 0, debit);
            book(&c.credit_settlement_cycle, ("INTERLINK", "FX"), credit, 0);
        } else if debit != credit {
            let (d, cr) = if debit > credit { (0, debit - credit) } else { (credit - debit, 0) };
            book(&c.debit_settlement_cycle, ("INTERLINK", "FX"), d, cr);
        }
    }
    positions
}

/// Whether either leg of `c` is netted in `cycle`.
pub fn in_cycle(c: &ClearingRecord, cycle: &str) -> bool {
    c.debit_settlement_cycle.as_deref() == Some(cycle) || c.credit_settlement_cycle.as_deref() == Some(cycle)
}
