//! The baseline: a raw Kafka pass-through with the switch's client settings, batch
//! sizes, transaction mode and fan-out, but no switch logic. Each request becomes
//! one notification-sized record, or (for the share of requests the switch would
//! accept) two notification-sized records and one clearing-sized record. Its
//! throughput is the ceiling for this broker and machine; the switch is reported
//! as a ratio to it.

use interlink_switch::config::ConsistencyMode;
use interlink_switch::kafka::{base_client_config, wait_for_deliveries};
use interlink_testkit::generator::Planned;
use interlink_testkit::kafka::send;
use interlink_testkit::verifier::{OutcomeCheck, OutputKind, Summary, Timeline};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const DEBTOR: u8 = b'D';
const CREDITOR: u8 = b'C';

#[derive(Debug, Clone, clap::Args)]
pub struct PassthroughOptions {
    #[arg(skip)]
    pub kafka: interlink_switch::config::KafkaConfig,
    #[arg(long)]
    pub group: String,
    #[arg(long)]
    pub transactional_id: String,
    #[arg(long)]
    pub input: String,
    #[arg(long)]
    pub clearing: String,
    #[arg(long)]
    pub notifications: String,
    #[arg(long, value_enum)]
    pub consistency: ConsistencyMode,
    #[arg(long, default_value_t = 2_000)]
    pub batch_max_records: usize,
    #[arg(long, default_value_t = 100)]
    pub batch_max_interval_ms: u64,
    #[arg(long, default_value_t = 5)]
    pub linger_ms: u64,
    /// Size of each notification-sized output record, in bytes.
    #[arg(long)]
    pub notification_bytes: usize,
    /// Size of each clearing-sized output record, in bytes.
    #[arg(long)]
    pub clearing_bytes: usize,
    /// Requests fanned out to three records, per thousand (the switch's accepted share).
    #[arg(long)]
    pub fan_out_per_mille: u32,
}

/// Whether a request fans out to three records: FNV-1a of its key, stable across
/// processes so the checker knows in advance.
pub fn fans_out(key: &[u8], per_mille: u32) -> bool {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    hash % 1000 < u64::from(per_mille)
}

/// Runs until `stop` is set, then commits what is open.
pub fn run(opts: &PassthroughOptions, stop: &AtomicBool) -> Result<(), KafkaError> {
    let eo = opts.consistency == ConsistencyMode::ExactlyOnce;
    // The switch's consumer and producer settings (kafka/worker.rs, kafka/sink.rs).
    let consumer: BaseConsumer = base_client_config(&opts.kafka)
        .set("group.id", &opts.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("fetch.wait.max.ms", "20")
        .create()?;
    consumer.subscribe(&[&opts.input])?;
    let mut pc = base_client_config(&opts.kafka);
    pc.set("linger.ms", opts.linger_ms.to_string())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "none")
        .set("queue.buffering.max.messages", "1000000")
        .set("batch.num.messages", "10000");
    if eo {
        pc.set("transactional.id", &opts.transactional_id);
    }
    let producer: ThreadedProducer<DefaultProducerContext> = pc.create()?;
    if eo {
        producer.init_transactions(CALL_TIMEOUT)?;
    }
    let notification = vec![0u8; opts.notification_bytes.max(9)];
    let clearing = vec![0u8; opts.clearing_bytes.max(9)];
    let max_age = Duration::from_millis(opts.batch_max_interval_ms);
    let mut batch = Batch::default();
    let mut out = (notification.clone(), notification, clearing);
    while !stop.load(Ordering::Relaxed) {
        let wait = batch.started.map_or(Duration::from_millis(100), |s| max_age.saturating_sub(s.elapsed()));
        if let Some(Ok(msg)) = consumer.poll(wait) {
            if eo && batch.records == 0 {
                producer.begin_transaction()?;
            }
            batch.add(msg.partition(), msg.offset());
            let key = msg.key().unwrap_or_default();
            // The request's create time rides in the first 8 bytes, for latency.
            let created = msg.timestamp().to_millis().unwrap_or(0) * 1000;
            stamp(&mut out.0, created, DEBTOR);
            send(&producer, &opts.notifications, key, &out.0)?;
            if fans_out(key, opts.fan_out_per_mille) {
                stamp(&mut out.1, created, CREDITOR);
                send(&producer, &opts.notifications, key, &out.1)?;
                send(&producer, &opts.clearing, key, &out.2)?;
            }
        }
        let due = batch.records >= opts.batch_max_records || batch.started.is_some_and(|s| s.elapsed() >= max_age);
        if due {
            commit(&consumer, &producer, &opts.input, eo, &mut batch)?;
        }
    }
    commit(&consumer, &producer, &opts.input, eo, &mut batch)?;
    producer.flush(CALL_TIMEOUT)
}

