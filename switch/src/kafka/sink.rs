//! Where a batch's outputs go and how a batch commits, per consistency mode.
//!
//! Exactly-once: outputs, state changes and consumed offsets commit in one Kafka
//! transaction (KIP-447). At-least-once: outputs are flushed and acknowledged, then
//! the consumed offsets commit. A batch that certainly did not commit rewinds the
//! consumer to the batch's first offsets; one whose outcome is unknown (a commit that
//! timed out) repositions it at the group's committed offsets, read back from the
//! broker, so nothing is lost and nothing decided twice.

use super::{base_client_config, kafka_severity, KafkaEdgeError, Severity, CALL_TIMEOUT};
use crate::config::{ConsistencyMode, SwitchConfig, TopicsConfig};
use crate::health::{Health, Part};
use crate::telemetry;
use interlink_core::pipeline::{OutputRecord, OutputTopic};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a worker keeps trying to rebuild its producer before it gives up and stops.
const REBUILD_PATIENCE: Duration = Duration::from_secs(300);

/// Seeks every listed partition, failing if any one of them cannot be: a partition left
/// where it was would skip or repeat records.
fn seek_all<C: ConsumerContext>(consumer: &BaseConsumer<C>, to: TopicPartitionList) -> Result<(), KafkaEdgeError> {
    let sought = consumer.seek_partitions(to, CALL_TIMEOUT).map_err(KafkaEdgeError::Seek)?;
    match sought.elements().iter().find_map(|el| el.error().err()) {
        Some(e) => Err(KafkaEdgeError::Seek(e)),
        None => Ok(()),
    }
}

/// Counts failed deliveries, which at-least-once checks before committing offsets.
#[derive(Default, Clone)]
pub struct DeliveryTracker {
    failed: Arc<AtomicU64>,
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "delivery failed");
        }
    }
}

type OutputProducer = ThreadedProducer<DeliveryTracker>;

