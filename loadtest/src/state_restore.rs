//! Keyed-state restore at scale: how long a worker takes to rebuild its local store
//! from the state changelog, what the store costs in memory and on disk per key, and
//! how little a restart over a checkpointed store has to read.
//!
//! The changelog holds request memos as the switch writes them (the same keys, the
//! same encoding, a 24-hour expiry) but is filled by a plain idempotent producer: the
//! switch writes it in transactions, which only adds the control markers that the
//! restoring reader (read_committed) skips.

use anyhow::Context;
use interlink_core::memory::{request_hash, Decision, Memory, RecordPlace, RequestKey, RequestMemo};
use interlink_schemas::{now_micros, Agent, Amount, AuthorizationRequest, Channel};
use interlink_switch::config::KafkaConfig;
use interlink_switch::kafka::admin::delete_topics;
use interlink_switch::kafka::base_client_config;
use interlink_switch::kafka::changelog::ChangelogReader;
use interlink_switch::state::KeyedState;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY_MICROS: i64 = 86_400 * 1_000_000;
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Origins of the synthetic requests (networks of the sample routing table).
const NETWORKS: [&str; 4] = ["CN_IBPS", "HK_FPS", "SG_PAYNOW", "TH_PROMPTPAY"];
/// Debtor institutions per network.
const INSTITUTIONS: u64 = 5_000;

#[derive(Debug, Clone, clap::Args)]
pub struct StateRestoreOptions {
    #[arg(skip)]
    pub kafka: KafkaConfig,
    /// Request memos to write to the changelog and restore.
    #[arg(long, default_value_t = 10_000_000)]
    pub keys: u64,
    /// Changelog partitions; one worker owns them all and restores each in turn.
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    /// Leave the changelog topic and the store directory behind.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    pub topic: String,
    pub store_dir: String,
    pub keys: u64,
    pub partitions: i32,
    /// Average sizes of a key and a value as written.
    pub key_bytes: f64,
    pub value_bytes: f64,
    pub produce_secs: f64,
    pub produce_records_per_sec: f64,
    /// The whole changelog into an empty store, partition after partition.
    pub restore_secs: f64,
    pub restored_records: u64,
    pub restore_records_per_sec: f64,
    /// Making the restored store durable and recording its checkpoint.
    pub checkpoint_secs: f64,
    /// Resident memory before opening the store and reader, the most seen during the
    /// restore, and after it (with the store still open).
    pub rss_before_bytes: u64,
    pub rss_peak_bytes: u64,
    pub rss_after_bytes: u64,
    pub rss_growth_bytes_per_million_keys: f64,
    /// Everything under the store directory after the checkpoint.
    pub store_bytes: u64,
    pub store_bytes_per_million_keys: f64,
    /// A restart over the same directory: opening the store and restoring every
    /// partition from its checkpoint, and of that the opening alone (fjall replays
    /// its journal into memtables: what the checkpoint's sync made durable but no
    /// flush has written to tables yet).
    pub restart_secs: f64,
    pub restart_open_secs: f64,
    pub restart_records: u64,
}

impl RestoreReport {
    pub fn summary(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        format!(
            "state restore: {keys} keys over {parts} partitions ({key:.0}-byte keys, {value:.0}-byte values)\n\
             produce   {ps:>8.1} s  {pr:>10.0} records/s  (idempotent, not transactional: the switch's \
             transactions add only commit markers, which read_committed skips)\n\
             restore   {rs:>8.1} s  {rr:>10.0} records/s  ({records} records)\n\
             checkpoint{cs:>8.1} s\n\
             RSS       {before:.0} MiB before, {peak:.0} MiB peak, {after:.0} MiB after \
             ({growth:.1} MiB growth per million keys)\n\
             disk      {disk:.0} MiB ({disk_per:.1} MiB per million keys)\n\
             restart   {ts:>8.2} s  ({open:.2} s opening the store, {restart} records read from the \
             checkpoint on)",
            keys = self.keys,
            parts = self.partitions,
            key = self.key_bytes,
            value = self.value_bytes,
            ps = self.produce_secs,
            pr = self.produce_records_per_sec,
            rs = self.restore_secs,
            rr = self.restore_records_per_sec,
            records = self.restored_records,
            cs = self.checkpoint_secs,
            before = mib(self.rss_before_bytes),
            peak = mib(self.rss_peak_bytes),
            after = mib(self.rss_after_bytes),
            growth = self.rss_growth_bytes_per_million_keys / (1024.0 * 1024.0),
            disk = mib(self.store_bytes),
            disk_per = self.store_bytes_per_million_keys / (1024.0 * 1024.0),
            ts = self.restart_secs,
            open = self.restart_open_secs,
            restart = self.restart_records,
        )
    }
}

