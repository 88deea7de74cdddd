//! A scenario's report: `report.json` (everything), `report.md` (tables, the checks
//! against the targets) and `chart.svg` (rate and latency over time).

use anyhow::Context as _;
use interlink_testkit::run::Load;
use interlink_testkit::verifier::{SecondStats, Summary};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub scenario: String,
    /// When the scenario ran (RFC 3339, UTC).
    pub started_at: String,
    pub machine: Machine,
    pub settings: serde_json::Value,
    pub runs: Vec<RunReport>,
    pub findings: Vec<(String, serde_json::Value)>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub kernel: String,
}

impl Machine {
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".into(), |m| m.trim().to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
        Self { cores: std::thread::available_parallelism().map_or(0, usize::from), cpu, kernel }
    }
}

/// One measured run of a scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub label: String,
    /// Live workers at the end of the run.
    pub workers: usize,
    pub load: Load,
    pub summary: Summary,
    /// CPU time (user + system) of every worker process during the run.
    pub worker_cpu_secs: f64,
    pub worker_cpu_us_per_request: f64,
    /// The same for the broker processes, when their pids were given.
    pub broker_cpu_secs: Option<f64>,
    pub broker_cpu_us_per_request: Option<f64>,
    /// This process: generator, simulators and verifier.
    pub load_generator_cpu_secs: f64,
    pub worker_peak_rss_mib: f64,
    pub events: Vec<Event>,
}

/// CPU time used during a run, by whom.
pub struct CpuUsed {
    pub workers: Duration,
    pub broker: Option<Duration>,
    pub load_generator: Duration,
}

impl RunReport {
    pub fn new(
        label: &str,
        workers: usize,
        load: Load,
        summary: Summary,
        cpu: CpuUsed,
        worker_peak_rss_mib: f64,
        events: Vec<Event>,
    ) -> Self {
        let per_request = |d: Duration| d.as_secs_f64() * 1e6 / summary.requests.max(1) as f64;
        Self {
            label: label.into(),
            workers,
            load,
            worker_cpu_secs: cpu.workers.as_secs_f64(),
            worker_cpu_us_per_request: per_request(cpu.workers),
            broker_cpu_secs: cpu.broker.map(|d| d.as_secs_f64()),
            broker_cpu_us_per_request: cpu.broker.map(per_request),
            load_generator_cpu_secs: cpu.load_generator.as_secs_f64(),
            worker_peak_rss_mib,
            events,
            summary,
        }
    }
}

/// Something the scenario did during a run (a worker started or killed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub at_secs: f64,
    pub what: String,
}

impl Event {
    pub fn new(at: Duration, what: &str) -> Self {
        Self { at_secs: at.as_secs_f64(), what: what.into() }
    }
}

/// A target and whether the run met it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub pass: bool,
}

impl Check {
    pub fn new(name: &str, target: &str, measured: &str, pass: bool) -> Self {
        Self { name: name.into(), target: target.into(), measured: measured.into(), pass }
    }
}

impl Report {
    pub fn new(scenario: &str, machine: Machine, settings: serde_json::Value) -> Self {
        Self {
            scenario: scenario.into(),
            started_at: interlink_connectors::time::format_datetime(interlink_schemas::now_micros(), 0),
            machine,
            settings,
            runs: Vec::new(),
            findings: Vec::new(),
            checks: Vec::new(),
        }
    }

