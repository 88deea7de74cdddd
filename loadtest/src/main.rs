//! `interlink-loadtest`: drive a running switch with generated requests and verify
//! that each one gets exactly its expected outcome.

use anyhow::Context;
use clap::{Parser, Subcommand};
use interlink_routing::parse_routes_file;
use interlink_switch::kafka::base_client_config;
use interlink_testkit::kafka::Connection;
use interlink_testkit::{run, Mix, NetworkLegs, Progress, RunOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about = "Load generator and exactly-once verifier for Interlink")]
struct Cli {
    #[command(flatten)]
    cluster: interlink_switch::cli::ClusterArgs,
    #[command(subcommand)]
    command: Command,
}

// Parsed once; the scenario's options (with the fault suite's) are the large variant.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Send requests, wait for every outcome, print a summary. Exits 1 unless every
    /// request got exactly its expected outcome.
    Run {
        /// Number of requests.
        #[arg(long, default_value_t = 5_000)]
        count: u64,
        /// Requests per second (default: as fast as possible).
        #[arg(long)]
        rate: Option<u64>,
        /// Routing-table file the switch runs with; requests are drawn from it.
        #[arg(long, default_value = "routes/sample.toml")]
        routes: PathBuf,
        /// Shares of no-route, above-cap, invalid and poison requests, per thousand.
        #[arg(long, default_value_t = 40)]
        no_route: u32,
        #[arg(long, default_value_t = 20)]
        above_cap: u32,
        #[arg(long, default_value_t = 20)]
        invalid: u32,
        #[arg(long, default_value_t = 20)]
        poison: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds to wait for all outcomes.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Also write the summary as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Networks the switch settles through their connector (as its networks.connected).
        #[arg(long, value_delimiter = ',')]
        connected: Vec<String>,
        /// Simulate the connected networks in this process.
        #[arg(long)]
        simulate: bool,
        /// Payments the simulated networks accept, per thousand.
        #[arg(long, default_value_t = 950)]
        accept_per_mille: u32,
        /// Reasons the simulated networks reject with.
        #[arg(long, value_delimiter = ',', default_value = "AC04,AM04,AB06")]
        reject_reasons: Vec<String>,
        /// The Schema Registry the switch uses (Confluent-compatible API); without it,
        /// fixed ids.
        #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY")]
        schema_registry: Option<String>,
    },
    /// Plays one or more payment networks: answers the switch's payments on
    /// interlink.net.<network>.out with status reports on .in, until interrupted or
    /// --seconds have passed.
    Simulate {
        /// Networks to simulate (for example CN_IBPS HK_FPS).
        #[arg(required = true)]
        networks: Vec<String>,
        /// Payments accepted per thousand.
        #[arg(long, default_value_t = 950)]
        accept_per_mille: u32,
        /// Reject reasons (ISO 20022), chosen per transaction.
        #[arg(long, value_delimiter = ',', default_value = "AC04,AM04,AB06")]
        reject_reasons: Vec<String>,
        /// Milliseconds between reading a payment and answering.
        #[arg(long, default_value_t = 5)]
        latency_ms: u64,
        /// Stop after this many seconds (default: run until interrupted).
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// A load-test scenario: starts its own switch workers (and, for steady, the
    /// pass-through baseline) on fresh topics, runs the load, checks every outcome,
    /// and writes report.json, report.md and chart.svg. Exits 1 if a check failed.
    Scenario(Box<interlink_loadtest::scenario::ScenarioOptions>),
    /// The baseline worker: a raw Kafka pass-through with the switch's batching,
    /// transaction mode and fan-out, but no switch logic (started by `scenario`).
    Passthrough(interlink_loadtest::passthrough::PassthroughOptions),
    /// Routing-table scale: publish a large table, hydrate it from Kafka as a worker
    /// does, compile it again, and measure route resolution latency on it.
    RoutesScale {
        #[arg(long, default_value_t = 990_000)]
        participants: usize,
        #[arg(long, default_value_t = 10_000)]
        corridors: usize,
        #[arg(long, default_value_t = 1_000_000)]
        lookups: u64,
    },
    /// Keyed-state restore: fill a fresh state changelog with request memos, restore
    /// it into an empty store, then restart over the checkpointed store; report times,
    /// memory and disk per key.
    StateRestore(interlink_loadtest::state_restore::StateRestoreOptions),
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let kafka = cli.cluster.kafka().context("the Kafka client settings")?;
    let connection = Connection::from_config(base_client_config(&kafka));
    let (count, rate, routes, mix, seed, timeout, json, legs, simulate, schema_registry) = match cli.command {
        Command::Run {
            count,
            rate,
            routes,
            no_route,
            above_cap,
            invalid,
            poison,
            seed,
            timeout,
            json,
            connected,
            simulate,
            accept_per_mille,
            reject_reasons,
            schema_registry,
        } => {
            let mix = Mix { no_route, above_cap, invalid, poison, ..Mix::default() };
            let legs = NetworkLegs { connected, accept_per_mille, reject_reasons, ..NetworkLegs::default() };
            (count, rate, routes, mix, seed, timeout, json, legs, simulate, schema_registry)
        }
        Command::Simulate { networks, accept_per_mille, reject_reasons, latency_ms, seconds } => {
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let threads: Vec<_> = networks
                .iter()
                .map(|network| {
                    let opts = interlink_testkit::simulator::SimulatorOptions {
                        kafka: connection.clone(),
                        topics: cli.cluster.topics(),
                        network: network.clone(),
                        accept_per_mille,
                        reject_reasons: reject_reasons.clone(),
                        latency: Duration::from_millis(latency_ms),
                        late_answers: interlink_testkit::simulator::LateAnswers::default(),
                    };
                    let stop = stop.clone();
                    (network.clone(), std::thread::spawn(move || interlink_testkit::simulator::run(&opts, stop)))
                })
                .collect();
            let deadline = seconds.map(|s| std::time::Instant::now() + Duration::from_secs(s));
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let until = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d.into()).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = until => {} }
            });
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            for (network, t) in threads {
                let stats = t
                    .join()
                    .map_err(|_| anyhow::anyhow!("simulator thread panicked"))?
                    .map_err(|e| anyhow::anyhow!(e))?;
                println!("{network}: {stats:?}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Scenario(mut opts) => {
            opts.kafka = kafka;
            let mut last = (String::new(), 0);
            let report = interlink_loadtest::scenario::run(*opts, |label, p| {
                if (label, p.elapsed.as_secs()) != (last.0.as_str(), last.1) {
                    last = (label.to_string(), p.elapsed.as_secs());
                    eprint!(
                        "\r{label:<28} {:>4}s  sent {:>9}  outcomes {:>9}/{:<9}",
                        last.1, p.sent, p.satisfied, p.expected
                    );
                    let _ = std::io::stderr().flush();
                }
            })
            .map_err(|e| anyhow::anyhow!(e))?;
            eprintln!();
            println!("{}", report.markdown());
            return Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Command::Passthrough(mut opts) => {
            opts.kafka = kafka;
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut worker = {
                    let stop = stop.clone();
                    tokio::task::spawn_blocking(move || interlink_loadtest::passthrough::run(&opts, &stop))
                };
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                tokio::select! {
                    // Ending on its own means it failed: say so now, not at the next signal.
                    ended = &mut worker => return Ok(ended??),
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok::<_, anyhow::Error>(worker.await??)
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::RoutesScale { participants, corridors, lookups } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
            let report = runtime
                .block_on(interlink_loadtest::routes_scale::run(&kafka, participants, corridors, lookups))
                .map_err(|e| anyhow::anyhow!(e))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            return Ok(ExitCode::SUCCESS);
        }
        Command::StateRestore(mut opts) => {
            opts.kafka = kafka;
            let report = interlink_loadtest::state_restore::run(&opts)?;
            println!("{}", report.summary());
            println!("{}", serde_json::to_string(&report)?);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let text = std::fs::read_to_string(&routes).with_context(|| format!("reading {}", routes.display()))?;
    let rules = parse_routes_file(&routes.display().to_string(), &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let opts = RunOptions {
        kafka: connection,
        topics: cli.cluster.topics(),
        load: match rate {
            Some(rate) => interlink_testkit::Load::Paced(vec![interlink_testkit::Phase { count, rate }]),
            None => interlink_testkit::Load::Burst(count),
        },
        mix,
        seed,
        timeout: Duration::from_secs(timeout),
        network_legs: legs,
        simulate,
        // An empty INTERLINK_SCHEMA_REGISTRY means none, as for the workers.
        schema_registry: schema_registry.filter(|url| !url.trim().is_empty()),
        quiet: None,
    };
    let mut last_second = 0;
    let summary = run(&opts, &rules, |p: &Progress| {
        if p.elapsed.as_secs() > last_second {
            last_second = p.elapsed.as_secs();
            eprint!(
                "\r{:>4}s  sent {:>9}  outcomes {:>9}/{:<9} {:>8.0}/s",
                last_second,
                p.sent,
                p.satisfied,
                p.expected,
                p.satisfied as f64 / p.elapsed.as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
    })?;
    eprintln!();
    println!("{summary}");
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(if summary.is_exact() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