/// Creates the changelog, measures, and removes the topic and the store directory
/// again (unless `keep`), also when the measurement failed.
pub fn run(opts: &StateRestoreOptions) -> anyhow::Result<RestoreReport> {
    anyhow::ensure!(opts.keys > 0 && opts.partitions > 0, "--keys and --partitions must be positive");
    let kafka = opts.kafka.clone();
    let topic = format!("loadtest.{}.state", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(create_changelog(&kafka, &topic, opts.partitions))?;
    let dir = tempfile::Builder::new().prefix("interlink-state-restore.").tempdir()?;
    let report = measure(&kafka, &topic, dir.path(), opts);
    if opts.keep {
        eprintln!("kept topic {topic} and store {}", dir.keep().display());
        return report;
    }
    let deleted = runtime.block_on(delete_topics(&kafka, &[topic.as_str()]));
    // A failed measurement is the error to report, not the clean-up after it.
    let report = report?;
    deleted.with_context(|| format!("deleting {topic}"))?;
    Ok(report)
}

/// Compacted, like the switch's state topic (`interlinkctl topics create`).
async fn create_changelog(kafka: &KafkaConfig, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = base_client_config(kafka).create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact")
        .set("min.compaction.lag.ms", "60000");
    let opts = AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT));
    for result in admin.create_topics([&new], &opts).await? {
        result.map_err(|(name, code)| anyhow::anyhow!("creating {name}: {code}"))?;
    }
    Ok(())
}

fn measure(kafka: &KafkaConfig, topic: &str, dir: &Path, opts: &StateRestoreOptions) -> anyhow::Result<RestoreReport> {
    let partitions = opts.partitions;
    let (produced, samples) = produce(kafka, topic, opts.keys, partitions)?;
    release_freed_heap();

    let rss_before = rss_bytes()?;
    let sampler = PeakRss::start();
    let started = Instant::now();
    let mut reader = ChangelogReader::open(kafka, topic)?;
    let mut state = KeyedState::open(dir)?;
    state.assign(0..partitions);
    let mut ends = Vec::new();
    let mut restored_records = 0;
    for p in 0..partitions {
        let restored = reader.restore(&mut state, p)?;
        eprintln!("restored partition {p}: {} records in {:.1} s", restored.records, restored.took.as_secs_f64());
        restored_records += restored.records;
        ends.push((p, restored.end));
    }
    let restore_secs = started.elapsed().as_secs_f64();
    let rss_after = rss_bytes()?;
    let rss_peak = sampler.stop().max(rss_after);
    anyhow::ensure!(restored_records == opts.keys, "restored {restored_records} of {} records", opts.keys);

    let started = Instant::now();
    state.checkpoint(ends)?;
    let checkpoint_secs = started.elapsed().as_secs_f64();
    let store_bytes = dir_bytes(dir)?;
    drop(state);

    let started = Instant::now();
    let mut state = KeyedState::open(dir)?;
    let restart_open_secs = started.elapsed().as_secs_f64();
    state.assign(0..partitions);
    let mut restart_records = 0;
    for p in 0..partitions {
        restart_records += reader.restore(&mut state, p)?.records;
    }
    let restart_secs = started.elapsed().as_secs_f64();
    for (p, key, value) in &samples {
        let held = state.memory(*p).get(key).context("reading the restarted store")?;
        anyhow::ensure!(held.as_ref() == Some(value), "partition {p} lost its last key after the restart");
    }

    let per_million = |bytes: f64| bytes * 1e6 / opts.keys as f64;
    Ok(RestoreReport {
        topic: topic.to_string(),
        store_dir: dir.display().to_string(),
        keys: opts.keys,
        partitions,
        key_bytes: produced.key_bytes as f64 / opts.keys as f64,
        value_bytes: produced.value_bytes as f64 / opts.keys as f64,
        produce_secs: produced.took.as_secs_f64(),
        produce_records_per_sec: opts.keys as f64 / produced.took.as_secs_f64(),
        restore_secs,
        restored_records,
        restore_records_per_sec: restored_records as f64 / restore_secs,
        checkpoint_secs,
        rss_before_bytes: rss_before,
        rss_peak_bytes: rss_peak,
        rss_after_bytes: rss_after,
        rss_growth_bytes_per_million_keys: per_million(rss_after.saturating_sub(rss_before) as f64),
        store_bytes,
        store_bytes_per_million_keys: per_million(store_bytes as f64),
        restart_secs,
        restart_open_secs,
        restart_records,
    })
}

/// A partition's last record (partition, key, value), looked up after the restart.
type Sample = (i32, Vec<u8>, Vec<u8>);

