//! Reading the state changelog: restoring a partition's store on assignment, and the
//! changelog ends a checkpoint records.

use super::{KafkaEdgeError, QuietEof, CALL_TIMEOUT};
use crate::config::KafkaConfig;
use crate::state::{KeyedState, RestoreFrom};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// Records applied to the store per write batch while restoring.
const RESTORE_CHUNK: usize = 4_096;

pub struct ChangelogReader {
    consumer: BaseConsumer<QuietEof>,
    topic: String,
    /// A restore waits at most this long for open transactions on the partition to
    /// end (a crashed owner's is aborted when its transaction times out).
    restore_timeout: Duration,
}

/// How one partition's restore went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub from: RestoreFrom,
    pub records: u64,
    pub end: i64,
    pub took: Duration,
}

impl ChangelogReader {
    pub fn open(kafka: &KafkaConfig, topic: &str) -> Result<Self, KafkaEdgeError> {
        let consumer = super::control_reader(kafka, super::acls::STATE_RESTORE_GROUP)?;
        let restore_timeout = Duration::from_millis(u64::from(kafka.transaction_timeout_ms)) + Duration::from_secs(30);
        Ok(Self { consumer, topic: topic.to_string(), restore_timeout })
    }

    /// Partition count of `topic`, or an error naming it when it does not exist.
    pub fn partition_count(&self, topic: &str) -> Result<usize, KafkaEdgeError> {
        let metadata = self.consumer.fetch_metadata(Some(topic), CALL_TIMEOUT)?;
        let partitions = metadata.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len());
        if partitions == 0 {
            return Err(KafkaEdgeError::MissingTopic(topic.to_string()));
        }
        Ok(partitions)
    }

    /// Refuses to run when the changelog is not partitioned like `input`: state of
    /// input partition `p` is changelog partition `p`.
    pub fn check_co_partitioned(&self, input: &str) -> Result<(), KafkaEdgeError> {
        let (inputs, changelog) = (self.partition_count(input)?, self.partition_count(&self.topic)?);
        if inputs != changelog {
            return Err(KafkaEdgeError::NotCoPartitioned {
                input: input.to_string(),
                input_partitions: inputs,
                changelog: self.topic.clone(),
                changelog_partitions: changelog,
            });
        }
        Ok(())
    }

    /// The offset after the last record of changelog partition `p`.
    pub fn end(&self, p: i32) -> Result<i64, KafkaEdgeError> {
        Ok(self.consumer.fetch_watermarks(&self.topic, p, CALL_TIMEOUT)?.1)
    }

    /// Reads changelog partition `p` into `state`, from its checkpoint (or from the
    /// start) to the end of what is committed.
    pub fn restore(&mut self, state: &mut KeyedState, p: i32) -> Result<Restored, KafkaEdgeError> {
        let started = Instant::now();
        let end = self.end(p)?;
        let from = state.restore_start(p, end)?;
        let offset = match from {
            RestoreFrom::Checkpoint(o) => Offset::Offset(o),
            RestoreFrom::Beginning => Offset::Beginning,
        };
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, p, offset)?;
        self.consumer.assign(&tpl)?;
        let mut records = 0u64;
        let mut chunk: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::with_capacity(RESTORE_CHUNK);
        let flush = |state: &mut KeyedState, chunk: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>| {
            let applied = state.apply_restored(p, chunk.iter().map(|(k, v)| (k.as_slice(), v.as_deref())));
            chunk.clear();
            applied
        };
        let mut at_end = matches!(from, RestoreFrom::Checkpoint(o) if o >= end) || end == 0;
        let deadline = started + self.restore_timeout;
        while !at_end {
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    if let Some(key) = m.key() {
                        chunk.push((key.to_vec(), m.payload().map(<[u8]>::to_vec)));
                        records += 1;
                        if chunk.len() >= RESTORE_CHUNK {
                            flush(state, &mut chunk)?;
                        }
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    // The end of what is committed; past it, at most a transaction
                    // marker may sit before the end read at the start.
                    let position = self.position(p)?;
                    at_end = position >= end - 1;
                }
                Some(Err(e)) => tracing::warn!(error = %e, partition = p, "state changelog reader"),
                // Quiet: an end-of-partition event may have been for an earlier end
                // (before an open transaction ended).
                None => at_end = self.position(p)? >= end,
            }
            if !at_end && Instant::now() > deadline {
                return Err(KafkaEdgeError::NotReadToEnd { topic: self.topic.clone(), within: self.restore_timeout });
            }
        }
        flush(state, &mut chunk)?;
        let position = self.position(p)?.max(end);
        state.restored(p, position);
        self.consumer.unassign()?;
        Ok(Restored { from, records, end: position, took: started.elapsed() })
    }

    fn position(&self, p: i32) -> Result<i64, KafkaEdgeError> {
        let positions = self.consumer.position()?;
        Ok(positions.find_partition(&self.topic, p).and_then(|e| e.offset().to_raw()).unwrap_or(0))
    }
}
