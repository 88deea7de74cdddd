//! Writes a change set to the routes log: every rule, the closing marker and the
//! audit entry in one Kafka transaction, so workers see all of it at the marker or
//! none of it, and the audit trail never disagrees with the log.

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::{KafkaConfig, TopicsConfig};
use interlink_routing::{AuditEntry, Change, Marker, RouteKey, RouteRecord, MARKER_KEY};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::collections::BTreeMap;

/// Publishes `changes` closed by `marker`. A fixed transactional id per routes topic
/// means two operators applying at once fence each other instead of interleaving.
pub fn publish_change_set(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    changes: &[Change],
    marker: &Marker,
) -> Result<(), KafkaEdgeError> {
    publish_with(&routes_producer(kafka, topics)?, topics, changes, marker)
}

/// The routes topic's one transactional producer, initialised: which also waits until
/// a change set another process committed under the same id is complete (its markers
/// written), so a read of the log after this sees it.
fn routes_producer(kafka: &KafkaConfig, topics: &TopicsConfig) -> Result<BaseProducer, KafkaEdgeError> {
    let producer: BaseProducer = base_client_config(kafka)
        .set("transactional.id", super::acls::routes_transactional_id(&topics.routes))
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?;
    producer.init_transactions(CALL_TIMEOUT)?;
    Ok(producer)
}

fn publish_with(
    producer: &BaseProducer,
    topics: &TopicsConfig,
    changes: &[Change],
    marker: &Marker,
) -> Result<(), KafkaEdgeError> {
    let topic = topics.routes.as_str();
    producer.begin_transaction()?;
    let result = (|| {
        for change in changes {
            let key = change.key().to_string();
            let value = change.new_value().map(serde_json::to_vec).transpose()?;
            let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).partition(0).key(&key);
            if let Some(v) = &value {
                record = record.payload(v);
            }
            send(producer, record)?;
        }
        let marker_bytes = serde_json::to_vec(marker)?;
        send(producer, BaseRecord::to(topic).partition(0).key(MARKER_KEY).payload(&marker_bytes))?;
        let version = marker.version.to_string();
        for part in AuditEntry::new(marker, changes).into_parts() {
            let audit = serde_json::to_vec(&part)?;
            send(
                producer,
                BaseRecord::to(&topics.routes_audit).partition(0).key(version.as_str()).payload(&audit[..]),
            )?;
        }
        producer.commit_transaction(CALL_TIMEOUT)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = producer.abort_transaction(CALL_TIMEOUT);
    }
    result
}

fn send(producer: &BaseProducer, mut record: BaseRecord<'_, str, [u8]>) -> Result<(), KafkaEdgeError> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                producer.poll(std::time::Duration::from_millis(10));
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}

/// What an apply did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct Applied {
    pub changes: Vec<Change>,
    /// The live version before the apply.
    pub previous_version: i64,
    /// The new version; equal to `previous_version` when nothing changed or in a dry run.
    pub version: i64,
}

/// Makes the live table equal to `desired`: reads the live log, computes the
/// changes, and publishes them as the next version (unless `dry_run` or no change).
pub fn apply_rules(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    desired: &[RouteRecord],
    operator: &str,
    reason: &str,
    dry_run: bool,
) -> Result<Applied, KafkaEdgeError> {
    edit_rules(kafka, topics, |_| desired.to_vec(), operator, reason, dry_run)
}

/// Makes the live table what `edit` makes of the live rules, as the next version.
/// The live rules are read after the routes producer is initialised, so a change set
/// committed just before (by this operator or another) is part of what `edit` sees and
/// is never undone by a stale read.
pub fn edit_rules(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    edit: impl FnOnce(&BTreeMap<RouteKey, RouteRecord>) -> Vec<RouteRecord>,
    operator: &str,
    reason: &str,
    dry_run: bool,
) -> Result<Applied, KafkaEdgeError> {
    // A dry run only reads: it must not fence an operator applying at the same time.
    let producer = if dry_run { None } else { Some(routes_producer(kafka, topics)?) };
    let log = super::read_routes_log(kafka, &topics.routes, CALL_TIMEOUT)?;
    let desired = edit(log.rules());
    let changes = interlink_routing::diff(log.rules(), &desired);
    let previous_version = log.version();
    let Some(producer) = producer.filter(|_| !changes.is_empty()) else {
        return Ok(Applied { changes, previous_version, version: previous_version });
    };
    let marker = Marker {
        version: previous_version + 1,
        operator: operator.to_string(),
        reason: reason.to_string(),
        applied_at: interlink_schemas::now_micros(),
        changes: changes.len() as u64,
    };
    publish_with(&producer, topics, &changes, &marker)?;
    Ok(Applied { changes, previous_version, version: marker.version })
}
