//! The audit trail as a hash chain: each audit record names the SHA-256 of the record
//! before it (its bytes exactly as written), and each change set's marker on the routes
//! log names the last one. A record edited, removed, reordered or slipped in breaks a
//! link; a trail cut short or rewritten no longer ends at the routes log's anchor.
//!
//! Tamper-evident, not tamper-proof: someone who may write both topics can rebuild a
//! consistent chain. Operators who need more record the head `verify` prints
//! somewhere else (a ticket, a signed log) and compare it later.

use super::audit::AuditEntry;
use super::model::Marker;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// What the first chained record names as the record before it.
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lowercase hex SHA-256 of an audit record's bytes.
pub fn audit_record_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Links `parts` (one change set's audit records, in order) after `previous_head`
/// (the routes log's last anchor; `None` before chaining began) and encodes them.
/// Returns the records' bytes and the new head for the change set's marker.
pub fn chain_parts(
    parts: Vec<AuditEntry>,
    previous_head: Option<&str>,
) -> Result<(Vec<Vec<u8>>, String), serde_json::Error> {
    let mut head = previous_head.unwrap_or(CHAIN_START).to_string();
    let mut records = Vec::with_capacity(parts.len());
    for mut part in parts {
        part.previous_hash = Some(head);
        let bytes = serde_json::to_vec(&part)?;
        head = audit_record_hash(&bytes);
        records.push(bytes);
    }
    Ok((records, head))
}

/// A sound trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records read.
    pub records: usize,
    /// Records from before chaining began (at the start of the trail), not verifiable.
    pub unchained: usize,
    /// The hash of the last record: record it elsewhere to compare later.
    pub head: Option<String>,
    /// The last version the trail records.
    pub last_version: i64,
}

/// Where the chain breaks. `index` counts the audit topic's records from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit record {index} is not an audit entry: {message}")]
    Unreadable { index: usize, message: String },
    #[error("audit record {index} (version {version}) has no link to the record before it, after the chain began: it was not written by interlinkctl")]
    Unlinked { index: usize, version: i64 },
    #[error("audit record {index} (version {version} part {part}) names {named} as the record before it, but that record hashes to {actual}: a record before it was edited, removed, reordered or inserted")]
    Link { index: usize, version: i64, part: u32, named: String, actual: String },
    #[error("audit record {index} is version {version} part {part} right after version {previous_version} part {previous_part}: a change set's audit is missing or repeated")]
    Sequence { index: usize, version: i64, part: u32, previous_version: i64, previous_part: u32 },
    #[error("the routes log's last change set (version {version}) anchors the trail at {anchor}, but the trail ends at {head}: its last records were removed or replaced")]
    Anchor { version: i64, anchor: String, head: String },
    #[error("the routes log is at version {live}, but the audit trail ends at version {audited}")]
    Behind { live: i64, audited: i64 },
}

