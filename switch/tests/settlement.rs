//! Settlement against the real broker: generated traffic through several partitions and
//! workers, a cycle closed by an operator's cut-off, and its net positions checked
//! against an independent recomputation from the clearing topic.

mod common;

use common::settlement::{recompute, rules_closing_at, Positions, CURRENCIES};
use common::Fixture;
use interlink_routing::RouteRecord;
use interlink_schemas::{ClearingRecord, SettlementRecord, SettlementRecordKind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Topics of this test's own, with the sample table and an operator's cut-off
/// `seconds` from now applied (version 2).
async fn closing_in(seconds: i64) -> (Fixture, jiff::Timestamp, Vec<RouteRecord>) {
    let fx = Fixture::new(3).await;
    let cut_off = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(seconds);
    let rules = rules_closing_at(cut_off);
    assert_eq!(fx.apply_routes(&rules), 2);
    (fx, cut_off, rules)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_nets_generated_traffic_to_zero_and_matches_the_clearing_topic() {
    interlink_testkit::require_broker!();
    let (fx, cut_off, rules) = closing_in(30).await;
    let workers = [
        interlink_switch::start(fx.switch_config("w-settle-1")).await.unwrap(),
        interlink_switch::start(fx.switch_config("w-settle-2")).await.unwrap(),
    ];
    for w in &workers {
        common::wait_ready(w).await;
    }

    let opts = fx.load_options(3_000);
    let run_rules = rules.clone();
    let summary =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &run_rules, |_| {}).unwrap()).await.unwrap();
    assert_eq!((summary.lost, summary.duplicated, summary.unexpected), (0, 0, 0), "{summary}");
    assert!(summary.approved > 1_000 && summary.rejected > 0, "{summary}");
    assert!(jiff::Timestamp::now() < cut_off, "the traffic must end before the cut-off; it took too long");

    let clearing: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, summary.clearing_records as usize, Duration::from_secs(30));
    assert_eq!(clearing.len() as u64, summary.clearing_records);
    let expected = recompute(&clearing);
    let cycles: BTreeSet<&str> = expected.keys().map(|(c, _, _)| c.as_str()).collect();
    let fx_payments = clearing.iter().filter(|c| c.debit_amount.currency != c.credit_amount.currency).count();
    assert!(fx_payments > 100 && cycles.len() >= 2, "FX traffic in several currencies: {cycles:?}");

    // Every scheme nets its (empty) midnight cycle at start, then the operator's cycle:
    // a summary for each, and a position per participant in the cycles with traffic.
    let records_due = 2 * CURRENCIES.len() + expected.len();
    let wait = cut_off.duration_since(jiff::Timestamp::now()).as_secs_f64().max(0.0) + 30.0;
    let started = Instant::now();
    let netted: Vec<SettlementRecord> =
        fx.read_events(&fx.topics.settlement, records_due, Duration::from_secs_f64(wait));
    assert_eq!(netted.len(), records_due, "after {:?}: {netted:#?}", started.elapsed());

    assert_netted_as_cleared(&clearing, &netted, &cycles, cut_off.as_microsecond());
    for w in workers {
        w.stop().await.unwrap();
    }
    fx.cleanup().await;
}

