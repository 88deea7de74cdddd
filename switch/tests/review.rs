//! Holding payments for review against the real broker, worked as an operator would with
//! the real `interlinkctl`: a `hold` anomaly rule holds three payments (PDNG to their
//! debtors, HELD alerts); `risk held` lists them; a worker that takes over on a fresh
//! store (the first one gone) still holds them (the hold lives in the changelog);
//! `risk review` approves one (it settles once) and refuses another (RJCT FRAD); the
//! third is refused at its review deadline. Nothing else clears.

mod common;

use common::{ctl, encode, request, wait_ready, Fixture};
use interlink_schemas::{
    AuthorizationRequest, ClearingRecord, Notification, Party, PaymentStatus, PersonId, RiskAction, RiskAlert,
    RiskControl,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A first payment above CNY 500 to a creditor the debtor has not paid in 30 days is
/// held for review.
const RULES: &str = r#"
[[anomalies]]
id = "new-payee-hold"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "new_creditor"
action = "hold"
currency = "CNY"
min_amount = "500.00"
retention_days = 30
"#;

/// Seconds a held payment waits for its review in this test.
const REVIEW_SECONDS: u64 = 25;

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn pays(tx: &str, person: &str, major: i64) -> AuthorizationRequest {
    AuthorizationRequest {
        debtor_id: Some(PersonId::new("NIDN", "CN", person)),
        creditor_account: Some(format!("HK-{tx}")),
        ..request(tx, "004", major * 100)
    }
}

fn produce(fx: &Fixture, plan: &[AuthorizationRequest]) {
    let records: Vec<(String, Vec<u8>)> = plan.iter().map(|r| (r.partition_key().into_owned(), encode(r))).collect();
    let refs: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&refs, None);
}

