//! Liveness and readiness, shared by the worker threads and the HTTP endpoints.
//!
//! Readiness says whether this worker is doing its job now, and if not, why: brokers
//! out of reach, commits failing, no routing table, state still restoring. Liveness
//! says whether it is stuck: records waiting while no batch commits for
//! `stuck_after`, with the brokers in reach (a broker outage is not the worker's
//! fault, and restarting it would not help).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long every broker must be out of reach before readiness says so (a single
/// reconnect is not an outage).
const BROKERS_DOWN_GRACE: Duration = Duration::from_secs(3);
/// Milliseconds value meaning "not now" in the `*_since_ms` fields.
const NEVER: u64 = u64::MAX;

/// The parts of a worker that can be blocked, each with its own reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The routes follower (reading the routing table).
    Routes,
    /// The worker's start: metadata, partition counts, the transactional producer.
    Start,
    /// Committing batches.
    Commits,
    /// Reading the committed offsets a new assignment starts from.
    Offsets,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Routes => "routing table",
            Part::Start => "start",
            Part::Commits => "commits",
            Part::Offsets => "offsets",
        })
    }
}

#[derive(Debug)]
pub struct Health {
    started: Instant,
    stuck_after: Duration,
    routing_version: AtomicI64,
    worker_running: AtomicBool,
    assigned_partitions: AtomicUsize,
    /// Assigned state partitions not yet restored from their changelog.
    restoring: AtomicUsize,
    /// What keeps the worker from working, by the part that reports it: brokers not
    /// reached at start, a commit that failed and has not been followed by a good one.
    blocked: Mutex<BTreeMap<Part, String>>,
    /// Since when (ms after `started`) no broker has been in reach, or [`NEVER`].
    brokers_down_since_ms: AtomicU64,
    /// Records in the assigned partitions not yet handed to the worker (-1: unknown).
    lag: AtomicI64,
    /// Last committed batch, or last moment nothing was waiting (ms after `started`).
    progress_ms: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self::new(Duration::from_secs(120))
    }
}

