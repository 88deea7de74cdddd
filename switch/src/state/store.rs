//! The worker's local cache of keyed state: an embedded LSM store (fjall) on disk,
//! one pair of keyspaces per input partition: the entries, and an index of them by
//! expiry second. The index holds one record per write batch and second, listing the
//! keys written with an expiry in that second: one extra store write per batch rather
//! than per entry, which halves the store's share of a request (see
//! docs/performance.md). It holds only what has committed to the changelog; the changelog is the
//! truth, and a checkpoint file says how far this cache has read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use interlink_core::memory;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store at {dir}: {source}")]
    Fjall {
        dir: PathBuf,
        #[source]
        source: fjall::Error,
    },
    #[error("state partition {0} is not open in this worker's store")]
    NotOpen(i32),
    #[error("state checkpoint {path}: {source}")]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Changelog offsets this cache has read, by partition: restoring starts there.
pub type Checkpoints = BTreeMap<i32, i64>;

struct Partition {
    entries: fjall::Keyspace,
    /// `<expiry second, big-endian><sequence>` -> the keys written in one batch with
    /// an expiry in that second, each with a 2-byte big-endian length.
    by_expiry: fjall::Keyspace,
}

/// Memory the store may use: fjall keeps a memtable per keyspace (two per partition)
/// and a block cache for the whole store. Its defaults (64 MiB memtables) took a
/// worker to about 410 MiB in `steady`; with these the restore tool peaked at 125 MiB
/// for a million keys (docs/performance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreSizing {
    pub memtable_bytes: u64,
    pub cache_bytes: u64,
}

impl Default for StoreSizing {
    fn default() -> Self {
        Self { memtable_bytes: 8 << 20, cache_bytes: 32 << 20 }
    }
}

pub struct LocalStore {
    dir: PathBuf,
    sizing: StoreSizing,
    db: fjall::Database,
    partitions: BTreeMap<i32, Partition>,
    /// Makes index keys of one second unique; starts from the clock so that a reopened
    /// store never reuses one.
    index_sequence: u64,
}

/// One index record whose second is over: the keys it lists were written with an
/// expiry in that second (each may have been rewritten or deleted since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueBucket {
    pub index_key: Vec<u8>,
    pub keys: Vec<Vec<u8>>,
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A write to apply: a value, or `None` to delete.
pub type Write<'a> = (&'a [u8], Option<&'a [u8]>);

