//! How the routing table scales: hydrating a large table from Kafka as a worker does
//! at start, compiling a new version (what a live swap costs, off the worker's
//! thread), and the latency distribution of route resolution on it.

use hdrhistogram::Histogram;
use interlink_routing::{diff, Marker, RoutingTable};
use interlink_schemas::{Agent, Amount};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::admin::{delete_topics, ensure_topics, TopicLayout};
use interlink_switch::kafka::read_routes_log;
use interlink_switch::kafka::routes_writer::publish_change_set;
use interlink_testkit::routes::{iso_currencies, synthetic_rules};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const LOOKUP_PARTICIPANTS: usize = 100_000;
const LOOKUP_CORRIDORS: usize = 10_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ScaleReport {
    pub rules: usize,
    pub participants: usize,
    pub corridors: usize,
    pub publish_secs: f64,
    /// Read the routes topic to its end and compile: a worker's start-up.
    pub hydrate_secs: f64,
    /// Compile a table of this size once more: the cost of a live swap, paid by the
    /// routes thread while the worker keeps consuming with the previous snapshot.
    pub compile_secs: f64,
    /// Resolution is measured on the table size the target names: 100,000
    /// participants and 10,000 corridors (the hydrated table is larger).
    pub lookup_table_rules: usize,
    pub lookups: u64,
    pub lookup_ns_p50: u64,
    pub lookup_ns_p99: u64,
    pub lookup_ns_p999: u64,
    pub lookup_ns_max: u64,
}

pub async fn run(
    kafka: &KafkaConfig,
    participants: usize,
    corridors: usize,
    lookups: u64,
) -> anyhow::Result<ScaleReport> {
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let kafka = kafka.clone();
    let prefix = format!("scale{}.", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let topics = TopicsConfig::with_prefix(&prefix);
    ensure_topics(&kafka, &topics, TopicLayout::with_replication(1, 1)).await.map_err(|e| err(&e))?;
    let result = tokio::task::spawn_blocking({
        let (kafka, topics) = (kafka.clone(), topics.clone());
        move || measure(&kafka, &topics, participants, corridors, lookups)
    })
    .await
    .map_err(|e| err(&e))?;
    let t = &topics;
    let all = [&t.requests, &t.clearing, &t.notifications, &t.dead_letters, &t.routes, &t.routes_audit];
    let _ = delete_topics(&kafka, &all.map(String::as_str)).await;
    result
}

fn measure(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    participants: usize,
    corridors: usize,
    lookups: u64,
) -> anyhow::Result<ScaleReport> {
    let rules = synthetic_rules(participants, corridors);
    let changes = diff(&BTreeMap::new(), &rules);
    let marker = Marker {
        version: 1,
        operator: "routes-scale".into(),
        reason: "scale test".into(),
        applied_at: interlink_schemas::now_micros(),
        changes: changes.len() as u64,
        principal: None,
        audit_head: None,
    };
    let started = Instant::now();
    publish_change_set(kafka, topics, &changes, &marker)?;
    let publish_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let log = read_routes_log(kafka, &topics.routes, Duration::from_secs(300))?;
    let table = log.table();
    let hydrate_secs = started.elapsed().as_secs_f64();
    if table.rule_count() != rules.len() || table.version() != 1 {
        anyhow::bail!("hydrated {} rules at version {}", table.rule_count(), table.version());
    }

    let started = Instant::now();
    let again = RoutingTable::compile(2, log.rules().values())?;
    let compile_secs = started.elapsed().as_secs_f64();
    drop(again);

    drop(log);
    drop(table);
    let lookup_rules = synthetic_rules(LOOKUP_PARTICIPANTS, LOOKUP_CORRIDORS);
    let table = RoutingTable::compile(1, &lookup_rules)?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).expect("valid bounds");
    let currencies = iso_currencies();
    let creditor = Agent::new("CN_IBPS", format!("{:012}", 100_000_000_000u64));
    for i in 0..lookups {
        let debtor =
            Agent::new("CN_IBPS", format!("{:012}", 100_000_000_000 + (i * 7_919) % LOOKUP_PARTICIPANTS as u64));
        let amount = Amount::new(1_000, currencies[(i as usize * 13) % 60]);
        let t = Instant::now();
        let routed = table.resolve(&debtor, &creditor, &amount, 0).is_ok();
        let ns = t.elapsed().as_nanos() as u64;
        std::hint::black_box(routed);
        let _ = histogram.record(ns.max(1));
    }
    Ok(ScaleReport {
        rules: rules.len(),
        participants,
        corridors: rules.len() - participants,
        publish_secs,
        hydrate_secs,
        compile_secs,
        lookup_table_rules: lookup_rules.len(),
        lookups,
        lookup_ns_p50: histogram.value_at_quantile(0.5),
        lookup_ns_p99: histogram.value_at_quantile(0.99),
        lookup_ns_p999: histogram.value_at_quantile(0.999),
        lookup_ns_max: histogram.max(),
    })
}
