//! Fault injection for the `faults` scenario: on a seeded schedule, worker SIGKILLs
//! (restarted with the same worker id or a new one, some while still starting up),
//! SIGTERMs under load (a clean drain), broker SIGKILLs and restarts, broker pauses
//! longer than the commit timeout, a rebalance storm, routing change sets and hanging
//! transactions on an internal topic.
//!
//! [`Driver::tick`] is called from the run's progress callback about every 100 ms and
//! never blocks: what takes time runs as a child process (`scripts/kafka up`, which
//! restarts a killed broker) or on a thread of its own (routing change sets, hanging
//! transactions, finding which broker has which role), and reports back through a channel.

use crate::fleet::Fleet;
use crate::report::Event;
use interlink_routing::RouteRecord;
use interlink_schemas::TopicsConfig;
use interlink_switch::config::KafkaConfig;
use interlink_switch::kafka::routes_writer::{apply_rules, ChangeRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many faults of each kind, and how long they last. The defaults are the full run's.
#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct FaultOptions {
    /// Worker SIGKILLs (faults). One in five hits a worker just restarted (while it
    /// joins and restores its state); the others come at random moments.
    #[arg(long, default_value_t = 100)]
    pub kills: u32,
    /// Killed workers restarted under a new worker id, per thousand (the rest keep
    /// theirs). A new id leaves the old transaction open until the broker aborts it at
    /// the transaction timeout: outcomes on its partitions wait that long.
    #[arg(long, default_value_t = 300)]
    pub new_id_per_mille: u32,
    /// SIGTERMs under load: each must drain (exit 0) within --drain-limit-seconds.
    #[arg(long, default_value_t = 4)]
    pub sigterms: u32,
    /// The drain time allowed after SIGTERM (docker-compose.yml's stop_grace_period).
    #[arg(long, default_value_t = 30)]
    pub drain_limit_seconds: u64,
    /// Broker SIGKILLs, each restarted after --broker-down-seconds with
    /// `scripts/kafka up --nodes N`. On three nodes the victims rotate through the
    /// roles: a requests partition's leader, a worker's transaction coordinator, the
    /// group coordinator, the active controller.
    #[arg(long, default_value_t = 4)]
    pub broker_kills: u32,
    #[arg(long, default_value_t = 5)]
    pub broker_down_seconds: u64,
    /// Broker SIGSTOPs, each for --pause-seconds (longer than the workers' 30 s
    /// transaction timeout), then SIGCONT.
    #[arg(long, default_value_t = 2)]
    pub broker_pauses: u32,
    #[arg(long, default_value_t = 35)]
    pub pause_seconds: u64,
    /// After a broker fault, this long before the next one.
    #[arg(long, default_value_t = 10)]
    pub broker_recovery_seconds: u64,
    /// Rebalance storm: extra workers joining and leaving (SIGTERM) every
    /// --storm-every-seconds for this long (0: none).
    #[arg(long, default_value_t = 40)]
    pub storm_seconds: u64,
    #[arg(long, default_value_t = 3)]
    pub storm_every_seconds: u64,
    /// Routing change sets (a participant's name toggled), one every
    /// --route-change-every-seconds from the start of the load.
    #[arg(long, default_value_t = 30)]
    pub route_changes: u32,
    #[arg(long, default_value_t = 5)]
    pub route_change_every_seconds: u64,
    /// Hanging transactions: a producer begins, writes one record to the state (or
    /// forwards) topic and stalls; the broker aborts it after --hang-timeout-seconds.
    #[arg(long, default_value_t = 3)]
    pub hanging_transactions: u32,
    #[arg(long, default_value_t = 30)]
    pub hang_timeout_seconds: u64,
    /// How long after the start of the load every outcome must be in (0: the load's
    /// length plus 15 minutes: faults back up minutes of requests, worked off after).
    #[arg(long, default_value_t = 0)]
    pub outcome_timeout_seconds: u64,
    /// After the load (and the faults): read on until the outputs have been quiet
    /// this long, so that late duplicates are caught.
    #[arg(long, default_value_t = 60)]
    pub quiet_seconds: u64,
    /// The KAFKA_HOME of the cluster under --brokers, started by scripts/kafka (its
    /// brokers are killed and paused by the pids there, and restarted with
    /// `scripts/kafka up`). Without it there are no broker faults.
    #[arg(long)]
    pub kafka_home: Option<PathBuf>,
    #[arg(long, default_value = "scripts/kafka")]
    pub kafka_script: PathBuf,
    /// Keep the run's topics (to examine a failure); they are deleted otherwise.
    #[arg(long)]
    pub keep_topics: bool,
}

impl Default for FaultOptions {
    fn default() -> Self {
        Self {
            kills: 100,
            new_id_per_mille: 300,
            sigterms: 4,
            drain_limit_seconds: 30,
            broker_kills: 4,
            broker_down_seconds: 5,
            broker_pauses: 2,
            pause_seconds: 35,
            broker_recovery_seconds: 10,
            storm_seconds: 40,
            storm_every_seconds: 3,
            route_changes: 30,
            route_change_every_seconds: 5,
            hanging_transactions: 3,
            hang_timeout_seconds: 30,
            outcome_timeout_seconds: 0,
            quiet_seconds: 60,
            kafka_home: None,
            kafka_script: PathBuf::from("scripts/kafka"),
            keep_topics: false,
        }
    }
}

