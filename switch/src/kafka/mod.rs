//! The Kafka edge of the switch: everything that talks to brokers lives here.

pub mod acls;
pub mod admin;
mod answer_clock;
pub mod changelog;
mod offsets;
pub mod review;
mod routes;
pub mod routes_writer;
mod sink;
mod topic_reader;
mod worker;

pub use routes::{follow_routes, read_routes_log, read_to_end};
pub use sink::wait_for_deliveries;
pub use topic_reader::{read_topics, TopicRecord};
pub use worker::run_worker;

use crate::config::KafkaConfig;
use crate::health::{Health, Part};
use rdkafka::ClientConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Timeout of blocking broker calls (metadata, transaction commits, ...).
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KafkaEdgeError {
    /// Not marked as the source: its text already carries the cause, and chaining
    /// it would print the same message twice.
    #[error("kafka: {0}")]
    Kafka(rdkafka::error::KafkaError),
    #[error("topic {0} does not exist; create it with `interlinkctl topics create`")]
    MissingTopic(String),
    #[error("creating topic {topic}: {code}")]
    CreateTopic { topic: String, code: rdkafka::types::RDKafkaErrorCode },
    #[error("producer fenced: another live worker uses transactional id {0}")]
    Fenced(String),
    #[error("{topic} not read to its end within {within:?}")]
    NotReadToEnd { topic: String, within: Duration },
    #[error("record from unexpected topic {0}")]
    UnexpectedTopic(String),
    #[error("the consumer has no group metadata (not a member of its group)")]
    NoGroupMetadata,
    #[error(transparent)]
    Codec(#[from] interlink_schemas::CodecError),
    #[error(transparent)]
    Encode(#[from] interlink_core::OutputEncodeError),
    #[error("encoding a control record: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "{changelog} has {changelog_partitions} partitions but {input} has {input_partitions}: state must be partitioned like its input (recreate the changelog with {input_partitions} partitions)"
    )]
    NotCoPartitioned { input: String, input_partitions: usize, changelog: String, changelog_partitions: usize },
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
    #[error(transparent)]
    Memory(#[from] interlink_core::memory::MemoryError),
    #[error(
        "the group gave this worker partition numbers of some inputs and not of others; state partition p must go with partition p of every input (partition.assignment.strategy=range)"
    )]
    SplitAssignment,
    #[error(
        "repositioning the consumer failed ({0}); stopping so that a fresh worker starts from the committed offsets"
    )]
    Seek(rdkafka::error::KafkaError),
    #[error(
        "a partition's position is outside its log ({0}): records were deleted before they were decided, or the log was truncated. The worker does not guess where to resume; see docs/operations.md, \"A partition's position is lost\""
    )]
    PositionLost(rdkafka::error::KafkaError),
    #[error(transparent)]
    SchemaRegistry(#[from] interlink_schema_registry::RegistryError),
    #[error(transparent)]
    Screening(#[from] crate::screening::ScreeningError),
    #[error(
        "the live routing table is at version {live} (last changed by {by}: {reason}), but this change was prepared against version {base}: rebase it (diff your file against the live table, then apply with --base-version {live})"
    )]
    StaleBase { base: i64, live: i64, by: String, reason: String },
    #[error(
        "another change set was applied at the same moment and this one was not written: check the live table and run again"
    )]
    ConcurrentApply,
}

/// What a failed Kafka call means for the batch it was part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Try the same again (the broker or the network is briefly away).
    Retriable,
    /// Abort the open transaction, rewind, and re-read the batch.
    Abortable,
    /// The producer cannot go on (fenced, or a fatal transactional error); the worker
    /// stops, and a successor with the same transactional id takes over.
    Fatal,
}

impl KafkaEdgeError {
    pub fn severity(&self) -> Severity {
        match self {
            Self::Kafka(e) => kafka_severity(e),
            Self::Fenced(_) => Severity::Fatal,
            Self::NotReadToEnd { .. } | Self::NoGroupMetadata => Severity::Retriable,
            // A bug or a broken deployment: retrying cannot help.
            Self::MissingTopic(_)
            | Self::CreateTopic { .. }
            | Self::UnexpectedTopic(_)
            | Self::Codec(_)
            | Self::Encode(_)
            | Self::Json(_)
            | Self::NotCoPartitioned { .. }
            | Self::Store(_)
            | Self::Memory(_)
            | Self::Seek(_)
            | Self::PositionLost(_)
            | Self::StaleBase { .. }
            | Self::ConcurrentApply
            | Self::SplitAssignment
            // A configured list that cannot be read: the operator must fix it.
            | Self::Screening(_) => Severity::Fatal,
            // Registration at start already waited for the registry.
            Self::SchemaRegistry(_) => Severity::Fatal,
        }
    }
}

impl KafkaEdgeError {
    /// The brokers (or a coordinator) could not be reached: a reason to wait and try
    /// again, not to stop. Used where the worker starts, so that a worker started
    /// before its brokers waits for them instead of exiting.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Kafka(e) => broker_unreachable(e),
            Self::NotReadToEnd { .. } | Self::NoGroupMetadata => true,
            _ => false,
        }
    }
}

