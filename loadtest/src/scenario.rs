//! Load-test scenarios against a real broker: the switch workers (and the
//! pass-through baseline) run as their own processes, so that their CPU time is
//! theirs alone; load, simulators and verification run in this process.
//!
//! - `steady`: baseline and switch capacity on the same burst, then a constant rate;
//! - `ramp`: rising rates until p99 passes 100 ms (the knee), then half the knee;
//! - `spike`: a 5x burst on a constant rate;
//! - `scale-out`: one worker, two more join mid-run;
//! - `crash`: a worker is SIGKILLed mid-run and restarted;
//! - `duplicates`: requests sent again, some with other content, settled directly;
//! - `timeouts`: two legs, with networks that answer some payments late or never;
//! - `faults`: paced load while workers and brokers are killed, paused and drained,
//!   workers join and leave, routes change and transactions hang (see `faults.rs`).

use crate::faults::{Cluster, Driver, FaultOptions, Setup, Tally};
use crate::fleet::{process_cpu_time, Fleet};
use crate::passthrough::PassthroughCheck;
use crate::report::{Check, CpuUsed, Event, Machine, Report, RunReport};
use anyhow::Context as _;
use interlink_core::pipeline::{InputRecord, InputSource, OutputTopic, Processor};
use interlink_routing::{parse_routes_file, RouteRecord, RoutingTable};
use interlink_switch::config::{ConsistencyMode, KafkaConfig, SwitchConfig, TopicsConfig};
use interlink_switch::kafka::admin::{delete_topics, ensure_topics, TopicLayout};
use interlink_switch::kafka::base_client_config;
use interlink_switch::kafka::routes_writer::{apply_rules, ChangeRequest};
use interlink_testkit::generator::{Expected, Generator, Mix, NetworkLegs};
use interlink_testkit::kafka::Connection;
use interlink_testkit::run::{run_with, Load, Phase, Progress, QuietWait, RunOptions};
use interlink_testkit::simulator::LateAnswers;
use interlink_testkit::verifier::{OutcomeCheck, Verifier};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// p99 above this is past the knee.
const KNEE_P99_MS: f64 = 100.0;

/// The response deadline of the `timeouts` scenario, unless given: short, so that a
/// bounded run sees many payments time out.
const TIMEOUTS_DEADLINE_SECONDS: u64 = 3;

/// How much later than its deadline, counted from the request's creation, a timed-out
/// payment may be refused: its deadline starts only when its forward commits (the first
/// hop, whose p99 reached 1.2 s in the measured run), the expiry sweep runs every second,
/// and the refusal still has to commit and be read, on a machine the broker, the worker
/// and the load share. A first run with 2 s missed by 34 ms.
const TIMEOUT_SLACK: Duration = Duration::from_secs(3);

/// How much later than the deadline a late answer is sent (after the simulator reads the
/// payment, which is after its deadline started): more than the sweep's second and the
/// commit, so that the answer finds the payment timed out, never still in flight.
const LATE_ANSWER_AFTER_DEADLINE: Duration = Duration::from_secs(3);

/// The limits' clock skew a fault run's workers allow (see `switch_command`).
const FAULTS_LIMIT_CLOCK_SKEW_SECONDS: u64 = 3_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Steady,
    Ramp,
    Spike,
    ScaleOut,
    Crash,
    Duplicates,
    Timeouts,
    /// A capacity burst with every clearing record netted, then an operator's cut-off:
    /// the cost of netting per authorization, and how long a cut-off takes.
    Settlement,
    /// Paced load through a fleet while faults are injected on a seeded schedule
    /// (worker SIGKILL and SIGTERM, broker SIGKILL and SIGSTOP, a rebalance storm,
    /// routing changes, hanging transactions), then a wait until the outputs are
    /// quiet: every request exactly one correct outcome.
    Faults,
    /// Capacity bursts alternating between two fleets on the same traffic: the table
    /// with every risk control of `--routes` (limits, velocity, anomaly and creditor
    /// rules, blocks) and sanctions screening against a 20,000-entry synthetic list,
    /// and the same table without them: what every control together costs per
    /// authorization.
    Risk,
}

#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct ScenarioOptions {
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Reports go to <out>/<scenario>-<consistency>/.
    #[arg(long, default_value = "docs/loadtest")]
    pub out: PathBuf,
    /// Worker logs go to <logs>/<scenario>-<consistency>/.
    #[arg(long, default_value = "target/loadtest-logs")]
    pub logs: PathBuf,
    /// The switch binary (default: interlink-switch beside this program).
    #[arg(long)]
    pub switch_bin: Option<PathBuf>,
    /// Routing table the switch runs with; requests are drawn from it. Repeat to run
    /// with the rules of several files together (a table, plus settlement schemes).
    #[arg(long, default_value = "routes/sample.toml")]
    pub routes: Vec<PathBuf>,
    /// Partitions of each topic. Fewer partitions mean fewer transaction markers per
    /// commit, which is what the broker spends most on at paced rates.
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// Workers (switch and baseline alike); scale-out starts with one and adds two,
    /// crash runs at least two.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    #[arg(long, value_enum, default_value = "exactly-once")]
    pub consistency: ConsistencyMode,
    /// Networks settled through their connector, with simulators in this process
    /// ("all" for every connector). Empty: direct settlement.
    #[arg(long, value_delimiter = ',')]
    pub connected: Vec<String>,
    /// Requests per second (steady, spike base, scale-out, crash, duplicates, timeouts;
    /// copies included).
    #[arg(long, default_value_t = 4_000)]
    pub rate: u64,
    /// Length of the paced part of the run (steady, scale-out, crash, duplicates, timeouts).
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Requests of the capacity burst, for the baseline (direct settlement only) and
    /// then the switch (steady). 0: no capacity runs.
    #[arg(long, default_value_t = 300_000)]
    pub burst: u64,
    /// Capacity bursts per side, alternating baseline and switch; the ratio compares
    /// the best of each, so a broker busy with something else (deleting an earlier
    /// scenario's topics, a GC) during one burst does not decide it.
    #[arg(long, default_value_t = 2)]
    pub capacity_repeats: u32,
    /// Ramp: first rate, increment and last rate.
    #[arg(long, default_value_t = 2_000)]
    pub ramp_start: u64,
    #[arg(long, default_value_t = 2_000)]
    pub ramp_step: u64,
    #[arg(long, default_value_t = 30_000)]
    pub ramp_max: u64,
    /// Length of each ramp step, and of the run at half the knee.
    #[arg(long, default_value_t = 10)]
    pub ramp_seconds: u64,
    #[arg(long, default_value_t = 5)]
    pub spike_factor: u64,
    /// Duplicates: requests sent again (two or three times in all) with the same
    /// content, and requests whose id a later request with other content reuses, per
    /// thousand.
    #[arg(long, default_value_t = 100)]
    pub repeated_per_mille: u32,
    #[arg(long, default_value_t = 10)]
    pub reused_per_mille: u32,
    /// Timeouts: payments the simulated networks never answer, and those they accept
    /// only after the deadline, per thousand.
    #[arg(long, default_value_t = 50)]
    pub silent_per_mille: u32,
    #[arg(long, default_value_t = 20)]
    pub late_per_mille: u32,
    /// The connected networks' response deadline (default: the switch's, 60 s; 3 s
    /// for timeouts).
    #[arg(long)]
    pub response_deadline_seconds: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Broker processes whose CPU time the report also measures (`scripts/kafka status`).
    #[arg(long, value_delimiter = ',')]
    pub broker_pids: Vec<u32>,
    /// The Schema Registry the workers, the generator and the verifier use
    /// (Confluent-compatible API); without it, fixed ids.
    #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    #[arg(long, default_value_t = 2_000)]
    pub batch_max_records: usize,
    /// Longest a batch stays open: most of the latency at paced rates.
    #[arg(long, default_value_t = 20)]
    pub batch_max_interval_ms: u64,
    /// How to reach the brokers (reports show the brokers only).
    #[arg(skip)]
    #[serde(rename = "brokers", serialize_with = "brokers_only")]
    pub kafka: KafkaConfig,
    /// The program that runs the pass-through baseline (default: this one).
    #[arg(skip)]
    pub loadtest_bin: Option<PathBuf>,
    /// The faults scenario's faults.
    #[command(flatten)]
    pub faults: FaultOptions,
    /// Risk: the controls the controlled fleet runs (the table's rules of those kinds,
    /// and screening), to measure them one at a time.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "limits,anomalies,creditor,blocks,screening")]
    pub controls: Vec<RiskControlKind>,
    /// Risk: the screening workers' `risk.screening_cache_names` (0: every name screened
    /// anew, the worst case; the generator's names recur, so the cache's best case).
    #[arg(long, default_value_t = 100_000)]
    pub screening_cache_names: usize,
}

