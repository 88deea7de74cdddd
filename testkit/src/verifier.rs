//! Proves that every request got exactly its expected outcome, once.

use crate::generator::{Expected, Planned, Resent};
use hdrhistogram::Histogram;
use interlink_schemas::{
    Agent, Amount, ClearingRecord, Codec, CodecError, DeadLetter, Notification, Party, PaymentStatus, SchemaCatalog,
};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Which output topic a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Clearing,
    Notification,
    DeadLetter,
}

/// What the records sent under one transaction id must produce: the first request's
/// outcome, and an answer to each copy sent after it.
#[derive(Debug, Clone)]
struct Wanted {
    first: Expected,
    /// Copies with the same content, and with other content.
    repeats: u32,
    modified: u32,
}

impl Wanted {
    /// Records sent under this id.
    fn records(&self) -> u32 {
        1 + self.repeats + self.modified
    }
}

/// What the outputs under one transaction id were, sorted by the record they answer.
#[derive(Debug, Default, Clone)]
struct Observed {
    /// Debtor notifications of the first request (not a repeat, not a copy's refusal).
    debtor: Vec<(PaymentStatus, Option<String>)>,
    creditor: u32,
    clearing: u32,
    /// Dead letters of the first request.
    dead: u32,
    /// Dead letters of a network's answer that came after the payment had timed out.
    late: u32,
    /// Repeat notifications, one per copy with the same content.
    repeats: Vec<(PaymentStatus, Option<String>)>,
    /// Refusals of copies with other content: notifications, and dead letters.
    refusals: Vec<(PaymentStatus, Option<String>)>,
    refusal_dead: u32,
}

impl Observed {
    /// Every expected output of the first request is there (possibly with extras).
    fn satisfies(&self, e: &Expected) -> bool {
        match e {
            Expected::Accepted => !self.debtor.is_empty() && self.creditor > 0 && self.clearing > 0,
            Expected::Rejected(_) => !self.debtor.is_empty(),
            Expected::Invalid(_) => !self.debtor.is_empty() && self.dead > 0,
            Expected::Poison => self.dead > 0,
            Expected::NetworkRejected(_) => !self.debtor.is_empty() && self.creditor > 0,
            Expected::TimedOut { answered_late } => {
                !self.debtor.is_empty() && self.creditor > 0 && (!answered_late || self.late > 0)
            }
        }
    }

    /// Records sent under the id whose expected outputs are all there: the first, each
    /// repeat answered, each modified copy refused and dead-lettered.
    fn answered(&self, w: &Wanted) -> u32 {
        let refused = (self.refusals.len() as u32).min(self.refusal_dead);
        u32::from(self.satisfies(&w.first)) + (self.repeats.len() as u32).min(w.repeats) + refused.min(w.modified)
    }

    fn duplicated(&self, w: &Wanted) -> bool {
        self.debtor.len() > 1
            || self.creditor > 1
            || self.clearing > 1
            || self.dead > 1
            || self.late > 1
            || self.repeats.len() as u32 > w.repeats
            || self.refusals.len() as u32 > w.modified
            || self.refusal_dead > w.modified
    }

    /// Outputs that contradict the expectation (wrong status, reason or kind).
    fn unexpected(&self, w: &Wanted) -> bool {
        let repeat = repeat_answer(&w.first);
        let am05 = (PaymentStatus::RJCT, Some("AM05".to_string()));
        self.first_unexpected(&w.first)
            || self.repeats.iter().any(|a| Some(a) != repeat.as_ref())
            || self.refusals.iter().any(|a| *a != am05)
    }

    fn first_unexpected(&self, e: &Expected) -> bool {
        let debtor_is = |status: PaymentStatus, reason: Option<&str>| {
            self.debtor.iter().all(|(s, r)| *s == status && (reason.is_none() || r.as_deref() == reason))
        };
        // Only a payment accepted after its deadline has a late answer to dead-letter.
        let late_ok = matches!(e, Expected::TimedOut { answered_late: true }) || self.late == 0;
        let contradicted = match e {
            Expected::Accepted => !debtor_is(PaymentStatus::ACCC, None) || self.dead > 0,
            Expected::Rejected(code) => {
                !debtor_is(PaymentStatus::RJCT, Some(code)) || self.creditor + self.clearing + self.dead > 0
            }
            Expected::Invalid(code) => !debtor_is(PaymentStatus::RJCT, Some(code)) || self.creditor + self.clearing > 0,
            Expected::Poison => !self.debtor.is_empty() || self.creditor + self.clearing > 0,
            Expected::NetworkRejected(code) => {
                !debtor_is(PaymentStatus::RJCT, Some(code)) || self.clearing + self.dead > 0
            }
            Expected::TimedOut { .. } => !debtor_is(PaymentStatus::RJCT, Some("AB05")) || self.clearing + self.dead > 0,
        };
        contradicted || !late_ok
    }
}

