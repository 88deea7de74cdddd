//! The two-leg flow through a connected network, against the real broker with network
//! simulators: mainland CN IBPS to Hong Kong FPS and back. Each accepted payment gets
//! exactly one clearing record, each rejected one none, and a status report that
//! matches nothing (or arrives twice) never clears again.

mod common;

use common::{accc, encode, request, wait_ready, Fixture};
use interlink_connectors::canonical::{Agent as NetAgent, Creditor, Debtor, Money};
use interlink_connectors::{CanonicalPayment, CanonicalStatus, PaymentStatus, PersonIdentification};
use interlink_core::legs::{originated_transaction_id, wire_id};
use interlink_schemas::{ClearingRecord, Codec, DeadLetter, Notification, Party};
use interlink_testkit::simulator::{self, decision, SimulatorOptions};
use rdkafka::producer::{DefaultProducerContext, ThreadedProducer};
use rdkafka::ClientConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ACCEPT_PER_MILLE: u32 = 800;

fn reasons() -> Vec<String> {
    vec!["AC04".into(), "AM04".into(), "AB06".into()]
}

fn hk_origin_payment(i: usize) -> CanonicalPayment {
    CanonicalPayment {
        message_id: format!("HKMSG{i:06}"),
        transaction_id: format!("HKTX{i:06}"),
        end_to_end_id: format!("HKE2E{i:06}"),
        uetr: None,
        created_at: interlink_schemas::now_micros(),
        instructed_amount: Money { minor_units: 50_000 + i as i64, currency: "HKD".into() },
        interbank_settlement: None,
        debtor: Debtor {
            name: Some("CHAN TAI MAN".into()),
            account: "004123456789".into(),
            alias: None,
            agent: NetAgent { network: "HK_FPS".into(), institution_id: "004".into() },
            // Payment Connect northbound counts per person: HK FPS names the payer.
            identification: Some(PersonIdentification {
                id: format!("A{:06}3", i),
                scheme: Some("NIDN".into()),
                issuer: Some("HK".into()),
            }),
        },
        creditor: Creditor {
            name: Some("LI LEI".into()),
            account: Some("6222020200112233445".into()),
            alias: None,
            agent: NetAgent { network: "CN_IBPS".into(), institution_id: "104100000004".into() },
        },
        purpose: None,
        remittance_info: None,
    }
}