/// A kind of risk control, as the risk scenario switches them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskControlKind {
    /// Per-person limits and velocity (`[[limits]]`).
    Limits,
    /// Anomaly rules on the debtor's own payments.
    Anomalies,
    /// Anomaly rules on the creditor's (or the payer device's) payments (a second stage per payment).
    Creditor,
    /// Block lists.
    Blocks,
    /// Sanctions screening of both parties' names against a 20,000-entry list.
    Screening,
}

impl RiskControlKind {
    /// The kind of a table rule, if it is a risk control.
    fn of_rule(r: &RouteRecord) -> Option<Self> {
        match r {
            RouteRecord::Limit(_) => Some(Self::Limits),
            RouteRecord::Anomaly(a) if a.pattern.judged_after() => Some(Self::Creditor),
            RouteRecord::Anomaly(_) => Some(Self::Anomalies),
            RouteRecord::Block(_) => Some(Self::Blocks),
            _ => None,
        }
    }
}

fn brokers_only<S: serde::Serializer>(kafka: &KafkaConfig, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&kafka.brokers)
}

impl ScenarioOptions {
    fn name(&self) -> String {
        let scenario = serde_json::to_value(self.scenario).ok().and_then(|v| v.as_str().map(String::from));
        let mode = self.consistency.as_str();
        let legs = if self.connected.is_empty() { "" } else { "-two-leg" };
        // Fault runs on one node and on three are different runs.
        let nodes = match (&self.faults.kafka_home, self.scenario) {
            (Some(home), Scenario::Faults) => Cluster::open(home.clone(), self.faults.kafka_script.clone())
                .map_or_else(
                    |_| String::new(),
                    |c| format!("-{}-node{}", c.nodes, if c.nodes == 1 { "" } else { "s" }),
                ),
            _ => String::new(),
        };
        format!("{}-{mode}{legs}{nodes}", scenario.unwrap_or_default())
    }
}

/// Runs one scenario and writes its report; returns it.
pub fn run(mut opts: ScenarioOptions, mut on_progress: impl FnMut(&str, &Progress)) -> anyhow::Result<Report> {
    // Timeouts are a two-leg matter: every network, unless some are named.
    if opts.scenario == Scenario::Timeouts && opts.connected.is_empty() {
        opts.connected = vec!["all".into()];
    }
    if opts.connected.iter().any(|c| c == "all") {
        opts.connected = interlink_connectors::connectors().map(|c| c.profile().id.to_string()).collect();
    }
    let mut rules = Vec::new();
    for path in &opts.routes {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        rules.extend(parse_routes_file(&path.display().to_string(), &text)?);
    }
    // Rules that are fine file by file may still not fit together.
    RoutingTable::compile(1, &rules)?;
    let switch_bin = match &opts.switch_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("interlink-switch"),
    };
    let name = opts.name();
    let mut bench = Bench {
        opts: &opts,
        rules,
        switch_bin,
        logs: opts.logs.join(&name),
        prefixes: Vec::new(),
        runtime: tokio::runtime::Builder::new_current_thread().enable_all().build()?,
    };
    if let Some(deadline) = bench.response_deadline() {
        // The run's deadline holds for every network, whatever the table sets for one.
        let seconds = u32::try_from(deadline).unwrap_or(u32::MAX);
        for record in &mut bench.rules {
            if let RouteRecord::Network(n) = record {
                n.response_deadline_seconds = Some(seconds);
            }
        }
    }
    let mut report = Report::new(&name, Machine::read(), serde_json::to_value(&opts)?);
    let result = match opts.scenario {
        Scenario::Steady => bench.steady(&mut report, &mut on_progress),
        Scenario::Ramp => bench.ramp(&mut report, &mut on_progress),
        Scenario::Spike => bench.spike(&mut report, &mut on_progress),
        Scenario::ScaleOut => bench.scale_out(&mut report, &mut on_progress),
        Scenario::Crash => bench.crash(&mut report, &mut on_progress),
        Scenario::Duplicates => bench.duplicates(&mut report, &mut on_progress),
        Scenario::Timeouts => bench.timeouts(&mut report, &mut on_progress),
        Scenario::Settlement => bench.settlement(&mut report, &mut on_progress),
        Scenario::Faults => bench.faults(&mut report, &mut on_progress),
        Scenario::Risk => bench.risk(&mut report, &mut on_progress),
    };
    if opts.faults.keep_topics {
        report.finding("topics kept", serde_json::json!(bench.prefixes));
    } else {
        bench.cleanup();
    }
    if let Err(e) = &result {
        // What ran is still worth keeping, with the reason the rest did not.
        report.finding("error", serde_json::json!(format!("{e:#}")));
    }
    for run in &report.runs {
        report.checks.push(Check::new(
            &format!("{}: every request exactly one correct outcome", run.label),
            "0 lost, 0 duplicated, 0 unexpected",
            &format!(
                "{} lost, {} duplicated, {} unexpected{}",
                run.summary.lost,
                run.summary.duplicated,
                run.summary.unexpected,
                if run.summary.clearing_total_mismatches > 0 { ", clearing totals differ" } else { "" }
            ),
            run.summary.is_exact(),
        ));
    }
    report.write(&opts.out.join(&name))?;
    result.map(|()| report)
}

struct Bench<'a> {
    opts: &'a ScenarioOptions,
    rules: Vec<RouteRecord>,
    switch_bin: PathBuf,
    logs: PathBuf,
    /// Topic prefixes this scenario created, deleted at the end.
    prefixes: Vec<String>,
    runtime: tokio::runtime::Runtime,
}