/// The settlement records of `cycles` equal the positions recomputed from `clearing`,
/// sum to zero, and count every record of their cycle; each cycle is netted once.
fn assert_netted_as_cleared(
    clearing: &[ClearingRecord],
    netted: &[SettlementRecord],
    cycles: &BTreeSet<&str>,
    cut_off: i64,
) {
    let expected: Positions =
        recompute(clearing).into_iter().filter(|((cycle, _, _), _)| cycles.contains(cycle.as_str())).collect();
    let mut seen = Positions::new();
    for r in netted.iter().filter(|r| r.kind == SettlementRecordKind::Position && cycles.contains(r.cycle_id.as_str()))
    {
        let who = r.participant.as_ref().unwrap();
        let key = (r.cycle_id.clone(), who.network.clone(), who.institution_id.clone());
        let value = (r.gross_debit_minor, r.gross_credit_minor, r.debits, r.credits);
        assert!(seen.insert(key, value).is_none(), "{} netted once: {r:?}", r.cycle_id);
        assert_eq!(r.net_minor, r.gross_credit_minor - r.gross_debit_minor);
    }
    assert_eq!(seen, expected, "netted positions equal those recomputed from the clearing topic");
    for cycle in cycles {
        let summaries: Vec<_> =
            netted.iter().filter(|r| r.cycle_id == *cycle && r.kind == SettlementRecordKind::Summary).collect();
        assert_eq!(summaries.len(), 1, "{cycle} netted once");
        let summary = summaries[0];
        let positions = netted.iter().filter(|r| r.cycle_id == *cycle && r.kind == SettlementRecordKind::Position);
        assert_eq!(positions.map(|r| r.net_minor).sum::<i64>(), 0, "{cycle} sums to zero");
        let in_cycle = clearing
            .iter()
            .filter(|c| {
                c.debit_settlement_cycle.as_deref() == Some(cycle)
                    || c.credit_settlement_cycle.as_deref() == Some(cycle)
            })
            .count();
        assert_eq!(summary.clearing_records as usize, in_cycle, "{cycle}");
        assert_eq!((summary.net_minor, summary.late_records, summary.partitions), (0, 0, 3), "{cycle}");
        assert_eq!(summary.cut_off, cut_off);
    }
}

/// Workers killed (SIGKILL) just before and just after the cut-off, while traffic
/// flows across it: the cycle is netted once, and its figures are still exactly those
/// of the clearing records it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_around_the_cut_off_changes_no_figure() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use std::sync::{Arc, Mutex};
    interlink_testkit::require_broker!();
    let (fx, cut_off, rules) = closing_in(15).await;
    let spawn = |n: u32| common::spawn_configured(&fx.switch_config("w-cut"), &format!("settlement-kill-{n}.log"));
    let worker = Arc::new(Mutex::new(spawn(0)));

    // 300 requests a second for 25 s: traffic before, across and after the cut-off.
    let mut opts = fx.load_options(7_500);
    opts.load = interlink_testkit::Load::Paced(vec![interlink_testkit::Phase { count: 7_500, rate: 300 }]);
    let run_rules = rules.clone();
    let fixture = Fixture { prefix: fx.prefix.clone(), kafka: fx.kafka.clone(), topics: fx.topics.clone() };
    let w = worker.clone();
    let (summary, kills) = tokio::task::spawn_blocking(move || {
        let kill_at =
            [cut_off - jiff::SignedDuration::from_millis(300), cut_off + jiff::SignedDuration::from_millis(600)];
        let mut kills = 0;
        let summary = interlink_testkit::run(&opts, &run_rules, |_| {
            if kills < kill_at.len() && jiff::Timestamp::now() >= kill_at[kills] {
                let mut child = w.lock().unwrap();
                kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
                child.wait().unwrap();
                kills += 1;
                *child =
                    common::spawn_configured(&fixture.switch_config("w-cut"), &format!("settlement-kill-{kills}.log"));
            }
        })
        .unwrap();
        (summary, kills)
    })
    .await
    .unwrap();
    assert_eq!(kills, 2, "killed before and after the cut-off");
    assert_eq!((summary.lost, summary.duplicated, summary.unexpected), (0, 0, 0), "{summary}");

    let clearing: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, summary.clearing_records as usize, Duration::from_secs(30));
    assert_eq!(clearing.len() as u64, summary.clearing_records);
    let cycle_of = |c: &ClearingRecord| c.debit_settlement_cycle.clone().unwrap();
    let closing = cycle_of(clearing.iter().min_by_key(|c| c.cleared_at).unwrap());
    let suffix = closing.split_once('-').unwrap().1.to_string();
    let before = clearing.iter().filter(|c| cycle_of(c).ends_with(&suffix)).count();
    assert!(
        before > 100 && before < clearing.len() - 100,
        "traffic on both sides of the cut-off: {before} of {}",
        clearing.len()
    );
    let cycles: BTreeSet<String> = clearing
        .iter()
        .flat_map(|c| [cycle_of(c), c.credit_settlement_cycle.clone().unwrap()])
        .filter(|c| c.ends_with(&suffix))
        .collect();
    let cycles: BTreeSet<&str> = cycles.iter().map(String::as_str).collect();
    let records_due =
        2 * CURRENCIES.len() + recompute(&clearing).keys().filter(|(c, _, _)| cycles.contains(c.as_str())).count();
    let netted: Vec<SettlementRecord> = fx.read_events(&fx.topics.settlement, records_due, Duration::from_secs(60));
    assert_eq!(netted.len(), records_due, "{netted:#?}");
    assert_netted_as_cleared(&clearing, &netted, &cycles, cut_off.as_microsecond());
    // The records after the cut-off wait in the next cycle, which has not closed.
    assert!(netted.iter().all(|r| r.cut_off <= cut_off.as_microsecond()));

    {
        let mut child = worker.lock().unwrap();
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
        assert!(common::wait_exit(&mut child, Duration::from_secs(30)).is_some_and(|s| s.success()));
    }
    fx.cleanup().await;
}

