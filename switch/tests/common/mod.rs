//! Shared set-up for tests against the real broker started by `scripts/kafka up`
//! (`make test` does it). Every test gets its own topics and consumer group.

#![allow(dead_code)]

pub mod settlement;

use interlink_routing::{parse_routes_file, RouteRecord};
use interlink_schemas::{Agent, Amount, AuthorizationRequest, Channel, Codec};
use interlink_switch::config::{KafkaConfig, SwitchConfig, TopicsConfig};
use interlink_switch::kafka::admin::{delete_topics, ensure_topics, TopicLayout};
use interlink_switch::kafka::routes_writer::{apply_rules, ChangeRequest};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The test broker; every test calls `interlink_testkit::require_broker!()` first, so
/// one is there.
pub fn brokers() -> String {
    interlink_testkit::broker::test_brokers().expect("tests start with require_broker!()")
}

pub fn sample_rules() -> Vec<RouteRecord> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    parse_routes_file("sample.toml", &text).unwrap()
}

/// Topics and a group of this test's own, with the sample routing table applied.
pub struct Fixture {
    pub prefix: String,
    pub kafka: KafkaConfig,
    pub topics: TopicsConfig,
}

impl Fixture {
    pub async fn new(partitions: i32) -> Self {
        let prefix = format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let kafka = KafkaConfig { brokers: brokers(), group_id: format!("{prefix}switch"), ..KafkaConfig::default() };
        let topics = TopicsConfig::with_prefix(&prefix);
        ensure_topics(&kafka, &topics, TopicLayout::with_replication(partitions, 1))
            .await
            .expect("the test broker is up (run `scripts/kafka up` or `make test`)");
        let fixture = Self { prefix, kafka, topics };
        assert_eq!(fixture.apply_routes(&sample_rules()), 1);
        fixture
    }

    /// Makes the live table equal to `rules`; returns the new version.
    pub fn apply_routes(&self, rules: &[RouteRecord]) -> i64 {
        apply_rules(
            &self.kafka,
            &self.topics,
            rules,
            ChangeRequest { operator: "test", reason: "test", ..Default::default() },
        )
        .unwrap()
        .version
    }

    /// A worker configuration for this fixture: HTTP on a free port, short batches.
    pub fn switch_config(&self, worker_id: &str) -> SwitchConfig {
        let mut c = SwitchConfig {
            worker_id: worker_id.into(),
            kafka: self.kafka.clone(),
            topics: self.topics.clone(),
            ..SwitchConfig::default()
        };
        c.kafka.transactional_id_prefix = format!("{}switch", self.prefix);
        c.kafka.session_timeout_ms = 6_000;
        c.http.listen = "127.0.0.1:0".parse().unwrap();
        c.pipeline.batch_max_interval_ms = 50;
        // Each worker's local store under this test's own directory.
        c.state.dir = self.state_dir();
        c
    }