/// What happened, fault by fault (the report's findings).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Tally {
    pub kills: u32,
    pub kills_restarted_same_id: u32,
    pub kills_restarted_new_id: u32,
    /// Kills of a worker within a few seconds of its start (joining, restoring).
    pub kills_during_start_up: u32,
    pub kills_not_injected: u32,
    pub sigterms: Vec<Drain>,
    pub sigterms_not_injected: u32,
    pub broker_kills: Vec<BrokerFaultRecord>,
    pub broker_pauses: Vec<BrokerFaultRecord>,
    pub broker_faults_not_injected: u32,
    pub storm_joined: u32,
    pub storm_left: u32,
    /// Storm workers that did not exit 0 within the drain limit after SIGTERM.
    pub storm_drains_failed: Vec<String>,
    pub route_changes_applied: u32,
    /// Attempts that failed (and were retried until the change set landed).
    pub route_changes_failed: Vec<String>,
    pub hanging_transactions: Vec<Hang>,
    /// Workers that exited without being told to (restarted with their id).
    pub exited_on_their_own: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Drain {
    pub worker: String,
    pub at_secs: f64,
    pub exit: String,
    pub drain_secs: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BrokerFaultRecord {
    pub node: u32,
    pub roles: String,
    pub at_secs: f64,
    /// Killed: from SIGKILL until `scripts/kafka up` said it was up again. Paused:
    /// from SIGSTOP to SIGCONT.
    pub out_secs: f64,
    pub outcome: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hang {
    pub topic: String,
    pub partition: i32,
    pub at_secs: f64,
    /// How long the partition's last stable offset stayed at the hanging record (what
    /// `read_committed` readers of it waited); `None` if never seen released.
    pub held_secs: Option<f64>,
    pub outcome: String,
}

/// A message from a background thread.
enum Note {
    Event(Duration, String),
    RouteApplied,
    RouteFailed(String),
    Hang(Hang),
}

/// The cluster scripts/kafka runs, whose brokers the faults hit.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub home: PathBuf,
    pub script: PathBuf,
    pub nodes: u32,
}

impl Cluster {
    pub fn open(home: PathBuf, script: PathBuf) -> anyhow::Result<Self> {
        let nodes = std::fs::read_to_string(home.join("cluster/nodes"))
            .map_err(|e| anyhow::anyhow!("{}: not a scripts/kafka cluster ({e})", home.display()))?
            .trim()
            .parse()?;
        Ok(Self { home, script, nodes })
    }

    /// The bootstrap servers scripts/kafka prints for this cluster.
    pub fn bootstrap(&self) -> anyhow::Result<String> {
        let out = Command::new(&self.script).arg("bootstrap").env("KAFKA_HOME", &self.home).output()?;
        anyhow::ensure!(out.status.success(), "{} bootstrap failed", self.script.display());
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn node_dir(&self, node: u32) -> PathBuf {
        self.home.join(format!("cluster/node{node}"))
    }

    /// The broker's pid, when its process is alive.
    pub fn pid(&self, node: u32) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.node_dir(node).join("pid")).ok()?.trim().parse().ok()?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok().map(|()| pid)
    }

    pub fn pids(&self) -> Vec<u32> {
        (1..=self.nodes).filter_map(|n| self.pid(n)).map(|p| p as u32).collect()
    }

    /// The active controller, from the KRaft quorum state the nodes keep (the newest epoch's leader).
    fn controller(&self) -> Option<i32> {
        (1..=self.nodes)
            .filter_map(|n| {
                let path = self.node_dir(n).join("data/__cluster_metadata-0/quorum-state");
                let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
                Some((v["leaderEpoch"].as_i64()?, v["leaderId"].as_i64()?))
            })
            .filter(|(_, leader)| *leader >= 0)
            .max()
            .map(|(_, leader)| leader as i32)
    }

    /// `scripts/kafka up --nodes N`: restarts the nodes whose process is dead, and
    /// waits until the cluster answers.
    fn restart(&self, log: &std::path::Path) -> std::io::Result<Child> {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        Command::new(&self.script)
            .args(["up", "--nodes", &self.nodes.to_string()])
            .env("KAFKA_HOME", &self.home)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
    }

    /// Undoes what a fault may have left: SIGCONT to every node, and a restart of
    /// any dead node (waiting for it, up to two minutes).
    pub fn heal(&self, log: &std::path::Path) -> anyhow::Result<()> {
        for node in 1..=self.nodes {
            if let Some(pid) = self.pid(node) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGCONT);
            }
        }
        if (1..=self.nodes).all(|n| self.pid(n).is_some()) {
            return Ok(());
        }
        let mut child = self.restart(log)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                anyhow::ensure!(status.success(), "scripts/kafka up: {status} (see {})", log.display());
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        anyhow::bail!("the cluster did not come back within 2 minutes")
    }
}

/// A worker is sent SIGTERM only once it has been up this long: as an orchestrator
/// stops a running worker (one that has installed its signal handler).
const MIN_UP_FOR_SIGTERM: Duration = Duration::from_secs(5);

/// The broker roles a victim is picked by, in turn.
const ROLES: [&str; 4] =
    ["leader of requests partition 0", "transaction coordinator", "group coordinator", "active controller"];

/// Which broker had which role when a broker fault was due.
#[derive(Debug, Default)]
struct Roles {
    by_role: [Option<i32>; 4],
}

impl Roles {
    fn describe(&self, node: i32, txn_worker: &str) -> String {
        let names: Vec<String> = ROLES
            .iter()
            .zip(self.by_role)
            .filter(|(_, n)| *n == Some(node))
            .map(|(r, _)| if *r == "transaction coordinator" { format!("{r} of {txn_worker}") } else { r.to_string() })
            .collect();
        if names.is_empty() {
            "no role found".into()
        } else {
            names.join(", ")
        }
    }
}

/// Kafka's partition for a group or transactional id: `Utils.abs(id.hashCode()) % n`.
fn coordinator_partition(id: &str, partitions: i32) -> i32 {
    let hash = id.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions.max(1)
}

/// Finds the brokers in each role (blocking: run on a thread of its own): as the
/// cluster says through Kafka's Admin API (`KafkaRoles.java`, with the broker's own
/// jars), and where that fails, from the metadata (the coordinators computed as Kafka
/// places them) and the KRaft quorum state.
fn find_roles(brokers: &str, requests: &str, group: &str, transactional_id: &str, cluster: &Cluster) -> Roles {
    let mut roles = admin_roles(brokers, requests, group, transactional_id, cluster).unwrap_or_default();
    if roles.by_role.iter().all(Option::is_some) {
        return roles;
    }
    let Ok(client) =
        interlink_testkit::kafka::client(&interlink_testkit::kafka::Connection::new(brokers)).create::<BaseConsumer>()
    else {
        return roles;
    };
    let timeout = Duration::from_secs(10);
    let leader = |topic: &str, partition: Option<i32>, id: &str| -> Option<i32> {
        let md = client.fetch_metadata(Some(topic), timeout).ok()?;
        let t = md.topics().first()?;
        let n = t.partitions().len() as i32;
        let p = partition.unwrap_or_else(|| coordinator_partition(id, n));
        t.partitions().iter().find(|x| x.id() == p).map(|x| x.leader()).filter(|l| *l >= 0)
    };
    roles.by_role[0] = roles.by_role[0].or_else(|| leader(requests, Some(0), ""));
    roles.by_role[1] = roles.by_role[1].or_else(|| leader("__transaction_state", None, transactional_id));
    roles.by_role[2] = roles.by_role[2].or_else(|| leader("__consumer_offsets", None, group));
    roles.by_role[3] = roles.by_role[3].or_else(|| cluster.controller());
    roles
}

