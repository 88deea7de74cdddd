//! One load run: produce generated requests at the planned pace, check every
//! outcome as it arrives, summarize.

use crate::generator::{Generator, Mix, NetworkLegs, Planned};
use crate::kafka::{caught_up, end_offsets, output_reader, RequestProducer};
use crate::simulator::SimulatorOptions;
use crate::verifier::{OutcomeCheck, OutputKind, Summary, Verifier};
use interlink_routing::RouteRecord;
use interlink_schemas::{registry, TopicsConfig};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Generator(#[from] crate::generator::GeneratorError),
    #[error(transparent)]
    Simulator(#[from] crate::simulator::SimulatorError),
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    #[error("the checker stopped before the run ended")]
    CheckerStopped,
    #[error(transparent)]
    SchemaRegistry(#[from] interlink_schema_registry::RegistryError),
}

/// How many requests a run sends, and how fast.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Load {
    /// This many requests, as fast as the producer takes them.
    Burst(u64),
    /// Phases of constant rate, one after another.
    Paced(Vec<Phase>),
}

/// `count` requests at `rate` per second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Phase {
    pub count: u64,
    pub rate: u64,
}

impl Phase {
    /// `rate` per second for `seconds`.
    pub fn for_seconds(rate: u64, seconds: f64) -> Self {
        Self { count: (rate as f64 * seconds).round() as u64, rate }
    }

    pub fn seconds(&self) -> f64 {
        self.count as f64 / self.rate.max(1) as f64
    }
}

impl Load {
    pub fn total(&self) -> u64 {
        match self {
            Load::Burst(n) => *n,
            Load::Paced(phases) => phases.iter().map(|p| p.count).sum(),
        }
    }

