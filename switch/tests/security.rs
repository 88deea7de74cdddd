//! TLS, SASL/SCRAM and ACLs, against a broker of this test's own: `scripts/kafka up
//! --secure` in a temporary KAFKA_HOME on ports of its own (a SASL_SSL listener, a
//! throwaway CA, SCRAM users made when the storage is formatted, KRaft's
//! StandardAuthorizer with nothing allowed without an ACL). It is stopped by pid at the
//! end, also when the test fails.
//!
//! The admin sets the ACLs with `interlinkctl acls apply`; the operator creates the
//! topics and applies the routing table with `interlinkctl`; a switch worker connects
//! as `worker` and settles payments that the load test sends as `loadtest`; the
//! worker's credentials cannot change routing (nor can a network's write requests);
//! and no password appears in any log of the run. Skipped (with a message) when there
//! is no java to run the broker.

mod common;

use interlink_switch::config::{KafkaConfig, SwitchConfig};
use interlink_switch::kafka::base_client_config;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const USERS: [&str; 5] = ["admin", "operator", "worker", "network-hk-fps", "loadtest"];

/// The test's own secure single-node broker; stopped (SIGKILL, by pid) when dropped.
struct SecureBroker {
    home: tempfile::TempDir,
    bootstrap: String,
}

impl SecureBroker {
    /// `None` when java is missing.
    fn start() -> Option<Self> {
        if Command::new("java").arg("-version").output().is_err() {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the security test needs java (Java 17+) to run its own secure broker"
            );
            return None;
        }
        let home = tempfile::Builder::new().prefix("interlink-secure-kafka.").tempdir().unwrap();
        let port = free_port_pair();
        let out = Command::new(format!("{ROOT}/scripts/kafka"))
            .args(["up", "--secure"])
            .env("KAFKA_HOME", home.path())
            .env("KAFKA_LIB", kafka_lib())
            .env("KAFKA_PORT_BASE", port.to_string())
            .env("KAFKA_HEAP", "384m")
            .output()
            .expect("scripts/kafka runs");
        let mut broker = Self { home, bootstrap: String::new() };
        assert!(
            out.status.success(),
            "secure broker did not start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            broker.server_log_tail()
        );
        broker.bootstrap = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
        assert_eq!(broker.bootstrap, format!("127.0.0.1:{port}"));
        Some(broker)
    }

    fn secure_dir(&self) -> PathBuf {
        self.home.path().join("cluster/secure")
    }

    /// `user`'s client configuration file, as `scripts/kafka up --secure` wrote it.
    fn config_file(&self, user: &str) -> PathBuf {
        self.secure_dir().join(format!("{user}.toml"))
    }

    fn kafka(&self, user: &str) -> KafkaConfig {
        let text = std::fs::read_to_string(self.config_file(user)).unwrap();
        let file: toml::Table = toml::from_str(&text).unwrap();
        let config: KafkaConfig = file["kafka"].clone().try_into().unwrap();
        config.check().unwrap();
        config
    }

    fn password(&self, user: &str) -> String {
        std::fs::read_to_string(self.secure_dir().join(format!("{user}.password"))).unwrap().trim().to_string()
    }

    fn server_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.home.path().join("cluster/node1/server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        let pid_file = self.home.path().join("cluster/node1/pid");
        let Some(pid) = std::fs::read_to_string(pid_file).ok().and_then(|p| p.trim().parse::<i32>().ok()) else {
            return;
        };
        // Only the broker of this KAFKA_HOME (a pid of a broker that died may be reused).
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let home = self.home.path().to_string_lossy();
        if !String::from_utf8_lossy(&cmdline).contains(home.as_ref()) {
            return;
        }
        // A throwaway broker: nothing to flush.
        let pid = Pid::from_raw(pid);
        if kill(pid, Signal::SIGKILL).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while kill(pid, None).is_ok() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The jars `scripts/kafka` resolves (shared with the test broker of `make test`, so
/// they are not resolved again).
fn kafka_lib() -> PathBuf {
    if let Ok(lib) = std::env::var("KAFKA_LIB") {
        return lib.into();
    }
    match std::env::var("KAFKA_HOME") {
        Ok(home) => Path::new(&home).join("lib"),
        Err(_) => Path::new(ROOT).join(".kafka/lib"),
    }
}

/// A client port whose next port (the controller's) is free too, away from the ports
/// other brokers on this machine use (9092/9093, 1xxxx to 3xxxx).
fn free_port_pair() -> u16 {
    use rand::Rng;
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let mut rng = rand::rng();
    loop {
        let p: u16 = rng.random_range(40_000..60_000);
        if free(p) && free(p + 1) {
            return p;
        }
    }
}

/// Runs `interlinkctl` with `args`; stdout and stderr are kept for the log check.
fn ctl(logs: &mut Vec<String>, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1")
        .current_dir(ROOT)
        .output()
        .expect("interlinkctl runs");
    logs.push(format!(
        "$ interlinkctl {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    out
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Produces one record as `kafka`'s principal and waits for the broker's answer.
fn produce(kafka: &KafkaConfig, topic: &str, payload: &[u8]) -> Result<(), KafkaError> {
    let producer: FutureProducer = base_client_config(kafka).set("message.timeout.ms", "10000").create()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let record = FutureRecord::to(topic).key("probe").payload(payload);
    runtime.block_on(producer.send(record, Duration::from_secs(15))).map(|_| ()).map_err(|(e, _)| e)
}

/// Whether `result` is the broker refusing `principal` the topic.
fn refused(result: &Result<(), KafkaError>) -> bool {
    matches!(
        result.as_ref().err().and_then(KafkaError::rdkafka_error_code),
        Some(RDKafkaErrorCode::TopicAuthorizationFailed)
    )
}

#[test]
fn switch_cli_and_load_test_work_over_sasl_ssl_with_acls() {
    let started = Instant::now();
    let Some(broker) = SecureBroker::start() else { return };
    eprintln!("secure broker {} up after {:?}", broker.bootstrap, started.elapsed());
    let mut logs = Vec::new();
    let cfg = |user: &str| broker.config_file(user).display().to_string();

    // The admin (a super user) gives each principal its part.
    let out = ctl(
        &mut logs,
        &[],
        &[
            "--kafka-config",
            &cfg("admin"),
            "acls",
            "apply",
            "--operator",
            "User:operator",
            "--worker",
            "User:worker",
            "--network",
            "HK_FPS=User:network-hk-fps",
            "--client",
            "loadtest",
            "--group",
            "sec-switch",
            "--transactional-id-prefix",
            "sec-switch",
        ],
    );
    let applied = ok(&out);
    assert!(applied.contains("of them new"), "{applied}");
    let listed = ok(&ctl(&mut logs, &[], &["--kafka-config", &cfg("admin"), "acls", "list"]));
    assert!(listed.contains("User:operator") && listed.contains("interlink.routes.audit"), "{listed}");

    // The operator creates the topics and applies the routing table.
    ok(&ctl(&mut logs, &[], &["--kafka-config", &cfg("operator"), "topics", "create", "--partitions", "2"]));
    let out = ctl(
        &mut logs,
        &[],
        &[
            "--kafka-config",
            &cfg("operator"),
            "routes",
            "apply",
            "routes/sample.toml",
            "--operator",
            "alice",
            "--reason",
            "security test",
        ],
    );
    assert!(ok(&out).contains("as version 1"), "{}", ok(&out));
    // The same operator through the environment only (the password read verbatim).
    let operator = broker.kafka("operator");
    let operator_pw = broker.password("operator");
    let env = [
        ("INTERLINK_KAFKA__SECURITY_PROTOCOL", "sasl_ssl"),
        ("INTERLINK_KAFKA__SASL_USERNAME", "operator"),
        ("INTERLINK_KAFKA__SASL_PASSWORD", operator_pw.as_str()),
        ("INTERLINK_KAFKA__SSL_CA_LOCATION", operator.ssl_ca_location.as_str()),
    ];
    let shown = ok(&ctl(&mut logs, &env, &["--brokers", &broker.bootstrap, "routes", "show"]));
    assert!(shown.contains("version 1"), "{shown}");
    // The audit trail names the principal the brokers authenticated, not only the text.
    assert!(shown.contains("last change by alice as User:operator"), "{shown}");
    let history = ok(&ctl(&mut logs, &env, &["--brokers", &broker.bootstrap, "routes", "history"]));
    assert!(history.contains("alice (User:operator)"), "{history}");

    // A worker connects as `worker`, its password in the environment (so that the
    // configuration it logs at debug level has one to mask).
    let mut worker_kafka = broker.kafka("worker");
    worker_kafka.sasl_password = interlink_switch::config::Secret::new(broker.password("worker"));
    worker_kafka.sasl_password_file.clear();
    worker_kafka.group_id = "sec-switch".into();
    worker_kafka.transactional_id_prefix = "sec-switch".into();
    worker_kafka.session_timeout_ms = 6_000;
    let mut config = SwitchConfig { worker_id: "w-sec".into(), kafka: worker_kafka.clone(), ..SwitchConfig::default() };
    config.http.listen = ([127, 0, 0, 1], common::free_port()).into();
    config.pipeline.batch_max_interval_ms = 50;
    let state = tempfile::tempdir().unwrap();
    config.state.dir = state.path().to_path_buf();
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("security-worker.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let worker = Command::new(env!("CARGO_BIN_EXE_interlink-switch"))
        .envs(config.env_vars())
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("switch binary starts");
    let worker_pid = Pid::from_raw(worker.id() as i32);
    // Stops the worker also when an assertion below fails.
    let mut worker = KillOnDrop(worker);
    let ready = wait_until(Duration::from_secs(45), || {
        let body = blocking_get(config.http.listen, "/readyz");
        body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200")
    });
    assert!(ready, "worker not ready:\n{}", std::fs::read_to_string(&log_path).unwrap_or_default());

    // The load test's principal sends requests and reads every outcome.
    let load_out = run_load(&broker, &mut logs);
    eprintln!("{load_out}");

    // A worker's credentials cannot change routing...
    for topic in ["interlink.routes", "interlink.routes.audit"] {
        let r = produce(&worker_kafka, topic, b"{\"forged\":true}");
        assert!(refused(&r), "the worker wrote to {topic}: {r:?}");
    }
    // (A block is a change set of its own: the table can be read, not written.)
    let out = ctl(
        &mut logs,
        &[],
        &[
            "--kafka-config",
            &cfg("worker"),
            "risk",
            "block",
            "--kind",
            "institution",
            "--network",
            "HK_FPS",
            "--value",
            "004",
            "--operator",
            "mallory",
            "--reason",
            "forged",
        ],
    );
    assert!(!out.status.success(), "interlinkctl as the worker changed routing");
    let stderr = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    assert!(stderr.contains("authoriz"), "{stderr}");
    // ...nor can a network's principal send requests or answer for another network...
    let network = broker.kafka("network-hk-fps");
    assert!(refused(&produce(&network, "interlink.auth.requests", b"x")));
    assert!(refused(&produce(&network, "interlink.net.cn_ibps.in", b"x")));
    produce(&network, "interlink.net.hk_fps.in", b"<Document/>").expect("a network writes its own .in topic");
    // ...and the table is still the operator's version 1.
    let shown = ok(&ctl(&mut logs, &env, &["--brokers", &broker.bootstrap, "routes", "show"]));
    assert!(shown.contains("version 1\n") && shown.contains("by alice"), "{shown}");

    kill(worker_pid, Signal::SIGTERM).unwrap();
    let status = common::wait_exit(&mut worker.0, Duration::from_secs(30)).expect("worker exits after SIGTERM");
    assert!(status.success(), "clean exit after SIGTERM: {status}");

    // No password in any log of the run; the worker's configuration dump masks its own.
    let worker_log = std::fs::read_to_string(&log_path).unwrap();
    assert!(worker_log.contains("principal=\"worker\""), "{worker_log}");
    assert!(worker_log.contains("sasl_password: \"***\""), "the configuration dump shows the password masked");
    let all = format!("{worker_log}\n{}\n{load_out}", logs.join("\n"));
    for user in USERS {
        let password = broker.password(user);
        assert!(password.len() >= 32);
        assert!(!all.contains(&password), "{user}'s password appears in a log");
    }
    let keystore = std::fs::read_to_string(broker.secure_dir().join("keystore.password")).unwrap();
    assert!(!all.contains(keystore.trim()), "the keystore's password appears in a log");
    eprintln!("security test done in {:?}", started.elapsed());
}

/// Requests from the load test's principal: the real `interlink-loadtest run` when it
/// is built beside `interlinkctl` (`make test` builds every binary), else the same run
/// in this process. Either way every outcome is checked, exactly once.
fn run_load(broker: &SecureBroker, logs: &mut Vec<String>) -> String {
    let loadtest = Path::new(env!("CARGO_BIN_EXE_interlinkctl")).with_file_name("interlink-loadtest");
    let current = loadtest.exists()
        && Command::new(&loadtest)
            .arg("--help")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--kafka-config"));
    if current {
        let out = Command::new(&loadtest)
            .args(["--kafka-config", &broker.config_file("loadtest").display().to_string()])
            .args(["run", "--count", "200", "--routes", "routes/sample.toml", "--timeout", "60"])
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .current_dir(ROOT)
            .output()
            .expect("interlink-loadtest runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        logs.push(format!("$ interlink-loadtest run\n{text}"));
        assert!(out.status.success(), "load test as `loadtest` failed:\n{text}");
        return text;
    }
    eprintln!("note: no current interlink-loadtest beside interlinkctl; the load runs in this process");
    let kafka = broker.kafka("loadtest");
    let opts = interlink_testkit::RunOptions {
        kafka: interlink_testkit::kafka::Connection::from_config(base_client_config(&kafka)),
        topics: interlink_switch::config::TopicsConfig::default(),
        load: interlink_testkit::Load::Burst(200),
        mix: interlink_testkit::Mix::default(),
        seed: 7,
        timeout: Duration::from_secs(60),
        network_legs: interlink_testkit::NetworkLegs::default(),
        simulate: false,
        schema_registry: None,
        quiet: None,
    };
    let summary = interlink_testkit::run(&opts, &common::sample_rules(), |_| {}).expect("the load runs");
    assert!(summary.is_exact(), "{summary}");
    assert_eq!(summary.requests, 200);
    assert!(summary.approved > 100, "{summary}");
    summary.to_string()
}

fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

fn blocking_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes());
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

/// A child process killed when dropped, unless it has exited (std does not signal a
/// child it has reaped, so another process that got its pid is safe).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