/// The roles through Kafka's Admin API, run with Java's single-file source launcher.
fn admin_roles(brokers: &str, requests: &str, group: &str, transactional_id: &str, cluster: &Cluster) -> Option<Roles> {
    let out = Command::new(&cluster.script).arg("classpath").env("KAFKA_HOME", &cluster.home).output().ok()?;
    let classpath = String::from_utf8_lossy(&out.stdout).trim().lines().last()?.to_string();
    let dir = tempfile::tempdir().ok()?;
    let source = dir.path().join("KafkaRoles.java");
    std::fs::write(&source, include_str!("../java/KafkaRoles.java")).ok()?;
    let mut child = Command::new("java")
        .args(["-Xmx64m", "-cp", &classpath])
        .arg(&source)
        .args([brokers, requests, group, transactional_id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().ok()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut()?, &mut text).ok()?;
    let ids: Vec<i32> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    let [a, b, c, d] = ids.as_slice() else { return None };
    let id = |x: &i32| (*x >= 0).then_some(*x);
    Some(Roles { by_role: [id(a), id(b), id(c), id(d)] })
}

/// One of the steady workers (`switch-1`..): its current worker id and process.
struct Slot {
    id: String,
    state: SlotState,
    /// When its current process started (run time).
    started: Duration,
}

enum SlotState {
    Running(String),
    /// Killed (or exited); restarted at this time, under a new id or its own.
    Down {
        restart_at: Duration,
        new_id: bool,
    },
    /// Sent SIGTERM at this run time; restarted with its id once it has exited.
    Draining(String, Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BrokerKind {
    Kill,
    Pause,
}

enum BrokerStage {
    Locating(Receiver<Roles>, Duration),
    Killed { since: Duration },
    Restarting { child: Child, killed_at: Duration },
    Paused { pid: i32, since: Duration },
}

struct BrokerFault {
    kind: BrokerKind,
    index: usize,
    stage: BrokerStage,
    node: u32,
    roles: String,
}

/// The fault schedule and its state, advanced by [`Driver::tick`].
pub struct Driver<'a> {
    opts: FaultOptions,
    rng: StdRng,
    command: Box<dyn Fn(&str) -> Command + 'a>,
    brokers: String,
    topics: TopicsConfig,
    group: String,
    transactional_prefix: String,
    cluster: Option<Cluster>,
    logs: PathBuf,
    load_seconds: f64,
    origin: Option<Instant>,
    slots: Vec<Slot>,
    incarnation: u32,
    new_ids: u32,
    kill_times: VecDeque<Duration>,
    early_kills_left: u32,
    early_kill: Option<(Duration, usize)>,
    sigterm_times: VecDeque<Duration>,
    broker_times: VecDeque<(Duration, BrokerKind)>,
    broker_index: usize,
    broker: Option<BrokerFault>,
    broker_quiet_until: Duration,
    /// When the storm may start (it waits for a broker fault to be over, and no broker
    /// fault starts during it, so that its workers really join and leave a group).
    storm_planned: Option<Duration>,
    storm: Option<(Duration, Duration)>,
    storm_next: Duration,
    storm_members: VecDeque<String>,
    /// When each storm worker started (run time): one leaves only once up 5 s.
    storm_started: std::collections::HashMap<String, Duration>,
    storm_count: u32,
    notes_tx: Sender<Note>,
    notes: Receiver<Note>,
    threads: Vec<JoinHandle<()>>,
    threads_started: bool,
    rules: Vec<RouteRecord>,
    partitions: i32,
    stop: Arc<AtomicBool>,
    hold: Arc<AtomicBool>,
    pub tally: Tally,
}

/// What a driver needs to know about the run.
pub struct Setup<'a> {
    pub opts: FaultOptions,
    pub seed: u64,
    pub command: Box<dyn Fn(&str) -> Command + 'a>,
    pub brokers: String,
    pub topics: TopicsConfig,
    pub group: String,
    pub transactional_prefix: String,
    pub cluster: Option<Cluster>,
    pub logs: PathBuf,
    pub load_seconds: f64,
    pub workers: Vec<String>,
    pub rules: Vec<RouteRecord>,
    pub partitions: i32,
    /// Set while faults are still being undone: the quiet wait does not count then.
    pub hold: Arc<AtomicBool>,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

impl<'a> Driver<'a> {
    pub fn new(s: Setup<'a>) -> Self {
        let o = s.opts.clone();
        let mut rng = StdRng::seed_from_u64(s.seed ^ 0xfa17);
        let t = s.load_seconds;
        let at = |x: f64| Duration::from_secs_f64(x.max(0.0));
        // Kills at random moments in 5 s .. 90% of the load; a fifth kept for workers
        // just restarted.
        let early = o.kills / 5;
        let mut kills: Vec<Duration> = (0..o.kills - early).map(|_| at(rng.random_range(5.0..t * 0.9))).collect();
        kills.sort();
        let mut sigterms: Vec<Duration> =
            (0..o.sigterms).map(|_| at(rng.random_range((t * 0.1).min(10.0)..t * 0.85))).collect();
        sigterms.sort();
        // Broker faults one after another, kills and pauses interleaved, spread over
        // 5% .. 75% of the load (each waits for the one before to be over).
        let mut kinds = Vec::new();
        let (mut k, mut p) = (o.broker_kills, o.broker_pauses);
        while k + p > 0 {
            if k > 0 && (k >= p || p == 0) {
                kinds.push(BrokerKind::Kill);
                k -= 1;
            }
            if p > 0 {
                kinds.push(BrokerKind::Pause);
                p -= 1;
            }
        }
        let n = kinds.len().max(1) as f64;
        let broker_times = if s.cluster.is_some() {
            kinds.iter().enumerate().map(|(i, kind)| (at(t * (0.05 + 0.7 * i as f64 / n)), *kind)).collect()
        } else {
            VecDeque::new()
        };
        let storm_planned = (o.storm_seconds > 0).then(|| at(t * 0.2));
        let (notes_tx, notes) = mpsc::channel();
        let slots = s
            .workers
            .iter()
            .map(|w| Slot { id: w.clone(), state: SlotState::Running(w.clone()), started: Duration::ZERO })
            .collect();
        let mut tally = Tally::default();
        if s.cluster.is_none() {
            tally.broker_faults_not_injected = o.broker_kills + o.broker_pauses;
        }
        Self {
            rng,
            command: s.command,
            brokers: s.brokers,
            topics: s.topics,
            group: s.group,
            transactional_prefix: s.transactional_prefix,
            cluster: s.cluster,
            logs: s.logs,
            load_seconds: t,
            origin: None,
            slots,
            incarnation: 0,
            new_ids: 0,
            kill_times: kills.into(),
            early_kills_left: early,
            early_kill: None,
            sigterm_times: sigterms.into(),
            broker_times,
            broker_index: 0,
            broker: None,
            broker_quiet_until: Duration::ZERO,
            storm_next: Duration::ZERO,
            storm_planned,
            storm: None,
            storm_members: VecDeque::new(),
            storm_started: std::collections::HashMap::new(),
            storm_count: 0,
            notes_tx,
            notes,
            threads: Vec::new(),
            threads_started: false,
            rules: s.rules,
            partitions: s.partitions,
            stop: Arc::new(AtomicBool::new(false)),
            hold: s.hold,
            tally,
            opts: o,
        }
    }

    /// Advances the schedule; `now` is the run's elapsed time, `load_done` whether
    /// every request has been sent (no new fault starts after that).
    pub fn tick(&mut self, now: Duration, load_done: bool, fleet: &mut Fleet, events: &mut Vec<Event>) {
        if self.origin.is_none() {
            self.origin = Some(Instant::now() - now);
        }
        if !self.threads_started {
            self.threads_started = true;
            self.start_threads();
        }
        if load_done {
            self.stop.store(true, Ordering::Relaxed);
        }
        while let Ok(note) = self.notes.try_recv() {
            match note {
                Note::Event(at, what) => events.push(Event::new(at, &what)),
                Note::RouteApplied => self.tally.route_changes_applied += 1,
                Note::RouteFailed(e) => self.tally.route_changes_failed.push(e),
                Note::Hang(h) => self.tally.hanging_transactions.push(h),
            }
        }
        self.reap(now, fleet, events);
        self.restarts(now, fleet, events);
        if !load_done {
            self.kills(now, fleet, events);
            self.sigterms(now, fleet, events);
            self.storm(now, fleet, events);
        } else {
            self.end_storm(now, fleet, events);
        }
        self.broker_faults(now, load_done, events);
        self.hold.store(self.busy(fleet), Ordering::Relaxed);
    }

    /// Whether a fault is still being undone.
    fn busy(&self, fleet: &Fleet) -> bool {
        self.broker.is_some()
            || self.slots.iter().any(|s| !matches!(s.state, SlotState::Running(_)))
            || !self.storm_members.is_empty()
            || self.threads.iter().any(|t| !t.is_finished())
            || fleet.running().len() < self.slots.len()
    }

    fn member_name(&mut self, id: &str) -> String {
        self.incarnation += 1;
        format!("{id}#{}", self.incarnation)
    }

    fn start(&mut self, slot: usize, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>, why: &str) {
        let id = self.slots[slot].id.clone();
        let name = self.member_name(&id);
        match fleet.spawn(&name, (self.command)(&id)) {
            Ok(()) => {
                events.push(Event::new(now, &format!("{name} started ({why})")));
                self.slots[slot].state = SlotState::Running(name);
                self.slots[slot].started = now;
                // Now and then the next kill hits this worker while it starts up.
                if self.early_kills_left > 0 && self.early_kill.is_none() && self.rng.random_bool(0.5) {
                    let at = now + Duration::from_secs_f64(self.rng.random_range(0.2..2.5));
                    self.early_kill = Some((at, slot));
                }
            }
            Err(e) => {
                events.push(Event::new(now, &format!("{name} failed to start: {e}")));
                self.slots[slot].state = SlotState::Down { restart_at: now + Duration::from_secs(1), new_id: false };
            }
        }
    }

    fn reap(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        let limit = Duration::from_secs(self.opts.drain_limit_seconds);
        for e in fleet.reap_exited() {
            let exit = e.status.code().map_or_else(|| e.status.to_string(), |c| format!("exit {c}"));
            if let Some(i) = self.storm_members.iter().position(|m| *m == e.name) {
                self.storm_members.remove(i);
                let ok = e.status.success() && e.drained_in.is_some_and(|d| d <= limit);
                let how = e
                    .drained_in
                    .map_or_else(|| "on its own".to_string(), |d| format!("{:.1} s after SIGTERM", d.as_secs_f64()));
                events.push(Event::new(now, &format!("{} left: {exit}, {how}", e.name)));
                if e.drained_in.is_some() {
                    self.tally.storm_left += 1;
                }
                if !ok {
                    self.tally.storm_drains_failed.push(format!("{}: {exit}, {how}", e.name));
                }
                continue;
            }
            let Some(slot) = self.slots.iter().position(|s| match &s.state {
                SlotState::Running(n) | SlotState::Draining(n, _) => *n == e.name,
                SlotState::Down { .. } => false,
            }) else {
                continue;
            };
            match (&self.slots[slot].state, e.drained_in) {
                (SlotState::Draining(_, at), Some(d)) => {
                    let ok = e.status.success() && d <= limit;
                    self.tally.sigterms.push(Drain {
                        worker: e.name.clone(),
                        at_secs: secs(*at),
                        exit: exit.clone(),
                        drain_secs: secs(d),
                        ok,
                    });
                    events.push(Event::new(
                        now,
                        &format!("{} drained after SIGTERM: {exit} in {:.1} s", e.name, d.as_secs_f64()),
                    ));
                    self.start(slot, now, fleet, events, "after its drain, same id");
                }
                _ => {
                    self.tally.exited_on_their_own.push(format!("{} ({exit}) at {:.1} s", e.name, now.as_secs_f64()));
                    events.push(Event::new(now, &format!("{} EXITED ON ITS OWN: {exit} (see {}.log)", e.name, e.name)));
                    self.slots[slot].state =
                        SlotState::Down { restart_at: now + Duration::from_secs(1), new_id: false };
                }
            }
        }
        // A SIGTERM that does not end the worker in time: SIGKILL, and it counts as failed.
        for slot in 0..self.slots.len() {
            if let SlotState::Draining(name, at) = &self.slots[slot].state {
                let name = name.clone();
                if fleet.draining_for(&name).is_some_and(|d| d > limit + Duration::from_secs(30)) {
                    let _ = fleet.kill(&name);
                    self.tally.sigterms.push(Drain {
                        worker: name.clone(),
                        at_secs: secs(*at),
                        exit: "SIGKILLed: no exit".into(),
                        drain_secs: secs(limit + Duration::from_secs(30)),
                        ok: false,
                    });
                    events.push(Event::new(now, &format!("{name} did not exit after SIGTERM: SIGKILLed")));
                    self.start(slot, now, fleet, events, "after a drain that did not end, same id");
                }
            }
        }
    }

    fn restarts(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        for slot in 0..self.slots.len() {
            if let SlotState::Down { restart_at, new_id } = self.slots[slot].state {
                if now >= restart_at {
                    let why = if new_id {
                        self.new_ids += 1;
                        let old = std::mem::replace(&mut self.slots[slot].id, format!("worker-{}", self.new_ids));
                        format!("restart of {old} under a new id")
                    } else {
                        "restart, same id".to_string()
                    };
                    self.start(slot, now, fleet, events, &why);
                }
            }
        }
    }

    fn running_slots(&self) -> Vec<usize> {
        (0..self.slots.len()).filter(|&i| matches!(self.slots[i].state, SlotState::Running(_))).collect()
    }

    fn kills(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        let mut victim = None;
        if let Some((at, slot)) = self.early_kill {
            if now >= at {
                self.early_kill = None;
                if matches!(self.slots[slot].state, SlotState::Running(_)) {
                    victim = Some((slot, true));
                }
            }
        }
        if victim.is_none() && self.kill_times.front().is_some_and(|&t| now >= t) {
            // Two workers keep running: a kill is one fault, not an outage.
            let running = self.running_slots();
            if running.len() >= 2 {
                self.kill_times.pop_front();
                let slot = running[self.rng.random_range(0..running.len())];
                victim = Some((slot, false));
            }
        }
        let Some((slot, early)) = victim else { return };
        let SlotState::Running(name) = &self.slots[slot].state else { return };
        let name = name.clone();
        let up_for = now.saturating_sub(self.slots[slot].started);
        if let Err(e) = fleet.kill(&name) {
            events.push(Event::new(now, &format!("{name} could not be killed: {e}")));
            return;
        }
        if early {
            self.early_kills_left -= 1;
        }
        self.tally.kills += 1;
        let during_start = up_for < Duration::from_secs(3) && self.slots[slot].started > Duration::ZERO;
        if during_start {
            self.tally.kills_during_start_up += 1;
        }
        let new_id = self.rng.random_range(0..1000) < self.opts.new_id_per_mille;
        if new_id {
            self.tally.kills_restarted_new_id += 1;
        } else {
            self.tally.kills_restarted_same_id += 1;
        }
        let delay = Duration::from_secs_f64(self.rng.random_range(0.5..3.0));
        events.push(Event::new(
            now,
            &format!(
                "SIGKILL #{} {name}{} (up {:.1} s); restart in {:.1} s {}",
                self.tally.kills,
                if during_start { ", during start-up" } else { "" },
                up_for.as_secs_f64(),
                delay.as_secs_f64(),
                if new_id { "under a new id" } else { "with its id" }
            ),
        ));
        self.slots[slot].state = SlotState::Down { restart_at: now + delay, new_id };
    }

    fn sigterms(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        if self.sigterm_times.front().is_none_or(|&t| now < t) {
            return;
        }
        // A worker under load: one that has been up a while (a SIGTERM in a process's
        // first moments, before it handles the signal, is no drain).
        let running = self.running_slots();
        let settled: Vec<usize> = running
            .iter()
            .copied()
            .filter(|&i| now.saturating_sub(self.slots[i].started) >= MIN_UP_FOR_SIGTERM)
            .collect();
        if running.len() < 2 || settled.is_empty() {
            return;
        }
        self.sigterm_times.pop_front();
        let slot = settled[self.rng.random_range(0..settled.len())];
        let SlotState::Running(name) = &self.slots[slot].state else { return };
        let name = name.clone();
        match fleet.terminate(&name) {
            Ok(()) => {
                events.push(Event::new(now, &format!("SIGTERM {name} under load")));
                self.slots[slot].state = SlotState::Draining(name, now);
            }
            Err(e) => events.push(Event::new(now, &format!("{name} could not be sent SIGTERM: {e}"))),
        }
    }

    fn storm_active(&self, now: Duration) -> bool {
        self.storm.is_some_and(|(_, to)| now < to)
    }

    fn storm(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        if let Some(planned) = self.storm_planned {
            if now >= planned && self.broker.is_none() && now >= self.broker_quiet_until {
                self.storm_planned = None;
                self.storm = Some((now, now + Duration::from_secs(self.opts.storm_seconds)));
                events.push(Event::new(now, &format!("rebalance storm for {} s", self.opts.storm_seconds)));
            }
        }
        let Some((from, to)) = self.storm else { return };
        if now >= to {
            self.end_storm(now, fleet, events);
            return;
        }
        if now < from || now < self.storm_next {
            return;
        }
        self.storm_next = now + Duration::from_secs(self.opts.storm_every_seconds.max(1));
        // One joins; the oldest of two or more leaves.
        self.storm_count += 1;
        let id = format!("storm-{}", self.storm_count);
        let name = self.member_name(&id);
        match fleet.spawn(&name, (self.command)(&id)) {
            Ok(()) => {
                self.tally.storm_joined += 1;
                events.push(Event::new(now, &format!("storm: {name} joins")));
                self.storm_started.insert(name.clone(), now);
                self.storm_members.push_back(name);
            }
            Err(e) => events.push(Event::new(now, &format!("storm: {name} failed to start: {e}"))),
        }
        let running: Vec<String> = fleet.running();
        let leaving = self.storm_members.iter().filter(|m| running.contains(m)).count();
        if leaving >= 3 {
            if let Some(oldest) = self.storm_members.iter().find(|m| running.contains(m)).cloned() {
                if fleet.terminate(&oldest).is_ok() {
                    events.push(Event::new(now, &format!("storm: {oldest} leaves (SIGTERM)")));
                }
            }
        }
    }

    fn end_storm(&mut self, now: Duration, fleet: &mut Fleet, events: &mut Vec<Event>) {
        let running = fleet.running();
        for m in self.storm_members.clone() {
            // A worker leaves once it is up (SIGTERM in a process's first moments, before
            // it handles the signal, is no drain): a young one waits.
            let up = now.saturating_sub(self.storm_started.get(&m).copied().unwrap_or_default());
            if running.contains(&m) && up >= MIN_UP_FOR_SIGTERM && fleet.terminate(&m).is_ok() {
                events.push(Event::new(now, &format!("storm over: {m} leaves (SIGTERM)")));
            }
        }
        let limit = Duration::from_secs(self.opts.drain_limit_seconds + 30);
        for m in self.storm_members.clone() {
            if fleet.draining_for(&m).is_some_and(|d| d > limit) {
                let _ = fleet.kill(&m);
                self.storm_members.retain(|x| *x != m);
                self.tally.storm_drains_failed.push(format!("{m}: no exit after SIGTERM, SIGKILLed"));
            }
        }
    }

    fn broker_faults(&mut self, now: Duration, load_done: bool, events: &mut Vec<Event>) {
        let Some(cluster) = self.cluster.clone() else { return };
        let log = self.logs.join("kafka-restarts.log");
        if let Some(mut f) = self.broker.take() {
            let done = match &mut f.stage {
                BrokerStage::Locating(rx, since) => {
                    let roles = match rx.try_recv() {
                        Ok(r) => Some(r),
                        Err(mpsc::TryRecvError::Empty) if now < *since + Duration::from_secs(90) => None,
                        _ => Some(Roles::default()),
                    };
                    if let Some(roles) = roles {
                        let role = f.index % ROLES.len();
                        let fallback = (f.index as u32 % cluster.nodes) as i32 + 1;
                        let node = roles.by_role[role].filter(|n| *n >= 1 && *n as u32 <= cluster.nodes);
                        let picked = node.unwrap_or(fallback);
                        let txn_worker = self.slots.first().map_or("", |s| s.id.as_str()).to_string();
                        f.node = picked as u32;
                        f.roles = if cluster.nodes == 1 {
                            "the only broker: every role".into()
                        } else {
                            format!(
                                "picked as {}{}; it was {}",
                                ROLES[role],
                                if node.is_none() { " (not found: rotating)" } else { "" },
                                roles.describe(picked, &txn_worker)
                            )
                        };
                        match cluster.pid(f.node) {
                            None => {
                                events.push(Event::new(
                                    now,
                                    &format!("broker node {} not running: fault skipped", f.node),
                                ));
                                self.tally.broker_faults_not_injected += 1;
                                true
                            }
                            Some(pid) => {
                                let pid_ = nix::unistd::Pid::from_raw(pid);
                                let sig = match f.kind {
                                    BrokerKind::Kill => nix::sys::signal::Signal::SIGKILL,
                                    BrokerKind::Pause => nix::sys::signal::Signal::SIGSTOP,
                                };
                                match nix::sys::signal::kill(pid_, sig) {
                                    Ok(()) => {
                                        events.push(Event::new(
                                            now,
                                            &format!("broker {sig:?} node {} (pid {pid}; {})", f.node, f.roles),
                                        ));
                                        f.stage = match f.kind {
                                            BrokerKind::Kill => BrokerStage::Killed { since: now },
                                            BrokerKind::Pause => BrokerStage::Paused { pid, since: now },
                                        };
                                        false
                                    }
                                    Err(e) => {
                                        events.push(Event::new(
                                            now,
                                            &format!("broker {sig:?} node {} failed: {e}", f.node),
                                        ));
                                        self.tally.broker_faults_not_injected += 1;
                                        true
                                    }
                                }
                            }
                        }
                    } else {
                        false
                    }
                }
                BrokerStage::Killed { since } => {
                    if now >= *since + Duration::from_secs(self.opts.broker_down_seconds) {
                        let killed_at = *since;
                        match cluster.restart(&log) {
                            Ok(child) => {
                                events.push(Event::new(now, &format!("broker node {}: scripts/kafka up", f.node)));
                                f.stage = BrokerStage::Restarting { child, killed_at };
                            }
                            Err(e) => {
                                events.push(Event::new(now, &format!("broker restart could not start: {e}")));
                                *since = now; // retried
                            }
                        }
                    }
                    false
                }
                BrokerStage::Restarting { child, killed_at } => match child.try_wait() {
                    Ok(Some(status)) => {
                        let out = now.saturating_sub(*killed_at);
                        let outcome = if status.success() {
                            "restarted".to_string()
                        } else {
                            format!("scripts/kafka up: {status}")
                        };
                        events.push(Event::new(
                            now,
                            &format!("broker node {} {outcome}, {:.1} s after SIGKILL", f.node, out.as_secs_f64()),
                        ));
                        self.tally.broker_kills.push(BrokerFaultRecord {
                            node: f.node,
                            roles: f.roles.clone(),
                            at_secs: secs(*killed_at),
                            out_secs: secs(out),
                            outcome,
                        });
                        if !status.success() {
                            // Try again: the run needs its brokers.
                            f.stage = BrokerStage::Killed { since: now };
                            false
                        } else {
                            true
                        }
                    }
                    Ok(None) => false,
                    Err(e) => {
                        events.push(Event::new(now, &format!("waiting for scripts/kafka up: {e}")));
                        true
                    }
                },
                BrokerStage::Paused { pid, since } => {
                    if now >= *since + Duration::from_secs(self.opts.pause_seconds) {
                        let _ =
                            nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGCONT);
                        let out = now.saturating_sub(*since);
                        events.push(Event::new(
                            now,
                            &format!("broker node {} SIGCONT after {:.1} s", f.node, out.as_secs_f64()),
                        ));
                        self.tally.broker_pauses.push(BrokerFaultRecord {
                            node: f.node,
                            roles: f.roles.clone(),
                            at_secs: secs(*since),
                            out_secs: secs(out),
                            outcome: "resumed".into(),
                        });
                        true
                    } else {
                        false
                    }
                }
            };
            if done {
                self.broker_quiet_until = now + Duration::from_secs(self.opts.broker_recovery_seconds);
            } else {
                self.broker = Some(f);
            }
            return;
        }
        if load_done {
            return;
        }
        let Some(&(at, kind)) = self.broker_times.front() else { return };
        if now < at || now < self.broker_quiet_until || self.storm_active(now) {
            return;
        }
        // It must be over well before the load ends.
        let needs = match kind {
            BrokerKind::Kill => self.opts.broker_down_seconds + 30,
            BrokerKind::Pause => self.opts.pause_seconds + 5,
        };
        self.broker_times.pop_front();
        if now.as_secs_f64() + needs as f64 > self.load_seconds {
            self.tally.broker_faults_not_injected += 1;
            events.push(Event::new(now, &format!("broker {kind:?} not injected: too late in the load")));
            return;
        }
        let index = self.broker_index;
        self.broker_index += 1;
        let (tx, rx) = mpsc::channel();
        if cluster.nodes > 1 {
            let (brokers, requests, group) = (self.brokers.clone(), self.topics.requests.clone(), self.group.clone());
            let txn = format!("{}-{}", self.transactional_prefix, self.slots.first().map_or("", |s| s.id.as_str()));
            std::thread::spawn(move || {
                let _ = tx.send(find_roles(&brokers, &requests, &group, &txn, &cluster));
            });
        } else {
            let _ = tx.send(Roles::default());
        }
        self.broker =
            Some(BrokerFault { kind, index, stage: BrokerStage::Locating(rx, now), node: 1, roles: String::new() });
    }

    fn start_threads(&mut self) {
        let origin = self.origin.expect("set on the first tick");
        if self.opts.route_changes > 0 {
            let (tx, stop) = (self.notes_tx.clone(), self.stop.clone());
            let kafka = KafkaConfig { brokers: self.brokers.clone(), ..KafkaConfig::default() };
            let (topics, rules) = (self.topics.clone(), self.rules.clone());
            let (count, every) =
                (self.opts.route_changes, Duration::from_secs(self.opts.route_change_every_seconds.max(1)));
            self.threads.push(std::thread::spawn(move || {
                route_changes(origin, &kafka, &topics, &rules, count, every, &tx, &stop)
            }));
        }
        if self.opts.hanging_transactions > 0 {
            let (tx, stop) = (self.notes_tx.clone(), self.stop.clone());
            let n = self.opts.hanging_transactions;
            let t = self.load_seconds;
            let times: Vec<Duration> =
                (0..n).map(|i| Duration::from_secs_f64(t * (0.15 + 0.6 * f64::from(i) / f64::from(n)))).collect();
            let hang = HangSettings {
                brokers: self.brokers.clone(),
                topics: self.topics.clone(),
                partitions: self.partitions,
                timeout: Duration::from_secs(self.opts.hang_timeout_seconds),
                prefix: self.group.clone(),
            };
            self.threads.push(std::thread::spawn(move || hanging_transactions(origin, &hang, &times, &tx, &stop)));
        }
    }

    /// After the run: undoes whatever is still in progress (SIGCONT, restarts, storm
    /// workers), waits for the threads, and counts the faults not injected.
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        let now = self.origin.map_or(Duration::ZERO, |o| o.elapsed());
        self.stop.store(true, Ordering::Relaxed);
        if let Some(f) = self.broker.take() {
            match f.stage {
                BrokerStage::Paused { pid, since } => {
                    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGCONT);
                    self.tally.broker_pauses.push(BrokerFaultRecord {
                        node: f.node,
                        roles: f.roles,
                        at_secs: secs(since),
                        out_secs: secs(now.saturating_sub(since)),
                        outcome: "resumed after the run".into(),
                    });
                }
                BrokerStage::Restarting { mut child, .. } => {
                    let _ = child.wait();
                }
                _ => {}
            }
        }
        if let Some(cluster) = &self.cluster {
            if let Err(e) = cluster.heal(&self.logs.join("kafka-restarts.log")) {
                events.push(Event::new(now, &format!("the cluster could not be healed: {e}")));
            }
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        while let Ok(note) = self.notes.try_recv() {
            match note {
                Note::Event(at, what) => events.push(Event::new(at, &what)),
                Note::RouteApplied => self.tally.route_changes_applied += 1,
                Note::RouteFailed(e) => self.tally.route_changes_failed.push(e),
                Note::Hang(h) => self.tally.hanging_transactions.push(h),
            }
        }
        self.tally.kills_not_injected = self.opts.kills.saturating_sub(self.tally.kills);
        self.tally.sigterms_not_injected = self.opts.sigterms.saturating_sub(self.tally.sigterms.len() as u32);
        self.tally.broker_faults_not_injected += self.broker_times.len() as u32;
    }
}

