//! Keyed state at the edge, the way Kafka Streams keeps it.
//!
//! - The truth is a compacted **changelog topic** co-partitioned with the requests
//!   topic: the state of requests partition `p` is changelog partition `p`, and only the
//!   worker that owns `p` writes it, in the same transaction as its outputs and offsets.
//! - The worker caches its partitions in a [`LocalStore`]. Writes of the open batch are
//!   held here and reach the store only when the batch commits, so the store never
//!   holds what the changelog does not.
//! - On assignment a partition is restored from the changelog, starting at the offset
//!   the store's checkpoint records (or from the start, after wiping it, when there is
//!   none). The checkpoint is written after the store is made durable, so it never
//!   claims more than the disk holds; re-reading from an older checkpoint is harmless,
//!   since the changelog keeps the last value per key.
//!
//! The decisions themselves are the core's ([`interlink_core::memory`]); this module
//! only keeps bytes.

pub mod store;

use interlink_core::memory::{self, Memory, MemoryError};
use interlink_core::pipeline::{OutputRecord, OutputTopic};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
pub use store::{Checkpoints, LocalStore, StoreError, StoreSizing};

/// How often the store is made durable and its checkpoint written.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(10);

/// Where a partition's restore starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreFrom {
    /// The store holds the changelog up to this offset.
    Checkpoint(i64),
    /// The store was wiped: read the whole changelog partition.
    Beginning,
}

pub struct KeyedState {
    store: LocalStore,
    /// Writes of the open batch, by partition (`None` deletes).
    pending: FxHashMap<i32, FxHashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// Index records whose due keys the open batch expires: dropped when it commits.
    index_done: FxHashMap<i32, Vec<Vec<u8>>>,
    /// Partitions this worker owns, and whether each is restored.
    assigned: BTreeMap<i32, bool>,
    /// How far the store has read each partition's changelog (as last checkpointed
    /// or restored); a restore starts here.
    read_to: Checkpoints,
    last_checkpoint: Instant,
    /// A checkpoint being written in the background, if any.
    checkpointing: Option<std::thread::JoinHandle<Result<(), StoreError>>>,
}

