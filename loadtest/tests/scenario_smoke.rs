//! The smoke scenario of `make test`: a short `steady` run (pass-through baseline,
//! then the switch, both as their own processes) against the test broker. Fails on
//! any lost, duplicated or unexpected outcome, and checks the report files.

use interlink_loadtest::scenario::{self, Scenario, ScenarioOptions};
use std::path::{Path, PathBuf};

fn options(out: &Path) -> ScenarioOptions {
    let loadtest_bin = PathBuf::from(env!("CARGO_BIN_EXE_interlink-loadtest"));
    let switch_bin = loadtest_bin.with_file_name("interlink-switch");
    assert!(switch_bin.exists(), "{} is built by `cargo test --workspace --all-targets`", switch_bin.display());
    ScenarioOptions {
        scenario: Scenario::Steady,
        out: out.to_path_buf(),
        logs: out.join("logs"),
        switch_bin: Some(switch_bin),
        routes: Path::new(env!("CARGO_MANIFEST_DIR")).join("../routes/sample.toml"),
        partitions: 3,
        workers: 1,
        consistency: interlink_switch::config::ConsistencyMode::ExactlyOnce,
        connected: Vec::new(),
        rate: 500,
        seconds: 4,
        burst: 3_000,
        capacity_repeats: 1,
        ramp_start: 0,
        ramp_step: 0,
        ramp_max: 0,
        ramp_seconds: 0,
        spike_factor: 5,
        seed: 11,
        broker_pids: Vec::new(),
        batch_max_records: 2_000,
        batch_max_interval_ms: 50,
        brokers: interlink_testkit::broker::test_brokers().expect("the test starts with require_broker!()"),
        loadtest_bin: Some(loadtest_bin),
    }
}

#[test]
fn steady_smoke_scenario_has_exactly_one_outcome_per_request() {
    interlink_testkit::require_broker!();
    let out = tempfile::tempdir().unwrap();
    let report = scenario::run(options(out.path()), |_, _| {}).expect("the scenario runs");

    let labels: Vec<&str> = report.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["baseline capacity #1", "switch capacity #1", "baseline steady", "switch steady"]);
    for run in &report.runs {
        let s = &run.summary;
        assert!(s.is_exact(), "{}: {s}", run.label);
        assert_eq!(s.requests, if run.label.contains("capacity") { 3_000 } else { 2_000 }, "{}", run.label);
        assert_eq!(s.approved + s.rejected + s.dead_lettered, s.requests, "{}: {s}", run.label);
        assert!(run.worker_cpu_secs > 0.0, "{}: the workers' CPU time was measured", run.label);
        let sent: u64 = s.timeline.iter().map(|t| t.sent).sum();
        let completed: u64 = s.timeline.iter().map(|t| t.completed).sum();
        assert_eq!((sent, completed), (s.requests, s.requests), "{}: timeline", run.label);
    }
    let exactness: Vec<_> = report.checks.iter().filter(|c| c.name.contains("exactly one")).collect();
    assert_eq!(exactness.len(), 4);
    assert!(exactness.iter().all(|c| c.pass), "{exactness:?}");

    let dir = out.path().join("steady-exactly-once");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 4);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| switch steady | 1 | 2000 |"), "{md}");
    assert!(report.runs.iter().all(|r| r.summary.written_rate_per_sec > 0.0));
    let svg = std::fs::read_to_string(dir.join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"), "a chart with lines");
}
