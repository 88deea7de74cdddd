//! Every metric the switch exports, named in one place.

use interlink_core::pipeline::Outcome;
use interlink_schemas::ErrorKind;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

pub const EVENTS_IN: &str = "interlink_events_in_total";
pub const OUTCOMES: &str = "interlink_outcomes_total";
pub const RECORDS_OUT: &str = "interlink_records_out_total";
pub const DEAD_LETTERS: &str = "interlink_dead_letters_total";
pub const TXN_COMMIT_SECONDS: &str = "interlink_txn_commit_seconds";
pub const TXN_ABORTS: &str = "interlink_txn_aborts_total";
pub const BATCH_RECORDS: &str = "interlink_batch_records";
pub const ROUTING_VERSION: &str = "interlink_routing_table_version";
pub const ROUTING_RULES: &str = "interlink_routing_table_rules";
pub const ROUTING_ERRORS: &str = "interlink_routing_log_errors_total";
pub const CONSUME_ERRORS: &str = "interlink_consume_errors_total";
pub const STATE_RESTORED_RECORDS: &str = "interlink_state_restored_records_total";
pub const STATE_RESTORE_SECONDS: &str = "interlink_state_restore_seconds";
pub const STATE_EXPIRED: &str = "interlink_state_expired_total";
pub const PAYMENTS_TIMED_OUT: &str = "interlink_payments_timed_out_total";
pub const REVIEWS_TIMED_OUT: &str = "interlink_reviews_timed_out_total";
pub const SCHEMA_REGISTRY_UNAVAILABLE: &str = "interlink_schema_registry_unavailable_total";

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(metrics_exporter_prometheus::Matcher::Full(TXN_COMMIT_SECONDS.into()), &buckets)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(BATCH_RECORDS.into()),
                        &[1.0, 10.0, 100.0, 500.0, 1000.0, 2000.0, 5000.0],
                    )
                })
                .expect("bucket lists are non-empty")
                .install_recorder()
                .expect("no other metrics recorder is installed in this process");
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_counter!(EVENTS_IN, "Authorization records consumed.");
    describe_counter!(OUTCOMES, "Requests by outcome (accepted, rejected, dead_lettered) and reason.");
    describe_counter!(RECORDS_OUT, "Records produced, by topic kind.");
    describe_counter!(DEAD_LETTERS, "Dead letters by error kind.");
    describe_histogram!(TXN_COMMIT_SECONDS, Unit::Seconds, "Time to commit one batch (transaction or offsets).");
    describe_counter!(TXN_ABORTS, "Batches aborted and re-read, by cause.");
    describe_histogram!(BATCH_RECORDS, Unit::Count, "Input records per committed batch.");
    describe_gauge!(ROUTING_VERSION, "Version of the routing table in use.");
    describe_gauge!(ROUTING_RULES, "Rules in the routing table in use.");
    describe_counter!(ROUTING_ERRORS, "Routes-log records or change sets refused.");
    describe_counter!(CONSUME_ERRORS, "Errors returned by the consumer.");
    describe_counter!(STATE_RESTORED_RECORDS, "State changelog records read while restoring partitions.");
    describe_histogram!(STATE_RESTORE_SECONDS, Unit::Seconds, "Time to restore one state partition.");
    describe_counter!(STATE_EXPIRED, "State entries found expired (duplicate windows over, deadlines passed).");
    describe_counter!(
        PAYMENTS_TIMED_OUT,
        "Payments refused to both sides (AB05) because their network sent no final status by its deadline."
    );
    describe_counter!(
        REVIEWS_TIMED_OUT,
        "Payments held for review and refused because no operator decided by the review deadline."
    );
    describe_counter!(
        SCHEMA_REGISTRY_UNAVAILABLE,
        "Requests with a new writer schema id that waited because the schema registry did not answer."
    );
}

pub fn consumed(n: u64) {
    counter!(EVENTS_IN).increment(n);
}

/// Outcome counters of one worker: each (outcome, reason) is registered once and
/// its handle reused, so the hot path neither allocates labels nor hashes them.
#[derive(Default)]
pub struct OutcomeCounters {
    outcomes: Vec<((&'static str, &'static str), Counter)>,
    dead_letters: Vec<(ErrorKind, Counter)>,
}

impl OutcomeCounters {
    pub fn record(&mut self, outcome: &Outcome) {
        let (label, reason) = match outcome {
            Outcome::Rejected { reason } => ("rejected", reason.metric_label()),
            Outcome::DeadLettered { kind } => {
                let kind_label = error_kind_label(*kind);
                cached(&mut self.dead_letters, *kind, || counter!(DEAD_LETTERS, "kind" => kind_label)).increment(1);
                ("dead_lettered", kind_label)
            }
            // A late acceptance means funds to return: its own series, for an alert.
            Outcome::LateAnswer { settled, timed_out } => {
                if *timed_out {
                    payment_timed_out();
                }
                ("late_answer", if *settled { "settled" } else { "refused" })
            }
            other => (other.label(), ""),
        };
        cached(&mut self.outcomes, (label, reason), || counter!(OUTCOMES, "outcome" => label, "reason" => reason))
            .increment(1);
    }
}

/// The handle registered for `key`, registering it the first time.
fn cached<K: PartialEq + Copy>(
    handles: &mut Vec<(K, Counter)>,
    key: K,
    register: impl FnOnce() -> Counter,
) -> &Counter {
    let index = match handles.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            handles.push((key, register()));
            handles.len() - 1
        }
    };
    &handles[index].1
}

fn error_kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unknown => "unknown",
        ErrorKind::Decode => "decode",
        ErrorKind::Validation => "validation",
    }
}

pub fn produced(topic: &'static str, n: u64) {
    counter!(RECORDS_OUT, "topic" => topic).increment(n);
}

pub fn committed(records: usize, took: Duration) {
    histogram!(TXN_COMMIT_SECONDS).record(took.as_secs_f64());
    histogram!(BATCH_RECORDS).record(records as f64);
}

pub fn state_restored(records: u64, took: Duration) {
    counter!(STATE_RESTORED_RECORDS).increment(records);
    histogram!(STATE_RESTORE_SECONDS).record(took.as_secs_f64());
}

pub fn state_expired(entries: usize) {
    counter!(STATE_EXPIRED).increment(entries as u64);
}

/// A request framed with a schema id this worker did not know, while the registry
/// could not be asked: its batch is read again after a backoff.
pub fn schema_registry_unavailable() {
    counter!(SCHEMA_REGISTRY_UNAVAILABLE).increment(1);
}

pub fn payment_timed_out() {
    counter!(PAYMENTS_TIMED_OUT).increment(1);
}

pub fn review_timed_out() {
    counter!(REVIEWS_TIMED_OUT).increment(1);
}

pub fn aborted(cause: &'static str) {
    counter!(TXN_ABORTS, "cause" => cause).increment(1);
}

pub fn routing_table(version: i64, rules: usize) {
    gauge!(ROUTING_VERSION).set(version as f64);
    gauge!(ROUTING_RULES).set(rules as f64);
}

pub fn routing_error(kind: &'static str) {
    counter!(ROUTING_ERRORS, "kind" => kind).increment(1);
}

pub fn consume_error() {
    counter!(CONSUME_ERRORS).increment(1);
}
