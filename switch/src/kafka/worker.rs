//! The worker loop: consume a batch, decide each record with the routing table
//! snapshot taken at the batch's start and the state of the record's partition,
//! commit outputs, state changes and offsets together.

use super::changelog::ChangelogReader;
use super::in_flight::{InFlightStore, Lookup};
use super::sink::{input_topics, Added, BatchSink, Committed};
use super::{base_client_config, KafkaEdgeError};
use crate::config::SwitchConfig;
use crate::health::Health;
use crate::state::KeyedState;
use crate::telemetry;
use interlink_core::memory::{Forgetful, Memory};
use interlink_core::pipeline::{
    Context, InFlight, InputRecord, InputSource, NothingInFlight, OutputRecord, Processor, Undecided,
};
use interlink_routing::RoutingTable;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::ClientContext;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const MAX_POLL_WAIT: Duration = Duration::from_millis(50);

/// Consumer context that owns the sink, so a revocation can commit the open batch
/// before its partitions are given up (the rebalance callback runs inside `poll`,
/// on the worker's own thread, never while the loop holds the lock).
struct WorkerContext {
    sink: Mutex<BatchSink>,
    /// Payments in flight to connected networks (none without connected networks).
    in_flight: Option<Mutex<InFlightStore>>,
    /// Keyed state of the requests partitions this worker owns.
    state: Mutex<KeyedState>,
    requests_topic: String,
    health: Arc<Health>,
}

/// Locks a mutex, also after a panic elsewhere (the decision boundary catches panics,
/// and the state behind these locks is consistent between records).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WorkerContext {
    fn lock_sink(&self) -> std::sync::MutexGuard<'_, BatchSink> {
        lock(&self.sink)
    }

    fn lock_in_flight(&self) -> Option<std::sync::MutexGuard<'_, InFlightStore>> {
        self.in_flight.as_ref().map(lock)
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, KeyedState> {
        lock(&self.state)
    }

    /// Tells the stores how the open batch ended: what they held for it becomes
    /// theirs, is dropped, or (outcome unknown) is read again from Kafka.
    fn batch_ended(&self, ended: Result<Committed, &KafkaEdgeError>) {
        let mut in_flight = self.lock_in_flight();
        let mut state = self.lock_state();
        match ended {
            Ok(Committed::Batch { .. }) => {
                in_flight.as_deref_mut().map(InFlightStore::batch_committed);
                state.batch_committed();
            }
            Ok(Committed::Nothing) => {}
            Ok(Committed::RolledBack) | Err(_) => {
                in_flight.as_deref_mut().map(InFlightStore::batch_discarded);
                state.batch_discarded();
            }
            Ok(Committed::Reset) => {
                if let Some(store) = in_flight.as_deref_mut() {
                    store.batch_discarded();
                    store.require_catch_up();
                }
                state.invalidate();
            }
        }
        self.health.set_restoring(state.unrestored().len());
    }

    /// Rolls the open batch back (with the pending record) and tells the stores.
    fn roll_back(
        &self,
        sink: &mut BatchSink,
        consumer: &BaseConsumer<Self>,
        pending: (&str, i32, i64),
        why: &'static str,
    ) -> Result<Committed, KafkaEdgeError> {
        let result = sink.roll_back(consumer, pending, why);
        self.batch_ended(result.as_ref().copied());
        result
    }

    /// Commits the open batch and tells the stores how it ended.
    fn commit(&self, sink: &mut BatchSink, consumer: &BaseConsumer<Self>) -> Result<Committed, KafkaEdgeError> {
        let result = sink.commit(consumer);
        self.batch_ended(result.as_ref().copied());
        result
    }

    /// Adds a record's outputs to the open batch; a batch that fails on the way is
    /// reported to the stores like a failed commit.
    fn add(
        &self,
        sink: &mut BatchSink,
        consumer: &BaseConsumer<Self>,
        record: Option<(&str, i32, i64)>,
        state_partition: i32,
        outputs: &[OutputRecord],
    ) -> Result<(), KafkaEdgeError> {
        match sink.add(consumer, record, state_partition, outputs) {
            Ok(Added::Queued) => Ok(()),
            Ok(Added::Failed(ended)) => {
                self.batch_ended(Ok(ended));
                Ok(())
            }
            Err(e) => {
                self.batch_ended(Err(&e));
                Err(e)
            }
        }
    }

    fn abandon(&self, sink: &mut BatchSink) {
        sink.abandon();
        self.batch_ended(Ok(Committed::RolledBack));
    }

    /// Requests partitions of a rebalance's list (state follows them).
    fn requests_partitions(&self, tpl: &rdkafka::TopicPartitionList) -> Vec<i32> {
        tpl.elements().iter().filter(|e| e.topic() == self.requests_topic).map(|e| e.partition()).collect()
    }
}