    /// Where this test's workers keep their local state stores.
    pub fn state_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("interlink-{}state", self.prefix))
    }

    pub fn load_options(&self, count: u64) -> interlink_testkit::RunOptions {
        interlink_testkit::RunOptions {
            kafka: interlink_testkit::kafka::Connection::from_config(interlink_switch::kafka::base_client_config(
                &self.kafka,
            )),
            topics: self.topics.clone(),
            load: interlink_testkit::Load::Burst(count),
            mix: interlink_testkit::Mix::default(),
            seed: 42,
            timeout: Duration::from_secs(90),
            network_legs: interlink_testkit::NetworkLegs::default(),
            simulate: false,
            schema_registry: None,
            quiet: None,
        }
    }

    /// Produces raw records to the requests topic, optionally to one partition.
    pub fn produce(&self, records: &[(&str, Vec<u8>)], partition: Option<i32>) {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.kafka.brokers)
            .set("partitioner", "murmur2_random")
            .create()
            .unwrap();
        for (key, value) in records {
            let mut r = BaseRecord::to(&self.topics.requests).key(*key).payload(&value[..]);
            if let Some(p) = partition {
                r = r.partition(p);
            }
            producer.send(r).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();
    }

    /// Reads `topic` from the beginning with read_committed until `count` records
    /// arrived, then a little longer to catch any extra record.
    pub fn read(&self, topic: &str, count: usize, timeout: Duration) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.kafka.brokers)
            .set("group.id", format!("{}reader-{}", self.prefix, uuid::Uuid::new_v4()))
            .set("isolation.level", "read_committed")
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        let mut settle: Option<Instant> = None;
        while Instant::now() < deadline && settle.is_none_or(|s| Instant::now() < s) {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                out.push((m.key().map(<[u8]>::to_vec), m.payload().unwrap_or_default().to_vec()));
            }
            if out.len() >= count && settle.is_none() {
                settle = Some(Instant::now() + Duration::from_secs(2));
            }
        }
        out
    }

    /// [`Self::read`], decoded as the event the topic carries.
    pub fn read_events<T: interlink_schemas::Event>(&self, topic: &str, count: usize, timeout: Duration) -> Vec<T> {
        let codec = Codec::<T>::new().unwrap();
        self.read(topic, count, timeout).iter().map(|(_, v)| codec.decode(v).unwrap()).collect()
    }

    pub async fn cleanup(self) {
        let t = &self.topics;
        let mut all: Vec<String> = [
            &t.requests,
            &t.clearing,
            &t.notifications,
            &t.dead_letters,
            &t.routes,
            &t.routes_audit,
            &t.forwards,
            &t.state,
            &t.returns,
            &t.risk_alerts,
            &t.settlement,
        ]
        .map(String::clone)
        .to_vec();
        all.extend(
            interlink_connectors::connectors()
                .flat_map(|c| [t.network_in(c.profile().id), t.network_out(c.profile().id)]),
        );
        let _ = delete_topics(&self.kafka, &all.iter().map(String::as_str).collect::<Vec<_>>()).await;
        let _ = std::fs::remove_dir_all(self.state_dir());
    }
}

pub fn request(tx: &str, creditor: &str, minor: i64) -> AuthorizationRequest {
    AuthorizationRequest {
        transaction_id: tx.into(),
        end_to_end_id: format!("E2E-{tx}"),
        created_at: interlink_schemas::now_micros(),
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222020200112233445".into(),
        creditor_agent: Some(Agent::new("HK_FPS", creditor)),
        creditor_account: Some("004-123456-001".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(minor, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    }
}

pub fn encode(r: &AuthorizationRequest) -> Vec<u8> {
    Codec::<AuthorizationRequest>::new().unwrap().encode(r).unwrap()
}

/// Waits until the worker reports ready with partitions assigned.
pub async fn wait_ready(switch: &interlink_switch::RunningSwitch) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(switch.health().ready() && switch.health().assigned_partitions() > 0) {
        assert!(Instant::now() < deadline, "worker not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A minimal HTTP GET, enough for the worker's own endpoints.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    try_http_get(addr, path).await.unwrap()
}

/// [`http_get`] that reports a worker not answering instead of failing the test.
pub async fn try_http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).await?;
    let mut body = String::new();
    s.read_to_string(&mut body).await?;
    Ok(body)
}

/// A port nothing listens on now, for a worker process's HTTP endpoints.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The switch binary with `config`, logging to `log_name` in the test's directory.
pub fn spawn_configured(config: &interlink_switch::SwitchConfig, log_name: &str) -> Child {
    let log = std::fs::File::create(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(log_name)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_interlink-switch"))
        .envs(config.env_vars())
        .env("RUST_LOG", "info,rdkafka=warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("switch binary starts")
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The real `interlinkctl`, pointed at this fixture's broker and topics.
pub fn ctl(fx: &Fixture, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(["--brokers", &fx.kafka.brokers, "--topic-prefix", &fx.prefix])
        .args(args)
        .output()
        .expect("interlinkctl runs")
}

/// A network's ACCC for the payment it knows as `wire`.
pub fn accc(message_id: &str, wire: &str, end_to_end_id: &str) -> interlink_connectors::CanonicalStatus {
    interlink_connectors::CanonicalStatus {
        message_id: message_id.into(),
        created_at: interlink_schemas::now_micros(),
        original_message_id: wire.into(),
        original_end_to_end_id: end_to_end_id.into(),
        original_transaction_id: wire.into(),
        original_uetr: None,
        status: interlink_connectors::PaymentStatus::ACCC,
        reason: None,
        additional_info: None,
        instructing_agent: None,
        instructed_agent: None,
        original_amount: None,
    }
}
