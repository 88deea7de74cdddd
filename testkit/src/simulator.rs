//! Network simulators: each plays one national payment system at Interlink's edge. It
//! reads the switch's messages on `interlink.net.<network>.out` with the network's own
//! connector, decides as the network would (a configurable acceptance rate and mix of
//! reject reasons, deterministic per transaction so a verifier can predict it), and
//! answers with the network's status report on `interlink.net.<network>.in` after a
//! configurable latency. A share of payments can be left unanswered or answered only
//! after the switch's response deadline ([`LateAnswers`]), again deterministic per
//! transaction. It also counts the status reports it receives for payments it
//! originated.

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
    /// The brokers, and how to authenticate to them (as the network's principal).
    pub kafka: crate::kafka::Connection,
    pub topics: TopicsConfig,
    pub network: String,
    /// Payments accepted per thousand; the rest are rejected.
    pub accept_per_mille: u32,
    /// ISO 20022 reasons of rejections, chosen per transaction.
    pub reject_reasons: Vec<String>,
    /// Time between reading a payment and answering.
    pub latency: Duration,
    /// Payments never answered, or answered too late.
    pub late_answers: LateAnswers,
}

/// Payments a network leaves unanswered or answers late, so that a run can prove the
/// switch's response deadline: chosen per transaction by [`punctuality`], so the
/// generator knows in advance which payments must time out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LateAnswers {
    /// Payments never answered, per thousand.
    pub silent_per_mille: u32,
    /// Payments accepted (ACCC) only `late_by` after they were read, per thousand.
    pub late_per_mille: u32,
    /// How long a late answer waits; past the switch's deadline (plus its sweep) for
    /// the answer to be late.
    pub late_by: Duration,
}

/// When the network answers a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Punctuality {
    /// After the simulator's usual latency, as [`decision`] says.
    OnTime,
    /// ACCC after [`LateAnswers::late_by`].
    Late,
    /// Never.
    Silent,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimulatorStats {
    /// Payments the simulated network accepted and rejected in time.
    pub accepted: u64,
    pub rejected: u64,
    /// Payments left unanswered, and accepted late.
    pub silent: u64,
    pub late: u64,
    /// Final status reports received for payments this network originated.
    pub origin_statuses: u64,
    /// Returns (pacs.004) received: payments it accepted after the switch's deadline.
    pub returns: u64,
    pub unreadable: u64,
}

/// The network's answer for a transaction: `None` accepts, `Some(reason)` rejects.
/// Deterministic, so tests and load runs know each outcome in advance.
pub fn decision(wire_transaction_id: &str, accept_per_mille: u32, reject_reasons: &[String]) -> Option<String> {
    let hash = fnv1a(wire_transaction_id);
    if hash % 1000 < u64::from(accept_per_mille) || reject_reasons.is_empty() {
        None
    } else {
        Some(reject_reasons[(hash / 1000) as usize % reject_reasons.len()].clone())
    }
}

/// Whether the network answers a transaction in time, late or never. Deterministic like
/// [`decision`], from other bits of the same hash, so that the payments that time out
/// are spread over accepted and rejected ones alike.
pub fn punctuality(wire_transaction_id: &str, late: &LateAnswers) -> Punctuality {
    let roll = (fnv1a(wire_transaction_id) >> 40) % 1000;
    if roll < u64::from(late.silent_per_mille) {
        Punctuality::Silent
    } else if roll < u64::from(late.silent_per_mille + late.late_per_mille) {
        Punctuality::Late
    } else {
        Punctuality::OnTime
    }
}

