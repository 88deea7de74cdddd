//! Change sets: what must be written to the routes log to turn one table into another.

use super::model::{RouteKey, RouteRecord};
use std::collections::BTreeMap;

/// One change to the routes log: an upsert, or a deletion (tombstone).
// Change sets are operator-sized and built off the hot path; boxing the records would
// only add indirection to every match on them.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(RouteRecord),
    Modified { before: RouteRecord, after: RouteRecord },
    Removed(RouteRecord),
}

impl Change {
    pub fn key(&self) -> RouteKey {
        match self {
            Self::Added(r) | Self::Removed(r) => r.key(),
            Self::Modified { after, .. } => after.key(),
        }
    }

    /// The record to write; `None` writes a tombstone.
    pub fn new_value(&self) -> Option<&RouteRecord> {
        match self {
            Self::Added(r) | Self::Modified { after: r, .. } => Some(r),
            Self::Removed(_) => None,
        }
    }
}

/// The changes that turn `current` into exactly `desired`, in key order.
pub fn diff(current: &BTreeMap<RouteKey, RouteRecord>, desired: &[RouteRecord]) -> Vec<Change> {
    let desired: BTreeMap<RouteKey, &RouteRecord> = desired.iter().map(|r| (r.key(), r)).collect();
    let mut changes = Vec::new();
    for (key, after) in &desired {
        match current.get(key) {
            None => changes.push(Change::Added((*after).clone())),
            Some(before) if before != *after => {
                changes.push(Change::Modified { before: before.clone(), after: (*after).clone() })
            }
            Some(_) => {}
        }
    }
    for (key, before) in current {
        if !desired.contains_key(key) {
            changes.push(Change::Removed(before.clone()));
        }
    }
    changes.sort_by_key(Change::key);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Participant, ParticipantStatus};

    fn p(id: &str, name: &str) -> RouteRecord {
        RouteRecord::Participant(Participant {
            network: "HK_FPS".into(),
            institution_id: id.into(),
            name: name.into(),
            bic: None,
            status: ParticipantStatus::Active,
            settlement_currency: "HKD".into(),
            settles_through: None,
        })
    }

    #[test]
    fn diff_finds_added_modified_and_removed() {
        let current: BTreeMap<_, _> = [p("004", "HSBC"), p("012", "BOCHK")].into_iter().map(|r| (r.key(), r)).collect();
        let desired = vec![p("004", "HSBC HK"), p("024", "Hang Seng")];
        let changes = diff(&current, &desired);
        assert_eq!(
            changes,
            vec![
                Change::Modified { before: p("004", "HSBC"), after: p("004", "HSBC HK") },
                Change::Removed(p("012", "BOCHK")),
                Change::Added(p("024", "Hang Seng")),
            ]
        );
        assert!(diff(&current, &[p("004", "HSBC"), p("012", "BOCHK")]).is_empty());
    }
}