/// The status (and reason) a repeat of a request gets: its first outcome's. `None` for
/// requests the generator never copies (poison is not remembered; a copy of a payment
/// in flight is answered by when it comes), so a repeat of one counts as unexpected.
fn repeat_answer(first: &Expected) -> Option<(PaymentStatus, Option<String>)> {
    match first {
        Expected::Accepted => Some((PaymentStatus::ACCC, None)),
        Expected::Rejected(code) | Expected::Invalid(code) => Some((PaymentStatus::RJCT, Some(code.to_string()))),
        Expected::Poison | Expected::NetworkRejected(_) | Expected::TimedOut { .. } => None,
    }
}

/// The verdict of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Records sent, copies included.
    pub requests: u64,
    /// Distinct requests by their first outcome (copies are in `copies`).
    pub approved: u64,
    pub rejected: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub unexpected: u64,
    /// (debtor institution, currency) pairs whose cleared debits differ from the
    /// amounts of the requests that were accepted.
    pub clearing_total_mismatches: u64,
    /// Clearing records read for this run's requests.
    pub clearing_records: u64,
    pub elapsed_secs: f64,
    pub rate_per_sec: f64,
    /// From the first request sent to the last output record's Kafka timestamp (when
    /// the switch produced it): the switch's own pace, whatever the verifier's.
    pub written_elapsed_secs: f64,
    pub written_rate_per_sec: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p90: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_p999: f64,
    pub latency_ms_max: f64,
    /// Up to ten requests that went wrong, with what was expected and what was seen.
    pub examples: Vec<String>,
    /// Second by second: requests sent, outcomes completed, latency of the requests sent.
    pub timeline: Vec<SecondStats>,
    /// Copies of earlier requests and their answers (zero unless the run sends copies).
    pub copies: CopyCounts,
    /// Payments no network answered in time (zero unless the simulators leave some).
    pub timeouts: TimeoutCounts,
    /// After the outcomes were in (or the run's timeout passed): how long the run read
    /// on, and for how long at its end nothing new was read (the quiet wait of
    /// [`crate::run::QuietWait`]; 0 for a run without one).
    pub read_on_secs: f64,
    pub quiet_secs: f64,
}

/// Copies of earlier requests: what was sent and what answered them.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyCounts {
    /// Distinct transaction ids: `requests` less the copies.
    pub distinct: u64,
    /// Copies with the same content, and the repeat notifications read for them.
    pub repeats_sent: u64,
    pub repeats_answered: u64,
    /// Copies with other content, their AM05 refusals and their dead letters.
    pub modified_sent: u64,
    pub modified_refused: u64,
    pub modified_dead_lettered: u64,
}

/// Payments refused at the deadline because their network did not answer in time.
/// Their latency (the deadline, more or less) is kept out of the run's latency figures,
/// which are those of the answers the switch gave on its own or from a network.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TimeoutCounts {
    /// Payments never answered, and those accepted only after the deadline.
    pub silent: u64,
    pub late: u64,
    /// Of both, those refused to their debtor (with whatever reason).
    pub refused: u64,
    /// Dead letters of the late acceptances.
    pub late_dead_lettered: u64,
    /// From a timed-out request's creation to its refusal being read.
    pub ms_min: f64,
    pub ms_p50: f64,
    pub ms_max: f64,
}

/// One second of a run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SecondStats {
    /// Seconds since the run started.
    pub second: u32,
    /// Requests created (and sent) in this second.
    pub sent: u64,
    /// Requests whose every expected output was read in this second.
    pub completed: u64,
    /// End-to-end latency of the requests created in this second.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What a run checks its outputs with: the switch's verifier, or the pass-through
