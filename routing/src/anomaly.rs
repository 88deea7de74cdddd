//! Anomaly rules. On one debtor's payments: a payment far above what its debtor usually
//! pays, or the first payment to a creditor the debtor has not paid before; the decision
//! core keeps each debtor's profile in the state of the debtor's partition. On one
//! creditor's incoming payments: many debtors paying a new creditor in a short time (the
//! mule pattern), or more payments to a creditor in a window than a cap; kept in the
//! state of the creditor's partition, which sees a payment after its debtor's partition
//! decided it, so these rules alert. Like limits they are rules of the routing table
//! (per corridor, in a currency of their own).

use crate::table::{invalid, RuleError};
use interlink_vocab::money::currency_exponent;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The pattern an anomaly rule looks for in one debtor's payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyPattern {
    /// An amount above the debtor's decayed mean plus `deviations` times the decayed
    /// standard deviation of the debtor's accepted amounts.
    AmountAboveUsual,
    /// A payment to a creditor the debtor has not paid in the last `retention_days`.
    NewCreditor,
    /// At least `min_debtors` different debtors paying one creditor within
    /// `window_seconds`, the creditor first paid (as the rule saw it) within
    /// `new_for_days`: the mule pattern. Judged at the creditor's partition.
    ManyDebtors,
    /// More than `max_payments` payments, or more than `max_amount` in all, to one
    /// creditor within `window_seconds`. Judged at the creditor's partition.
    CreditorVelocity,
    /// The same, from one payer's device (the request's `device_id`). Judged at the
    /// device's partition.
    DeviceVelocity,
}

/// Whose payments a pattern looks at, and so which partition judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Watched {
    /// The debtor's own payments, at the debtor's partition, before the payment is decided.
    Debtor,
    /// A creditor's incoming payments, at the creditor's partition, after.
    Creditor,
    /// A device's payments, at the device's partition, after.
    Device,
}

impl AnomalyPattern {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AmountAboveUsual => "amount_above_usual",
            Self::NewCreditor => "new_creditor",
            Self::ManyDebtors => "many_debtors",
            Self::CreditorVelocity => "creditor_velocity",
            Self::DeviceVelocity => "device_velocity",
        }
    }

    pub fn watched(self) -> Watched {
        match self {
            Self::AmountAboveUsual | Self::NewCreditor => Watched::Debtor,
            Self::ManyDebtors | Self::CreditorVelocity => Watched::Creditor,
            Self::DeviceVelocity => Watched::Device,
        }
    }

    /// Judged elsewhere than at the debtor's partition, after the payment was decided
    /// there: such a rule can only alert.
    pub fn judged_after(self) -> bool {
        self.watched() != Watched::Debtor
    }
}

/// What the switch does with a payment a rule fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyAction {
    /// Refuse it (FRAD), explained on the alerts topic.
    Refuse,
    /// Let it go ahead and explain it on the alerts topic (ALERTED) for a person to look at.
    Alert,
    /// Hold it for an operator's review (HELD; the debtor is told PDNG): approved, it goes
    /// ahead; refused, or not reviewed within the switch's review timeout, it is refused (FRAD).
    Hold,
}

/// Most a rule asks for in deviations: beyond that the rule could never fire in practice.
const MAX_DEVIATIONS: u32 = 100;
/// Most payments a rule waits for before judging a debtor.
const MAX_MIN_PAYMENTS: u32 = 1_000;
/// Longest half-life (in payments) of the decayed mean and deviation.
const MAX_HALF_LIFE: u32 = 10_000;
/// Longest a new-creditor rule remembers a creditor: ten years.
const MAX_RETENTION_DAYS: u32 = 3_660;
/// Most debtors a `many_debtors` rule counts to, and payments a `creditor_velocity` rule
/// allows in its window: each is a line of the creditor's state.
pub const MAX_CREDITOR_COUNT: u32 = 1_000;
/// Longest window of a creditor rule: 30 days.
const MAX_WINDOW_SECONDS: u32 = 30 * 86_400;

