//! A change set applied while requests flow: every outcome must agree with the table
//! version it records, so no request is ever routed with half a change.

mod common;

use common::{encode, request, wait_ready, Fixture};
use interlink_routing::{ParticipantStatus, RouteRecord};
use interlink_schemas::{ClearingRecord, Codec, Notification, Party, PaymentStatus};
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_agrees_with_the_version_that_routed_it() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-atomic");
    // Small batches: many transactions, so the switch lands between two of them.
    config.pipeline.batch_max_records = 50;
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;

    // Version 2 changes two rules at once: the CN->HK rate and Hang Seng's status.
    let mut v2 = common::sample_rules();
    for r in &mut v2 {
        match r {
            RouteRecord::Corridor(c) if c.from == "CN_IBPS" && c.to == "HK_FPS" && c.source_currency == "CNY" => {
                c.fx_rate = Some("1.2".parse().unwrap());
            }
            RouteRecord::Participant(p) if p.network == "HK_FPS" && p.institution_id == "024" => {
                p.status = ParticipantStatus::Suspended;
            }
            _ => {}
        }
    }

    // 4,000 requests to HSBC (004) and Hang Seng (024), the change set in the middle.
    const COUNT: usize = 4_000;
    let creditors: HashMap<String, &str> =
        (0..COUNT).map(|i| (format!("tx-{i}"), if i % 2 == 0 { "004" } else { "024" })).collect();
    let producer_fx = Fixture { prefix: fx.prefix.clone(), kafka: fx.kafka.clone(), topics: fx.topics.clone() };
    let batches: Vec<Vec<(String, Vec<u8>)>> = (0..COUNT)
        .map(|i| {
            let tx = format!("tx-{i}");
            let payload = encode(&request(&tx, creditors[&tx], 10_000));
            (tx, payload)
        })
        .collect::<Vec<_>>()
        .chunks(200)
        .map(<[_]>::to_vec)
        .collect();
    let apply_fx = Fixture { prefix: fx.prefix.clone(), kafka: fx.kafka.clone(), topics: fx.topics.clone() };
    tokio::task::spawn_blocking(move || {
        for (i, batch) in batches.iter().enumerate() {
            let records: Vec<(&str, Vec<u8>)> = batch.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            producer_fx.produce(&records, None);
            if i == batches.len() / 2 {
                assert_eq!(apply_fx.apply_routes(&v2), 2);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();

    let clearing_codec = Codec::<ClearingRecord>::new().unwrap();
    let notes_codec = Codec::<Notification>::new().unwrap();
    let clearing: Vec<ClearingRecord> = fx
        .read(&fx.topics.clearing, COUNT / 2, Duration::from_secs(60))
        .iter()
        .map(|(_, v)| clearing_codec.decode(v).unwrap())
        .collect();
    let debtor_notes: Vec<Notification> = fx
        .read(&fx.topics.notifications, COUNT + COUNT / 2, Duration::from_secs(60))
        .iter()
        .map(|(_, v)| notes_codec.decode(v).unwrap())
        .filter(|n| n.party == Party::Debtor)
        .collect();
    assert_eq!(debtor_notes.len(), COUNT, "one debtor notification per request");

    let mut per_version: HashMap<i64, usize> = HashMap::new();
    for c in &clearing {
        *per_version.entry(c.routing_version).or_default() += 1;
        let (rate, credit) = match c.routing_version {
            1 => ("1.0845", 10_845),
            2 => ("1.2", 12_000),
            v => panic!("unexpected version {v}"),
        };
        assert_eq!((c.fx_rate.as_str(), c.credit_amount.minor_units), (rate, credit), "{c:?}");
        if c.routing_version == 2 {
            assert_eq!(c.creditor_agent.institution_id, "004", "a suspended participant cleared at v2: {c:?}");
        }
    }
    for n in &debtor_notes {
        let to_hang_seng = creditors[&n.transaction_id] == "024";
        let expected = match (n.routing_version, to_hang_seng) {
            (2, true) => (PaymentStatus::RJCT, Some("AG01")),
            (1 | 2, _) => (PaymentStatus::ACCC, None),
            (v, _) => panic!("unexpected version {v}"),
        };
        assert_eq!((n.status, n.reason_code.as_deref()), expected, "{n:?}");
    }
    assert!(
        per_version.get(&1).copied().unwrap_or(0) > 0,
        "some requests were routed before the change: {per_version:?}"
    );
    assert!(
        per_version.get(&2).copied().unwrap_or(0) > 0,
        "some requests were routed after the change: {per_version:?}"
    );
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
