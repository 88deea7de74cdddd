//! The short fault suite of `make test`: the `faults` scenario with a few faults of
//! each kind against a broker of its own (scripts/kafka under a temporary KAFKA_HOME
//! and a free port), since it kills and pauses that broker. Alone in its test binary;
//! cargo runs test binaries one at a time. The broker is stopped at the end, also when
//! the test fails. Debug workers, about 2.5 minutes.

use interlink_loadtest::faults::FaultOptions;
use interlink_loadtest::scenario::{self, Scenario, ScenarioOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A single-node cluster of this test's own; `scripts/kafka down` when dropped.
struct OwnBroker {
    home: tempfile::TempDir,
    bootstrap: String,
}

impl OwnBroker {
    fn start() -> Result<Self, String> {
        let home = tempfile::Builder::new().prefix("interlink-faults-kafka").tempdir().map_err(|e| e.to_string())?;
        let port = free_port_pair().ok_or("no free port pair")?;
        let mut c = Command::new(root().join("scripts/kafka"));
        c.args(["up", "--nodes", "1"]).env("KAFKA_HOME", home.path()).env("KAFKA_PORT_BASE", port.to_string());
        // The jars `make test` already resolved for its own broker, when there are.
        let shared = std::env::var_os("KAFKA_LIB").map(PathBuf::from).unwrap_or_else(|| root().join(".kafka/lib"));
        if shared.join(".pom.sha").exists() {
            c.env("KAFKA_LIB", &shared);
        }
        let out = c.output().map_err(|e| e.to_string())?;
        // Constructed before the check, so a half-started broker is stopped too.
        let broker =
            Self { home, bootstrap: String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or("").into() };
        if !out.status.success() {
            return Err(format!("scripts/kafka up: {}: {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        Ok(broker)
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/kafka")).arg("down").env("KAFKA_HOME", self.home.path()).status();
    }
}

/// A port whose next port is free too (client and controller listeners).
fn free_port_pair() -> Option<u16> {
    for _ in 0..50 {
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        if port < 65_000 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Some(port);
        }
    }
    None
}

#[test]
fn faults_smoke_scenario_keeps_exactly_one_outcome_per_request() {
    let loadtest_bin = PathBuf::from(env!("CARGO_BIN_EXE_interlink-loadtest"));
    let switch_bin = loadtest_bin.with_file_name("interlink-switch");
    assert!(switch_bin.exists(), "{} is built by `cargo test --workspace --all-targets`", switch_bin.display());
    // A broker of its own, so it may be killed and paused; without one (no Java), the
    // shared test broker without broker faults.
    let (own, brokers) = match OwnBroker::start() {
        Ok(b) => {
            let brokers = b.bootstrap.clone();
            (Some(b), brokers)
        }
        Err(e) => {
            eprintln!("NOTE: no broker of its own ({e}); running without broker faults on the test broker");
            (None, interlink_testkit::require_broker!())
        }
    };
    let out = tempfile::tempdir().unwrap();
    let opts = ScenarioOptions {
        scenario: Scenario::Faults,
        out: out.path().to_path_buf(),
        logs: out.path().join("logs"),
        switch_bin: Some(switch_bin),
        routes: vec![root().join("routes/sample.toml")],
        partitions: 6,
        workers: 3,
        consistency: interlink_switch::config::ConsistencyMode::ExactlyOnce,
        connected: Vec::new(),
        rate: 200,
        seconds: 90,
        burst: 0,
        capacity_repeats: 1,
        ramp_start: 0,
        ramp_step: 0,
        ramp_max: 0,
        ramp_seconds: 0,
        spike_factor: 5,
        repeated_per_mille: 0,
        reused_per_mille: 0,
        silent_per_mille: 0,
        late_per_mille: 0,
        response_deadline_seconds: None,
        seed: 16,
        broker_pids: Vec::new(),
        batch_max_records: 2_000,
        batch_max_interval_ms: 50,
        kafka: interlink_switch::config::KafkaConfig { brokers, ..Default::default() },
        loadtest_bin: Some(loadtest_bin),
        schema_registry: None,
        controls: Vec::new(),
        screening_cache_names: 0,
        faults: FaultOptions {
            kills: 5,
            sigterms: 1,
            broker_kills: u32::from(own.is_some()),
            broker_pauses: u32::from(own.is_some()),
            broker_recovery_seconds: 5,
            storm_seconds: 10,
            storm_every_seconds: 3,
            route_changes: 3,
            route_change_every_seconds: 3,
            hanging_transactions: 1,
            hang_timeout_seconds: 10,
            quiet_seconds: 20,
            kafka_home: own.as_ref().map(|b| b.home.path().to_path_buf()),
            kafka_script: root().join("scripts/kafka"),
            ..FaultOptions::default()
        },
    };
    let result = scenario::run(opts, |_, _| {});
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let md = std::fs::read_dir(out.path())
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|d| std::fs::read_to_string(d.ok()?.path().join("report.md")).ok());
            panic!("the scenario failed: {e:#}\n{}", md.unwrap_or_default());
        }
    };
    let [run] = report.runs.as_slice() else { panic!("one run: {}", report.runs.len()) };
    let s = &run.summary;
    assert!(s.is_exact(), "{s}\n{}", report.markdown());
    assert_eq!(s.requests, 18_000);
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.pass).collect();
    assert!(failed.is_empty(), "{failed:#?}\n{}", report.markdown());
    drop(own);
}
