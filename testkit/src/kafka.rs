//! Producing planned requests and reading output topics.

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Groups of the verifier's output readers start with this.
pub const VERIFIER_GROUP_PREFIX: &str = "interlink-client-verifier-";

/// How to reach the brokers: the bootstrap servers and any TLS or SASL settings, as a
/// base librdkafka configuration every client of a run starts from. Its `Debug` shows
/// the brokers and the security protocol, never credentials.
#[derive(Clone)]
pub struct Connection {
    base: ClientConfig,
}

impl Connection {
    /// Plaintext to `brokers`.
    pub fn new(brokers: &str) -> Self {
        let mut base = ClientConfig::new();
        base.set("bootstrap.servers", brokers);
        Self { base }
    }

    /// From a complete base configuration (bootstrap servers, security settings), such
    /// as the switch's `base_client_config`.
    pub fn from_config(base: ClientConfig) -> Self {
        Self { base }
    }

    pub fn brokers(&self) -> &str {
        self.base.get("bootstrap.servers").unwrap_or_default()
    }

    /// A client configuration with the switch's socket settings (Nagle off).
    pub fn client(&self) -> ClientConfig {
        let mut c = self.base.clone();
        c.set("socket.nagle.disable", "true");
        c
    }
}

impl From<&str> for Connection {
    fn from(brokers: &str) -> Self {
        Self::new(brokers)
    }
}

impl From<String> for Connection {
    fn from(brokers: String) -> Self {
        Self::new(&brokers)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("brokers", &self.brokers())
            .field("security_protocol", &self.base.get("security.protocol").unwrap_or("plaintext"))
            .field("sasl_username", &self.base.get("sasl.username"))
            .finish()
    }
}

/// A client configuration for `kafka` with the switch's socket settings (Nagle off).
pub fn client(kafka: &Connection) -> ClientConfig {
    kafka.client()
}

pub struct RequestProducer {
    producer: ThreadedProducer<DefaultProducerContext>,
    topic: String,
}

impl RequestProducer {
    pub fn new(kafka: &Connection, topic: &str) -> Result<Self, KafkaError> {
        let producer = client(kafka)
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "1000000")
            // Where the Java client puts a key (the requests topic's key contract).
            .set("partitioner", "murmur2_random")
            .create()?;
        Ok(Self { producer, topic: topic.to_string() })
    }

    /// Queues one request, keyed by its transaction id.
    pub fn send(&self, key: &str, payload: &[u8]) -> Result<(), KafkaError> {
        send(&self.producer, &self.topic, key.as_bytes(), payload)
    }

    /// Waits until the producer is connected to the leaders of its topic.
    pub fn connect(&self) -> Result<(), KafkaError> {
        self.producer.client().fetch_metadata(Some(&self.topic), TIMEOUT).map(|_| ())
    }

    pub fn flush(&self) -> Result<(), KafkaError> {
        self.producer.flush(TIMEOUT)
    }
}

/// Queues one record, waiting while the producer's queue is full.
pub fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    key: &[u8],
    payload: &[u8],
) -> Result<(), KafkaError> {
    let mut record = BaseRecord::to(topic).key(key).payload(payload);
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                // The producer's own thread serves the deliveries that make room.
                std::thread::sleep(Duration::from_millis(2));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// High watermarks of every partition of `topics`: where a run's outputs begin.
pub fn end_offsets(kafka: &Connection, topics: &[&str]) -> Result<TopicPartitionList, KafkaError> {
    let consumer: BaseConsumer = client(kafka).create()?;
    let mut tpl = TopicPartitionList::new();
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in md.topics() {
            for p in t.partitions() {
                let (_, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
                tpl.add_partition_offset(topic, p.id(), Offset::Offset(high))?;
            }
        }
    }
    Ok(tpl)
}

/// A `read_committed` reader of output topics from given offsets.
pub fn output_reader(kafka: &Connection, from: &TopicPartitionList) -> Result<BaseConsumer, KafkaError> {
    let consumer: BaseConsumer = client(kafka)
        // Under the client group prefix the ACLs give banks and the load test
        // (`interlinkctl acls`); assigned, never committed.
        .set("group.id", format!("{VERIFIER_GROUP_PREFIX}{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        // Short fetch waits: the wait is part of the latency the verifier measures.
        .set("fetch.wait.max.ms", "10")
        .create()?;
    consumer.assign(from)?;
    Ok(consumer)
}

/// Whether `consumer` has read every partition up to the current last stable offset.
pub fn caught_up(consumer: &BaseConsumer) -> Result<bool, KafkaError> {
    let positions = consumer.position()?;
    let deadline = Instant::now() + TIMEOUT;
    for el in positions.elements() {
        let (_, high) = consumer.fetch_watermarks(el.topic(), el.partition(), deadline - Instant::now())?;
        let pos = match el.offset() {
            Offset::Offset(o) => o,
            _ => continue,
        };
        if pos < high {
            return Ok(false);
        }
    }
    Ok(true)
}
