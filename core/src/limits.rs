//! Per-person corridor limits, decided on the keyed state of the person's partition.
//!
//! A request that names its debtor ([`PersonId`]) is keyed by the person's key, so all
//! of one person's requests (and their duplicate checks) meet in one partition, whose
//! state holds the person's [`Usage`] of each limit in each period. A payment counts
//! when it is decided (settled, or sent to its network), in the same transaction as
//! its outputs; one that its network refuses, that times out, or that comes back gives
//! its count back through a [`LimitRelease`] to that partition.
//!
//! [`PersonId`]: interlink_schemas::PersonId

use crate::memory::{Counted, LimitHold, LimitRelease, Memory, MemoryError, Usage, UsageKey};
use crate::pipeline::{OutputRecord, OutputTopic};
use interlink_routing::{CompiledLimit, Route, RoutingTable};
use interlink_schemas::AuthorizationRequest;
use interlink_vocab::money::format_minor;
use interlink_vocab::IsoReason;

/// How long a usage is kept past its period's end: releases of payments decided near
/// the end still find it, and a request stamped just before midnight is still counted
/// in its own day.
const USAGE_MARGIN_MICROS: i64 = 2 * 86_400_000_000;

/// Why a payment is refused by its debtor's limits: the reason its debtor is told and
/// a text naming the rule and the figures it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRefusal {
    pub reason: IsoReason,
    pub text: String,
}

/// The outcome of checking a routed payment against its corridor's limits.
#[derive(Debug, Default)]
pub struct LimitCheck {
    /// The usage records to write if the payment goes ahead (nothing without limits).
    pub writes: Vec<OutputRecord>,
    /// What the payment counted, for a release if it does not settle.
    pub hold: Option<LimitHold>,
}

/// Checks a routed payment against every limit on its corridor, as of the request's
/// creation time (the payer's moment, which must be within `max_clock_skew` µs of
/// `now`). Within all of them: the usages it would write. Reads only the person's
/// partition (`memory`).
pub fn check(
    table: &RoutingTable,
    route: &Route<'_>,
    request: &AuthorizationRequest,
    now: i64,
    max_clock_skew: i64,
    memory: &dyn Memory,
) -> Result<Result<LimitCheck, LimitRefusal>, MemoryError> {
    let limits = table.limits(&route.debtor.network, &route.creditor.network);
    if limits.is_empty() {
        return Ok(Ok(LimitCheck::default()));
    }
    let refuse = |reason: IsoReason, text: String| Ok(Err(LimitRefusal { reason, text }));
    let Some(person) = &request.debtor_id else {
        let ids: Vec<&str> = limits.iter().map(|l| l.rule.id.as_str()).collect();
        return refuse(
            IsoReason::RR01,
            format!(
                "payments from {} to {} count against per-person limits ({}): the request must name its debtor (debtor_id, AuthorizationRequest v2)",
                route.debtor.network,
                route.creditor.network,
                ids.join(", ")
            ),
        );
    };
    let skew = request.created_at.abs_diff(now);
    if skew > max_clock_skew.unsigned_abs() {
        return refuse(
            IsoReason::DT01,
            format!(
                "created_at is {} s from the switch's clock (at most {} s): limits count by the payer's time, so it must be current",
                skew / 1_000_000,
                max_clock_skew / 1_000_000
            ),
        );
    }
    let person_key = person.person_key();
    let mut check = LimitCheck::default();
    let mut counted = Vec::with_capacity(limits.len());
    for limit in limits {
        let amount = match table.limit_amount(limit, route, request.amount.minor_units) {
            Ok(a) => a,
            Err(e) => return refuse(e.reason(), format!("limit {}: {e}", limit.rule.id)),
        };
        let period = limit.period_of(request.created_at);
        let key = UsageKey::new(&person_key, &limit.rule.id, &period.label, &limit.rule.currency);
        let used = match memory.get(key.as_bytes())? {
            Some(value) => Usage::decode(&value)?,
            None => Usage { used_minor: 0, payments: 0, expires_at: 0 },
        };
        let total = used.used_minor.saturating_add(amount);
        if total > limit.rule.max_amount_minor {
            return refuse(IsoReason::AM14, exceeded(limit, &period.label, amount, &used, table.version()));
        }
        let usage = Usage {
            used_minor: total,
            payments: used.payments.saturating_add(1),
            // Kept past the period's end, and never less than the margin from now (a
            // request stamped in an earlier period, within the allowed skew, still
            // leaves a usage that later requests of that period meet).
            expires_at: period.ends_at.max(now).saturating_add(USAGE_MARGIN_MICROS),
        };
        check.writes.push(state(key.as_bytes(), Some(usage.encode()?)));
        counted.push(Counted { usage_key: key.as_bytes().to_vec(), amount_minor: amount });
    }
    check.hold = Some(LimitHold { person_key, counted });
    Ok(Ok(check))
}

