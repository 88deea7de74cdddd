//! The switch against a real Apache Kafka broker: routing, rejects, dead letters,
//! and sharing the load between workers.

mod common;

use common::{encode, request, wait_ready, Fixture};
use interlink_schemas::{Amount, ClearingRecord, Codec, DeadLetter, ErrorKind, Notification, Party, PaymentStatus};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_a_payment_with_fx_and_rejects_an_unknown_creditor() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let switch = interlink_switch::start(fx.switch_config("w-e2e")).await.unwrap();
    wait_ready(&switch).await;

    fx.produce(
        &[("tx-ok", encode(&request("tx-ok", "004", 10_000))), ("tx-no", encode(&request("tx-no", "999", 500)))],
        None,
    );

    let clearing: Vec<ClearingRecord> =
        fx.read_events::<ClearingRecord>(&fx.topics.clearing, 1, Duration::from_secs(30));
    assert_eq!(clearing.len(), 1, "one clearing record, none for the rejected payment");
    let c = &clearing[0];
    assert_eq!(c.transaction_id, "tx-ok");
    assert_eq!(c.debit_amount, Amount::new(10_000, "CNY"));
    assert_eq!(c.credit_amount, Amount::new(10_845, "HKD"));
    assert_eq!((c.fx_rate.as_str(), c.routing_version), ("1.0845", 1));
    assert_eq!(c.creditor_agent.institution_id, "004");

    let mut notes: Vec<Notification> =
        fx.read_events::<Notification>(&fx.topics.notifications, 3, Duration::from_secs(30));
    notes.sort_by(|a, b| a.notification_id.cmp(&b.notification_id));
    let summary: Vec<_> = notes
        .iter()
        .map(|n| (n.notification_id.as_str(), n.status, n.reason_code.as_deref(), n.routing_version))
        .collect();
    assert_eq!(
        summary,
        [
            ("tx-no:DEBTOR", PaymentStatus::RJCT, Some("RC01"), 1),
            ("tx-ok:CREDITOR", PaymentStatus::ACCC, None, 1),
            ("tx-ok:DEBTOR", PaymentStatus::ACCC, None, 1),
        ]
    );
    assert!(fx.read(&fx.topics.dead_letters, 0, Duration::from_secs(1)).is_empty());

    // The metrics endpoint reports what happened.
    let body = common::http_get(switch.http_addr(), "/metrics").await;
    assert!(body.contains("interlink_outcomes_total{outcome=\"accepted\""), "{body}");
    assert!(body.contains("interlink_routing_table_version 1"), "{body}");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_dead_lettered_and_later_messages_still_flow() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let switch = interlink_switch::start(fx.switch_config("w-poison")).await.unwrap();
    wait_ready(&switch).await;

    let poison = b"\x00\x00\x00\x00\x65\xff\xff\xff not avro".to_vec();
    let mut records = vec![("tx-poison", poison.clone())];
    let valid: Vec<String> = (0..20).map(|i| format!("tx-after-{i}")).collect();
    records.extend(valid.iter().map(|tx| (tx.as_str(), encode(&request(tx, "012", 100)))));
    fx.produce(&records, Some(0));

    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    let d = Codec::<DeadLetter>::new().unwrap().decode(&dead[0].1).unwrap();
    assert_eq!(d.original_value.as_deref(), Some(&poison[..]), "the original bytes are kept");
    assert_eq!(d.original_key.as_deref(), Some(&b"tx-poison"[..]));
    assert_eq!((d.source_topic.as_str(), d.source_partition, d.source_offset), (fx.topics.requests.as_str(), 0, 0));
    assert_eq!(d.error_kind, ErrorKind::Decode);
    assert!(d.error_message.contains("undecodable"), "{}", d.error_message);

    let clearing = fx.read(&fx.topics.clearing, 20, Duration::from_secs(30));
    let mut cleared: Vec<String> = clearing
        .iter()
        .map(|(_, v)| Codec::<ClearingRecord>::new().unwrap().decode(v).unwrap().transaction_id)
        .collect();
    cleared.sort();
    let mut want = valid.clone();
    want.sort();
    assert_eq!(cleared, want, "every message after the poison one is routed, once");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_request_is_dead_lettered_and_its_debtor_told() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let switch = interlink_switch::start(fx.switch_config("w-invalid")).await.unwrap();
    wait_ready(&switch).await;
    let mut bad = request("tx-neg", "004", 100);
    bad.amount.minor_units = -100;
    fx.produce(&[("tx-neg", encode(&bad))], None);
    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    let d = Codec::<DeadLetter>::new().unwrap().decode(&dead[0].1).unwrap();
    assert_eq!(
        (d.error_kind, d.reason_code.as_deref(), d.transaction_id.as_deref()),
        (ErrorKind::Validation, Some("AM12"), Some("tx-neg"))
    );
    let notes = fx.read(&fx.topics.notifications, 1, Duration::from_secs(30));
    assert_eq!(notes.len(), 1);
    let n = Codec::<Notification>::new().unwrap().decode(&notes[0].1).unwrap();
    assert_eq!((n.party, n.status, n.reason_code.as_deref()), (Party::Debtor, PaymentStatus::RJCT, Some("AM12")));
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_in_one_group_share_the_partitions_and_the_load() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(6).await;
    let a = interlink_switch::start(fx.switch_config("w-share-a")).await.unwrap();
    let b = interlink_switch::start(fx.switch_config("w-share-b")).await.unwrap();
    wait_ready(&a).await;
    wait_ready(&b).await;
    // Let the group settle so both hold partitions before the load starts: six of
    // the requests topic and six of the forwards topic, split alike.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while a.health().assigned_partitions() + b.health().assigned_partitions() != 12 {
        assert!(std::time::Instant::now() < deadline, "partitions never split between the workers");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (pa, pb) = (a.health().assigned_partitions(), b.health().assigned_partitions());
    assert!(pa > 0 && pb > 0, "both workers hold partitions: {pa} and {pb}");

    let opts = fx.load_options(3_000);
    let summary = tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &common::sample_rules(), |_| {}))
        .await
        .unwrap()
        .unwrap();
    assert!(summary.is_exact(), "{summary}");
    assert_eq!(summary.requests, 3_000);
    assert!(summary.approved > 2_500 && summary.rejected > 0 && summary.dead_lettered > 0, "{summary}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
    fx.cleanup().await;
}