/// ICBC may owe CNY 1,000.00 in all; two partitions hold half of it each. Forty
/// payments of CNY 100.00 land on the partitions by their ids: each partition accepts
/// payments until its share is used and refuses (AM04) exactly the ones that would
/// pass it, so ICBC never owes more than its cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_net_debit_cap_refuses_exactly_the_payments_that_would_pass_it() {
    use interlink_schemas::{Notification, PaymentStatus};
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let mut rules = rules_closing_at(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1));
    rules.push(RouteRecord::Cap(interlink_routing::NetDebitCap {
        network: "CN_IBPS".into(),
        institution_id: "102100099996".into(),
        currency: "CNY".into(),
        net_debit_cap_minor: 80_000,
        prefunded_minor: 20_000,
    }));
    assert_eq!(fx.apply_routes(&rules), 2);
    let switch = interlink_switch::start(fx.switch_config("w-cap")).await.unwrap();
    common::wait_ready(&switch).await;

    let ids: Vec<String> = (0..40).map(|i| format!("cap-{i:02}")).collect();
    let records: Vec<(&str, Vec<u8>)> =
        ids.iter().map(|tx| (tx.as_str(), common::encode(&common::request(tx, "004", 10_000)))).collect();
    fx.produce(&records, None);
    // In each partition, in order, the first five fit its CNY 500.00 share.
    let mut accepted_in = [0; 2];
    let expected: BTreeMap<String, bool> = ids
        .iter()
        .map(|tx| {
            let p = interlink_core::memory::home_partition(tx.as_bytes(), 2) as usize;
            accepted_in[p] += 1;
            (tx.clone(), accepted_in[p] <= 5)
        })
        .collect();
    assert!(accepted_in.iter().all(|&n| n > 5), "both partitions get more than their share: {accepted_in:?}");

    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 50, Duration::from_secs(30));
    let told: BTreeMap<String, bool> = notes
        .iter()
        .filter(|n| n.notification_id.ends_with(":DEBTOR"))
        .map(|n| {
            if n.status == PaymentStatus::RJCT {
                assert_eq!(n.reason_code.as_deref(), Some("AM04"), "{n:?}");
            }
            (n.transaction_id.clone(), n.status == PaymentStatus::ACCC)
        })
        .collect();
    assert_eq!(told, expected);
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, 10, Duration::from_secs(10));
    assert_eq!(clearing.len(), 10);
    assert_eq!(clearing.iter().map(|c| c.debit_amount.minor_units).sum::<i64>(), 100_000, "exactly the cap");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// Two legs through simulated CN IBPS and HK FPS networks that accept, refuse, never