fn exceeded(limit: &CompiledLimit, period: &str, amount: i64, used: &Usage, version: i64) -> String {
    let currency = &limit.rule.currency;
    let money =
        |minor: i64| format!("{currency} {}", format_minor(minor, currency).unwrap_or_else(|_| minor.to_string()));
    format!(
        "limit {} (routing v{version}): this payment counts {} and the debtor has used {} in {} payments of period {period} ({}), over its {}",
        limit.rule.id,
        money(amount),
        money(used.used_minor),
        used.payments,
        limit.rule.time_zone,
        money(limit.rule.max_amount_minor)
    )
}

fn state(key: &[u8], payload: Option<Vec<u8>>) -> OutputRecord {
    OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload }
}

/// The release of `hold` (all of it, or the share `part / whole` of a partial return),
/// as a record for the person's partition.
pub fn release_record(
    hold: &LimitHold,
    transaction_id: &str,
    because: &str,
    part: i64,
    whole: i64,
) -> Result<OutputRecord, MemoryError> {
    let share =
        |amount: i64| i64::try_from(i128::from(amount) * i128::from(part) / i128::from(whole.max(1))).unwrap_or(amount);
    let release = LimitRelease {
        transaction_id: transaction_id.to_string(),
        counted: hold
            .counted
            .iter()
            .map(|c| Counted { usage_key: c.usage_key.clone(), amount_minor: share(c.amount_minor) })
            .collect(),
        because: because.to_string(),
    };
    Ok(OutputRecord {
        topic: OutputTopic::Forwards,
        key: Some(hold.person_key.as_bytes().to_vec()),
        payload: Some(release.encode()?),
    })
}

/// Gives back what a payment counted, at the person's partition. A usage already
/// forgotten (its period long over) has nothing to give back.
pub fn apply_release(
    release: &LimitRelease,
    memory: &dyn Memory,
    out: &mut Vec<OutputRecord>,
) -> Result<u32, MemoryError> {
    let mut released = 0;
    for c in &release.counted {
        let Some(value) = memory.get(&c.usage_key)? else { continue };
        let mut usage = Usage::decode(&value)?;
        usage.used_minor = usage.used_minor.saturating_sub(c.amount_minor).max(0);
        usage.payments = usage.payments.saturating_sub(1);
        out.push(state(&c.usage_key, Some(usage.encode()?)));
        released += 1;
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::StoreKind;

    #[test]
    fn a_release_gives_back_its_share_and_never_goes_below_zero() {
        let key = UsageKey::new("p", "daily", "2026-12-01", "HKD");
        assert_eq!(StoreKind::of_key(key.as_bytes()), Some(StoreKind::Usage));
        let hold = LimitHold {
            person_key: "p".into(),
            counted: vec![Counted { usage_key: key.as_bytes().to_vec(), amount_minor: 400_000 }],
        };
        let half = release_record(&hold, "tx", "returned", 50, 100).unwrap();
        assert_eq!(half.key.as_deref(), Some(&b"p"[..]));
        let decoded = LimitRelease::decode(half.payload.as_deref().unwrap()).unwrap().unwrap();
        assert_eq!(decoded.counted[0].amount_minor, 200_000);

        struct One(Vec<u8>, Vec<u8>);
        impl Memory for One {
            fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MemoryError> {
                Ok((key == self.0).then(|| self.1.clone()))
            }
        }
        let usage = Usage { used_minor: 100_000, payments: 2, expires_at: 9 };
        let memory = One(key.as_bytes().to_vec(), usage.encode().unwrap());
        let mut out = Vec::new();
        assert_eq!(apply_release(&decoded, &memory, &mut out).unwrap(), 1);
        let after = Usage::decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((after.used_minor, after.payments, after.expires_at), (0, 1, 9));
        let mut none = Vec::new();
        assert_eq!(apply_release(&decoded, &crate::memory::Forgetful, &mut none).unwrap(), 0);
        assert!(none.is_empty());
    }
}