impl LocalStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_sized(dir, StoreSizing::default())
    }

    pub fn open_sized(dir: &Path, sizing: StoreSizing) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Checkpoint { path: dir.to_path_buf(), source })?;
        let db = fjall::Database::builder(dir.join("db"))
            .cache_size(sizing.cache_bytes)
            .open()
            .map_err(|e| Self::fjall_error(dir, e))?;
        let index_sequence = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Ok(Self { dir: dir.to_path_buf(), sizing, db, partitions: BTreeMap::new(), index_sequence })
    }

    fn fjall_error(dir: &Path, source: fjall::Error) -> StoreError {
        StoreError::Fjall { dir: dir.to_path_buf(), source }
    }

    fn err(&self, source: fjall::Error) -> StoreError {
        Self::fjall_error(&self.dir, source)
    }

    /// Opens partition `p`'s keyspaces (creating them when new).
    pub fn open_partition(&mut self, p: i32) -> Result<(), StoreError> {
        if !self.partitions.contains_key(&p) {
            let memtable = self.sizing.memtable_bytes;
            let options = move || fjall::KeyspaceCreateOptions::default().max_memtable_size(memtable);
            let open = |name: String| self.db.keyspace(&name, options);
            let part = Partition {
                entries: open(format!("entries-{p}")).map_err(|e| self.err(e))?,
                by_expiry: open(format!("due-{p}")).map_err(|e| self.err(e))?,
            };
            self.partitions.insert(p, part);
        }
        Ok(())
    }

    fn partition(&self, p: i32) -> Result<&Partition, StoreError> {
        self.partitions.get(&p).ok_or(StoreError::NotOpen(p))
    }

    pub fn get(&self, p: i32, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let part = self.partition(p)?;
        let value = part.entries.get(key).map(|v| v.map(|v| v.to_vec()));
        value.map_err(|e| self.err(e))
    }

    /// Applies writes to partition `p` atomically, with one index record per expiry
    /// second among them. Deletes leave the index alone: the sweep skips keys whose
    /// entry is gone or no longer due.
    pub fn apply<'a>(&mut self, p: i32, writes: impl IntoIterator<Item = Write<'a>>) -> Result<(), StoreError> {
        self.open_partition(p)?;
        let part = &self.partitions[&p];
        let mut batch = self.db.batch();
        let mut buckets: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
        for (key, value) in writes {
            match value {
                Some(value) => {
                    batch.insert(&part.entries, key, value);
                    if let (Some(at), Ok(len)) = (memory::expires_at(value), u16::try_from(key.len())) {
                        let listed = buckets.entry(at.max(0) / MICROS_PER_SECOND).or_default();
                        listed.extend_from_slice(&len.to_be_bytes());
                        listed.extend_from_slice(key);
                    }
                }
                None => batch.remove(&part.entries, key),
            }
        }
        for (second, keys) in buckets {
            self.index_sequence += 1;
            batch.insert(&part.by_expiry, index_key(second, self.index_sequence), keys);
        }
        batch.commit().map_err(|e| self.err(e))
    }

    /// Index records of partition `p` whose second ended at or before `now`, oldest
    /// first, until they list at least `limit` keys.
    pub fn due(&self, p: i32, now: i64, limit: usize) -> Result<Vec<DueBucket>, StoreError> {
        let part = self.partition(p)?;
        // Second s is over once (s + 1) s have passed: every key it lists is due.
        let end = index_key(now.max(0) / MICROS_PER_SECOND, 0);
        let (mut due, mut listed) = (Vec::new(), 0);
        for item in part.by_expiry.range(..end.as_slice()) {
            if listed >= limit {
                break;
            }
            let (index_key, value) = item.into_inner().map_err(|e| Self::fjall_error(&self.dir, e))?;
            let keys = split_keys(&value);
            listed += keys.len();
            due.push(DueBucket { index_key: index_key.to_vec(), keys });
        }
        Ok(due)
    }

    /// Drops index records whose keys have all been dealt with.
    pub fn drop_index<'a>(&self, p: i32, index_keys: impl IntoIterator<Item = &'a [u8]>) -> Result<(), StoreError> {
        let part = self.partition(p)?;
        let mut batch = self.db.batch();
        for key in index_keys {
            batch.remove(&part.by_expiry, key);
        }
        batch.commit().map_err(|e| self.err(e))
    }

    /// Forgets partition `p` (to rebuild it from the start of its changelog).
    pub fn wipe(&mut self, p: i32) -> Result<(), StoreError> {
        self.open_partition(p)?;
        let part = self.partitions.remove(&p).expect("opened above");
        self.db.delete_keyspace(part.entries).map_err(|e| self.err(e))?;
        self.db.delete_keyspace(part.by_expiry).map_err(|e| self.err(e))
    }

    /// Makes everything written so far durable, then records `checkpoints`: a
    /// checkpoint never claims more than the disk holds.
    pub fn checkpoint(&self, checkpoints: &Checkpoints) -> Result<(), StoreError> {
        write_checkpoint(&self.db, &self.dir, checkpoints)
    }

    /// The same on a thread of its own: making the store durable waits for the disk,
    /// which must not hold up the worker's records. The store keeps taking writes
    /// meanwhile; the checkpoint claims only what was written before it was asked for.
    pub fn checkpoint_in_background(
        &self,
        checkpoints: Checkpoints,
    ) -> std::thread::JoinHandle<Result<(), StoreError>> {
        let (db, dir) = (self.db.clone(), self.dir.clone());
        std::thread::Builder::new()
            .name("state-checkpoint".into())
            .spawn(move || write_checkpoint(&db, &dir, &checkpoints))
            .expect("the system starts a thread")
    }

    /// The checkpoints last recorded (none for a new or unreadable file: rebuild).
    pub fn read_checkpoints(&self) -> Checkpoints {
        let path = self.checkpoint_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "unreadable state checkpoint; rebuilding from the changelog");
                Checkpoints::new()
            }),
            Err(_) => Checkpoints::new(),
        }
    }

    fn checkpoint_path(&self) -> PathBuf {
        checkpoint_path(&self.dir)
    }
}

fn checkpoint_path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.json")
}

