//! Interlink's stateless switch worker.
//!
//! A worker reads the routing table from Kafka, consumes authorization requests,
//! decides each with the core's `Processor` against an immutable table snapshot and
//! the keyed state of the record's partition ([`state`]), and commits clearing records,
//! notifications, dead letters and state changes together with the consumed offsets.
//! Its local store is a cache of a changelog topic, so workers scale by joining the
//! consumer group.
//!
//! Payments to a connected network take two legs: out as the network's own message
//! through its connector ([`legs`]), settled when the network's status report comes
//! back; a payment in flight is keyed state at the partition of its wire id, where
//! the network's report arrives.
//!
//! The decisions are made by pure crates (`interlink-routing`, `interlink-core`); this
//! crate is the edge around them: [`kafka`] is the only module that talks to brokers,
//! with configuration, the operators' CLI, HTTP and telemetry beside it.

pub mod cli;
pub mod config;
mod health;
mod http;
pub mod kafka;
pub mod panics;
pub mod schemas;
pub mod screening;
pub mod state;
pub mod telemetry;

pub use config::{ConsistencyMode, SwitchConfig};
pub use health::{Health, Part};

use interlink_routing::RoutingTable;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error(transparent)]
    Kafka(#[from] kafka::KafkaEdgeError),
    #[error("http listener: {0}")]
    Http(#[from] std::io::Error),
    #[error("{0} thread panicked")]
    Panicked(&'static str),
}

/// A started switch worker.
pub struct RunningSwitch {
    http_addr: SocketAddr,
    health: Arc<Health>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), SwitchError>>,
}

impl RunningSwitch {
    /// Where /metrics, /healthz and /readyz are served.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Asks the worker to drain and stop, and waits until it has.
    pub async fn stop(mut self) -> Result<(), SwitchError> {
        self.shutdown.cancel();
        self.join().await
    }

    /// Waits until the worker stops (on its own error, or after `stop`).
    pub async fn wait(mut self) -> Result<(), SwitchError> {
        self.join().await
    }

    async fn join(&mut self) -> Result<(), SwitchError> {
        (&mut self.task).await.map_err(|_| SwitchError::Panicked("switch"))?
    }
}

/// A switch dropped without `stop` (a panicking caller, say) still shuts down, so
/// its threads do not outlive it.
impl Drop for RunningSwitch {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts a worker: HTTP endpoints, the routes follower and the consumer loop.
pub async fn start(config: SwitchConfig) -> Result<RunningSwitch, SwitchError> {
    // Secrets print as `***` (config::Secret).
    tracing::debug!(?config, "configuration");
    tracing::info!(
        brokers = %config.kafka.brokers,
        security_protocol = config.kafka.security_protocol.as_str(),
        principal = config.kafka.principal().unwrap_or("-"),
        "kafka"
    );
    let shutdown = CancellationToken::new();
    let health = Arc::new(Health::new(std::time::Duration::from_secs(config.http.stuck_after_seconds)));
    let (http_addr, http_task) =
        http::serve(config.http.listen, telemetry::prometheus(), health.clone(), shutdown.clone()).await?;
    tracing::info!(%http_addr, "serving /metrics, /healthz, /readyz");

    let (tables_tx, tables_rx) = watch::channel(Arc::new(RoutingTable::empty()));
    let mut versions = tables_rx.clone();
    let version_health = health.clone();
    tokio::spawn(async move {
        while versions.changed().await.is_ok() {
            version_health.set_routing_version(versions.borrow_and_update().version());
        }
    });

    let config = Arc::new(config);
    let routes = {
        let (config, token, health) = (config.clone(), shutdown.clone(), health.clone());
        tokio::task::spawn_blocking(move || {
            let r = kafka::follow_routes(&config.kafka, &config.topics.routes, tables_tx, token.clone(), &health);
            if r.is_err() {
                token.cancel(); // without routes the worker cannot run
            }
            r
        })
    };
    let worker = {
        let (config, token, health) = (config.clone(), shutdown.clone(), health.clone());
        tokio::task::spawn_blocking(move || {
            // A worker that stops, even by unwinding, takes the process down with it.
            let _cancel_on_exit = token.clone().drop_guard();
            kafka::run_worker(&config, tables_rx, token, health)
        })
    };
    let task = tokio::spawn(async move {
        let worker_result = worker.await.map_err(|_| SwitchError::Panicked("worker"))?;
        let routes_result = routes.await.map_err(|_| SwitchError::Panicked("routes"))?;
        let _ = http_task.await;
        worker_result?;
        routes_result?;
        Ok(())
    });
    Ok(RunningSwitch { http_addr, health, shutdown, task })
}

/// Runs a worker until `shutdown` completes, then drains it (commits the open batch
/// and leaves the consumer group).
pub async fn run(config: SwitchConfig, shutdown: impl Future<Output = ()>) -> Result<(), SwitchError> {
    let running = start(config).await?;
    let token = running.shutdown.clone();
    tokio::select! {
        _ = shutdown => {
            tracing::info!("shutdown requested; draining");
            running.stop().await
        }
        _ = token.cancelled() => running.wait().await,
    }
}