impl Drop for Driver<'_> {
    fn drop(&mut self) {
        // Never leave a broker stopped, whatever happened.
        if let Some(BrokerFault { stage: BrokerStage::Paused { pid, .. }, .. }) = &self.broker {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGCONT);
        }
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sleeps until `origin + at`, or returns false once `stop` is set.
fn sleep_until(origin: Instant, at: Duration, stop: &AtomicBool) -> bool {
    while Instant::now() < origin + at {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !stop.load(Ordering::Relaxed)
}

/// A routing change set every `every`: the first participant's name toggled (no
/// decision depends on it), each applied as the next version while the load runs.
#[allow(clippy::too_many_arguments)]
fn route_changes(
    origin: Instant,
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    rules: &[RouteRecord],
    count: u32,
    every: Duration,
    tx: &Sender<Note>,
    stop: &AtomicBool,
) {
    for i in 0..count {
        if !sleep_until(origin, every * (i + 1), stop) {
            return;
        }
        let mut changed = rules.to_vec();
        if let Some(RouteRecord::Participant(p)) = changed.iter_mut().find(|r| matches!(r, RouteRecord::Participant(_)))
        {
            if i % 2 == 0 {
                p.name.push_str(" (renamed)");
            }
        }
        // A change set that fails (the brokers away) is applied again until it lands:
        // the operator's retry. Applying is idempotent (the live table is made equal
        // to the desired one).
        loop {
            let request = ChangeRequest {
                operator: "loadtest-faults",
                reason: "fault suite: routing change under load",
                ..Default::default()
            };
            match apply_rules(kafka, topics, &changed, request) {
                Ok(a) => {
                    let _ = tx.send(Note::RouteApplied);
                    let what = format!("routing change set #{} applied: version {}", i + 1, a.version);
                    let _ = tx.send(Note::Event(origin.elapsed(), what));
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Note::RouteFailed(format!(
                        "#{} at {:.1} s: {e}",
                        i + 1,
                        origin.elapsed().as_secs_f64()
                    )));
                    let what = format!("routing change set #{} failed, retried in 1 s: {e}", i + 1);
                    let _ = tx.send(Note::Event(origin.elapsed(), what));
                    if !sleep_until(Instant::now(), Duration::from_secs(1), stop) {
                        return;
                    }
                }
            }
        }
    }
}

