//! Replays the routes log into versioned tables. Rules between two markers form a
//! change set; a change set becomes visible whole at its marker, or not at all.

use super::model::{Marker, RouteKey, RouteRecord, MARKER_KEY};
use super::table::{check_record, CompileError, RoutingTable};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RoutingLogError {
    #[error("route record key {0:?} is not a route key")]
    BadKey(String),
    #[error("route record {key}: {message}")]
    BadRecord { key: String, message: String },
    #[error("marker: {0}")]
    BadMarker(String),
    #[error("change set for version {version} rejected: {why}; keeping version {kept}")]
    ChangeSetRejected { version: i64, kept: i64, why: String },
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// The state of the routes log as read so far.
#[derive(Debug)]
pub struct RoutingLog {
    /// The rules as of the last accepted marker.
    rules: BTreeMap<RouteKey, RouteRecord>,
    /// Changes read since the last marker: `None` deletes the key.
    pending: Vec<(RouteKey, Option<RouteRecord>)>,
    /// First problem in the pending change set; the whole set is refused at its marker.
    pending_problem: Option<String>,
    last_marker: Option<Marker>,
    table: Arc<RoutingTable>,
}

impl Default for RoutingLog {
    fn default() -> Self {
        Self::new()
    }
}

impl RoutingLog {
    pub fn new() -> Self {
        Self {
            rules: BTreeMap::new(),
            pending: Vec::new(),
            pending_problem: None,
            last_marker: None,
            table: Arc::new(RoutingTable::empty()),
        }
    }

    /// The current table (the last one compiled).
    pub fn table(&self) -> Arc<RoutingTable> {
        self.table.clone()
    }

    pub fn last_marker(&self) -> Option<&Marker> {
        self.last_marker.as_ref()
    }

    /// Version of the last accepted change set (0 before any).
    pub fn version(&self) -> i64 {
        self.last_marker.as_ref().map_or(0, |m| m.version)
    }

    /// The accepted rules, in key order.
    pub fn rules(&self) -> &BTreeMap<RouteKey, RouteRecord> {
        &self.rules
    }

    /// Reads one record of the log. Returns the marker when the record closes a
    /// change set; call [`RoutingLog::close`] with it.
    pub fn read(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<Option<Marker>, RoutingLogError> {
        let key_text =
            std::str::from_utf8(key).map_err(|_| RoutingLogError::BadKey(String::from_utf8_lossy(key).into()))?;
        if key_text == MARKER_KEY {
            let value = value.ok_or_else(|| RoutingLogError::BadMarker("marker without a value".into()))?;
            let marker: Marker =
                serde_json::from_slice(value).map_err(|e| RoutingLogError::BadMarker(e.to_string()))?;
            return Ok(Some(marker));
        }
        let result = self.read_rule(key_text, value);
        if let Err(e) = &result {
            self.pending_problem.get_or_insert_with(|| e.to_string());
        }
        result.map(|()| None)
    }

    fn read_rule(&mut self, key_text: &str, value: Option<&[u8]>) -> Result<(), RoutingLogError> {
        let key: RouteKey = key_text.parse().map_err(|_| RoutingLogError::BadKey(key_text.to_string()))?;
        let bad = |message: String| RoutingLogError::BadRecord { key: key_text.to_string(), message };
        let record = match value {
            None => None,
            Some(bytes) => {
                let record: RouteRecord = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
                if record.key() != key {
                    return Err(bad(format!("value is for {}", record.key())));
                }
                check_record(&record).map_err(|e| bad(e.to_string()))?;
                Some(record)
            }
        };
        self.pending.push((key, record));
        Ok(())
    }

    /// Closes the pending change set at `marker`. With `compile`, builds and returns
    /// the new table; without (while catching up on the log), only merges the rules;
    /// call [`RoutingLog::compile`] once caught up. A refused change set leaves both
    /// the rules and the table as they were.
    pub fn close(&mut self, marker: Marker, compile: bool) -> Result<Option<Arc<RoutingTable>>, RoutingLogError> {
        let pending = std::mem::take(&mut self.pending);
        let kept = self.version();
        let refuse = |why: String| RoutingLogError::ChangeSetRejected { version: marker.version, kept, why };
        if let Some(problem) = self.pending_problem.take() {
            return Err(refuse(problem));
        }
        if marker.version <= kept {
            return Err(refuse(format!("version does not increase (current {kept})")));
        }
        let mut undo = Vec::with_capacity(pending.len());
        for (key, record) in pending {
            let previous = match record {
                Some(r) => self.rules.insert(key.clone(), r),
                None => self.rules.remove(&key),
            };
            undo.push((key, previous));
        }
        if compile {
            match RoutingTable::compile(marker.version, self.rules.values()) {
                Ok(table) => self.table = Arc::new(table),
                Err(e) => {
                    for (key, previous) in undo.into_iter().rev() {
                        match previous {
                            Some(r) => self.rules.insert(key, r),
                            None => self.rules.remove(&key),
                        };
                    }
                    return Err(refuse(e.to_string()));
                }
            }
        }
        self.last_marker = Some(marker);
        Ok(compile.then(|| self.table.clone()))
    }

    /// Compiles the merged rules at the last accepted version.
    pub fn compile(&mut self) -> Result<Arc<RoutingTable>, RoutingLogError> {
        let table = RoutingTable::compile(self.version(), self.rules.values())?;
        self.table = Arc::new(table);
        Ok(self.table.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::tests::participant;

    fn marker(version: i64) -> Vec<u8> {
        serde_json::to_vec(&Marker {
            version,
            operator: "t".into(),
            reason: "r".into(),
            applied_at: 0,
            changes: 0,
            principal: None,
            audit_head: None,
        })
        .unwrap()
    }

    fn put(log: &mut RoutingLog, r: &RouteRecord) -> Result<Option<Marker>, RoutingLogError> {
        log.read(r.key().to_string().as_bytes(), Some(&serde_json::to_vec(r).unwrap()))
    }

    fn close(log: &mut RoutingLog, version: i64) -> Result<Option<Arc<RoutingTable>>, RoutingLogError> {
        let m = log.read(MARKER_KEY.as_bytes(), Some(&marker(version))).unwrap().unwrap();
        log.close(m, true)
    }

    #[test]
    fn rules_are_invisible_until_their_marker() {
        let mut log = RoutingLog::new();
        put(&mut log, &participant("HK_FPS", "004", "HKD")).unwrap();
        assert!(log.table().participant("HK_FPS", "004").is_none());
        let t = close(&mut log, 1).unwrap().unwrap();
        assert_eq!(t.version(), 1);
        assert!(t.participant("HK_FPS", "004").is_some());
        // A deletion is a tombstone.
        log.read(b"participant/HK_FPS/004", None).unwrap();
        assert!(log.table().participant("HK_FPS", "004").is_some());
        let t = close(&mut log, 2).unwrap().unwrap();
        assert!(t.participant("HK_FPS", "004").is_none());
    }

    #[test]
    fn a_change_set_with_a_bad_rule_is_refused_whole() {
        let mut log = RoutingLog::new();
        put(&mut log, &participant("HK_FPS", "004", "HKD")).unwrap();
        close(&mut log, 1).unwrap();
        put(&mut log, &participant("HK_FPS", "012", "HKD")).unwrap();
        assert!(log.read(b"participant/HK_FPS/024", Some(b"{not json")).is_err());
        let err = close(&mut log, 2).unwrap_err();
        assert!(matches!(err, RoutingLogError::ChangeSetRejected { version: 2, kept: 1, .. }), "{err}");
        assert_eq!(log.version(), 1);
        assert!(log.table().participant("HK_FPS", "012").is_none(), "no half change set");
        // The next good change set applies normally.
        put(&mut log, &participant("HK_FPS", "024", "HKD")).unwrap();
        let t = close(&mut log, 3).unwrap().unwrap();
        assert!(t.participant("HK_FPS", "024").is_some());
        assert!(t.participant("HK_FPS", "012").is_none());
    }

    #[test]
    fn invalid_records_and_keys_are_reported() {
        let mut log = RoutingLog::new();
        assert!(matches!(log.read(b"nonsense", Some(b"{}")), Err(RoutingLogError::BadKey(_))));
        let hk = serde_json::to_vec(&participant("HK_FPS", "004", "HKD")).unwrap();
        assert!(matches!(log.read(b"participant/HK_FPS/012", Some(&hk)), Err(RoutingLogError::BadRecord { .. })));
        let bad_id = serde_json::to_vec(&participant("CN_IBPS", "1", "CNY")).unwrap();
        let err = log.read(b"participant/CN_IBPS/1", Some(&bad_id)).unwrap_err();
        assert!(err.to_string().contains("12 digits"), "{err}");
        assert!(log.read(MARKER_KEY.as_bytes(), Some(b"[]")).is_err());
    }

    #[test]
    fn versions_must_increase() {
        let mut log = RoutingLog::new();
        close(&mut log, 5).unwrap();
        assert!(close(&mut log, 5).is_err());
        assert_eq!(log.version(), 5);
    }

    #[test]
    fn catch_up_merges_then_compiles_once() {
        let mut log = RoutingLog::new();
        for (i, id) in ["004", "012", "024"].iter().enumerate() {
            put(&mut log, &participant("HK_FPS", id, "HKD")).unwrap();
            let m = log.read(MARKER_KEY.as_bytes(), Some(&marker(i as i64 + 1))).unwrap().unwrap();
            assert!(log.close(m, false).unwrap().is_none());
        }
        assert_eq!(log.table().version(), 0);
        let t = log.compile().unwrap();
        assert_eq!((t.version(), t.rule_count()), (3, 3));
    }
}
