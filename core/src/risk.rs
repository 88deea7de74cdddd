//! What the risk controls ([`limits`](crate::limits), [`blocks`](crate::blocks)) hand
//! the pipeline when they refuse a payment: the control, the rule, the reason its debtor
//! is told, and the explanation that goes both into that notification and into the
//! `RiskAlert` for the regulator's feed.

use interlink_schemas::RiskControl;
use interlink_vocab::IsoReason;

/// A payment a risk control refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRefusal {
    pub control: RiskControl,
    /// The rule that decided: a limit id, a block key, a sanctions list entry id.
    pub rule: String,
    pub reason: IsoReason,
    /// The rule, its table version, the figures it saw and the threshold; accounts and
    /// aliases masked, names never.
    pub text: String,
    /// Held for an operator's review rather than refused at once (an anomaly rule whose
    /// action is `hold`, a sanctions hit under `risk.screening_action = "hold"`): refused
    /// with `reason` only if the review refuses it or does not come in time.
    pub for_review: bool,
}

impl RiskRefusal {
    /// A refusal, at once.
    pub fn new(control: RiskControl, rule: impl Into<String>, reason: IsoReason, text: String) -> Self {
        Self { control, rule: rule.into(), reason, text, for_review: false }
    }
}