impl ClientContext for WorkerContext {}

impl ConsumerContext for WorkerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut sink = self.lock_sink();
        match rebalance {
            Rebalance::Revoke(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions revoked; committing the open batch");
                if let Err(e) = self.commit(&mut sink, consumer) {
                    tracing::error!(error = %e, "commit on revoke failed; abandoning the batch");
                    self.abandon(&mut sink);
                }
                self.lock_state().revoke(self.requests_partitions(tpl));
            }
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "rebalance error; abandoning the open batch");
                self.abandon(&mut sink);
                self.lock_state().invalidate();
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = tpl.count(), "partitions assigned");
            // New status-report partitions: read every settlement committed so far
            // before deciding any of their reports.
            if let Some(mut store) = self.lock_in_flight() {
                store.require_catch_up();
            }
            // Their state is restored before any of their records is decided.
            let mut state = self.lock_state();
            state.assign(self.requests_partitions(tpl));
            self.health.set_restoring(state.unrestored().len());
        }
        let assigned = consumer.assignment().map(|a| a.count()).unwrap_or(0);
        self.health.set_assigned(assigned);
    }
}

/// Runs one worker until `shutdown`, then commits the open batch and leaves the group.
pub fn run_worker(
    config: &SwitchConfig,
    mut tables: watch::Receiver<Arc<RoutingTable>>,
    shutdown: CancellationToken,
    health: Arc<Health>,
) -> Result<(), KafkaEdgeError> {
    // A worker never routes with an empty table: wait for the first change set.
    while tables.borrow().version() == 0 {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        tracing::info!(topic = %config.topics.routes, "waiting for a routing table");
        for _ in 0..50 {
            if shutdown.is_cancelled() || tables.has_changed().unwrap_or(true) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        tables.mark_unchanged();
    }
    let processor = Processor::new()?
        .with_connected(&config.networks.connected)
        .with_duplicate_window(config.state.duplicate_window());
    let changelog = ChangelogReader::open(&config.kafka, &config.topics.state)?;
    changelog.check_co_partitioned(&config.topics.requests)?;
    let state = KeyedState::open(&config.state_dir())?;
    let sink = BatchSink::new(config)?;
    let in_flight = if config.networks.connected.is_empty() {
        None
    } else {
        Some(Mutex::new(InFlightStore::open(&config.kafka, &config.topics.payments)?))
    };
    let context = WorkerContext {
        sink: Mutex::new(sink),
        in_flight,
        state: Mutex::new(state),
        requests_topic: config.topics.requests.clone(),
        health: health.clone(),
    };
    let consumer: BaseConsumer<WorkerContext> = base_client_config(&config.kafka)
        .set("group.id", &config.kafka.group_id)
        .set("client.id", format!("interlink-switch-{}", config.worker_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", config.kafka.session_timeout_ms.to_string())
        .set("heartbeat.interval.ms", (config.kafka.session_timeout_ms / 4).max(500).to_string())
        .set("fetch.wait.max.ms", "20")
        .create_with_context(context)?;
    let inputs = input_topics(config);
    consumer.subscribe(&inputs.iter().map(String::as_str).collect::<Vec<_>>())?;
    health.set_worker_running(true);
    tracing::info!(worker = %config.worker_id, group = %config.kafka.group_id, mode = ?config.pipeline.consistency, "worker consuming");

    let mut changelog = changelog;
    let result = consume(config, &consumer, &processor, &mut changelog, tables, &shutdown);
    health.set_worker_running(false);

    let ctx = consumer.context();
    if result.is_ok() {
        // Drain: commit what is open, checkpoint the state, then leave the group.
        match ctx.commit(&mut ctx.lock_sink(), &consumer) {
            Ok(_) => checkpoint(ctx, &changelog),
            Err(e) => tracing::error!(error = %e, "final commit failed; the batch will be re-read by the next owner"),
        }
    } else {
        // Stopping on an error: whatever is open is not known to be whole.
        ctx.abandon(&mut ctx.lock_sink());
    }
    consumer.unsubscribe();
    consumer.context().lock_sink().close();
    drop(consumer);
    tracing::info!(worker = %config.worker_id, "worker stopped");
    result
}

/// How long to wait before re-reading a batch that could not be decided, doubling up
/// to the maximum while it keeps failing.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// A record's place in its input, by which a poison pill is known again.
type RecordId = (String, i32, i64);

/// How often expired state entries are looked for.
const EXPIRY_SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// Expired entries handled per partition and sweep (the rest wait for the next one).
const EXPIRY_SWEEP_LIMIT: usize = 2_000;

/// Restores every assigned state partition that is not restored yet.
fn restore_assigned(ctx: &WorkerContext, changelog: &mut ChangelogReader) -> Result<(), KafkaEdgeError> {
    let mut state = ctx.lock_state();
    for p in state.unrestored() {
        let restored = changelog.restore(&mut state, p)?;
        tracing::info!(partition = p, from = ?restored.from, records = restored.records, end = restored.end, took_ms = restored.took.as_millis() as u64, "state partition restored");
        telemetry::state_restored(restored.records, restored.took);
        ctx.health.set_restoring(state.unrestored().len());
    }
    Ok(())
}

/// Makes the state durable and records how far each owned partition has read its
/// changelog (between batches, where this worker's own commits define the end).
fn checkpoint(ctx: &WorkerContext, changelog: &ChangelogReader) {
    let mut state = ctx.lock_state();
    let ends: Result<Vec<_>, KafkaEdgeError> =
        state.owned().into_iter().map(|p| changelog.end(p).map(|end| (p, end))).collect();
    let written = ends.and_then(|ends| state.checkpoint(ends).map_err(KafkaEdgeError::from));
    if let Err(e) = written {
        tracing::warn!(error = %e, "state checkpoint not written; a restart re-reads more of the changelog");
    }
}

/// Writes tombstones (and whatever else the core decides) for state entries whose
/// time has come, into the open batch.
fn expire_due(
    ctx: &WorkerContext,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
    outputs: &mut Vec<OutputRecord>,
) -> Result<usize, KafkaEdgeError> {
    let now = interlink_schemas::now_micros();
    let due = ctx.lock_state().due(now, EXPIRY_SWEEP_LIMIT)?;
    let mut sink = ctx.lock_sink();
    for entry in &due {
        outputs.clear();
        if processor.expire(&entry.key, &entry.value, now, outputs).map_err(undecided_is_fatal)? {
            ctx.lock_state().stage(entry.partition, outputs);
            ctx.add(&mut sink, consumer, None, entry.partition, outputs)?;
        }
    }
    Ok(due.len())
}

fn undecided_is_fatal(e: Undecided) -> KafkaEdgeError {
    match e {
        Undecided::Encode(e) => e.into(),
        Undecided::Memory(e) => e.into(),
        Undecided::InFlightViewBehind { wire_id } => KafkaEdgeError::NoInFlightView(wire_id),
    }
}

fn consume(
    config: &SwitchConfig,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
    changelog: &mut ChangelogReader,
    tables: watch::Receiver<Arc<RoutingTable>>,
    shutdown: &CancellationToken,
) -> Result<(), KafkaEdgeError> {
    let max_records = config.pipeline.batch_max_records;
    let max_age = config.pipeline.batch_max_interval();
    let ctx = consumer.context();
    // Which connected network each `.in` topic belongs to.
    let network_inputs: Vec<(String, &'static str)> = config
        .networks
        .connected
        .iter()
        .filter_map(|n| interlink_connectors::connector(n))
        .map(|c| (config.topics.network_in(c.profile().id), c.profile().id))
        .collect();
    let mut outputs: Vec<OutputRecord> = Vec::with_capacity(8);
    // The table is fixed for a whole batch: every outcome of a transaction is
    // decided by one version.
    let mut table = tables.borrow().clone();
    let mut consumed = 0u64;
    let mut outcome_counters = telemetry::OutcomeCounters::default();
    let mut backoff = BACKOFF_START;
    // Records that made the decision code panic, with the panic's message.
    let mut poisoned: HashMap<RecordId, String> = HashMap::new();
    let mut last_sweep = std::time::Instant::now();
    while !shutdown.is_cancelled() {
        if !ctx.lock_state().unrestored().is_empty() {
            if let Err(e) = restore_assigned(ctx, changelog) {
                if e.severity() == super::Severity::Fatal {
                    return Err(e);
                }
                tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "state not restored yet; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                // Keep polling meanwhile so the group does not think us dead.
            }
        }
        if last_sweep.elapsed() >= EXPIRY_SWEEP_INTERVAL {
            last_sweep = std::time::Instant::now();
            let expired = expire_due(ctx, consumer, processor, &mut outputs)?;
            telemetry::state_expired(expired);
        }
        let age = ctx.lock_sink().batch_age();
        let wait = age.map_or(MAX_POLL_WAIT, |a| max_age.saturating_sub(a).min(MAX_POLL_WAIT));
        match consumer.poll(wait) {
            Some(Ok(msg)) => {
                let is_request = msg.topic() == ctx.requests_topic;
                if is_request && !ctx.lock_state().is_restored(msg.partition()) {
                    // Assigned in this very poll: restore first, then read the record again.
                    let mut sink = ctx.lock_sink();
                    ctx.roll_back(&mut sink, consumer, (msg.topic(), msg.partition(), msg.offset()), "state_restore")?;
                    continue;
                }
                let mut sink = ctx.lock_sink();
                if sink.records() == 0 {
                    table = tables.borrow().clone();
                }
                let source = network_inputs
                    .iter()
                    .find(|(topic, _)| topic == msg.topic())
                    .map_or(InputSource::Requests, |(_, network)| InputSource::Network(network));
                let input = InputRecord {
                    source,
                    topic: msg.topic(),
                    partition: msg.partition(),
                    offset: msg.offset(),
                    key: msg.key(),
                    payload: msg.payload(),
                };
                let now_micros = interlink_schemas::now_micros();
                let record_id = || (msg.topic().to_string(), msg.partition(), msg.offset());
                // No key is built on the hot path unless some record has panicked.
                let poison = if poisoned.is_empty() { None } else { poisoned.remove(&record_id()) };
                let decided = match poison {
                    Some(panic_message) => {
                        outputs.clear();
                        tracing::error!(topic = msg.topic(), partition = msg.partition(), offset = msg.offset(), %panic_message, "dead-lettering a record that panicked the decision code");
                        Decided::Outcome(processor.poisoned(&input, &panic_message, now_micros, &mut outputs)?)
                    }
                    None => decide(ctx, processor, &input, &table, now_micros, &mut outputs),
                };
                let outcome = match decided {
                    Decided::Outcome(outcome) => outcome,
                    Decided::Fatal(e) => return Err(e),
                    Decided::NotNow(why) => {
                        match &why {
                            NotNow::Poisoned(message) => {
                                poisoned.insert(record_id(), message.clone());
                            }
                            NotNow::ViewUnavailable(e) => {
                                tracing::warn!(error = %e, "payments in flight cannot be read to their end");
                            }
                        }
                        tracing::warn!(
                            reason = why.label(),
                            backoff_ms = backoff.as_millis() as u64,
                            "record not decided; rolling the batch back to re-read it"
                        );
                        ctx.roll_back(&mut sink, consumer, (msg.topic(), msg.partition(), msg.offset()), why.label())?;
                        drop(sink);
                        if matches!(why, NotNow::ViewUnavailable(_)) {
                            std::thread::sleep(backoff);
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                        }
                        continue;
                    }
                };
                backoff = BACKOFF_START;
                outcome_counters.record(&outcome);
                consumed += 1;
                if is_request {
                    ctx.lock_state().stage(msg.partition(), &outputs);
                }
                ctx.add(
                    &mut sink,
                    consumer,
                    Some((msg.topic(), msg.partition(), msg.offset())),
                    msg.partition(),
                    &outputs,
                )?;
            }
            Some(Err(e)) => {
                telemetry::consume_error();
                tracing::warn!(error = %e, "consume error");
            }
            None => {}
        }
        let mut sink = ctx.lock_sink();
        let due = sink.records() >= max_records || sink.batch_age().is_some_and(|a| a >= max_age);
        if due {
            telemetry::consumed(std::mem::take(&mut consumed));
            match ctx.commit(&mut sink, consumer)? {
                Committed::RolledBack => tracing::warn!("batch rolled back; re-reading it"),
                Committed::Batch { .. } if ctx.lock_state().checkpoint_due() => {
                    drop(sink);
                    checkpoint(ctx, changelog);
                }
                _ => {}
            }
        }
    }
    telemetry::consumed(consumed);
    Ok(())
}

/// What the edge makes of one record.
enum Decided {
    Outcome(interlink_core::Outcome),
    /// Not decided now: roll the batch back and read the record again.
    NotNow(NotNow),
    Fatal(KafkaEdgeError),
}

enum NotNow {
    /// The in-flight view could not be brought up to date.
    ViewUnavailable(KafkaEdgeError),
    /// The decision code panicked on it, with this message.
    Poisoned(String),
}

impl NotNow {
    fn label(&self) -> &'static str {
        match self {
            Self::ViewUnavailable(_) => "in_flight_view",
            Self::Poisoned(_) => "poison_record",
        }
    }
}

/// Decides one record with pure code. A network's record first gets an up-to-date
/// in-flight view; if the core finds the view may be behind for this record, the view is
/// read to its end and the record decided again.
fn decide(
    ctx: &WorkerContext,
    processor: &Processor,
    input: &InputRecord<'_>,
    table: &RoutingTable,
    now_micros: i64,
    outputs: &mut Vec<OutputRecord>,
) -> Decided {
    let state = ctx.lock_state();
    let partition_memory = state.memory(input.partition);
    let memory: &dyn Memory = match input.source {
        InputSource::Requests => &partition_memory,
        InputSource::Network(_) => &Forgetful,
    };
    let mut store = ctx.lock_in_flight();
    if let (Some(store), InputSource::Network(_)) = (store.as_deref_mut(), input.source) {
        if let Err(e) = store.prepare() {
            return Decided::NotNow(NotNow::ViewUnavailable(e));
        }
    }
    loop {
        outputs.clear();
        let lookup = store.as_deref_mut().map(|s| Lookup(RefCell::new(s)));
        let in_flight: &dyn InFlight = match &lookup {
            Some(l) => l,
            None => &NothingInFlight,
        };
        let context = Context { table, now_micros, in_flight, memory };
        let result = crate::panics::decide_guarded(|| processor.process_with(input, &context, outputs));
        match result {
            Ok(Ok(outcome)) => return Decided::Outcome(outcome),
            Ok(Err(Undecided::InFlightViewBehind { wire_id })) => {
                let Some(store) = store.as_deref_mut() else {
                    return Decided::Fatal(KafkaEdgeError::NoInFlightView(wire_id));
                };
                tracing::debug!(%wire_id, "status report for a payment not yet seen; reading the payments topic to its end");
                if let Err(e) = store.catch_up() {
                    return Decided::NotNow(NotNow::ViewUnavailable(e));
                }
            }
            Ok(Err(e @ (Undecided::Encode(_) | Undecided::Memory(_)))) => return Decided::Fatal(undecided_is_fatal(e)),
            Err(panicked) => {
                tracing::error!(topic = input.topic, partition = input.partition, offset = input.offset, error = %panicked, "the decision code panicked; rolling the batch back");
                return Decided::NotNow(NotNow::Poisoned(panicked.0));
            }
        }
    }
}
