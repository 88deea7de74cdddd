//! Per-debtor anomaly rules against the real broker, set up as an operator would with
//! the real `interlinkctl` (validate, diff, apply): an `alert` rule lets the payment
//! settle and writes one ALERTED alert; a `refuse` rule refuses with FRAD.

mod common;

use common::{ctl, encode, request, wait_ready, Fixture};
use interlink_schemas::{
    AuthorizationRequest, ClearingRecord, Notification, Party, PaymentStatus, PersonId, RiskAction, RiskAlert,
    RiskControl,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Two rules on CN IBPS to HK FPS, in CNY: a payment above CNY 500 to a creditor the
/// debtor has not paid in 30 days is let through and alerted; one above CNY 1,000 and
/// above the debtor's usual + 4 deviations (after 5 payments) is refused.
const RULES: &str = r#"
[[anomalies]]
id = "new-payee-alert"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "new_creditor"
action = "alert"
currency = "CNY"
min_amount = "500.00"
retention_days = 30

[[anomalies]]
id = "big-refuse"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "amount_above_usual"
action = "refuse"
currency = "CNY"
min_amount = "1000.00"
deviations = "4"
min_payments = 5
half_life_payments = 10
"#;

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The debtor, paying CNY `major` to `account` at HSBC.
fn pays(tx: &str, person: &PersonId, account: &str, major: i64) -> AuthorizationRequest {
    AuthorizationRequest {
        debtor_id: Some(person.clone()),
        creditor_account: Some(account.into()),
        ..request(tx, "004", major * 100)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_rule_lets_the_payment_settle_with_one_alerted_alert_and_a_refuse_rule_refuses() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();

    // validate: a rule missing its pattern's setting is named with its line.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, format!("{sample}{}", RULES.replacen("retention_days = 30\n", "", 1))).unwrap();
    let refused = ctl(&fx, &["routes", "validate", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("retention_days is needed by the new_creditor pattern"), "{}", text(&refused));

    // validate, diff and apply the good file: two rules added.
    let good = dir.path().join("anomalies.toml");
    std::fs::write(&good, format!("{sample}{RULES}")).unwrap();
    let validated = ctl(&fx, &["routes", "validate", good.to_str().unwrap()]);
    assert_eq!(validated.status.code(), Some(0), "{}", text(&validated));
    let diff = text(&ctl(&fx, &["routes", "diff", good.to_str().unwrap()]));
    assert!(diff.contains("+ anomaly/big-refuse") && diff.contains("+ anomaly/new-payee-alert"), "{diff}");
    assert!(diff.contains("2 change(s) against live version 1"), "{diff}");
    let applied =
        ctl(&fx, &["routes", "apply", good.to_str().unwrap(), "--operator", "alice", "--reason", "anomaly rules"]);
    assert!(text(&applied).contains("applied 2 change(s) as version 2"), "{}", text(&applied));
    let listed = text(&ctl(&fx, &["routes", "list", "--network", "CN_IBPS"]));
    assert!(listed.contains("anomaly/new-payee-alert"), "{listed}");

    let switch = interlink_switch::start(fx.switch_config("w-anomaly")).await.unwrap();
    wait_ready(&switch).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while switch.health().routing_version() != 2 {
        assert!(Instant::now() < deadline, "worker at {}", switch.health().routing_version());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let person = PersonId::new("NIDN", "CN", "110101199003077777");
    // Five CNY 100 payments to HK-A (below both floors), CNY 800 to a new creditor HK-B
    // (alerted, settles), then CNY 5,000 to HK-A (known, but far above the usual: refused).
    let mut plan: Vec<AuthorizationRequest> = (1..=5).map(|i| pays(&format!("p-{i}"), &person, "HK-A", 100)).collect();
    plan.push(pays("p-new", &person, "HK-B", 800));
    plan.push(pays("p-big", &person, "HK-A", 5_000));
    let records: Vec<(String, Vec<u8>)> = plan.iter().map(|r| (r.partition_key().into_owned(), encode(r))).collect();
    let refs: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&refs, None);

    // Six accepted (two notifications each) and one refused.
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 13, Duration::from_secs(60));
    assert_eq!(notes.len(), 13);
    let outcomes: HashMap<&str, (PaymentStatus, Option<&str>)> = notes
        .iter()
        .filter(|n| n.party == Party::Debtor)
        .map(|n| (n.transaction_id.as_str(), (n.status, n.reason_code.as_deref())))
        .collect();
    for tx in ["p-1", "p-2", "p-3", "p-4", "p-5", "p-new"] {
        assert_eq!(outcomes[tx], (PaymentStatus::ACCC, None), "{tx}");
    }
    assert_eq!(outcomes["p-big"], (PaymentStatus::RJCT, Some("FRAD")));
    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, 6, Duration::from_secs(30));
    assert!(clearing.iter().any(|c| c.transaction_id == "p-new"), "the alerted payment settled");
    assert!(clearing.iter().all(|c| c.transaction_id != "p-big"));

    // Exactly two alerts: the alerted payment's and the refusal's.
    let mut alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 3, Duration::from_secs(10));
    alerts.sort_by(|a, b| a.transaction_id.cmp(&b.transaction_id));
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let (big, new) = (&alerts[0], &alerts[1]);
    assert_eq!(
        (new.transaction_id.as_str(), new.action, new.control, new.rule.as_str(), new.reason_code.as_str()),
        ("p-new", RiskAction::Alerted, RiskControl::Anomaly, "new-payee-alert", "")
    );
    assert_eq!(new.alert_id, "p-new:RISK:ANOMALY:new-payee-alert");
    assert_eq!(new.routing_version, 2);
    assert!(
        new.explanation.starts_with(
            "anomaly rule new-payee-alert (routing v2): first payment to creditor HK_FPS/004/****HK-B in the last 30 days (the debtor paid 1 other creditors in them"
        ),
        "{}",
        new.explanation
    );
    assert!(
        new.explanation.ends_with("this payment counts CNY 800.00, above the threshold CNY 500.00"),
        "{}",
        new.explanation
    );
    assert_eq!(
        (big.transaction_id.as_str(), big.action, big.rule.as_str(), big.reason_code.as_str()),
        ("p-big", RiskAction::Refused, "big-refuse", "FRAD")
    );
    assert!(
        big.explanation.contains("this payment counts CNY 5000.00, above the debtor's usual CNY "),
        "{}",
        big.explanation
    );
    assert!(
        big.explanation.contains("(decayed over 6 payments) and above the floor CNY 1000.00"),
        "{}",
        big.explanation
    );
    let refusal = notes.iter().find(|n| n.transaction_id == "p-big" && n.party == Party::Debtor).unwrap();
    assert_eq!(refusal.reason_text.as_deref(), Some(big.explanation.as_str()));

    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// The mule pattern on the creditor's side: three different debtors paying one new
/// creditor within ten minutes.
const MULE_RULE: &str = r#"
[[anomalies]]
id = "mule"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "many_debtors"
action = "alert"
currency = "CNY"
min_amount = "100.00"
min_debtors = 3
window_seconds = 600
new_for_days = 7

[[anomalies]]
id = "busy-device"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "device_velocity"
action = "alert"
currency = "CNY"
min_amount = "100.00"
window_seconds = 600
max_payments = 5
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mule_rule_alerts_once_from_the_creditors_partition_and_every_payment_settles() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(4).await;
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    let file = dir.path().join("mule.toml");
    std::fs::write(&file, format!("{sample}{MULE_RULE}")).unwrap();
    let applied =
        ctl(&fx, &["routes", "apply", file.to_str().unwrap(), "--operator", "alice", "--reason", "mule rule"]);
    assert!(text(&applied).contains("applied 2 change(s) as version 2"), "{}", text(&applied));
    let listed = text(&ctl(&fx, &["routes", "list", "--network", "CN_IBPS"]));
    assert!(listed.contains("3 different debtors paying one creditor within 600 s"), "{listed}");
    assert!(listed.contains("more than 5 payments from one device within 600 s"), "{listed}");

    let switch = interlink_switch::start(fx.switch_config("w-mule")).await.unwrap();
    wait_ready(&switch).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while switch.health().routing_version() != 2 {
        assert!(Instant::now() < deadline, "worker at {}", switch.health().routing_version());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Four debtors pay the same new account CNY 300 each; another account gets two
    // debtors' payments; a fifth debtor pays the mule CNY 50 (below the floor). All from
    // one app installation (AuthorizationRequest v3's device_id): six above the floor.
    let payer = |tx: &str, d: usize, account: &str, major: i64| AuthorizationRequest {
        debtor_account: format!("62220202001100{d}"),
        creditor_account: Some(account.into()),
        device_id: Some("app-install-51c0".into()),
        ..request(tx, "004", major * 100)
    };
    let mut plan: Vec<AuthorizationRequest> = (1..=4).map(|d| payer(&format!("m-{d}"), d, "HK-MULE", 300)).collect();
    plan.extend((1..=2).map(|d| payer(&format!("o-{d}"), d, "HK-OTHER", 300)));
    plan.push(payer("m-small", 5, "HK-MULE", 50));
    let records: Vec<(String, Vec<u8>)> = plan.iter().map(|r| (r.partition_key().into_owned(), encode(r))).collect();
    let refs: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&refs, None);

    let clearing: Vec<ClearingRecord> = fx.read_events(&fx.topics.clearing, 7, Duration::from_secs(60));
    assert_eq!(clearing.len(), 7, "every payment settles: the rule only alerts");
    let mut alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 2, Duration::from_secs(20));
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    alerts.sort_by(|a, b| a.rule.cmp(&b.rule));
    let device = &alerts[0];
    assert_eq!((device.rule.as_str(), device.action), ("busy-device", RiskAction::Alerted));
    assert!(
        device
            .explanation
            .contains("device ****51c0 made 6 payments of CNY 1800.00 in the last 600 s, over its 5 payments"),
        "{}",
        device.explanation
    );
    let a = &alerts[1];
    assert_eq!((a.control, a.action, a.rule.as_str()), (RiskControl::Anomaly, RiskAction::Alerted, "mule"));
    assert!(a.transaction_id.starts_with("m-"), "{}", a.transaction_id);
    assert!(
        a.explanation.contains("creditor HK_FPS/004/****MULE was paid by 3 different debtors in the last 600 s"),
        "{}",
        a.explanation
    );
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