/// An anomaly rule on one debtor's payments from one network to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anomaly {
    /// Names the rule in alerts and refusals (`big-payment-north`).
    pub id: String,
    /// The debtor's network.
    pub from: String,
    /// The creditor's network.
    pub to: String,
    pub pattern: AnomalyPattern,
    pub action: AnomalyAction,
    /// The currency the rule sees amounts in; payments in another are converted at the
    /// table's rates, as limits are.
    pub currency: String,
    /// The rule never fires on a payment at or below this amount (the floor, or the
    /// threshold of a new creditor): small payments are not worth anyone's review. At
    /// least one minor unit, as every amount in the file.
    pub min_amount_minor: i64,
    /// `amount_above_usual`: how many deviations above the mean fire (`k`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    pub deviations: Option<Decimal>,
    /// `amount_above_usual`: payments observed before the debtor's usual is trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_payments: Option<u32>,
    /// `amount_above_usual`: after this many payments a payment's weight in the mean
    /// and deviation has halved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_payments: Option<u32>,
    /// `new_creditor`: how long a paid creditor stays known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// `many_debtors`: how many different debtors in the window fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_debtors: Option<u32>,
    /// `many_debtors`, `creditor_velocity`: the sliding window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u32>,
    /// `many_debtors`: for how long after its first payment a creditor counts as new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_for_days: Option<u32>,
    /// `creditor_velocity`: the most payments in the window that do not fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payments: Option<u32>,
    /// `creditor_velocity`: the most the creditor may receive in the window (in the
    /// rule's currency's minor units) without firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount_minor: Option<i64>,
}

/// A rule with its figures ready for the hot path.
#[derive(Debug, Clone)]
pub struct CompiledAnomaly {
    pub rule: Anomaly,
    /// `amount_above_usual`: the deviations, and the weight of each new payment in the
    /// decayed statistics (`1 - 2^(-1/half_life)`).
    pub deviations: f64,
    pub alpha: f64,
    /// `new_creditor`: the retention in µs.
    pub retention_micros: i64,
}

impl CompiledAnomaly {
    pub fn compile(rule: &Anomaly) -> Result<Self, RuleError> {
        check_anomaly(rule)?;
        let deviations = rule.deviations.and_then(|d| d.to_f64()).unwrap_or(0.0);
        let alpha = rule.half_life_payments.map_or(0.0, |h| 1.0 - 0.5f64.powf(1.0 / f64::from(h)));
        let retention_micros = i64::from(rule.retention_days.unwrap_or(0)) * 86_400_000_000;
        Ok(Self { rule: rule.clone(), deviations, alpha, retention_micros })
    }
}

