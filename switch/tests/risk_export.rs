//! `interlinkctl risk export` against the real broker: alerts of two corridors, one
//! refused before routing, one of the previous Hong Kong day and a record that is not
//! Avro, on a topic of the test's own; the exported files, row by row.

mod common;

use common::{ctl, Fixture};
use interlink_schemas::{Agent, Amount, Codec, RiskAction, RiskAlert, RiskControl};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::admin::delete_topics;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const CN_HK: &str = "CN_IBPS>HK_FPS:CNY-HKD";
const SG_HK: &str = "SG_FAST>HK_FPS:SGD-HKD";

/// The one place this test builds a `RiskAlert` (its schema grows: a merge touches only
/// this).
fn alert(
    tx: &str,
    control: RiskControl,
    action: RiskAction,
    corridor: Option<&str>,
    amount: Amount,
    decided_at: &str,
    explanation: &str,
) -> RiskAlert {
    RiskAlert {
        alert_id: format!("{tx}:RISK:{}", control.as_str()),
        transaction_id: tx.into(),
        end_to_end_id: format!("E2E-{tx}"),
        control,
        rule: format!("rule-{tx}"),
        action,
        reason_code: if action == RiskAction::Alerted { String::new() } else { "RR04".into() },
        explanation: explanation.into(),
        routing_version: 7,
        corridor: corridor.map(String::from),
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        creditor_agent: corridor.map(|_| Agent::new("HK_FPS", "004")),
        amount,
        decided_at: decided_at.parse::<jiff::Timestamp>().unwrap().as_microsecond(),
        review_key: None,
        review_deadline: None,
    }
}

/// Runs interlinkctl; returns (exit code, stdout, stderr).
fn run(fx: &Fixture, args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = ctl(fx, args);
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stdout).into(), String::from_utf8_lossy(&stderr).into())
}

