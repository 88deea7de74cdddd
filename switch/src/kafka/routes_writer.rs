//! Writes a change set to the routes log: every rule, the closing marker and the
//! audit entry in one Kafka transaction, so workers see all of it at the marker or
//! none of it, and the audit trail never disagrees with the log.

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::{KafkaConfig, TopicsConfig};
use interlink_routing::{chain_parts, AuditEntry, Change, Marker, RouteKey, RouteRecord, MARKER_KEY};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::collections::BTreeMap;

/// Publishes `changes` closed by `marker` as the first change set of an empty routes
/// log (tools that build a log from nothing); its audit chain starts here.
pub fn publish_change_set(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    changes: &[Change],
    marker: &Marker,
) -> Result<(), KafkaEdgeError> {
    publish_with(&routes_producer(kafka, topics)?, topics, changes, marker.clone(), None)
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

/// Writes the change set, its marker and its audit records in one transaction. The
/// audit records are chained after `previous_head` (the last marker's anchor) and the
/// marker anchors the new head.
fn publish_with(
    producer: &BaseProducer,
    topics: &TopicsConfig,
    changes: &[Change],
    mut marker: Marker,
    previous_head: Option<&str>,
) -> Result<(), KafkaEdgeError> {
    let topic = topics.routes.as_str();
    let (audit_records, head) = chain_parts(AuditEntry::new(&marker, changes).into_parts(), previous_head)?;
    marker.audit_head = Some(head);
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
        let marker_bytes = serde_json::to_vec(&marker)?;
        send(producer, BaseRecord::to(topic).partition(0).key(MARKER_KEY).payload(&marker_bytes))?;
        let version = marker.version.to_string();
        for audit in &audit_records {
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

/// Who asks for a change set, and on what it is based.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeRequest<'a> {
    /// What the person gave as their name (the audit trail also records the
    /// authenticated principal, when the tool connected with credentials).
    pub operator: &'a str,
    pub reason: &'a str,
    /// Compute and show the changes, write nothing.
    pub dry_run: bool,
    /// The version the change was prepared against: the apply is refused if the live
    /// table has moved on since (compare-and-set), so no one undoes a change they have
    /// not seen. `None` applies against whatever is live.
    pub base_version: Option<i64>,
}

/// Makes the live table equal to `desired`: reads the live log, computes the
/// changes, and publishes them as the next version (unless `dry_run` or no change).
pub fn apply_rules(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    desired: &[RouteRecord],
    request: ChangeRequest<'_>,
) -> Result<Applied, KafkaEdgeError> {
    edit_rules(kafka, topics, |_| desired.to_vec(), request)
}

/// Makes the live table what `edit` makes of the live rules, as the next version.
/// The live rules are read after the routes producer is initialised, so a change set
/// committed just before (by this operator or another) is part of what `edit` sees and
/// is never undone by a stale read; two operators applying at once fence each other
/// (one fixed transactional id), and the one fenced is told to run again.
pub fn edit_rules(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    edit: impl FnOnce(&BTreeMap<RouteKey, RouteRecord>) -> Vec<RouteRecord>,
    request: ChangeRequest<'_>,
) -> Result<Applied, KafkaEdgeError> {
    // A dry run only reads: it must not fence an operator applying at the same time.
    let producer = if request.dry_run { None } else { Some(routes_producer(kafka, topics)?) };
    let log = super::read_routes_log(kafka, &topics.routes, CALL_TIMEOUT)?;
    let previous_version = log.version();
    if let Some(base) = request.base_version.filter(|&b| b != previous_version) {
        let (by, reason) = log.last_marker().map_or((String::new(), String::new()), |m| {
            (m.principal.clone().unwrap_or_else(|| m.operator.clone()), m.reason.clone())
        });
        return Err(KafkaEdgeError::StaleBase { base, live: previous_version, by, reason });
    }
    let desired = edit(log.rules());
    let changes = interlink_routing::diff(log.rules(), &desired);
    let Some(producer) = producer.filter(|_| !changes.is_empty()) else {
        return Ok(Applied { changes, previous_version, version: previous_version });
    };
    let marker = Marker {
        version: previous_version + 1,
        operator: request.operator.to_string(),
        reason: request.reason.to_string(),
        applied_at: interlink_schemas::now_micros(),
        changes: changes.len() as u64,
        principal: kafka.principal().map(|user| format!("User:{user}")),
        audit_head: None,
    };
    let previous_head = log.last_marker().and_then(|m| m.audit_head.as_deref());
    publish_with(&producer, topics, &changes, marker, previous_head).map_err(|e| match e {
        KafkaEdgeError::Kafka(k) if super::kafka_severity(&k) == super::Severity::Fatal => {
            KafkaEdgeError::ConcurrentApply
        }
        other => other,
    })?;
    Ok(Applied { changes, previous_version, version: previous_version + 1 })
}