impl KeyedState {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_sized(dir, StoreSizing::default())
    }

    pub fn open_sized(dir: &Path, sizing: StoreSizing) -> Result<Self, StoreError> {
        let store = match LocalStore::open_sized(dir, sizing) {
            Ok(store) => store,
            // Another live process holds it (two workers with one id): never wipe that.
            Err(e @ StoreError::Fjall { source: fjall::Error::Locked, .. }) => return Err(e),
            // The store is only a cache of the changelog. One that cannot be opened (a
            // worker SIGKILLed while fjall created it leaves a journal file that fjall
            // then refuses to create again) is wiped and rebuilt from the changelog,
            // instead of stopping every restart of the worker. Found by the fault suite.
            Err(e @ StoreError::Fjall { .. }) => {
                tracing::warn!(error = %e, "the local state store cannot be opened; wiping it, its partitions restore from the changelog");
                std::fs::remove_dir_all(dir)
                    .map_err(|source| StoreError::Checkpoint { path: dir.to_path_buf(), source })?;
                LocalStore::open_sized(dir, sizing)?
            }
            Err(e) => return Err(e),
        };
        let read_to = store.read_checkpoints();
        Ok(Self {
            store,
            pending: FxHashMap::default(),
            index_done: FxHashMap::default(),
            assigned: BTreeMap::new(),
            read_to,
            last_checkpoint: Instant::now(),
            checkpointing: None,
        })
    }

    /// These partitions are now this worker's; each must be restored before use.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for p in partitions {
            self.assigned.entry(p).or_insert(false);
        }
    }

    /// These partitions are gone (their open writes were committed or discarded before).
    pub fn revoke(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for p in partitions {
            self.assigned.remove(&p);
            self.pending.remove(&p);
            self.index_done.remove(&p);
        }
    }

    /// Assigned partitions not yet restored.
    pub fn unrestored(&self) -> Vec<i32> {
        self.assigned.iter().filter(|(_, restored)| !**restored).map(|(p, _)| *p).collect()
    }

    pub fn is_restored(&self, p: i32) -> bool {
        self.assigned.get(&p).copied().unwrap_or(false)
    }

    /// Restored partitions this worker owns.
    pub fn owned(&self) -> Vec<i32> {
        self.assigned.iter().filter(|(_, restored)| **restored).map(|(p, _)| *p).collect()
    }

    /// Where to start restoring `p`; without a checkpoint its store is wiped first.
    /// A checkpoint past the changelog's end (the topic was recreated) is stale too.
    pub fn restore_start(&mut self, p: i32, changelog_end: i64) -> Result<RestoreFrom, StoreError> {
        match self.read_to.get(&p) {
            Some(&offset) if offset <= changelog_end => {
                self.store.open_partition(p)?;
                Ok(RestoreFrom::Checkpoint(offset))
            }
            _ => {
                self.store.wipe(p)?;
                self.store.open_partition(p)?;
                self.read_to.remove(&p);
                Ok(RestoreFrom::Beginning)
            }
        }
    }

    /// Applies changelog records read while restoring `p`.
    pub fn apply_restored<'a>(
        &mut self,
        p: i32,
        records: impl IntoIterator<Item = store::Write<'a>>,
    ) -> Result<(), StoreError> {
        self.store.apply(p, records)
    }

    /// `p` is restored: its store holds the changelog up to `offset`.
    pub fn restored(&mut self, p: i32, offset: i64) {
        if let Some(restored) = self.assigned.get_mut(&p) {
            *restored = true;
        }
        self.read_to.insert(p, offset);
    }

    /// The outcome of a commit is unknown: what the store holds may be behind the
    /// changelog, so every partition is restored again (from its checkpoint).
    pub fn invalidate(&mut self) {
        self.pending.clear();
        self.index_done.clear();
        for restored in self.assigned.values_mut() {
            *restored = false;
        }
    }

    /// The state of partition `p` as the core reads it: the open batch's writes over
    /// the store.
    pub fn memory(&self, p: i32) -> PartitionMemory<'_> {
        PartitionMemory { state: self, partition: p }
    }

    /// Holds the state writes among `outputs` (decided for a record of partition `p`)
    /// until the batch commits.
    pub fn stage(&mut self, p: i32, outputs: &[OutputRecord]) {
        for out in outputs.iter().filter(|o| o.topic == OutputTopic::State) {
            if let Some(key) = &out.key {
                self.pending.entry(p).or_default().insert(key.clone(), out.payload.clone());
            }
        }
    }

    /// The open batch's writes, one per key (its last value; `None` deletes), by
    /// changelog partition: what the batch sends to the changelog before it commits.
    pub fn pending_writes(&self) -> impl Iterator<Item = (i32, &[u8], Option<&[u8]>)> {
        self.pending.iter().flat_map(|(&p, writes)| writes.iter().map(move |(k, v)| (p, k.as_slice(), v.as_deref())))
    }

    /// The open batch committed: its writes go to the store. A store that fails to
    /// take them is behind the changelog, so its partitions are restored again.
    pub fn batch_committed(&mut self) {
        for (p, writes) in std::mem::take(&mut self.pending) {
            let applied = self.store.apply(p, writes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())));
            if let Err(e) = applied {
                tracing::error!(partition = p, error = %e, "state store write failed; restoring the partition from its changelog");
                if let Some(restored) = self.assigned.get_mut(&p) {
                    *restored = false;
                }
            }
        }
        for (p, index_keys) in std::mem::take(&mut self.index_done) {
            // Harmless if it fails: the next sweep reads them again and skips their keys.
            if let Err(e) = self.store.drop_index(p, index_keys.iter().map(Vec::as_slice)) {
                tracing::warn!(partition = p, error = %e, "expired index records not dropped");
            }
        }
    }

    /// The open batch was rolled back: its writes never happened.
    pub fn batch_discarded(&mut self) {
        self.pending.clear();
        self.index_done.clear();
    }

    /// Whether a checkpoint is due (nothing pending, none being written, and the
    /// interval has passed).
    pub fn checkpoint_due(&mut self) -> bool {
        if self.checkpointing.as_ref().is_some_and(|h| h.is_finished()) {
            self.finish_checkpoint();
        }
        self.checkpointing.is_none()
            && self.pending.is_empty()
            && self.index_done.is_empty()
            && self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL
    }

    /// Makes the store durable and records how far it has read, given each owned
    /// partition's changelog end (which, between batches, this worker's own commits
    /// define).
    pub fn checkpoint(&mut self, ends: impl IntoIterator<Item = (i32, i64)>) -> Result<(), StoreError> {
        self.finish_checkpoint();
        self.advance(ends);
        self.store.checkpoint(&self.read_to)
    }

    /// The same, written by a thread of its own (see
    /// [`LocalStore::checkpoint_in_background`]); call when [`Self::checkpoint_due`].
    pub fn checkpoint_in_background(&mut self, ends: impl IntoIterator<Item = (i32, i64)>) {
        self.finish_checkpoint();
        self.advance(ends);
        self.checkpointing = Some(self.store.checkpoint_in_background(self.read_to.clone()));
    }

    fn advance(&mut self, ends: impl IntoIterator<Item = (i32, i64)>) {
        for (p, end) in ends {
            if self.is_restored(p) {
                self.read_to.insert(p, end);
            }
        }
        self.last_checkpoint = Instant::now();
    }

    /// Waits for a background checkpoint; a failed one only costs a longer restore.
    fn finish_checkpoint(&mut self) {
        let written = self.checkpointing.take().map(|h| h.join());
        match written {
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "state checkpoint not written; a restart re-reads more of the changelog")
            }
            Some(Err(_)) => tracing::error!("the state checkpoint thread panicked"),
            Some(Ok(Ok(()))) | None => {}
        }
    }

    /// Entries of the owned partitions due to expire by their partition's time
    /// (`time_of(partition)`; index records listing about `limit` keys per partition),
    /// with their values. A listed key that is gone or no longer due is skipped; the
    /// index records read go when the batch that handles their keys commits (or at
    /// once when none of their keys is due).
    pub fn due(&mut self, time_of: impl Fn(i32) -> i64, limit: usize) -> Result<Vec<Due>, MemoryError> {
        let mut due = Vec::new();
        for partition in self.owned() {
            let now = time_of(partition);
            for bucket in self.store.due(partition, now, limit).map_err(boxed)? {
                let before = due.len();
                for key in bucket.keys {
                    if let Some(value) = self.memory(partition).get(&key)? {
                        if memory::expires_at(&value).is_some_and(|at| at <= now) {
                            due.push(Due { partition, key, value });
                        }
                    }
                }
                if due.len() == before {
                    self.store.drop_index(partition, [bucket.index_key.as_slice()]).map_err(boxed)?;
                } else {
                    self.index_done.entry(partition).or_default().push(bucket.index_key);
                }
            }
        }
        Ok(due)
    }
}