/// Topics (and consumer groups) of their own for one fleet, under one prefix.
struct Stage {
    prefix: String,
    topics: TopicsConfig,
    /// The sanctions lists (OFAC `sdn.csv`, `alt.csv`) its workers screen against.
    screening: Option<(PathBuf, PathBuf)>,
}

impl Bench<'_> {
    fn stage(&mut self) -> anyhow::Result<Stage> {
        let rules = self.rules.clone();
        self.stage_with(&rules)
    }

    /// A stage whose routing table is `rules`.
    fn stage_with(&mut self, rules: &[RouteRecord]) -> anyhow::Result<Stage> {
        let prefix = format!("lt{}.", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let kafka = self.opts.kafka.clone();
        let topics = TopicsConfig::with_prefix(&prefix);
        let layout = if self.opts.scenario == Scenario::Faults {
            // Replication factor 3 and min.insync.replicas 2 on three brokers.
            let brokers = interlink_switch::kafka::admin::broker_count(&kafka)?;
            TopicLayout::for_cluster(self.opts.partitions, brokers)
        } else {
            TopicLayout::with_replication(self.opts.partitions, 1)
        };
        self.runtime.block_on(ensure_topics(&kafka, &topics, layout))?;
        self.prefixes.push(prefix.clone());
        apply_rules(
            &kafka,
            &topics,
            rules,
            ChangeRequest { operator: "loadtest", reason: "scenario", ..Default::default() },
        )?;
        Ok(Stage { prefix, topics, screening: None })
    }

    fn cleanup(&mut self) {
        for prefix in std::mem::take(&mut self.prefixes) {
            let t = TopicsConfig::with_prefix(&prefix);
            let mut names: Vec<String> =
                vec![t.requests.clone(), t.clearing.clone(), t.notifications.clone(), t.dead_letters.clone()];
            names.extend([
                t.routes.clone(),
                t.routes_audit.clone(),
                t.forwards.clone(),
                t.state.clone(),
                t.returns.clone(),
                t.risk_alerts.clone(),
                t.settlement.clone(),
            ]);
            names.extend(
                interlink_connectors::connectors()
                    .flat_map(|c| [t.network_in(c.profile().id), t.network_out(c.profile().id)]),
            );
            let kafka = self.opts.kafka.clone();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            if let Err(e) = self.runtime.block_on(delete_topics(&kafka, &refs)) {
                tracing::warn!(error = %e, prefix, "could not delete the scenario's topics");
            }
        }
    }

    fn switch_command(&self, stage: &Stage, worker: &str) -> Command {
        let o = self.opts;
        let mut config = SwitchConfig { worker_id: worker.into(), topics: stage.topics.clone(), ..Default::default() };
        config.kafka = o.kafka.clone();
        config.kafka.group_id = Self::switch_group(stage);
        config.kafka.transactional_id_prefix = Self::switch_group(stage);
        config.kafka.session_timeout_ms = 6_000;
        config.pipeline.consistency = o.consistency;
        config.pipeline.batch_max_records = o.batch_max_records;
        config.pipeline.batch_max_interval_ms = o.batch_max_interval_ms;
        config.networks.connected = o.connected.clone();
        config.schemas.registry_url = o.schema_registry.clone().unwrap_or_default();
        if let Some(deadline) = self.response_deadline() {
            config.networks.response_deadline_seconds = deadline;
        }
        config.http.listen = ([127, 0, 0, 1], 0).into();
        if let Some((sdn, alt)) = &stage.screening {
            (config.risk.ofac_sdn, config.risk.ofac_alt) = (sdn.display().to_string(), alt.display().to_string());
            config.risk.screening_cache_names = o.screening_cache_names;
        }
        if o.scenario == Scenario::Faults {
            // Faults back up minutes of requests (the outcomes may take the load plus 15
            // minutes). Past the limits' clock skew (5 minutes) a payment under a
            // per-person limit is refused DT01 for its age: the suite checks what the
            // faults do to a payment's outcome, not how old it got, so it allows an hour.
            config.risk.limit_clock_skew_seconds = FAULTS_LIMIT_CLOCK_SKEW_SECONDS;
        }
        let mut c = Command::new(&self.switch_bin);
        // A fault run's worker logs say what each worker was given and restored.
        let log = if o.scenario == Scenario::Faults { "info,rdkafka=warn,librdkafka=warn" } else { "warn" };
        c.envs(config.env_vars()).env("RUST_LOG", log);
        c
    }

    /// The deadline the workers get, when not the switch's default.
    fn response_deadline(&self) -> Option<u64> {
        let o = self.opts;
        o.response_deadline_seconds.or((o.scenario == Scenario::Timeouts).then_some(TIMEOUTS_DEADLINE_SECONDS))
    }

    fn switch_group(stage: &Stage) -> String {
        format!("{}switch", stage.prefix)
    }

    /// `workers` switch workers on the stage's topics, once their group is stable.
    fn switch_fleet(&self, stage: &Stage, workers: usize) -> anyhow::Result<Fleet> {
        let mut fleet = Fleet::new(&self.opts.kafka, &Self::switch_group(stage), self.logs.clone());
        for i in 1..=workers {
            let name = format!("switch-{i}");
            fleet.spawn(&name, self.switch_command(stage, &name)).with_context(|| name.clone())?;
        }
        fleet.wait_stable(workers, Duration::from_secs(60))?;
        Ok(fleet)
    }

    fn passthrough_fleet(&self, stage: &Stage, shape: &OutputShape) -> anyhow::Result<Fleet> {
        let group = format!("{}passthrough", stage.prefix);
        let mut fleet = Fleet::new(&self.opts.kafka, &group, self.logs.clone());
        let me = match &self.opts.loadtest_bin {
            Some(p) => p.clone(),
            None => std::env::current_exe()?,
        };
        let mode = self.opts.consistency.as_str();
        for i in 1..=self.opts.workers {
            let name = format!("passthrough-{i}");
            let mut c = Command::new(&me);
            // Its Kafka settings (credentials too) through the environment, not arguments.
            c.envs(self.opts.kafka.env_vars())
                .args(["--brokers", &self.opts.kafka.brokers, "passthrough"])
                .args(["--group", &group, "--transactional-id", &format!("{group}-{i}")])
                .args(["--input", &stage.topics.requests, "--clearing", &stage.topics.clearing])
                .args(["--notifications", &stage.topics.notifications, "--consistency", mode])
                .args(["--batch-max-records", &self.opts.batch_max_records.to_string()])
                .args(["--batch-max-interval-ms", &self.opts.batch_max_interval_ms.to_string()])
                .args(["--notification-bytes", &shape.notification_bytes.to_string()])
                .args(["--clearing-bytes", &shape.clearing_bytes.to_string()])
                .args(["--fan-out-per-mille", &shape.fan_out_per_mille.to_string()])
                .env("RUST_LOG", "warn");
            fleet.spawn(&name, c).with_context(|| name.clone())?;
        }
        fleet.wait_stable(self.opts.workers, Duration::from_secs(60))?;
        Ok(fleet)
    }

    fn run_options(&self, stage: &Stage, load: Load) -> RunOptions {
        let o = self.opts;
        let seconds = match &load {
            Load::Burst(n) => *n as f64 / 1_000.0,
            Load::Paced(phases) => phases.iter().map(Phase::seconds).sum(),
        };
        let mut mix = Mix::default();
        if o.scenario == Scenario::Duplicates {
            (mix.repeated, mix.reused) = (o.repeated_per_mille, o.reused_per_mille);
        }
        // Screening reads names: the risk scenario's requests carry them.
        mix.party_names = o.scenario == Scenario::Risk;
        let late_answers = match (o.scenario, self.response_deadline()) {
            (Scenario::Timeouts, Some(deadline)) => LateAnswers {
                silent_per_mille: o.silent_per_mille,
                late_per_mille: o.late_per_mille,
                late_by: Duration::from_secs(deadline) + LATE_ANSWER_AFTER_DEADLINE,
            },
            _ => LateAnswers::default(),
        };
        RunOptions {
            kafka: Connection::from_config(base_client_config(&o.kafka)),
            topics: stage.topics.clone(),
            load,
            mix,
            seed: o.seed,
            // Late answers come well after the last request; their dead letters too.
            timeout: Duration::from_secs_f64(seconds + 60.0) + late_answers.late_by,
            network_legs: NetworkLegs {
                connected: o.connected.clone(),
                accept_per_mille: 950,
                reject_reasons: vec!["AC04".into(), "AM04".into(), "AB06".into()],
                late_answers,
            },
            simulate: !o.connected.is_empty(),
            schema_registry: o.schema_registry.clone().filter(|url| !url.trim().is_empty()),
            quiet: None,
        }
    }

    /// One measured run: load, outcome check, CPU time of the fleet and the broker.
    fn measure<C: OutcomeCheck>(
        &self,
        label: &str,
        fleet: &mut Fleet,
        run: RunOptions,
        check: C,
        on_progress: &mut dyn FnMut(&str, &Progress),
        mut during: impl FnMut(&Progress, &mut Fleet, &mut Vec<Event>),
    ) -> anyhow::Result<RunReport> {
        let broker_cpu = || self.opts.broker_pids.iter().filter_map(|p| process_cpu_time(*p)).sum::<Duration>();
        let own_cpu = || process_cpu_time(std::process::id()).unwrap_or_default();
        let (worker_before, broker_before, own_before) = (fleet.cpu_time(), broker_cpu(), own_cpu());
        let mut events = Vec::new();
        let load = run.load.clone();
        let summary = run_with(&run, &self.rules, check, |p| {
            on_progress(label, p);
            during(p, fleet, &mut events);
        })?;
        let (worker_after, broker_after, own_after) = (fleet.cpu_time(), broker_cpu(), own_cpu());
        let cpu = CpuUsed {
            workers: worker_after - worker_before,
            broker: (!self.opts.broker_pids.is_empty()).then(|| broker_after - broker_before),
            load_generator: own_after - own_before,
        };
        Ok(RunReport::new(label, fleet.live_members(), load, summary, cpu, fleet.peak_rss_mib(), events))
    }

    /// A run of the switch's fleet, checked by the switch's verifier.
    fn switch_run(
        &self,
        label: &str,
        fleet: &mut Fleet,
        stage: &Stage,
        load: Load,
        on_progress: &mut dyn FnMut(&str, &Progress),
        during: impl FnMut(&Progress, &mut Fleet, &mut Vec<Event>),
    ) -> anyhow::Result<RunReport> {
        self.measure(label, fleet, self.run_options(stage, load), Verifier::new(), on_progress, during)
    }

    fn steady(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        // The pass-through models direct settlement; two legs have no baseline.
        let mut baseline = if o.burst > 0 && o.connected.is_empty() {
            let shape = OutputShape::of(&self.rules, o.seed)?;
            report.finding("baseline output shape", serde_json::to_value(&shape).unwrap_or_default());
            let stage = self.stage()?;
            let fleet = self.passthrough_fleet(&stage, &shape)?;
            Some((stage, fleet, shape.fan_out_per_mille))
        } else {
            None
        };
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        if o.burst > 0 {
            let (mut best_base, mut best_switch): (Option<RunReport>, Option<RunReport>) = (None, None);
            let better = |best: &mut Option<RunReport>, r: &RunReport| {
                if best.as_ref().is_none_or(|b| r.summary.written_rate_per_sec > b.summary.written_rate_per_sec) {
                    *best = Some(r.clone());
                }
            };
            for i in 1..=o.capacity_repeats.max(1) {
                if let Some((base_stage, base_fleet, fan_out)) = baseline.as_mut() {
                    let run = self.run_options(base_stage, Load::Burst(o.burst));
                    let check = PassthroughCheck::new(*fan_out);
                    let label = format!("baseline capacity #{i}");
                    let r = self.measure(&label, base_fleet, run, check, on_progress, |_, _, _| {})?;
                    better(&mut best_base, &r);
                    report.runs.push(r);
                }
                let label = format!("switch capacity #{i}");
                let r = self.switch_run(&label, &mut fleet, &stage, Load::Burst(o.burst), on_progress, |_, _, _| {})?;
                better(&mut best_switch, &r);
                report.runs.push(r);
            }
            let best_switch = best_switch.expect("at least one capacity run");
            if let Some(base) = best_base {
                let (switch_rate, base_rate) =
                    (best_switch.summary.written_rate_per_sec, base.summary.written_rate_per_sec);
                // By the outputs' timestamps: the verifier decodes every switch output
                // but only counts the pass-through's, so read rates would favour the baseline.
                let ratio = switch_rate / base_rate;
                let target = match o.consistency {
                    ConsistencyMode::ExactlyOnce => 0.70,
                    ConsistencyMode::AtLeastOnce => 0.90,
                };
                report.checks.push(Check::new(
                    "switch throughput / baseline (best capacity run of each)",
                    &format!("≥ {:.0}%", target * 100.0),
                    &format!("{:.0}% ({switch_rate:.0} / {base_rate:.0} req/s)", ratio * 100.0),
                    ratio >= target,
                ));
            }
            report.checks.push(cpu_check(&best_switch));
        }
        if let Some((base_stage, mut base_fleet, fan_out)) = baseline.take() {
            let run = self.run_options(&base_stage, paced(o.rate, o.seconds));
            let check = PassthroughCheck::new(fan_out);
            let r = self.measure("baseline steady", &mut base_fleet, run, check, on_progress, |_, _, _| {})?;
            report.runs.push(r);
            base_fleet.stop_all();
        }
        let load = paced(o.rate, o.seconds);
        let r = self.switch_run("switch steady", &mut fleet, &stage, load, on_progress, |_, _, _| {})?;
        report.runs.push(r);
        fleet.stop_all();
        Ok(())
    }

    fn ramp(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        if o.ramp_step == 0 || o.ramp_start == 0 {
            anyhow::bail!("--ramp-start and --ramp-step must be at least 1");
        }
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        let mut knee = None;
        let mut rate = o.ramp_start;
        while rate <= o.ramp_max {
            let load = paced(rate, o.ramp_seconds);
            let r = self.switch_run(&format!("ramp {rate}/s"), &mut fleet, &stage, load, on_progress, |_, _, _| {})?;
            let under = r.summary.latency_ms_p99 < KNEE_P99_MS && r.summary.is_exact();
            report.runs.push(r);
            if !under {
                break;
            }
            knee = Some(rate);
            rate += o.ramp_step;
        }
        report.finding("knee (highest rate with p99 < 100 ms)", serde_json::json!(knee));
        let Some(knee) = knee else {
            report.checks.push(Check::new("a knee", "p99 < 100 ms at the first rate", "p99 above", false));
            fleet.stop_all();
            return Ok(());
        };
        let half = knee / 2;
        let load = paced(half, o.ramp_seconds);
        let r = self.switch_run(&format!("half knee {half}/s"), &mut fleet, &stage, load, on_progress, |_, _, _| {})?;
        report.checks.push(Check::new(
            "p99 at half the knee",
            "≤ 50 ms",
            &format!("{:.1} ms at {half}/s", r.summary.latency_ms_p99),
            r.summary.latency_ms_p99 <= 50.0,
        ));
        report.runs.push(r);
        fleet.stop_all();
        Ok(())
    }

    fn spike(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        let (before, burst, after) = (10.0, 5.0, 15.0);
        let peak = o.rate * o.spike_factor;
        let phases = vec![
            Phase::for_seconds(o.rate, before),
            Phase::for_seconds(peak, burst),
            Phase::for_seconds(o.rate, after),
        ];
        let label = format!("{}/s, {peak}/s for 5 s", o.rate);
        let r = self.switch_run(&label, &mut fleet, &stage, Load::Paced(phases), on_progress, |_, _, _| {})?;
        let worst = |from: f64, to: f64| serde_json::json!(r.summary.worst_second_p99(from, to));
        report.finding("worst per-second p99 before the spike (ms)", worst(0.0, before));
        report.finding("worst per-second p99 during the spike (ms)", worst(before, before + burst));
        let recovered = r
            .summary
            .timeline
            .iter()
            .find(|s| f64::from(s.second) >= before + burst && s.p99_ms < KNEE_P99_MS)
            .map(|s| f64::from(s.second) - (before + burst));
        report.finding("seconds after the spike until p99 < 100 ms", serde_json::json!(recovered));
        report.runs.push(r);
        fleet.stop_all();
        Ok(())
    }

    fn scale_out(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, 1)?;
        let join_at = Duration::from_secs(o.seconds / 3);
        let mut joining: Vec<_> = ["switch-2", "switch-3"].map(|n| (n, self.switch_command(&stage, n))).into();
        let load = paced(o.rate, o.seconds);
        let r = self.switch_run("1 → 3 workers", &mut fleet, &stage, load, on_progress, |p, fleet, events| {
            if p.elapsed < join_at {
                return;
            }
            for (name, command) in joining.drain(..) {
                let what = match fleet.spawn(name, command) {
                    Ok(()) => format!("{name} started"),
                    Err(e) => format!("{name} failed to start: {e}"),
                };
                events.push(Event::new(p.elapsed, &what));
            }
        })?;
        report.runs.push(r);
        fleet.stop_all();
        Ok(())
    }

    fn crash(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let stage = self.stage()?;
        let workers = o.workers.max(2);
        let mut fleet = self.switch_fleet(&stage, workers)?;
        let kill_at = Duration::from_secs(o.seconds / 2);
        let restart_after = Duration::from_secs(3);
        let victim = "switch-2";
        let mut restart = Some(self.switch_command(&stage, victim));
        let mut killed: Option<Duration> = None;
        let label = format!("SIGKILL 1 of {workers} workers");
        let load = paced(o.rate, o.seconds);
        let r = self.switch_run(&label, &mut fleet, &stage, load, on_progress, |p, fleet, events| match killed {
            None if p.elapsed >= kill_at => {
                let what = match fleet.kill(victim) {
                    Ok(()) => format!("{victim} SIGKILLed"),
                    Err(e) => format!("{victim} could not be killed: {e}"),
                };
                events.push(Event::new(p.elapsed, &what));
                killed = Some(p.elapsed);
            }
            Some(at) if p.elapsed >= at + restart_after => {
                if let Some(c) = restart.take() {
                    let what = match fleet.spawn(&format!("{victim}-restarted"), c) {
                        Ok(()) => format!("{victim} restarted (same worker id)"),
                        Err(e) => format!("{victim} failed to restart: {e}"),
                    };
                    events.push(Event::new(p.elapsed, &what));
                }
            }
            _ => {}
        })?;
        report.finding("worst per-second p99 (ms)", serde_json::json!(r.summary.worst_second_p99(0.0, f64::MAX)));
        report.runs.push(r);
        fleet.stop_all();
        Ok(())
    }

    /// Requests sent again, as origins retry, and ids reused with other content, at a
    /// paced rate, settled directly: each distinct payment clears once, each copy gets
    /// its own answer (a repeat of the first outcome, or AM05 and a dead letter).
    fn duplicates(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        if !o.connected.is_empty() {
            anyhow::bail!("duplicates settles directly: a copy of a payment in flight is answered by when it comes");
        }
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        let label = format!("{}/s, copies included", o.rate);
        let r = self.switch_run(&label, &mut fleet, &stage, paced(o.rate, o.seconds), on_progress, |_, _, _| {})?;
        fleet.stop_all();
        let (s, c) = (&r.summary, &r.summary.copies);
        report.finding("distinct requests", serde_json::json!(c.distinct));
        report.finding("copies with the same content", serde_json::json!(c.repeats_sent));
        report.finding("copies with other content", serde_json::json!(c.modified_sent));
        report.finding("switch CPU per record (µs)", serde_json::json!(tenths(r.worker_cpu_us_per_request)));
        report.checks.push(Check::new(
            "one clearing record per distinct accepted payment, none for a copy",
            &format!("{} (distinct payments accepted)", s.approved),
            &format!("{}", s.clearing_records),
            s.clearing_records == s.approved && s.is_exact(),
        ));
        report.checks.push(Check::new(
            "one repeat notification per copy with the same content, with the first status",
            &format!("{} repeats", c.repeats_sent),
            &format!("{} repeats ({} unexpected outcomes in the run)", c.repeats_answered, s.unexpected),
            c.repeats_answered == c.repeats_sent && s.unexpected == 0,
        ));
        report.checks.push(Check::new(
            "one AM05 refusal and one dead letter per copy with other content",
            &format!("{} and {}", c.modified_sent, c.modified_sent),
            &format!("{} and {}", c.modified_refused, c.modified_dead_lettered),
            c.modified_refused == c.modified_sent && c.modified_dead_lettered == c.modified_sent,
        ));
        report.runs.push(r);
        Ok(())
    }

    /// Two legs with networks that answer some payments never and some only after the
    /// deadline: each is refused with AB05 to both sides once its deadline passes, none
    /// clears, and each late acceptance is dead-lettered.
    fn timeouts(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let deadline = Duration::from_secs(self.response_deadline().expect("timeouts always sets a deadline"));
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        let label = format!("{}/s, deadline {} s", o.rate, deadline.as_secs());
        let r = self.switch_run(&label, &mut fleet, &stage, paced(o.rate, o.seconds), on_progress, |_, _, _| {})?;
        fleet.stop_all();
        let (s, t) = (&r.summary, &r.summary.timeouts);
        report.finding("response deadline (s)", serde_json::json!(deadline.as_secs()));
        report.finding("payments never answered", serde_json::json!(t.silent));
        report.finding("payments accepted after the deadline", serde_json::json!(t.late));
        report.finding(
            "request created to AB05 read, timed-out payments (ms): min, p50, max",
            serde_json::json!([t.ms_min, t.ms_p50, t.ms_max].map(tenths)),
        );
        let cpu = tenths(r.worker_cpu_us_per_request);
        report.finding("switch CPU per authorization, both legs (µs)", serde_json::json!(cpu));
        let timed_out = t.silent + t.late;
        report.checks.push(Check::new(
            "every timed-out payment refused to both sides with AB05, nothing cleared",
            &format!("{timed_out} refused, 0 unexpected outcomes"),
            &format!("{} refused, {} unexpected outcomes", t.refused, s.unexpected),
            t.refused == timed_out && s.unexpected == 0,
        ));
        let (earliest, latest) = (deadline.as_secs_f64() * 1000.0, (deadline + TIMEOUT_SLACK).as_secs_f64() * 1000.0);
        report.checks.push(Check::new(
            "timed-out payments refused after their deadline, within the slack",
            &format!("{earliest:.0} ms ≤ request to AB05 ≤ {latest:.0} ms"),
            &format!("{:.0} to {:.0} ms", t.ms_min, t.ms_max),
            timed_out > 0 && t.ms_min >= earliest && t.ms_max <= latest,
        ));
        report.checks.push(Check::new(
            "one dead letter per late acceptance, saying it came after the timeout",
            &format!("{}", t.late),
            &format!("{}", t.late_dead_lettered),
            t.late_dead_lettered == t.late,
        ));
        report.checks.push(Check::new(
            "clearing: one record per accepted payment, totals equal the accepted amounts",
            &format!("{} records, totals match", s.approved),
            &format!(
                "{} records, totals {}",
                s.clearing_records,
                if s.clearing_total_mismatches == 0 { "match" } else { "differ" }
            ),
            s.clearing_records == s.approved && s.clearing_total_mismatches == 0,
        ));
        report.runs.push(r);
        Ok(())
    }
}

