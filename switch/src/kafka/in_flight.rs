//! Payments in flight to connected networks, rebuilt from the compacted
//! `interlink.payments` topic: every worker reads all of it, so whichever worker gets
//! a network's status report can settle the payment.
//!
//! Settling is exactly once: a settled payment's tombstone is written in the same
//! transaction as its clearing record, the worker forgets the payment only when that
//! transaction commits, and a worker that is given `.in` partitions first reads the
//! topic to its end, so it has seen every tombstone committed before it.

use super::{KafkaEdgeError, QuietEof};
use crate::config::KafkaConfig;
use interlink_core::pipeline::{InFlight, InFlightLookup};
use interlink_schemas::{ClearingRecord, Codec};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct InFlightStore {
    consumer: BaseConsumer<QuietEof>,
    topic: String,
    payments: HashMap<String, ClearingRecord>,
    /// Settled in the open batch: hidden now, forgotten when the batch commits.
    settling: HashSet<String>,
    /// Forwarded in the open batch: in flight when the batch commits. Known here
    /// without reading them back, so this worker settles its own payments without
    /// waiting for the topic.
    forwarding: HashMap<String, ClearingRecord>,
    /// Settled by this worker, their tombstones not yet read back: a payment record
    /// of theirs that the reader meets before the tombstone is not in flight.
    settled: HashSet<String>,
    codec: Codec<ClearingRecord>,
    needs_catch_up: bool,
    /// Read to its end after the record being decided was read: a payment it does not
    /// hold is not in flight (whoever forwarded it committed before the network saw it).
    current: bool,
    /// Partitions whose last poll reached the end of what is committed.
    at_end: HashSet<i32>,
}

impl InFlightStore {
    pub fn open(kafka: &KafkaConfig, topic: &str) -> Result<Self, KafkaEdgeError> {
        let consumer = super::control_reader(kafka, "interlink-payments-reader")?;
        let mut store = Self {
            consumer,
            topic: topic.to_string(),
            payments: HashMap::new(),
            settling: HashSet::new(),
            forwarding: HashMap::new(),
            settled: HashSet::new(),
            codec: Codec::new()?,
            needs_catch_up: true,
            current: false,
            at_end: HashSet::new(),
        };
        store.reset()?;
        Ok(store)
    }

    /// Forgets everything and reads the topic again from its start.
    pub fn reset(&mut self) -> Result<(), KafkaEdgeError> {
        let metadata = self.consumer.fetch_metadata(Some(&self.topic), super::CALL_TIMEOUT)?;
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics().iter().filter(|t| t.name() == self.topic) {
            for p in t.partitions() {
                tpl.add_partition_offset(&self.topic, p.id(), Offset::Beginning)?;
            }
        }
        if tpl.count() == 0 {
            return Err(KafkaEdgeError::MissingTopic(self.topic.clone()));
        }
        self.consumer.assign(&tpl)?;
        self.payments.clear();
        self.settling.clear();
        self.forwarding.clear();
        self.settled.clear();
        self.at_end.clear();
        self.needs_catch_up = true;
        Ok(())
    }

    /// Asks for a full catch-up before the next lookup (after new `.in` partitions).
    pub fn require_catch_up(&mut self) {
        self.needs_catch_up = true;
    }

    /// Brings the view up to date before a network's record (already read) is decided:
    /// reads to the end when new partitions were assigned, which makes the view current
    /// for this record (see [`Self::catch_up`]); otherwise applies what has arrived.
    pub fn prepare(&mut self) -> Result<(), KafkaEdgeError> {
        self.current = false;
        if self.needs_catch_up {
            self.catch_up()?;
        } else {
            self.drain();
        }
        Ok(())
    }

    /// Applies whatever has arrived, without waiting.
    pub fn drain(&mut self) {
        while self.poll_one(Duration::ZERO) {}
    }

