//! Producing planned requests and reading output topics.

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A client configuration for `brokers` with the switch's socket settings (Nagle off).
pub fn client(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers).set("socket.nagle.disable", "true");
    c
}

pub struct RequestProducer {
    producer: ThreadedProducer<DefaultProducerContext>,
    topic: String,
}

impl RequestProducer {
    pub fn new(brokers: &str, topic: &str) -> Result<Self, KafkaError> {
        let producer = client(brokers)
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
pub fn end_offsets(brokers: &str, topics: &[&str]) -> Result<TopicPartitionList, KafkaError> {
    let consumer: BaseConsumer = client(brokers).create()?;
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
pub fn output_reader(brokers: &str, from: &TopicPartitionList) -> Result<BaseConsumer, KafkaError> {
    let consumer: BaseConsumer = client(brokers)
        .set("group.id", format!("interlink-verifier-{}", uuid::Uuid::new_v4()))
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