/// A network gateway's producer: keys land where the Java client would put them.
fn network_producer(fx: &Fixture) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_cross_cn_ibps_and_hk_fps_in_both_directions_with_one_clearing_each() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-legs");
    config.networks.connected = vec!["CN_IBPS".into(), "HK_FPS".into()];
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;

    let stop = Arc::new(AtomicBool::new(false));
    let sims: Vec<_> = ["HK_FPS", "CN_IBPS"]
        .into_iter()
        .map(|network| {
            let opts = SimulatorOptions {
                kafka: fx.kafka.brokers.as_str().into(),
                topics: fx.topics.clone(),
                network: network.into(),
                accept_per_mille: ACCEPT_PER_MILLE,
                reject_reasons: reasons(),
                latency: Duration::from_millis(5),
                late_answers: simulator::LateAnswers::default(),
            };
            let stop = stop.clone();
            std::thread::spawn(move || simulator::run(&opts, stop))
        })
        .collect();

    // Southbound: 120 requests from the mainland to HSBC Hong Kong.
    let south: Vec<String> = (0..120).map(|i| format!("south-{i:04}")).collect();
    let records: Vec<(&str, Vec<u8>)> =
        south.iter().map(|tx| (tx.as_str(), encode(&request(tx, "004", 10_000)))).collect();
    fx.produce(&records, None);
    // Northbound: 40 payments Hong Kong FPS sends in its own pacs.008.
    let hk = interlink_connectors::connector("HK_FPS").unwrap();
    let producer = network_producer(&fx);
    let hk_in = fx.topics.network_in("HK_FPS");
    let north: Vec<String> = (0..40)
        .map(|i| {
            let p = hk_origin_payment(i);
            interlink_testkit::kafka::send(
                &producer,
                &hk_in,
                p.transaction_id.as_bytes(),
                &hk.encode_payment(&p).unwrap(),
            )
            .unwrap();
            // The switch knows a payment a network originated under the network's name.
            originated_transaction_id("HK_FPS", &p.transaction_id)
        })
        .collect();

    // Every request's fate is known in advance from the simulators' rule.
    let expected_accepted: Vec<&String> = south
        .iter()
        .chain(&north)
        .filter(|tx| decision(wire_id(tx).as_str(), ACCEPT_PER_MILLE, &reasons()).is_none())
        .collect();
    assert!(!expected_accepted.is_empty() && expected_accepted.len() < 160, "both outcomes occur");

    let clearing_codec = Codec::<ClearingRecord>::new().unwrap();
    let clearing: Vec<ClearingRecord> = fx
        .read(&fx.topics.clearing, expected_accepted.len(), Duration::from_secs(60))
        .iter()
        .map(|(_, v)| clearing_codec.decode(v).unwrap())
        .collect();
    let mut cleared: Vec<&str> = clearing.iter().map(|c| c.transaction_id.as_str()).collect();
    cleared.sort();
    let mut want: Vec<&str> = expected_accepted.iter().map(|s| s.as_str()).collect();
    want.sort();
    assert_eq!(cleared, want, "exactly one clearing record per accepted payment, none for rejected ones");
    let north_clearing = clearing.iter().find(|c| c.transaction_id.starts_with("HK_FPS:HKTX")).unwrap();
    assert_eq!(
        (north_clearing.debit_amount.currency.as_str(), north_clearing.credit_amount.currency.as_str()),
        ("HKD", "CNY")
    );
    assert_eq!(north_clearing.creditor_agent.institution_id, "104100000004");

    let notes: Vec<Notification> =
        fx.read_events::<Notification>(&fx.topics.notifications, 2 * 160, Duration::from_secs(60));
    assert_eq!(notes.len(), 2 * 160, "final notifications for both sides of every payment, once");
    for n in &notes {
        let expected = decision(wire_id(&n.transaction_id).as_str(), ACCEPT_PER_MILLE, &reasons());
        match expected {
            None => assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::ACCC, None), "{n:?}"),
            Some(reason) => {
                assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::RJCT, Some(reason.as_str())), "{n:?}")
            }
        }
    }
    assert_eq!(notes.iter().filter(|n| n.party == Party::Creditor).count(), 160);

    // A status report sent twice, one for an unknown payment, and garbage: no clearing.
    let accepted = expected_accepted.iter().find(|t| t.starts_with("south")).unwrap();
    let duplicate = accc("DUPSTATUS1", wire_id(accepted).as_str(), &format!("E2E-{accepted}"));
    let unknown = CanonicalStatus {
        original_transaction_id: "NOSUCHPAYMENT".into(),
        message_id: "DUPSTATUS2".into(),
        ..duplicate.clone()
    };
    for s in [&duplicate, &unknown] {
        interlink_testkit::kafka::send(
            &producer,
            &hk_in,
            s.original_transaction_id.as_bytes(),
            &hk.encode_status(s).unwrap(),
        )
        .unwrap();
    }
    interlink_testkit::kafka::send(&producer, &hk_in, b"garbage", b"<Document><not-iso/>").unwrap();
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();

    let dead: Vec<DeadLetter> = fx.read_events::<DeadLetter>(&fx.topics.dead_letters, 3, Duration::from_secs(30));
    assert_eq!(dead.len(), 3, "{dead:?}");
    let messages: Vec<&str> = dead.iter().map(|d| d.error_message.as_str()).collect();
    assert_eq!(messages.iter().filter(|m| m.contains("matches no payment in flight")).count(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("neither a status report")), "{messages:?}");
    let again = fx.read(&fx.topics.clearing, expected_accepted.len() + 1, Duration::from_secs(3));
    assert_eq!(again.len(), expected_accepted.len(), "the duplicate report did not clear again");

    stop.store(true, Ordering::Relaxed);
    let stats: Vec<_> = sims.into_iter().map(|s| s.join().unwrap().unwrap()).collect();
    assert_eq!(stats.iter().map(|s| s.accepted + s.rejected).sum::<u64>(), 160);
    assert_eq!(stats.iter().map(|s| s.unreadable).sum::<u64>(), 0);
    // Each origin network got the final status of every payment its side sent.
    let (hk_stats, cn_stats) = (stats[0], stats[1]);
    assert_eq!((hk_stats.origin_statuses, cn_stats.origin_statuses), (40, 120), "{stats:?}");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// A network that never answers: by the deadline both sides are told RJCT AB05 and
