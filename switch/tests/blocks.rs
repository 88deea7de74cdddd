//! Block lists as an operator runs them, with the real `interlinkctl` against the real
//! broker: a block is a change set of its own, every worker applies it at one table
//! version, payments from or to what it names are refused with the right reason, and
//! lifting it lets them through again.

mod common;

use common::{ctl, encode, request, wait_ready, Fixture};
use interlink_schemas::{Notification, Party, PaymentStatus, RiskAlert, RiskControl};
use std::process::Output;
use std::time::{Duration, Instant};

/// `interlinkctl risk block` (or `unblock`) of `kind` `network`/`value`.
fn block(fx: &Fixture, verb: &str, kind: &str, network: &str, value: &str, reason: &str) -> Output {
    let args = ["risk", verb, "--kind", kind, "--network", network, "--value", value, "--reason", reason];
    ctl(fx, &[&args[..], &["--operator", "alice"]].concat())
}

fn ok(o: Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    out
}

async fn wait_version(switch: &interlink_switch::RunningSwitch, version: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while switch.health().routing_version() != version {
        assert!(Instant::now() < deadline, "worker at {} instead of {version}", switch.health().routing_version());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The debtor's notification of `tx` among everything read so far.
fn debtor_note<'a>(notes: &'a [Notification], tx: &str) -> &'a Notification {
    notes.iter().find(|n| n.transaction_id == tx && n.party == Party::Debtor).unwrap_or_else(|| panic!("{tx}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_blocks_an_account_and_an_institution_and_lifts_the_blocks() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let switch = interlink_switch::start(fx.switch_config("w-blocks")).await.unwrap();
    wait_ready(&switch).await;

    // The common request pays from ICBC account 6222020200112233445 to HSBC (HK FPS 004).
    let applied = ok(block(&fx, "block", "account", "CN_IBPS", "6222020200112233445", "case 7: court order"));
    assert!(applied.contains("applied 1 change(s) as version 2"), "{applied}");
    let applied = ok(block(&fx, "block", "institution", "HK_FPS", "024", "regulator notice 2026/11"));
    assert!(applied.contains("as version 3"), "{applied}");
    let listed = ok(ctl(&fx, &["risk", "list"]));
    assert!(listed.contains("2 block(s) at version 3"), "{listed}");
    // A block names a network the switch knows and gives a reason, or nothing is applied.
    let refused = block(&fx, "block", "account", "MARS", "1", "x");
    assert_eq!(refused.status.code(), Some(1));
    wait_version(&switch, 3).await;

    let mut other_account = request("b-ok", "004", 10_000);
    other_account.debtor_account = "6222020200199999999".into();
    let to_blocked_bank = request("b-bank", "024", 10_000);
    fx.produce(
        &[
            ("b-acct", encode(&request("b-acct", "004", 10_000))),
            ("b-bank", encode(&to_blocked_bank)),
            ("b-ok", encode(&other_account)),
        ],
        None,
    );
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 4, Duration::from_secs(60));
    assert_eq!(notes.len(), 4, "three debtors told, one creditor (of the one accepted)");
    let acct = debtor_note(&notes, "b-acct");
    assert_eq!((acct.status, acct.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AC06")));
    let text = acct.reason_text.as_deref().unwrap_or_default();
    assert!(text.contains("debtor account CN_IBPS/****3445 is blocked (routing v3"), "{text}");
    assert!(text.contains("case 7: court order") && !text.contains("6222020200112233445"), "{text}");
    let bank = debtor_note(&notes, "b-bank");
    assert_eq!((bank.status, bank.reason_code.as_deref()), (PaymentStatus::RJCT, Some("RR04")));
    assert!(bank.reason_text.as_deref().unwrap_or_default().contains("creditor institution HK_FPS/024"));
    assert_eq!(debtor_note(&notes, "b-ok").status, PaymentStatus::ACCC);
    let alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 2, Duration::from_secs(10));
    let mut rules: Vec<(&str, &str)> = alerts.iter().map(|a| (a.transaction_id.as_str(), a.rule.as_str())).collect();
    rules.sort();
    assert_eq!(rules, [("b-acct", "block/account/CN_IBPS/****3445"), ("b-bank", "block/institution/HK_FPS/024")]);
    assert!(alerts.iter().all(|a| a.control == RiskControl::Block), "{alerts:?}");

    // Lifted: the same account pays again (a new transaction id) from the next version.
    let lifted = ok(block(&fx, "unblock", "account", "CN_IBPS", "6222020200112233445", "order lifted"));
    assert!(lifted.contains("as version 4"), "{lifted}");
    wait_version(&switch, 4).await;
    fx.produce(&[("b-again", encode(&request("b-again", "004", 10_000)))], None);
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 6, Duration::from_secs(60));
    assert_eq!(debtor_note(&notes, "b-again").status, PaymentStatus::ACCC);
    let history = ok(ctl(&fx, &["routes", "history"]));
    assert!(history.contains("unblock: order lifted") && history.contains("block: case 7: court order"), "{history}");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// Names on a payment are screened against the sanctions lists the worker loads at
/// start (the synthetic OFAC files the screening crate's tests use).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_to_a_listed_name_is_refused_and_a_clean_one_passes() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../screening/tests/data");
    let mut config = fx.switch_config("w-screening");
    config.risk.ofac_sdn = format!("{data}/sdn.csv");
    config.risk.ofac_alt = format!("{data}/alt.csv");
    let switch = interlink_switch::start(config.clone()).await.unwrap();
    wait_ready(&switch).await;

    let named = |tx: &str, debtor: &str, creditor: &str| {
        let mut r = request(tx, "004", 10_000);
        (r.debtor_name, r.creditor_name) = (Some(debtor.into()), Some(creditor.into()));
        (tx.to_string(), encode(&r))
    };
    let records = [
        // Listed as "TARKAZI, Muhammad Yusuf", alias "TARKAZI, Mohammed Yousef": the
        // alias's spelling in the other order.
        named("s-hit", "CHAN Tai Man", "Mohammed Yousef Tarkazi"),
        named("s-clean", "CHAN Tai Man", "LEE Siu Ming"),
    ];
    let refs: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&refs, None);
    let notes: Vec<Notification> = fx.read_events(&fx.topics.notifications, 3, Duration::from_secs(60));
    assert_eq!(notes.len(), 3, "two debtors told, one creditor");
    let hit = debtor_note(&notes, "s-hit");
    assert_eq!((hit.status, hit.reason_code.as_deref()), (PaymentStatus::RJCT, Some("RR04")));
    let text = hit.reason_text.as_deref().unwrap_or_default();
    assert!(text.contains("the creditor's name matches sanctions list entry OFAC-1001"), "{text}");
    assert_eq!(debtor_note(&notes, "s-clean").status, PaymentStatus::ACCC);
    let alerts: Vec<RiskAlert> = fx.read_events(&fx.topics.risk_alerts, 1, Duration::from_secs(10));
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].control, alerts[0].rule.as_str()), (RiskControl::Sanctions, "OFAC-1001"));
    assert_eq!(alerts[0].explanation, text);
    switch.stop().await.unwrap();

    // A configured list that is not there stops the worker at start, naming the file.
    config.worker_id = "w-screening-2".into();
    config.risk.ofac_sdn = format!("{data}/no-such-sdn.csv");
    let broken = interlink_switch::start(config).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), broken.wait()).await.expect("stops by itself").unwrap_err();
    assert!(err.to_string().contains("no-such-sdn.csv"), "{err}");
    fx.cleanup().await;
}