#[derive(Default)]
struct Batch {
    /// partition -> (first offset, next offset)
    offsets: HashMap<i32, (i64, i64)>,
    records: usize,
    started: Option<Instant>,
}

impl Batch {
    fn add(&mut self, partition: i32, offset: i64) {
        self.offsets.entry(partition).or_insert((offset, offset + 1)).1 = offset + 1;
        self.records += 1;
        self.started.get_or_insert_with(Instant::now);
    }
}

fn commit(
    consumer: &BaseConsumer,
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    eo: bool,
    batch: &mut Batch,
) -> Result<(), KafkaError> {
    if batch.records == 0 {
        return Ok(());
    }
    let mut offsets = TopicPartitionList::new();
    for (&p, &(_, next)) in &batch.offsets {
        offsets.add_partition_offset(topic, p, Offset::Offset(next))?;
    }
    let result = if eo {
        let group = consumer.group_metadata().ok_or(KafkaError::NoMessageReceived)?;
        // As the switch does (kafka/sink.rs): rdkafka's flush would nap 100 ms.
        wait_for_deliveries(producer, CALL_TIMEOUT)
            .and_then(|()| producer.send_offsets_to_transaction(&offsets, &group, CALL_TIMEOUT))
            .and_then(|()| producer.commit_transaction(CALL_TIMEOUT))
    } else {
        wait_for_deliveries(producer, CALL_TIMEOUT).and_then(|()| consumer.commit(&offsets, CommitMode::Sync))
    };
    if let Err(e) = result {
        // The baseline does not try to be clever: abort and re-read the batch.
        tracing::warn!(error = %e, "pass-through batch failed; re-reading it");
        if eo {
            producer.abort_transaction(CALL_TIMEOUT)?;
        }
        let mut rewind = TopicPartitionList::new();
        for (&p, &(first, _)) in &batch.offsets {
            rewind.add_partition_offset(topic, p, Offset::Offset(first))?;
        }
        consumer.seek_partitions(rewind, CALL_TIMEOUT)?;
    }
    *batch = Batch::default();
    Ok(())
}

fn stamp(record: &mut [u8], created_micros: i64, party: u8) {
    record[..8].copy_from_slice(&created_micros.to_le_bytes());
    record[8] = party;
}

/// Checks the pass-through's outputs: per request, exactly the records its fan-out says.
pub struct PassthroughCheck {
    fan_out_per_mille: u32,
    /// transaction id -> (fans out, [debtor, creditor, clearing, other] counts)
    requests: HashMap<String, (bool, [u32; 4])>,
    satisfied: usize,
    timeline: Timeline,
}

impl PassthroughCheck {
    pub fn new(fan_out_per_mille: u32) -> Self {
        Self { fan_out_per_mille, requests: HashMap::new(), satisfied: 0, timeline: Timeline::new() }
    }
}

fn complete(fans_out: bool, seen: &[u32; 4]) -> bool {
    seen[0] > 0 && (!fans_out || (seen[1] > 0 && seen[2] > 0))
}

impl OutcomeCheck for PassthroughCheck {
    fn expect(&mut self, p: &Planned) {
        self.timeline.sent(p.created_at);
        // The pass-through knows a request only by its Kafka key (its transaction id,
        // or its debtor's person key, which the generator makes unique per request).
        let fans_out = fans_out(p.key.as_bytes(), self.fan_out_per_mille);
        self.requests.insert(p.key.clone(), (fans_out, [0; 4]));
    }

