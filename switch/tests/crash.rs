//! Exactly-once under a crash: a worker process is killed with SIGKILL mid-stream
//! and restarted; a read_committed reader still sees exactly one outcome per request.

mod common;

use common::{spawn_configured, wait_exit, Fixture};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn spawn_worker(fx: &Fixture, worker_id: &str, log_name: &str) -> Child {
    spawn_configured(&fx.switch_config(worker_id), log_name)
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

/// Deadlines live in the state, not in a sleeping task: payments a network never
/// answers, whose timers are pending when the worker is killed, are refused exactly
/// once after a worker that never held them restores the state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_pending_at_a_crash_fire_exactly_once_after_a_restore() {
    use interlink_schemas::{Notification, PaymentStatus};
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let spawn = |worker: &str, log: &str| {
        let mut config = fx.switch_config(worker);
        config.networks.connected = vec!["HK_FPS".into()];
        config.networks.response_deadline_seconds = 5;
        spawn_configured(&config, log)
    };
    let mut first = spawn("w-timers-a", "timers-first.log");
    let sent_at = Instant::now();
    let ids: Vec<String> = (0..60).map(|i| format!("silent-{i:03}")).collect();
    let records: Vec<(&str, Vec<u8>)> =
        ids.iter().map(|tx| (tx.as_str(), common::encode(&common::request(tx, "004", 1_000)))).collect();
    fx.produce(&records, None);
    // Every payment is out (so its timer is committed) and HK FPS says nothing.
    let out = fx.read(&fx.topics.network_out("HK_FPS"), ids.len(), Duration::from_secs(60));
    assert_eq!(out.len(), ids.len());
    assert!(sent_at.elapsed() < Duration::from_secs(5), "killed before any deadline");
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    first.wait().unwrap();
    // Another worker, with a store of its own (empty): it restores the timers.
    let mut second = spawn("w-timers-b", "timers-second.log");

    let notes: Vec<Notification> =
        fx.read_events::<Notification>(&fx.topics.notifications, 2 * ids.len(), Duration::from_secs(60));
    assert_eq!(notes.len(), 2 * ids.len(), "each side of each payment told once, no timer fired twice");
    let mut seen = std::collections::HashSet::new();
    for n in &notes {
        assert!(seen.insert(n.notification_id.clone()), "{} twice", n.notification_id);
        assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AB05")), "{n:?}");
    }
    assert!(sent_at.elapsed() >= Duration::from_secs(5), "none before its deadline");
    assert!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(2)).is_empty(), "nothing cleared");

    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut second, Duration::from_secs(30)).expect("worker exits after SIGTERM");
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    fx.cleanup().await;
}

/// Answers a network wrote before their deadlines while no worker ran are honoured by
/// the worker that takes over after the deadlines: those payments settle, none times
/// out; the payments nobody answered still do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_written_in_time_while_no_worker_ran_settle_after_their_deadline() {
    use interlink_connectors::{CanonicalStatus, PaymentStatus as WireStatus};
    use interlink_schemas::{ClearingRecord, Notification, PaymentStatus};
    use std::collections::BTreeSet;
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    // Long enough that a busy machine still writes the answers before it.
    const DEADLINE: Duration = Duration::from_secs(10);
    let spawn = |worker: &str, log: &str| {
        let mut config = fx.switch_config(worker);
        config.networks.connected = vec!["HK_FPS".into()];
        config.networks.response_deadline_seconds = DEADLINE.as_secs();
        spawn_configured(&config, log)
    };
    let mut first = spawn("w-behind-a", "behind-first.log");
    let sent_at = Instant::now();
    let ids: Vec<String> = (0..40).map(|i| format!("behind-{i:03}")).collect();
    let records: Vec<(&str, Vec<u8>)> =
        ids.iter().map(|tx| (tx.as_str(), common::encode(&common::request(tx, "004", 1_000)))).collect();
    fx.produce(&records, None);
    let out = fx.read(&fx.topics.network_out("HK_FPS"), ids.len(), Duration::from_secs(60));
    assert_eq!(out.len(), ids.len());
    let all_out_at = Instant::now();
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    first.wait().unwrap();

    // With no worker running, HK FPS accepts half of them, each before its deadline
    // (which started after `sent_at`).
    let hk = interlink_connectors::connector("HK_FPS").unwrap();
    let producer: rdkafka::producer::ThreadedProducer<rdkafka::producer::DefaultProducerContext> =
        rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &fx.kafka.brokers)
            .set("partitioner", "murmur2_random")
            .create()
            .unwrap();
    let mut answered = BTreeSet::new();
    for (_, message) in out.iter().step_by(2) {
        let payment = hk.decode_payment(message).unwrap();
        let status = CanonicalStatus {
            message_id: format!("ANS-{}", payment.transaction_id),
            created_at: interlink_schemas::now_micros(),
            original_message_id: payment.message_id.clone(),
            original_end_to_end_id: payment.end_to_end_id.clone(),
            original_transaction_id: payment.transaction_id.clone(),
            original_uetr: payment.uetr.clone(),
            status: WireStatus::ACCC,
            reason: None,
            additional_info: None,
            instructing_agent: None,
            instructed_agent: None,
            original_amount: None,
        };
        let topic = fx.topics.network_in("HK_FPS");
        let key = payment.transaction_id.as_bytes();
        interlink_testkit::kafka::send(&producer, &topic, key, &hk.encode_status(&status).unwrap()).unwrap();
        answered.insert(payment.end_to_end_id);
    }
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
    assert!(sent_at.elapsed() < DEADLINE, "answered in time, or the test proves nothing");
    // Every deadline passes before a worker runs again.
    tokio::time::sleep((all_out_at + DEADLINE + Duration::from_secs(1)).saturating_duration_since(Instant::now()))
        .await;
    let mut second = spawn("w-behind-b", "behind-second.log");

    let clearing = fx.read_events::<ClearingRecord>(&fx.topics.clearing, answered.len(), Duration::from_secs(60));
    let cleared: BTreeSet<String> = clearing.iter().map(|c| c.end_to_end_id.clone()).collect();
    assert_eq!((clearing.len(), &cleared), (answered.len(), &answered), "each answered payment cleared once");
    let notes = fx.read_events::<Notification>(&fx.topics.notifications, 2 * ids.len(), Duration::from_secs(60));
    assert_eq!(notes.len(), 2 * ids.len(), "each side of each payment told once");
    for n in &notes {
        let expected = if answered.contains(&n.end_to_end_id) {
            (PaymentStatus::ACCC, None)
        } else {
            (PaymentStatus::RJCT, Some("AB05"))
        };
        assert_eq!((n.status, n.reason_code.as_deref()), expected, "{n:?}");
    }
    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(3));
    assert!(dead.is_empty(), "no answer taken for late, no return sent");

    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut second, Duration::from_secs(30)).expect("worker exits after SIGTERM");
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    fx.cleanup().await;
}

