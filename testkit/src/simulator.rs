//! Network simulators: each plays one national payment system at Interlink's edge. It
//! reads the switch's messages on `interlink.net.<network>.out` with the network's own
//! connector, decides as the network would (a configurable acceptance rate and mix of
//! reject reasons, deterministic per transaction so a verifier can predict it), and
//! answers with the network's status report on `interlink.net.<network>.in` after a
//! configurable latency. It also counts the status reports it receives for payments
//! it originated.

use interlink_connectors::IsoReason;
use interlink_connectors::{CanonicalStatus, PaymentStatus};
use interlink_schemas::TopicsConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{DefaultProducerContext, Producer, ThreadedProducer};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    pub brokers: String,
    pub topics: TopicsConfig,
    pub network: String,
    /// Payments accepted per thousand; the rest are rejected.
    pub accept_per_mille: u32,
    /// ISO 20022 reasons of rejections, chosen per transaction.
    pub reject_reasons: Vec<String>,
    /// Time between reading a payment and answering.
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimulatorStats {
    /// Payments the simulated network accepted and rejected.
    pub accepted: u64,
    pub rejected: u64,
    /// Final status reports received for payments this network originated.
    pub origin_statuses: u64,
    pub unreadable: u64,
}

/// The network's answer for a transaction: `None` accepts, `Some(reason)` rejects.
/// Deterministic, so tests and load runs know each outcome in advance.
pub fn decision(wire_transaction_id: &str, accept_per_mille: u32, reject_reasons: &[String]) -> Option<String> {
    // FNV-1a: stable across runs and platforms.
    let hash = wire_transaction_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    if hash % 1000 < u64::from(accept_per_mille) || reject_reasons.is_empty() {
        None
    } else {
        Some(reject_reasons[(hash / 1000) as usize % reject_reasons.len()].clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("no connector for {0}")]
    UnknownNetwork(String),
    #[error("simulator kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("simulator reject reason: {0}")]
    Reason(#[from] interlink_vocab::InvalidReasonCode),
    #[error("simulator status report: {0}")]
    Encode(#[from] interlink_connectors::ConnectorError),
}

/// Runs until `stop` is set.
pub fn run(opts: &SimulatorOptions, stop: Arc<AtomicBool>) -> Result<SimulatorStats, SimulatorError> {
    let connector = interlink_connectors::connector(&opts.network)
        .ok_or_else(|| SimulatorError::UnknownNetwork(opts.network.clone()))?;
    let consumer: BaseConsumer = crate::kafka::client(&opts.brokers)
        .set("group.id", format!("{}simulator-{}", opts.topics.network_prefix, opts.network))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "20")
        .create()?;
    consumer.subscribe(&[&opts.topics.network_out(&opts.network)])?;
    let producer: ThreadedProducer<DefaultProducerContext> = crate::kafka::client(&opts.brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "2")
        // Reports keyed by the payment's wire id land, as the Java client would put
        // them, on the partition that holds the payment in flight.
        .set("partitioner", "murmur2_random")
        .create()?;
    let reply_topic = opts.topics.network_in(&opts.network);
    let mut due: VecDeque<(Instant, String, Vec<u8>)> = VecDeque::new();
    let mut stats = SimulatorStats::default();
    let mut sequence = 0u64;
    while !stop.load(Ordering::Relaxed) || !due.is_empty() {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(10)) {
            let message = m.payload().unwrap_or_default();
            if connector.decode_status(message).is_ok() {
                // The final status of a payment this network sent.
                stats.origin_statuses += 1;
                continue;
            }
            match connector.decode_payment(message) {
                Ok(payment) => {
                    sequence += 1;
                    let reason = decision(&payment.transaction_id, opts.accept_per_mille, &opts.reject_reasons);
                    let status = CanonicalStatus {
                        message_id: format!("SIM{}{sequence:08}", opts.network.chars().take(2).collect::<String>()),
                        created_at: interlink_schemas::now_micros(),
                        original_message_id: payment.message_id.clone(),
                        original_end_to_end_id: payment.end_to_end_id.clone(),
                        original_transaction_id: payment.transaction_id.clone(),
                        original_uetr: payment.uetr.clone(),
                        status: if reason.is_some() { PaymentStatus::RJCT } else { PaymentStatus::ACCC },
                        reason: reason.as_deref().map(IsoReason::parse).transpose()?,
                        additional_info: reason
                            .as_ref()
                            .map(|r| format!("{} simulator rejected with {r}", opts.network)),
                        instructing_agent: None,
                        instructed_agent: None,
                    };
                    if reason.is_some() {
                        stats.rejected += 1
                    } else {
                        stats.accepted += 1
                    }
                    let bytes = connector.encode_status(&status)?;
                    due.push_back((Instant::now() + opts.latency, payment.transaction_id, bytes));
                }
                Err(e) => {
                    stats.unreadable += 1;
                    tracing::warn!(network = %opts.network, error = %e, "simulator could not read a message");
                }
            }
        }
        while due.front().is_some_and(|(at, _, _)| *at <= Instant::now()) {
            let (_, key, bytes) = due.pop_front().expect("front exists");
            crate::kafka::send(&producer, &reply_topic, key.as_bytes(), &bytes)?;
        }
        if stop.load(Ordering::Relaxed) && consumer.poll(Duration::ZERO).is_none() && due.is_empty() {
            break;
        }
    }
    producer.flush(Duration::from_secs(10))?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_deterministic_and_follow_the_rate() {
        let reasons = vec!["AC04".to_string(), "AM04".to_string()];
        let ids: Vec<String> = (0..10_000).map(|i| format!("tx{i}")).collect();
        let rejected: Vec<_> = ids.iter().filter_map(|id| decision(id, 900, &reasons)).collect();
        assert!((800..1200).contains(&rejected.len()), "{}", rejected.len());
        assert!(rejected.iter().any(|r| r == "AC04") && rejected.iter().any(|r| r == "AM04"));
        assert_eq!(decision("tx1", 900, &reasons), decision("tx1", 900, &reasons));
        assert!(ids.iter().all(|id| decision(id, 1000, &reasons).is_none()));
    }
}