struct HangSettings {
    brokers: String,
    topics: TopicsConfig,
    partitions: i32,
    timeout: Duration,
    prefix: String,
}

/// The delivery of the hanging record: its offset.
struct Delivered(Mutex<Option<Result<i64, String>>>);

impl ClientContext for Delivered {}

impl ProducerContext for Delivered {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let r = match result {
            Ok(m) => Ok(m.offset()),
            Err((e, _)) => Err(e.to_string()),
        };
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    }
}

fn hanging_transactions(origin: Instant, s: &HangSettings, times: &[Duration], tx: &Sender<Note>, stop: &AtomicBool) {
    for (i, at) in times.iter().enumerate() {
        if !sleep_until(origin, *at, stop) {
            return;
        }
        // The state changelog and the forwards topic, in turn.
        let topic = if i % 2 == 0 { &s.topics.state } else { &s.topics.forwards };
        let partition = (i as i32) % s.partitions.max(1);
        let started = origin.elapsed();
        let hang = match hang_once(s, topic, partition, i, origin, tx) {
            Ok((written, held)) => Hang {
                topic: topic.clone(),
                partition,
                at_secs: secs(written),
                held_secs: held.map(secs),
                outcome: match held {
                    Some(_) => "aborted by the broker".into(),
                    None => "not seen released".into(),
                },
            },
            Err(e) => Hang { topic: topic.clone(), partition, at_secs: secs(started), held_secs: None, outcome: e },
        };
        let _ = tx.send(Note::Hang(hang));
    }
}

