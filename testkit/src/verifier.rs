//! Proves that every request got exactly its expected outcome, once.

use crate::generator::{Expected, Planned};
use hdrhistogram::Histogram;
use interlink_schemas::{Agent, Amount, ClearingRecord, Codec, DeadLetter, Notification, Party, PaymentStatus};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// Which output topic a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Clearing,
    Notification,
    DeadLetter,
}

#[derive(Debug, Default, Clone)]
struct Observed {
    debtor: Vec<(PaymentStatus, Option<String>)>,
    creditor: u32,
    clearing: u32,
    dead: u32,
}

impl Observed {
    /// Every expected output is there (possibly with extras).
    fn satisfies(&self, e: &Expected) -> bool {
        match e {
            Expected::Accepted => !self.debtor.is_empty() && self.creditor > 0 && self.clearing > 0,
            Expected::Rejected(_) => !self.debtor.is_empty(),
            Expected::Invalid(_) => !self.debtor.is_empty() && self.dead > 0,
            Expected::Poison => self.dead > 0,
            Expected::NetworkRejected(_) => !self.debtor.is_empty() && self.creditor > 0,
        }
    }

    fn duplicated(&self) -> bool {
        self.debtor.len() > 1 || self.creditor > 1 || self.clearing > 1 || self.dead > 1
    }

    /// Outputs that contradict the expectation (wrong status, reason or kind).
    fn unexpected(&self, e: &Expected) -> bool {
        let debtor_is = |status: PaymentStatus, reason: Option<&str>| {
            self.debtor.iter().all(|(s, r)| *s == status && (reason.is_none() || r.as_deref() == reason))
        };
        match e {
            Expected::Accepted => !debtor_is(PaymentStatus::ACCC, None) || self.dead > 0,
            Expected::Rejected(code) => {
                !debtor_is(PaymentStatus::RJCT, Some(code)) || self.creditor + self.clearing + self.dead > 0
            }
            Expected::Invalid(code) => !debtor_is(PaymentStatus::RJCT, Some(code)) || self.creditor + self.clearing > 0,
            Expected::Poison => !self.debtor.is_empty() || self.creditor + self.clearing > 0,
            Expected::NetworkRejected(code) => {
                !debtor_is(PaymentStatus::RJCT, Some(code)) || self.clearing + self.dead > 0
            }
        }
    }
}

/// The verdict of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub requests: u64,
    pub approved: u64,
    pub rejected: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub unexpected: u64,
    /// (debtor institution, currency) pairs whose cleared debits differ from the
    /// amounts of the requests that were accepted.
    pub clearing_total_mismatches: u64,
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
        for e in &self.examples {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Sums of minor units per (debtor network/institution, currency).
type Totals = HashMap<(String, String), i64>;

pub struct Verifier {
    expected: HashMap<String, Expected>,
    debits: HashMap<String, (Agent, Amount)>,
    cleared: Totals,
    observed: HashMap<String, Observed>,
    satisfied: usize,
    foreign: u64,
    undecodable: u64,
    timeline: Timeline,
    clearing: Codec<ClearingRecord>,
    notifications: Codec<Notification>,
    dead_letters: Codec<DeadLetter>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Self {
        Self {
            expected: HashMap::new(),
            debits: HashMap::new(),
            cleared: Totals::new(),
            observed: HashMap::new(),
            satisfied: 0,
            foreign: 0,
            undecodable: 0,
            timeline: Timeline::new(),
            clearing: Codec::new().expect("schema"),
            notifications: Codec::new().expect("schema"),
            dead_letters: Codec::new().expect("schema"),
        }
    }

    pub fn expect(&mut self, p: &Planned) {
        self.timeline.sent(p.created_at);
        self.expected.insert(p.transaction_id.clone(), p.expected.clone());
        if let Some(debit) = &p.debit {
            self.debits.insert(p.transaction_id.clone(), debit.clone());
        }
    }

    pub fn expected_count(&self) -> usize {
        self.expected.len()
    }

    /// Requests whose every expected output has been seen.
    pub fn satisfied_count(&self) -> usize {
        self.satisfied
    }

    pub fn is_complete(&self) -> bool {
        self.satisfied == self.expected.len()
    }

    /// Records one output; `now_micros` is when it was read.
    pub fn observe(&mut self, kind: OutputKind, payload: &[u8], now_micros: i64) {
        let tx = match kind {
            OutputKind::Clearing => self.clearing.decode(payload).map(|c| {
                let key = (c.debtor_agent.to_string(), c.debit_amount.currency.clone());
                *self.cleared.entry(key).or_default() += c.debit_amount.minor_units;
                (c.transaction_id, None)
            }),
            OutputKind::Notification => self.notifications.decode(payload).map(|n| {
                let debtor = (n.party == Party::Debtor).then_some((n.status, n.reason_code, n.request_created_at));
                (n.transaction_id, debtor)
            }),
            OutputKind::DeadLetter => self.dead_letters.decode(payload).map(|d| {
                let tx = d.original_key.map(|k| String::from_utf8_lossy(&k).into_owned()).unwrap_or_default();
                (tx, None)
            }),
        };
        let Ok((tx, debtor)) = tx else {
            self.undecodable += 1;
            return;
        };
        let Some(expected) = self.expected.get(&tx) else {
            self.foreign += 1;
            return;
        };
        let obs = self.observed.entry(tx).or_default();
        let was = obs.satisfies(expected);
        match (kind, debtor) {
            (OutputKind::Clearing, _) => obs.clearing += 1,
            (OutputKind::DeadLetter, _) => obs.dead += 1,
            (OutputKind::Notification, Some((status, reason, created))) => {
                obs.debtor.push((status, reason));
                self.timeline.latency(created, now_micros);
            }
            (OutputKind::Notification, None) => obs.creditor += 1,
        }
        if !was && obs.satisfies(expected) {
            self.satisfied += 1;
            self.timeline.completed(now_micros);
        }
    }

    /// Records from other runs, and output records that did not decode.
    pub fn strays(&self) -> (u64, u64) {
        (self.foreign, self.undecodable)
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut s = Summary { requests: self.expected.len() as u64, ..Summary::empty(elapsed) };
        self.timeline.fill(&mut s);
        let empty = Observed::default();
        for (tx, expected) in &self.expected {
            let obs = self.observed.get(tx).unwrap_or(&empty);
            if !obs.satisfies(expected) {
                s.lost += 1;
            }
            if obs.duplicated() {
                s.duplicated += 1;
            }
            if obs.unexpected(expected) {
                s.unexpected += 1;
            }
            let wrong = !obs.satisfies(expected) || obs.duplicated() || obs.unexpected(expected);
            if wrong && s.examples.len() < 10 {
                s.examples.push(format!("{tx}: expected {expected:?}, saw {obs:?}"));
            }
            if obs.dead > 0 {
                s.dead_lettered += 1;
            } else if obs.debtor.iter().any(|(st, _)| *st == PaymentStatus::ACCC) {
                s.approved += 1;
            } else if obs.debtor.iter().any(|(st, _)| *st == PaymentStatus::RJCT) {
                s.rejected += 1;
            }
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

    fn planned(tx: &str, expected: Expected) -> Planned {
        Planned { transaction_id: tx.into(), created_at: 1_000, payload: vec![], expected, debit: None }
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
}