impl Bench<'_> {
    /// A capacity burst of `--burst` requests on a table whose currencies are netted
    /// (CPU per authorization), then an operator's cut-off of every scheme a few seconds
    /// ahead: how long from the cut-off until each currency's cycle is netted and
    /// written, for however many clearing records the cycle holds.
    fn settlement(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let currencies: Vec<String> = self
            .rules
            .iter()
            .filter_map(|r| match r {
                RouteRecord::Settlement(s) => Some(s.currency.clone()),
                _ => None,
            })
            .collect();
        if currencies.is_empty() {
            anyhow::bail!("the settlement scenario needs a table with [[settlement]] schemes (--routes)");
        }
        let stage = self.stage()?;
        let mut fleet = self.switch_fleet(&stage, o.workers)?;
        let r = self.switch_run(
            "switch capacity, netted",
            &mut fleet,
            &stage,
            Load::Burst(o.burst),
            on_progress,
            |_, _, _| {},
        )?;
        report.checks.push(cpu_check(&r));
        report.runs.push(r);

        // Every scheme closes a cycle 3 s from now, as `interlinkctl settlement close` would.
        let cut_off = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
        let mut rules = self.rules.clone();
        for record in &mut rules {
            if let RouteRecord::Settlement(s) = record {
                s.manual_cut_offs.push(cut_off.to_string());
            }
        }
        let kafka = o.kafka.clone();
        apply_rules(
            &kafka,
            &stage.topics,
            &rules,
            ChangeRequest { operator: "loadtest", reason: "settlement cut-off", ..Default::default() },
        )?;
        let codec = interlink_schemas::Codec::<interlink_schemas::SettlementRecord>::new()?;
        let at = cut_off.as_microsecond();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let summaries = loop {
            let records =
                interlink_switch::kafka::read_to_end(&kafka, &stage.topics.settlement, Duration::from_secs(30))?;
            let summaries: Vec<interlink_schemas::SettlementRecord> = records
                .iter()
                .filter_map(|(_, v)| codec.decode(v.as_deref()?).ok())
                .filter(|r| r.cut_off == at && r.kind == interlink_schemas::SettlementRecordKind::Summary)
                .collect();
            if summaries.len() >= currencies.len() {
                break summaries;
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!("{} of {} currencies netted 120 s after the cut-off", summaries.len(), currencies.len());
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        fleet.stop_all();
        let records: i64 = summaries.iter().map(|s| s.clearing_records).sum();
        let slowest = summaries.iter().map(|s| s.closed_at - at).max().unwrap_or(0);
        report
            .finding("clearing legs netted at the cut-off (records, per currency summed)", serde_json::json!(records));
        report.finding("cut-off to the last currency netted (ms)", serde_json::json!(tenths(slowest as f64 / 1000.0)));
        report.checks.push(Check::new(
            "every currency's cycle netted, positions summing to zero",
            &format!("{} cycles, net 0", currencies.len()),
            &format!("{} cycles, net {}", summaries.len(), summaries.iter().map(|s| s.net_minor).sum::<i64>()),
            summaries.len() == currencies.len() && summaries.iter().all(|s| s.net_minor == 0),
        ));
        Ok(())
    }
}

impl Bench<'_> {
    /// Paced load through `--workers` workers while the faults of [`FaultOptions`] hit
    /// them and the brokers; then the outputs are read until quiet. Every request must
    /// have exactly one correct outcome, whatever happened.
    fn risk(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        anyhow::ensure!(o.burst > 0, "the risk scenario compares capacity bursts: --burst must be above 0");
        let plain_rules: Vec<RouteRecord> =
            self.rules.iter().filter(|r| RiskControlKind::of_rule(r).is_none()).cloned().collect();
        // The controlled side: the table's rules of the kinds asked for.
        let kept = |r: &&RouteRecord| RiskControlKind::of_rule(r).is_none_or(|k| o.controls.contains(&k));
        let controlled_rules: Vec<RouteRecord> = self.rules.iter().filter(kept).cloned().collect();
        let screening = o.controls.contains(&RiskControlKind::Screening);
        let rules = controlled_rules.len() - plain_rules.len();
        anyhow::ensure!(
            rules > 0 || screening,
            "no risk control to measure: --controls names none the table has (--routes loadtest/routes/northbound-risk.toml)"
        );
        report.finding(
            "controls",
            serde_json::json!({
                "kinds": o.controls,
                "risk_rules": rules,
                "sanctions_list_entries": if screening { RISK_LIST_ENTRIES } else { 0 },
                "names_screened_per_request": if screening { 2 } else { 0 },
                "screening_cache_names": o.screening_cache_names,
            }),
        );
        let plain_stage = self.stage_with(&plain_rules)?;
        let mut risk_stage = self.stage_with(&controlled_rules)?;
        if screening {
            let list = synthetic::list(RISK_LIST_ENTRIES, 1);
            let (sdn, alt) = synthetic::to_ofac_csv(&list);
            std::fs::create_dir_all(&self.logs)?;
            let (sdn_path, alt_path) = (self.logs.join("sdn.csv"), self.logs.join("alt.csv"));
            std::fs::write(&sdn_path, sdn)?;
            std::fs::write(&alt_path, alt)?;
            risk_stage.screening = Some((sdn_path, alt_path));
        }
        let mut plain = self.switch_fleet(&plain_stage, o.workers)?;
        let mut controlled = self.switch_fleet(&risk_stage, o.workers)?;
        let (mut plain_cpu, mut controlled_cpu) = (Vec::new(), Vec::new());
        for i in 1..=o.capacity_repeats.max(1) {
            let load = Load::Burst(o.burst);
            let label = format!("plain capacity #{i}");
            let r = self.switch_run(&label, &mut plain, &plain_stage, load.clone(), on_progress, |_, _, _| {})?;
            plain_cpu.push(r.worker_cpu_us_per_request);
            report.runs.push(r);
            let label = format!("every control capacity #{i}");
            let r = self.switch_run(&label, &mut controlled, &risk_stage, load, on_progress, |_, _, _| {})?;
            controlled_cpu.push(r.worker_cpu_us_per_request);
            report.runs.push(r);
        }
        plain.stop_all();
        controlled.stop_all();
        let (plain_median, controlled_median) = (median(&plain_cpu), median(&controlled_cpu));
        let cost = controlled_median - plain_median;
        report.finding(
            "worker CPU per authorization (µs)",
            serde_json::json!({
                "plain": plain_cpu,
                "every_control": controlled_cpu,
                "plain_median": plain_median,
                "every_control_median": controlled_median,
                "cost_of_every_control": cost,
            }),
        );
        report.checks.push(Check::new(
            "worker CPU per authorization added by every risk control (median of the alternating bursts)",
            "≤ 10 µs",
            &format!("{cost:.1} µs ({controlled_median:.1} against {plain_median:.1})"),
            cost <= 10.0,
        ));
        Ok(())
    }

    fn faults(&mut self, report: &mut Report, on_progress: &mut dyn FnMut(&str, &Progress)) -> anyhow::Result<()> {
        let o = self.opts;
        let f = &o.faults;
        let cluster = match &f.kafka_home {
            Some(home) => {
                let c = Cluster::open(home.clone(), f.kafka_script.clone())?;
                let bootstrap = c.bootstrap()?;
                // Broker faults hit only the cluster the run uses.
                anyhow::ensure!(
                    bootstrap == o.kafka.brokers,
                    "--brokers {} is not the cluster in {} ({bootstrap})",
                    o.kafka.brokers,
                    home.display()
                );
                Some(c)
            }
            None => None,
        };
        report.finding(
            "cluster",
            serde_json::json!(cluster.as_ref().map_or_else(
                || format!("{} (no broker faults: no --kafka-home)", o.kafka.brokers),
                |c| format!("{} node(s) at {}", c.nodes, o.kafka.brokers)
            )),
        );
        let stage = self.stage()?;
        let workers = o.workers.max(2);
        let mut fleet = self.switch_fleet(&stage, workers)?;
        let quiet = QuietWait::new(Duration::from_secs(f.quiet_seconds), Duration::from_secs(f.quiet_seconds + 300));
        let hold = quiet.hold.clone();
        let mut run = self.run_options(&stage, paced(o.rate, o.seconds));
        // Outcomes may wait for a pause, a broker restart and an abandoned transaction's
        // timeout, one after another.
        run.timeout = Duration::from_secs(match f.outcome_timeout_seconds {
            0 => o.seconds + 900,
            t => t,
        });
        run.quiet = Some(quiet);
        let bench: &Bench = self;
        let command = |id: &str| bench.switch_command(&stage, id);
        let mut driver = Driver::new(Setup {
            opts: f.clone(),
            seed: o.seed,
            command: Box::new(command),
            brokers: o.kafka.brokers.clone(),
            topics: stage.topics.clone(),
            group: Self::switch_group(&stage),
            transactional_prefix: Self::switch_group(&stage),
            cluster,
            logs: self.logs.clone(),
            load_seconds: o.seconds as f64,
            workers: (1..=workers).map(|i| format!("switch-{i}")).collect(),
            rules: self.rules.clone(),
            partitions: o.partitions,
            hold,
        });
        let label = format!("{workers} workers, {}/s for {} s, with faults", o.rate, o.seconds);
        let result = bench.measure(&label, &mut fleet, run, Verifier::new(), on_progress, |p, fleet, events| {
            driver.tick(p.elapsed, p.sent >= p.expected as u64, fleet, events);
        });
        let mut tail = Vec::new();
        driver.finish(&mut tail);
        fleet.stop_all();
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join("interlink-state").join(&stage.topics.state));
        let mut r = result?;
        r.events.extend(tail);
        fault_findings(report, &r, &driver.tally, f);
        report.runs.push(r);
        Ok(())
    }
}

