//! One load run: produce planned requests, verify every outcome, summarize.

use crate::generator::{Generator, Mix, NetworkLegs, Planned};
use crate::kafka::{caught_up, end_offsets, output_reader, RequestProducer};
use crate::simulator::SimulatorOptions;
use crate::verifier::{OutputKind, Summary, Verifier};
use interlink_switch::config::TopicsConfig;
use interlink_switch::routing::RouteRecord;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("{0}")]
    Setup(String),
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub brokers: String,
    pub topics: TopicsConfig,
    pub count: u64,
    /// Requests per second; `None` sends as fast as the producer takes them.
    pub rate: Option<u64>,
    pub mix: Mix,
    pub seed: u64,
    /// Give up waiting for outcomes after this long.
    pub timeout: Duration,
    /// Destinations the switch settles through their connector (must match the
    /// switch's `networks.connected`), and how their simulators answer.
    pub network_legs: NetworkLegs,
    /// Run the simulators of the connected networks in this process.
    pub simulate: bool,
}

/// Where a run stands, passed to the progress callback about every 100 ms.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub sent: u64,
    pub satisfied: usize,
    pub expected: usize,
    pub elapsed: Duration,
}

/// Sends `opts.count` requests drawn from `rules` and verifies every outcome.
pub fn run(
    opts: &RunOptions,
    rules: &[RouteRecord],
    mut on_progress: impl FnMut(&Progress),
) -> Result<Summary, RunError> {
    let outputs =
        [opts.topics.clearing.as_str(), opts.topics.notifications.as_str(), opts.topics.dead_letters.as_str()];
    let start_offsets = end_offsets(&opts.brokers, &outputs)?;
    let reader = output_reader(&opts.brokers, &start_offsets)?;

    let mut generator = Generator::new(rules, opts.mix, opts.seed)
        .map_err(RunError::Setup)?
        .with_network_legs(opts.network_legs.clone());
    let stop_simulators = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let simulators: Vec<_> = if opts.simulate {
        opts.network_legs
            .connected
            .iter()
            .map(|network| {
                let sim = SimulatorOptions {
                    brokers: opts.brokers.clone(),
                    topics: opts.topics.clone(),
                    network: network.clone(),
                    accept_per_mille: opts.network_legs.accept_per_mille,
                    reject_reasons: opts.network_legs.reject_reasons.clone(),
                    latency: Duration::from_millis(2),
                };
                let stop = stop_simulators.clone();
                std::thread::spawn(move || crate::simulator::run(&sim, stop))
            })
            .collect()
    } else {
        Vec::new()
    };
    let planned: Vec<Planned> = (0..opts.count).map(|_| generator.next_request()).collect();
    let mut verifier = Verifier::new();
    planned.iter().for_each(|p| verifier.expect(p));

    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let producer_thread = {
        let (brokers, topic, rate, sent) =
            (opts.brokers.clone(), opts.topics.requests.clone(), opts.rate, sent.clone());
        std::thread::spawn(move || -> Result<(), KafkaError> {
            let producer = RequestProducer::new(&brokers, &topic)?;
            let begun = Instant::now();
            for (i, p) in planned.iter().enumerate() {
                if let Some(rate) = rate {
                    let due = begun + Duration::from_secs_f64(i as f64 / rate as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                producer.send(p)?;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            producer.flush()
        })
    };

    let deadline = started + opts.timeout;
    let mut last_progress = Instant::now();
    while !verifier.is_complete() && Instant::now() < deadline {
        read_some(&reader, &opts.topics, &mut verifier, Duration::from_millis(100));
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            on_progress(&Progress {
                sent: sent.load(Ordering::Relaxed),
                satisfied: verifier.satisfied_count(),
                expected: verifier.expected_count(),
                elapsed: started.elapsed(),
            });
        }
    }
    let elapsed = started.elapsed();
    // Read on to the end of every output partition so late duplicates are counted.
    let drain_deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_deadline && !caught_up(&reader)? {
        read_some(&reader, &opts.topics, &mut verifier, Duration::from_millis(100));
    }
    producer_thread.join().map_err(|_| RunError::Setup("producer thread panicked".into()))??;
    stop_simulators.store(true, Ordering::Relaxed);
    for s in simulators {
        s.join().map_err(|_| RunError::Setup("simulator thread panicked".into()))?.map_err(RunError::Setup)?;
    }
    Ok(verifier.summary(elapsed))
}

fn read_some(reader: &rdkafka::consumer::BaseConsumer, topics: &TopicsConfig, verifier: &mut Verifier, wait: Duration) {
    let until = Instant::now() + wait;
    while let Some(msg) = reader.poll(until.saturating_duration_since(Instant::now())) {
        let Ok(msg) = msg else { continue };
        let kind = if msg.topic() == topics.clearing {
            OutputKind::Clearing
        } else if msg.topic() == topics.notifications {
            OutputKind::Notification
        } else {
            OutputKind::DeadLetter
        };
        verifier.observe(kind, msg.payload().unwrap_or_default(), interlink_schemas::now_micros());
        if Instant::now() >= until {
            break;
        }
    }
}