/// Begins a transaction, writes one record and stalls; returns how long the
/// partition's last stable offset stayed at that record.
fn hang_once(
    s: &HangSettings,
    topic: &str,
    partition: i32,
    i: usize,
    origin: Instant,
    tx: &Sender<Note>,
) -> Result<(Duration, Option<Duration>), String> {
    let err = |e: rdkafka::error::KafkaError| e.to_string();
    let producer: BaseProducer<Delivered> =
        interlink_testkit::kafka::client(&interlink_testkit::kafka::Connection::new(&s.brokers))
            .set("transactional.id", format!("{}faults-hang-{i}", s.prefix))
            .set("transaction.timeout.ms", s.timeout.as_millis().to_string())
            .create_with_context(Delivered(Mutex::new(None)))
            .map_err(err)?;
    producer.init_transactions(Duration::from_secs(30)).map_err(err)?;
    producer.begin_transaction().map_err(err)?;
    let key = format!("faults-hang-{i}");
    producer
        .send(BaseRecord::to(topic).partition(partition).key(&key).payload("a record that is never committed"))
        .map_err(|(e, _)| e.to_string())?;
    producer.flush(Duration::from_secs(30)).map_err(err)?;
    let offset = producer.context().0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let offset = match offset {
        Some(Ok(o)) => o,
        Some(Err(e)) => return Err(format!("the hanging record was not written: {e}")),
        None => return Err("no delivery report for the hanging record".into()),
    };
    let written = Instant::now();
    let written_at = origin.elapsed();
    let _ = tx.send(Note::Event(
        origin.elapsed(),
        format!("hanging transaction #{}: one record at {topic}[{partition}]@{offset}, never committed", i + 1),
    ));
    // The last stable offset, as a read_committed reader sees it.
    let reader: BaseConsumer = interlink_testkit::kafka::client(&interlink_testkit::kafka::Connection::new(&s.brokers))
        .set("isolation.level", "read_committed")
        .create()
        .map_err(err)?;
    let deadline = written + s.timeout + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Ok((_, lso)) = reader.fetch_watermarks(topic, partition, Duration::from_secs(5)) {
            if lso > offset {
                let held = written.elapsed();
                let _ = tx.send(Note::Event(
                    origin.elapsed(),
                    format!(
                        "hanging transaction #{} aborted by the broker: {topic}[{partition}] held {:.1} s",
                        i + 1,
                        held.as_secs_f64()
                    ),
                ));
                return Ok((written_at, Some(held)));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok((written_at, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinator_partition_is_kafkas() {
        // Java: Math.abs("interlink-switch".hashCode()) % 50 etc., computed by hand
        // from String.hashCode's definition.
        let java_hash = |s: &str| s.bytes().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
        for id in ["a", "interlink-switch", "lt12345678.switch", "lt1.switch-worker-7"] {
            let h = java_hash(id);
            let expected = if h == i32::MIN { 0 } else { h.abs() } % 12;
            assert_eq!(coordinator_partition(id, 12), expected);
        }
        assert_eq!(coordinator_partition("a", 12), 97 % 12);
    }
}