/// The faults run's figures and checks: what was injected, what it did, and the
/// checks beyond exactness (drains, quiet, every fault injected).
fn fault_findings(report: &mut Report, r: &RunReport, t: &Tally, f: &FaultOptions) {
    let s = &r.summary;
    let load_seconds = match &r.load {
        Load::Paced(phases) => phases.iter().map(Phase::seconds).sum(),
        Load::Burst(_) => s.elapsed_secs,
    };
    report.finding(
        "load held",
        serde_json::json!(format!(
            "{} requests in {:.0} s ({:.0}/s sent, {:.0}/s written)",
            s.requests,
            load_seconds,
            s.requests as f64 / load_seconds.max(1e-3),
            s.written_rate_per_sec
        )),
    );
    report.finding(
        "requests verified (lost, duplicated, unexpected)",
        serde_json::json!(format!("{} ({}, {}, {})", s.requests, s.lost, s.duplicated, s.unexpected)),
    );
    report.finding("worst outcome latency (ms)", serde_json::json!(tenths(s.latency_ms_max)));
    report.finding(
        "latency p50 / p99 / p99.9 (ms)",
        serde_json::json!([s.latency_ms_p50, s.latency_ms_p99, s.latency_ms_p999].map(tenths)),
    );
    report.finding(
        "read on after the last outcome (s), quiet at the end (s)",
        serde_json::json!([tenths(s.read_on_secs), tenths(s.quiet_secs)]),
    );
    let broker_faults = (t.broker_kills.len() + t.broker_pauses.len()) as u32;
    report.finding(
        "faults injected",
        serde_json::json!({
            "worker SIGKILL": t.kills,
            "  restarted with the same id": t.kills_restarted_same_id,
            "  restarted with a new id": t.kills_restarted_new_id,
            "  during start-up (joining, restoring)": t.kills_during_start_up,
            "worker SIGTERM": t.sigterms.len(),
            "broker SIGKILL": t.broker_kills.len(),
            "broker SIGSTOP": t.broker_pauses.len(),
            "storm workers joined / left": format!("{} / {}", t.storm_joined, t.storm_left),
            "routing change sets applied": t.route_changes_applied,
            "hanging transactions": t.hanging_transactions.len(),
        }),
    );
    report.finding("faults in detail", serde_json::to_value(t).unwrap_or_default());
    // How long outputs stalled around each hanging transaction: the worst latency of the
    // requests sent while it was open.
    let stalls: Vec<String> = t
        .hanging_transactions
        .iter()
        .map(|h| {
            let to = h.at_secs + h.held_secs.unwrap_or(f.hang_timeout_seconds as f64);
            let worst = s
                .timeline
                .iter()
                .filter(|x| (h.at_secs.floor()..=to).contains(&f64::from(x.second)))
                .map(|x| x.max_ms)
                .fold(0.0, f64::max);
            format!(
                "{}[{}] at {:.0} s: LSO held {}, worst latency of requests sent meanwhile {:.0} ms",
                h.topic,
                h.partition,
                h.at_secs,
                h.held_secs.map_or_else(|| h.outcome.clone(), |x| format!("{x:.1} s")),
                worst
            )
        })
        .collect();
    report.finding("hanging transactions: stall", serde_json::json!(stalls));

    let drains_ok = t.sigterms.iter().all(|d| d.ok);
    report.checks.push(Check::new(
        "SIGTERM under load: clean drain",
        &format!("{} drains, each exit 0 within {} s", f.sigterms, f.drain_limit_seconds),
        &t.sigterms
            .iter()
            .map(|d| format!("{} {} in {:.1} s", d.worker, d.exit, d.drain_secs))
            .collect::<Vec<_>>()
            .join("; "),
        drains_ok && t.sigterms.len() as u32 == f.sigterms,
    ));
    report.checks.push(Check::new(
        "storm workers left cleanly (exit 0 after SIGTERM)",
        "every one",
        &if t.storm_drains_failed.is_empty() {
            format!("{} of {}", t.storm_left, t.storm_joined)
        } else {
            t.storm_drains_failed.join("; ")
        },
        t.storm_drains_failed.is_empty() && (f.storm_seconds == 0 || t.storm_joined > 0),
    ));
    report.checks.push(Check::new(
        "no worker exited on its own",
        "0",
        &if t.exited_on_their_own.is_empty() { "0".into() } else { t.exited_on_their_own.join("; ") },
        t.exited_on_their_own.is_empty(),
    ));
    report.checks.push(Check::new(
        "every fault injected",
        &format!(
            "{} kills, {} SIGTERMs, {} broker kills, {} pauses, {} route changes, {} hanging transactions",
            f.kills, f.sigterms, f.broker_kills, f.broker_pauses, f.route_changes, f.hanging_transactions
        ),
        &format!(
            "{} kills, {} SIGTERMs, {} broker kills, {} pauses, {} route changes ({} failed attempts, retried), {} hanging transactions",
            t.kills,
            t.sigterms.len(),
            t.broker_kills.len(),
            t.broker_pauses.len(),
            t.route_changes_applied,
            t.route_changes_failed.len(),
            t.hanging_transactions.len()
        ),
        t.kills >= f.kills
            && t.sigterms.len() as u32 >= f.sigterms
            && broker_faults >= f.broker_kills + f.broker_pauses
            && t.route_changes_applied >= f.route_changes
            && t.hanging_transactions.len() as u32 >= f.hanging_transactions,
    ));
    report.checks.push(Check::new(
        "hanging transactions aborted by the broker",
        &format!("last stable offset released (timeout {} s, longer while the broker is away)", f.hang_timeout_seconds),
        &t.hanging_transactions
            .iter()
            .map(|h| h.held_secs.map_or_else(|| h.outcome.clone(), |x| format!("{x:.1} s")))
            .collect::<Vec<_>>()
            .join(", "),
        t.hanging_transactions.iter().all(|h| h.held_secs.is_some()),
    ));
    report.checks.push(Check::new(
        "outputs quiet at the end (late duplicates would have been read)",
        &format!("≥ {} s", f.quiet_seconds),
        &format!("{:.1} s", s.quiet_secs),
        s.quiet_secs >= f.quiet_seconds as f64,
    ));
}