/// answer (timeouts) or answer too late (the switch returns those), then networks
/// returning settled payments: every reversal is netted with the cycle, which still
/// equals the recomputation from the clearing topic and sums to zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_with_refusals_timeouts_and_returns_nets_what_cleared_and_what_came_back() {
    use interlink_connectors::canonical::Money;
    use interlink_connectors::{CanonicalReturn, IsoReason};
    interlink_testkit::require_broker!();
    let (fx, cut_off, rules) = closing_in(40).await;
    let connected = vec!["CN_IBPS".to_string(), "HK_FPS".to_string()];
    let mut config = fx.switch_config("w-settle-legs");
    config.networks.connected = connected.clone();
    config.networks.response_deadline_seconds = 2;
    let worker = interlink_switch::start(config).await.unwrap();
    common::wait_ready(&worker).await;

    let mut opts = fx.load_options(600);
    opts.network_legs = interlink_testkit::NetworkLegs {
        connected,
        accept_per_mille: 850,
        reject_reasons: vec!["AC04".into()],
        late_answers: interlink_testkit::simulator::LateAnswers {
            silent_per_mille: 50,
            late_per_mille: 30,
            late_by: Duration::from_secs(4),
        },
    };
    opts.simulate = true;
    let run_rules = rules.clone();
    let summary =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &run_rules, |_| {}).unwrap()).await.unwrap();
    assert!(summary.is_exact(), "{summary}");
    assert!(summary.timeouts.silent > 0 && summary.timeouts.late > 0, "{summary}");

    // HK FPS returns three payments it settled, in full.
    let settled: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, summary.clearing_records as usize, Duration::from_secs(30));
    let to_hk: Vec<&ClearingRecord> = settled.iter().filter(|c| c.creditor_agent.network == "HK_FPS").take(3).collect();
    assert_eq!(to_hk.len(), 3);
    let hk = interlink_connectors::connector("HK_FPS").unwrap();
    let producer: rdkafka::producer::BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    for (i, c) in to_hk.iter().enumerate() {
        let wire = interlink_core::legs::wire_id(&c.transaction_id);
        let back = CanonicalReturn {
            message_id: format!("RET{i}"),
            created_at: interlink_schemas::now_micros(),
            return_id: format!("RET{i}"),
            original_message_id: wire.as_str().into(),
            original_end_to_end_id: c.end_to_end_id.clone(),
            original_transaction_id: wire.as_str().into(),
            original_uetr: None,
            returned_amount: Money {
                minor_units: c.credit_amount.minor_units,
                currency: c.credit_amount.currency.clone(),
            },
            reason: IsoReason::parse("AC04").unwrap(),
            additional_info: None,
            instructing_agent: None,
            instructed_agent: None,
        };
        let (topic, message) = (fx.topics.network_in("HK_FPS"), hk.encode_return(&back).unwrap());
        let record = rdkafka::producer::BaseRecord::to(&topic).key(wire.as_str()).payload(&message[..]);
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
    let expected = summary.clearing_records as usize + 3;
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, expected, Duration::from_secs(30));
    assert_eq!(clearing.len(), expected);
    assert_eq!(clearing.iter().filter(|c| c.reverses.is_some()).count(), 3, "three reversals");
    assert!(jiff::Timestamp::now() < cut_off, "all of it before the cut-off; it took too long");

    let cycles: BTreeSet<String> = clearing
        .iter()
        .flat_map(|c| [c.debit_settlement_cycle.clone(), c.credit_settlement_cycle.clone()])
        .flatten()
        .collect();
    let cycles: BTreeSet<&str> = cycles.iter().map(String::as_str).collect();
    let records_due = 2 * CURRENCIES.len() + recompute(&clearing).len();
    let wait = cut_off.duration_since(jiff::Timestamp::now()).as_secs_f64().max(0.0) + 30.0;
    let netted: Vec<SettlementRecord> =
        fx.read_events(&fx.topics.settlement, records_due, Duration::from_secs_f64(wait));
    assert_eq!(netted.len(), records_due, "{netted:#?}");
    assert_netted_as_cleared(&clearing, &netted, &cycles, cut_off.as_microsecond());
    worker.stop().await.unwrap();
    fx.cleanup().await;
}