/// baseline's.
pub trait OutcomeCheck {
    /// A request about to be sent.
    fn expect(&mut self, p: &Planned);
    /// One output record, read at `read_micros`.
    fn observe(&mut self, kind: OutputKind, key: Option<&[u8]>, payload: &[u8], read_micros: i64);
    /// Reads outputs framed with the ids of `catalog` (a Schema Registry's). Checks
    /// that do not decode records need nothing.
    fn use_schemas(&mut self, _catalog: &Arc<SchemaCatalog>) -> Result<(), CodecError> {
        Ok(())
    }
    /// Requests whose every expected output has been seen.
    fn satisfied_count(&self) -> usize;
    fn expected_count(&self) -> usize;
    fn summary(&self, elapsed: Duration) -> Summary;
}

/// Latency and throughput second by second, from the start of a run.
pub struct Timeline {
    /// The first request's creation; second 0 starts there.
    start_micros: Option<i64>,
    sent: Vec<u64>,
    completed: Vec<u64>,
    latency_us: Vec<Histogram<u64>>,
    overall_us: Histogram<u64>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Timeline {
    pub fn new() -> Self {
        Self {
            start_micros: None,
            sent: Vec::new(),
            completed: Vec::new(),
            latency_us: Vec::new(),
            overall_us: latency_histogram(3),
        }
    }

    fn slot(&mut self, at_micros: i64) -> usize {
        let start = *self.start_micros.get_or_insert(at_micros);
        let second = ((at_micros - start).max(0) / 1_000_000) as usize;
        if self.sent.len() <= second {
            self.sent.resize(second + 1, 0);
            self.completed.resize(second + 1, 0);
            self.latency_us.resize_with(second + 1, || latency_histogram(2));
        }
        second
    }

    pub fn sent(&mut self, created_micros: i64) {
        let s = self.slot(created_micros);
        self.sent[s] += 1;
    }

    pub fn completed(&mut self, read_micros: i64) {
        let s = self.slot(read_micros);
        self.completed[s] += 1;
    }

    /// A request created at `created_micros` got its final outcome at `read_micros`.
    pub fn latency(&mut self, created_micros: i64, read_micros: i64) {
        let micros = (read_micros - created_micros).max(1) as u64;
        let s = self.slot(created_micros);
        let _ = self.latency_us[s].record(micros);
        let _ = self.overall_us.record(micros);
    }

    /// Fills the latency and timeline fields of a summary.
    pub fn fill(&self, s: &mut Summary) {
        let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        s.latency_ms_p50 = ms(&self.overall_us, 0.50);
        s.latency_ms_p90 = ms(&self.overall_us, 0.90);
        s.latency_ms_p99 = ms(&self.overall_us, 0.99);
        s.latency_ms_p999 = ms(&self.overall_us, 0.999);
        s.latency_ms_max = self.overall_us.max() as f64 / 1000.0;
        s.timeline = (0..self.sent.len())
            .map(|i| SecondStats {
                second: i as u32,
                sent: self.sent[i],
                completed: self.completed[i],
                p50_ms: ms(&self.latency_us[i], 0.50),
                p99_ms: ms(&self.latency_us[i], 0.99),
                max_ms: self.latency_us[i].max() as f64 / 1000.0,
            })
            .collect();
    }
}

fn latency_histogram(significant_figures: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, significant_figures).expect("valid bounds")
}

impl Summary {
    /// A summary of nothing yet, `elapsed` long.
    pub fn empty(elapsed: Duration) -> Self {
        Self {
            requests: 0,
            approved: 0,
            rejected: 0,
            dead_lettered: 0,
            lost: 0,
            duplicated: 0,
            unexpected: 0,
            clearing_total_mismatches: 0,
            clearing_records: 0,
            elapsed_secs: elapsed.as_secs_f64(),
            rate_per_sec: 0.0,
            written_elapsed_secs: 0.0,
            written_rate_per_sec: 0.0,
            latency_ms_p50: 0.0,
            latency_ms_p90: 0.0,
            latency_ms_p99: 0.0,
            latency_ms_p999: 0.0,
            latency_ms_max: 0.0,
            examples: Vec::new(),
            timeline: Vec::new(),
            copies: CopyCounts::default(),
            timeouts: TimeoutCounts::default(),
            read_on_secs: 0.0,
            quiet_secs: 0.0,
        }
    }

    /// The highest per-second p99 among the seconds in [`from`, `to`) of the run.
    pub fn worst_second_p99(&self, from: f64, to: f64) -> f64 {
        self.timeline.iter().filter(|s| (from..to).contains(&f64::from(s.second))).map(|s| s.p99_ms).fold(0.0, f64::max)
    }

