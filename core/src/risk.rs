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
}
