//! Through a real Schema Registry (Apicurio, started by `make test`): a bank's own
//! producers, written with Confluent's Python client and its Avro serializers, on two
//! versions of the request schema, are routed, and the bank reads the outcomes back
//! with Confluent's deserializer; an incompatible schema is refused by the registry and
//! by `interlinkctl schemas check`; a record framed with an id the registry never gave
//! is dead-lettered with that reason.

mod common;

use common::{wait_ready, Fixture};
use interlink_schemas::{registry, Codec, DeadLetter, ErrorKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn python(python: &Path, args: &[&str]) -> Output {
    Command::new(python)
        .arg(repo("tests/python/registry_client.py"))
        .args(args)
        .output()
        .expect("the Python client runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banks_own_avro_producers_on_two_schema_versions_are_served_through_the_registry() {
    interlink_testkit::require_broker!();
    let registry_url = interlink_testkit::require_registry!();
    let Some(py) = interlink_testkit::schema_registry::test_python() else { return };
    let fx = Fixture::new(3).await;
    let mut config = fx.switch_config("w-registry");
    config.schemas.registry_url = registry_url.clone();
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;
    let brokers = fx.kafka.brokers.clone();
    let schema = repo("schemas/authorization_request.avsc");
    let schema = schema.to_str().unwrap();

    // Six requests from a v1 producer and four from a v2 one (an added optional field).
    let v1 = python(&py, &["produce", &brokers, &registry_url, &fx.topics.requests, schema, "py1", "6"]);
    assert!(v1.status.success(), "{}{}", stdout(&v1), String::from_utf8_lossy(&v1.stderr));
    let v2 = python(&py, &["produce", &brokers, &registry_url, &fx.topics.requests, schema, "py2", "4", "--v2"]);
    assert!(v2.status.success(), "{}{}", stdout(&v2), String::from_utf8_lossy(&v2.stderr));
    let id_of = |o: &Output| -> u64 {
        let line: serde_json::Value = serde_json::from_str(stdout(o).trim()).unwrap();
        line["schema_id"].as_u64().unwrap()
    };
    assert_ne!(id_of(&v1), id_of(&v2), "two versions, two ids");

    // The bank reads the notifications with Confluent's deserializer: both sides of
    // each of the ten payments, accepted.
    let read = python(&py, &["consume", &brokers, &registry_url, &fx.topics.notifications, "20", "90"]);
    let notes: Vec<serde_json::Value> =
        stdout(&read).lines().map(|l| serde_json::from_str(l).expect("one JSON record per line")).collect();
    assert_eq!(notes.len(), 20, "{}{}", stdout(&read), String::from_utf8_lossy(&read.stderr));
    let mut per_tx: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in &notes {
        assert_eq!(n["status"], "ACCC", "{n}");
        per_tx.entry(n["transaction_id"].as_str().unwrap().to_string()).or_default().push(n["party"].to_string());
    }
    let expected: Vec<String> =
        (0..6).map(|i| format!("py1-{i:03}")).chain((0..4).map(|i| format!("py2-{i:03}"))).collect();
    assert_eq!(per_tx.keys().cloned().collect::<Vec<_>>(), expected);
    assert!(per_tx.values().all(|parties| parties.len() == 2), "{per_tx:?}");
    // Framed with the id the registry gave the switch's Notification schema.
    let client = interlink_schema_registry::RegistryClient::new(&registry_url, Duration::from_secs(5)).unwrap();
    let catalog = interlink_schema_registry::register_writers(
        &client,
        &fx.topics,
        &[&registry::NOTIFICATION_V2, &registry::DEAD_LETTER_V1],
        Duration::from_secs(10),
    )
    .unwrap();
    let notification_id = u64::from(catalog.id_of(&registry::NOTIFICATION_V2).unwrap());
    assert!(notes.iter().all(|n| n["schema_id"] == notification_id), "{notes:?}");
    assert_ne!(notification_id, 302, "not the fixed id");

    // A schema that adds a field without a default breaks BACKWARD compatibility:
    // refused by the registry and by `interlinkctl schemas check`.
    let mut bad: serde_json::Value = serde_json::from_str(registry::AUTHORIZATION_REQUEST_V1.text).unwrap();
    bad["fields"].as_array_mut().unwrap().push(serde_json::json!({"name": "branch_code", "type": "string"}));
    let bad_file = std::env::temp_dir().join(format!("{}bad.avsc", fx.topics.requests));
    std::fs::write(&bad_file, bad.to_string()).unwrap();
    let subject = format!("{}-value", fx.topics.requests);
    let refused = python(&py, &["register", &registry_url, &subject, bad_file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(stdout(&refused).contains("409"), "{}", stdout(&refused));
    let check = Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(["schemas", "--registry", &registry_url, "--topic-prefix", &fx.prefix, "check"])
        .args(["--record", "AuthorizationRequest", bad_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("incompatible"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let good = Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(["schemas", "--registry", &registry_url, "--topic-prefix", &fx.prefix, "check"])
        .args(["--record", "AuthorizationRequest", schema])
        .output()
        .unwrap();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));

    // An id the registry never gave: dead-lettered as unknown, not stalled.
    let mut unknown = vec![0, 0x7f, 0xff, 0xff, 0x01];
    unknown.extend_from_slice(
        &Codec::<interlink_schemas::AuthorizationRequest>::new()
            .unwrap()
            .encode(&common::request("ghost-1", "004", 100))
            .unwrap()[5..],
    );
    fx.produce(&[("ghost-1", unknown)], None);
    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(60));
    assert_eq!(dead.len(), 1);
    let letter = Codec::<DeadLetter>::with_catalog(&catalog).unwrap().decode(&dead[0].1).unwrap();
    assert_eq!(letter.error_kind, ErrorKind::Decode);
    assert!(letter.error_message.contains("schema id 2147483393 is unknown"), "{}", letter.error_message);

    // The settlement commands read what the switch framed with the registry's ids: the
    // sample's ten schemes net their first (empty) cycles at the worker's first sweep.
    let status = |registry: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_interlinkctl"));
        c.args(["--brokers", &brokers, "--topic-prefix", &fx.prefix, "settlement"])
            .env_remove("INTERLINK_SCHEMA_REGISTRY");
        if let Some(url) = registry {
            c.args(["--schema-registry", url]);
        }
        c.args(["status", "--format", "json"]).output().unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = status(Some(&registry_url));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let netted = json["schemes"].as_array().unwrap().iter().filter(|s| !s["last_netted"].is_null()).count();
        if netted == 10 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{json:#}");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Without the registry the records' ids mean nothing: refused, not misread.
    let blind = status(None);
    assert_eq!(blind.status.code(), Some(2), "{}", String::from_utf8_lossy(&blind.stdout));
    assert!(String::from_utf8_lossy(&blind.stderr).contains("is not a SettlementRecord"), "{blind:?}");

    switch.stop().await.unwrap();
    fx.cleanup().await;
}

/// Every schema version in the repository registers, oldest first, under the real
/// registry's BACKWARD rule: an incompatible change to an `.avsc` fails here.
#[test]
fn every_schema_version_of_the_repository_registers_in_order() {
    let registry_url = interlink_testkit::require_registry!();
    let prefix = format!("avsc{}.", std::process::id());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
            .args(["schemas", "--registry", &registry_url, "--topic-prefix", &prefix])
            .args(args)
            .output()
            .unwrap()
    };
    let registered = run(&["register"]);
    let out = stdout(&registered);
    assert!(registered.status.success(), "{out}{}", String::from_utf8_lossy(&registered.stderr));
    assert_eq!(out.lines().count(), registry::ALL.len(), "{out}");
    let listed = stdout(&run(&["list"]));
    let expected =
        [("clearing-value", 3), ("notifications-value", 2), ("auth.requests-value", 3), ("risk.alerts-value", 2)];
    for (subject, versions) in expected {
        let subject = format!("{prefix}interlink.{subject}");
        let n = listed.lines().filter(|l| l.split_whitespace().next() == Some(subject.as_str())).count();
        assert_eq!(n, versions, "{subject} in {listed}");
    }
    // Registering again changes nothing: the same ids.
    assert_eq!(stdout(&run(&["register"])), out);
}
