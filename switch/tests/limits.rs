//! Per-person corridor limits against the real broker, with the sample table's Payment
//! Connect northbound limits (HKD 10,000 a day and HKD 200,000 a year per person, Hong
//! Kong time). Payments are stamped on chosen days (`created_at`), the worker allowing
//! any skew, so days and years pass without waiting for them.

mod common;

use common::{spawn_configured, wait_ready, Fixture};
use interlink_core::memory::UsageOf;
use interlink_schemas::registry::AUTHORIZATION_REQUEST_V1;
use interlink_schemas::{
    Agent, Amount, AuthorizationRequest, Channel, ClearingRecord, Codec, Notification, Party, PaymentStatus, PersonId,
    RiskAction, RiskAlert, RiskControl,
};
use interlink_testkit::simulator::{self, SimulatorOptions};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `hh:mm:ss` Hong Kong time on the `day`th day of 2026 (0 = 1 January), in µs.
fn hk(day: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    // 2026-01-01T00:00+08:00
    const NEW_YEAR_HKT: i64 = 1_767_196_800;
    (NEW_YEAR_HKT + day * 86_400 + hh * 3_600 + mm * 60 + ss) * 1_000_000
}

/// The Hong Kong date (`2026-12-01`) at `at` (µs).
fn hk_day(at: i64) -> String {
    let hong_kong = jiff::tz::TimeZone::get("Asia/Hong_Kong").unwrap();
    jiff::Timestamp::from_microsecond(at).unwrap().to_zoned(hong_kong).date().to_string()
}

/// A Hong Kong resident paying HKD `major` into the mainland at `at`.
fn northbound(tx: &str, person: Option<&PersonId>, major: i64, at: i64) -> AuthorizationRequest {
    AuthorizationRequest {
        transaction_id: tx.into(),
        end_to_end_id: format!("E2E-{tx}"),
        created_at: at,
        debtor_agent: Agent::new("HK_FPS", "004"),
        debtor_account: "004-123456-001".into(),
        creditor_agent: Some(Agent::new("CN_IBPS", "102100099996")),
        creditor_account: Some("6222020200112233445".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(major * 100, "HKD"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: person.map(|_| "CHAN Tai Man".into()),
        debtor_id: person.cloned(),
        creditor_name: None,
        device_id: None,
    }
}

/// Keyed as the request says (v2 by the person, v1 by its id), framed as `v1` or v2.
fn record(r: &AuthorizationRequest, v1: bool) -> (String, Vec<u8>) {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    let bytes = if v1 { codec.encode_as(r, &AUTHORIZATION_REQUEST_V1).unwrap() } else { codec.encode(r).unwrap() };
    (r.partition_key().into_owned(), bytes)
}

fn produce(fx: &Fixture, records: &[(String, Vec<u8>)]) {
    let refs: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&refs, None);
}

/// The debtor's notification of each transaction: status and reason.
fn debtor_outcomes(notes: &[Notification]) -> HashMap<String, (PaymentStatus, Option<String>)> {
    notes
        .iter()
        .filter(|n| n.party == Party::Debtor)
        .map(|n| (n.transaction_id.clone(), (n.status, n.reason_code.clone())))
        .collect()
}

/// Waits until the person's usage entry has been written `writes` times, the last time
/// with `used_minor` used of `limit`.
fn wait_for_usage(fx: &Fixture, person: &PersonId, limit: UsageOf, writes: usize, used_minor: i64) {
    let key = interlink_core::memory::UsageKey::new(&person.person_key());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let usages: Vec<i64> = fx
            .read(&fx.topics.state, 1, Duration::from_secs(2))
            .into_iter()
            .filter(|(k, v)| k.as_deref() == Some(key.as_bytes()) && !v.is_empty())
            .map(|(_, v)| {
                let usage = interlink_core::memory::PersonUsage::decode(&v).unwrap();
                usage.lines.iter().find(|l| l.of == limit).map_or(0, |l| l.used_minor)
            })
            .collect();
        if usages.len() >= writes {
            assert_eq!(usages.len(), writes, "{usages:?}");
            assert_eq!(usages.last(), Some(&used_minor), "{usages:?}");
            return;
        }
        assert!(std::time::Instant::now() < deadline, "usage writes so far: {usages:?}");
    }
}

