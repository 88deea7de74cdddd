//! The audit trail of routing changes: who changed what, when and why. One entry per
//! change set, written in the same Kafka transaction as the change set itself.

use super::change::Change;
use super::model::{Marker, RouteKey, RouteRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Added,
    Modified,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChange {
    pub key: String,
    pub op: ChangeOp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<RouteRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<RouteRecord>,
}

/// One change set's audit entry. Large change sets are written in parts (a Kafka
/// record has a size limit); [`AuditEntry::merge`] joins them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub version: i64,
    pub operator: String,
    pub reason: String,
    /// Microseconds since the Unix epoch.
    pub applied_at: i64,
    /// This record's part number, from 1, and the number of parts.
    #[serde(default = "one")]
    pub part: u32,
    #[serde(default = "one")]
    pub parts: u32,
    /// The authenticated principal (see `Marker::principal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Hash of the audit record before this one (see `audit_chain`); absent in
    /// records written before chaining began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    pub changes: Vec<AuditChange>,
}

fn one() -> u32 {
    1
}

/// Changes per audit record: keeps each record well under Kafka's 1 MB default.
pub const AUDIT_CHANGES_PER_PART: usize = 1_000;

impl AuditEntry {
    /// The entry split into parts of at most [`AUDIT_CHANGES_PER_PART`] changes.
    pub fn into_parts(mut self) -> Vec<AuditEntry> {
        let all = std::mem::take(&mut self.changes);
        let parts = all.len().div_ceil(AUDIT_CHANGES_PER_PART).max(1) as u32;
        let mut chunks: Vec<Vec<AuditChange>> = Vec::with_capacity(parts as usize);
        let mut rest = all.into_iter();
        for _ in 0..parts {
            chunks.push(rest.by_ref().take(AUDIT_CHANGES_PER_PART).collect());
        }
        // `self` has no changes left, so each clone below is just the header.
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, changes)| AuditEntry { part: i as u32 + 1, parts, changes, ..self.clone() })
            .collect()
    }

    /// Joins parts (in any order) into one entry per version, by version; a version
    /// with missing parts is left out.
    pub fn merge(records: Vec<AuditEntry>) -> Vec<AuditEntry> {
        let mut by_version: BTreeMap<i64, Vec<AuditEntry>> = BTreeMap::new();
        for r in records {
            by_version.entry(r.version).or_default().push(r);
        }
        by_version
            .into_values()
            .filter_map(|mut parts| {
                parts.sort_by_key(|p| p.part);
                parts.dedup_by_key(|p| p.part);
                let expected = parts[0].parts as usize;
                if parts.len() != expected {
                    return None;
                }
                let mut whole = parts[0].clone();
                whole.changes = parts.into_iter().flat_map(|p| p.changes).collect();
                whole.part = 1;
                whole.parts = 1;
                Some(whole)
            })
            .collect()
    }

    pub fn new(marker: &Marker, changes: &[Change]) -> Self {
        let changes = changes
            .iter()
            .map(|c| {
                let (op, before, after) = match c {
                    Change::Added(r) => (ChangeOp::Added, None, Some(r.clone())),
                    Change::Modified { before, after } => {
                        (ChangeOp::Modified, Some(before.clone()), Some(after.clone()))
                    }
                    Change::Removed(r) => (ChangeOp::Removed, Some(r.clone()), None),
                };
                AuditChange { key: c.key().to_string(), op, before, after }
            })
            .collect();
        Self {
            version: marker.version,
            operator: marker.operator.clone(),
            reason: marker.reason.clone(),
            applied_at: marker.applied_at,
            part: 1,
            parts: 1,
            principal: marker.principal.clone(),
            previous_hash: None,
            changes,
        }
    }

    pub fn count(&self, op: ChangeOp) -> usize {
        self.changes.iter().filter(|c| c.op == op).count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("version {0} is not in the audit trail")]
    MissingVersion(i64),
    #[error("version {0} does not exist yet")]
    Future(i64),
}

/// The rules as they were right after change set `version`, rebuilt from the audit
/// trail (which must hold every version from 1).
pub fn rules_at(entries: &[AuditEntry], version: i64) -> Result<Vec<RouteRecord>, ReplayError> {
    let mut by_version: BTreeMap<i64, &AuditEntry> = BTreeMap::new();
    for e in entries {
        by_version.insert(e.version, e);
    }
    let latest = by_version.keys().next_back().copied().unwrap_or(0);
    if version > latest {
        return Err(ReplayError::Future(version));
    }
    let mut rules: BTreeMap<RouteKey, RouteRecord> = BTreeMap::new();
    for v in 1..=version {
        let entry = by_version.get(&v).ok_or(ReplayError::MissingVersion(v))?;
        for change in &entry.changes {
            match (&change.after, &change.before) {
                (Some(after), _) => {
                    rules.insert(after.key(), after.clone());
                }
                (None, Some(before)) => {
                    rules.remove(&before.key());
                }
                (None, None) => {}
            }
        }
    }
    Ok(rules.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::diff;
    use crate::table::tests::participant;

    fn entry(version: i64, current: &BTreeMap<RouteKey, RouteRecord>, desired: &[RouteRecord]) -> AuditEntry {
        let marker = Marker {
            version,
            operator: "op".into(),
            reason: "r".into(),
            applied_at: 0,
            changes: 0,
            principal: None,
            audit_head: None,
        };
        AuditEntry::new(&marker, &diff(current, desired))
    }

    #[test]
    fn replaying_the_trail_gives_each_version_back() {
        let v1 = vec![participant("HK_FPS", "004", "HKD"), participant("HK_FPS", "012", "HKD")];
        let v2 = vec![participant("HK_FPS", "004", "HKD"), participant("HK_FPS", "024", "HKD")];
        let as_map = |rules: &[RouteRecord]| rules.iter().map(|r| (r.key(), r.clone())).collect::<BTreeMap<_, _>>();
        let trail = vec![entry(1, &BTreeMap::new(), &v1), entry(2, &as_map(&v1), &v2)];
        assert_eq!((trail[1].count(ChangeOp::Added), trail[1].count(ChangeOp::Removed)), (1, 1));
        assert_eq!(rules_at(&trail, 1).unwrap(), v1);
        assert_eq!(rules_at(&trail, 2).unwrap(), v2);
        assert_eq!(rules_at(&trail, 3), Err(ReplayError::Future(3)));
        assert_eq!(rules_at(&trail[1..], 2), Err(ReplayError::MissingVersion(1)));
    }

    #[test]
    fn large_entries_split_into_parts_and_merge_back() {
        let many: Vec<RouteRecord> =
            (0..2_500).map(|i| participant("CN_IBPS", &format!("{:012}", 100_000_000_000u64 + i), "CNY")).collect();
        let whole = entry(1, &BTreeMap::new(), &many);
        let mut parts = whole.clone().into_parts();
        assert_eq!(
            parts.iter().map(|p| (p.part, p.parts, p.changes.len())).collect::<Vec<_>>(),
            [(1, 3, 1000), (2, 3, 1000), (3, 3, 500)]
        );
        parts.reverse();
        assert_eq!(AuditEntry::merge(parts.clone()), vec![whole]);
        parts.remove(0);
        assert!(AuditEntry::merge(parts).is_empty(), "an incomplete version is left out");
    }

    #[test]
    fn entries_are_json() {
        let e = entry(1, &BTreeMap::new(), &[participant("HK_FPS", "004", "HKD")]);
        let back: AuditEntry = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