/// A worker killed while it restores its state leaves nothing half-done: its
/// successor restores the whole changelog and knows every request it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_during_its_restore_is_replaced_by_one_that_restores_everything() {
    use interlink_core::memory::{home_partition, request_hash, Decision, RecordPlace, RequestKey, RequestMemo};
    use interlink_schemas::{Notification, PaymentStatus};
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;

    // A changelog that takes a while to read: 300,000 remembered requests.
    let producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let remembered = |i: usize| common::request(&format!("old-{i:06}"), "004", 1_000);
    for i in 0..300_000 {
        let request = remembered(i);
        let memo = RequestMemo {
            request_hash: request_hash(&request),
            decision: Decision::Accepted,
            routing_version: 1,
            first: RecordPlace { partition: 0, offset: -1 },
            decided_at: interlink_schemas::now_micros(),
            expires_at: interlink_schemas::now_micros() + 3_600_000_000,
        };
        let (key, value) = (RequestKey::of(&request), memo.encode().unwrap());
        let partition = home_partition(request.transaction_id.as_bytes(), 3);
        let mut record = BaseRecord::to(&fx.topics.state).partition(partition).key(key.as_bytes()).payload(&value[..]);
        while let Err((_, r)) = producer.send(record) {
            record = r;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    producer.flush(Duration::from_secs(60)).unwrap();

    let spawn = |worker: &str, port: u16, log: &str| {
        let mut config = fx.switch_config(worker);
        config.http.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        spawn_configured(&config, log)
    };
    let port = common::free_port();
    let mut first = spawn("w-restore-a", port, "restore-first.log");
    // Kill it once /readyz says it is restoring.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the first worker never reported a restore");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s.write_all(b"GET /readyz HTTP/1.0\r\nHost: x\r\n\r\n").await;
            let mut body = String::new();
            let _ = s.read_to_string(&mut body).await;
            if body.contains("503")
                && body.lines().any(|l| l.starts_with("restoring_partitions ") && !l.ends_with(" 0"))
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    first.wait().unwrap();

    // Same worker id, same store (half restored, no checkpoint for it): it starts over.
    let mut second = spawn("w-restore-a", common::free_port(), "restore-second.log");
    let copies: Vec<(String, Vec<u8>)> = (0..300_000)
        .step_by(10_000)
        .map(|i| {
            let r = remembered(i);
            (r.transaction_id.clone(), common::encode(&r))
        })
        .collect();
    let records: Vec<(&str, Vec<u8>)> = copies.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fx.produce(&records, None);
    let notes: Vec<Notification> =
        fx.read_events::<Notification>(&fx.topics.notifications, copies.len(), Duration::from_secs(120));
    assert_eq!(notes.len(), copies.len(), "every copy answered once");
    assert!(notes.iter().all(|n| n.repeat && n.status == PaymentStatus::ACCC), "each known as a repeat: {notes:?}");
    assert!(fx.read(&fx.topics.clearing, 1, Duration::from_secs(2)).is_empty(), "nothing cleared again");

    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut second, Duration::from_secs(60)).expect("worker exits after SIGTERM");
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    fx.cleanup().await;
}
