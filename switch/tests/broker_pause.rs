//! A broker paused for longer than the commit timeout, under load: the commit's
//! outcome is unknown to the worker, which rebuilds its producer and resumes from the
//! group's committed offsets rather than rewinding blindly. Nothing is lost and
//! nothing decided twice.
//!
//! It pauses the local broker that `make test` started (`scripts/kafka`, one node),
//! found by its pid file; against any other broker it is skipped. It is the only test
//! of its binary, and cargo runs test binaries one at a time, so no other test meets
//! the paused broker.

mod common;

use common::{wait_ready, Fixture};
use interlink_schemas::{ClearingRecord, Codec};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The pause: longer than the worker's 30-second transaction timeout
/// (`INTERLINK_TEST_PAUSE_SECONDS` for a longer one: the 90-second outage of the docs).
fn pause() -> Duration {
    let seconds = std::env::var("INTERLINK_TEST_PAUSE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    Duration::from_secs(seconds)
}

/// The local single-node broker's pid, when the tests run against it.
fn local_broker_pid() -> Option<Pid> {
    let cluster = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.kafka/cluster");
    let nodes = std::fs::read_to_string(cluster.join("nodes")).ok()?;
    let pid = std::fs::read_to_string(cluster.join("node1/pid")).ok()?;
    let brokers = interlink_testkit::broker::test_brokers()?;
    if nodes.trim() != "1" || brokers != "127.0.0.1:9092" {
        return None;
    }
    Some(Pid::from_raw(pid.trim().parse().ok()?))
}

/// Resumes the broker however the test ends.
struct Resume(Pid);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_paused_past_the_commit_timeout_loses_and_doubles_nothing() {
    interlink_testkit::require_broker!();
    let Some(broker) = local_broker_pid() else {
        eprintln!("SKIPPED: not the local single-node broker of scripts/kafka");
        return;
    };
    // The worker runs in this process: its log goes to a file, so that a failure (a
    // worker that does not come back after the pause) can be read afterwards.
    let log =
        std::fs::File::create(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("broker-pause.log")).unwrap();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,rdkafka=warn"))
        .with_writer(std::sync::Mutex::new(log))
        .with_ansi(false)
        .try_init();
    let fx = Fixture::new(3).await;
    let switch = interlink_switch::start(fx.switch_config("w-pause")).await.unwrap();
    wait_ready(&switch).await;

    // Sent at once, so the requests are all in Kafka before the pause: the test's own
    // producer is not what is tested.
    let total = 6_000u64;
    let mut opts = fx.load_options(total);
    opts.timeout = Duration::from_secs(300);
    let rules = common::sample_rules();
    // /readyz through the pause: what it answered, in order.
    let readyz_answers: Arc<Mutex<Vec<String>>> = Arc::default();
    let prober = {
        let (answers, addr) = (readyz_answers.clone(), switch.http_addr());
        tokio::spawn(async move {
            loop {
                let answer = common::try_http_get(addr, "/readyz").await.unwrap_or_else(|e| format!("no answer: {e}"));
                answers.lock().unwrap().push(answer);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let paused: Arc<Mutex<Option<(Resume, Instant)>>> = Arc::default();
    let paused_in_run = paused.clone();
    let summary = tokio::task::spawn_blocking(move || {
        let mut done = false;
        interlink_testkit::run(&opts, &rules, |p| {
            let mut paused = paused_in_run.lock().unwrap();
            // Pause once a quarter of the outcomes are in, with a batch open.
            if !done && paused.is_none() && p.satisfied * 4 >= p.expected {
                kill(broker, Signal::SIGSTOP).unwrap();
                *paused = Some((Resume(broker), Instant::now()));
            }
            if paused.as_ref().is_some_and(|(_, at)| at.elapsed() >= pause()) {
                *paused = None; // dropping Resume sends SIGCONT
                done = true;
            }
        })
    })
    .await
    .unwrap();
    drop(paused.lock().unwrap().take());
    let summary = summary.unwrap();
    assert_eq!(summary.requests, total);
    assert!(summary.is_exact(), "{summary}");

    // Late duplicates, if any, would come from a batch decided again after the pause:
    // give the worker time, then count every clearing record there is.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let clearing = fx.read(&fx.topics.clearing, summary.approved as usize, Duration::from_secs(30));
    let mut per_tx: HashMap<String, usize> = HashMap::new();
    for (_, v) in &clearing {
        *per_tx.entry(Codec::<ClearingRecord>::new().unwrap().decode(v).unwrap().transaction_id).or_default() += 1;
    }
    assert_eq!(clearing.len() as u64, summary.approved, "one clearing record per approved payment");
    assert!(per_tx.values().all(|n| *n == 1), "no payment cleared twice");
    // The pause did hit a commit: the case under test happened.
    let metrics = common::http_get(switch.http_addr(), "/metrics").await;
    let failed_commits: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("interlink_txn_aborts_total{cause=\"commit\"}"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(failed_commits >= 1.0, "no commit failed during the pause:\n{metrics}");
    // Readiness told the truth: not ready, with the reason, while the broker was away;
    // ready again after.
    prober.abort();
    let answers = readyz_answers.lock().unwrap().clone();
    let unready: Vec<&String> =
        answers.iter().filter(|a| a.lines().next().is_some_and(|l| l.contains(" 503"))).collect();
    assert!(
        unready.iter().any(|a| a.contains("reason commits: ") || a.contains("reason no broker in reach")),
        "/readyz never said why it was not ready: {unready:?}"
    );
    let now = common::http_get(switch.http_addr(), "/readyz").await;
    assert!(now.lines().next().is_some_and(|l| l.contains(" 200")), "not ready again after the pause: {now}");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
