//! Health that tells the truth: a worker started before its brokers are reachable
//! waits for them (no exit, no crash loop) with /readyz saying why, then works;
//! /healthz is a check of the worker, not a constant.

mod common;

use common::{http_get, wait_ready, Fixture};
use std::time::{Duration, Instant};

/// Forwards connections from `listener` to `to`, until the task is aborted. Kafka
/// clients only bootstrap through it: the broker then tells them its own address.
async fn forward(listener: tokio::net::TcpListener, to: String) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else { return };
        let to = to.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_before_its_brokers_waits_says_why_and_then_works() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let broker = fx.kafka.brokers.split(',').next().unwrap().to_string();
    // A bootstrap address nothing listens on yet.
    let port = common::free_port();
    let mut config = fx.switch_config("w-early");
    config.kafka.brokers = format!("127.0.0.1:{port}");
    let switch = interlink_switch::start(config).await.unwrap();

    // Long enough for several failed attempts at every step that needs a broker.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let ready = http_get(switch.http_addr(), "/readyz").await;
    eprintln!("/readyz before the brokers:\n{ready}");
    assert!(status_line(&ready).contains("503"), "{ready}");
    assert!(ready.contains("reason routing table: brokers not reached"), "{ready}");
    let live = http_get(switch.http_addr(), "/healthz").await;
    assert!(status_line(&live).contains("200"), "waiting for brokers is not being stuck: {live}");

    // The brokers appear: the worker finds them by itself and settles payments.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let proxy = tokio::spawn(forward(listener, broker));
    let since = Instant::now();
    wait_ready_within(&switch, Duration::from_secs(60)).await;
    eprintln!("ready {:?} after the brokers appeared", since.elapsed());
    let ready = http_get(switch.http_addr(), "/readyz").await;
    assert!(status_line(&ready).contains("200"), "{ready}");
    assert!(!ready.contains("reason"), "{ready}");

    let opts = fx.load_options(300);
    let rules = common::sample_rules();
    let summary =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &rules, |_| {})).await.unwrap().unwrap();
    assert_eq!(summary.requests, 300);
    assert!(summary.is_exact(), "{summary}");
    // Caught up: the statistics (every 500 ms) show nothing waiting.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = http_get(switch.http_addr(), "/readyz").await;
        if ready.contains("\nlag 0\n") {
            break;
        }
        assert!(Instant::now() < deadline, "lag never reported as 0: {ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let live = http_get(switch.http_addr(), "/healthz").await;
    assert!(status_line(&live).contains("200") && live.ends_with("ok\n"), "{live}");
    switch.stop().await.unwrap();
    proxy.abort();
    fx.cleanup().await;
}

async fn wait_ready_within(switch: &interlink_switch::RunningSwitch, within: Duration) {
    let deadline = Instant::now() + within;
    while !(switch.health().ready() && switch.health().assigned_partitions() > 0) {
        let why = switch.health().readiness().err().unwrap_or_default();
        assert!(Instant::now() < deadline, "worker not ready within {within:?}: {why}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_ready(switch).await;
}