/// A state entry whose time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub partition: i32,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

fn boxed(e: StoreError) -> MemoryError {
    MemoryError::Store(Box::new(e))
}

/// One partition's state, as [`Memory`] for the core.
pub struct PartitionMemory<'a> {
    state: &'a KeyedState,
    partition: i32,
}

impl Memory for PartitionMemory<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MemoryError> {
        if let Some(written) = self.state.pending.get(&self.partition).and_then(|w| w.get(key)) {
            return Ok(written.clone());
        }
        self.state.store.get(self.partition, key).map_err(boxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_left_half_created_by_a_kill_is_wiped_and_opened_fresh() {
        let dir = tempfile::tempdir().unwrap();
        // What a worker SIGKILLed while fjall created its database left behind: the
        // first journal file, and nothing that says a database is there.
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        std::fs::write(dir.path().join("db/0.jnl"), b"").unwrap();
        assert!(LocalStore::open(dir.path()).is_err(), "fjall itself refuses it");
        let state = KeyedState::open(dir.path()).expect("wiped and opened");
        assert!(state.owned().is_empty());
    }

    fn value(expires_at: i64, body: &[u8]) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend_from_slice(&expires_at.to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn put(key: &[u8], value: Vec<u8>) -> OutputRecord {
        OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: Some(value) }
    }

    fn restored_state(dir: &Path) -> KeyedState {
        let mut state = KeyedState::open(dir).unwrap();
        state.assign([0]);
        assert_eq!(state.restore_start(0, 0).unwrap(), RestoreFrom::Beginning);
        state.restored(0, 0);
        state
    }

    #[test]
    fn open_writes_are_seen_at_once_and_reach_the_store_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = restored_state(dir.path());
        state.stage(0, &[put(b"k", value(10, b"a"))]);
        assert_eq!(state.memory(0).get(b"k").unwrap(), Some(value(10, b"a")));
        state.batch_discarded();
        assert_eq!(state.memory(0).get(b"k").unwrap(), None, "a rolled-back batch wrote nothing");
        state.stage(0, &[put(b"k", value(10, b"b"))]);
        state.batch_committed();
        assert_eq!(state.memory(0).get(b"k").unwrap(), Some(value(10, b"b")));
    }