    /// When each request is due, from the start of the run; `None` is "now".
    fn due_times(&self) -> Box<dyn Iterator<Item = Option<Duration>> + Send> {
        match self {
            Load::Burst(n) => Box::new((0..*n).map(|_| None)),
            Load::Paced(phases) => {
                let mut start = 0.0;
                let mut times = Vec::new();
                for p in phases {
                    let rate = p.rate.max(1) as f64;
                    times.push((start, rate, p.count));
                    start += p.count as f64 / rate;
                }
                Box::new(times.into_iter().flat_map(|(start, rate, count)| {
                    (0..count).map(move |i| Some(Duration::from_secs_f64(start + i as f64 / rate)))
                }))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The brokers, and how to authenticate to them.
    pub kafka: crate::kafka::Connection,
    pub topics: TopicsConfig,
    pub load: Load,
    pub mix: Mix,
    pub seed: u64,
    /// Give up waiting for outcomes this long after the start.
    pub timeout: Duration,
    /// Destinations the switch settles through their connector (must match the
    /// switch's `networks.connected`), and how their simulators answer.
    pub network_legs: NetworkLegs,
    /// Run the simulators of the connected networks in this process.
    pub simulate: bool,
    /// The Schema Registry the switch uses (its Confluent-compatible API), or `None`
    /// for fixed ids. Requests are framed, and outputs read, with its ids.
    pub schema_registry: Option<String>,
    /// Once the outcomes are in, read on until the outputs have been quiet this long
    /// (so that late duplicates are counted), calling the progress callback all the
    /// while. `None`: read on to the end of every output partition, 10 s at most.
    pub quiet: Option<QuietWait>,
}

/// The end of a run that must catch late outputs (a fault suite): read on until nothing
/// new has been read for `quiet`, every output partition is read to its end, and
/// `hold` is clear; `limit` bounds the whole wait.
#[derive(Debug, Clone)]
pub struct QuietWait {
    pub quiet: Duration,
    pub limit: Duration,
    /// Set while the caller is still undoing something (a broker coming back): the
    /// outputs may be quiet only because nothing can be written, so the quiet time
    /// starts again when it is cleared.
    pub hold: Arc<AtomicBool>,
}

impl QuietWait {
    pub fn new(quiet: Duration, limit: Duration) -> Self {
        Self { quiet, limit, hold: Arc::new(AtomicBool::new(false)) }
    }
}

/// Where a run stands, passed to the progress callback about every 100 ms.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub sent: u64,
    pub satisfied: usize,
    /// Requests the run will send in all.
    pub expected: usize,
    pub elapsed: Duration,
}

/// Sends the planned requests drawn from `rules` and verifies every outcome of the switch.
pub fn run(opts: &RunOptions, rules: &[RouteRecord], on_progress: impl FnMut(&Progress)) -> Result<Summary, RunError> {
    run_with(opts, rules, Verifier::new(), on_progress)
}

/// [`run`] with another check of the outputs (the pass-through baseline's).
pub fn run_with<C: OutcomeCheck>(
    opts: &RunOptions,
    rules: &[RouteRecord],
    mut check: C,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Summary, RunError> {
    let outputs =
        [opts.topics.clearing.as_str(), opts.topics.notifications.as_str(), opts.topics.dead_letters.as_str()];
    let start_offsets = end_offsets(&opts.kafka, &outputs)?;
    let reader = output_reader(&opts.kafka, &start_offsets)?;
    let mut generator = Generator::new(rules, opts.mix, opts.seed)?
        .with_network_legs(opts.network_legs.clone())
        .with_total(opts.load.total());
    if let Some(url) = &opts.schema_registry {
        // What the generator writes and the check reads, registered (or found) under
        // their subjects: the same ids the switch frames with.
        let client = interlink_schema_registry::RegistryClient::new(url, Duration::from_secs(5))?;
        let catalog = interlink_schema_registry::register_writers(
            &client,
            &opts.topics,
            &[
                &registry::AUTHORIZATION_REQUEST_V3,
                &registry::CLEARING_RECORD_V3,
                &registry::NOTIFICATION_V2,
                &registry::DEAD_LETTER_V1,
            ],
            Duration::from_secs(60),
        )?;
        generator = generator.with_schemas(&catalog)?;
        check.use_schemas(&catalog).map_err(crate::generator::GeneratorError::from)?;
    }
    let (simulators, stop_simulators) = start_simulators(opts);
    // Connected (and with its producer id) before the first request is due.
    let producer = RequestProducer::new(&opts.kafka, &opts.topics.requests)?;
    producer.connect()?;
    // Let the reader connect and start fetching before the first request exists, so
    // that its start-up is not counted as the first requests' latency.
    let warm_up = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm_up {
        if let Some(Ok(m)) = reader.poll(Duration::from_millis(100)) {
            // An output of an earlier run: not this run's.
            tracing::debug!(topic = m.topic(), offset = m.offset(), "output of an earlier run");
        }
    }

    let total = opts.load.total();
    let sent = Arc::new(AtomicU64::new(0));
    let (expectations, expected_rx) = mpsc::channel::<Planned>();
    let started = Instant::now();
    let started_ms = interlink_schemas::now_micros() / 1000;
    let mut last_written_ms = started_ms;
    let producer_thread = {
        let (sent, due) = (sent.clone(), opts.load.due_times());
        std::thread::spawn(move || produce(producer, generator, due, &expectations, &sent))
    };

    let deadline = started + opts.timeout;
    let mut last_progress = Instant::now();
    let complete = |c: &C| c.satisfied_count() as u64 == total;
    while !complete(&check) && Instant::now() < deadline {
        read_some(&reader, &opts.topics, &mut check, &expected_rx, &mut last_written_ms, Duration::from_millis(100));
        if producer_thread.is_finished() && sent.load(Ordering::Relaxed) < total {
            break; // the producer failed; its error is returned below
        }
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            on_progress(&Progress {
                sent: sent.load(Ordering::Relaxed),
                satisfied: check.satisfied_count(),
                expected: total as usize,
                elapsed: started.elapsed(),
            });
        }
    }
    let elapsed = started.elapsed();
    let read_on_from = Instant::now();
    let mut quiet_secs = 0.0;
    if let Some(wait) = &opts.quiet {
        // Read on until nothing new came for `quiet`, with every output partition read
        // to its end (no transaction left open on it) and nothing held.
        let mut last_new = Instant::now();
        while read_on_from.elapsed() < wait.limit {
            let read = read_some(
                &reader,
                &opts.topics,
                &mut check,
                &expected_rx,
                &mut last_written_ms,
                Duration::from_millis(100),
            );
            if read > 0 || wait.hold.load(Ordering::Relaxed) {
                last_new = Instant::now();
            }
            if last_progress.elapsed() >= Duration::from_millis(100) {
                last_progress = Instant::now();
                on_progress(&Progress {
                    sent: sent.load(Ordering::Relaxed),
                    satisfied: check.satisfied_count(),
                    expected: total as usize,
                    elapsed: started.elapsed(),
                });
            }
            // A broker away answers nothing: not caught up, and not quiet either.
            if last_new.elapsed() >= wait.quiet && caught_up(&reader).unwrap_or(false) {
                break;
            }
        }
        quiet_secs = last_new.elapsed().as_secs_f64();
    } else {
        // Read on to the end of every output partition so late duplicates are counted.
        let drain_deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < drain_deadline && !caught_up(&reader)? {
            read_some(
                &reader,
                &opts.topics,
                &mut check,
                &expected_rx,
                &mut last_written_ms,
                Duration::from_millis(100),
            );
        }
    }
    let read_on_secs = read_on_from.elapsed().as_secs_f64();
    producer_thread.join().map_err(|_| RunError::Panicked("producer"))??;
    expected_rx.try_iter().for_each(|p| check.expect(&p));
    stop_simulators.store(true, Ordering::Relaxed);
    for s in simulators {
        s.join().map_err(|_| RunError::Panicked("simulator"))??;
    }
    let mut summary = check.summary(elapsed);
    (summary.read_on_secs, summary.quiet_secs) = (read_on_secs, quiet_secs);
    summary.written_elapsed_secs = (last_written_ms - started_ms) as f64 / 1000.0;
    summary.written_rate_per_sec = summary.requests as f64 / summary.written_elapsed_secs.max(1e-3);
    Ok(summary)
}

type SimulatorThread =
    std::thread::JoinHandle<Result<crate::simulator::SimulatorStats, crate::simulator::SimulatorError>>;

fn start_simulators(opts: &RunOptions) -> (Vec<SimulatorThread>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    if !opts.simulate {
        return (Vec::new(), stop);
    }
    let threads = opts
        .network_legs
        .connected
        .iter()
        .map(|network| {
            let sim = SimulatorOptions {
                kafka: opts.kafka.clone(),
                topics: opts.topics.clone(),
                network: network.clone(),
                accept_per_mille: opts.network_legs.accept_per_mille,
                reject_reasons: opts.network_legs.reject_reasons.clone(),
                latency: Duration::from_millis(2),
                late_answers: opts.network_legs.late_answers,
            };
            let stop = stop.clone();
            std::thread::spawn(move || crate::simulator::run(&sim, stop))
        })
        .collect();
    (threads, stop)
}

/// Generates each request when it is due (so its `created_at` is its send time),
/// hands its expectation to the checker, then produces it.
fn produce(
    producer: RequestProducer,
    mut generator: Generator,
    due_times: Box<dyn Iterator<Item = Option<Duration>> + Send>,
    expectations: &mpsc::Sender<Planned>,
    sent: &AtomicU64,
) -> Result<(), RunError> {
    let begun = Instant::now();
    for due in due_times {
        if let Some(wait) = due.and_then(|d| (begun + d).checked_duration_since(Instant::now())) {
            std::thread::sleep(wait);
        }
        let mut planned = generator.next_request();
        let payload = std::mem::take(&mut planned.payload);
        let key = planned.key.clone();
        // The expectation goes first: an output can never be read before it.
        expectations.send(planned).map_err(|_| RunError::CheckerStopped)?;
        producer.send(&key, &payload)?;
        sent.fetch_add(1, Ordering::Relaxed);
    }
    Ok(producer.flush()?)
}

fn read_some<C: OutcomeCheck>(
    reader: &rdkafka::consumer::BaseConsumer,
    topics: &TopicsConfig,
    check: &mut C,
    expectations: &mpsc::Receiver<Planned>,
    last_written_ms: &mut i64,
    wait: Duration,
) -> usize {
    let until = Instant::now() + wait;
    let mut read = 0;
    loop {
        let msg = reader.poll(until.saturating_duration_since(Instant::now()));
        // Every expectation of a request whose output may have been read.
        expectations.try_iter().for_each(|p| check.expect(&p));
        let Some(msg) = msg else { break };
        let Ok(msg) = msg else { continue };
        read += 1;
        let kind = if msg.topic() == topics.clearing {
            OutputKind::Clearing
        } else if msg.topic() == topics.notifications {
            OutputKind::Notification
        } else {
            OutputKind::DeadLetter
        };
        let now = interlink_schemas::now_micros();
        *last_written_ms = (*last_written_ms).max(msg.timestamp().to_millis().unwrap_or(0));
        check.observe(kind, msg.key(), msg.payload().unwrap_or_default(), now);
        if Instant::now() >= until {
            break;
        }
    }
    read
}