impl Health {
    pub fn new(stuck_after: Duration) -> Self {
        Self {
            started: Instant::now(),
            stuck_after,
            routing_version: AtomicI64::new(0),
            worker_running: AtomicBool::new(false),
            assigned_partitions: AtomicUsize::new(0),
            restoring: AtomicUsize::new(0),
            blocked: Mutex::new(BTreeMap::new()),
            brokers_down_since_ms: AtomicU64::new(NEVER),
            lag: AtomicI64::new(-1),
            progress_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn since(&self, ms: u64) -> Duration {
        Duration::from_millis(self.now_ms().saturating_sub(ms))
    }

    pub fn set_routing_version(&self, v: i64) {
        self.routing_version.store(v, Ordering::Relaxed);
    }
    pub fn set_worker_running(&self, running: bool) {
        if running {
            self.progressed();
        }
        self.worker_running.store(running, Ordering::Relaxed);
    }
    pub fn set_assigned(&self, partitions: usize) {
        self.assigned_partitions.store(partitions, Ordering::Relaxed);
    }
    pub fn set_restoring(&self, partitions: usize) {
        self.restoring.store(partitions, Ordering::Relaxed);
    }
    pub fn restoring(&self) -> usize {
        self.restoring.load(Ordering::Relaxed)
    }
    pub fn routing_version(&self) -> i64 {
        self.routing_version.load(Ordering::Relaxed)
    }
    pub fn assigned_partitions(&self) -> usize {
        self.assigned_partitions.load(Ordering::Relaxed)
    }
    /// Records waiting in the assigned partitions, when known.
    pub fn lag(&self) -> Option<u64> {
        u64::try_from(self.lag.load(Ordering::Relaxed)).ok()
    }

    fn lock_blocked(&self) -> std::sync::MutexGuard<'_, BTreeMap<Part, String>> {
        self.blocked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Something keeps `part` from working (shown by /readyz until cleared).
    pub fn set_blocked(&self, part: Part, reason: impl Into<String>) {
        self.lock_blocked().insert(part, reason.into());
    }
    pub fn clear_blocked(&self, part: Part) {
        let mut blocked = self.lock_blocked();
        if !blocked.is_empty() {
            blocked.remove(&part);
        }
    }
    fn blocked(&self) -> Option<String> {
        let blocked = self.lock_blocked();
        (!blocked.is_empty())
            .then(|| blocked.iter().map(|(part, why)| format!("{part}: {why}")).collect::<Vec<_>>().join("; "))
    }

    /// A batch committed: the worker moves.
    pub fn progressed(&self) {
        self.progress_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// What the worker's consumer statistics say: whether any broker is in reach, and
    /// how many records wait in the assigned partitions (`None`: not known yet).
    pub fn observe(&self, any_broker_up: bool, lag: Option<u64>) {
        let down_since = self.brokers_down_since_ms.load(Ordering::Relaxed);
        match (any_broker_up, down_since == NEVER) {
            (true, false) => self.brokers_down_since_ms.store(NEVER, Ordering::Relaxed),
            (false, true) => self.brokers_down_since_ms.store(self.now_ms(), Ordering::Relaxed),
            _ => {}
        }
        self.lag.store(lag.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX)), Ordering::Relaxed);
        if lag == Some(0) {
            self.progressed(); // nothing waits: idle is not stuck
        }
    }

    fn brokers_down_for(&self) -> Option<Duration> {
        match self.brokers_down_since_ms.load(Ordering::Relaxed) {
            NEVER => None,
            since => Some(self.since(since)),
        }
    }

    /// Ready: the brokers are in reach, nothing blocks the worker, a routing table is
    /// loaded, it is consuming, and the state of every partition it owns is restored.
    /// Otherwise the first reason that applies.
    pub fn readiness(&self) -> Result<(), String> {
        if let Some(reason) = self.blocked() {
            return Err(reason);
        }
        if let Some(down) = self.brokers_down_for().filter(|d| *d >= BROKERS_DOWN_GRACE) {
            return Err(format!("no broker in reach for {} s", down.as_secs()));
        }
        if self.routing_version() <= 0 {
            return Err("no routing table loaded yet".into());
        }
        if !self.worker_running.load(Ordering::Relaxed) {
            return Err("the worker is not consuming".into());
        }
        match self.restoring() {
            0 => Ok(()),
            n => Err(format!("restoring the state of {n} partition(s)")),
        }
    }

    pub fn ready(&self) -> bool {
        self.readiness().is_ok()
    }

    /// Alive unless stuck: records wait and no batch has committed for `stuck_after`,
    /// while the brokers are in reach and no state is being restored.
    pub fn liveness(&self) -> Result<(), String> {
        let running = self.worker_running.load(Ordering::Relaxed);
        let waiting = self.lag().filter(|&l| l > 0);
        let idle_for = self.since(self.progress_ms.load(Ordering::Relaxed));
        match waiting {
            Some(lag)
                if running
                    && self.brokers_down_for().is_none()
                    && self.restoring() == 0
                    && idle_for >= self.stuck_after =>
            {
                let why = self.blocked().map(|b| format!(" ({b})")).unwrap_or_default();
                Err(format!("stuck: {lag} record(s) waiting and no batch committed for {} s{why}", idle_for.as_secs()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Health {
        let h = Health::new(Duration::from_millis(50));
        h.set_routing_version(3);
        h.set_worker_running(true);
        h
    }

    #[test]
    fn ready_gives_the_first_reason_that_applies() {
        let h = Health::new(Duration::from_secs(60));
        assert_eq!(h.readiness(), Err("no routing table loaded yet".into()));
        h.set_routing_version(1);
        assert_eq!(h.readiness(), Err("the worker is not consuming".into()));
        h.set_worker_running(true);
        h.set_restoring(2);
        assert_eq!(h.readiness(), Err("restoring the state of 2 partition(s)".into()));
        h.set_restoring(0);
        assert_eq!(h.readiness(), Ok(()));
        h.set_blocked(Part::Commits, "timed out");
        h.set_blocked(Part::Routes, "no broker");
        assert_eq!(h.readiness(), Err("routing table: no broker; commits: timed out".into()));
        h.clear_blocked(Part::Routes);
        assert_eq!(h.readiness(), Err("commits: timed out".into()));
        h.clear_blocked(Part::Commits);
        assert!(h.ready());
    }

    #[test]
    fn brokers_out_of_reach_make_it_unready_after_a_grace() {
        let mut h = running();
        h.started -= Duration::from_secs(10);
        h.observe(false, None);
        assert!(h.ready(), "a moment without brokers is a reconnect, not an outage");
        h.brokers_down_since_ms.store(0, Ordering::Relaxed); // down for ten seconds
        assert!(h.readiness().unwrap_err().starts_with("no broker in reach"));
        h.observe(true, Some(0));
        assert!(h.ready());
    }

    #[test]
    fn stuck_means_records_wait_and_nothing_commits() {
        let h = running();
        h.observe(true, Some(500));
        assert_eq!(h.liveness(), Ok(()), "not stuck before stuck_after");
        std::thread::sleep(Duration::from_millis(60));
        let stuck = h.liveness().unwrap_err();
        assert!(stuck.starts_with("stuck: 500 record(s) waiting"), "{stuck}");
        h.progressed();
        assert_eq!(h.liveness(), Ok(()));
    }

    #[test]
    fn idle_restoring_or_cut_off_from_brokers_is_not_stuck() {
        let h = running();
        std::thread::sleep(Duration::from_millis(60));
        h.observe(true, Some(0));
        assert_eq!(h.liveness(), Ok(()), "nothing waits");
        h.observe(true, Some(10));
        h.set_restoring(1);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(h.liveness(), Ok(()), "restoring");
        h.set_restoring(0);
        h.observe(false, Some(10));
        assert_eq!(h.liveness(), Ok(()), "the brokers are away");
        h.observe(true, Some(10));
        assert!(h.liveness().is_err());
    }
}
