//! /metrics, /healthz and /readyz on one listener.

use crate::health::Health;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct AppState {
    metrics: PrometheusHandle,
    health: Arc<Health>,
}

/// Binds `listen` and serves until `shutdown`; returns the bound address.
pub async fn serve(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    health: Arc<Health>,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(live))
        .route("/readyz", get(ready))
        .with_state(AppState { metrics, health });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "http server failed");
        }
    });
    Ok((addr, task))
}

async fn render_metrics(State(s): State<AppState>) -> String {
    s.metrics.run_upkeep();
    s.metrics.render()
}

async fn ready(State(s): State<AppState>) -> (StatusCode, String) {
    let readiness = s.health.readiness();
    let mut body = format!(
        "routing_version {}\nassigned_partitions {}\nrestoring_partitions {}\nlag {}\n",
        s.health.routing_version(),
        s.health.assigned_partitions(),
        s.health.restoring(),
        s.health.lag().map_or("unknown".to_string(), |l| l.to_string()),
    );
    match readiness {
        Ok(()) => (StatusCode::OK, body),
        Err(reason) => {
            body.push_str(&format!("reason {reason}\n"));
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }
    }
}

/// Liveness: 503 with the reason when the worker is stuck (see `Health::liveness`).
async fn live(State(s): State<AppState>) -> (StatusCode, String) {
    match s.health.liveness() {
        Ok(()) => (StatusCode::OK, "ok\n".into()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}