/// nothing clears; an acceptance that arrives later is dead-lettered, not settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_network_never_answers_is_refused_to_both_sides_at_its_deadline() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-deadline");
    config.networks.connected = vec!["HK_FPS".into()];
    config.networks.response_deadline_seconds = 2;
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;
    let sent_at = std::time::Instant::now();
    fx.produce(&[("silent-1", encode(&request("silent-1", "004", 10_000)))], None);

    // The payment goes out to HK FPS, which says nothing.
    let out = fx.read(&fx.topics.network_out("HK_FPS"), 1, Duration::from_secs(30));
    assert_eq!(out.len(), 1);
    let notes: Vec<Notification> = fx.read_events::<Notification>(&fx.topics.notifications, 2, Duration::from_secs(30));
    let waited = sent_at.elapsed();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().all(|n| n.status == PaymentStatus::RJCT && n.reason_code.as_deref() == Some("AB05")),
        "{notes:?}"
    );
    assert_eq!(notes.iter().filter(|n| n.party == Party::Creditor).count(), 1, "both sides told");
    assert!(waited >= Duration::from_secs(2), "not before the deadline: {waited:?}");

    // Late acceptance: recognised, dead-lettered, never cleared.
    let hk = interlink_connectors::connector("HK_FPS").unwrap();
    let late = accc("LATE1", "silent-1", "E2E-silent-1");
    let producer = network_producer(&fx);
    interlink_testkit::kafka::send(
        &producer,
        &fx.topics.network_in("HK_FPS"),
        b"silent-1",
        &hk.encode_status(&late).unwrap(),
    )
    .unwrap();
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
    let dead: Vec<DeadLetter> = fx.read_events::<DeadLetter>(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    assert!(dead[0].error_message.contains("after it timed out"), "{}", dead[0].error_message);
    assert!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(3)).is_empty(), "no clearing, ever");
    // HK FPS moved the money after all: it gets the payment's return.
    let out = fx.read(&fx.topics.network_out("HK_FPS"), 2, Duration::from_secs(30));
    assert_eq!(out.len(), 2, "the payment, then its return");
    let back = hk.decode_return(&out[1].1).unwrap();
    assert_eq!((back.original_transaction_id.as_str(), back.reason.code()), ("silent-1", "TM01"));
    assert_eq!((back.returned_amount.minor_units, back.returned_amount.currency.as_str()), (10_845, "HKD"));
    // ...and the switch records the return it sent.
    let returns = fx.read_events::<interlink_schemas::PaymentReturn>(&fx.topics.returns, 1, Duration::from_secs(30));
    assert_eq!(returns.len(), 1);
    let r = &returns[0];
    assert_eq!((r.transaction_id.as_str(), r.network.as_str(), r.reason_code.as_str()), ("silent-1", "HK_FPS", "TM01"));
    assert_eq!((r.return_id.as_str(), r.returned_amount.minor_units), (back.return_id.as_str(), 10_845));
    assert!(r.returned_at > r.timed_out_at, "{r:?}");
    // What an operator's alerts watch (deploy/prometheus/alerts.yml).
    let metrics = common::http_get(switch.http_addr(), "/metrics").await;
    assert!(metrics.lines().any(|l| l.starts_with("interlink_payments_timed_out_total ")), "{metrics}");
    assert!(
        metrics.contains(r#"interlink_outcomes_total{outcome="late_answer",reason="settled"}"#),
        "the late acceptance is counted for its alert: {metrics}"
    );
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// A network returns a payment it settled (pacs.004): one reversal, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_payment_the_network_returns_is_reversed_once() {
    use interlink_connectors::canonical::Money;
    use interlink_connectors::{CanonicalReturn, IsoReason};
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-return");
    config.networks.connected = vec!["HK_FPS".into()];
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;
    fx.produce(&[("back-1", encode(&request("back-1", "004", 10_000)))], None);
    assert_eq!(fx.read(&fx.topics.network_out("HK_FPS"), 1, Duration::from_secs(30)).len(), 1);

    let hk = interlink_connectors::connector("HK_FPS").unwrap();
    let hk_in = fx.topics.network_in("HK_FPS");
    let producer = network_producer(&fx);
    let accepted = accc("ST1", "back-1", "E2E-back-1");
    interlink_testkit::kafka::send(&producer, &hk_in, b"back-1", &hk.encode_status(&accepted).unwrap()).unwrap();
    let returned = |id: &str| CanonicalReturn {
        message_id: id.into(),
        created_at: interlink_schemas::now_micros(),
        return_id: id.into(),
        original_message_id: "back-1".into(),
        original_end_to_end_id: "E2E-back-1".into(),
        original_transaction_id: "back-1".into(),
        original_uetr: None,
        returned_amount: Money { minor_units: 10_845, currency: "HKD".into() },
        reason: IsoReason::parse("AC04").unwrap(),
        additional_info: Some("account closed".into()),
        instructing_agent: None,
        instructed_agent: None,
    };
    // The return, then the same payment returned again.
    for id in ["RET1", "RET2"] {
        interlink_testkit::kafka::send(&producer, &hk_in, b"back-1", &hk.encode_return(&returned(id)).unwrap())
            .unwrap();
    }
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();

    let clearing = fx.read_events::<ClearingRecord>(&fx.topics.clearing, 2, Duration::from_secs(30));
    assert_eq!(clearing.len(), 2, "the payment and one reversal: {clearing:?}");
    let reversal = clearing.iter().find(|c| c.reverses.is_some()).expect("a reversal");
    assert_eq!(
        (reversal.reverses.as_deref(), reversal.transaction_id.as_str()),
        (Some("back-1"), "back-1:RETURN:RET1")
    );
    assert_eq!((reversal.debit_amount.minor_units, reversal.credit_amount.minor_units), (10_845, 10_000));
    let notes = fx.read_events::<Notification>(&fx.topics.notifications, 4, Duration::from_secs(30));
    assert_eq!(notes.iter().filter(|n| n.notification_id.contains(":RETURN:RET1")).count(), 2, "both sides told");
    let dead = fx.read_events::<DeadLetter>(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    assert!(dead[0].error_message.contains("again"), "{}", dead[0].error_message);
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
