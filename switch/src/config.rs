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
    /// What a sanctions hit does: refuse the payment (RR04) at once, or hold it for an
    /// operator's review.
    pub screening_action: ScreeningAction,
    /// Distinct names whose screening result each worker remembers (0: none): a name's
    /// result against the loaded lists never changes, and payers and payees recur.
    pub screening_cache_names: usize,
    /// How long a payment held for review waits for an operator's decision before it is
    /// refused with the reason of the rule that held it.
    pub review_timeout_seconds: u64,
}

/// What a sanctions hit does to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningAction {
    #[default]
    Refuse,
    Hold,
}

impl ScreeningAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Hold => "hold",
        }
    }
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            limit_clock_skew_seconds: interlink_core::pipeline::DEFAULT_LIMIT_CLOCK_SKEW.as_secs(),
            ofac_sdn: String::new(),
            ofac_alt: String::new(),
            eu_xml: String::new(),
            screening_threshold: interlink_screening::Config::default().threshold,
            screening_action: ScreeningAction::Refuse,
            screening_cache_names: 100_000,
            review_timeout_seconds: interlink_core::pipeline::DEFAULT_REVIEW_TIMEOUT.as_secs(),
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
    /// How clients reach the brokers: plaintext (default), ssl, sasl_plaintext, sasl_ssl.
    pub security_protocol: SecurityProtocol,
    /// SASL mechanism (with a `sasl_*` protocol): SCRAM-SHA-512 (default), SCRAM-SHA-256, PLAIN.
    pub sasl_mechanism: SaslMechanism,
    /// The SASL user: the principal (`User:<name>`) the brokers' ACLs name.
    pub sasl_username: String,
    /// The SASL password, best given in the environment (`INTERLINK_KAFKA__SASL_PASSWORD`,
    /// read verbatim); never printed. Set this or `sasl_password_file`, not both.
    pub sasl_password: Secret,
    /// A file holding the SASL password (trailing whitespace ignored), read each time a
    /// client is made, so a rotated password is picked up by the next client.
    pub sasl_password_file: String,
    /// PEM file of the CA(s) that signed the brokers' certificates (with ssl or
    /// sasl_ssl); empty: the system's trust store.
    pub ssl_ca_location: String,
    /// Extra librdkafka properties for every client. Secrets (`sasl.password`, ...) and
    /// the properties the keys above own are refused here.
    pub properties: BTreeMap<String, String>,
}

/// A credential. Its `Debug`, `Display` and serialized forms are `***` (empty when
/// unset), so it never reaches a log, a debug print or a configuration dump; only
/// [`Secret::expose`] gives the text, for the one place that hands it to a client.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// How a set secret is shown.
    pub const MASK: &'static str = "***";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret itself: only for handing it to the client that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn shown(&self) -> &'static str {
        if self.0.is_empty() {
            ""
        } else {
            Self::MASK
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.shown())
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.shown())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.shown())
    }
}

/// librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    #[default]
    #[serde(alias = "PLAINTEXT")]
    Plaintext,
    #[serde(alias = "SSL")]
    Ssl,
    #[serde(alias = "SASL_PLAINTEXT")]
    SaslPlaintext,
    #[serde(alias = "SASL_SSL")]
    SaslSsl,
}

impl SecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    pub fn is_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    pub fn is_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

/// librdkafka's `sasl.mechanism` (the ones Interlink supports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "SCRAM-SHA-256", alias = "scram-sha-256")]
    ScramSha256,
    #[default]
    #[serde(rename = "SCRAM-SHA-512", alias = "scram-sha-512")]
    ScramSha512,
    #[serde(rename = "PLAIN", alias = "plain")]
    Plain,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::Plain => "PLAIN",
        }
    }
}

/// librdkafka properties that hold secrets: never in `kafka.properties`, whose values
/// are plain text.
const SECRET_PROPERTIES: [&str; 6] = [
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.truststore.password",
    "sasl.oauthbearer.client.secret",
    "ssl.key.pem",
];

/// librdkafka properties the typed keys of `[kafka]` set.
const TYPED_PROPERTIES: [(&str, &str); 5] = [
    ("security.protocol", "security_protocol"),
    ("sasl.mechanism", "sasl_mechanism"),
    ("sasl.mechanisms", "sasl_mechanism"),
    ("sasl.username", "sasl_username"),
    ("ssl.ca.location", "ssl_ca_location"),
];

/// The environment variable of the SASL password, read verbatim (figment would parse
/// `123456` as a number and `"x"` without its quotes).
pub const SASL_PASSWORD_VAR: &str = "INTERLINK_KAFKA__SASL_PASSWORD";