fn any_skew(fx: &Fixture, worker: &str) -> interlink_switch::SwitchConfig {
    let mut config = fx.switch_config(worker);
    config.risk.limit_clock_skew_seconds = 400 * 86_400;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_held_to_the_daily_and_yearly_limits_on_hong_kong_days_with_v1_and_v2_producers() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let switch = interlink_switch::start(any_skew(&fx, "w-limits")).await.unwrap();
    wait_ready(&switch).await;

    let a = PersonId::new("NIDN", "HK", "A1234563");
    let b = PersonId::new("CCPT", "HK", "K98765432");
    // (request, written as v1, accepted?, refusal reason)
    let mut plan: Vec<(AuthorizationRequest, bool, Option<&str>)> = vec![
        // A: HKD 4,000 three times on 2 March: the third would make 12,000.
        (northbound("a-1", Some(&a), 4_000, hk(60, 9, 0, 0)), false, None),
        (northbound("a-2", Some(&a), 4_000, hk(60, 12, 0, 0)), false, None),
        (northbound("a-3", Some(&a), 4_000, hk(60, 23, 59, 59)), false, Some("AM14")),
        // One second later it is 3 March in Hong Kong (still 2 March in UTC): a new day.
        (northbound("a-4", Some(&a), 4_000, hk(61, 0, 0, 0)), false, None),
    ];
    // B: HKD 9,000 a day on 22 days is 198,000 of the year's 200,000; a 23rd day's 9,000
    // is refused, 2,000 fits exactly, and on 1 January 2027 the year starts again.
    for day in 0..22 {
        plan.push((northbound(&format!("b-{day:02}"), Some(&b), 9_000, hk(100 + day, 10, 0, 0)), false, None));
    }
    plan.push((northbound("b-over", Some(&b), 9_000, hk(200, 10, 0, 0)), false, Some("AM14")));
    plan.push((northbound("b-exact", Some(&b), 2_000, hk(200, 11, 0, 0)), false, None));
    plan.push((northbound("b-2027", Some(&b), 9_000, hk(365, 10, 0, 0)), false, None));
    // An old (v1) producer on the same topic: no debtor identity. On the limited
    // corridor it is refused with RR01; elsewhere it pays as it always did.
    plan.push((northbound("v1-north", None, 100, interlink_schemas::now_micros()), true, Some("RR01")));
    plan.push((common::request("v1-south", "004", 10_000), true, None));

    let records: Vec<(String, Vec<u8>)> = plan.iter().map(|(r, v1, _)| record(r, *v1)).collect();
    produce(&fx, &records);
    let accepted = plan.iter().filter(|(_, _, refused)| refused.is_none()).count();
    let want = plan.len() + accepted;
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, want, Duration::from_secs(60));
    assert_eq!(notes.len(), want, "one per request, plus the creditor's per acceptance");
    let outcomes = debtor_outcomes(&notes);
    for (r, _, refused) in &plan {
        let got = &outcomes[&r.transaction_id];
        match refused {
            None => assert_eq!(*got, (PaymentStatus::ACCC, None), "{}", r.transaction_id),
            Some(reason) => {
                assert_eq!((got.0, got.1.as_deref()), (PaymentStatus::RJCT, Some(*reason)), "{}", r.transaction_id)
            }
        }
    }
    let over = notes.iter().find(|n| n.transaction_id == "b-over").unwrap();
    let text = over.reason_text.as_deref().unwrap_or_default();
    assert!(text.contains("limit payment-connect-north-yearly (routing v1)"), "{text}");
    assert!(text.contains("counts HKD 9000.00 and the debtor has used HKD 198000.00 in 22 payments"), "{text}");
    assert!(text.contains("period 2026 (Asia/Hong_Kong), over its HKD 200000.00"), "{text}");
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, accepted, Duration::from_secs(30));
    assert_eq!(clearing.len(), accepted, "a refused payment clears nothing");
    // Each refusal, explained, on the risk alerts topic (and nothing else there).
    let alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 4, Duration::from_secs(10));
    let mut refused: Vec<(&str, &str, &str)> =
        alerts.iter().map(|a| (a.transaction_id.as_str(), a.rule.as_str(), a.reason_code.as_str())).collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            ("a-3", "payment-connect-north-daily", "AM14"),
            ("b-over", "payment-connect-north-yearly", "AM14"),
            ("v1-north", "payment-connect-north-daily,payment-connect-north-yearly", "RR01"),
        ]
    );
    let yearly = alerts.iter().find(|a| a.transaction_id == "b-over").unwrap();
    assert_eq!(
        (yearly.control, yearly.action, yearly.alert_id.as_str()),
        (RiskControl::Limit, RiskAction::Refused, "b-over:RISK:LIMIT")
    );
    assert_eq!(yearly.explanation, text);
    assert_eq!(yearly.corridor.as_deref(), Some("HK_FPS>CN_IBPS:HKD-CNY"));
    assert_eq!((yearly.amount.minor_units, yearly.routing_version), (900_000, 1));
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// Usage is state in the changelog, written with the outputs: a worker SIGKILLed while
/// people are paying, replaced by one with an empty store, lets each person pay exactly
/// up to the limit, no more (a forgotten usage) and no less (one counted twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_neither_forgets_nor_double_counts_a_usage() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut first = spawn_configured(&any_skew(&fx, "w-limits-a"), "limits-crash-first.log");
    // Four people, each paying HKD 400 forty times on one Hong Kong day: 25 fit in
    // HKD 10,000, 15 do not.
    let people: Vec<PersonId> = (0..4).map(|i| PersonId::new("NIDN", "HK", format!("C{i:06}7"))).collect();
    let mut records = Vec::new();
    for n in 0..40 {
        for (i, person) in people.iter().enumerate() {
            let r = northbound(&format!("p{i}-{n:02}"), Some(person), 400, hk(150, 8, 0, n));
            records.push(record(&r, false));
        }
    }
    // Paced, so that the kill finds some payments decided and others still coming.
    let producer_fx = Fixture { prefix: fx.prefix.clone(), kafka: fx.kafka.clone(), topics: fx.topics.clone() };
    let paced = records.clone();
    let producing = std::thread::spawn(move || {
        for chunk in paced.chunks(8) {
            produce(&producer_fx, chunk);
            std::thread::sleep(Duration::from_millis(150));
        }
    });
    let early = fx.read(&fx.topics.notifications, 24, Duration::from_secs(60));
    assert!(early.len() >= 24, "the first worker decided some payments before the kill");
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    first.wait().unwrap();
    // The same worker id (which fences the killed one's open transaction at once), with
    // its local store deleted: it restores every usage from the changelog.
    let config = any_skew(&fx, "w-limits-a");
    std::fs::remove_dir_all(config.state_dir()).unwrap();
    let mut second = spawn_configured(&config, "limits-crash-second.log");
    producing.join().unwrap();

    let accepted_each = 25;
    let want = records.len() + people.len() * accepted_each;
    assert!(fx.read(&fx.topics.notifications, want, Duration::from_secs(60)).len() >= want);
    // Then read on for late duplicates.
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, want + 1, Duration::from_secs(10));
    let reasons: BTreeMap<Option<&str>, usize> = notes.iter().fold(BTreeMap::new(), |mut m, n| {
        *m.entry(n.reason_code.as_deref()).or_default() += 1;
        m
    });
    assert_eq!(notes.len(), want, "one notification per request and per accepted creditor: {reasons:?}");
    let ids: HashSet<&str> = notes.iter().map(|n| n.notification_id.as_str()).collect();
    assert_eq!(ids.len(), notes.len(), "no notification twice");
    let outcomes = debtor_outcomes(&notes);
    let mut per_person: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (tx, (status, reason)) in &outcomes {
        let person = tx.split('-').next().unwrap().to_string();
        let counts = per_person.entry(person).or_default();
        match (status, reason.as_deref()) {
            (PaymentStatus::ACCC, None) => counts.0 += 1,
            (PaymentStatus::RJCT, Some("AM14")) => counts.1 += 1,
            other => panic!("{tx}: {other:?}"),
        }
    }
    let want_each: BTreeMap<String, (usize, usize)> =
        (0..4).map(|i| (format!("p{i}"), (accepted_each, 40 - accepted_each))).collect();
    assert_eq!(per_person, want_each);
    // Within each person the first 25 were accepted, in order.
    for (tx, (status, _)) in &outcomes {
        let n: usize = tx.split('-').nth(1).unwrap().parse().unwrap();
        assert_eq!(*status == PaymentStatus::ACCC, n < accepted_each, "{tx}");
    }
    let clearing: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, people.len() * accepted_each + 1, Duration::from_secs(10));
    assert_eq!(clearing.len(), people.len() * accepted_each);
    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    assert!(common::wait_exit(&mut second, Duration::from_secs(30)).is_some_and(|s| s.success()));
    fx.cleanup().await;
}

