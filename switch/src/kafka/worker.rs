//! The worker loop: consume a batch, decide each record with the routing table
//! snapshot taken at the batch's start, commit outputs and offsets together.

use super::sink::{BatchSink, Committed};
use super::{base_client_config, KafkaEdgeError};
use crate::config::SwitchConfig;
use crate::health::Health;
use crate::pipeline::{InputRecord, OutputRecord, Processor};
use crate::routing::RoutingTable;
use crate::telemetry;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::ClientContext;
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
    health: Arc<Health>,
}

impl ClientContext for WorkerContext {}

impl ConsumerContext for WorkerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        match rebalance {
            Rebalance::Revoke(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions revoked; committing the open batch");
                if let Err(e) = sink.commit(consumer) {
                    tracing::error!(error = %e, "commit on revoke failed; abandoning the batch");
                    sink.abandon();
                }
            }
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "rebalance error; abandoning the open batch");
                sink.abandon();
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = tpl.count(), "partitions assigned");
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
    let processor = Processor::new().map_err(|e| KafkaEdgeError::Other(e.to_string()))?;
    let sink = BatchSink::new(config)?;
    let context = WorkerContext { sink: Mutex::new(sink), health: health.clone() };
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
    consumer.subscribe(&[&config.topics.requests])?;
    health.set_worker_running(true);
    tracing::info!(worker = %config.worker_id, group = %config.kafka.group_id, mode = ?config.pipeline.consistency, "worker consuming");

    let result = consume(config, &consumer, &processor, tables, &shutdown);
    health.set_worker_running(false);

    // Drain: commit what is open, then leave the group cleanly.
    let drained = consumer.context().sink.lock().unwrap_or_else(|p| p.into_inner()).commit(&consumer);
    if let Err(e) = &drained {
        tracing::error!(error = %e, "final commit failed; the batch will be re-read by the next owner");
    }
    consumer.unsubscribe();
    consumer.context().sink.lock().unwrap_or_else(|p| p.into_inner()).close();
    drop(consumer);
    tracing::info!(worker = %config.worker_id, "worker stopped");
    result
}

fn consume(
    config: &SwitchConfig,
    consumer: &BaseConsumer<WorkerContext>,
    processor: &Processor,
    tables: watch::Receiver<Arc<RoutingTable>>,
    shutdown: &CancellationToken,
) -> Result<(), KafkaEdgeError> {
    let max_records = config.pipeline.batch_max_records;
    let max_age = config.pipeline.batch_max_interval();
    let mut outputs: Vec<OutputRecord> = Vec::with_capacity(8);
    // The table is fixed for a whole batch: every outcome of a transaction is
    // decided by one version.
    let mut table = tables.borrow().clone();
    let mut consumed = 0u64;
    while !shutdown.is_cancelled() {
        let age = consumer.context().sink.lock().unwrap_or_else(|p| p.into_inner()).batch_age();
        let wait = age.map_or(MAX_POLL_WAIT, |a| max_age.saturating_sub(a).min(MAX_POLL_WAIT));
        match consumer.poll(wait) {
            Some(Ok(msg)) => {
                let mut sink = consumer.context().sink.lock().unwrap_or_else(|p| p.into_inner());
                if sink.records() == 0 {
                    table = tables.borrow().clone();
                }
                let input = InputRecord {
                    topic: msg.topic(),
                    partition: msg.partition(),
                    offset: msg.offset(),
                    key: msg.key(),
                    payload: msg.payload(),
                };
                outputs.clear();
                let outcome = processor
                    .process(&input, &table, interlink_schemas::now_micros(), &mut outputs)
                    .map_err(|e| KafkaEdgeError::Other(e.to_string()))?;
                telemetry::outcome(&outcome);
                consumed += 1;
                sink.add(consumer, msg.partition(), msg.offset(), &outputs)?;
            }
            Some(Err(e)) => {
                telemetry::consume_error();
                tracing::warn!(error = %e, "consume error");
            }
            None => {}
        }
        let mut sink = consumer.context().sink.lock().unwrap_or_else(|p| p.into_inner());
        let due = sink.records() >= max_records || sink.batch_age().is_some_and(|a| a >= max_age);
        if due {
            telemetry::consumed(std::mem::take(&mut consumed));
            if sink.commit(consumer)? == Committed::RolledBack {
                tracing::warn!("batch rolled back; re-reading it");
            }
        }
    }
    telemetry::consumed(consumed);
    Ok(())
}
