//! The risk thresholds as a file of their own, with the real `interlinkctl` against the
//! real broker: `risk validate|diff|apply|history|rollback` change only `limit/` and
//! `anomaly/` keys, as change sets of the routing table; corridors and blocks stay.

mod common;

use common::{ctl, Fixture};

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const FIRST: &str = r#"
[[limits]]
id = "north-daily"
from = "HK_FPS"
to = "CN_IBPS"
period = "day"
time_zone = "Asia/Hong_Kong"
currency = "HKD"
max_amount = "10000.00"

[[anomalies]]
id = "north-new-payee"
from = "HK_FPS"
to = "CN_IBPS"
pattern = "new_creditor"
action = "hold"
currency = "HKD"
min_amount = "8000.00"
retention_days = 90
"#;

/// The daily limit raised, the anomaly rule dropped, a creditor rule added.
const SECOND: &str = r#"
[[limits]]
id = "north-daily"
from = "HK_FPS"
to = "CN_IBPS"
period = "day"
time_zone = "Asia/Hong_Kong"
currency = "HKD"
max_amount = "20000.00"

[[anomalies]]
id = "north-mule"
from = "HK_FPS"
to = "CN_IBPS"
pattern = "many_debtors"
action = "alert"
currency = "HKD"
min_amount = "500.00"
min_debtors = 5
window_seconds = 3600
new_for_days = 7
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_risk_file_changes_only_the_thresholds_and_rolls_back() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (first, second) = (file("first.toml", FIRST), file("second.toml", SECOND));
    let live_rules = || {
        let listed = text(&ctl(&fx, &["routes", "list"]));
        let last = listed.lines().last().unwrap_or_default().to_string();
        (listed, last)
    };
    let (before, _) = live_rules();
    let corridors_before = before.lines().filter(|l| l.starts_with("corridor/")).count();
    assert!(corridors_before > 0, "{before}");

    // A risk file holds thresholds only.
    let mixed = file(
        "mixed.toml",
        &format!(
            "{FIRST}\n[[blocks]]\ntarget = \"account\"\nnetwork = \"HK_FPS\"\nvalue = \"004-1\"\nreason = \"x\"\n"
        ),
    );
    let refused = ctl(&fx, &["risk", "validate", &mixed]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("a risk file holds only [[limits]] and [[anomalies]]"), "{}", text(&refused));
    // A limit in a currency the corridor cannot convert to does not fit the live table.
    let unfit = file("unfit.toml", &FIRST.replace("currency = \"HKD\"\nmax_amount", "currency = \"BRL\"\nmax_amount"));
    let unfit = ctl(&fx, &["risk", "validate", &unfit]);
    assert_eq!(unfit.status.code(), Some(1), "{}", text(&unfit));
    assert!(text(&unfit).contains("does not fit the live table (version 1)"), "{}", text(&unfit));

    let valid = text(&ctl(&fx, &["risk", "validate", &first]));
    assert!(valid.contains("valid, 2 threshold rule(s), fit the live table (version 1)"), "{valid}");
    // The sample table has thresholds of its own: the file replaces them.
    let diff = text(&ctl(&fx, &["risk", "diff", &first]));
    assert!(diff.contains("+ limit/north-daily") && diff.contains("+ anomaly/north-new-payee"), "{diff}");
    assert!(diff.contains("- limit/payment-connect-north-daily"), "{diff}");
    assert!(!diff.contains("corridor/"), "{diff}");
    let applied = text(&ctl(&fx, &["risk", "apply", &first, "--operator", "alice", "--reason", "thresholds v1"]));
    assert!(applied.contains("as version 2"), "{applied}");

    // A block added in between stays through later risk applies and rollbacks.
    let blocked = ctl(
        &fx,
        &[
            "risk",
            "block",
            "--kind",
            "account",
            "--network",
            "HK_FPS",
            "--value",
            "004-77",
            "--reason",
            "case 9",
            "--operator",
            "bob",
        ],
    );
    assert!(text(&blocked).contains("as version 3"), "{}", text(&blocked));
    let applied = text(&ctl(&fx, &["risk", "apply", &second, "--operator", "alice", "--reason", "thresholds v2"]));
    assert!(applied.contains("applied 3 change(s) as version 4"), "{applied}");
    let (after, _) = live_rules();
    assert!(after.contains("limit/north-daily") && after.contains("anomaly/north-mule"), "{after}");
    assert!(!after.contains("anomaly/north-new-payee"), "{after}");
    assert!(after.contains("block/account/HK_FPS/004-77"), "the block stays: {after}");
    assert_eq!(after.lines().filter(|l| l.starts_with("corridor/")).count(), corridors_before);

    let history = text(&ctl(&fx, &["risk", "history", "--verbose"]));
    assert!(history.contains("risk: thresholds v1") && history.contains("risk: thresholds v2"), "{history}");
    assert!(!history.contains("case 9"), "the block's change set touched no threshold: {history}");
    assert!(history.contains("3 change set(s) touched the risk thresholds"), "{history}");

    let rolled = text(&ctl(&fx, &["risk", "rollback", "--to", "2", "--operator", "carol", "--reason", "too loose"]));
    assert!(rolled.contains("applied 3 change(s) as version 5"), "{rolled}");
    let (now, _) = live_rules();
    assert!(now.contains("anomaly/north-new-payee") && !now.contains("anomaly/north-mule"), "{now}");
    assert!(now.contains("block/account/HK_FPS/004-77"), "the block stays: {now}");
    let daily = text(&ctl(&fx, &["routes", "get", "limit/north-daily"]));
    assert!(daily.contains("1000000"), "HKD 10,000.00 again: {daily}");
    fx.cleanup().await;
}