/// A figure rounded to a tenth, for the report's findings.
fn tenths(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `rate` requests per second for `seconds`.
fn paced(rate: u64, seconds: u64) -> Load {
    Load::Paced(vec![Phase::for_seconds(rate, seconds as f64)])
}

/// On capacity runs only: at a paced rate the per-batch costs (a transaction every
/// batch interval) are shared by fewer requests, which says little about the cost of
/// an authorization.
/// Entries of the risk scenario's synthetic sanctions list (issue 14's screening target).
const RISK_LIST_ENTRIES: usize = 20_000;

// The screening crate's own deterministic synthetic list (shared with its tests and
// benches): no real listed party, and none of the generator's party names.
#[path = "../../screening/tests/support/synthetic.rs"]
mod synthetic;

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn cpu_check(r: &RunReport) -> Check {
    Check::new(
        &format!("switch CPU per authorization ({})", r.label),
        "≤ 20 µs",
        &format!("{:.1} µs", r.worker_cpu_us_per_request),
        r.worker_cpu_us_per_request <= 20.0,
    )
}

/// What the switch writes per request on average, which the baseline copies: its
/// events (clearing records, notifications, dead letters), not its state changelog,
/// which is part of what the comparison measures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutputShape {
    pub notification_bytes: usize,
    pub clearing_bytes: usize,
    /// Requests the switch accepts (three records), per thousand.
    pub fan_out_per_mille: u32,
    /// Output records per request, on average.
    pub records_per_request: f64,
    /// The request itself, on average.
    pub request_bytes: usize,
}