/// A pattern's setting, and whether the rule sets it.
type Setting = (&'static str, bool);

/// Checks a rule on its own: a name, known networks, an ISO currency, a positive floor, and exactly the settings its pattern uses, each in a sensible range.
pub(crate) fn check_anomaly(a: &Anomaly) -> Result<(), RuleError> {
    if a.id.is_empty() || a.id.len() > 64 || !a.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(invalid("id", format!("{:?} must be 1 to 64 letters, digits, '-', '_' or '.'", a.id)));
    }
    crate::table::known_network(&a.from)?;
    crate::table::known_network(&a.to)?;
    currency_exponent(&a.currency).map_err(|source| RuleError::Money { field: "currency", source })?;
    if a.min_amount_minor <= 0 {
        return Err(invalid("min_amount", format!("must be greater than zero, got {}", a.min_amount_minor)));
    }
    // A setting of another pattern is a mistake the operator should hear of, not a
    // value silently ignored.
    let settings: [Setting; 9] = [
        ("deviations", a.deviations.is_some()),
        ("min_payments", a.min_payments.is_some()),
        ("half_life_payments", a.half_life_payments.is_some()),
        ("retention_days", a.retention_days.is_some()),
        ("min_debtors", a.min_debtors.is_some()),
        ("window_seconds", a.window_seconds.is_some()),
        ("new_for_days", a.new_for_days.is_some()),
        ("max_payments", a.max_payments.is_some()),
        ("max_amount", a.max_amount_minor.is_some()),
    ];
    // What the pattern needs, and what it may also take (at least one of them).
    let (needed, either): (&[&str], &[&str]) = match a.pattern {
        AnomalyPattern::AmountAboveUsual => (&["deviations", "min_payments", "half_life_payments"], &[]),
        AnomalyPattern::NewCreditor => (&["retention_days"], &[]),
        AnomalyPattern::ManyDebtors => (&["min_debtors", "window_seconds", "new_for_days"], &[]),
        AnomalyPattern::CreditorVelocity | AnomalyPattern::DeviceVelocity => {
            (&["window_seconds"], &["max_payments", "max_amount"])
        }
    };
    let pattern = a.pattern.as_str();
    if let Some((field, _)) = settings.iter().find(|(f, set)| needed.contains(f) && !set) {
        return Err(invalid(field, format!("is needed by the {pattern} pattern")));
    }
    if let Some((field, _)) = settings.iter().find(|(f, set)| !needed.contains(f) && !either.contains(f) && *set) {
        return Err(invalid(field, format!("is not used by the {pattern} pattern")));
    }
    if !either.is_empty() && !settings.iter().any(|(f, set)| either.contains(f) && *set) {
        return Err(invalid(either[0], format!("or {} is needed by the {pattern} pattern", either[1..].join(" or "))));
    }
    if a.max_amount_minor.is_some_and(|m| m <= 0) {
        return Err(invalid("max_amount", "must be greater than zero"));
    }
    if a.pattern.judged_after() && a.action != AnomalyAction::Alert {
        let at = match a.pattern.watched() {
            Watched::Device => "the device's partition",
            Watched::Creditor | Watched::Debtor => "the creditor's partition",
        };
        return Err(invalid(
            "action",
            format!(
                "the {pattern} pattern can only alert: it is judged at {at}, after the payment was decided at its debtor's"
            ),
        ));
    }
    if let Some(k) = a.deviations {
        if k <= Decimal::ZERO || k > Decimal::from(MAX_DEVIATIONS) {
            return Err(invalid("deviations", format!("must be above 0 and at most {MAX_DEVIATIONS}, got {k}")));
        }
    }
    let within = |field: &'static str, value: Option<u32>, max: u32| match value {
        Some(v) if !(1..=max).contains(&v) => Err(invalid(field, format!("must be 1 to {max}, got {v}"))),
        _ => Ok(()),
    };
    within("min_payments", a.min_payments, MAX_MIN_PAYMENTS)?;
    within("half_life_payments", a.half_life_payments, MAX_HALF_LIFE)?;
    within("retention_days", a.retention_days, MAX_RETENTION_DAYS)?;
    within("new_for_days", a.new_for_days, MAX_RETENTION_DAYS)?;
    within("window_seconds", a.window_seconds, MAX_WINDOW_SECONDS)?;
    within("max_payments", a.max_payments, MAX_CREDITOR_COUNT)?;
    match a.min_debtors {
        Some(n) if !(2..=MAX_CREDITOR_COUNT).contains(&n) => {
            Err(invalid("min_debtors", format!("must be 2 to {MAX_CREDITOR_COUNT}, got {n}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn amount_rule() -> Anomaly {
        Anomaly {
            id: "big".into(),
            from: "HK_FPS".into(),
            to: "CN_IBPS".into(),
            pattern: AnomalyPattern::AmountAboveUsual,
            action: AnomalyAction::Alert,
            currency: "HKD".into(),
            min_amount_minor: 100_000,
            deviations: Some(Decimal::from(6)),
            min_payments: Some(10),
            half_life_payments: Some(20),
            retention_days: None,
            min_debtors: None,
            window_seconds: None,
            new_for_days: None,
            max_payments: None,
            max_amount_minor: None,
        }
    }

    #[test]
    fn the_decay_halves_a_payments_weight_after_the_half_life() {
        let c = CompiledAnomaly::compile(&amount_rule()).unwrap();
        assert!(((1.0 - c.alpha).powi(20) - 0.5).abs() < 1e-12, "{}", c.alpha);
        assert_eq!(c.deviations, 6.0);
    }

    #[test]
    fn each_pattern_takes_exactly_its_own_settings() {
        assert!(check_anomaly(&amount_rule()).is_ok());
        let err = |a: Anomaly| check_anomaly(&a).unwrap_err().to_string();
        assert!(err(Anomaly { deviations: None, ..amount_rule() })
            .contains("deviations is needed by the amount_above_usual pattern"));
        assert!(err(Anomaly { retention_days: Some(90), ..amount_rule() })
            .contains("retention_days is not used by the amount_above_usual pattern"));
        let creditor = Anomaly {
            pattern: AnomalyPattern::NewCreditor,
            deviations: None,
            min_payments: None,
            half_life_payments: None,
            retention_days: Some(90),
            ..amount_rule()
        };
        assert!(check_anomaly(&creditor).is_ok());
        assert!(err(Anomaly { min_payments: Some(3), ..creditor.clone() })
            .contains("min_payments is not used by the new_creditor pattern"));
        assert!(err(Anomaly { retention_days: Some(0), ..creditor.clone() }).contains("must be 1 to 3660"));
        assert!(err(Anomaly { deviations: Some(Decimal::ZERO), ..amount_rule() }).contains("must be above 0"));
        assert!(err(Anomaly { min_amount_minor: -1, ..amount_rule() }).contains("min_amount must be greater than zero"));
        assert!(err(Anomaly { id: "a b".into(), ..amount_rule() }).contains("must be 1 to 64"));
        assert!(err(Anomaly { currency: "XXQ".into(), ..amount_rule() }).contains("currency"));
    }

    #[test]
    fn creditor_patterns_take_their_own_settings_and_only_alert() {
        let mule = Anomaly {
            pattern: AnomalyPattern::ManyDebtors,
            deviations: None,
            min_payments: None,
            half_life_payments: None,
            min_debtors: Some(5),
            window_seconds: Some(3_600),
            new_for_days: Some(7),
            ..amount_rule()
        };
        assert!(check_anomaly(&mule).is_ok());
        let err = |a: Anomaly| check_anomaly(&a).unwrap_err().to_string();
        assert!(
            err(Anomaly { new_for_days: None, ..mule.clone() }).contains("new_for_days is needed by the many_debtors")
        );
        assert!(err(Anomaly { max_payments: Some(3), ..mule.clone() })
            .contains("max_payments is not used by the many_debtors"));
        assert!(err(Anomaly { min_debtors: Some(1), ..mule.clone() }).contains("min_debtors must be 2 to 1000, got 1"));
        assert!(err(Anomaly { action: AnomalyAction::Refuse, ..mule.clone() }).contains("can only alert"));
        let velocity = Anomaly {
            pattern: AnomalyPattern::CreditorVelocity,
            min_debtors: None,
            new_for_days: None,
            max_payments: Some(20),
            ..mule
        };
        assert!(check_anomaly(&velocity).is_ok());
        assert!(err(Anomaly { window_seconds: Some(0), ..velocity.clone() })
            .contains("window_seconds must be 1 to 2592000"));
        assert!(err(Anomaly { action: AnomalyAction::Hold, ..velocity.clone() })
            .contains("creditor_velocity pattern can only alert"));
        let by_amount = Anomaly { max_payments: None, max_amount_minor: Some(1_000_000), ..velocity.clone() };
        assert!(check_anomaly(&by_amount).is_ok());
        assert!(err(Anomaly { max_payments: None, ..velocity.clone() })
            .contains("max_payments or max_amount is needed by the creditor_velocity pattern"));
        let mule = Anomaly {
            pattern: AnomalyPattern::ManyDebtors,
            min_debtors: Some(5),
            new_for_days: Some(7),
            max_payments: None,
            max_amount_minor: Some(5),
            ..velocity
        };
        assert!(err(mule).contains("max_amount is not used by the many_debtors"));
        let device = Anomaly { pattern: AnomalyPattern::DeviceVelocity, max_payments: Some(20), ..by_amount.clone() };
        assert!(check_anomaly(&device).is_ok());
        assert_eq!(device.pattern.watched(), Watched::Device);
        assert!(err(Anomaly { action: AnomalyAction::Refuse, ..device })
            .contains("device_velocity pattern can only alert: it is judged at the device's partition"));
    }
}
