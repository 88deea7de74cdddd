//! Worker configuration: a TOML file, then `INTERLINK_`-prefixed environment
//! variables (`__` separates sections: `INTERLINK_KAFKA__BROKERS=...`).
//! Unknown keys are rejected so a typo never silently falls back to a default.

pub use interlink_schemas::TopicsConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// What the commit's last request may take to reach the transaction coordinator.
pub const TRANSACTION_MARGIN: Duration = Duration::from_secs(3);
/// The least time a commit gets (deliveries, offsets, the commit itself) after a batch
/// has been open for its full interval.
pub const MIN_COMMIT_TIME: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// How outputs and consumed offsets are committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConsistencyMode {
    /// Outputs and offsets commit in one Kafka transaction: each request yields its
    /// outputs exactly once for `read_committed` readers.
    #[default]
    ExactlyOnce,
    /// Offsets commit after every output of the batch is acknowledged: nothing is
    /// lost, a crash may repeat outputs (de-duplicate on their deterministic ids).
    AtLeastOnce,
}

impl ConsistencyMode {
    /// As configuration files, the command line and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsistencyMode::ExactlyOnce => "exactly-once",
            ConsistencyMode::AtLeastOnce => "at-least-once",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwitchConfig {
    /// Stable identity of this worker instance; its transactional id derives from it,
    /// so a restarted worker fences its previous incarnation. Defaults to the host name.
    pub worker_id: String,
    pub kafka: KafkaConfig,
    pub topics: TopicsConfig,
    pub pipeline: PipelineConfig,
    pub networks: NetworksConfig,
    pub http: HttpConfig,
    pub state: StateConfig,
    pub schemas: SchemasConfig,
    pub risk: RiskConfig,
}

/// Risk controls beyond the routing table's rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// How far a request on a corridor with per-person limits may be stamped
    /// (`created_at`) from the worker's clock: limits count in the period of the
    /// payer's moment, so a request stamped in another day must not count there.
    pub limit_clock_skew_seconds: u64,
    /// Sanctions lists the parties' names are screened against (empty: none): OFAC's
    /// `sdn.csv`, its aliases file `alt.csv`, and the EU consolidated list XML. A file that
    /// is configured but missing or unreadable stops the worker at start.
    pub ofac_sdn: String,
    pub ofac_alt: String,
    pub eu_xml: String,
    /// Score (0 to 1) from which a name matches a listed name.
    pub screening_threshold: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            limit_clock_skew_seconds: interlink_core::pipeline::DEFAULT_LIMIT_CLOCK_SKEW.as_secs(),
            ofac_sdn: String::new(),
            ofac_alt: String::new(),
            eu_xml: String::new(),
            screening_threshold: interlink_screening::Config::default().threshold,
        }
    }
}

/// Where schema ids come from: a Schema Registry, or (no registry) the fixed ids
/// compiled into this build.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchemasConfig {
    /// The registry's Confluent-compatible API (Apicurio:
    /// `http://host:8081/apis/ccompat/v7`). Empty: **fixed-ids mode**, for the smallest
    /// setups, where every producer must frame records with Interlink's built-in ids.
    pub registry_url: String,
}

impl SchemasConfig {
    /// The registry, unless in fixed-ids mode.
    pub fn registry(&self) -> Option<&str> {
        let url = self.registry_url.trim();
        (!url.is_empty()).then_some(url)
    }
}

/// The worker's keyed state: its local cache and the duplicate window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Where the local store lives; each worker uses `<dir>/<changelog topic>/<worker_id>`. A cache only:
    /// deleting it costs a restore from the changelog, nothing else.
    pub dir: std::path::PathBuf,
    /// How long a request's transaction id stays taken (a copy inside the window is
    /// answered as a repeat, or refused with AM05 when its content differs).
    pub duplicate_window_seconds: u64,
    /// The local store's memtable per keyspace (two per partition), in MiB.
    pub memtable_mib: u32,
    /// The local store's block cache, in MiB.
    pub cache_mib: u32,
}

impl Default for StateConfig {
    fn default() -> Self {
        // Like Kafka Streams' `state.dir`: a cache, under the temporary directory
        // unless the operator gives it a disk of its own.
        Self {
            dir: std::env::temp_dir().join("interlink-state"),
            duplicate_window_seconds: 24 * 3600,
            memtable_mib: 8,
            cache_mib: 32,
        }
    }
}

impl StateConfig {
    pub fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.duplicate_window_seconds)
    }

    pub fn store_sizing(&self) -> crate::state::StoreSizing {
        let mib = |m: u32| u64::from(m) << 20;
        crate::state::StoreSizing { memtable_bytes: mib(self.memtable_mib.max(1)), cache_bytes: mib(self.cache_mib) }
    }
}