/// The debtor's notifications per transaction, in the order written.
fn debtor_notes(notes: &[Notification]) -> HashMap<&str, Vec<(PaymentStatus, Option<&str>)>> {
    let mut by_tx: HashMap<&str, Vec<_>> = HashMap::new();
    for n in notes.iter().filter(|n| n.party == Party::Debtor) {
        by_tx.entry(n.transaction_id.as_str()).or_default().push((n.status, n.reason_code.as_deref()));
    }
    by_tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_payments_are_approved_refused_or_refused_at_their_deadline_across_a_new_worker() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    let file = dir.path().join("hold.toml");
    std::fs::write(&file, format!("{sample}{RULES}")).unwrap();
    let applied =
        ctl(&fx, &["routes", "apply", file.to_str().unwrap(), "--operator", "alice", "--reason", "hold rule"]);
    assert!(text(&applied).contains("applied 1 change(s) as version 2"), "{}", text(&applied));
    let listed = text(&ctl(&fx, &["routes", "list", "--network", "CN_IBPS"]));
    assert!(listed.contains("hold for review on a creditor not paid in 30 days"), "{listed}");

    let config = |id: &str| {
        let mut c = fx.switch_config(id);
        c.risk.review_timeout_seconds = REVIEW_SECONDS;
        c
    };
    let first = interlink_switch::start(config("w-review-1")).await.unwrap();
    wait_ready(&first).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while first.health().routing_version() != 2 {
        assert!(Instant::now() < deadline, "worker at {}", first.health().routing_version());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Three new creditors above the floor (held), one payment below it (settles).
    let plan = [
        pays("h-approve", "110101199003077777", 800),
        pays("h-refuse", "440301198807076666", 900),
        pays("h-timeout", "510104198001011234", 700),
        pays("small", "110101199003077777", 100),
    ];
    produce(&fx, &plan);
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 5, Duration::from_secs(60));
    let by_tx = debtor_notes(&notes);
    for tx in ["h-approve", "h-refuse", "h-timeout"] {
        assert_eq!(by_tx[tx], [(PaymentStatus::PDNG, None)], "{tx}");
    }
    assert_eq!(by_tx["small"], [(PaymentStatus::ACCC, None)]);
    let held_at = Instant::now();

    let alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 3, Duration::from_secs(30));
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    for a in &alerts {
        assert_eq!((a.action, a.control, a.rule.as_str()), (RiskAction::Held, RiskControl::Anomaly, "new-payee-hold"));
        assert!(a.review_key.as_deref().is_some_and(|k| k.len() == 64), "the person key: {:?}", a.review_key);
        assert!(a.review_deadline.is_some());
    }
    let held = text(&ctl(&fx, &["risk", "held"]));
    assert!(held.contains("3 payment(s) held for review"), "{held}");
    assert!(held.contains("h-timeout") && held.contains("CNY 700.00"), "{held}");

    // The first worker goes; a new one, on an empty store, takes over the holds.
    first.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(fx.state_dir());
    let second = interlink_switch::start(config("w-review-2")).await.unwrap();
    wait_ready(&second).await;

    let approve = ctl(
        &fx,
        &["risk", "review", "--transaction-id", "h-approve", "--approve", "--operator", "bob", "--note", "KYC-7"],
    );
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    assert!(text(&approve).contains("decided: APPROVED"), "{}", text(&approve));
    let refuse = ctl(
        &fx,
        &["risk", "review", "--transaction-id", "h-refuse", "--refuse", "--operator", "bob", "--note", "mule"],
    );
    assert_eq!(refuse.status.code(), Some(0), "{}", text(&refuse));
    assert!(text(&refuse).contains("decided: REFUSED FRAD refused after review by bob: mule"), "{}", text(&refuse));
    // A second decision on the same payment is refused by the tool: it no longer waits.
    let again =
        ctl(&fx, &["risk", "review", "--transaction-id", "h-approve", "--refuse", "--operator", "bob", "--note", "x"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("is not waiting for a review: its latest alert is APPROVED"), "{}", text(&again));

    // The third is refused at its deadline, by the worker's own timer.
    let wait = Duration::from_secs(REVIEW_SECONDS + 20).saturating_sub(held_at.elapsed());
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 9, wait + Duration::from_secs(10));
    // PDNG x3, the small payment's and the approved one's ACCC to both sides, two RJCT.
    assert_eq!(notes.len(), 9, "{notes:?}");
    let by_tx = debtor_notes(&notes);
    assert_eq!(by_tx["h-approve"], [(PaymentStatus::PDNG, None), (PaymentStatus::ACCC, None)]);
    assert_eq!(by_tx["h-refuse"], [(PaymentStatus::PDNG, None), (PaymentStatus::RJCT, Some("FRAD"))]);
    assert_eq!(by_tx["h-timeout"], [(PaymentStatus::PDNG, None), (PaymentStatus::RJCT, Some("FRAD"))]);
    let timed_out = notes.iter().rev().find(|n| n.transaction_id == "h-timeout").unwrap();
    assert!(
        timed_out
            .reason_text
            .as_deref()
            .unwrap()
            .contains(&format!("not reviewed by its deadline ({REVIEW_SECONDS} s)")),
        "{:?}",
        timed_out.reason_text
    );

    // Exactly two payments cleared: the small one and the approved one, once each.
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, 2, Duration::from_secs(30));
    let mut cleared: Vec<&str> = clearing.iter().map(|c| c.transaction_id.as_str()).collect();
    cleared.sort_unstable();
    assert_eq!(cleared, ["h-approve", "small"]);

    // The alerts tell the whole story: 3 HELD, then APPROVED, REFUSED (review), REFUSED (deadline).
    let alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 6, Duration::from_secs(30));
    let actions: HashMap<&str, Vec<RiskAction>> = alerts.iter().fold(HashMap::new(), |mut m, a| {
        m.entry(a.transaction_id.as_str()).or_default().push(a.action);
        m
    });
    assert_eq!(actions["h-approve"], [RiskAction::Held, RiskAction::Approved]);
    assert_eq!(actions["h-refuse"], [RiskAction::Held, RiskAction::Refused]);
    assert_eq!(actions["h-timeout"], [RiskAction::Held, RiskAction::Refused]);
    let held = text(&ctl(&fx, &["risk", "held"]));
    assert!(held.contains("0 payment(s) held for review"), "{held}");

    // The held request sent again now gets its final outcome, marked as a repeat.
    produce(&fx, &[pays("h-approve", "110101199003077777", 800)]);
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 10, Duration::from_secs(30));
    assert_eq!(notes.len(), 10);
    let repeat = notes.iter().find(|n| n.repeat).expect("the repeat is answered");
    assert_eq!((repeat.transaction_id.as_str(), repeat.status), ("h-approve", PaymentStatus::ACCC));
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, 2, Duration::from_secs(5));
    assert_eq!(clearing.len(), 2, "nothing clears twice");

    second.stop().await.unwrap();
    fx.cleanup().await;
}
