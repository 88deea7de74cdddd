//! Block lists: institutions, accounts, aliases and QR merchants that no payment may
//! come from or go to. They are rules of the routing log, so a block (or its lifting)
//! reaches every worker at one table version, with its operator and reason in the
//! audit trail, like any routing change.

use crate::table::{invalid, RuleError};
use interlink_vocab::IsoReason;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a block names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// A participant, by its id in its network.
    Institution,
    /// An account, by its id, at any institution of the network.
    Account,
    /// A proxy (`SCHEME:value`, as `MOBILE:+85291234567`) in the network that resolves it.
    Alias,
    /// A QR merchant, by the merchant account its codes carry, in the merchant's network.
    QrMerchant,
}

impl BlockKind {
    pub const ALL: [BlockKind; 4] = [Self::Institution, Self::Account, Self::Alias, Self::QrMerchant];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Institution => "institution",
            Self::Account => "account",
            Self::Alias => "alias",
            Self::QrMerchant => "qr_merchant",
        }
    }

    /// The reason a payer is told: a regulatory refusal for a blocked institution, a
    /// blocked account for the others.
    pub fn reason(&self) -> IsoReason {
        match self {
            Self::Institution => IsoReason::RR04,
            Self::Account | Self::Alias | Self::QrMerchant => IsoReason::AC06,
        }
    }
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BlockKind {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| invalid("kind", format!("{s:?} is not institution, account, alias or qr_merchant")))
    }
}

/// One blocked institution, account, alias or QR merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// What it names (`target`, since the routes log tags its records by `kind`).
    pub target: BlockKind,
    pub network: String,
    pub value: String,
    /// Why (a case number, a regulator's notice): shown in refusals and the audit trail.
    pub reason: String,
}

pub(crate) fn check_block(b: &Block) -> Result<(), RuleError> {
    crate::table::known_network(&b.network)?;
    if b.value.trim().is_empty() || b.value.chars().count() > 140 {
        return Err(invalid("value", "must have 1 to 140 characters"));
    }
    if b.target == BlockKind::Alias && !b.value.split_once(':').is_some_and(|(s, v)| !s.is_empty() && !v.is_empty()) {
        return Err(invalid("value", format!("{:?}: an alias is SCHEME:value", b.value)));
    }
    if b.target == BlockKind::Institution {
        let network =
            interlink_connectors::network(&b.network).ok_or_else(|| RuleError::UnknownNetwork(b.network.clone()))?;
        network.validate_participant_id(&b.value)?;
    }
    if b.reason.trim().is_empty() {
        return Err(invalid("reason", "must say why"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: BlockKind, value: &str) -> Block {
        Block { target: kind, network: "HK_FPS".into(), value: value.into(), reason: "case 42".into() }
    }

    #[test]
    fn a_block_survives_the_routes_log_json() {
        let record = crate::RouteRecord::Block(block(BlockKind::Account, "004-1"));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"block","target":"account","network":"HK_FPS","value":"004-1","reason":"case 42"}"#
        );
        assert_eq!(serde_json::from_str::<crate::RouteRecord>(&json).unwrap(), record);
    }

    #[test]
    fn blocks_are_checked() {
        assert!(check_block(&block(BlockKind::Institution, "004")).is_ok());
        assert!(check_block(&block(BlockKind::Institution, "4")).is_err(), "an FPS id has 3 digits");
        assert!(check_block(&block(BlockKind::Alias, "MOBILE:+85291234567")).is_ok());
        assert!(check_block(&block(BlockKind::Alias, "+85291234567")).is_err());
        assert!(check_block(&Block { reason: " ".into(), ..block(BlockKind::Account, "1") }).is_err());
        assert!(check_block(&Block { network: "MARS".into(), ..block(BlockKind::Account, "1") }).is_err());
        for kind in BlockKind::ALL {
            assert_eq!(kind.as_str().parse::<BlockKind>().unwrap(), kind);
        }
        assert!("everything".parse::<BlockKind>().is_err());
    }
}