    /// Handles one event; false when there was none.
    fn poll_one(&mut self, wait: Duration) -> bool {
        match self.consumer.poll(wait) {
            Some(Ok(m)) => {
                self.at_end.remove(&m.partition());
                let (key, value) = (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec));
                self.apply(key.as_deref(), value.as_deref());
                true
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                self.at_end.insert(p);
                true
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "payments reader");
                true
            }
            None => false,
        }
    }

    fn apply(&mut self, key: Option<&[u8]>, value: Option<&[u8]>) {
        let Some(key) = key.and_then(|k| std::str::from_utf8(k).ok()) else { return };
        match value {
            None => {
                self.payments.remove(key);
                self.settled.remove(key);
            }
            Some(_) if self.settled.contains(key) => {}
            Some(bytes) => match self.codec.decode(bytes) {
                Ok(record) => {
                    self.payments.insert(key.to_string(), record);
                }
                Err(e) => tracing::error!(key, error = %e, "payments topic holds a record that does not decode"),
            },
        }
    }

    /// Reads until every partition's position reaches its current end.
    pub fn catch_up(&mut self) -> Result<(), KafkaEdgeError> {
        let deadline = Instant::now() + CATCH_UP_TIMEOUT;
        let assignment = self.consumer.assignment()?;
        let mut ends = Vec::new();
        for el in assignment.elements() {
            let (_, high) = self.consumer.fetch_watermarks(&self.topic, el.partition(), super::CALL_TIMEOUT)?;
            ends.push((el.partition(), high));
        }
        loop {
            self.drain();
            let positions = self.consumer.position()?;
            // Caught up: the reader reported the end of what is committed, and nothing
            // was appended since but, at most, a transaction marker.
            let behind = ends.iter().any(|(p, high)| {
                let pos = positions.find_partition(&self.topic, *p).and_then(|e| e.offset().to_raw()).unwrap_or(0);
                *high > 0 && !(self.at_end.contains(p) && pos >= high - 1)
            });
            if !behind {
                self.needs_catch_up = false;
                self.current = true;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(KafkaEdgeError::NotReadToEnd { topic: self.topic.clone(), within: CATCH_UP_TIMEOUT });
            }
            self.poll_one(Duration::from_millis(20));
        }
    }

    /// The payment `wire_id` was settled in the open batch.
    pub fn settling(&mut self, wire_id: &str) {
        self.settling.insert(wire_id.to_string());
    }

    /// The payment `wire_id` goes out in the open batch.
    pub fn forwarding(&mut self, wire_id: String, payment: ClearingRecord) {
        self.forwarding.insert(wire_id, payment);
    }

    /// The open batch committed: its settled payments are gone for good, its
    /// forwarded ones in flight.
    pub fn batch_committed(&mut self) {
        for id in self.settling.drain() {
            self.payments.remove(&id);
            self.settled.insert(id);
        }
        for (id, payment) in self.forwarding.drain() {
            self.payments.insert(id, payment);
        }
    }

    /// The open batch was rolled back: its settled payments are in flight again, its
    /// forwarded ones were never sent.
    pub fn batch_discarded(&mut self) {
        self.settling.clear();
        self.forwarding.clear();
    }

    /// What the view holds for `wire_id`, without reading the topic.
    fn lookup(&self, wire_id: &str) -> InFlightLookup {
        if self.settling.contains(wire_id) {
            return InFlightLookup::NotInFlight;
        }
        if let Some(found) = self.payments.get(wire_id) {
            return InFlightLookup::Found(found.clone());
        }
        if self.current {
            InFlightLookup::NotInFlight
        } else {
            InFlightLookup::Unknown
        }
    }
}

/// Lookups through a store that may need to read more of the topic.
pub struct Lookup<'a>(pub RefCell<&'a mut InFlightStore>);

impl InFlight for Lookup<'_> {
    fn get(&self, wire_id: &str) -> InFlightLookup {
        self.0.borrow().lookup(wire_id)
    }
    fn settle(&self, wire_id: &str) {
        self.0.borrow_mut().settling(wire_id);
    }
    fn forward(&self, wire_id: String, payment: ClearingRecord) {
        self.0.borrow_mut().forwarding(wire_id, payment);
    }
}
