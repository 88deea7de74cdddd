//! A worker must not start a partition while a previous owner's transaction still
//! holds the group's offset commit for it open: the committed offset it would read is
//! unstable (KIP-447), and a consumer left to itself can start such a partition by
//! `auto.offset.reset` and decide every committed request again. The fault suite found
//! that after a SIGKILLed worker came back under a new transactional id while the group
//! rebalanced (docs/reliability.md).
//!
//! Here a first worker decides a load and stops; a stalled transaction then commits
//! offsets for the group and waits to time out, as a killed worker's would; new workers
//! join and leave meanwhile; a second load follows. Every payment is cleared exactly
//! once, and the worker said why it waited.

mod common;

use common::{wait_ready, Fixture};
use interlink_schemas::{ClearingRecord, Codec};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::{ClientConfig, TopicPartitionList};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The stalled transaction's timeout: the broker aborts it this long after it began,
/// plus up to 10 s (its check for expired transactions).
const HANGING_TIMEOUT_MS: u32 = 12_000;

/// Begins a transaction that commits `offsets` for `group` and never ends it.
fn stall_offset_commit(fx: &Fixture, offsets: &TopicPartitionList) -> BaseProducer {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("transactional.id", format!("{}stalled", fx.prefix))
        .set("transaction.timeout.ms", HANGING_TIMEOUT_MS.to_string())
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    producer.begin_transaction().unwrap();
    // Group metadata without a member: how a producer commits for a group it is not in.
    let member: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("group.id", &fx.kafka.group_id)
        .create()
        .unwrap();
    let group = member.group_metadata().expect("group metadata");
    producer.send_offsets_to_transaction(offsets, &group, Duration::from_secs(30)).unwrap();
    producer
}

/// The group's committed offsets of every requests partition.
fn committed(fx: &Fixture, partitions: i32) -> TopicPartitionList {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("group.id", &fx.kafka.group_id)
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition(&fx.topics.requests, p);
    }
    consumer.committed_offsets(list, Duration::from_secs(30)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_whose_committed_offset_is_unstable_waits_and_is_decided_once() {
    interlink_testkit::require_broker!();
    let partitions = 2;
    let fx = Fixture::new(partitions).await;
    let rules = common::sample_rules();

    // A first load, decided and committed; then its worker leaves.
    let first = interlink_switch::start(fx.switch_config("w-first")).await.unwrap();
    wait_ready(&first).await;
    let opts = fx.load_options(400);
    let rules_first = rules.clone();
    let first_load = tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &rules_first, |_| {}))
        .await
        .unwrap()
        .unwrap();
    assert!(first_load.is_exact(), "{first_load}");
    first.stop().await.unwrap();
    let offsets = committed(&fx, partitions);
    assert!(
        offsets.elements().iter().all(|e| matches!(e.offset(), rdkafka::Offset::Offset(o) if o > 0)),
        "the first worker committed offsets: {offsets:?}"
    );

    // A transaction holds the group's offsets open, as a worker killed mid-commit would.
    let stalled = stall_offset_commit(&fx, &offsets);
    let stalled_at = Instant::now();

    // New workers join and leave while the offsets are unstable: rebalances while the
    // assignment's offsets are being fetched.
    let second = interlink_switch::start(fx.switch_config("w-second")).await.unwrap();
    let reasons: Arc<Mutex<Vec<String>>> = Arc::default();
    let prober = {
        let (reasons, addr) = (reasons.clone(), second.http_addr());
        tokio::spawn(async move {
            loop {
                if let Ok(answer) = common::try_http_get(addr, "/readyz").await {
                    reasons.lock().unwrap().push(answer);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    for round in 0..2 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let extra = interlink_switch::start(fx.switch_config(&format!("w-extra-{round}"))).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        // It is waiting for its partitions' offsets, and stops all the same: within its
        // drain time, not when the stalled transaction ends.
        let stopping = Instant::now();
        extra.stop().await.unwrap();
        assert!(stopping.elapsed() < Duration::from_secs(15), "a waiting worker took {:?} to stop", stopping.elapsed());
    }

    // A second load (other payments: another seed), decided once the offsets are stable.
    let mut opts = fx.load_options(400);
    opts.seed = 43;
    opts.timeout = Duration::from_secs(120);
    let second_load =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &rules, |_| {})).await.unwrap().unwrap();
    assert!(second_load.is_exact(), "{second_load}");
    prober.abort();

    // Late duplicates would be the first load decided again: wait, then count them all.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let approved = first_load.approved + second_load.approved;
    let clearing = fx.read(&fx.topics.clearing, approved as usize, Duration::from_secs(30));
    let codec = Codec::<ClearingRecord>::new().unwrap();
    let mut per_payment: HashMap<String, usize> = HashMap::new();
    for (_, v) in &clearing {
        *per_payment.entry(codec.decode(v).unwrap().transaction_id).or_default() += 1;
    }
    let twice: Vec<_> = per_payment.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(twice.is_empty(), "payments cleared more than once, e.g. {twice:?}");
    assert_eq!(clearing.len() as u64, approved, "one clearing record per approved payment of both loads");

    // The wait happened, and said why.
    let answers = reasons.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<&str> =
        answers.iter().filter_map(|a| a.lines().find(|l| l.contains("reason"))).collect();
    assert!(
        answers.iter().any(|a| a.contains("reading the committed offsets")),
        "the second worker never reported waiting for stable offsets ({} answers, reasons {distinct:?}; the stalled transaction began {:?} ago)",
        answers.len(),
        stalled_at.elapsed()
    );
    drop(stalled);
    second.stop().await.unwrap();
    fx.cleanup().await;
}