/// FNV-1a: stable across runs and platforms.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
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
    let consumer: BaseConsumer = crate::kafka::client(&opts.kafka)
        // Under the network's own `.out` topic name: the groups its ACLs allow.
        .set("group.id", format!("{}.simulator", opts.topics.network_out(&opts.network)))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "20")
        .create()?;
    consumer.subscribe(&[&opts.topics.network_out(&opts.network)])?;
    let producer: ThreadedProducer<DefaultProducerContext> = crate::kafka::client(&opts.kafka)
        .set("enable.idempotence", "true")
        .set("linger.ms", "2")
        // Reports keyed by the payment's wire id land, as the Java client would put
        // them, on the partition that holds the payment in flight.
        .set("partitioner", "murmur2_random")
        .create()?;
    let reply_topic = opts.topics.network_in(&opts.network);
    // Two queues, each in the order its answers fall due (one delay per queue).
    let mut due: VecDeque<(Instant, String, Vec<u8>)> = VecDeque::new();
    let mut late: VecDeque<(Instant, String, Vec<u8>)> = VecDeque::new();
    let mut stats = SimulatorStats::default();
    let mut sequence = 0u64;
    while !stop.load(Ordering::Relaxed) || !due.is_empty() || !late.is_empty() {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(10)) {
            let message = m.payload().unwrap_or_default();
            if connector.decode_status(message).is_ok() {
                // The final status of a payment this network sent.
                stats.origin_statuses += 1;
                continue;
            }
            if connector.decode_return(message).is_ok() {
                // The switch sends back what this network accepted too late.
                stats.returns += 1;
                continue;
            }
            match connector.decode_payment(message) {
                Ok(payment) => {
                    let (reason, queue, at) = match punctuality(&payment.transaction_id, &opts.late_answers) {
                        Punctuality::Silent => {
                            stats.silent += 1;
                            continue;
                        }
                        Punctuality::Late => {
                            stats.late += 1;
                            (None, &mut late, Instant::now() + opts.late_answers.late_by)
                        }
                        Punctuality::OnTime => {
                            let reason = decision(&payment.transaction_id, opts.accept_per_mille, &opts.reject_reasons);
                            if reason.is_some() {
                                stats.rejected += 1
                            } else {
                                stats.accepted += 1
                            }
                            (reason, &mut due, Instant::now() + opts.latency)
                        }
                    };
                    sequence += 1;
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
                        // As a network repeating the payment's reference would.
                        original_amount: Some(payment.settlement_amount().clone()),
                    };
                    let bytes = connector.encode_status(&status)?;
                    queue.push_back((at, payment.transaction_id, bytes));
                }
                Err(e) => {
                    stats.unreadable += 1;
                    tracing::warn!(network = %opts.network, error = %e, "simulator could not read a message");
                }
            }
        }
        for queue in [&mut due, &mut late] {
            while queue.front().is_some_and(|(at, _, _)| *at <= Instant::now()) {
                let (_, key, bytes) = queue.pop_front().expect("front exists");
                crate::kafka::send(&producer, &reply_topic, key.as_bytes(), &bytes)?;
            }
        }
        if stop.load(Ordering::Relaxed) && consumer.poll(Duration::ZERO).is_none() && due.is_empty() && late.is_empty()
        {
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

    #[test]
    fn punctuality_is_deterministic_follows_the_rates_and_spares_no_decision() {
        let late = LateAnswers { silent_per_mille: 50, late_per_mille: 20, late_by: Duration::from_secs(5) };
        let ids: Vec<String> = (0..20_000).map(|i| format!("tx{i}")).collect();
        let count = |p: Punctuality| ids.iter().filter(|id| punctuality(id, &late) == p).count();
        let (silent, late_ones) = (count(Punctuality::Silent), count(Punctuality::Late));
        assert!((800..1200).contains(&silent), "{silent}");
        assert!((300..500).contains(&late_ones), "{late_ones}");
        assert_eq!(punctuality("tx7", &late), punctuality("tx7", &late));
        assert!(ids.iter().all(|id| punctuality(id, &LateAnswers::default()) == Punctuality::OnTime));
        // Timed-out payments fall on accepted and rejected decisions alike.
        let reasons = vec!["AC04".to_string()];
        let silent_rejected = ids
            .iter()
            .filter(|id| punctuality(id, &late) == Punctuality::Silent && decision(id, 900, &reasons).is_some())
            .count();
        assert!((50..150).contains(&silent_rejected), "{silent_rejected}");
    }
}