    pub fn finding(&mut self, name: &str, value: serde_json::Value) {
        self.findings.push((name.into(), value));
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    /// Writes report.json, report.md and chart.svg into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(dir.join("report.json"), json)?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        self.chart(&dir.join("chart.svg"))
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# Load test: {}\n", self.scenario);
        let _ = writeln!(md, "{} · {} cores · {} · Linux {}\n", self.started_at, m.cores, m.cpu, m.kernel);
        let _ = writeln!(
            md,
            "| run | workers | requests | approved | rejected | dead-lettered | lost | dup | elapsed s | req/s | written req/s \
             | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | worker CPU µs/req | broker CPU µs/req \
             | load generator CPU s | worker peak RSS MiB |"
        );
        let _ = writeln!(md, "|{}", "---|".repeat(20));
        for r in &self.runs {
            let s = &r.summary;
            let broker = r.broker_cpu_us_per_request.map_or_else(|| "–".into(), |v| format!("{v:.1}"));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.0} |",
                r.label,
                r.workers,
                s.requests,
                s.approved,
                s.rejected,
                s.dead_lettered,
                s.lost,
                s.duplicated,
                s.elapsed_secs,
                s.rate_per_sec,
                s.written_rate_per_sec,
                s.latency_ms_p50,
                s.latency_ms_p90,
                s.latency_ms_p99,
                s.latency_ms_p999,
                s.latency_ms_max,
                r.worker_cpu_us_per_request,
                broker,
                r.load_generator_cpu_secs,
                r.worker_peak_rss_mib
            );
        }
        let events: Vec<_> = self.runs.iter().flat_map(|r| r.events.iter().map(move |e| (&r.label, e))).collect();
        if !events.is_empty() {
            let _ = writeln!(md, "\nEvents:\n");
            for (label, e) in events {
                let _ = writeln!(md, "- {label}, at {:.1} s: {}", e.at_secs, e.what);
            }
        }
        if !self.findings.is_empty() {
            let _ = writeln!(md, "\n| finding | value |\n|---|---|");
            for (name, value) in &self.findings {
                let _ = writeln!(md, "| {name} | {value} |");
            }
        }
        let _ = writeln!(md, "\n| check | target | measured | |\n|---|---|---|---|");
        for c in &self.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                c.name,
                c.target,
                c.measured,
                if c.pass { "pass" } else { "MISSED" }
            );
        }
        let _ = writeln!(md, "\n![rate and latency over time](chart.svg)");
        md
    }

    /// Requests sent and completed per second, and p50/p99 latency of the requests
    /// sent in each second; the paced runs one after another (capacity bursts, whose
    /// one-second spikes would flatten everything else, are in the table only).
    fn chart(&self, path: &Path) -> anyhow::Result<()> {
        let mut seconds: Vec<SecondStats> = Vec::new();
        let paced = self.runs.iter().any(|r| matches!(r.load, Load::Paced(_)));
        for r in self.runs.iter().filter(|r| !paced || matches!(r.load, Load::Paced(_))) {
            let offset = seconds.len() as u32;
            seconds.extend(r.summary.timeline.iter().cloned().map(|mut s| {
                s.second += offset;
                s
            }));
        }
        let err = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("drawing the chart: {e}");
        let n = (seconds.len() as u32).max(1);
        let max_rate = seconds.iter().map(|s| s.sent.max(s.completed)).max().unwrap_or(1).max(1);
        let max_ms = seconds.iter().map(|s| s.p99_ms).fold(1.0, f64::max);
        let root = SVGBackend::new(path, (1000, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(320);
        let mut rate = ChartBuilder::on(&top)
            .caption(format!("{}: requests per second", self.scenario), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0..n, 0..max_rate + max_rate / 10)
            .map_err(err)?;
        rate.configure_mesh().x_desc("second").draw().map_err(err)?;
        for (name, color, pick) in [
            ("sent", BLUE, (|s: &SecondStats| s.sent) as fn(&SecondStats) -> u64),
            ("completed", GREEN, |s: &SecondStats| s.completed),
        ] {
            rate.draw_series(LineSeries::new(seconds.iter().map(|s| (s.second, pick(s))), color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        rate.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
        let mut latency = ChartBuilder::on(&bottom)
            .caption("latency of the requests sent in each second (ms)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0..n, 0.0..max_ms * 1.1)
            .map_err(err)?;
        latency.configure_mesh().x_desc("second").draw().map_err(err)?;
        for (name, color, pick) in [
            ("p50", BLUE, (|s: &SecondStats| s.p50_ms) as fn(&SecondStats) -> f64),
            ("p99", RED, |s: &SecondStats| s.p99_ms),
        ] {
            latency
                .draw_series(LineSeries::new(seconds.iter().map(|s| (s.second, pick(s))), color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        latency.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
        root.present().map_err(err)
    }
}