/// Checks the audit topic's records (`records`, in offset order) as a chain, and its
/// end against the routes log's last marker (`live`). Every break is listed.
pub fn verify_chain(records: &[&[u8]], live: Option<&Marker>) -> Result<ChainReport, Vec<ChainBreak>> {
    let mut breaks = Vec::new();
    let mut unchained = 0usize;
    // The last chained record: its hash, version and part/parts.
    let mut last: Option<(String, i64, u32, u32)> = None;
    let mut last_version = 0i64;
    for (index, bytes) in records.iter().enumerate() {
        let entry: AuditEntry = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => {
                breaks.push(ChainBreak::Unreadable { index, message: e.to_string() });
                continue;
            }
        };
        last_version = last_version.max(entry.version);
        let Some(named) = entry.previous_hash.as_deref() else {
            match last {
                None => unchained += 1,
                Some(_) => breaks.push(ChainBreak::Unlinked { index, version: entry.version }),
            }
            continue;
        };
        let actual = last.as_ref().map_or(CHAIN_START, |(hash, ..)| hash.as_str());
        if named != actual {
            breaks.push(ChainBreak::Link {
                index,
                version: entry.version,
                part: entry.part,
                named: named.to_string(),
                actual: actual.to_string(),
            });
        }
        if let Some((_, previous_version, previous_part, previous_parts)) = last {
            let follows = if previous_part < previous_parts {
                entry.version == previous_version && entry.part == previous_part + 1
            } else {
                entry.version == previous_version + 1 && entry.part == 1
            };
            if !follows {
                breaks.push(ChainBreak::Sequence {
                    index,
                    version: entry.version,
                    part: entry.part,
                    previous_version,
                    previous_part,
                });
            }
        }
        last = Some((audit_record_hash(bytes), entry.version, entry.part, entry.parts));
    }
    let head = last.map(|(hash, ..)| hash);
    if let Some(marker) = live {
        if let Some(anchor) = &marker.audit_head {
            if head.as_ref() != Some(anchor) {
                breaks.push(ChainBreak::Anchor {
                    version: marker.version,
                    anchor: anchor.clone(),
                    head: head.clone().unwrap_or_else(|| "nothing".into()),
                });
            }
        }
        if marker.version != last_version {
            breaks.push(ChainBreak::Behind { live: marker.version, audited: last_version });
        }
    }
    match breaks.is_empty() {
        true => Ok(ChainReport { records: records.len(), unchained, head, last_version }),
        false => Err(breaks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::diff;
    use crate::table::tests::participant;
    use crate::RouteRecord;
    use std::collections::BTreeMap;

    fn marker(version: i64, audit_head: Option<String>) -> Marker {
        Marker {
            version,
            operator: "ana".into(),
            reason: "r".into(),
            applied_at: 0,
            changes: 1,
            principal: Some("User:operator".into()),
            audit_head,
        }
    }

    /// A trail of `versions` change sets (version 2 in three parts), and the last marker.
    fn trail(versions: i64) -> (Vec<Vec<u8>>, Marker) {
        let mut records = Vec::new();
        let mut head: Option<String> = None;
        let mut live = marker(0, None);
        for v in 1..=versions {
            let size = if v == 2 { 2_500 } else { 1 };
            let rules: Vec<RouteRecord> = (0..size)
                .map(|i| participant("CN_IBPS", &format!("{:012}", 100_000_000_000u64 + i + v as u64), "CNY"))
                .collect();
            let entry = AuditEntry::new(&marker(v, None), &diff(&BTreeMap::new(), &rules));
            let (bytes, new_head) = chain_parts(entry.into_parts(), head.as_deref()).unwrap();
            records.extend(bytes);
            live = marker(v, Some(new_head.clone()));
            head = Some(new_head);
        }
        (records, live)
    }

    fn verify(records: &[Vec<u8>], live: &Marker) -> Result<ChainReport, Vec<ChainBreak>> {
        verify_chain(&records.iter().map(Vec::as_slice).collect::<Vec<_>>(), Some(live))
    }

    #[test]
    fn a_trail_written_by_the_tools_verifies_and_ends_at_the_anchor() {
        let (records, live) = trail(4);
        assert_eq!(records.len(), 6, "version 2 has three parts");
        let report = verify(&records, &live).unwrap();
        assert_eq!(report.records, 6);
        assert_eq!(report.unchained, 0);
        assert_eq!(report.last_version, 4);
        assert_eq!(report.head, live.audit_head);
        let first: AuditEntry = serde_json::from_slice(&records[0]).unwrap();
        assert_eq!(first.previous_hash.as_deref(), Some(CHAIN_START));
        assert_eq!(first.principal.as_deref(), Some("User:operator"));
    }

    #[test]
    fn an_edited_record_breaks_the_next_link() {
        let (mut records, live) = trail(4);
        let mut edited: AuditEntry = serde_json::from_slice(&records[4]).unwrap();
        edited.reason = "nothing to see".into();
        records[4] = serde_json::to_vec(&edited).unwrap();
        let breaks = verify(&records, &live).unwrap_err();
        assert!(matches!(breaks.as_slice(), [ChainBreak::Link { index: 5, version: 4, .. }]), "{breaks:?}");
    }

    #[test]
    fn an_edited_last_record_misses_the_anchor() {
        let (mut records, live) = trail(3);
        let last = records.len() - 1;
        let mut edited: AuditEntry = serde_json::from_slice(&records[last]).unwrap();
        edited.operator = "mallory".into();
        records[last] = serde_json::to_vec(&edited).unwrap();
        let breaks = verify(&records, &live).unwrap_err();
        assert!(matches!(breaks.as_slice(), [ChainBreak::Anchor { version: 3, .. }]), "{breaks:?}");
    }

    #[test]
    fn a_removed_record_breaks_link_and_sequence() {
        let (mut records, live) = trail(4);
        records.remove(2); // the middle part of version 2
        let breaks = verify(&records, &live).unwrap_err();
        assert!(
            matches!(
                breaks.as_slice(),
                [
                    ChainBreak::Link { index: 2, version: 2, part: 3, .. },
                    ChainBreak::Sequence { index: 2, previous_part: 1, .. }
                ]
            ),
            "{breaks:?}"
        );
    }

    #[test]
    fn a_trail_cut_short_or_a_record_slipped_in_is_found() {
        let (records, live) = trail(4);
        let cut = &records[..records.len() - 1];
        let breaks = verify(cut, &live).unwrap_err();
        assert!(
            matches!(breaks.as_slice(), [ChainBreak::Anchor { .. }, ChainBreak::Behind { live: 4, audited: 3 }]),
            "{breaks:?}"
        );
        let mut slipped = records.clone();
        let forged = AuditEntry::new(&marker(5, None), &[]);
        slipped.insert(1, serde_json::to_vec(&forged).unwrap());
        let breaks = verify(&slipped, &live).unwrap_err();
        assert!(breaks.iter().any(|b| matches!(b, ChainBreak::Unlinked { index: 1, version: 5 })), "{breaks:?}");
    }

    #[test]
    fn records_from_before_chaining_are_counted_not_verified() {
        let legacy = serde_json::to_vec(&AuditEntry::new(&marker(1, None), &[])).unwrap();
        let (chained, head) = chain_parts(AuditEntry::new(&marker(2, None), &[]).into_parts(), None).unwrap();
        let records: Vec<Vec<u8>> = std::iter::once(legacy).chain(chained).collect();
        let report = verify(&records, &marker(2, Some(head))).unwrap();
        assert_eq!((report.records, report.unchained, report.last_version), (2, 1, 2));
    }
}