/// The files of `dir`, by name, with their text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let e = e.unwrap();
                    (e.file_name().into_string().unwrap(), std::fs::read_to_string(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A fixture with only the alerts topic (two partitions), under a prefix of the test's
/// own; and that topic's name.
async fn alerts_topic() -> (Fixture, String) {
    let prefix = format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let kafka = KafkaConfig { brokers: common::brokers(), ..KafkaConfig::default() };
    let fx = Fixture { prefix: prefix.clone(), kafka, topics: TopicsConfig::with_prefix(&prefix) };
    let topic = fx.topics.risk_alerts.clone();
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", &fx.kafka.brokers).create().unwrap();
    let created = admin
        .create_topics(&[NewTopic::new(&topic, 2, TopicReplication::Fixed(1))], &AdminOptions::new())
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    (fx, topic)
}

const HEADER: &str = "alert_id,decided_at,transaction_id,end_to_end_id,control,rule,action,reason_code,\
explanation,routing_version,corridor,debtor_network,debtor_institution,creditor_network,creditor_institution,\
amount,currency\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hong_kong_day_of_alerts_is_exported_per_corridor() {
    interlink_testkit::require_broker!();
    let (fx, topic) = alerts_topic().await;

    let codec = Codec::<RiskAlert>::new().unwrap();
    let cny = |minor| Amount::new(minor, "CNY");
    let alerts = [
        alert(
            "tx-hk-late",
            RiskControl::Limit,
            RiskAction::Refused,
            Some(CN_HK),
            cny(6_000_000),
            "2026-12-01T09:30:00+08:00",
            r#"limit "cn-hk-daily" (v7): 60000.00 CNY today, above 50000.00"#,
        ),
        // The day's first microsecond.
        alert(
            "tx-hk-first",
            RiskControl::Block,
            RiskAction::Refused,
            Some(CN_HK),
            cny(150),
            "2026-12-01T00:00:00+08:00",
            "institution blocked",
        ),
        // The day's last microsecond, in another corridor.
        alert(
            "tx-sg",
            RiskControl::Limit,
            RiskAction::Alerted,
            Some(SG_HK),
            Amount::new(123_456, "SGD"),
            "2026-12-01T23:59:59.999999+08:00",
            "amount above the usual",
        ),
        // Refused before routing: no corridor, no creditor.
        alert(
            "tx-alias",
            RiskControl::Block,
            RiskAction::Refused,
            None,
            cny(1_000),
            "2026-12-01T12:00:00+08:00",
            "alias blocked",
        ),
        // The previous Hong Kong day (but 2026-11-30 in UTC too), and the next.
        alert(
            "tx-yesterday",
            RiskControl::Limit,
            RiskAction::Refused,
            Some(CN_HK),
            cny(1),
            "2026-11-30T23:59:59.999999+08:00",
            "yesterday",
        ),
        alert(
            "tx-tomorrow",
            RiskControl::Limit,
            RiskAction::Refused,
            Some(CN_HK),
            cny(2),
            "2026-12-02T00:00:00+08:00",
            "tomorrow",
        ),
    ];
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &fx.kafka.brokers).create().unwrap();
    // The bad record first, so that it is at offset 0 of partition 0.
    producer.send(BaseRecord::to(&topic).key("tx-bad").payload(&b"not avro"[..]).partition(0)).unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    for a in &alerts {
        let value = codec.encode(a).unwrap();
        producer.send(BaseRecord::to(&topic).key(&a.transaction_id).payload(&value)).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("hk");
    let dir_arg = dir.to_str().unwrap();
    let (code, stdout, stderr) =
        run(&fx, &["risk", "export", "--day", "2026-12-01", "--time-zone", "Asia/Hong_Kong", "--out", dir_arg]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("{topic} partition 0 offset 0: not a RiskAlert")), "{stderr}");
    assert!(stderr.contains("1 unreadable record(s) of 7"), "{stderr}");
    let cn_hk_file = "risk-alerts-2026-12-01-CN_IBPS.HK_FPS.CNY-HKD.csv";
    let sg_hk_file = "risk-alerts-2026-12-01-SG_FAST.HK_FPS.SGD-HKD.csv";
    let unrouted_file = "risk-alerts-2026-12-01-unrouted.csv";
    let expected = vec![
        (
            cn_hk_file.to_string(),
            format!(
                "{HEADER}\
                 tx-hk-first:RISK:BLOCK,2026-12-01T00:00:00.000000+08:00,tx-hk-first,E2E-tx-hk-first,BLOCK,\
                 rule-tx-hk-first,REFUSED,RR04,institution blocked,7,{CN_HK},CN_IBPS,102100099996,HK_FPS,004,1.50,CNY\r\n\
                 tx-hk-late:RISK:LIMIT,2026-12-01T09:30:00.000000+08:00,tx-hk-late,E2E-tx-hk-late,LIMIT,\
                 rule-tx-hk-late,REFUSED,RR04,\"limit \"\"cn-hk-daily\"\" (v7): 60000.00 CNY today, above 50000.00\",\
                 7,{CN_HK},CN_IBPS,102100099996,HK_FPS,004,60000.00,CNY\r\n"
            ),
        ),
        (
            sg_hk_file.to_string(),
            format!(
                "{HEADER}\
                 tx-sg:RISK:LIMIT,2026-12-01T23:59:59.999999+08:00,tx-sg,E2E-tx-sg,LIMIT,rule-tx-sg,ALERTED,,\
                 amount above the usual,7,{SG_HK},CN_IBPS,102100099996,HK_FPS,004,1234.56,SGD\r\n"
            ),
        ),
        (
            unrouted_file.to_string(),
            format!(
                "{HEADER}\
                 tx-alias:RISK:BLOCK,2026-12-01T12:00:00.000000+08:00,tx-alias,E2E-tx-alias,BLOCK,rule-tx-alias,\
                 REFUSED,RR04,alias blocked,7,,CN_IBPS,102100099996,,,10.00,CNY\r\n"
            ),
        ),
    ];
    assert_eq!(files(&dir), expected);
    assert_eq!(
        stdout,
        format!(
            "risk alerts on 2026-12-01 in Asia/Hong_Kong (2026-12-01T00:00:00.000000+08:00 to \
             2026-12-02T00:00:00.000000+08:00): 4 in 3 file(s) in {dir_arg}\n\
             {CN_HK}: 2 alert(s) in {cn_hk_file}\n\
             \x20 BLOCK      REFUSED  1\n\
             \x20 LIMIT      REFUSED  1\n\
             {SG_HK}: 1 alert(s) in {sg_hk_file}\n\
             \x20 LIMIT      ALERTED  1\n\
             unrouted: 1 alert(s) in {unrouted_file}\n\
             \x20 BLOCK      REFUSED  1\n"
        )
    );

    // --strict: the same files, and exit 1 for the bad record.
    let strict = out.path().join("strict");
    let strict_arg = strict.to_str().unwrap();
    let (code, _, stderr) = run(
        &fx,
        &["risk", "export", "--day", "2026-12-01", "--time-zone", "Asia/Hong_Kong", "--strict", "--out", strict_arg],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("1 unreadable record(s)") && stderr.contains("--strict"), "{stderr}");
    assert_eq!(files(&strict), expected);

    // In UTC, JSON lines, one corridor: the same SG alert, at its UTC time; the CN-HK
    // alert of the next Hong Kong day is on this UTC day, and filtered out here.
    let utc = out.path().join("utc");
    let (code, stdout, stderr) = run(
        &fx,
        &[
            "risk",
            "export",
            "--day",
            "2026-12-01",
            "--corridor",
            SG_HK,
            "--format",
            "jsonl",
            "--out",
            utc.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let written = files(&utc);
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].0, "risk-alerts-2026-12-01-SG_FAST.HK_FPS.SGD-HKD.jsonl");
    let row: serde_json::Value = serde_json::from_str(written[0].1.strip_suffix('\n').unwrap()).unwrap();
    assert_eq!(row["decided_at"], "2026-12-01T15:59:59.999999+00:00");
    assert_eq!((row["amount"].as_str(), row["reason_code"].as_str()), (Some("1234.56"), Some("")));
    assert_eq!(row["routing_version"], 7);

    // A day without alerts: no files, said so, exit 0.
    let empty = out.path().join("empty");
    let (code, stdout, stderr) = run(&fx, &["risk", "export", "--day", "2026-12-05", "--out", empty.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("no risk alerts on 2026-12-05 in UTC ") && stdout.contains("no files written"),
        "{stdout}"
    );
    assert!(!empty.exists());

    let _ = delete_topics(&fx.kafka, &[&topic]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_framed_with_the_registry_s_id_are_read_with_schema_registry() {
    interlink_testkit::require_broker!();
    let registry_url = interlink_testkit::require_registry!();
    let (fx, topic) = alerts_topic().await;
    // Framed as a worker with a registry frames them (the subject is this test's own).
    let client = interlink_schema_registry::RegistryClient::new(&registry_url, Duration::from_secs(5)).unwrap();
    let catalog = interlink_schema_registry::register_writers(
        &client,
        &fx.topics,
        &[&interlink_schemas::registry::RISK_ALERT_V2],
        Duration::from_secs(10),
    )
    .unwrap();
    let a = alert(
        "tx-reg",
        RiskControl::Sanctions,
        RiskAction::Refused,
        Some(CN_HK),
        Amount::new(99, "CNY"),
        "2026-12-01T08:00:00Z",
        "OFAC-1001",
    );
    let value = Codec::<RiskAlert>::with_catalog(&catalog).unwrap().encode(&a).unwrap();
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &fx.kafka.brokers).create().unwrap();
    producer.send(BaseRecord::to(&topic).key("tx-reg").payload(&value)).map_err(|(e, _)| e).unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, stdout, stderr) = run(
        &fx,
        &["risk", "export", "--day", "2026-12-01", "--strict", "--schema-registry", &registry_url, "--out", dir],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let written = files(out.path());
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].0, "risk-alerts-2026-12-01-CN_IBPS.HK_FPS.CNY-HKD.csv");
    assert_eq!(
        written[0].1,
        format!(
            "{HEADER}tx-reg:RISK:SANCTIONS,2026-12-01T08:00:00.000000+00:00,tx-reg,E2E-tx-reg,SANCTIONS,rule-tx-reg,\
             REFUSED,RR04,OFAC-1001,7,{CN_HK},CN_IBPS,102100099996,HK_FPS,004,0.99,CNY\r\n"
        )
    );

    let _ = delete_topics(&fx.kafka, &[&topic]).await;
}
