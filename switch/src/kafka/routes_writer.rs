//! Writes a change set to the routes log: every rule and the closing marker in one
//! Kafka transaction, so workers see all of it at the marker or none of it.

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::KafkaConfig;
use crate::routing::{Change, Marker, MARKER_KEY};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

/// Publishes `changes` closed by `marker`. A fixed transactional id per routes topic
/// means two operators applying at once fence each other instead of interleaving.
pub fn publish_change_set(
    kafka: &KafkaConfig,
    topic: &str,
    changes: &[Change],
    marker: &Marker,
) -> Result<(), KafkaEdgeError> {
    let producer: BaseProducer = base_client_config(kafka)
        .set("transactional.id", format!("interlinkctl-routes-{topic}"))
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?;
    producer.init_transactions(CALL_TIMEOUT)?;
    producer.begin_transaction()?;
    let result = (|| {
        for change in changes {
            let key = change.key().to_string();
            let value = change
                .new_value()
                .map(serde_json::to_vec)
                .transpose()
                .map_err(|e| KafkaEdgeError::Other(e.to_string()))?;
            let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).partition(0).key(&key);
            if let Some(v) = &value {
                record = record.payload(v);
            }
            send(&producer, record)?;
        }
        let marker_bytes = serde_json::to_vec(marker).map_err(|e| KafkaEdgeError::Other(e.to_string()))?;
        send(&producer, BaseRecord::to(topic).partition(0).key(MARKER_KEY).payload(&marker_bytes))?;
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
