//! Records that must not stall a partition: one that panics the decision code, and
//! one so large that a dead letter carrying all of it would not fit in Kafka.

mod common;

use common::{encode, request, wait_ready, Fixture};
use interlink_core::pipeline::{DEAD_LETTER_MAX_PAYLOAD, POISON_PURPOSE};
use interlink_schemas::{ClearingRecord, Codec, DeadLetter, ErrorKind};
use std::time::Duration;

fn cleared(fx: &Fixture, count: usize) -> Vec<String> {
    let mut ids: Vec<String> = fx
        .read(&fx.topics.clearing, count, Duration::from_secs(60))
        .iter()
        .map(|(_, v)| Codec::<ClearingRecord>::new().unwrap().decode(v).unwrap().transaction_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_panics_the_decision_is_dead_lettered_and_the_partition_flows() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let switch = interlink_switch::start(fx.switch_config("w-panic")).await.unwrap();
    wait_ready(&switch).await;

    let mut poison = request("tx-pill", "004", 100);
    poison.purpose = Some(POISON_PURPOSE.into());
    let after: Vec<String> = (0..10).map(|i| format!("tx-after-{i}")).collect();
    let mut records = vec![("tx-before", encode(&request("tx-before", "004", 100))), ("tx-pill", encode(&poison))];
    records.extend(after.iter().map(|tx| (tx.as_str(), encode(&request(tx, "004", 100)))));
    fx.produce(&records, Some(0));

    let mut want: Vec<String> = records.iter().map(|(k, _)| k.to_string()).filter(|k| k != "tx-pill").collect();
    want.sort();
    assert_eq!(cleared(&fx, want.len()), want, "every other request clears, once");
    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1, "the poison pill is dead-lettered once");
    let d = Codec::<DeadLetter>::new().unwrap().decode(&dead[0].1).unwrap();
    assert_eq!((d.source_partition, d.source_offset, d.error_kind), (0, 1, ErrorKind::Unknown));
    assert!(d.error_message.contains("panicked") && d.error_message.contains("tx-pill"), "{}", d.error_message);
    assert!(switch.health().ready(), "the worker goes on, ready");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_near_the_size_limit_gets_a_dead_letter_that_fits() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let switch = interlink_switch::start(fx.switch_config("w-huge")).await.unwrap();
    wait_ready(&switch).await;

    // Not Avro, and so close to librdkafka's 1,000,000-byte default that a dead letter
    // carrying all of it would be refused.
    let huge = vec![b'x'; 999_700];
    fx.produce(&[("h", huge.clone()), ("tx-next", encode(&request("tx-next", "004", 100)))], Some(0));

    assert_eq!(cleared(&fx, 1), ["tx-next"], "the request after it still flows");
    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    let d = Codec::<DeadLetter>::new().unwrap().decode(&dead[0].1).unwrap();
    assert_eq!(d.original_value.as_deref(), Some(&huge[..DEAD_LETTER_MAX_PAYLOAD]), "a prefix is kept");
    let sha = interlink_core::legs::sha256_hex(&huge);
    assert!(d.error_message.contains(&format!("999700 bytes, sha256 {sha}")), "{}", d.error_message);
    assert_eq!(d.error_kind, ErrorKind::Decode);
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
