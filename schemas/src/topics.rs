//! The topics of Interlink's event contract: where each kind of record is written.
//! Producers, the switch and the verifier all name topics through this one struct.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
/// Topic names (configurable; the defaults are `interlink.*`).
pub struct TopicsConfig {
    pub requests: String,
    pub clearing: String,
    pub notifications: String,
    pub dead_letters: String,
    pub routes: String,
    /// Who changed the routing table, when, why and what (never compacted).
    pub routes_audit: String,
    /// The switch's repartition topic: payments on their way to a connected network,
    /// keyed by wire id (partitioned like `requests`).
    pub forwards: String,
    /// Prefix of the per-network topics: `<prefix><network>.out` and `.in`.
    pub network_prefix: String,
    /// The switch's keyed state (compacted changelog, partitioned like `requests`).
    pub state: String,
    /// Returns (pacs.004) the switch sent networks for payments settled after their deadline.
    pub returns: String,
    /// Risk decisions, explained (`RiskAlert`): a regulator's feed, a case-management tool.
    pub risk_alerts: String,
    /// Closed netting cycles (`SettlementRecord`): net positions and cycle summaries.
    pub settlement: String,
}

impl Default for TopicsConfig {
    fn default() -> Self {
        Self {
            requests: "interlink.auth.requests".into(),
            clearing: "interlink.clearing".into(),
            notifications: "interlink.notifications".into(),
            dead_letters: "interlink.dlq".into(),
            routes: "interlink.routes".into(),
            routes_audit: "interlink.routes.audit".into(),
            forwards: "interlink.switch.forwards".into(),
            network_prefix: "interlink.net.".into(),
            state: "interlink.switch.state".into(),
            returns: "interlink.returns".into(),
            risk_alerts: "interlink.risk.alerts".into(),
            settlement: "interlink.settlement".into(),
        }
    }
}

impl TopicsConfig {
    /// Every topic with the same names under `prefix` (tests use random prefixes).
    pub fn with_prefix(prefix: &str) -> Self {
        let d = Self::default();
        let p = |t: String| format!("{prefix}{t}");
        Self {
            requests: p(d.requests),
            clearing: p(d.clearing),
            notifications: p(d.notifications),
            dead_letters: p(d.dead_letters),
            routes: p(d.routes),
            routes_audit: p(d.routes_audit),
            forwards: p(d.forwards),
            network_prefix: p(d.network_prefix),
            state: p(d.state),
            returns: p(d.returns),
            risk_alerts: p(d.risk_alerts),
            settlement: p(d.settlement),
        }
    }
}

impl TopicsConfig {
    /// Where payments to `network` leave (`interlink.net.hk_fps.out`).
    pub fn network_out(&self, network: &str) -> String {
        format!("{}{}.out", self.network_prefix, network.to_ascii_lowercase())
    }

    /// Where `network`'s status reports and payments arrive.
    pub fn network_in(&self, network: &str) -> String {
        format!("{}{}.in", self.network_prefix, network.to_ascii_lowercase())
    }
}

impl TopicsConfig {
    /// The topic each record of the event contract is written to; its Schema Registry
    /// subject is `<topic>-value` (Confluent's TopicNameStrategy).
    pub fn topic_of(&self, record: &str) -> Option<&str> {
        match record {
            "AuthorizationRequest" => Some(&self.requests),
            "ClearingRecord" => Some(&self.clearing),
            "Notification" => Some(&self.notifications),
            "DeadLetter" => Some(&self.dead_letters),
            "PaymentReturn" => Some(&self.returns),
            "RiskAlert" => Some(&self.risk_alerts),
            "SettlementRecord" => Some(&self.settlement),
            _ => None,
        }
    }

    /// The registry subject of the values written to `topic`.
    pub fn value_subject(topic: &str) -> String {
        format!("{topic}-value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_has_its_topic_and_subject() {
        let t = TopicsConfig::with_prefix("p.");
        for v in crate::registry::ALL {
            let topic = t.topic_of(v.record).unwrap_or_else(|| panic!("{} has a topic", v.record));
            assert!(topic.starts_with("p.interlink."));
        }
        assert_eq!(t.topic_of("Nothing"), None);
        assert_eq!(TopicsConfig::value_subject(&t.requests), "p.interlink.auth.requests-value");
    }
}
