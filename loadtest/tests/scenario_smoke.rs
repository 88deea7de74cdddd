//! The smoke scenarios of `make test`: a short `steady` run (pass-through baseline,
//! then the switch, both as their own processes) and a short `timeouts` run against
//! the test broker. Fail on any lost, duplicated or unexpected outcome, and check the
//! report files.

use interlink_loadtest::scenario::{self, RiskControlKind, Scenario, ScenarioOptions};
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
        routes: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../routes/sample.toml")],
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
        repeated_per_mille: 100,
        reused_per_mille: 10,
        silent_per_mille: 50,
        late_per_mille: 20,
        response_deadline_seconds: None,
        seed: 11,
        broker_pids: Vec::new(),
        batch_max_records: 2_000,
        batch_max_interval_ms: 50,
        kafka: interlink_switch::config::KafkaConfig {
            brokers: interlink_testkit::broker::test_brokers().expect("the test starts with require_broker!()"),
            ..Default::default()
        },
        loadtest_bin: Some(loadtest_bin),
        schema_registry: None,
        faults: Default::default(),
        controls: vec![
            RiskControlKind::Limits,
            RiskControlKind::Anomalies,
            RiskControlKind::Creditor,
            RiskControlKind::Blocks,
            RiskControlKind::Screening,
        ],
        screening_cache_names: 100_000,
    }
}

/// Through the Schema Registry when there is one (`make test` starts it): the
/// workers, the generator and the verifier frame and read records with its ids.
#[test]
fn steady_smoke_scenario_has_exactly_one_outcome_per_request() {
    interlink_testkit::require_broker!();
    let out = tempfile::tempdir().unwrap();
    let opts =
        ScenarioOptions { schema_registry: interlink_testkit::schema_registry::test_registry(), ..options(out.path()) };
    let report = scenario::run(opts, |_, _| {}).expect("the scenario runs");

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

/// Two legs through every network, whose simulators leave some payments unanswered and
/// accept some after the (2 s) deadline: each is refused with AB05, none clears, each
/// late acceptance is dead-lettered.
#[test]
fn timeouts_smoke_scenario_refuses_every_unanswered_payment_once() {
    interlink_testkit::require_broker!();
    let out = tempfile::tempdir().unwrap();
    let opts = ScenarioOptions {
        scenario: Scenario::Timeouts,
        rate: 200,
        seconds: 3,
        response_deadline_seconds: Some(2),
        // Enough of 600 payments to time out that both kinds occur.
        silent_per_mille: 100,
        late_per_mille: 50,
        ..options(out.path())
    };
    let report = scenario::run(opts, |_, _| {}).expect("the scenario runs");
    let [run] = report.runs.as_slice() else { panic!("one run: {:?}", report.runs.len()) };
    let (s, t) = (&run.summary, &run.summary.timeouts);
    assert!(s.is_exact(), "{s}");
    assert_eq!(s.requests, 600);
    assert!(t.silent > 0 && t.late > 0, "{s}");
    assert_eq!((t.refused, t.late_dead_lettered), (t.silent + t.late, t.late), "{s}");
    assert!(t.ms_min >= 2_000.0, "never before the deadline: {s}");
    // The upper bound (deadline + slack) is the report's to judge: on a test machine
    // busy with other tests it says more about the machine than about the switch.
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.pass && !c.name.contains("within the slack")).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let md = std::fs::read_to_string(out.path().join("timeouts-exactly-once-two-leg").join("report.md")).unwrap();
    assert!(md.contains("payments accepted after the deadline"), "{md}");
}

/// The risk scenario, short: the same bursts through a fleet with every control of the
/// risk table (and screening) and one without, each request exactly one outcome on
/// both sides, and the cost measured and checked.
#[test]
fn risk_smoke_scenario_runs_both_fleets_and_measures_the_controls() {
    interlink_testkit::require_broker!();
    let out = tempfile::tempdir().unwrap();
    let routes = Path::new(env!("CARGO_MANIFEST_DIR")).join("routes/northbound-risk.toml");
    let opts = ScenarioOptions { scenario: Scenario::Risk, routes: vec![routes], ..options(out.path()) };
    let report = scenario::run(opts, |_, _| {}).expect("the scenario runs");
    let labels: Vec<&str> = report.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["plain capacity #1", "every control capacity #1"]);
    for run in &report.runs {
        assert!(run.summary.is_exact(), "{}: {}", run.label, run.summary);
        assert_eq!(run.summary.requests, 3_000, "{}", run.label);
        assert!(run.worker_cpu_us_per_request > 0.0, "{}", run.label);
    }
    let (plain, controlled) = (&report.runs[0].summary, &report.runs[1].summary);
    assert_eq!(
        (plain.approved, plain.rejected, plain.dead_lettered),
        (controlled.approved, controlled.rejected, controlled.dead_lettered),
        "the controls change no outcome of this traffic"
    );
    let check =
        report.checks.iter().find(|c| c.name.starts_with("worker CPU per authorization added by every risk control"));
    assert!(check.is_some_and(|c| c.measured.ends_with(')')), "{:?}", report.checks);
    assert!(out.path().join("risk-exactly-once/report.md").exists());
}