impl KafkaConfig {
    /// The `[kafka]` section of a TOML file (other sections are ignored, so the
    /// switch's own file will do), then `INTERLINK_KAFKA__*` environment overrides:
    /// what the command-line tools connect with.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env = figment::providers::Env::prefixed("INTERLINK_KAFKA__").split("__");
        Self::figment(path, env, std::env::var(SASL_PASSWORD_VAR).ok())
    }

    fn figment(
        path: Option<&Path>,
        env: figment::providers::Env,
        password: Option<String>,
    ) -> Result<Self, ConfigError> {
        use figment::providers::{Format, Serialized, Toml};
        let mut fig = figment::Figment::from(Serialized::defaults(KafkaConfig::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            fig = fig.merge(figment::Figment::from(Toml::file(path)).focus("kafka"));
        }
        let env = env.filter(|key| !key.as_str().eq_ignore_ascii_case("sasl_password"));
        let mut config: KafkaConfig = fig.merge(env).extract().map_err(|e| ConfigError(e.to_string()))?;
        config.password_from_env(password);
        config.check()?;
        Ok(config)
    }

    /// Takes the password from its environment variable's text, when set and not empty.
    fn password_from_env(&mut self, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.sasl_password = Secret::new(value);
        }
    }

    /// The authenticated principal's name (`User:<name>` to the brokers' ACLs) when the
    /// clients authenticate with SASL; `None` otherwise.
    pub fn principal(&self) -> Option<&str> {
        let user = self.sasl_username.trim();
        (self.security_protocol.is_sasl() && !user.is_empty()).then_some(user)
    }

    /// The SASL password: `sasl_password`, or the content of `sasl_password_file`.
    pub fn sasl_password(&self) -> Result<Option<Secret>, ConfigError> {
        if !self.sasl_password.is_empty() {
            return Ok(Some(self.sasl_password.clone()));
        }
        if self.sasl_password_file.is_empty() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.sasl_password_file)
            .map_err(|e| ConfigError(format!("kafka.sasl_password_file {}: {e}", self.sasl_password_file)))?;
        let password = text.trim_end();
        if password.is_empty() {
            return Err(ConfigError(format!("kafka.sasl_password_file {} is empty", self.sasl_password_file)));
        }
        Ok(Some(Secret::new(password)))
    }

    /// The security settings make sense together, and the files they name are there.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.brokers.is_empty() {
            return Err(ConfigError("kafka.brokers must not be empty".into()));
        }
        for key in self.properties.keys() {
            if SECRET_PROPERTIES.contains(&key.as_str()) {
                return Err(ConfigError(format!(
                    "kafka.properties.{key:?} would hold a secret in plain text; use kafka.sasl_password_file or INTERLINK_KAFKA__SASL_PASSWORD"
                )));
            }
            if let Some((_, typed)) = TYPED_PROPERTIES.iter().find(|(p, _)| p == key) {
                return Err(ConfigError(format!("kafka.properties.{key:?}: set kafka.{typed} instead")));
            }
        }
        let protocol = self.security_protocol;
        if protocol.is_sasl() {
            if self.sasl_username.trim().is_empty() {
                return Err(ConfigError(format!(
                    "kafka.security_protocol {} needs kafka.sasl_username",
                    protocol.as_str()
                )));
            }
            if !self.sasl_password.is_empty() && !self.sasl_password_file.is_empty() {
                return Err(ConfigError(
                    "kafka.sasl_password and kafka.sasl_password_file are both set; keep one".into(),
                ));
            }
            if self.sasl_password()?.is_none() {
                return Err(ConfigError(format!(
                    "kafka.security_protocol {} needs a password: kafka.sasl_password_file or INTERLINK_KAFKA__SASL_PASSWORD",
                    protocol.as_str()
                )));
            }
            if self.sasl_password.expose() == Secret::MASK {
                return Err(ConfigError(
                    "kafka.sasl_password is the mask of a configuration dump, not a password".into(),
                ));
            }
        } else if !self.sasl_username.is_empty()
            || !self.sasl_password.is_empty()
            || !self.sasl_password_file.is_empty()
        {
            return Err(ConfigError(format!(
                "SASL credentials are set but kafka.security_protocol is {} (sasl_plaintext or sasl_ssl uses them)",
                protocol.as_str()
            )));
        }
        if !self.ssl_ca_location.is_empty() {
            if !protocol.is_tls() {
                return Err(ConfigError(format!(
                    "kafka.ssl_ca_location is set but kafka.security_protocol is {} (ssl or sasl_ssl uses it)",
                    protocol.as_str()
                )));
            }
            if !Path::new(&self.ssl_ca_location).is_file() {
                return Err(ConfigError(format!("kafka.ssl_ca_location {} is not a file", self.ssl_ca_location)));
            }
        }
        Ok(())
    }

    /// The `INTERLINK_KAFKA__*` environment that gives a process (a worker, a
    /// pass-through) these settings, except `properties` (dotted keys cannot be
    /// nested in variable names). Every key is set, so that nothing inherited from the
    /// parent's environment mixes in. Carries the password itself only when it was not
    /// given as a file: never log these values.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        [
            ("BROKERS", self.brokers.clone()),
            ("GROUP_ID", self.group_id.clone()),
            ("TRANSACTIONAL_ID_PREFIX", self.transactional_id_prefix.clone()),
            ("SESSION_TIMEOUT_MS", self.session_timeout_ms.to_string()),
            ("TRANSACTION_TIMEOUT_MS", self.transaction_timeout_ms.to_string()),
            ("SECURITY_PROTOCOL", self.security_protocol.as_str().to_string()),
            ("SASL_MECHANISM", self.sasl_mechanism.as_str().to_string()),
            ("SASL_USERNAME", self.sasl_username.clone()),
            ("SASL_PASSWORD", self.sasl_password.expose().to_string()),
            ("SASL_PASSWORD_FILE", self.sasl_password_file.clone()),
            ("SSL_CA_LOCATION", self.ssl_ca_location.clone()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("INTERLINK_KAFKA__{key}"), value))
        .collect()
    }
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
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::ScramSha512,
            sasl_username: String::new(),
            sasl_password: Secret::default(),
            sasl_password_file: String::new(),
            ssl_ca_location: String::new(),
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
        Self::figment_with_password(path, env, std::env::var(SASL_PASSWORD_VAR).ok())
    }

    #[cfg(test)]
    fn figment(path: Option<&Path>, env: figment::providers::Env) -> Result<Self, ConfigError> {
        Self::figment_with_password(path, env, None)
    }

    fn figment_with_password(
        path: Option<&Path>,
        env: figment::providers::Env,
        password: Option<String>,
    ) -> Result<Self, ConfigError> {
        use figment::providers::{Format, Serialized, Toml};
        let mut fig = figment::Figment::from(Serialized::defaults(SwitchConfig::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            fig = fig.merge(Toml::file(path));
        }
        // The password is taken verbatim from its variable, never parsed as a value.
        // (The key as split into sections: `kafka.sasl_password`.)
        let env = env.filter(|key| !key.as_str().replace("__", ".").eq_ignore_ascii_case("kafka.sasl_password"));
        let mut config: SwitchConfig = fig.merge(env).extract().map_err(|e| ConfigError(e.to_string()))?;
        config.kafka.password_from_env(password);
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
        // A held request's memo must outlive its hold, or a copy sent after the memo
        // expired would be decided as new while the first is still held.
        let review = self.risk.review_timeout_seconds;
        if review == 0 || review > self.state.duplicate_window_seconds {
            return Err(ConfigError(format!(
                "risk.review_timeout_seconds ({review}) must be at least 1 and at most state.duplicate_window_seconds ({})",
                self.state.duplicate_window_seconds
            )));
        }
        if self.worker_id.is_empty() {
            return Err(ConfigError("worker_id must not be empty".into()));
        }
        self.kafka.check()?;
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
    /// Carries the SASL password when it was not given as a file (see
    /// [`KafkaConfig::env_vars`]): never log these values.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let (t, p) = (&self.topics, &self.pipeline);
        let mut vars = self.kafka.env_vars();
        vars.extend(
            [
                ("WORKER_ID", self.worker_id.clone()),
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
                ("RISK__SCREENING_ACTION", self.risk.screening_action.as_str().to_string()),
                ("RISK__SCREENING_CACHE_NAMES", self.risk.screening_cache_names.to_string()),
                ("RISK__REVIEW_TIMEOUT_SECONDS", self.risk.review_timeout_seconds.to_string()),
            ]
            .into_iter()
            .map(|(key, value)| (format!("INTERLINK_{key}"), value)),
        );
        vars
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

    fn sasl(password_file: &Path) -> KafkaConfig {
        KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl_username: "worker".into(),
            sasl_password_file: password_file.display().to_string(),
            ..KafkaConfig::default()
        }
    }

    #[test]
    fn secrets_never_print() {
        let k = KafkaConfig { sasl_password: Secret::new("hunter2-correct-horse"), ..KafkaConfig::default() };
        let config = SwitchConfig { kafka: k.clone(), ..SwitchConfig::default() };
        for shown in [
            format!("{config:?}"),
            format!("{:#?}", config),
            format!("{}", k.sasl_password),
            serde_json::to_string(&config).unwrap(),
            toml::to_string(&config).unwrap(),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert!(format!("{k:?}").contains("sasl_password: \"***\""));
        assert_eq!(k.sasl_password.expose(), "hunter2-correct-horse");
        // Unset shows as unset, so defaults serialize (and load back) as empty.
        assert_eq!(format!("{}", Secret::default()), "");
        // A dumped configuration loaded back does not pass a mask off as a password.
        let dumped = KafkaConfig { security_protocol: SecurityProtocol::SaslSsl, sasl_username: "w".into(), ..k };
        let back: KafkaConfig = serde_json::from_str(&serde_json::to_string(&dumped).unwrap()).unwrap();
        assert!(back.check().unwrap_err().to_string().contains("mask"));
    }

    #[test]
    fn security_settings_are_checked_together() {
        let pw = file("s3cret-from-file\n");
        let ok = sasl(pw.path());
        ok.check().unwrap();
        assert_eq!(ok.principal(), Some("worker"));
        assert_eq!(ok.sasl_password().unwrap().unwrap().expose(), "s3cret-from-file");
        assert_eq!(KafkaConfig::default().principal(), None);

        let err = |k: KafkaConfig| k.check().unwrap_err().to_string();
        assert!(err(KafkaConfig { sasl_username: String::new(), ..ok.clone() }).contains("sasl_username"));
        assert!(err(KafkaConfig { sasl_password_file: String::new(), ..ok.clone() }).contains("needs a password"));
        assert!(err(KafkaConfig { sasl_password: Secret::new("x"), ..ok.clone() }).contains("both set"));
        assert!(
            err(KafkaConfig { sasl_password_file: "/nonexistent/pw".into(), ..ok.clone() }).contains("/nonexistent/pw")
        );
        assert!(err(KafkaConfig { security_protocol: SecurityProtocol::Plaintext, ..ok.clone() })
            .contains("SASL credentials are set"));
        let ca = KafkaConfig { ssl_ca_location: "/nonexistent/ca.pem".into(), ..ok.clone() };
        assert!(err(ca.clone()).contains("not a file"));
        assert!(
            err(KafkaConfig { security_protocol: SecurityProtocol::SaslPlaintext, ..ca }).contains("ssl or sasl_ssl")
        );
        let mut props = ok.clone();
        props.properties.insert("sasl.password".into(), "x".into());
        assert!(err(props).contains("secret in plain text"));
        let mut props = ok;
        props.properties.insert("security.protocol".into(), "SASL_SSL".into());
        assert!(err(props).contains("kafka.security_protocol"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn tools_read_the_kafka_section_and_the_password_verbatim() {
        figment::Jail::expect_with(|jail| {
            let dir = jail.directory().to_path_buf();
            jail.create_file("ca.pem", "not really a certificate")?;
            jail.create_file(
                "switch.toml",
                &format!(
                    "worker_id = \"w\"\n[kafka]\nbrokers = \"k:9\"\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-256\"\nsasl_username = \"operator\"\nssl_ca_location = \"{}\"\n[pipeline]\nbatch_max_records = 3\n",
                    dir.join("ca.pem").display()
                ),
            )?;
            // A password a value parser would read as a number: kept as written.
            jail.set_env("INTERLINK_KAFKA__SASL_PASSWORD", "0012345");
            let k = KafkaConfig::load(Some(Path::new("switch.toml"))).unwrap();
            assert_eq!((k.brokers.as_str(), k.sasl_mechanism), ("k:9", SaslMechanism::ScramSha256));
            assert_eq!(k.sasl_password.expose(), "0012345");
            assert_eq!(k.principal(), Some("operator"));
            // The switch reads the same file and variables alike.
            let c = SwitchConfig::load(Some(Path::new("switch.toml"))).unwrap();
            assert_eq!(c.kafka.sasl_password.expose(), "0012345");
            // A worker started with env_vars() gets the same security settings.
            for (key, value) in c.env_vars() {
                jail.set_env(key, value);
            }
            let again = SwitchConfig::load(None).unwrap();
            assert_eq!(serde_json::to_value(&again).unwrap(), serde_json::to_value(&c).unwrap());
            assert_eq!(again.kafka.sasl_password.expose(), "0012345");
            Ok(())
        });
    }
}
