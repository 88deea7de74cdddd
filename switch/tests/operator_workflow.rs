//! The routing-table workflow as a new operator runs it, with the real `interlinkctl`
//! binary against the real broker: validate, diff, apply, workers switch, history,
//! export, rollback.

mod common;

use common::{ctl, wait_ready, Fixture};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sample_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml").to_string()
}

async fn wait_version(switch: &interlink_switch::RunningSwitch, version: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while switch.health().routing_version() != version {
        assert!(
            Instant::now() < deadline,
            "worker still at {} instead of {version}",
            switch.health().routing_version()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_validates_applies_inspects_and_rolls_back() {
    interlink_testkit::require_broker!();
    // The fixture creates the topics and applies the sample table as version 1.
    let fx = Fixture::new(1).await;
    let dir = tempfile::tempdir().unwrap();

    // validate: a good file passes, a bad one lists every problem with its line.
    let ok = ctl(&fx, &["routes", "validate", &sample_path()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("valid, 74 rule(s)"), "{}", stdout(&ok));
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(
        &bad_file,
        "[[participants]]\nnetwork = \"HK_FPS\"\ninstitution_id = \"4\"\nname = \"x\"\nsettlement_currency = \"HKD\"\n\n[[corridors]]\nfrom = \"CN_IBPS\"\nto = \"MARS\"\nsource_currency = \"CNY\"\ndestination_currency = \"HKD\"\nfx_rate = \"0\"\nmax_amount = \"1\"\n",
    )
    .unwrap();
    let bad = ctl(&fx, &["routes", "validate", bad_file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("bad.toml:1:") && err.contains("3 digits"), "{err}");
    assert!(err.contains("bad.toml:7:") && err.contains("unknown network \"MARS\""), "{err}");
    // Applying a bad file changes nothing.
    let refused = ctl(&fx, &["routes", "apply", bad_file.to_str().unwrap(), "--operator", "eve", "--reason", "oops"]);
    assert_eq!(refused.status.code(), Some(1));

    let switch = interlink_switch::start(fx.switch_config("w-ops")).await.unwrap();
    wait_ready(&switch).await;
    assert_eq!(switch.health().routing_version(), 1);

    // diff, then apply a change: lower the CN->HK cap and suspend a participant.
    let v2 = dir.path().join("v2.toml");
    let text = std::fs::read_to_string(sample_path()).unwrap();
    let changed = text.replacen("max_amount = \"50000.00\"", "max_amount = \"20000.00\"", 1).replacen(
        "institution_id = \"024\"\nname = \"Hang Seng Bank\"\n",
        "institution_id = \"024\"\nname = \"Hang Seng Bank\"\nstatus = \"suspended\"\n",
        1,
    );
    assert_ne!(changed, text);
    std::fs::write(&v2, changed).unwrap();
    let diff = ctl(&fx, &["routes", "diff", v2.to_str().unwrap()]);
    let diff_out = stdout(&diff);
    assert!(diff_out.contains("~ corridor/CN_IBPS/HK_FPS/CNY"), "{diff_out}");
    assert!(diff_out.contains("~ participant/HK_FPS/024"), "{diff_out}");
    assert!(diff_out.contains("2 change(s) against live version 1"), "{diff_out}");
    let dry =
        ctl(&fx, &["routes", "apply", v2.to_str().unwrap(), "--operator", "bob", "--reason", "caps", "--dry-run"]);
    assert!(stdout(&dry).contains("would apply 2 change(s) as version 2"), "{}", stdout(&dry));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(switch.health().routing_version(), 1, "a dry run changes nothing");

    let applied = ctl(&fx, &["routes", "apply", v2.to_str().unwrap(), "--operator", "bob", "--reason", "lower caps"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    assert!(stdout(&applied).contains("applied 2 change(s) as version 2"));
    wait_version(&switch, 2).await;

    let get = ctl(&fx, &["routes", "get", "participant/HK_FPS/024"]);
    assert!(stdout(&get).contains("\"status\": \"suspended\""), "{}", stdout(&get));
    let missing = ctl(&fx, &["routes", "get", "participant/HK_FPS/999"]);
    assert_eq!(missing.status.code(), Some(1));
    let list = ctl(&fx, &["routes", "list", "--network", "HK_FPS", "--format", "json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert!(listed.len() >= 6 && listed.iter().all(|r| r.to_string().contains("HK_FPS")), "{listed:?}");

    // history: who, when, why, what.
    let history = stdout(&ctl(&fx, &["routes", "history", "--verbose"]));
    let lines: Vec<&str> = history.lines().filter(|l| l.starts_with('v')).collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(lines[0].contains("test") && lines[0].contains("+74 ~0 -0"), "{history}");
    assert!(lines[1].contains("bob") && lines[1].contains("+0 ~2 -0") && lines[1].contains("lower caps"), "{history}");
    assert!(history.contains("~ participant/HK_FPS/024"), "{history}");

    // export applies back unchanged.
    let exported = dir.path().join("export.toml");
    std::fs::write(&exported, ctl(&fx, &["routes", "export"]).stdout).unwrap();
    let again = ctl(&fx, &["routes", "apply", exported.to_str().unwrap(), "--operator", "bob", "--reason", "noop"]);
    assert!(stdout(&again).contains("no changes; live table stays at version 2"), "{}", stdout(&again));

    // rollback to version 1 makes version 3 with version 1's rules.
    let rolled = ctl(&fx, &["routes", "rollback", "--to", "1", "--operator", "carol", "--reason", "incident 42"]);
    assert_eq!(rolled.status.code(), Some(0), "{}", stderr(&rolled));
    assert!(stdout(&rolled).contains("applied 2 change(s) as version 3"), "{}", stdout(&rolled));
    wait_version(&switch, 3).await;
    let get = ctl(&fx, &["routes", "get", "corridor/CN_IBPS/HK_FPS/CNY"]);
    assert!(stdout(&get).contains("\"max_amount_minor\": 5000000"), "{}", stdout(&get));
    let history = stdout(&ctl(&fx, &["routes", "history"]));
    assert!(history.contains("carol") && history.contains("rollback to v1: incident 42"), "{history}");
    let future = ctl(&fx, &["routes", "rollback", "--to", "9", "--operator", "x", "--reason", "y"]);
    assert_eq!(future.status.code(), Some(1));

    switch.stop().await.unwrap();
    fx.cleanup().await;
}

#[test]
fn usage_and_connection_errors_exit_2() {
    let usage = Command::new(env!("CARGO_BIN_EXE_interlinkctl")).args(["routes", "apply"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let unreachable = Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(["--brokers", "127.0.0.1:1", "routes", "show"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2), "{}", stderr(&unreachable));
    for cmd in
        [&["--help"][..], &["routes", "--help"], &["routes", "rollback", "--help"], &["topics", "create", "--help"]]
    {
        let help = Command::new(env!("CARGO_BIN_EXE_interlinkctl")).args(cmd).output().unwrap();
        assert_eq!(help.status.code(), Some(0), "{cmd:?}");
        assert!(stdout(&help).contains("Usage:"), "{cmd:?}");
    }
}

#[test]
fn connectors_are_listed_and_their_messages_read_or_refused_with_a_reason() {
    let ctl = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_interlinkctl")).args(args).output().unwrap();
    let golden = |network: &str, file: &str| {
        format!("{}/../connectors/tests/golden/{network}/{file}", env!("CARGO_MANIFEST_DIR"))
    };

    let list = stdout(&ctl(&["connectors", "list"]));
    assert_eq!(list.lines().count(), 11, "a header and ten networks:\n{list}");
    assert!(list.lines().any(|l| l.starts_with("IN_UPI") && l.contains("upi:ReqPay")), "{list}");

    let status = ctl(&["connectors", "decode", "--network", "HK_FPS", &golden("HK_FPS", "status.xml")]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(json["status_report"]["original_transaction_id"].is_string(), "{json}");

    // A mainland payment shown to the Hong Kong connector: refused, with the reason.
    let refused = ctl(&["connectors", "decode", "--network", "HK_FPS", &golden("CN_IBPS", "payment.xml")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("HK_FPS refuses this message"), "{}", stderr(&refused));

    // encode then decode gives the payment back.
    let encoded = ctl(&["connectors", "encode", "--network", "HK_FPS", &golden("HK_FPS", "payment.json")]);
    assert_eq!(encoded.status.code(), Some(0), "{}", stderr(&encoded));
    // HK_FPS emits what HKICL's FPS exchanges: pacs.008.001.06 in its fps:FpsMsg envelope.
    assert!(stdout(&encoded).contains("pacs.008.001.06") && stdout(&encoded).contains("fps:FpsMsg"));
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("p.xml");
    std::fs::write(&xml, &encoded.stdout).unwrap();
    let back = ctl(&["connectors", "decode", "--network", "HK_FPS", xml.to_str().unwrap()]);
    let back: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden("HK_FPS", "payment.json")).unwrap()).unwrap();
    assert_eq!(back["payment"]["transaction_id"], original["transaction_id"]);
    assert_eq!(back["payment"]["instructed_amount"], original["instructed_amount"]);

    let unknown = ctl(&["connectors", "decode", "--network", "MARS", &golden("HK_FPS", "status.xml")]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_check_says_what_is_wrong_with_the_switchs_topics() {
    use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewPartitions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let good = ctl(&fx, &["topics", "check"]);
    assert_eq!(good.status.code(), Some(0), "{}{}", stdout(&good), stderr(&good));
    assert!(
        stdout(&good).contains("every topic is as the switch needs it (replication factor 1, min.insync.replicas 1)"),
        "{}",
        stdout(&good)
    );

    // Two mistakes an operator can make by hand: a network topic given more partitions
    // than the requests, and compaction turned off on the state changelog.
    let admin: AdminClient<DefaultClientContext> =
        interlink_switch::kafka::base_client_config(&fx.kafka).create().unwrap();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let hk_in = fx.topics.network_in("HK_FPS");
    for r in admin.create_partitions(&[NewPartitions::new(&hk_in, 3)], &opts).await.unwrap() {
        r.unwrap();
    }
    let no_compaction = AlterConfig::new(ResourceSpecifier::Topic(&fx.topics.state)).set("cleanup.policy", "delete");
    for r in admin.alter_configs(&[no_compaction], &opts).await.unwrap() {
        r.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let bad = loop {
        let bad = ctl(&fx, &["topics", "check"]);
        if bad.status.code() == Some(1) && stdout(&bad).lines().count() == 2 || Instant::now() > deadline {
            break bad;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(bad.status.code(), Some(1), "{}{}", stdout(&bad), stderr(&bad));
    let lines: Vec<String> = stdout(&bad).lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            format!("{}: cleanup.policy is delete, must be compact", fx.topics.state),
            format!(
                "{hk_in}: 3 partitions, but {} has 2: it must be partitioned like the requests (state partition p goes with partition p of every input)",
                fx.topics.requests
            ),
        ]
    );
    assert!(stderr(&bad).contains("2 problem(s) with the switch's topics"), "{}", stderr(&bad));
    fx.cleanup().await;
}

/// Several operators and a tampered trail: an apply prepared against an old version is
/// refused (compare-and-set), two applies at once never both land, and an audit entry
/// written around the tools is found by `routes audit verify`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_apply_against_a_version_and_the_audit_trail_shows_tampering() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await; // version 1
    let dir = tempfile::tempdir().unwrap();
    let exported = ctl(&fx, &["routes", "export"]);
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let export = stdout(&exported);
    assert!(export.starts_with("# Interlink routing table, version 1\n"), "{export}");
    let edited = |name: &str, suffix: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            export.replacen("name = \"Bank of China\"", &format!("name = \"Bank of China{suffix}\""), 1),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let (a, b, c, d) =
        (edited("a.toml", " (A)"), edited("b.toml", " (B)"), edited("c.toml", " (C)"), edited("d.toml", " (D)"));

    // Alice applies her edit of version 1; Bob's edit of version 1 is then refused.
    let alice = ctl(&fx, &["routes", "apply", &a, "--operator", "alice", "--reason", "rename"]);
    assert_eq!(alice.status.code(), Some(0), "{}", stderr(&alice));
    assert!(stdout(&alice).contains("applied 1 change(s) as version 2"), "{}", stdout(&alice));
    let bob = ctl(&fx, &["routes", "apply", &b, "--operator", "bob", "--reason", "rename too"]);
    assert_eq!(bob.status.code(), Some(1), "{}", stdout(&bob));
    assert!(
        stderr(&bob).contains("the live routing table is at version 2 (last changed by alice: rename), but this change was prepared against version 1")
            && stderr(&bob).contains("--base-version 2"),
        "{}",
        stderr(&bob)
    );

    // Two operators apply against version 2 at the same moment: exactly one lands.
    let run = |file: &str, who: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
            .args(["--brokers", &fx.kafka.brokers, "--topic-prefix", &fx.prefix])
            .args(["routes", "apply", file, "--operator", who, "--reason", "race", "--base-version", "2"])
            .spawn()
            .unwrap()
    };
    let (carol, dave) = (run(&c, "carol"), run(&d, "dave"));
    let (carol, dave) = (carol.wait_with_output().unwrap(), dave.wait_with_output().unwrap());
    let codes = [carol.status.code(), dave.status.code()];
    assert!(codes.contains(&Some(0)) && codes.contains(&Some(1)), "exactly one apply lands: {codes:?}");
    let show = stdout(&ctl(&fx, &["routes", "show"]));
    assert!(show.starts_with("version 3\n"), "{show}");

    // The trail verifies and prints its head.
    let verified = ctl(&fx, &["routes", "audit", "verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}{}", stdout(&verified), stderr(&verified));
    let out = stdout(&verified);
    assert!(out.contains("audit trail verified: 3 record(s) up to version 3"), "{out}");
    let head = out.lines().find_map(|l| l.strip_prefix("head ")).unwrap().to_string();
    assert_eq!(head.len(), 64);

    // Someone with write access to the audit topic appends a "corrected" version 2.
    let records = fx.read(&fx.topics.routes_audit, 3, Duration::from_secs(10));
    let mut forged: serde_json::Value = serde_json::from_slice(&records[1].1).unwrap();
    forged["reason"] = "approved by the board".into();
    let producer: rdkafka::producer::BaseProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", &fx.kafka.brokers).create().unwrap();
    let bytes = serde_json::to_vec(&forged).unwrap();
    producer.send(rdkafka::producer::BaseRecord::to(&fx.topics.routes_audit).key("2").payload(&bytes)).unwrap();
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
    let broken = ctl(&fx, &["routes", "audit", "verify", "--expect-head", &head]);
    assert_eq!(broken.status.code(), Some(1), "{}", stdout(&broken));
    let out = stdout(&broken);
    assert!(out.contains("audit record 3 (version 2 part 1) names"), "{out}");
    assert!(out.contains("a record before it was edited, removed, reordered or inserted"), "{out}");
    assert!(out.contains("but the trail ends at"), "{out}");
    assert!(stderr(&broken).contains("the audit trail is broken in"), "{}", stderr(&broken));
    fx.cleanup().await;
}