/// Which destination networks take the two-leg flow through their connector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworksConfig {
    /// For these networks a routed payment leaves as the network's own message on
    /// `interlink.net.<network>.out`, and the network's status report on
    /// `interlink.net.<network>.in` settles it; their `.in` topic also carries payments
    /// the network originates. For other destinations the switch's routing decision
    /// is final (direct settlement).
    pub connected: Vec<String>,
    /// How long a connected network has to send a payment's final status. Past it
    /// the payment is refused to both sides (RJCT AB05) and never settled.
    pub response_deadline_seconds: u64,
    /// An answer is on time if written by the deadline, however late a worker reads
    /// it; a payment times out once its network's answers are read this long past its
    /// deadline. Covers answers that become readable a little after they were written
    /// (transaction commits, the writer's clock ahead of the worker's).
    pub answer_grace_ms: u64,
}

impl Default for NetworksConfig {
    fn default() -> Self {
        Self { connected: Vec::new(), response_deadline_seconds: 60, answer_grace_ms: 500 }
    }
}

impl NetworksConfig {
    pub fn response_deadline(&self) -> Duration {
        Duration::from_secs(self.response_deadline_seconds)
    }

    pub fn answer_grace(&self) -> Duration {
        Duration::from_millis(self.answer_grace_ms)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap servers.
    pub brokers: String,
    pub group_id: String,
    /// Prefix of the worker's transactional id (`<prefix>-<worker_id>`).
    pub transactional_id_prefix: String,
    pub session_timeout_ms: u32,
    pub transaction_timeout_ms: u32,
    /// Extra librdkafka properties for every client, for example security settings.
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub consistency: ConsistencyMode,
    /// A transaction commits after this many input records...
    pub batch_max_records: usize,
    /// ...or after this long, whichever comes first.
    pub batch_max_interval_ms: u64,
    /// Producer linger: the main throughput-versus-latency knob.
    pub linger_ms: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serves /metrics, /healthz and /readyz. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// /healthz reports the worker stuck when records wait and no batch has committed
    /// for this long (with the brokers in reach).
    pub stuck_after_seconds: u64,
}

impl Default for SwitchConfig {
    fn default() -> Self {
        Self {
            risk: RiskConfig::default(),
            worker_id: default_worker_id(),
            kafka: KafkaConfig::default(),
            topics: TopicsConfig::default(),
            pipeline: PipelineConfig::default(),
            networks: NetworksConfig::default(),
            http: HttpConfig::default(),
            state: StateConfig::default(),
            schemas: SchemasConfig::default(),
        }
    }
}

fn default_worker_id() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker-0".to_string())
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            group_id: "interlink-switch".into(),
            transactional_id_prefix: "interlink-switch".into(),
            session_timeout_ms: 10_000,
            transaction_timeout_ms: 30_000,
            properties: BTreeMap::new(),
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            consistency: ConsistencyMode::ExactlyOnce,
            batch_max_records: 2_000,
            batch_max_interval_ms: 100,
            linger_ms: 5,
        }
    }
}

impl PipelineConfig {
    pub fn batch_max_interval(&self) -> Duration {
        Duration::from_millis(self.batch_max_interval_ms)
    }
}

impl KafkaConfig {
    /// The principal the brokers authenticate this client as (`User:<SASL user>`),
    /// when it connects with SASL; `None` for an unauthenticated connection.
    pub fn principal(&self) -> Option<String> {
        let protocol = self.properties.get("security.protocol")?;
        if !protocol.to_ascii_lowercase().starts_with("sasl") {
            return None;
        }
        self.properties.get("sasl.username").map(|user| format!("User:{user}"))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9464)), stuck_after_seconds: 120 }
    }
}

