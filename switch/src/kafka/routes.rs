//! Reads the routes log: to its end before the worker starts, then follows it and
//! publishes each new table as one `Arc` swap.

use super::{base_client_config, patiently, KafkaEdgeError, QuietEof};
use crate::config::KafkaConfig;
use crate::health::{Health, Part};
use crate::telemetry;
use interlink_routing::{RoutingLog, RoutingTable};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const POLL: Duration = Duration::from_millis(100);

type RoutesConsumer = BaseConsumer<QuietEof>;

fn routes_consumer(kafka: &KafkaConfig, topic: &str) -> Result<RoutesConsumer, KafkaEdgeError> {
    let consumer: RoutesConsumer = base_client_config(kafka)
        .set("group.id", super::acls::ROUTES_READER_GROUP) // required by librdkafka; never committed
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create_with_context(QuietEof)?;
    // A topic created a moment ago may take a while to show in metadata on a busy
    // broker (5 s was once too short for a test under load).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let exists =
            metadata.topics().iter().any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
        if exists {
            break;
        }
        if Instant::now() > deadline {
            return Err(KafkaEdgeError::MissingTopic(topic.to_string()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    Ok(consumer)
}

/// Applies one record to the log; returns whether a change set closed.
fn apply(log: &mut RoutingLog, key: Option<&[u8]>, value: Option<&[u8]>, compile: bool) -> Option<Arc<RoutingTable>> {
    let result = log.read(key.unwrap_or_default(), value).and_then(|marker| match marker {
        Some(m) => log.close(m, compile),
        None => Ok(None),
    });
    match result {
        Ok(table) => table,
        Err(e) => {
            telemetry::routing_error("record");
            tracing::error!(error = %e, "routes log: record refused; the table in use is unchanged");
            None
        }
    }
}

/// A record's key and value (`None` for a tombstone).
pub type KeyedRecord = (Vec<u8>, Option<Vec<u8>>);

/// Reads a one-partition control topic (routes, audit) from the start to its end.
pub fn read_to_end(kafka: &KafkaConfig, topic: &str, timeout: Duration) -> Result<Vec<KeyedRecord>, KafkaEdgeError> {
    let consumer = routes_consumer(kafka, topic)?;
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    loop {
        match consumer.poll(POLL) {
            Some(Ok(m)) => records.push((m.key().unwrap_or_default().to_vec(), m.payload().map(<[u8]>::to_vec))),
            Some(Err(KafkaError::PartitionEOF(_))) => return Ok(records),
            Some(Err(e)) => return Err(e.into()),
            None if Instant::now() > deadline => {
                return Err(KafkaEdgeError::NotReadToEnd { topic: topic.to_string(), within: timeout })
            }
            None => {}
        }
    }
}

/// Reads the routes log to its end.
pub fn read_routes_log(kafka: &KafkaConfig, topic: &str, timeout: Duration) -> Result<RoutingLog, KafkaEdgeError> {
    let consumer = routes_consumer(kafka, topic)?;
    let (log, _) = catch_up(&consumer, timeout)?;
    Ok(log)
}

fn catch_up(consumer: &RoutesConsumer, timeout: Duration) -> Result<(RoutingLog, usize), KafkaEdgeError> {
    let mut log = RoutingLog::new();
    let deadline = Instant::now() + timeout;
    let mut records = 0usize;
    loop {
        match consumer.poll(POLL) {
            Some(Ok(m)) => {
                records += 1;
                apply(&mut log, m.key(), m.payload(), false);
            }
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(Err(e)) => return Err(e.into()),
            None if Instant::now() > deadline => {
                return Err(KafkaEdgeError::NotReadToEnd { topic: "the routes log".into(), within: timeout })
            }
            None => {}
        }
    }
    if log.version() > 0 {
        if let Err(e) = log.compile() {
            telemetry::routing_error("compile");
            tracing::error!(error = %e, "routes log: the latest table does not compile");
        }
    }
    Ok((log, records))
}

/// Reads the log to its end, publishes the table, then follows the log until
/// `shutdown`, publishing every new version. Brokers out of reach at the start are
/// waited for (and reported to `health`).
pub fn follow_routes(
    kafka: &KafkaConfig,
    topic: &str,
    tables: watch::Sender<Arc<RoutingTable>>,
    shutdown: CancellationToken,
    health: &Health,
) -> Result<(), KafkaEdgeError> {
    let started = Instant::now();
    let caught_up = patiently(Part::Routes, health, &shutdown, || {
        let consumer = routes_consumer(kafka, topic)?;
        let (log, records) = catch_up(&consumer, Duration::from_secs(600))?;
        Ok((consumer, log, records))
    })?;
    let Some((consumer, mut log, records)) = caught_up else { return Ok(()) };
    let table = log.table();
    tracing::info!(version = table.version(), rules = table.rule_count(), records, took = ?started.elapsed(), "routing table loaded");
    telemetry::routing_table(table.version(), table.rule_count());
    tables.send_replace(table);
    while !shutdown.is_cancelled() {
        match consumer.poll(POLL) {
            Some(Ok(m)) => {
                if let Some(table) = apply(&mut log, m.key(), m.payload(), true) {
                    tracing::info!(version = table.version(), rules = table.rule_count(), "routing table switched");
                    telemetry::routing_table(table.version(), table.rule_count());
                    tables.send_replace(table);
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => {
                telemetry::routing_error("consume");
                tracing::warn!(error = %e, "routes log: consume error");
            }
        }
    }
    Ok(())
}