    const S: i64 = 1_000_000;

    #[test]
    fn due_entries_come_with_their_values_and_skipped_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = restored_state(dir.path());
        state.stage(0, &[put(b"old", value(10 * S, b"x")), put(b"new", value(50 * S, b"y"))]);
        state.batch_committed();
        // Rewritten with a later expiry: its first listing is stale.
        state.stage(0, &[put(b"old", value(90 * S, b"z"))]);
        state.batch_committed();
        assert!(state.due(|_| 20 * S, 10).unwrap().is_empty(), "old is listed at 10 s but due at 90 s");
        let due = state.due(|_| 60 * S, 10).unwrap();
        assert_eq!(due, [Due { partition: 0, key: b"new".to_vec(), value: value(50 * S, b"y") }]);
        // Its tombstone staged in the open batch hides it from the next sweep.
        state.stage(0, &[OutputRecord { topic: OutputTopic::State, key: Some(b"new".to_vec()), payload: None }]);
        assert!(state.due(|_| 60 * S, 10).unwrap().is_empty());
        state.batch_committed();
        assert_eq!(
            state.due(|_| 100 * S, 10).unwrap(),
            [Due { partition: 0, key: b"old".to_vec(), value: value(90 * S, b"z") }]
        );
    }

    #[test]
    fn each_partition_expires_by_its_own_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = KeyedState::open(dir.path()).unwrap();
        state.assign([0, 1]);
        for p in [0, 1] {
            assert_eq!(state.restore_start(p, 0).unwrap(), RestoreFrom::Beginning);
            state.restored(p, 0);
            state.stage(p, &[put(b"k", value(10 * S, b"x"))]);
        }
        state.batch_committed();
        // Partition 1 has not read its inputs past 10 s yet.
        let due = state.due(|p| if p == 0 { 20 * S } else { 5 * S }, 10).unwrap();
        assert_eq!(due.iter().map(|d| d.partition).collect::<Vec<_>>(), [0]);
        let due = state.due(|_| 20 * S, 10).unwrap();
        assert_eq!(due.iter().map(|d| d.partition).collect::<Vec<_>>(), [0, 1], "listed again until handled");
    }

    #[test]
    fn a_rolled_back_expiry_is_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = restored_state(dir.path());
        state.stage(0, &[put(b"k", value(10 * S, b"x"))]);
        state.batch_committed();
        assert_eq!(state.due(|_| 20 * S, 10).unwrap().len(), 1);
        state.stage(0, &[OutputRecord { topic: OutputTopic::State, key: Some(b"k".to_vec()), payload: None }]);
        state.batch_discarded();
        assert_eq!(state.due(|_| 20 * S, 10).unwrap().len(), 1, "the index record stays until the tombstone commits");
        state.stage(0, &[OutputRecord { topic: OutputTopic::State, key: Some(b"k".to_vec()), payload: None }]);
        state.batch_committed();
        assert!(state.due(|_| 20 * S, 10).unwrap().is_empty());
    }

    #[test]
    fn a_restart_resumes_from_the_checkpoint_and_a_stale_one_rebuilds() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut state = restored_state(dir.path());
            state.stage(0, &[put(b"k", value(10, b"a"))]);
            state.batch_committed();
            state.checkpoint([(0, 42)]).unwrap();
        }
        let mut state = KeyedState::open(dir.path()).unwrap();
        state.assign([0, 1]);
        assert_eq!(state.unrestored(), [0, 1]);
        assert_eq!(state.restore_start(0, 50).unwrap(), RestoreFrom::Checkpoint(42));
        assert_eq!(state.memory(0).get(b"k").unwrap(), Some(value(10, b"a")));
        assert_eq!(state.restore_start(1, 50).unwrap(), RestoreFrom::Beginning, "never checkpointed");
        // The changelog now ends before the checkpoint: another topic of the same name.
        assert_eq!(state.restore_start(0, 10).unwrap(), RestoreFrom::Beginning);
        assert_eq!(state.memory(0).get(b"k").unwrap(), None, "wiped");
    }
}
