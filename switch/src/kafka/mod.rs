//! The Kafka edge of the switch: everything that talks to brokers lives here.

pub mod admin;
mod in_flight;
mod routes;
pub mod routes_writer;
mod sink;
mod worker;

pub use routes::{follow_routes, read_routes_log, read_to_end};
pub use sink::wait_for_deliveries;
pub use worker::run_worker;

use crate::config::KafkaConfig;
use rdkafka::ClientConfig;
use std::time::Duration;

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
    #[error("producer fenced: another live worker uses transactional id {0}")]
    Fenced(String),
    #[error("{0}")]
    Other(String),
}

impl From<rdkafka::error::KafkaError> for KafkaEdgeError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        KafkaEdgeError::Kafka(e)
    }
}

/// Context of the readers of whole control topics (routes, audit, payments in flight):
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

/// Settings every client shares: brokers plus the operator's extra properties.
pub fn base_client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    // librdkafka leaves Nagle's algorithm on; with small produce and fetch requests
    // it holds segments for the peer's delayed ACK, about 40 ms a hop.
    c.set("bootstrap.servers", &kafka.brokers).set("socket.nagle.disable", "true");
    for (k, v) in &kafka.properties {
        c.set(k, v);
    }
    c
}