    /// Exactly one correct outcome for every request.
    pub fn is_exact(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.unexpected == 0 && self.clearing_total_mismatches == 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "requests       {:>10}", self.requests)?;
        writeln!(f, "approved       {:>10}", self.approved)?;
        writeln!(f, "rejected       {:>10}", self.rejected)?;
        writeln!(f, "dead-lettered  {:>10}", self.dead_lettered)?;
        writeln!(f, "lost           {:>10}", self.lost)?;
        writeln!(f, "duplicated     {:>10}", self.duplicated)?;
        writeln!(f, "unexpected     {:>10}", self.unexpected)?;
        writeln!(f, "clearing totals{:>10}", if self.clearing_total_mismatches == 0 { "match" } else { "DIFFER" })?;
        writeln!(f, "elapsed        {:>10.2} s", self.elapsed_secs)?;
        writeln!(f, "rate           {:>10.0} req/s", self.rate_per_sec)?;
        writeln!(f, "written rate   {:>10.0} req/s (by the outputs' Kafka timestamps)", self.written_rate_per_sec)?;
        write!(
            f,
            "latency        p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms \
             (request created to final outcome read)",
            self.latency_ms_p50, self.latency_ms_p90, self.latency_ms_p99, self.latency_ms_p999, self.latency_ms_max
        )?;
        let c = &self.copies;
        if c.repeats_sent + c.modified_sent > 0 {
            write!(
                f,
                "\ncopies         {} distinct; {} repeats, {} answered; {} modified, {} refused, {} dead-lettered",
                c.distinct,
                c.repeats_sent,
                c.repeats_answered,
                c.modified_sent,
                c.modified_refused,
                c.modified_dead_lettered
            )?;
        }
        let t = &self.timeouts;
        if t.silent + t.late > 0 {
            write!(
                f,
                "\ntimed out      {} silent, {} late; {} refused, {} late answers dead-lettered; \
                 created to refusal min {:.0} ms, p50 {:.0} ms, max {:.0} ms",
                t.silent, t.late, t.refused, t.late_dead_lettered, t.ms_min, t.ms_p50, t.ms_max
            )?;
        }
        for e in &self.examples {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Sums of minor units per (debtor network/institution, currency).
type Totals = HashMap<(String, String), i64>;

pub struct Verifier {
    expected: HashMap<String, Wanted>,
    /// Records expected, copies included.
    records: usize,
    /// Transaction ids by the other keys a dead letter may carry: the wire id of a
    /// payment that times out (its network's late answer is keyed by it), and the
    /// person key of a request that names its debtor.
    other_keys: HashMap<String, String>,
    debits: HashMap<String, (Agent, Amount)>,
    cleared: Totals,
    observed: HashMap<String, Observed>,
    /// Records whose every expected output has been seen.
    satisfied: usize,
    foreign: u64,
    undecodable: u64,
    timeline: Timeline,
    timeout_us: Histogram<u64>,
    clearing: Codec<ClearingRecord>,
    notifications: Codec<Notification>,
    dead_letters: Codec<DeadLetter>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

/// Which record of a transaction id an output answers.
enum Answering {
    First,
    Repeat,
    Refusal,
}

impl Verifier {
    pub fn new() -> Self {
        Self {
            expected: HashMap::new(),
            records: 0,
            other_keys: HashMap::new(),
            debits: HashMap::new(),
            cleared: Totals::new(),
            observed: HashMap::new(),
            satisfied: 0,
            foreign: 0,
            undecodable: 0,
            timeline: Timeline::new(),
            timeout_us: latency_histogram(3),
            clearing: Codec::new().expect("schema"),
            notifications: Codec::new().expect("schema"),
            dead_letters: Codec::new().expect("schema"),
        }
    }

    pub fn expect(&mut self, p: &Planned) {
        self.timeline.sent(p.created_at);
        self.records += 1;
        let tx = &p.transaction_id;
        let wanted = self.expected.entry(tx.clone()).or_insert_with(|| Wanted {
            first: p.expected.clone(),
            repeats: 0,
            modified: 0,
        });
        match p.resent {
            Some(Resent::Same) => wanted.repeats += 1,
            Some(Resent::Modified) => wanted.modified += 1,
            None => {}
        }
        if matches!(p.expected, Expected::TimedOut { .. }) {
            self.other_keys.insert(interlink_core::legs::wire_id(tx).as_str().to_string(), tx.clone());
        }
        // A request keyed by its debtor's person key: its dead letter carries that key.
        if p.key != *tx {
            self.other_keys.insert(p.key.clone(), tx.clone());
        }
        if let (Some(debit), None) = (&p.debit, p.resent) {
            self.debits.insert(tx.clone(), debit.clone());
        }
    }

    /// Records expected, copies included.
    pub fn expected_count(&self) -> usize {
        self.records
    }

    /// Records whose every expected output has been seen.
    pub fn satisfied_count(&self) -> usize {
        self.satisfied
    }

    pub fn is_complete(&self) -> bool {
        self.satisfied == self.records
    }

    /// Records one output; `now_micros` is when it was read.
    pub fn observe(&mut self, kind: OutputKind, payload: &[u8], now_micros: i64) {
        let tx = match kind {
            OutputKind::Clearing => self.clearing.decode(payload).map(|c| {
                let key = (c.debtor_agent.to_string(), c.debit_amount.currency.clone());
                *self.cleared.entry(key).or_default() += c.debit_amount.minor_units;
                (c.transaction_id, None, Answering::First, false)
            }),
            OutputKind::Notification => self.notifications.decode(payload).map(|n| {
                // Copies are told apart by the notification's id and repeat mark.
                let answering = if n.repeat {
                    Answering::Repeat
                } else if n.notification_id.contains(":DUPLICATE:") {
                    Answering::Refusal
                } else {
                    Answering::First
                };
                let debtor = (n.party == Party::Debtor).then_some((n.status, n.reason_code, n.request_created_at));
                (n.transaction_id, debtor, answering, false)
            }),
            OutputKind::DeadLetter => self.dead_letters.decode(payload).map(|d| {
                let key = d.original_key.map(|k| String::from_utf8_lossy(&k).into_owned()).unwrap_or_default();
                let answering =
                    if d.reason_code.as_deref() == Some("AM05") { Answering::Refusal } else { Answering::First };
                // A network's answer is keyed by the payment's wire id.
                let tx = if self.expected.contains_key(&key) {
                    key
                } else {
                    self.other_keys.get(&key).cloned().unwrap_or(key)
                };
                (tx, None, answering, d.error_message.contains("after it timed out"))
            }),
        };
        let Ok((tx, debtor, answering, late)) = tx else {
            self.undecodable += 1;
            return;
        };
        let Some(wanted) = self.expected.get(&tx) else {
            self.foreign += 1;
            return;
        };
        let obs = self.observed.entry(tx).or_default();
        let was = obs.answered(wanted);
        match (kind, debtor, answering) {
            (OutputKind::Clearing, _, _) => obs.clearing += 1,
            (OutputKind::DeadLetter, _, Answering::Refusal) => obs.refusal_dead += 1,
            (OutputKind::DeadLetter, _, _) if late => obs.late += 1,
            (OutputKind::DeadLetter, _, _) => obs.dead += 1,
            (OutputKind::Notification, Some((status, reason, created)), answering) => {
                let refused_at_deadline =
                    matches!(answering, Answering::First) && matches!(wanted.first, Expected::TimedOut { .. });
                match answering {
                    Answering::First => obs.debtor.push((status, reason)),
                    Answering::Repeat => obs.repeats.push((status, reason)),
                    Answering::Refusal => obs.refusals.push((status, reason)),
                }
                if refused_at_deadline {
                    let _ = self.timeout_us.record((now_micros - created).max(1) as u64);
                } else {
                    self.timeline.latency(created, now_micros);
                }
            }
            (OutputKind::Notification, None, _) => obs.creditor += 1,
        }
        for _ in was..obs.answered(wanted) {
            self.satisfied += 1;
            self.timeline.completed(now_micros);
        }
    }

    /// Records from other runs, and output records that did not decode.
    pub fn strays(&self) -> (u64, u64) {
        (self.foreign, self.undecodable)
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut s = Summary { requests: self.records as u64, ..Summary::empty(elapsed) };
        self.timeline.fill(&mut s);
        let empty = Observed::default();
        for (tx, wanted) in &self.expected {
            let obs = self.observed.get(tx).unwrap_or(&empty);
            let lost = wanted.records() - obs.answered(wanted);
            s.lost += u64::from(lost);
            s.duplicated += u64::from(obs.duplicated(wanted));
            s.unexpected += u64::from(obs.unexpected(wanted));
            s.clearing_records += u64::from(obs.clearing);
            let wrong = lost > 0 || obs.duplicated(wanted) || obs.unexpected(wanted);
            if wrong && s.examples.len() < 10 {
                s.examples.push(format!("{tx}: expected {wanted:?}, saw {obs:?}"));
            }
            if obs.dead > 0 {
                s.dead_lettered += 1;
            } else if obs.debtor.iter().any(|(st, _)| *st == PaymentStatus::ACCC) {
                s.approved += 1;
            } else if obs.debtor.iter().any(|(st, _)| *st == PaymentStatus::RJCT) {
                s.rejected += 1;
            }
            let c = &mut s.copies;
            c.repeats_sent += u64::from(wanted.repeats);
            c.repeats_answered += obs.repeats.len() as u64;
            c.modified_sent += u64::from(wanted.modified);
            c.modified_refused += obs.refusals.len() as u64;
            c.modified_dead_lettered += u64::from(obs.refusal_dead);
            if let Expected::TimedOut { answered_late } = wanted.first {
                let t = &mut s.timeouts;
                if answered_late {
                    t.late += 1;
                } else {
                    t.silent += 1;
                }
                t.refused += u64::from(!obs.debtor.is_empty());
                t.late_dead_lettered += u64::from(obs.late);
            }
        }
        s.copies.distinct = self.expected.len() as u64;
        if !self.timeout_us.is_empty() {
            let ms = |us: u64| us as f64 / 1000.0;
            s.timeouts.ms_min = ms(self.timeout_us.min());
            s.timeouts.ms_p50 = ms(self.timeout_us.value_at_quantile(0.5));
            s.timeouts.ms_max = ms(self.timeout_us.max());
        }
        // What was cleared must add up, per debtor institution and currency, to the
        // amounts of the requests that were accepted.
        let mut accepted = Totals::new();
        for (tx, obs) in &self.observed {
            if obs.debtor.iter().any(|(st, _)| *st == PaymentStatus::ACCC) {
                if let Some((agent, amount)) = self.debits.get(tx) {
                    *accepted.entry((agent.to_string(), amount.currency.clone())).or_default() += amount.minor_units;
                }
            }
        }
        let keys: std::collections::HashSet<_> = accepted.keys().chain(self.cleared.keys()).collect();
        s.clearing_total_mismatches =
            keys.into_iter().filter(|k| accepted.get(*k) != self.cleared.get(*k)).count() as u64;
        s.rate_per_sec = s.requests as f64 / s.elapsed_secs.max(1e-9);
        s
    }
}

impl OutcomeCheck for Verifier {
    fn expect(&mut self, p: &Planned) {
        Verifier::expect(self, p)
    }

    fn use_schemas(&mut self, catalog: &Arc<SchemaCatalog>) -> Result<(), CodecError> {
        self.clearing = Codec::with_catalog(catalog)?;
        self.notifications = Codec::with_catalog(catalog)?;
        self.dead_letters = Codec::with_catalog(catalog)?;
        Ok(())
    }

    fn observe(&mut self, kind: OutputKind, _key: Option<&[u8]>, payload: &[u8], read_micros: i64) {
        Verifier::observe(self, kind, payload, read_micros)
    }

    fn satisfied_count(&self) -> usize {
        Verifier::satisfied_count(self)
    }

    fn expected_count(&self) -> usize {
        Verifier::expected_count(self)
    }

    fn summary(&self, elapsed: Duration) -> Summary {
        Verifier::summary(self, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_schemas::{Agent, Amount};

    fn note(tx: &str, party: Party, status: PaymentStatus, reason: Option<&str>) -> Vec<u8> {
        Codec::<Notification>::new()
            .unwrap()
            .encode(&Notification {
                notification_id: format!("{tx}:{party:?}"),
                transaction_id: tx.into(),
                end_to_end_id: "e".into(),
                party,
                agent: Agent::new("HK_FPS", "004"),
                status,
                reason_code: reason.map(Into::into),
                reason_text: None,
                amount: Amount::new(1, "HKD"),
                routing_version: 1,
                request_created_at: 1_000,
                emitted_at: 2_000,
                repeat: false,
            })
            .unwrap()
    }

    /// A debtor notification with a given id, marked as a repeat or not.
    fn debtor_note(tx: &str, id: &str, repeat: bool, status: PaymentStatus, reason: Option<&str>) -> Vec<u8> {
        let codec = Codec::<Notification>::new().unwrap();
        let mut n = codec.decode(&note(tx, Party::Debtor, status, reason)).unwrap();
        (n.notification_id, n.repeat) = (id.into(), repeat);
        codec.encode(&n).unwrap()
    }

    fn dead_letter(key: &str, reason: Option<&str>, message: &str) -> Vec<u8> {
        Codec::<DeadLetter>::new()
            .unwrap()
            .encode(&DeadLetter {
                source_topic: "t".into(),
                source_partition: 0,
                source_offset: 0,
                original_key: Some(key.as_bytes().to_vec()),
                original_value: None,
                error_kind: interlink_schemas::ErrorKind::Validation,
                error_message: message.into(),
                reason_code: reason.map(Into::into),
                transaction_id: None,
                dead_lettered_at: 0,
            })
            .unwrap()
    }

    fn clearing(tx: &str) -> Vec<u8> {
        let amount = Amount::new(1, "HKD");
        Codec::<ClearingRecord>::new()
            .unwrap()
            .encode(&ClearingRecord {
                transaction_id: tx.into(),
                end_to_end_id: "e".into(),
                debtor_agent: Agent::new("CN_IBPS", "102100099996"),
                debtor_account: "1".into(),
                creditor_agent: Agent::new("HK_FPS", "004"),
                creditor_account: None,
                debit_amount: amount.clone(),
                credit_amount: amount,
                fx_rate: "1".into(),
                quote_id: "q".into(),
                corridor: "c".into(),
                routing_version: 1,
                request_created_at: 1_000,
                cleared_at: 2_000,
                reverses: None,
                debit_settlement_cycle: None,
                credit_settlement_cycle: None,
            })
            .unwrap()
    }

    fn planned(tx: &str, expected: Expected) -> Planned {
        Planned {
            transaction_id: tx.into(),
            key: tx.into(),
            created_at: 1_000,
            payload: vec![],
            expected,
            debit: None,
            resent: None,
        }
    }

    #[test]
    fn worst_second_p99_looks_only_inside_the_window() {
        let second =
            |second, p99_ms| SecondStats { second, sent: 1, completed: 1, p50_ms: 1.0, p99_ms, max_ms: p99_ms };
        let s = Summary {
            timeline: vec![second(0, 40.0), second(1, 90.0), second(2, 30.0), second(3, 70.0)],
            ..Summary::empty(Duration::from_secs(4))
        };
        assert_eq!(s.worst_second_p99(0.0, 1.0), 40.0);
        assert_eq!(s.worst_second_p99(2.0, 4.0), 70.0);
        assert_eq!(s.worst_second_p99(0.0, f64::MAX), 90.0);
        assert_eq!(s.worst_second_p99(9.0, 10.0), 0.0);
    }

    #[test]
    fn counts_lost_duplicated_and_unexpected() {
        let mut v = Verifier::new();
        v.expect(&planned("a", Expected::Rejected("RC01")));
        v.expect(&planned("b", Expected::Rejected("RC01")));
        v.expect(&planned("c", Expected::Rejected("RC01")));
        v.expect(&planned("d", Expected::Accepted));
        v.observe(OutputKind::Notification, &note("a", Party::Debtor, PaymentStatus::RJCT, Some("RC01")), 3_000);
        assert_eq!(v.satisfied_count(), 1);
        // b twice: duplicated. c with the wrong reason: unexpected. d never: lost.
        for _ in 0..2 {
            v.observe(OutputKind::Notification, &note("b", Party::Debtor, PaymentStatus::RJCT, Some("RC01")), 3_000);
        }
        v.observe(OutputKind::Notification, &note("c", Party::Debtor, PaymentStatus::RJCT, Some("AM02")), 3_000);
        v.observe(OutputKind::Notification, &note("zz", Party::Debtor, PaymentStatus::RJCT, None), 3_000);
        v.observe(OutputKind::Clearing, b"junk", 3_000);
        let s = v.summary(Duration::from_secs(1));
        assert_eq!((s.requests, s.rejected, s.lost, s.duplicated, s.unexpected), (4, 3, 1, 1, 1));
        assert!(!s.is_exact());
        assert_eq!(v.strays(), (1, 1));
        assert!((s.latency_ms_p50 - 2.0).abs() < 0.01, "{}", s.latency_ms_p50);
    }

    /// A first request, two copies of it and a copy with other content: each record is
    /// answered on its own, and a second repeat or a repeat with another status is caught.
    #[test]
    fn copies_are_answered_one_by_one() {
        let mut v = Verifier::new();
        let debit = (Agent::new("CN_IBPS", "102100099996"), Amount::new(1, "HKD"));
        v.expect(&Planned { debit: Some(debit), ..planned("a", Expected::Accepted) });
        let copy = |resent| Planned { resent: Some(resent), ..planned("a", Expected::Accepted) };
        v.expect(&copy(Resent::Same));
        v.expect(&copy(Resent::Same));
        v.expect(&copy(Resent::Modified));
        assert_eq!(v.expected_count(), 4);
        v.observe(OutputKind::Notification, &note("a", Party::Debtor, PaymentStatus::ACCC, None), 3_000);
        v.observe(OutputKind::Notification, &note("a", Party::Creditor, PaymentStatus::ACCC, None), 3_000);
        v.observe(OutputKind::Clearing, &clearing("a"), 3_000);
        assert_eq!(v.satisfied_count(), 1);
        for id in ["a:DEBTOR:REPEAT:0:1", "a:DEBTOR:REPEAT:0:2"] {
            v.observe(OutputKind::Notification, &debtor_note("a", id, true, PaymentStatus::ACCC, None), 3_000);
        }
        let refusal = debtor_note("a", "a:DEBTOR:DUPLICATE:0:3", false, PaymentStatus::RJCT, Some("AM05"));
        v.observe(OutputKind::Notification, &refusal, 3_000);
        assert_eq!(v.satisfied_count(), 3, "a refusal waits for its dead letter");
        v.observe(OutputKind::DeadLetter, &dead_letter("a", Some("AM05"), "already used"), 3_000);
        assert!(v.is_complete());
        let s = v.summary(Duration::from_secs(1));
        assert!(s.is_exact(), "{s}");
        assert_eq!((s.requests, s.approved, s.dead_lettered, s.clearing_records), (4, 1, 0, 1));
        let c = &s.copies;
        assert_eq!((c.distinct, c.repeats_sent, c.repeats_answered), (1, 2, 2));
        assert_eq!((c.modified_sent, c.modified_refused, c.modified_dead_lettered), (1, 1, 1));

        // One repeat too many, with another status than the first outcome.
        let wrong = debtor_note("a", "a:DEBTOR:REPEAT:0:4", true, PaymentStatus::RJCT, Some("AM05"));
        v.observe(OutputKind::Notification, &wrong, 3_000);
        let s = v.summary(Duration::from_secs(1));
        assert_eq!((s.lost, s.duplicated, s.unexpected), (0, 1, 1));
    }

    /// Timed-out payments: AB05 to both sides, a late answer's dead letter found by the
    /// wire id it is keyed by, and their latency kept apart.
    #[test]
    fn timed_out_payments_are_refused_and_late_answers_dead_lettered() {
        let tx = "0190a0f2-7c3e-7b6a-9d2e-3f4a5b6c7d8e";
        let wire = interlink_core::legs::wire_id(tx).as_str().to_string();
        assert_ne!(wire, tx, "a UUID travels as its hex digits");
        let mut v = Verifier::new();
        v.expect(&planned(tx, Expected::TimedOut { answered_late: true }));
        v.expect(&planned("silent", Expected::TimedOut { answered_late: false }));
        for t in [tx, "silent"] {
            for party in [Party::Debtor, Party::Creditor] {
                v.observe(OutputKind::Notification, &note(t, party, PaymentStatus::RJCT, Some("AB05")), 3_001_000);
            }
        }
        assert_eq!(v.satisfied_count(), 1, "the late one waits for its dead letter");
        let late = dead_letter(&wire, None, "late ACCC: HK_FPS settled it after it timed out at 1 µs");
        v.observe(OutputKind::DeadLetter, &late, 5_000_000);
        let s = v.summary(Duration::from_secs(1));
        assert!(s.is_exact(), "{s}");
        let t = &s.timeouts;
        assert_eq!((t.silent, t.late, t.refused, t.late_dead_lettered), (1, 1, 2, 1));
        assert!((t.ms_max - 3_000.0).abs() < 5.0, "{}", t.ms_max);
        assert_eq!(s.latency_ms_max, 0.0, "kept out of the answered requests' latency");

        // A clearing record for a timed-out payment, or a late answer for a silent one.
        v.observe(OutputKind::Clearing, &clearing("silent"), 5_000_000);
        let s = v.summary(Duration::from_secs(1));
        assert_eq!((s.unexpected, s.clearing_total_mismatches), (1, 1));
    }
}