    fn observe(&mut self, kind: OutputKind, key: Option<&[u8]>, payload: &[u8], read_micros: i64) {
        let tx = String::from_utf8_lossy(key.unwrap_or_default());
        let Some((fans_out, seen)) = self.requests.get_mut(tx.as_ref()) else { return };
        let was = complete(*fans_out, seen);
        let slot = match (kind, payload.get(8)) {
            (OutputKind::Notification, Some(&DEBTOR)) => 0,
            (OutputKind::Notification, Some(&CREDITOR)) => 1,
            (OutputKind::Clearing, _) => 2,
            _ => 3,
        };
        seen[slot] += 1;
        if slot == 0 {
            let created = i64::from_le_bytes(payload[..8].try_into().expect("8 bytes"));
            self.timeline.latency(created, read_micros);
        }
        if !was && complete(*fans_out, seen) {
            self.satisfied += 1;
            self.timeline.completed(read_micros);
        }
    }

    fn satisfied_count(&self) -> usize {
        self.satisfied
    }

    fn expected_count(&self) -> usize {
        self.requests.len()
    }

    fn summary(&self, elapsed: Duration) -> Summary {
        let mut s = Summary { requests: self.requests.len() as u64, ..Summary::empty(elapsed) };
        for (tx, (fans_out, seen)) in &self.requests {
            let ok = complete(*fans_out, seen);
            let duplicated = seen[..3].iter().any(|&n| n > 1);
            let unexpected = seen[3] > 0 || (!fans_out && seen[1] + seen[2] > 0);
            s.lost += u64::from(!ok);
            s.duplicated += u64::from(duplicated);
            s.unexpected += u64::from(unexpected);
            if ok && *fans_out {
                s.approved += 1;
            } else if ok {
                s.rejected += 1;
            }
            if (!ok || duplicated || unexpected) && s.examples.len() < 10 {
                s.examples.push(format!("{tx}: fan-out {fans_out}, saw {seen:?}"));
            }
        }
        self.timeline.fill(&mut s);
        s.rate_per_sec = s.requests as f64 / s.elapsed_secs.max(1e-9);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_testkit::generator::Expected;

    fn planned(tx: &str) -> Planned {
        Planned {
            transaction_id: tx.into(),
            key: tx.into(),
            created_at: 1_000,
            payload: vec![],
            expected: Expected::Poison,
            debit: None,
            resent: None,
        }
    }

    fn record(party: u8) -> Vec<u8> {
        let mut r = vec![0u8; 40];
        stamp(&mut r, 1_000, party);
        r
    }

    #[test]
    fn the_check_counts_lost_and_duplicated_by_fan_out() {
        let fanned: Vec<String> = (0..100).map(|i| format!("tx{i}")).filter(|k| fans_out(k.as_bytes(), 500)).collect();
        let single: Vec<String> = (0..100).map(|i| format!("tx{i}")).filter(|k| !fans_out(k.as_bytes(), 500)).collect();
        assert!(fanned.len() > 20 && single.len() > 20, "about half each");
        let mut c = PassthroughCheck::new(500);
        let (a, b, d) = (&fanned[0], &fanned[1], &single[0]);
        for tx in [a, b, d] {
            c.expect(&planned(tx));
        }
        // a complete, b lacks its clearing record, d twice.
        for (kind, party) in [(OutputKind::Notification, DEBTOR), (OutputKind::Notification, CREDITOR)] {
            c.observe(kind, Some(a.as_bytes()), &record(party), 3_000);
            c.observe(kind, Some(b.as_bytes()), &record(party), 3_000);
        }
        c.observe(OutputKind::Clearing, Some(a.as_bytes()), &record(0), 3_000);
        c.observe(OutputKind::Notification, Some(d.as_bytes()), &record(DEBTOR), 3_000);
        c.observe(OutputKind::Notification, Some(d.as_bytes()), &record(DEBTOR), 3_000);
        assert_eq!(c.satisfied_count(), 2);
        let s = c.summary(Duration::from_secs(1));
        assert_eq!((s.requests, s.approved, s.rejected, s.lost, s.duplicated), (3, 1, 1, 1, 1), "{s}");
        assert!((s.latency_ms_p50 - 2.0).abs() < 0.01);
    }
}