/// A payment sent to its network counts while in flight; when the network refuses it,
/// its count comes back (through the person's partition), so the person may pay again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_network_refuses_is_given_back_to_the_persons_limit() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-limits-legs");
    config.networks.connected = vec!["CN_IBPS".into()];
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = SimulatorOptions {
        kafka: fx.kafka.brokers.as_str().into(),
        topics: fx.topics.clone(),
        network: "CN_IBPS".into(),
        accept_per_mille: 0,
        reject_reasons: vec!["AC04".into()],
        latency: Duration::from_millis(5),
        late_answers: simulator::LateAnswers::default(),
    };
    let sim = {
        let stop = stop.clone();
        std::thread::spawn(move || simulator::run(&opts, stop))
    };
    // HKD 6,000 three times: each held while in flight, each refused by CN IBPS and given
    // back. Had the first not come back, the second would make 12,000 and be AM14.
    let person = PersonId::new("NIDN", "HK", "R5556667");
    for (i, tx) in ["r-1", "r-2", "r-3"].into_iter().enumerate() {
        let now = interlink_schemas::now_micros();
        let r = northbound(tx, Some(&person), 6_000, now);
        produce(&fx, &[record(&r, false)]);
        // Each refusal tells both sides; wait for this one before the next payment.
        let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 2 * (i + 1), Duration::from_secs(60));
        let debtor = notes.iter().find(|n| n.transaction_id == tx && n.party == Party::Debtor).expect(tx);
        assert_eq!((debtor.status, debtor.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AC04")), "{tx}");
        // The release travels on to the person's partition: wait until it is applied.
        let today = interlink_core::memory::UsageOf::new("payment-connect-north-daily", &hk_day(now), "HKD");
        wait_for_usage(&fx, &person, today, 2 * (i + 1), 0);
    }
    assert!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(3)).is_empty());
    stop.store(true, Ordering::Relaxed);
    let stats = sim.join().unwrap().unwrap();
    assert_eq!(stats.rejected, 3);
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
