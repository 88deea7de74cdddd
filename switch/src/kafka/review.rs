//! Sends an operator's review of a held payment to the partition holding it: one
//! record on the forwards topic, keyed by the held request's key and partitioned as the
//! workers check (murmur2), delivered once (idempotent producer, all replicas).

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::{KafkaConfig, TopicsConfig};
use interlink_core::review::ReviewCommand;
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};
use std::sync::Mutex;

/// Remembers how the one record's delivery ended.
#[derive(Default)]
struct Delivery(Mutex<Option<Result<(i32, i64), rdkafka::error::KafkaError>>>);

impl ClientContext for Delivery {}

impl ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let ended = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(ended);
    }
}

/// Writes `review` under `review_key` (the HELD alert's `review_key`) and waits for the
/// brokers to have it: the partition and offset it was written at.
pub fn send_review(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    review_key: &str,
    review: &ReviewCommand,
) -> Result<(i32, i64), KafkaEdgeError> {
    let producer: BaseProducer<Delivery> = base_client_config(kafka)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // The Java client's partitioner: the workers refuse a record off its key's partition.
        .set("partitioner", "murmur2_random")
        .create_with_context(Delivery::default())?;
    let payload = review.encode()?;
    producer
        .send(BaseRecord::<'_, str, [u8]>::to(&topics.forwards).key(review_key).payload(&payload))
        .map_err(|(e, _)| e)?;
    producer.flush(CALL_TIMEOUT)?;
    let delivered = producer.context().0.lock().unwrap_or_else(|e| e.into_inner()).take();
    match delivered {
        Some(result) => Ok(result?),
        None => Err(KafkaEdgeError::NotReadToEnd { topic: topics.forwards.clone(), within: CALL_TIMEOUT }),
    }
}
