//! The records of the `interlink.routes` log. Values are JSON: this is a low-volume
//! control topic that operators inspect with ordinary Kafka tools.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Key of the change-set marker record.
pub const MARKER_KEY: &str = "__marker__";

/// A rule's identity in the compacted log: the latest value per key wins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKey {
    Participant { network: String, institution_id: String },
    Corridor { from: String, to: String, source_currency: String },
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Participant { network, institution_id } => write!(f, "participant/{network}/{institution_id}"),
            Self::Corridor { from, to, source_currency } => write!(f, "corridor/{from}/{to}/{source_currency}"),
        }
    }
}

impl std::str::FromStr for RouteKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            ["participant", n, i] if !n.is_empty() && !i.is_empty() => {
                Ok(Self::Participant { network: n.to_string(), institution_id: i.to_string() })
            }
            ["corridor", a, b, c] if !a.is_empty() && !b.is_empty() && !c.is_empty() => {
                Ok(Self::Corridor { from: a.to_string(), to: b.to_string(), source_currency: c.to_string() })
            }
            _ => Err(format!("{s:?} is not a route key (participant/NETWORK/ID or corridor/FROM/TO/CURRENCY)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    #[default]
    Active,
    Suspended,
}

/// An institution in one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub network: String,
    /// In the network's own scheme (CNAPS code, FPS clearing code, BIC, ...).
    pub institution_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default)]
    pub status: ParticipantStatus,
    pub settlement_currency: String,
}

/// A one-way path from one network to another for one source currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corridor {
    pub from: String,
    pub to: String,
    pub enabled: bool,
    /// The currency the debtor pays in.
    pub source_currency: String,
    /// The currency the creditor receives.
    pub destination_currency: String,
    /// Destination units per source unit, spread included.
    #[serde(with = "rust_decimal::serde::str")]
    pub fx_rate: Decimal,
    /// Per-transaction maximum in the source currency's minor units: the lower of the
    /// two networks' caps.
    pub max_amount_minor: i64,
}

impl Corridor {
    pub fn id(&self) -> String {
        format!("{}>{}:{}-{}", self.from, self.to, self.source_currency, self.destination_currency)
    }
}

/// Closes a change set: every rule since the previous marker becomes visible at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// Strictly increasing table version.
    pub version: i64,
    pub operator: String,
    pub reason: String,
    /// Microseconds since the Unix epoch.
    pub applied_at: i64,
    /// Number of rule records (upserts and deletions) in this change set.
    pub changes: u64,
}

/// A value in the routes log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteRecord {
    Participant(Participant),
    Corridor(Corridor),
}

impl RouteRecord {
    pub fn key(&self) -> RouteKey {
        match self {
            Self::Participant(p) => {
                RouteKey::Participant { network: p.network.clone(), institution_id: p.institution_id.clone() }
            }
            Self::Corridor(c) => RouteKey::Corridor {
                from: c.from.clone(),
                to: c.to.clone(),
                source_currency: c.source_currency.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text() {
        for k in [
            RouteKey::Participant { network: "CN_IBPS".into(), institution_id: "102100099996".into() },
            RouteKey::Corridor { from: "CN_IBPS".into(), to: "HK_FPS".into(), source_currency: "CNY".into() },
        ] {
            assert_eq!(k.to_string().parse::<RouteKey>().unwrap(), k);
        }
        assert!("participant/CN_IBPS".parse::<RouteKey>().is_err());
        assert!("corridor//HK/CNY".parse::<RouteKey>().is_err());
    }

    #[test]
    fn record_json_is_tagged_and_strict() {
        let json = r#"{"kind":"participant","network":"HK_FPS","institution_id":"004","name":"HSBC","settlement_currency":"HKD"}"#;
        let r: RouteRecord = serde_json::from_str(json).unwrap();
        assert_eq!(r.key().to_string(), "participant/HK_FPS/004");
        let bad = r#"{"kind":"participant","network":"HK_FPS","institution_id":"004","name":"HSBC","settlement_currency":"HKD","colour":"red"}"#;
        assert!(serde_json::from_str::<RouteRecord>(bad).is_err());
    }
}
