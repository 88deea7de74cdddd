//! Liveness and readiness, shared by the worker threads and the HTTP endpoints.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Health {
    routing_version: AtomicI64,
    worker_running: AtomicBool,
    assigned_partitions: AtomicUsize,
    /// Assigned state partitions not yet restored from their changelog.
    restoring: AtomicUsize,
}

impl Health {
    pub fn set_routing_version(&self, v: i64) {
        self.routing_version.store(v, Ordering::Relaxed);
    }
    pub fn set_worker_running(&self, running: bool) {
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
    /// Ready: a routing table is loaded, the worker is consuming, and the state of
    /// every partition it owns is restored.
    pub fn ready(&self) -> bool {
        self.routing_version() > 0 && self.worker_running.load(Ordering::Relaxed) && self.restoring() == 0
    }
}
