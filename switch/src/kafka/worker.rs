//! The worker loop: consume a batch, decide each record with the routing table
//! snapshot taken at the batch's start, commit outputs and offsets together.

use super::in_flight::{InFlightStore, Lookup};
use super::sink::{input_topics, BatchSink, Committed};
use super::{base_client_config, KafkaEdgeError};
use crate::config::SwitchConfig;
use crate::health::Health;
use crate::telemetry;
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
    health: Arc<Health>,
}

impl WorkerContext {
    fn lock_sink(&self) -> std::sync::MutexGuard<'_, BatchSink> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_in_flight(&self) -> Option<std::sync::MutexGuard<'_, InFlightStore>> {
        self.in_flight.as_ref().map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Rolls the open batch back (with the pending record) and tells the in-flight store.
    fn roll_back(
        &self,
        sink: &mut BatchSink,
        consumer: &BaseConsumer<Self>,
        pending: (&str, i32, i64),
        why: &'static str,
    ) -> Result<Committed, KafkaEdgeError> {
        let result = sink.roll_back(consumer, pending, why);
        if let Some(mut store) = self.lock_in_flight() {
            store.batch_discarded();
        }
        result
    }

    /// Commits the open batch and tells the in-flight store how it ended.
    fn commit(&self, sink: &mut BatchSink, consumer: &BaseConsumer<Self>) -> Result<Committed, KafkaEdgeError> {
        let result = sink.commit(consumer);
        if let Some(mut store) = self.lock_in_flight() {
            match &result {
                Ok(Committed::Batch { .. }) => store.batch_committed(),
                Ok(Committed::Nothing) => {}
                Ok(Committed::RolledBack) | Err(_) => store.batch_discarded(),
            }
        }
        result
    }

    fn abandon(&self, sink: &mut BatchSink) {
        sink.abandon();
        if let Some(mut store) = self.lock_in_flight() {
            store.batch_discarded();
        }
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
            }
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "rebalance error; abandoning the open batch");
                self.abandon(&mut sink);
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
    let processor = Processor::new()?.with_connected(&config.networks.connected);
    let sink = BatchSink::new(config)?;
    let in_flight = if config.networks.connected.is_empty() {
        None
    } else {
        Some(Mutex::new(InFlightStore::open(&config.kafka, &config.topics.payments)?))
    };
    let context = WorkerContext { sink: Mutex::new(sink), in_flight, health: health.clone() };
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

    let result = consume(config, &consumer, &processor, tables, &shutdown);
    health.set_worker_running(false);

    // Drain: commit what is open, then leave the group cleanly.
    let drained = {
        let ctx = consumer.context();
        ctx.commit(&mut ctx.lock_sink(), &consumer)
    };
    if let Err(e) = &drained {
        tracing::error!(error = %e, "final commit failed; the batch will be re-read by the next owner");
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

fn consume(
    config: &SwitchConfig,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
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
    while !shutdown.is_cancelled() {
        let age = ctx.lock_sink().batch_age();
        let wait = age.map_or(MAX_POLL_WAIT, |a| max_age.saturating_sub(a).min(MAX_POLL_WAIT));
        match consumer.poll(wait) {
            Some(Ok(msg)) => {
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
                sink.add(consumer, msg.topic(), msg.partition(), msg.offset(), &outputs)?;
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
            if ctx.commit(&mut sink, consumer)? == Committed::RolledBack {
                tracing::warn!("batch rolled back; re-reading it");
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
        let context = Context { table, now_micros, in_flight };
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
            Ok(Err(Undecided::Encode(e))) => return Decided::Fatal(e.into()),
            Err(panicked) => {
                tracing::error!(topic = input.topic, partition = input.partition, offset = input.offset, error = %panicked, "the decision code panicked; rolling the batch back");
                return Decided::NotNow(NotNow::Poisoned(panicked.0));
            }
        }
    }
}
