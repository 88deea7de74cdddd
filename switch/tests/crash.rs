//! Exactly-once under a crash: a worker process is killed with SIGKILL mid-stream
//! and restarted; a read_committed reader still sees exactly one outcome per request.

mod common;

use common::Fixture;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn spawn_worker(fx: &Fixture, worker_id: &str, log_name: &str) -> Child {
    let log = std::fs::File::create(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(log_name)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_interlink-switch"))
        .envs(fx.switch_env(worker_id))
        .env("RUST_LOG", "info,rdkafka=warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("switch binary starts")
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_yields_exactly_one_outcome_per_request() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let worker = Arc::new(Mutex::new(spawn_worker(&fx, "w-crash", "crash-first.log")));

    let mut opts = fx.load_options(12_000);
    opts.load = interlink_testkit::Load::Paced(vec![interlink_testkit::Phase { count: 12_000, rate: 3_000 }]);
    let rules = common::sample_rules();
    let (w, fx_for_restart) =
        (worker.clone(), Fixture { prefix: fx.prefix.clone(), kafka: fx.kafka.clone(), topics: fx.topics.clone() });
    let (summary, killed_at) = tokio::task::spawn_blocking(move || {
        let mut killed_at = None;
        let summary = interlink_testkit::run(&opts, &rules, |p| {
            // Kill once a quarter of the outcomes are in: transactions are open and
            // requests are still arriving.
            if killed_at.is_none() && p.satisfied * 4 >= p.expected {
                let mut child = w.lock().unwrap();
                kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
                child.wait().unwrap();
                *child = spawn_worker(&fx_for_restart, "w-crash", "crash-restarted.log");
                killed_at = Some(p.satisfied);
            }
        })
        .unwrap();
        (summary, killed_at)
    })
    .await
    .unwrap();

    let killed_at = killed_at.expect("the worker was killed during the run");
    assert!(killed_at < 12_000, "killed mid-stream, after {killed_at} outcomes");
    assert_eq!(summary.requests, 12_000);
    assert_eq!((summary.lost, summary.duplicated, summary.unexpected), (0, 0, 0), "{summary}");
    assert_eq!(summary.approved + summary.rejected + summary.dead_lettered, 12_000, "{summary}");

    // The restarted worker drains and leaves on SIGTERM.
    {
        let mut child = worker.lock().unwrap();
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
        let status = wait_exit(&mut child, Duration::from_secs(30)).expect("worker exits after SIGTERM");
        assert!(status.success(), "clean exit after SIGTERM: {status}");
    }
    fx.cleanup().await;
}