/// Waits until every queued message is delivered (or failed) and its delivery
/// report served by the producer's thread.
pub fn wait_for_deliveries<C: ProducerContext>(
    producer: &ThreadedProducer<C>,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let deadline = Instant::now() + timeout;
    while producer.in_flight_count() > 0 {
        if Instant::now() >= deadline {
            return Err(KafkaError::Flush(RDKafkaErrorCode::MessageTimedOut));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// The topics a worker consumes: requests, forwards, then each connected network's
/// `.in` topic. All are partitioned alike, and partition `p` of each goes to the worker
/// that holds state partition `p`.
pub fn input_topics(config: &SwitchConfig) -> Vec<String> {
    [config.topics.requests.clone(), config.topics.forwards.clone()]
        .into_iter()
        .chain(config.networks.connected.iter().map(|n| config.topics.network_in(n)))
        .collect()
}

/// Offsets of the open batch, per input partition.
#[derive(Default)]
struct OpenBatch {
    /// (input topic index, partition) -> (first offset read, next offset to read)
    offsets: FxHashMap<(usize, i32), (i64, i64)>,
    records: usize,
    outputs: usize,
    started: Option<Instant>,
}

/// How a commit attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Nothing,
    Batch {
        records: usize,
    },
    /// The batch was abandoned and the consumer rewound to re-read it.
    RolledBack,
    /// The batch's outcome is unknown (it may have committed): the producer was
    /// rebuilt, which settles it, and the consumer repositioned at the group's
    /// committed offsets. Whatever the worker holds of that batch may be wrong and
    /// must be read again from Kafka.
    Reset,
}

/// How adding a record to the open batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Added {
    Queued,
    /// The batch failed on the way and was given up (see [`Committed`]).
    Failed(Committed),
}

pub struct BatchSink {
    mode: ConsistencyMode,
    producer: OutputProducer,
    tracker: DeliveryTracker,
    producer_config: rdkafka::ClientConfig,
    transactional_id: String,
    /// Every topic the worker consumes; batches key offsets by index into it.
    input_topics: Vec<String>,
    topics: TopicsConfig,
    /// `.out` topic of each connected network.
    network_out: FxHashMap<&'static str, String>,
    in_transaction: bool,
    batch: OpenBatch,
    /// How long a batch's transaction may stay open, from its first record to the end
    /// of its commit: the transaction timeout less a margin, so that the coordinator
    /// never aborts a transaction this worker still means to commit.
    transaction_budget: Duration,
    health: Arc<Health>,
    /// Why the last batch failed, for /readyz.
    last_failure: Option<String>,
}

impl BatchSink {
    pub fn new(config: &SwitchConfig, health: Arc<Health>) -> Result<Self, KafkaEdgeError> {
        let mut pc = base_client_config(&config.kafka);
        pc.set("linger.ms", config.pipeline.linger_ms.to_string())
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "none")
            .set("queue.buffering.max.messages", "1000000")
            .set("batch.num.messages", "10000")
            // Keyed records land where the Java client would put them: a request the
            // switch writes meets the state of requests that banks' producers write.
            .set("partitioner", "murmur2_random");
        let transactional_id = config.transactional_id();
        if config.pipeline.consistency == ConsistencyMode::ExactlyOnce {
            let txn_timeout = config.kafka.transaction_timeout_ms;
            pc.set("transactional.id", &transactional_id)
                .set("transaction.timeout.ms", txn_timeout.to_string())
                // A message must fail before its transaction times out.
                .set("message.timeout.ms", (txn_timeout.saturating_sub(5_000).max(1_000)).to_string());
        }
        let tracker = DeliveryTracker::default();
        let producer = Self::create_producer(&pc, &tracker, config.pipeline.consistency)?;
        Ok(Self {
            mode: config.pipeline.consistency,
            producer,
            tracker,
            producer_config: pc,
            transactional_id,
            input_topics: input_topics(config),
            topics: config.topics.clone(),
            network_out: interlink_connectors::connectors()
                .map(|c| (c.profile().id, config.topics.network_out(c.profile().id)))
                .collect(),
            in_transaction: false,
            batch: OpenBatch::default(),
            transaction_budget: config.transaction_budget(),
            health,
            last_failure: None,
        })
    }

    fn create_producer(
        pc: &rdkafka::ClientConfig,
        tracker: &DeliveryTracker,
        mode: ConsistencyMode,
    ) -> Result<OutputProducer, KafkaEdgeError> {
        let producer: OutputProducer = pc.create_with_context(tracker.clone())?;
        if mode == ConsistencyMode::ExactlyOnce {
            // Fences any earlier incarnation with the same transactional id and
            // aborts the transaction it left open.
            producer.init_transactions(CALL_TIMEOUT).map_err(|e| match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced) => {
                    KafkaEdgeError::Fenced(pc.get("transactional.id").unwrap_or_default().to_string())
                }
                _ => KafkaEdgeError::Kafka(e),
            })?;
        }
        Ok(producer)
    }

    pub fn records(&self) -> usize {
        self.batch.records
    }

    pub fn batch_age(&self) -> Option<Duration> {
        self.batch.started.map(|s| s.elapsed())
    }

    /// Adds one consumed record (`None` for state housekeeping, such as expiries) and
    /// its outputs to the open batch. State outputs are not sent here: the keyed state
    /// holds the batch's last value per key, and [`Self::add_state`] sends those once,
    /// just before the commit.
    pub fn add<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        record: Option<(&str, i32, i64)>,
        outputs: &[OutputRecord],
    ) -> Result<Added, KafkaEdgeError> {
        if let Some((topic, partition, offset)) = record {
            let index = self
                .input_topics
                .iter()
                .position(|t| t == topic)
                .ok_or_else(|| KafkaEdgeError::UnexpectedTopic(topic.to_string()))?;
            // Offsets first, so that any failure below rewinds to include this record.
            let entry = self.batch.offsets.entry((index, partition)).or_insert((offset, offset + 1));
            entry.1 = offset + 1;
            self.batch.records += 1;
        }
        if let Some(failed) = self.begin(consumer)? {
            return Ok(Added::Failed(failed));
        }
        for out in outputs {
            let topic = match out.topic {
                OutputTopic::State => continue,
                OutputTopic::Clearing => &self.topics.clearing,
                OutputTopic::Notifications => &self.topics.notifications,
                OutputTopic::DeadLetters => &self.topics.dead_letters,
                OutputTopic::Forwards => &self.topics.forwards,
                OutputTopic::Requests => &self.topics.requests,
                OutputTopic::NetworkOut(network) => &self.network_out[network],
                OutputTopic::Returns => &self.topics.returns,
                OutputTopic::RiskAlerts => &self.topics.risk_alerts,
                OutputTopic::Settlement => &self.topics.settlement,
            };
            let sent = send(&self.producer, topic, None, out.key.as_deref(), out.payload.as_deref());
            if let Err(e) = sent {
                return self.recover(consumer, e, "produce").map(Added::Failed);
            }
            self.batch.outputs += 1;
        }
        Ok(Added::Queued)
    }

    /// Sends the open batch's state writes, `(changelog partition, key, value or
    /// tombstone)`, one per key: a key written many times in a batch (a bank's netting
    /// book, a busy person's usage) costs one changelog record.
    pub fn add_state<'a, C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        writes: impl IntoIterator<Item = (i32, &'a [u8], Option<&'a [u8]>)>,
    ) -> Result<Added, KafkaEdgeError> {
        let mut writes = writes.into_iter().peekable();
        if writes.peek().is_none() {
            return Ok(Added::Queued);
        }
        if let Some(failed) = self.begin(consumer)? {
            return Ok(Added::Failed(failed));
        }
        for (partition, key, value) in writes {
            if let Err(e) = send(&self.producer, &self.topics.state, Some(partition), Some(key), value) {
                return self.recover(consumer, e, "produce").map(Added::Failed);
            }
            self.batch.outputs += 1;
        }
        Ok(Added::Queued)
    }

    /// Opens the batch (and, exactly-once, its transaction) if it is not open yet;
    /// `Some` when that failed and the batch was given up.
    fn begin<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) -> Result<Option<Committed>, KafkaEdgeError> {
        self.batch.started.get_or_insert_with(Instant::now);
        if self.mode == ConsistencyMode::ExactlyOnce && !self.in_transaction {
            if let Err(e) = self.producer.begin_transaction() {
                // Given up: the record will be read again.
                return self.recover(consumer, e, "begin").map(Some);
            }
            self.in_transaction = true;
        }
        Ok(None)
    }

    /// Commits the open batch: outputs and offsets together (exactly-once), or
    /// outputs acknowledged then offsets (at-least-once).
    pub fn commit<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) -> Result<Committed, KafkaEdgeError> {
        if self.batch.records == 0 && self.batch.outputs == 0 {
            return Ok(Committed::Nothing);
        }
        let started = Instant::now();
        // Every call of the commit shares what is left of the transaction's budget, so
        // the worst-case batch ends within the transaction timeout (see
        // docs/reliability.md, "Transaction timeout").
        let deadline = self.batch.started.unwrap_or(started) + self.transaction_budget;
        let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let mut offsets = TopicPartitionList::new();
        for (&(t, p), &(_, next)) in &self.batch.offsets {
            offsets.add_partition_offset(&self.input_topics[t], p, Offset::Offset(next))?;
        }
        // Wait for the batch's deliveries here: rdkafka's own flush (which
        // commit_transaction calls) naps 100 ms at a time while our delivery thread
        // takes the events; with nothing left in flight it returns at once.
        let delivered = wait_for_deliveries(&self.producer, left());
        let result = match (delivered, self.mode) {
            (Err(e), _) => Err(e),
            (Ok(()), ConsistencyMode::ExactlyOnce) => {
                let group = consumer.group_metadata().ok_or(KafkaEdgeError::NoGroupMetadata)?;
                let sent = match offsets.count() {
                    0 => Ok(()), // housekeeping only (state expiries): no input consumed
                    _ => self.producer.send_offsets_to_transaction(&offsets, &group, left()),
                };
                sent.and_then(|()| self.producer.commit_transaction(left()))
            }
            (Ok(()), ConsistencyMode::AtLeastOnce) => match self.tracker.failed.swap(0, Ordering::Relaxed) {
                0 if offsets.count() == 0 => Ok(()),
                0 => consumer.commit(&offsets, CommitMode::Sync),
                n => Err(KafkaError::MessageProduction(RDKafkaErrorCode::Fail))
                    .inspect_err(|_| tracing::warn!(failed = n, "outputs not acknowledged; re-reading the batch")),
            },
        };
        match result {
            Ok(()) => {
                let records = self.batch.records;
                telemetry::committed(records, started.elapsed());
                telemetry::produced("all", self.batch.outputs as u64);
                self.in_transaction = false;
                self.batch = OpenBatch::default();
                self.last_failure = None;
                Ok(Committed::Batch { records })
            }
            Err(e) => self.recover(consumer, e, "commit"),
        }
    }

    /// Gives the open batch up without rewinding: its partitions are being taken
    /// away, and their next owner starts from the last committed offsets.
    pub fn abandon(&mut self) {
        if self.in_transaction {
            if let Err(e) = self.producer.abort_transaction(CALL_TIMEOUT) {
                tracing::warn!(error = %e, "abort failed; rebuilding the producer");
                self.rebuild_quietly();
            }
            telemetry::aborted("revoked");
        }
        self.in_transaction = false;
        self.batch = OpenBatch::default();
    }

    /// Handles a failed batch. When the transaction can be aborted, it is, and the
    /// consumer rewinds to the batch's first offsets. Otherwise (a fatal error, or an
    /// unknown outcome such as a commit that timed out) the producer is rebuilt, which
    /// settles the old transaction whichever way the coordinator had it, and the
    /// consumer is repositioned at the group's committed offsets read back from the
    /// broker: rewinding blindly would decide a batch twice if it had committed.
    /// A fenced producer or a failed repositioning is returned as an error.
    fn recover<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        error: KafkaError,
        stage: &'static str,
    ) -> Result<Committed, KafkaEdgeError> {
        tracing::warn!(%error, stage, "batch failed; rolling back and re-reading it");
        self.last_failure = Some(format!("{stage}: {error}"));
        telemetry::aborted(stage);
        let severity = kafka_severity(&error);
        if let Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced) = error.rdkafka_error_code() {
            return Err(KafkaEdgeError::Fenced(self.transactional_id.clone()));
        }
        let abortable = severity == Severity::Abortable && matches!(error, KafkaError::Transaction(_));
        if self.abort_open(abortable)? {
            self.rewind(consumer, None)
        } else {
            self.reset_to_committed(consumer)
        }
    }

    /// Forgets the open batch and seeks every assigned partition to the group's
    /// committed offset (the broker's answer waits for any transaction still
    /// settling, KIP-447).
    fn reset_to_committed<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
    ) -> Result<Committed, KafkaEdgeError> {
        self.batch = OpenBatch::default();
        let assignment = consumer.assignment().map_err(KafkaEdgeError::Seek)?;
        if assignment.count() == 0 {
            return Ok(Committed::Reset);
        }
        // Never given up half-way (`|| false`): nothing is sought until every offset is known.
        let never = || false;
        if let Some(start) =
            super::offsets::committed_start(consumer, &assignment, &self.health, REBUILD_PATIENCE, &never)?
        {
            seek_all(consumer, start)?;
        }
        tracing::warn!("outcome of the batch unknown; resumed from the group's committed offsets");
        Ok(Committed::Reset)
    }

    /// Gives the open batch up and rewinds to re-read it together with the record at
    /// `pending` (which was read but not yet added): a record that cannot be decided
    /// now (`why`) is never decided half-way.
    pub fn roll_back<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        pending: (&str, i32, i64),
        why: &'static str,
    ) -> Result<Committed, KafkaEdgeError> {
        telemetry::aborted(why);
        if self.abort_open(true)? {
            self.rewind(consumer, Some(pending))
        } else {
            self.reset_to_committed(consumer)
        }
    }

    /// Ends the open transaction: an abort when `abortable`, else (a fatal, retriable
    /// or unknown outcome) a fresh producer with the same transactional id, which bumps
    /// the epoch and fences whatever is in flight (librdkafka lacks KIP-890, so a late
    /// commit must not reach a new transaction). True when the batch certainly did not
    /// commit.
    fn abort_open(&mut self, abortable: bool) -> Result<bool, KafkaEdgeError> {
        let mut certain = true;
        if self.mode == ConsistencyMode::ExactlyOnce {
            let aborted = !self.in_transaction || (abortable && self.producer.abort_transaction(CALL_TIMEOUT).is_ok());
            if !aborted {
                let fresh = self.rebuild_producer()?;
                drop(std::mem::replace(&mut self.producer, fresh));
                certain = false;
            }
        } else {
            self.tracker.failed.store(0, Ordering::Relaxed);
        }
        self.in_transaction = false;
        Ok(certain)
    }

    /// Seeks every partition of the open batch back to its first offset (and the
    /// `pending` record's partition to it), then forgets the batch.
    fn rewind<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        pending: Option<(&str, i32, i64)>,
    ) -> Result<Committed, KafkaEdgeError> {
        let mut rewind = TopicPartitionList::new();
        for (&(t, p), &(first, _)) in &self.batch.offsets {
            rewind.add_partition_offset(&self.input_topics[t], p, Offset::Offset(first))?;
        }
        if let Some((topic, partition, offset)) = pending {
            if rewind.find_partition(topic, partition).is_none() {
                rewind.add_partition_offset(topic, partition, Offset::Offset(offset))?;
            }
        }
        self.batch = OpenBatch::default();
        if rewind.count() > 0 {
            // A partition that cannot be rewound would skip the batch's records:
            // stop, and let a fresh worker start from the committed offsets.
            seek_all(consumer, rewind)?;
        }
        Ok(Committed::RolledBack)
    }

    /// A fresh producer with the same transactional id, retried while the brokers are
    /// away (a broker paused past the commit timeout is exactly when this is needed);
    /// only a fenced producer, or brokers away for longer than [`REBUILD_PATIENCE`],
    /// stop the worker.
    fn rebuild_producer(&self) -> Result<OutputProducer, KafkaEdgeError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(200);
        loop {
            match Self::create_producer(&self.producer_config, &self.tracker, self.mode) {
                Ok(p) => return Ok(p),
                Err(e @ KafkaEdgeError::Fenced(_)) => return Err(e),
                Err(e) if started.elapsed() >= REBUILD_PATIENCE => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, retry_ms = wait.as_millis() as u64, "producer not rebuilt yet; retrying");
                    self.health
                        .set_blocked(Part::Commits, format!("the transactional producer is not rebuilt yet: {e}"));
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn rebuild_quietly(&mut self) {
        match Self::create_producer(&self.producer_config, &self.tracker, self.mode) {
            Ok(p) => self.producer = p,
            Err(e) => tracing::error!(error = %e, "could not rebuild the producer"),
        }
    }

    /// Flushes outstanding at-least-once deliveries on shutdown.
    /// Why the last batch failed, until one commits.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    pub fn close(&mut self) {
        let _ = self.producer.flush(CALL_TIMEOUT);
    }
}

/// Queues one record, waiting while the producer's queue is full.
fn send(
    producer: &OutputProducer,
    topic: &str,
    partition: Option<i32>,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> Result<(), KafkaError> {
    let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
    if let Some(p) = partition {
        record = record.partition(p);
    }
    if let Some(p) = payload {
        record = record.payload(p);
    }
    if let Some(k) = key {
        record = record.key(k);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e),
        }
    }
}
