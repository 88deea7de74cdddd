//! Duplicate requests against the real broker, across worker restarts: every copy of
//! a request meets the first one's memo in the keyed state (restored from its
//! changelog by a worker that never saw it, and from a checkpoint by one that did).

mod common;

use common::{encode, request, wait_ready, Fixture};
use interlink_schemas::{AuthorizationRequest, ClearingRecord, DeadLetter, Notification, PaymentStatus};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// What one sent record must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A first request: routed (accepted or rejected).
    First { accepted: bool },
    /// The same content again: one repeat notification with the first status.
    Repeat { accepted: bool },
    /// Other content under a used id: AM05 to the debtor and a dead letter.
    Modified,
}

struct Plan {
    phases: [Vec<(String, Vec<u8>, Expect)>; 3],
}

/// 300 distinct requests over three phases; 10% sent two or three times (copies in
/// later phases too, stamped anew as a retry would be), 1% reused with other content.
fn plan() -> Plan {
    let mut phases: [Vec<(String, Vec<u8>, Expect)>; 3] = Default::default();
    for i in 0..300u32 {
        let tx = format!("dup-{i:04}");
        // One in five goes to an unknown creditor: rejected with RC01.
        let accepted = i % 5 != 0;
        let first = request(&tx, if accepted { "004" } else { "999" }, 1_000 + i64::from(i));
        let phase = (i % 3) as usize;
        phases[phase].push((tx.clone(), encode(&first), Expect::First { accepted }));
        let retry =
            |later: usize| AuthorizationRequest { created_at: first.created_at + later as i64, ..first.clone() };
        if i % 10 == 1 {
            // Sent three times: once more in the same phase, once in a later one.
            phases[phase].push((tx.clone(), encode(&retry(1)), Expect::Repeat { accepted }));
            let later = (phase + 1).min(2);
            phases[later].push((tx.clone(), encode(&retry(2)), Expect::Repeat { accepted }));
        } else if i % 10 == 2 {
            let later = (phase + 1).min(2);
            phases[later].push((tx.clone(), encode(&retry(3)), Expect::Repeat { accepted }));
        } else if i % 100 == 3 {
            let mut modified = first.clone();
            modified.amount.minor_units += 1;
            let later = (phase + 1).min(2);
            phases[later].push((tx.clone(), encode(&modified), Expect::Modified));
        }
    }
    Plan { phases }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_copy_of_a_request_is_answered_once_and_nothing_clears_twice() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let plan = plan();
    let all: Vec<&(String, Vec<u8>, Expect)> = plan.phases.iter().flatten().collect();
    let count = |f: fn(&Expect) -> bool| all.iter().filter(|(_, _, e)| f(e)).count();
    let firsts = count(|e| matches!(e, Expect::First { .. }));
    let accepted = count(|e| matches!(e, Expect::First { accepted: true }));
    let repeats = count(|e| matches!(e, Expect::Repeat { .. }));
    let modified = count(|e| matches!(e, Expect::Modified));
    assert_eq!((firsts, repeats, modified), (300, 90, 3), "the plan's own numbers");

    // Phase 1 on worker a; phase 2 on worker b, whose store starts empty (it restores
    // everything from the changelog); phase 3 on a again, which restores from its
    // checkpoint and must catch up on what b wrote.
    let (mut sent, mut want) = (0, 0);
    for (phase, worker) in ["w-a", "w-b", "w-a"].into_iter().enumerate() {
        let switch = interlink_switch::start(fx.switch_config(worker)).await.unwrap();
        wait_ready(&switch).await;
        let records: Vec<(&str, Vec<u8>)> =
            plan.phases[phase].iter().map(|(tx, bytes, _)| (tx.as_str(), bytes.clone())).collect();
        fx.produce(&records, None);
        sent += records.len();
        // Every record of this phase answered before the worker stops: one debtor
        // notification per sent record (plus a creditor one per acceptance).
        let phase_accepts =
            plan.phases[phase].iter().filter(|(_, _, e)| *e == Expect::First { accepted: true }).count();
        want += records.len() + phase_accepts;
        let got = fx.read(&fx.topics.notifications, want, Duration::from_secs(60)).len();
        assert!(got >= want, "phase {phase}: {got} notifications, want {want}");
        switch.stop().await.unwrap();
    }
    assert_eq!(sent, all.len());

    // Exactly one clearing record per accepted distinct payment.
    let clearing: Vec<ClearingRecord> =
        fx.read_events::<ClearingRecord>(&fx.topics.clearing, accepted, Duration::from_secs(30));
    let mut per_tx: HashMap<&str, usize> = HashMap::new();
    for c in &clearing {
        *per_tx.entry(c.transaction_id.as_str()).or_default() += 1;
    }
    assert_eq!(clearing.len(), accepted, "one clearing record per accepted payment, none for a copy");
    assert!(per_tx.values().all(|n| *n == 1));

    // Notifications: the first outcome once per side, each repeat answered with the
    // first status, each modified copy refused with AM05.
    let notes: Vec<Notification> =
        fx.read_events::<Notification>(&fx.topics.notifications, all.len() + accepted, Duration::from_secs(30));
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &notes {
        *ids.entry(n.notification_id.as_str()).or_default() += 1;
    }
    assert!(ids.values().all(|n| *n == 1), "no notification twice");
    assert_eq!(notes.len(), all.len() + accepted, "one per record sent, plus the creditor's per acceptance");
    let first_status: HashMap<&str, PaymentStatus> = notes
        .iter()
        .filter(|n| n.notification_id.ends_with(":DEBTOR"))
        .map(|n| (n.transaction_id.as_str(), n.status))
        .collect();
    assert_eq!(first_status.len(), 300);
    let repeat_notes: Vec<&Notification> = notes.iter().filter(|n| n.repeat).collect();
    assert_eq!(repeat_notes.len(), repeats);
    for n in &repeat_notes {
        assert!(n.notification_id.contains(":DEBTOR:REPEAT:"), "{}", n.notification_id);
        assert_eq!(n.status, first_status[n.transaction_id.as_str()], "{} answers its first status", n.transaction_id);
    }
    let refused: Vec<&Notification> = notes.iter().filter(|n| n.notification_id.contains(":DUPLICATE:")).collect();
    assert_eq!(refused.len(), modified);
    assert!(refused.iter().all(|n| n.status == PaymentStatus::RJCT && n.reason_code.as_deref() == Some("AM05")));

    // A dead letter per modified copy, naming the first request.
    let dead: Vec<DeadLetter> =
        fx.read_events::<DeadLetter>(&fx.topics.dead_letters, modified, Duration::from_secs(10));
    assert_eq!(dead.len(), modified);
    for d in &dead {
        assert_eq!(d.reason_code.as_deref(), Some("AM05"));
        assert!(
            d.error_message.contains("already used by a different request (first at partition"),
            "{}",
            d.error_message
        );
    }
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_keyed_other_than_by_its_transaction_id_is_dead_lettered() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let switch = interlink_switch::start(fx.switch_config("w-key")).await.unwrap();
    wait_ready(&switch).await;
    fx.produce(
        &[("not-its-id", encode(&request("tx-k1", "004", 100))), ("tx-k2", encode(&request("tx-k2", "004", 100)))],
        None,
    );
    let dead: Vec<DeadLetter> = fx.read_events::<DeadLetter>(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].transaction_id.as_deref(), Some("tx-k1"));
    assert!(dead[0].error_message.contains("keyed by their transaction id"), "{}", dead[0].error_message);
    let clearing = fx.read(&fx.topics.clearing, 1, Duration::from_secs(30));
    assert_eq!(clearing.len(), 1, "only the correctly keyed request clears");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changelog_partitioned_unlike_the_requests_topic_is_refused_at_start() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let mut config = fx.switch_config("w-copart");
    // A changelog of another partition count: the requests topic of a 3-partition fixture.
    let other = Fixture::new(3).await;
    config.topics.state = other.topics.requests.clone();
    let switch = interlink_switch::start(config).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), switch.wait()).await.expect("stops by itself").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("has 3 partitions but") && text.contains("has 2"), "{text}");
    fx.cleanup().await;
    other.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memo_leaves_by_a_tombstone_when_its_window_ends_and_the_id_is_free_again() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let mut config = fx.switch_config("w-expiry");
    config.state.duplicate_window_seconds = 2;
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;
    let first = request("tx-exp", "004", 100);
    fx.produce(&[("tx-exp", encode(&first))], None);
    assert_eq!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(30)).len(), 1);

    // The sweep (every second) finds the memo expired and writes its tombstone, in a
    // transaction of its own (no input consumed).
    // (The changelog also holds the partition's netting books: only the memo counts here.)
    let memo = |key: &Option<Vec<u8>>| key.as_deref().and_then(|k| k.first()) == Some(&b'r');
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let state = loop {
        let mut state = fx.read(&fx.topics.state, usize::MAX, Duration::from_secs(2));
        state.retain(|(key, _)| memo(key));
        if state.len() >= 2 || std::time::Instant::now() > deadline {
            break state;
        }
    };
    assert_eq!(state.len(), 2, "the memo, then its tombstone");
    assert_eq!(state[0].0, state[1].0, "same key");
    assert!(!state[0].1.is_empty() && state[1].1.is_empty(), "a value, then a tombstone");

    // Past its window the id is free: the same request is a first again.
    let again = AuthorizationRequest { created_at: first.created_at + 1, ..first };
    fx.produce(&[("tx-exp", encode(&again))], None);
    assert_eq!(fx.read(&fx.topics.clearing, 2, Duration::from_secs(30)).len(), 2);
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_another_partition_than_its_keys_is_dead_lettered() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let switch = interlink_switch::start(fx.switch_config("w-misplaced")).await.unwrap();
    wait_ready(&switch).await;
    // As a producer with librdkafka's default partitioner (not murmur2) might put it.
    let home = interlink_core::memory::home_partition(b"tx-m1", 3);
    fx.produce(&[("tx-m1", encode(&request("tx-m1", "004", 100)))], Some((home + 1) % 3));
    fx.produce(&[("tx-m1", encode(&request("tx-m1", "004", 100)))], Some(home));
    let dead: Vec<DeadLetter> = fx.read_events::<DeadLetter>(&fx.topics.dead_letters, 1, Duration::from_secs(30));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].source_partition, (home + 1) % 3);
    assert!(dead[0].error_message.contains(&format!("belongs on partition {home} of 3")), "{}", dead[0].error_message);
    assert_eq!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(30)).len(), 1, "the well-placed copy clears");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
