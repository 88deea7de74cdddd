//! `interlink-switch`: one stateless switch worker.

use anyhow::Context;
use clap::Parser;
use interlink_switch::SwitchConfig;
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Interlink switch worker: routes authorizations from Kafka, exactly once")]
struct Args {
    /// TOML configuration file; INTERLINK_* environment variables override it
    /// (INTERLINK_KAFKA__BROKERS, INTERLINK_PIPELINE__CONSISTENCY, ...).
    #[arg(long, short, env = "INTERLINK_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // The SIGTERM handler first: a worker told to stop while it is still starting (the
    // fault suite did it 0.1 s after a start) drains and exits 0 instead of dying of the
    // signal.
    let term = {
        let _runtime = runtime.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("SIGTERM handler")?
    };
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,rdkafka=warn".into()),
        )
        .init();
    interlink_switch::panics::abort_on_panic_outside_decisions();
    let config = SwitchConfig::load(args.config.as_deref())?;
    runtime.block_on(interlink_switch::run(config, shutdown_signal(term))).context("switch stopped with an error")
}

/// SIGTERM (orchestrators) or Ctrl-C.
async fn shutdown_signal(mut term: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
