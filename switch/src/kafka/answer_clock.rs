//! How far a worker has read its networks' answers, by wall time.
//!
//! A payment times out only once its partition of every network's `.in` topic has
//! been read past its deadline: by then every answer written before the deadline has
//! been decided. A worker behind on its inputs (after a restart, a rebalance, a burst)
//! would otherwise refuse payments whose acceptances sit unread in its input, and then
//! send those acceptances back as returns. Answers themselves are judged by when they
//! were written (see `Processor`), so both orders of timer and answer agree.
//!
//! A partition has been read up to the latest of: the write time of the last record
//! decided from it, and the last time librdkafka's statistics showed nothing left to
//! read (position at the last stable offset).

use rdkafka::statistics::Statistics;
use std::collections::HashMap;
use std::time::Duration;

/// How far each owned partition of each `.in` topic has been read.
#[derive(Debug)]
pub struct AnswerClocks {
    topics: Vec<String>,
    read_up_to: HashMap<(usize, i32), i64>,
    grace_micros: i64,
}

impl AnswerClocks {
    /// Clocks for these `.in` topics. `grace` covers answers written just before a
    /// deadline that become readable only after it (transaction commits, the writer's
    /// clock running ahead of this worker's).
    pub fn new(topics: Vec<String>, grace: Duration) -> Self {
        let grace_micros = i64::try_from(grace.as_micros()).unwrap_or(i64::MAX);
        Self { topics, read_up_to: HashMap::new(), grace_micros }
    }

    fn advance(&mut self, topic: &str, partition: i32, to: i64) {
        if let Some(t) = self.topics.iter().position(|name| name == topic) {
            let clock = self.read_up_to.entry((t, partition)).or_insert(i64::MIN);
            *clock = (*clock).max(to);
        }
    }

    /// A record from `topic` (any topic; others are ignored), written at `written_at`
    /// (µs), has been decided.
    pub fn record_read(&mut self, topic: &str, partition: i32, written_at: Option<i64>) {
        if let Some(at) = written_at {
            self.advance(topic, partition, at);
        }
    }

    /// Statistics from this worker's consumer: partitions with nothing left to read
    /// have been read up to the time of the statistics.
    pub fn observe(&mut self, stats: &Statistics) {
        let mut caught_up = Vec::new();
        for topic in &self.topics {
            let Some(t) = stats.topics.get(topic) else { continue };
            for p in t.partitions.values() {
                let position = FetchPosition {
                    partition: p.partition,
                    fetching: p.fetch_state == "active",
                    offsets: [p.app_offset, p.committed_offset, p.lo_offset],
                    last_stable: p.ls_offset,
                };
                if position.caught_up() {
                    caught_up.push((topic.clone(), p.partition));
                }
            }
        }
        // Whole seconds: never later than the moment the statistics describe.
        let at = stats.time.saturating_mul(1_000_000);
        for (topic, partition) in caught_up {
            self.advance(&topic, partition, at);
        }
    }

    /// Forgets what was read of these partitions (revoked, or to be read again): their
    /// timers wait for new evidence.
    pub fn forget(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for p in partitions {
            self.read_up_to.retain(|(_, partition), _| *partition != p);
        }
    }

    /// Forgets everything (the worker goes back to its committed offsets).
    pub fn forget_all(&mut self) {
        self.read_up_to.clear();
    }

    /// The time (µs) up to which partition `partition`'s timers may fire at `now`.
    pub fn cutoff(&self, partition: i32, now: i64) -> i64 {
        let read = (0..self.topics.len())
            .map(|t| self.read_up_to.get(&(t, partition)).copied().unwrap_or(i64::MIN))
            .min()
            .unwrap_or(i64::MAX);
        read.saturating_sub(self.grace_micros).min(now)
    }
}

/// One partition of a consumer, as its statistics describe it.
struct FetchPosition {
    partition: i32,
    fetching: bool,
    /// The position of the application (past the last record handed over, control
    /// records included), the group's committed offset, the log start: the first one
    /// known is where the worker is, or where it started after an assignment or a
    /// seek, which is never later than where it is.
    offsets: [i64; 3],
    last_stable: i64,
}