struct Produced {
    took: Duration,
    key_bytes: u64,
    value_bytes: u64,
}

/// Writes `keys` memos, memo `i` to partition `i % partitions`. Returns the last key
/// and value of each partition, to check the restarted store with.
fn produce(kafka: &KafkaConfig, topic: &str, keys: u64, partitions: i32) -> anyhow::Result<(Produced, Vec<Sample>)> {
    let context = FailedDeliveries::default();
    let producer: ThreadedProducer<FailedDeliveries> = base_client_config(kafka)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Uncompressed, as the switch writes: the restore reads what it would read.
        .set("compression.type", "none")
        .set("linger.ms", "50")
        .set("batch.size", "1000000")
        .set("batch.num.messages", "100000")
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(context.clone())?;
    let now = now_micros();
    let mut produced = Produced { took: Duration::ZERO, key_bytes: 0, value_bytes: 0 };
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut reported = 0;
    for i in 0..keys {
        let p = (i % partitions as u64) as i32;
        let (key, value) = memo(i, p, partitions, now)?;
        send(&producer, topic, p, &key, &value)?;
        produced.key_bytes += key.len() as u64;
        produced.value_bytes += value.len() as u64;
        if i + partitions as u64 >= keys {
            samples.push((p, key, value));
        }
        if started.elapsed().as_secs() > reported {
            reported = started.elapsed().as_secs();
            eprint!("\rproducing {reported:>4} s  {:>10}/{keys}", i + 1);
            let _ = std::io::stderr().flush();
        }
    }
    producer.flush(Duration::from_secs(300))?;
    produced.took = started.elapsed();
    eprintln!("\rproduced {keys} records in {:.1} s{:20}", produced.took.as_secs_f64(), "");
    let failed = context.0.load(Ordering::Relaxed);
    anyhow::ensure!(failed == 0, "{failed} of {keys} records were not delivered");
    Ok((produced, samples))
}

/// The memo of the `i`th synthetic request, as the switch stores it after deciding the
/// request: key and encoded value.
fn memo(i: u64, partition: i32, partitions: i32, now: i64) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let network = NETWORKS[(i % NETWORKS.len() as u64) as usize];
    let transaction_id = uuid::Uuid::now_v7().to_string();
    let request = AuthorizationRequest {
        end_to_end_id: format!("E2E{}", &transaction_id.replace('-', "")[..24]),
        transaction_id,
        created_at: now,
        debtor_agent: Agent::new(network, format!("{:012}", 100_000_000_000 + i % INSTITUTIONS)),
        debtor_account: format!("62{:014}", i),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some(format!("HK{:010}", i / 7)),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(5_000 + (i % 15_000) as i64, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    };
    // Mostly accepted, some refused or sent on, as in a steady run.
    let decision = match i % 20 {
        0 => Decision::Rejected { reason: "AM04".into() },
        1 => Decision::Forwarded,
        _ => Decision::Accepted,
    };
    let memo = RequestMemo {
        request_hash: request_hash(&request),
        decision,
        routing_version: 1,
        first: RecordPlace { partition, offset: (i / partitions as u64) as i64 },
        decided_at: now,
        expires_at: now + DAY_MICROS,
    };
    Ok((RequestKey::of(&request).as_bytes().to_vec(), memo.encode()?))
}

/// Queues one record for `partition`, waiting while the producer's queue is full.
fn send(
    producer: &ThreadedProducer<FailedDeliveries>,
    topic: &str,
    partition: i32,
    key: &[u8],
    value: &[u8],
) -> Result<(), KafkaError> {
    let mut record = BaseRecord::to(topic).partition(partition).key(key).payload(value);
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                // The producer's own thread serves the deliveries that make room.
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Counts records the broker did not take: a restore of fewer keys measures nothing.
#[derive(Default, Clone)]
struct FailedDeliveries(Arc<AtomicU64>);

impl ClientContext for FailedDeliveries {}

impl ProducerContext for FailedDeliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Gives the heap the producer freed back to the system, so that the restore's memory
/// is measured from what the process holds, not from what the allocator kept.
fn release_freed_heap() {
    // SAFETY: malloc_trim only returns free pages of glibc's heap to the system.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// This process's resident memory (`VmRSS` of `/proc/self/status`), in bytes.
fn rss_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .context("no VmRSS in /proc/self/status")?;
    Ok(kib * 1024)
}

/// The highest resident memory seen while it runs. `VmHWM` cannot serve: it would
/// remember the producer's peak.
struct PeakRss {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl PeakRss {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut peak = 0;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(rss_bytes().unwrap_or(0));
                    std::thread::sleep(Duration::from_millis(50));
                }
                peak
            }
        });
        Self { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_bytes(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}
