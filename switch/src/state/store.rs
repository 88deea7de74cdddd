//! The worker's local cache of keyed state: an embedded LSM store (fjall) on disk,
//! one pair of keyspaces per input partition: the entries, and an index of them by
//! expiry. It holds only what has committed to the changelog; the changelog is the
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
    /// `<expires_at big-endian><key>` -> empty.
    by_expiry: fjall::Keyspace,
}

pub struct LocalStore {
    dir: PathBuf,
    db: fjall::Database,
    partitions: BTreeMap<i32, Partition>,
}

/// An entry as the expiry index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub expires_at: i64,
    pub key: Vec<u8>,
    pub index_key: Vec<u8>,
}

/// A write to apply: a value, or `None` to delete.
pub type Write<'a> = (&'a [u8], Option<&'a [u8]>);

impl LocalStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Checkpoint { path: dir.to_path_buf(), source })?;
        let db = fjall::Database::builder(dir.join("db")).open().map_err(|e| Self::fjall_error(dir, e))?;
        Ok(Self { dir: dir.to_path_buf(), db, partitions: BTreeMap::new() })
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
            let open = |name: String| self.db.keyspace(&name, fjall::KeyspaceCreateOptions::default);
            let part = Partition {
                entries: open(format!("entries-{p}")).map_err(|e| self.err(e))?,
                by_expiry: open(format!("expiry-{p}")).map_err(|e| self.err(e))?,
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

    /// Applies writes to partition `p` atomically.
    pub fn apply<'a>(&mut self, p: i32, writes: impl IntoIterator<Item = Write<'a>>) -> Result<(), StoreError> {
        self.open_partition(p)?;
        let part = &self.partitions[&p];
        let mut batch = self.db.batch();
        for (key, value) in writes {
            match value {
                Some(value) => {
                    batch.insert(&part.entries, key, value);
                    if let Some(at) = memory::expires_at(value) {
                        batch.insert(&part.by_expiry, expiry_key(at, key), b"");
                    }
                }
                None => {
                    // Deletes are rare (expiries): read the old entry to drop its index.
                    let old = part.entries.get(key).map_err(|e| Self::fjall_error(&self.dir, e))?;
                    if let Some(at) = old.as_deref().and_then(memory::expires_at) {
                        batch.remove(&part.by_expiry, expiry_key(at, key));
                    }
                    batch.remove(&part.entries, key);
                }
            }
        }
        batch.commit().map_err(|e| self.err(e))
    }

    /// Up to `limit` entries of partition `p` indexed as expiring at or before `now`,
    /// oldest first, as (key, index key). An index entry may be stale (its entry since
    /// rewritten or deleted); the caller checks the entry and drops stale ones.
    pub fn due(&self, p: i32, now: i64, limit: usize) -> Result<Vec<Indexed>, StoreError> {
        let part = self.partition(p)?;
        let end = expiry_key(now.saturating_add(1), &[]);
        let mut due = Vec::new();
        for item in part.by_expiry.range(..end.as_slice()).take(limit) {
            let index_key = item.key().map_err(|e| Self::fjall_error(&self.dir, e))?;
            let at = i64::from_be_bytes(index_key[..8].try_into().expect("index keys start with 8 bytes"));
            due.push(Indexed { expires_at: at, key: index_key[8..].to_vec(), index_key: index_key.to_vec() });
        }
        Ok(due)
    }

    /// Drops an index entry whose entry is gone or was rewritten.
    pub fn drop_index(&self, p: i32, index_key: &[u8]) -> Result<(), StoreError> {
        let part = self.partition(p)?;
        part.by_expiry.remove(index_key).map_err(|e| Self::fjall_error(&self.dir, e))
    }

    /// Forgets partition `p` (to rebuild it from the start of its changelog).
    pub fn wipe(&mut self, p: i32) -> Result<(), StoreError> {
        self.open_partition(p)?;
        let part = self.partitions.remove(&p).expect("opened above");
        self.db.delete_keyspace(part.entries).map_err(|e| self.err(e))?;
        self.db.delete_keyspace(part.by_expiry).map_err(|e| self.err(e))
    }

    /// Entries held for partition `p` (approximate; for metrics and tests).
    pub fn approximate_len(&self, p: i32) -> Result<u64, StoreError> {
        Ok(self.partition(p)?.entries.approximate_len() as u64)
    }

    /// Makes everything written so far durable, then records `checkpoints`: a
    /// checkpoint never claims more than the disk holds.
    pub fn checkpoint(&self, checkpoints: &Checkpoints) -> Result<(), StoreError> {
        self.db.persist(fjall::PersistMode::SyncAll).map_err(|e| self.err(e))?;
        let path = self.checkpoint_path();
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec(checkpoints).expect("a map of integers serializes");
        let io = |source| StoreError::Checkpoint { path: path.clone(), source };
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
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
        self.dir.join("checkpoint.json")
    }
}

/// Index key: expiry first, so a range scan finds what is due in order. Expiry times
/// are positive (µs since 1970), so their big-endian bytes sort as numbers.
fn expiry_key(at: i64, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + key.len());
    k.extend_from_slice(&at.max(0).to_be_bytes());
    k.extend_from_slice(key);
    k
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

    #[test]
    fn writes_reads_expiry_order_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        let (a, b, c) = (value(300), value(100), value(200));
        store.apply(0, [(&b"a"[..], Some(&a[..])), (b"b", Some(&b[..])), (b"c", Some(&c[..]))]).unwrap();
        store.apply(1, [(&b"a"[..], Some(&b[..]))]).unwrap();
        assert_eq!(store.get(0, b"a").unwrap(), Some(a.clone()));
        store.open_partition(2).unwrap();
        assert_eq!(store.get(2, b"a").unwrap(), None, "partitions are separate");
        let due: Vec<_> = store.due(0, 250, 10).unwrap().into_iter().map(|i| (i.expires_at, i.key)).collect();
        assert_eq!(due, [(100, b"b".to_vec()), (200, b"c".to_vec())], "oldest first, only what is due");
        store.apply(0, [(&b"b"[..], None)]).unwrap();
        assert_eq!(store.get(0, b"b").unwrap(), None);
        let due: Vec<_> = store.due(0, 250, 10).unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(due, [b"c".to_vec()], "a delete drops its index entry");
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