impl SwitchConfig {
    /// Reads `path` (when given) and applies `INTERLINK_*` environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        // Only variables that name a section of this file are configuration; others
        // sharing the prefix (INTERLINK_CONFIG, INTERLINK_BROKERS for the CLI tools)
        // are not. A typo inside a section is still rejected as an unknown key.
        const SECTIONS: [&str; 9] =
            ["worker_id", "kafka", "topics", "pipeline", "networks", "http", "state", "schemas", "risk"];
        let env = figment::providers::Env::prefixed("INTERLINK_")
            .filter(|key| {
                let first = key.as_str().split("__").next().unwrap_or_default().to_ascii_lowercase();
                SECTIONS.contains(&first.as_str())
            })
            .split("__");
        Self::figment(path, env)
    }

    fn figment(path: Option<&Path>, env: figment::providers::Env) -> Result<Self, ConfigError> {
        use figment::providers::{Format, Serialized, Toml};
        let mut fig = figment::Figment::from(Serialized::defaults(SwitchConfig::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            fig = fig.merge(Toml::file(path));
        }
        let config: SwitchConfig = fig.merge(env).extract().map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let p = &self.pipeline;
        if p.batch_max_records == 0 {
            return Err(ConfigError("pipeline.batch_max_records must be at least 1".into()));
        }
        let commit_time = self.transaction_budget().saturating_sub(p.batch_max_interval());
        if commit_time < MIN_COMMIT_TIME {
            return Err(ConfigError(format!(
                "kafka.transaction_timeout_ms ({}) must leave a commit at least {} s after a full batch (pipeline.batch_max_interval_ms {} plus a {} s margin)",
                self.kafka.transaction_timeout_ms,
                MIN_COMMIT_TIME.as_secs(),
                p.batch_max_interval_ms,
                TRANSACTION_MARGIN.as_secs()
            )));
        }
        if p.batch_max_interval_ms == 0 {
            return Err(ConfigError("pipeline.batch_max_interval_ms must be at least 1".into()));
        }
        if self.networks.response_deadline_seconds == 0 {
            return Err(ConfigError("networks.response_deadline_seconds must be at least 1".into()));
        }
        if self.state.duplicate_window_seconds == 0 {
            return Err(ConfigError("state.duplicate_window_seconds must be at least 1".into()));
        }
        if self.worker_id.is_empty() {
            return Err(ConfigError("worker_id must not be empty".into()));
        }
        if self.kafka.brokers.is_empty() {
            return Err(ConfigError("kafka.brokers must not be empty".into()));
        }
        for n in &self.networks.connected {
            if interlink_connectors::connector(n).is_none() {
                return Err(ConfigError(format!("networks.connected: {n:?} has no registered connector")));
            }
        }
        Ok(())
    }

    /// This worker's own local store, for this changelog (a store never meets the
    /// checkpoints of another changelog).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.state.dir.join(&self.topics.state).join(&self.worker_id)
    }

    /// How long a batch's transaction may stay open, from its first record to the end
    /// of its commit: the transaction timeout less the time the commit's last request
    /// may take to reach the coordinator. `validate` keeps at least
    /// [`MIN_COMMIT_TIME`] of it for the commit after a full batch interval.
    pub fn transaction_budget(&self) -> Duration {
        Duration::from_millis(u64::from(self.kafka.transaction_timeout_ms)).saturating_sub(TRANSACTION_MARGIN)
    }

    pub fn transactional_id(&self) -> String {
        format!("{}-{}", self.kafka.transactional_id_prefix, self.worker_id)
    }

    /// The `INTERLINK_*` environment that gives a worker process this configuration
    /// (for tools that start workers: tests, the load test). `kafka.properties` is
    /// not included: its keys contain dots, which environment names cannot nest.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let (k, t, p) = (&self.kafka, &self.topics, &self.pipeline);
        [
            ("WORKER_ID", self.worker_id.clone()),
            ("KAFKA__BROKERS", k.brokers.clone()),
            ("KAFKA__GROUP_ID", k.group_id.clone()),
            ("KAFKA__TRANSACTIONAL_ID_PREFIX", k.transactional_id_prefix.clone()),
            ("KAFKA__SESSION_TIMEOUT_MS", k.session_timeout_ms.to_string()),
            ("KAFKA__TRANSACTION_TIMEOUT_MS", k.transaction_timeout_ms.to_string()),
            ("TOPICS__REQUESTS", t.requests.clone()),
            ("TOPICS__CLEARING", t.clearing.clone()),
            ("TOPICS__NOTIFICATIONS", t.notifications.clone()),
            ("TOPICS__DEAD_LETTERS", t.dead_letters.clone()),
            ("TOPICS__ROUTES", t.routes.clone()),
            ("TOPICS__ROUTES_AUDIT", t.routes_audit.clone()),
            ("TOPICS__FORWARDS", t.forwards.clone()),
            ("TOPICS__NETWORK_PREFIX", t.network_prefix.clone()),
            ("TOPICS__STATE", t.state.clone()),
            ("TOPICS__RETURNS", t.returns.clone()),
            ("TOPICS__RISK_ALERTS", t.risk_alerts.clone()),
            ("TOPICS__SETTLEMENT", t.settlement.clone()),
            ("PIPELINE__CONSISTENCY", p.consistency.as_str().to_string()),
            ("PIPELINE__BATCH_MAX_RECORDS", p.batch_max_records.to_string()),
            ("PIPELINE__BATCH_MAX_INTERVAL_MS", p.batch_max_interval_ms.to_string()),
            ("PIPELINE__LINGER_MS", p.linger_ms.to_string()),
            ("NETWORKS__CONNECTED", format!("[{}]", self.networks.connected.join(","))),
            ("NETWORKS__RESPONSE_DEADLINE_SECONDS", self.networks.response_deadline_seconds.to_string()),
            ("NETWORKS__ANSWER_GRACE_MS", self.networks.answer_grace_ms.to_string()),
            ("HTTP__LISTEN", self.http.listen.to_string()),
            ("HTTP__STUCK_AFTER_SECONDS", self.http.stuck_after_seconds.to_string()),
            ("STATE__DIR", self.state.dir.display().to_string()),
            ("STATE__DUPLICATE_WINDOW_SECONDS", self.state.duplicate_window_seconds.to_string()),
            ("STATE__MEMTABLE_MIB", self.state.memtable_mib.to_string()),
            ("STATE__CACHE_MIB", self.state.cache_mib.to_string()),
            ("SCHEMAS__REGISTRY_URL", self.schemas.registry_url.clone()),
            ("RISK__LIMIT_CLOCK_SKEW_SECONDS", self.risk.limit_clock_skew_seconds.to_string()),
            ("RISK__OFAC_SDN", self.risk.ofac_sdn.clone()),
            ("RISK__OFAC_ALT", self.risk.ofac_alt.clone()),
            ("RISK__EU_XML", self.risk.eu_xml.clone()),
            ("RISK__SCREENING_THRESHOLD", self.risk.screening_threshold.to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("INTERLINK_{key}"), value))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn no_env() -> figment::providers::Env {
        figment::providers::Env::prefixed("INTERLINK_TEST_UNUSED_PREFIX_")
    }

    #[test]
    fn file_values_override_defaults() {
        let f = file(
            "worker_id = \"w1\"\n[kafka]\nbrokers = \"k:1\"\n[pipeline]\nconsistency = \"at-least-once\"\nbatch_max_records = 10\n",
        );
        let c = SwitchConfig::figment(Some(f.path()), no_env()).unwrap();
        assert_eq!(c.worker_id, "w1");
        assert_eq!(c.kafka.brokers, "k:1");
        assert_eq!(c.pipeline.consistency, ConsistencyMode::AtLeastOnce);
        assert_eq!(c.pipeline.batch_max_records, 10);
        assert_eq!(c.topics.requests, "interlink.auth.requests");
        assert_eq!(c.transactional_id(), "interlink-switch-w1");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let f = file("[pipeline]\nbatch_size = 10\n");
        let err = SwitchConfig::figment(Some(f.path()), no_env()).unwrap_err().to_string();
        assert!(err.contains("batch_size"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("switch.toml", "[kafka]\nbrokers = \"file:1\"\n")?;
            jail.set_env("INTERLINK_KAFKA__BROKERS", "env:2");
            jail.set_env("INTERLINK_PIPELINE__BATCH_MAX_RECORDS", "7");
            // Variables of the CLI tools share the prefix and are not configuration.
            jail.set_env("INTERLINK_BROKERS", "cli:3");
            let c = SwitchConfig::load(Some(Path::new("switch.toml"))).unwrap();
            assert_eq!(c.kafka.brokers, "env:2");
            assert_eq!(c.pipeline.batch_max_records, 7);
            // A typo inside a section is still an error.
            jail.set_env("INTERLINK_KAFKA__BROKRS", "x");
            let err = SwitchConfig::load(Some(Path::new("switch.toml"))).unwrap_err().to_string();
            assert!(err.contains("brokrs"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn env_vars_give_a_worker_the_same_configuration() {
        let mut c = SwitchConfig { worker_id: "w-7".into(), ..SwitchConfig::default() };
        c.kafka.brokers = "b1:9092,b2:9092".into();
        c.kafka.session_timeout_ms = 6_000;
        c.topics = TopicsConfig::with_prefix("t1.");
        c.pipeline.consistency = ConsistencyMode::AtLeastOnce;
        c.pipeline.batch_max_interval_ms = 20;
        c.networks.connected = vec!["HK_FPS".into(), "ID_BIFAST".into()];
        c.http.listen = "127.0.0.1:0".parse().unwrap();
        c.risk.limit_clock_skew_seconds = 86_400;
        figment::Jail::expect_with(|jail| {
            for (key, value) in c.env_vars() {
                jail.set_env(key, value);
            }
            let loaded = SwitchConfig::load(None).unwrap();
            assert_eq!(serde_json::to_value(&loaded).unwrap(), serde_json::to_value(&c).unwrap());
            Ok(())
        });
    }

    #[test]
    fn zero_batch_is_rejected() {
        let f = file("[pipeline]\nbatch_max_records = 0\n");
        assert!(SwitchConfig::figment(Some(f.path()), no_env()).is_err());
    }

    /// The annotated default the README points operators to is a valid configuration.
    #[test]
    fn the_shipped_config_file_loads() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/switch.toml"));
        let c = SwitchConfig::figment(Some(path), no_env()).unwrap();
        assert_eq!(c.risk.limit_clock_skew_seconds, 300);
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(SwitchConfig::figment(Some(Path::new("/nonexistent/x.toml")), no_env()).is_err());
    }
}