fn write_checkpoint(db: &fjall::Database, dir: &Path, checkpoints: &Checkpoints) -> Result<(), StoreError> {
    db.persist(fjall::PersistMode::SyncAll).map_err(|source| StoreError::Fjall { dir: dir.to_path_buf(), source })?;
    let path = checkpoint_path(dir);
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_vec(checkpoints).expect("a map of integers serializes");
    let io = |source| StoreError::Checkpoint { path: path.clone(), source };
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// Index key: the expiry second first, so a range scan finds what is due in order
/// (seconds since 1970 are positive, so their big-endian bytes sort as numbers).
fn index_key(second: i64, sequence: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&second.to_be_bytes());
    k.extend_from_slice(&sequence.to_be_bytes());
    k
}

/// The keys an index record lists (a truncated tail, which the store never writes, is
/// ignored).
fn split_keys(mut listed: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    while let [a, b, rest @ ..] = listed {
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if rest.len() < len {
            break;
        }
        keys.push(rest[..len].to_vec());
        listed = &rest[len..];
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(expires_at: i64) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend_from_slice(&expires_at.to_be_bytes());
        v.extend_from_slice(b"body");
        v
    }

    const S: i64 = MICROS_PER_SECOND;

    #[test]
    fn writes_reads_and_lists_keys_by_expiry_second_once_the_second_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        let (a, b, c) = (value(30 * S), value(10 * S + 5), value(20 * S));
        store.apply(0, [(&b"a"[..], Some(&a[..])), (b"b", Some(&b[..])), (b"c", Some(&c[..]))]).unwrap();
        store.apply(1, [(&b"a"[..], Some(&b[..]))]).unwrap();
        assert_eq!(store.get(0, b"a").unwrap(), Some(a.clone()));
        store.open_partition(2).unwrap();
        assert_eq!(store.get(2, b"a").unwrap(), None, "partitions are separate");
        assert!(store.due(0, 10 * S + 999_999, 10).unwrap().is_empty(), "second 10 is not over yet");
        let due = store.due(0, 25 * S, 10).unwrap();
        let keys: Vec<_> = due.iter().map(|d| d.keys.clone()).collect();
        assert_eq!(keys, [vec![b"b".to_vec()], vec![b"c".to_vec()]], "oldest first, only what is due");
        store.apply(0, [(&b"b"[..], None)]).unwrap();
        assert_eq!(store.get(0, b"b").unwrap(), None);
        store.drop_index(0, due.iter().map(|d| d.index_key.as_slice())).unwrap();
        assert!(store.due(0, 25 * S, 10).unwrap().is_empty());
    }

    #[test]
    fn one_batch_writes_one_index_record_per_second() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        let values: Vec<(Vec<u8>, Vec<u8>)> =
            (0..500).map(|i| (format!("key-{i}").into_bytes(), value(7 * S + i))).collect();
        store.apply(0, values.iter().map(|(k, v)| (k.as_slice(), Some(v.as_slice())))).unwrap();
        let due = store.due(0, 8 * S, 1).unwrap();
        assert_eq!(due.len(), 1, "one record for the batch's second");
        assert_eq!(due[0].keys.len(), 500, "a record is listed whole, past the limit");
        assert_eq!(split_keys(b"\x00\x02ab\x00\x05ab"), [b"ab".to_vec()], "a truncated tail is ignored");
    }

    #[test]
    fn a_checkpoint_survives_reopening_and_a_wipe_forgets_one_partition() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = LocalStore::open(dir.path()).unwrap();
            let v = value(1);
            store.apply(0, [(&b"k"[..], Some(&v[..]))]).unwrap();
            store.apply(1, [(&b"k"[..], Some(&v[..]))]).unwrap();
            store.checkpoint(&Checkpoints::from([(0, 17), (1, 4)])).unwrap();
        }
        let mut store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(store.read_checkpoints(), Checkpoints::from([(0, 17), (1, 4)]));
        store.open_partition(0).unwrap();
        store.open_partition(1).unwrap();
        assert!(store.get(0, b"k").unwrap().is_some());
        store.wipe(0).unwrap();
        assert!(matches!(store.get(0, b"k"), Err(StoreError::NotOpen(0))));
        store.open_partition(0).unwrap();
        assert_eq!(store.get(0, b"k").unwrap(), None);
        assert!(store.get(1, b"k").unwrap().is_some());
    }
}
