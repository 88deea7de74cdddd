//! The worker loop: consume a batch, decide each record with the routing table
//! snapshot taken at the batch's start and the state of the record's partition,
//! commit outputs, state changes and offsets together.

use super::answer_clock::AnswerClocks;
use super::changelog::ChangelogReader;
use super::offsets::{committed_start, COMMITTED_PATIENCE};
use super::sink::{input_topics, Added, BatchSink, Committed};
use super::{base_client_config, KafkaEdgeError};
use crate::config::SwitchConfig;
use crate::health::{Health, Part};
use crate::state::KeyedState;
use crate::telemetry;
use interlink_core::pipeline::{Context, Expiry, InputRecord, InputSource, OutputRecord, Processor, Undecided};
use interlink_routing::RoutingTable;
use interlink_schema_registry::SchemaResolver;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, TopicPartitionList};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Keyed state of the partitions this worker owns (the same numbers in every input).
    state: Mutex<KeyedState>,
    /// Every input topic; all are partitioned alike.
    inputs: Vec<String>,
    /// Set when an assignment gave this worker partition `p` of one input but not of
    /// another: state partition `p` would have two writers, so the worker stops.
    split_assignment: AtomicBool,
    /// How far each network's answers have been read: timers wait for it.
    answer_clocks: Mutex<AnswerClocks>,
    health: Arc<Health>,
    /// Why an assignment could not be started (its committed offsets unreadable): the
    /// loop stops the worker with it.
    assign_failed: Mutex<Option<KafkaEdgeError>>,
    /// The worker's stop signal: an assignment waiting for its offsets gives up on it.
    shutdown: CancellationToken,
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

    fn lock_state(&self) -> std::sync::MutexGuard<'_, KeyedState> {
        lock(&self.state)
    }

    fn lock_answer_clocks(&self) -> std::sync::MutexGuard<'_, AnswerClocks> {
        lock(&self.answer_clocks)
    }

    /// Tells the state how the open batch ended: what it held for the batch goes to
    /// the store, is dropped, or (outcome unknown) is read again from the changelog.
    fn batch_ended(&self, ended: Result<Committed, &KafkaEdgeError>) {
        let mut state = self.lock_state();
        match ended {
            Ok(Committed::Batch { .. }) => state.batch_committed(),
            Ok(Committed::Nothing) => {}
            Ok(Committed::RolledBack) | Err(_) => state.batch_discarded(),
            Ok(Committed::Reset) => state.invalidate(),
        }
        if !matches!(ended, Ok(Committed::Batch { .. } | Committed::Nothing)) {
            // Its records are read again: what they showed of the networks' answers
            // must be seen again before a timer trusts it.
            self.lock_answer_clocks().forget_all();
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

    /// Sends the batch's state writes (the last value per key), commits the batch and
    /// tells the stores how it ended.
    fn commit(&self, sink: &mut BatchSink, consumer: &BaseConsumer<Self>) -> Result<Committed, KafkaEdgeError> {
        let flushed = sink.add_state(consumer, self.lock_state().pending_writes());
        match flushed {
            Ok(Added::Queued) => {}
            Ok(Added::Failed(ended)) => {
                self.batch_ended(Ok(ended));
                return Ok(ended);
            }
            Err(e) => {
                self.batch_ended(Err(&e));
                return Err(e);
            }
        }
        let result = sink.commit(consumer);
        match &result {
            Ok(Committed::Batch { .. }) => {
                self.health.progressed();
                self.health.clear_blocked(Part::Commits);
            }
            Ok(Committed::Nothing) => {}
            Ok(Committed::RolledBack | Committed::Reset) => {
                self.health.set_blocked(Part::Commits, sink.last_failure().unwrap_or("failed").to_string())
            }
            Err(e) => self.health.set_blocked(Part::Commits, e.to_string()),
        }
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
        outputs: &[OutputRecord],
    ) -> Result<(), KafkaEdgeError> {
        match sink.add(consumer, record, outputs) {
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

    /// The partition numbers of a rebalance's list: state partition `p` goes with
    /// partition `p` of the inputs. Flags a list that splits a number between workers.
    fn state_partitions(&self, tpl: &rdkafka::TopicPartitionList) -> BTreeSet<i32> {
        let per_topic = |topic: &str| -> BTreeSet<i32> {
            tpl.elements().iter().filter(|e| e.topic() == topic).map(|e| e.partition()).collect()
        };
        let all: BTreeSet<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
        if self.inputs.iter().any(|topic| per_topic(topic) != all) {
            tracing::error!(assignment = ?tpl, "an assignment split partition numbers between workers");
            self.split_assignment.store(true, Ordering::Relaxed);
        }
        all
    }
}

impl WorkerContext {
    fn unassign(&self, consumer: &BaseConsumer<Self>) {
        if let Err(e) = consumer.unassign() {
            tracing::error!(error = %e, "unassign failed");
        }
    }
}

impl ClientContext for WorkerContext {
    /// librdkafka's statistics (served by `poll`, on the worker's thread, after every
    /// record delivered before them was decided): which answer partitions are read to
    /// their end.
    /// Also what health reports: brokers in reach, records waiting.
    fn stats(&self, statistics: rdkafka::Statistics) {
        self.health.observe(any_broker_up(&statistics), lag_of_inputs(&statistics, &self.inputs));
        self.lock_answer_clocks().observe(&statistics);
    }
}

impl ConsumerContext for WorkerContext {
    /// Like rust-rdkafka's default, except that a new assignment is started at explicit
    /// offsets: the group's committed ones, waited for until stable (see
    /// `super::offsets`), so the consumer never picks a position by itself.
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let assigned = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let stopping = || self.shutdown.is_cancelled();
                match committed_start(consumer, tpl, &self.health, COMMITTED_PATIENCE, &stopping) {
                    Ok(Some(start)) => consumer.assign(&start).map_err(KafkaEdgeError::Seek),
                    Ok(None) => {
                        // Stopping: take nothing; the worker leaves the group next.
                        self.unassign(consumer);
                        return;
                    }
                    Err(e) => Err(e),
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.pre_rebalance(consumer, &Rebalance::Revoke(tpl));
                self.unassign(consumer);
                self.post_rebalance(consumer, &Rebalance::Revoke(tpl));
                return;
            }
            other => {
                let error = rdkafka::error::KafkaError::Rebalance(other.into());
                tracing::error!(%error, "rebalance failed");
                let rebalance = Rebalance::Error(error);
                self.pre_rebalance(consumer, &rebalance);
                self.unassign(consumer);
                self.post_rebalance(consumer, &rebalance);
                return;
            }
        };
        match assigned {
            Ok(()) => self.post_rebalance(consumer, &Rebalance::Assign(tpl)),
            Err(e) => {
                // Nothing of this assignment is read; the loop stops the worker and the
                // group gives its partitions to another.
                tracing::error!(error = %e, "the assigned partitions' committed offsets could not be read");
                self.unassign(consumer);
                *lock(&self.assign_failed) = Some(e);
            }
        }
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut sink = self.lock_sink();
        match rebalance {
            Rebalance::Revoke(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions revoked; committing the open batch");
                if let Err(e) = self.commit(&mut sink, consumer) {
                    tracing::error!(error = %e, "commit on revoke failed; abandoning the batch");
                    self.abandon(&mut sink);
                }
                let partitions = self.state_partitions(tpl);
                self.lock_answer_clocks().forget(partitions.iter().copied());
                self.lock_state().revoke(partitions);
            }
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "rebalance error; abandoning the open batch");
                self.abandon(&mut sink);
                self.lock_state().invalidate();
                self.lock_answer_clocks().forget_all();
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = tpl.count(), "partitions assigned");
            // Their state is restored before any of their records is decided.
            let mut state = self.lock_state();
            state.assign(self.state_partitions(tpl));
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
    let inputs = input_topics(config);
    // Brokers out of reach are waited for here (and shown by /readyz), not a reason to exit.
    let started = super::patiently(Part::Start, &health, &shutdown, || {
        let changelog = ChangelogReader::open(&config.kafka, &config.topics.state)?;
        for input in &inputs {
            changelog.check_co_partitioned(input)?;
        }
        let partitions = changelog.partition_count(&config.topics.state)?;
        let sink = BatchSink::new(config, health.clone())?;
        Ok((changelog, partitions, sink))
    })?;
    let Some((changelog, partitions, sink)) = started else { return Ok(()) };
    let schemas =
        crate::schemas::Schemas::connect(config.schemas.registry(), &config.topics, &crate::schemas::SWITCH_WRITES)?;
    let mut processor = Processor::with_schemas(&schemas.catalog)?
        .with_connected(&config.networks.connected)
        .with_duplicate_window(config.state.duplicate_window())
        .with_response_deadline(config.networks.response_deadline())
        .with_limit_clock_skew(Duration::from_secs(config.risk.limit_clock_skew_seconds))
        .with_review(
            Duration::from_secs(config.risk.review_timeout_seconds),
            config.risk.screening_action == crate::config::ScreeningAction::Hold,
        )
        .with_partitions(u32::try_from(partitions).unwrap_or(u32::MAX));
    if let Some(screener) = crate::screening::load(&config.risk)? {
        processor = processor.with_screener(Arc::new(screener));
    }
    let state = KeyedState::open_sized(&config.state_dir(), config.state.store_sizing())?;
    let context = WorkerContext {
        sink: Mutex::new(sink),
        state: Mutex::new(state),
        inputs: inputs.clone(),
        split_assignment: AtomicBool::new(false),
        answer_clocks: Mutex::new(AnswerClocks::new(
            config.networks.connected.iter().map(|n| config.topics.network_in(n)).collect(),
            config.networks.answer_grace(),
        )),
        health: health.clone(),
        assign_failed: Mutex::new(None),
        shutdown: shutdown.clone(),
    };
    let consumer: BaseConsumer<WorkerContext> = base_client_config(&config.kafka)
        .set("group.id", &config.kafka.group_id)
        .set("client.id", format!("interlink-switch-{}", config.worker_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        // Every assignment starts at explicit offsets (`rebalance`); a position lost
        // later (records deleted before they were decided, a truncated log) is an
        // error, never a silent jump to either end.
        .set("auto.offset.reset", "error")
        .set("session.timeout.ms", config.kafka.session_timeout_ms.to_string())
        .set("heartbeat.interval.ms", (config.kafka.session_timeout_ms / 4).max(500).to_string())
        .set("fetch.wait.max.ms", "20")
        // Tells how far each network's answers are read (see `AnswerClocks`).
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        // Range gives partition p of every input (all partitioned alike) to one member:
        // the one that holds state partition p.
        .set("partition.assignment.strategy", "range")
        .create_with_context(context)?;
    consumer.subscribe(&inputs.iter().map(String::as_str).collect::<Vec<_>>())?;
    health.set_worker_running(true);
    tracing::info!(worker = %config.worker_id, group = %config.kafka.group_id, mode = ?config.pipeline.consistency, "worker consuming");

    let mut changelog = changelog;
    let result = consume(config, &consumer, &processor, schemas.resolver.as_ref(), &mut changelog, tables, &shutdown);
    health.set_worker_running(false);
    if let Err(e) = &result {
        tracing::error!(error = %e, "the worker stops on an error; its partitions go to another worker, from the committed offsets");
        health.set_blocked(Part::Commits, format!("stopped: {e}"));
    }

    let ctx = consumer.context();
    if result.is_ok() {
        // Drain: commit what is open, checkpoint the state, then leave the group.
        match ctx.commit(&mut ctx.lock_sink(), &consumer) {
            Ok(_) => checkpoint(ctx, &changelog, true),
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

/// How often librdkafka reports the consumer's positions and offsets.
const STATISTICS_INTERVAL_MS: &str = "500";
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
/// changelog (between batches, where this worker's own commits define the end), in
/// the background unless `wait`.
fn checkpoint(ctx: &WorkerContext, changelog: &ChangelogReader, wait: bool) {
    let mut state = ctx.lock_state();
    let ends: Result<Vec<_>, KafkaEdgeError> =
        state.owned().into_iter().map(|p| changelog.end(p).map(|end| (p, end))).collect();
    let written = match ends {
        Ok(ends) if wait => state.checkpoint(ends).map_err(KafkaEdgeError::from),
        Ok(ends) => {
            state.checkpoint_in_background(ends);
            Ok(())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        tracing::warn!(error = %e, "state checkpoint not written; a restart re-reads more of the changelog");
    }
}

/// Writes tombstones (and whatever else the core decides) for state entries whose
/// time has come, into the open batch. A partition's time is how far its networks'
/// answers have been read, so no payment times out with its answer unread. Then
/// closes the settlement cycles whose cut-off has passed, per owned partition.
fn expire_due(
    ctx: &WorkerContext,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
    table: &RoutingTable,
    outputs: &mut Vec<OutputRecord>,
) -> Result<usize, KafkaEdgeError> {
    let now = interlink_schemas::now_micros();
    if table.settlement_schemes().next().is_some() {
        let owned: Vec<i32> = {
            let state = ctx.lock_state();
            state.owned().into_iter().filter(|&p| state.is_restored(p)).collect()
        };
        for p in owned {
            outputs.clear();
            {
                let state = ctx.lock_state();
                processor.close_cycles(table, &state.memory(p), p, now, outputs).map_err(undecided_is_fatal)?;
            }
            if !outputs.is_empty() {
                ctx.lock_state().stage(p, outputs);
                let mut sink = ctx.lock_sink();
                ctx.add(&mut sink, consumer, None, outputs)?;
            }
        }
    }
    let due = {
        let clocks = ctx.lock_answer_clocks();
        ctx.lock_state().due(|p| clocks.cutoff(p, now), EXPIRY_SWEEP_LIMIT)?
    };
    let mut sink = ctx.lock_sink();
    for entry in &due {
        outputs.clear();
        let expired = {
            let state = ctx.lock_state();
            processor.expire(&entry.key, &entry.value, &state.memory(entry.partition), now, outputs)
        };
        match expired.map_err(undecided_is_fatal)? {
            Expiry::NotDue => continue,
            Expiry::Forgotten => {}
            Expiry::TimedOut => telemetry::payment_timed_out(),
            Expiry::ReviewTimedOut => telemetry::review_timed_out(),
        }
        ctx.lock_state().stage(entry.partition, outputs);
        ctx.add(&mut sink, consumer, None, outputs)?;
    }
    Ok(due.len())
}

/// Whether the statistics show a live connection to any cluster broker (bootstrap
/// entries, id -1, only show the address the client started from).
fn any_broker_up(stats: &rdkafka::Statistics) -> bool {
    stats.brokers.values().any(|b| b.nodeid >= 0 && b.state == "UP")
}

/// Records in the assigned input partitions not yet handed to the worker: the last
/// stable offset minus the position. `None` while no assigned partition knows both.
fn lag_of_inputs(stats: &rdkafka::Statistics, inputs: &[String]) -> Option<u64> {
    let mut known = false;
    let mut lag = 0u64;
    for topic in inputs {
        let Some(t) = stats.topics.get(topic) else { continue };
        for p in t.partitions.values().filter(|p| p.partition >= 0 && p.desired) {
            let position = if p.app_offset >= 0 { p.app_offset } else { p.committed_offset };
            if position >= 0 && p.ls_offset >= 0 {
                known = true;
                lag += u64::try_from(p.ls_offset - position).unwrap_or(0);
            }
        }
    }
    known.then_some(lag)
}

fn undecided_is_fatal(e: Undecided) -> KafkaEdgeError {
    match e {
        Undecided::Encode(e) => e.into(),
        Undecided::Memory(e) => e.into(),
    }
}

fn consume(
    config: &SwitchConfig,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
    schemas: Option<&SchemaResolver>,
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
        if ctx.split_assignment.load(Ordering::Relaxed) {
            return Err(KafkaEdgeError::SplitAssignment);
        }
        if let Some(e) = lock(&ctx.assign_failed).take() {
            return Err(e);
        }
        if !ctx.lock_state().unrestored().is_empty() {
            if let Err(e) = restore_assigned(ctx, changelog) {
                if e.severity() == super::Severity::Fatal {
                    return Err(e);
                }
                tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "state not restored yet; retrying");
                // A client that lost the brokers can keep stale metadata (a partition it
                // calls unknown) long after they are back: the next attempt gets a fresh one.
                match ChangelogReader::open(&config.kafka, &config.topics.state) {
                    Ok(fresh) => *changelog = fresh,
                    Err(e) => tracing::warn!(error = %e, "state changelog reader not reopened; keeping the old one"),
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                // Keep polling meanwhile so the group does not think us dead.
            }
        }
        if last_sweep.elapsed() >= EXPIRY_SWEEP_INTERVAL {
            last_sweep = std::time::Instant::now();
            if ctx.lock_sink().records() == 0 {
                table = tables.borrow().clone();
            }
            let expired = expire_due(ctx, consumer, processor, &table, &mut outputs)?;
            telemetry::state_expired(expired);
        }
        let age = ctx.lock_sink().batch_age();
        let wait = age.map_or(MAX_POLL_WAIT, |a| max_age.saturating_sub(a).min(MAX_POLL_WAIT));
        match consumer.poll(wait) {
            Some(Ok(msg)) => {
                if !ctx.lock_state().is_restored(msg.partition()) {
                    // Assigned in this very poll: restore first, then read the record again.
                    let mut sink = ctx.lock_sink();
                    ctx.roll_back(&mut sink, consumer, (msg.topic(), msg.partition(), msg.offset()), "state_restore")?;
                    continue;
                }
                let mut sink = ctx.lock_sink();
                if sink.records() == 0 {
                    table = tables.borrow().clone();
                }
                let source = if msg.topic() == config.topics.forwards {
                    InputSource::Forwards
                } else {
                    network_inputs
                        .iter()
                        .find(|(topic, _)| topic == msg.topic())
                        .map_or(InputSource::Requests, |(_, network)| InputSource::Network(network))
                };
                if source == InputSource::Requests {
                    if let Some(Err(e)) =
                        schemas.and_then(|r| learn_writer_schema(r, processor.request_schema_id(), msg.payload()))
                    {
                        // The writer's schema is registered but unreachable now: the
                        // record waits for the registry rather than being refused.
                        telemetry::schema_registry_unavailable();
                        tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "schema registry unavailable; re-reading the batch");
                        let pending = (msg.topic(), msg.partition(), msg.offset());
                        ctx.roll_back(&mut sink, consumer, pending, "schema_registry")?;
                        drop(sink);
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                }
                let input = InputRecord {
                    source,
                    topic: msg.topic(),
                    partition: msg.partition(),
                    offset: msg.offset(),
                    key: msg.key(),
                    payload: msg.payload(),
                    written_at: msg.timestamp().to_millis().map(|ms| ms.saturating_mul(1_000)),
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
                    Decided::Poisoned(message) => {
                        poisoned.insert(record_id(), message);
                        tracing::warn!("the decision code panicked; rolling the batch back to dead-letter the record");
                        ctx.roll_back(
                            &mut sink,
                            consumer,
                            (msg.topic(), msg.partition(), msg.offset()),
                            "poison_record",
                        )?;
                        continue;
                    }
                };
                backoff = BACKOFF_START;
                if let InputSource::Network(_) = source {
                    // Only networks' answers move a partition's timers.
                    ctx.lock_answer_clocks().record_read(msg.topic(), msg.partition(), input.written_at);
                }
                outcome_counters.record(&outcome);
                consumed += 1;
                ctx.lock_state().stage(msg.partition(), &outputs);
                ctx.add(&mut sink, consumer, Some((msg.topic(), msg.partition(), msg.offset())), &outputs)?;
            }
            Some(Err(e)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::AutoOffsetReset) => {
                return Err(KafkaEdgeError::PositionLost(e));
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
                    checkpoint(ctx, changelog, false);
                }
                _ => {}
            }
        }
    }
    telemetry::consumed(consumed);
    Ok(())
}

/// Fetches the writer schema of a request framed with an id this worker does not know
/// yet (once per id). `None` when there is nothing to learn; an error only when the
/// registry is unavailable. A schema the registry does not have, or one that cannot be
/// read, is left to the decision, which dead-letters the record with the reason.
fn learn_writer_schema(
    resolver: &SchemaResolver,
    own_id: u32,
    payload: Option<&[u8]>,
) -> Option<Result<(), interlink_schema_registry::RegistryError>> {
    let framed = interlink_schemas::Framed::parse(payload?).ok()?;
    // The common case, checked without the catalog's lock: this build's own version.
    if framed.schema_id == own_id {
        return None;
    }
    match resolver.ensure_known(framed.schema_id) {
        Ok(_) => None,
        Err(e) if e.is_transient() => Some(Err(e)),
        Err(e) => {
            tracing::error!(error = %e, "a writer schema from the registry is unusable");
            None
        }
    }
}

/// What the edge makes of one record.
enum Decided {
    Outcome(interlink_core::Outcome),
    /// The decision code panicked on it, with this message: roll the batch back and
    /// dead-letter the record when it is read again.
    Poisoned(String),
    Fatal(KafkaEdgeError),
}

/// Decides one record with pure code, against the state of its partition.
fn decide(
    ctx: &WorkerContext,
    processor: &Processor,
    input: &InputRecord<'_>,
    table: &RoutingTable,
    now_micros: i64,
    outputs: &mut Vec<OutputRecord>,
) -> Decided {
    let state = ctx.lock_state();
    let memory = state.memory(input.partition);
    outputs.clear();
    let context = Context { table, now_micros, memory: &memory };
    match crate::panics::decide_guarded(|| processor.process_with(input, &context, outputs)) {
        Ok(Ok(outcome)) => Decided::Outcome(outcome),
        Ok(Err(e)) => Decided::Fatal(undecided_is_fatal(e)),
        Err(panicked) => {
            tracing::error!(topic = input.topic, partition = input.partition, offset = input.offset, error = %panicked, "the decision code panicked; rolling the batch back");
            Decided::Poisoned(panicked.0)
        }
    }
}