impl FetchPosition {
    /// Nothing committed is left to read, as of the last fetch response.
    fn caught_up(&self) -> bool {
        // -1 is librdkafka's internal "unassigned" partition.
        if self.partition < 0 || !self.fetching || self.last_stable < 0 {
            return false;
        }
        self.offsets.into_iter().find(|&o| o >= 0).is_some_and(|at| at >= self.last_stable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn clocks() -> AnswerClocks {
        AnswerClocks::new(vec!["a.in".into(), "b.in".into()], Duration::from_millis(500))
    }

    #[test]
    fn no_timer_fires_before_every_network_of_the_partition_is_read() {
        let mut c = clocks();
        assert_eq!(c.cutoff(0, 100 * S), i64::MIN, "nothing known yet");
        c.record_read("a.in", 0, Some(90 * S));
        assert_eq!(c.cutoff(0, 100 * S), i64::MIN, "b.in not read yet");
        c.record_read("b.in", 0, Some(95 * S));
        assert_eq!(c.cutoff(0, 100 * S), 90 * S - S / 2, "the slower network, less the grace");
        c.record_read("other", 0, Some(99 * S));
        c.record_read("a.in", 0, None);
        assert_eq!(c.cutoff(0, 100 * S), 90 * S - S / 2, "other topics and unknown times move nothing");
        assert_eq!(c.cutoff(1, 100 * S), i64::MIN, "partitions are apart");
        // Never ahead of the wall clock, never backwards.
        c.record_read("a.in", 0, Some(200 * S));
        c.record_read("b.in", 0, Some(200 * S));
        c.record_read("b.in", 0, Some(150 * S));
        assert_eq!(c.cutoff(0, 100 * S), 100 * S);
        assert_eq!(c.cutoff(0, 300 * S), 200 * S - S / 2);
    }

    fn at(partition: i32, fetch_state: &str, offsets: [i64; 3], last_stable: i64) -> FetchPosition {
        FetchPosition { partition, fetching: fetch_state == "active", offsets, last_stable }
    }

    #[test]
    fn a_partition_is_caught_up_when_its_position_reaches_the_last_stable_offset() {
        const UNSET: i64 = -1001;
        assert!(at(0, "active", [42, UNSET, 0], 42).caught_up());
        assert!(!at(0, "active", [40, UNSET, 0], 42).caught_up(), "two records to go");
        assert!(at(0, "active", [UNSET, 7, 0], 7).caught_up(), "nothing read since assignment");
        assert!(!at(0, "active", [UNSET, 5, 0], 7).caught_up());
        assert!(at(0, "active", [UNSET, UNSET, 3], 3).caught_up(), "a new group on a partition with nothing left");
        assert!(!at(0, "active", [UNSET, UNSET, UNSET], 0).caught_up(), "position unknown");
        assert!(!at(0, "stopped", [9, 9, 0], 9).caught_up(), "not being fetched");
        assert!(!at(0, "active", [9, 9, 0], UNSET).caught_up(), "no fetch answered yet");
        assert!(!at(-1, "active", [0, 0, 0], 0).caught_up(), "librdkafka's internal partition");
    }

    #[test]
    fn forgotten_partitions_wait_for_new_evidence() {
        let mut c = clocks();
        for p in [0, 1] {
            c.record_read("a.in", p, Some(100 * S));
            c.record_read("b.in", p, Some(100 * S));
        }
        c.forget([1]);
        assert_eq!((c.cutoff(0, 200 * S), c.cutoff(1, 200 * S)), (100 * S - S / 2, i64::MIN));
        c.forget_all();
        assert_eq!(c.cutoff(0, 200 * S), i64::MIN);
    }

    #[test]
    fn without_network_inputs_timers_go_by_the_wall_clock() {
        let c = AnswerClocks::new(Vec::new(), Duration::from_millis(500));
        assert_eq!(c.cutoff(3, 100 * S), 100 * S);
    }
}