pub(crate) fn broker_unreachable(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(error, KafkaError::Transaction(e) if e.is_retriable())
        || matches!(
            error.rdkafka_error_code(),
            Some(
                C::BrokerTransportFailure
                    | C::Resolve
                    | C::AllBrokersDown
                    | C::OperationTimedOut
                    | C::MessageTimedOut
                    | C::TimedOutQueue
                    | C::LeaderNotAvailable
                    | C::RequestTimedOut
                    | C::BrokerNotAvailable
                    | C::NetworkException
                    | C::CoordinatorLoadInProgress
                    | C::CoordinatorNotAvailable
                    | C::NotCoordinator
            )
        )
}

/// Runs `attempt` until it succeeds, fails for a reason other than unreachable brokers,
/// or `shutdown` (then `None`), telling `health` why `part` waits meanwhile.
pub(crate) fn patiently<T>(
    part: Part,
    health: &Health,
    shutdown: &CancellationToken,
    mut attempt: impl FnMut() -> Result<T, KafkaEdgeError>,
) -> Result<Option<T>, KafkaEdgeError> {
    let mut wait = Duration::from_millis(200);
    loop {
        if shutdown.is_cancelled() {
            return Ok(None);
        }
        match attempt() {
            Ok(value) => {
                health.clear_blocked(part);
                return Ok(Some(value));
            }
            Err(e) if e.is_unreachable() => {
                tracing::warn!(error = %e, %part, retry_ms = wait.as_millis() as u64, "brokers not reached; retrying");
                health.set_blocked(part, format!("brokers not reached ({e}); retrying"));
                let until = std::time::Instant::now() + wait;
                while std::time::Instant::now() < until && !shutdown.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(50));
                }
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                health.set_blocked(part, e.to_string());
                return Err(e);
            }
        }
    }
}

/// Classifies librdkafka's errors the way its transactional API documents them.
pub fn kafka_severity(error: &rdkafka::error::KafkaError) -> Severity {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode;
    if let Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced) = error.rdkafka_error_code() {
        return Severity::Fatal;
    }
    match error {
        KafkaError::Transaction(e) if e.is_fatal() => Severity::Fatal,
        KafkaError::Transaction(e) if e.txn_requires_abort() => Severity::Abortable,
        KafkaError::Transaction(e) if e.is_retriable() => Severity::Retriable,
        _ => Severity::Abortable,
    }
}

impl From<rdkafka::error::KafkaError> for KafkaEdgeError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        KafkaEdgeError::Kafka(e)
    }
}

/// Context of the readers of whole control topics (routes, audit, state changelog):
/// reaching the end of a partition is how their catch-up ends, not an error to log.
pub(crate) struct QuietEof;

impl rdkafka::ClientContext for QuietEof {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF) {
            tracing::error!(%error, reason, "control-topic reader");
        }
    }
}

impl rdkafka::consumer::ConsumerContext for QuietEof {}

/// A reader of a whole topic that assigns its partitions itself: `read_committed`,
/// never commits, reports the end of each partition.
pub(crate) fn control_reader(
    kafka: &KafkaConfig,
    group: &str,
) -> Result<rdkafka::consumer::BaseConsumer<QuietEof>, KafkaEdgeError> {
    Ok(base_client_config(kafka)
        .set("group.id", group) // required by librdkafka; never committed
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create_with_context(QuietEof)?)
}

/// Settings every client shares: brokers, TLS and SASL, plus the operator's extra
/// properties. The password is read here (from its file, when it is one), so every new
/// client gets the current one; rdkafka's `ClientConfig` leaves it out of its `Debug`.
pub fn base_client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    // librdkafka leaves Nagle's algorithm on; with small produce and fetch requests
    // it holds segments for the peer's delayed ACK, about 40 ms a hop.
    c.set("bootstrap.servers", &kafka.brokers).set("socket.nagle.disable", "true");
    let protocol = kafka.security_protocol;
    if protocol != crate::config::SecurityProtocol::Plaintext {
        c.set("security.protocol", protocol.as_str());
    }
    if protocol.is_sasl() {
        c.set("sasl.mechanism", kafka.sasl_mechanism.as_str()).set("sasl.username", &kafka.sasl_username);
        match kafka.sasl_password() {
            Ok(Some(password)) => {
                c.set("sasl.password", password.expose());
            }
            Ok(None) => {}
            // Checked when the configuration was loaded; gone since (a rotated secret
            // mid-write): the client fails to authenticate and says so.
            Err(error) => tracing::error!(%error, "no SASL password for a new Kafka client"),
        }
    }
    if protocol.is_tls() && !kafka.ssl_ca_location.is_empty() {
        c.set("ssl.ca.location", &kafka.ssl_ca_location);
    }
    for (k, v) in &kafka.properties {
        c.set(k, v);
    }
    c
}