impl OutputShape {
    /// Runs the switch's pipeline (no Kafka) over a sample of generated requests.
    pub fn of(rules: &[RouteRecord], seed: u64) -> anyhow::Result<Self> {
        let table = RoutingTable::compile(1, rules)?;
        let processor = Processor::new()?;
        let mut generator = Generator::new(rules, Mix::default(), seed)?;
        let (mut notes, mut note_bytes, mut clearings, mut clearing_bytes, mut accepted) = (0, 0, 0, 0, 0);
        let mut request_bytes = 0;
        let sample = 2_000;
        let mut outputs = Vec::new();
        for _ in 0..sample {
            let planned = generator.next_request();
            accepted += u32::from(planned.expected == Expected::Accepted);
            request_bytes += planned.payload.len();
            let input = InputRecord {
                source: InputSource::Requests,
                topic: "requests",
                partition: 0,
                offset: 0,
                key: Some(planned.key.as_bytes()),
                payload: Some(&planned.payload),
                written_at: None,
            };
            outputs.clear();
            processor.process(&input, &table, interlink_schemas::now_micros(), &mut outputs)?;
            for out in &outputs {
                let len = out.payload.as_ref().map_or(0, Vec::len);
                match out.topic {
                    OutputTopic::Clearing => (clearings, clearing_bytes) = (clearings + 1, clearing_bytes + len),
                    // The baseline copies the event outputs only: the switch's state
                    // changelog is part of what the comparison measures.
                    OutputTopic::State => {}
                    _ => (notes, note_bytes) = (notes + 1, note_bytes + len),
                }
            }
        }
        Ok(Self {
            notification_bytes: note_bytes / notes.max(1),
            clearing_bytes: clearing_bytes / clearings.max(1),
            fan_out_per_mille: accepted * 1000 / sample,
            records_per_request: f64::from((notes + clearings) as u32) / f64::from(sample),
            request_bytes: request_bytes / sample as usize,
        })
    }
}
