//! Reads whole topics, every partition, for operators' tools (`interlinkctl settlement
//! reconcile`): what had been committed when each partition's end was reached.

use super::{base_client_config, KafkaEdgeError, QuietEof, CALL_TIMEOUT};
use crate::config::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(100);

/// One record of a topic.
#[derive(Debug, Clone)]
pub struct TopicRecord {
    pub partition: i32,
    pub offset: i64,
    /// The record's Kafka timestamp (ms since the epoch): when its producer wrote it.
    pub timestamp_ms: Option<i64>,
    pub key: Option<Vec<u8>>,
    /// `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// Reads each of `topics` from the start of every partition to its end, `read_committed`
/// (aborted and open transactions are not read), committing nothing. The answer has
/// one entry per topic that exists; topics that do not exist are left out. `timeout`
/// bounds each topic's read.
pub fn read_topics(
    kafka: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<BTreeMap<String, Vec<TopicRecord>>, KafkaEdgeError> {
    let consumer: BaseConsumer<QuietEof> = base_client_config(kafka)
        .set("group.id", super::acls::TOPIC_READER_GROUP) // required by librdkafka; never committed
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        // The end of a partition shows as soon as the broker has nothing more, not after
        // the default half-second wait for more data.
        .set("fetch.wait.max.ms", "10")
        .create_with_context(QuietEof)?;
    let metadata = consumer.fetch_metadata(None, CALL_TIMEOUT)?;
    let mut out = BTreeMap::new();
    for &topic in topics {
        let Some(partitions) = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<i32>>())
        else {
            continue;
        };
        // Partitions that never held a record need no reading.
        let mut partitions_with_records = BTreeSet::new();
        for p in partitions {
            let (low, high) = consumer.fetch_watermarks(topic, p, CALL_TIMEOUT)?;
            if high > low {
                partitions_with_records.insert(p);
            }
        }
        let partitions = partitions_with_records;
        if partitions.is_empty() {
            out.insert(topic.to_string(), Vec::new());
            continue;
        }
        // One topic at a time: an end-of-partition event names the partition only.
        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        let mut pending = partitions;
        let mut records = Vec::new();
        let deadline = Instant::now() + timeout;
        while !pending.is_empty() {
            match consumer.poll(POLL) {
                Some(Ok(m)) if m.topic() == topic => records.push(TopicRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    timestamp_ms: m.timestamp().to_millis(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                }),
                Some(Ok(_)) => {} // left from the previous topic's assignment
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    pending.remove(&p);
                }
                Some(Err(e)) => return Err(e.into()),
                None if Instant::now() > deadline => {
                    return Err(KafkaEdgeError::NotReadToEnd { topic: topic.to_string(), within: timeout })
                }
                None => {}
            }
        }
        records.sort_by_key(|r| (r.partition, r.offset));
        out.insert(topic.to_string(), records);
    }
    consumer.unassign()?;
    Ok(out)
}
