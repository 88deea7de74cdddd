//! `interlinkctl settlement`: close a cycle now, the schemes and their last netted
//! cycles, a netted cycle's positions (and a statement per participant), and a cycle's
//! reconciliation with the connected networks' status reports and returns.
//! docs/operations.md, "Settlement", describes the outputs.

use super::events::EventReader;
use super::{edit, read_live, Failure, Format, TIMEOUT};
use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use interlink_connectors::{CanonicalReturn, CanonicalStatus};
use interlink_core::legs::wire_id;
use interlink_routing::{format_minor, CompiledScheme, RouteKey, RouteRecord, SettlementScheme};
use interlink_schemas::{Agent, ClearingRecord, PaymentReturn, SettlementRecord, SettlementRecordKind};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::routes_writer::ChangeRequest;
use interlink_switch::kafka::{read_to_end, read_topics, TopicRecord};
use interlink_vocab::Finality;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Operators' cut-offs older than this are dropped when `close` adds one.
const KEEP_MANUAL_CUT_OFFS: SignedDuration = SignedDuration::from_hours(35 * 24);

/// The event versions settlement commands decode.
pub const READS: [&interlink_schemas::registry::SchemaVersion; 3] = [
    &interlink_schemas::registry::CLEARING_RECORD_V3,
    &interlink_schemas::registry::PAYMENT_RETURN_V1,
    &interlink_schemas::registry::SETTLEMENT_RECORD_V1,
];

#[derive(Subcommand)]
pub enum SettlementCommand {
    /// Closes a currency's open cycle at an operator's cut-off a few seconds from now,
    /// with every record counted in it so far: adds the cut-off to the scheme's
    /// `manual_cut_offs` (RFC 3339, UTC) as one change set (a new routing version, in
    /// the audit trail), and drops operator cut-offs older than 35 days. The next cycle
    /// opens at the cut-off and is named by it. The delay lets every worker load the
    /// new table before the cut-off passes (a worker that learns it later closes the
    /// cycle as soon as it does).
    Close {
        /// The settlement currency (ISO 4217) whose scheme gets the cut-off.
        #[arg(long)]
        currency: String,
        /// Who is closing the cycle (recorded in the audit trail).
        #[arg(long)]
        operator: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
        /// Seconds from now to the cut-off (1 to 86400).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=86_400))]
        after_seconds: u32,
        /// Print the change and the cycle without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Each scheme of the live table: its schedule, its next cut-off, and the last cycle
    /// netted on the settlement topic.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// A netted cycle's net positions, from the settlement topic, with a check that they
    /// sum to zero and match the cycle's summary (exit 1 if not, or if no such cycle).
    Report {
        /// The cycle, as the settlement records name it (HKD-20261201T160000+0800).
        cycle_id: String,
        /// Only this participant's position (NETWORK/INSTITUTION_ID); the summary and the
        /// check still cover the whole cycle.
        #[arg(long)]
        participant: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
        /// Also write statements to DIR/<cycle>/: <NETWORK>_<ID>.json and .csv per
        /// participant, summary.json (the JSON report of the whole cycle) and
        /// positions.csv (every participant).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Matches the cycle's clearing records against the networks: a payment to a
    /// connected network against its settled status report (ACCC/ACSC), a reversal
    /// against the network's return (pacs.004), amounts included; and lists settled
    /// reports written during the cycle that no clearing record answers. Exit 1 when
    /// anything does not match.
    Reconcile {
        /// The cycle (HKD-20261201T160000+0800); netted or still open.
        cycle_id: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// The networks settled in two legs (the switch's `networks.connected`),
        /// comma-separated; by default every network whose `.in` topic holds status
        /// reports or returns.
        #[arg(long, value_delimiter = ',')]
        connected: Option<Vec<String>>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

pub fn run(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    events: &EventReader,
    command: SettlementCommand,
) -> Result<(), Failure> {
    match command {
        SettlementCommand::Close { currency, operator, reason, after_seconds, dry_run } => {
            close(kafka, topics, &currency, &operator, &reason, after_seconds, dry_run)
        }
        SettlementCommand::Status { format } => status(kafka, topics, events, format),
        SettlementCommand::Report { cycle_id, participant, format, out } => {
            report(kafka, topics, events, &cycle_id, participant.as_deref(), format, out.as_deref())
        }
        SettlementCommand::Reconcile { cycle_id, format, connected } => {
            reconcile(kafka, topics, events, &cycle_id, format, connected)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

/// RFC 3339 in UTC ("2026-12-01T08:00:00Z", with a fraction only when there is one).
fn rfc3339(micros: i64) -> String {
    Timestamp::from_microsecond(micros).map_or_else(|_| format!("{micros} µs"), |t| t.to_string())
}

/// A cut-off that may be "none within a year" (`i64::MAX` / `i64::MIN`).
fn known(micros: i64) -> Option<i64> {
    (micros != i64::MAX && micros != i64::MIN).then_some(micros)
}

/// Minor units as decimal text in major units ("1234.50"); the minor units themselves
/// for a currency without a known exponent.
pub(super) fn money(minor: i64, currency: &str) -> String {
    format_minor(minor, currency).unwrap_or_else(|_| minor.to_string())
}

/// "in 45 s", "in 3 h 12 min", "2 min ago".
pub(super) fn relative(micros: i64, now: i64) -> String {
    let seconds = (micros - now) / 1_000_000;
    let s = seconds.unsigned_abs();
    let text = match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    };
    if seconds >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// The cut-off a cycle id names (the one the cycle opened at): `CUR-YYYYMMDDTHHMMSS±hhmm`.
fn parse_cycle_id(cycle_id: &str) -> Result<(String, i64), Failure> {
    let refuse = || {
        Failure::Rejected(format!(
            "{cycle_id:?} is not a cycle id like HKD-20261201T100000+0800 (currency, the local cut-off it opened at and its UTC offset)"
        ))
    };
    let (currency, local) = cycle_id.split_once('-').ok_or_else(refuse)?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(refuse());
    }
    let at =
        jiff::fmt::strtime::parse("%Y%m%dT%H%M%S%z", local).and_then(|t| t.to_timestamp()).map_err(|_| refuse())?;
    Ok((currency.to_string(), at.as_microsecond()))
}

/// The id of the cycle that opened at cut-off `opened` (`i64::MIN`: the scheme's first).
fn cycle_name(scheme: &CompiledScheme, opened: i64) -> String {
    match known(opened) {
        Some(opened) => scheme.cycle_id(opened),
        None => format!("{} (its first cycle)", scheme.currency()),
    }
}

fn read_settlement(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    events: &EventReader,
) -> Result<Vec<SettlementRecord>, Failure> {
    let codec = events.codec::<SettlementRecord>()?;
    read_to_end(kafka, &topics.settlement, TIMEOUT)
        .with_context(|| format!("reading {}", topics.settlement))?
        .into_iter()
        .filter_map(|(_, value)| value)
        .map(|v| {
            events
                .decode(&codec, &v)
                .with_context(|| format!("a record of {} is not a SettlementRecord", topics.settlement))
        })
        .collect::<Result<_, _>>()
        .map_err(Failure::from)
}

fn schemes(rules: &BTreeMap<RouteKey, RouteRecord>) -> impl Iterator<Item = &SettlementScheme> {
    rules.values().filter_map(|r| match r {
        RouteRecord::Settlement(s) => Some(s),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------
// close
// ---------------------------------------------------------------------------------------

/// `scheme` with an operator's cut-off at `at`, without those before `keep_after`.
fn with_cut_off(scheme: &SettlementScheme, at: Timestamp, keep_after: Timestamp) -> SettlementScheme {
    let mut cut_offs: Vec<(Option<Timestamp>, String)> = scheme
        .manual_cut_offs
        .iter()
        .map(|t| (t.parse::<Timestamp>().ok(), t.clone()))
        .filter(|(t, _)| t.is_none_or(|t| t >= keep_after))
        .collect();
    cut_offs.push((Some(at), at.to_string()));
    cut_offs.sort();
    cut_offs.dedup_by(|a, b| a.0.is_some() && a.0 == b.0);
    SettlementScheme { manual_cut_offs: cut_offs.into_iter().map(|(_, t)| t).collect(), ..scheme.clone() }
}

fn close(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    currency: &str,
    operator: &str,
    reason: &str,
    after_seconds: u32,
    dry_run: bool,
) -> Result<(), Failure> {
    let currency = currency.trim().to_ascii_uppercase();
    let live = read_live(kafka, topics)?;
    if !schemes(live.rules()).any(|s| s.currency == currency) {
        let known: Vec<&str> = schemes(live.rules()).map(|s| s.currency.as_str()).collect();
        return Err(Failure::Rejected(format!(
            "{currency}: no settlement scheme in the live routing table (version {}); schemes: {}",
            live.version(),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        )));
    }
    let now = Timestamp::now();
    // Whole seconds, at least `after_seconds` away.
    let at =
        Timestamp::from_second(now.as_second() + i64::from(after_seconds) + i64::from(now.subsec_nanosecond() > 0))
            .context("the cut-off time")?;
    let keep_after = now - KEEP_MANUAL_CUT_OFFS;
    let mut changed: Option<SettlementScheme> = None;
    let add = |live: &BTreeMap<RouteKey, RouteRecord>| -> Vec<RouteRecord> {
        live.values()
            .map(|r| match r {
                RouteRecord::Settlement(s) if s.currency == currency => {
                    let s = with_cut_off(s, at, keep_after);
                    changed = Some(s.clone());
                    RouteRecord::Settlement(s)
                }
                other => other.clone(),
            })
            .collect()
    };
    let reason = format!("settlement close {currency}: {reason}");
    let applied = edit(kafka, topics, add, ChangeRequest { operator, reason: &reason, dry_run, base_version: None })?;
    let Some(scheme) = changed.filter(|_| !applied.changes.is_empty()) else {
        return Err(Failure::Rejected(format!(
            "{currency}: no cut-off added (the scheme is gone, or has one at {at})"
        )));
    };
    let compiled =
        CompiledScheme::compile(&scheme).map_err(|e| Failure::Rejected(format!("settlement/{currency}: {e}")))?;
    let cut_off = at.as_microsecond();
    // The cycle open at the cut-off: the one that opened at the cut-off before it.
    let opening = compiled.cut_off_before(cut_off - 1);
    let (cycle, opened) = match known(opening) {
        Some(previous) => (compiled.cycle_id(previous), format!("opened at {}", rfc3339(previous))),
        None => (format!("{currency} (its first cycle)"), "no earlier cut-off".to_string()),
    };
    let verb = if dry_run { "would close" } else { "closes" };
    println!("cycle {cycle} {verb} at {at} (in {after_seconds} s; {opened})");
    let first = compiled.cycle_of(now.as_microsecond());
    if first < cut_off {
        println!(
            "note: the scheduled cut-off at {} closes cycle {} before it",
            rfc3339(first),
            cycle_name(&compiled, compiled.cut_off_before(first - 1))
        );
    }
    println!("the next cycle opens at {at}: {}", compiled.cycle_id(cut_off));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct SchemeStatus {
    currency: String,
    /// The scheme as the routing table holds it.
    scheme: SettlementScheme,
    schedule: String,
    next_cycle: Option<CycleRef>,
    last_netted: Option<NettedCycle>,
}

#[derive(Serialize)]
struct CycleRef {
    cycle_id: String,
    cut_off: String,
}

#[derive(Serialize)]
struct NettedCycle {
    cycle_id: String,
    opened_after: String,
    cut_off: String,
    closed_at: String,
    participants: i32,
    clearing_records: i64,
    late_records: i64,
    partitions: i32,
    routing_version: i64,
}

/// "16:00 mon-fri (Asia/Hong_Kong), 1 holiday(s), operator cut-off(s) pending: ...".
fn schedule(s: &SettlementScheme, now: i64) -> String {
    let times = match s.every_minutes {
        Some(n) => format!("every {n} min"),
        None => s.cut_offs.join(", "),
    };
    let days: Vec<String> = s
        .business_days
        .iter()
        .map(|d| serde_json::to_value(d).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
        .collect();
    let days = match days.join(",").as_str() {
        "mon,tue,wed,thu,fri" => "mon-fri".to_string(),
        "mon,tue,wed,thu,fri,sat,sun" => "daily".to_string(),
        other => other.to_string(),
    };
    let mut text = format!("{times} {days} ({})", s.time_zone);
    if !s.holidays.is_empty() {
        text += &format!(", {} holiday(s)", s.holidays.len());
    }
    let pending: Vec<&str> = s
        .manual_cut_offs
        .iter()
        .filter(|t| t.parse::<Timestamp>().is_ok_and(|t| t.as_microsecond() > now))
        .map(String::as_str)
        .collect();
    if !pending.is_empty() {
        text += &format!(", operator cut-off(s) pending: {}", pending.join(", "));
    }
    text
}

fn status(kafka: &KafkaConfig, topics: &TopicsConfig, events: &EventReader, format: Format) -> Result<(), Failure> {
    let live = read_live(kafka, topics)?;
    let netted = read_settlement(kafka, topics, events)?;
    let table = live.table();
    let now = Timestamp::now().as_microsecond();
    // The last netted cycle of each currency: the latest cut-off (the last written of equals).
    let mut last: BTreeMap<&str, &SettlementRecord> = BTreeMap::new();
    for r in netted.iter().filter(|r| r.kind == SettlementRecordKind::Summary) {
        if last.get(r.currency.as_str()).is_none_or(|l| l.cut_off <= r.cut_off) {
            last.insert(&r.currency, r);
        }
    }
    let mut schemes: Vec<&CompiledScheme> = table.settlement_schemes().collect();
    schemes.sort_by(|a, b| a.currency().cmp(b.currency()));
    let statuses: Vec<SchemeStatus> = schemes
        .into_iter()
        .map(|s| {
            // The open cycle: named by the cut-off it opened at, closing at the next one.
            let next = known(s.cycle_of(now))
                .map(|c| CycleRef { cycle_id: cycle_name(s, s.cut_off_before(now)), cut_off: rfc3339(c) });
            let last_netted = last.get(s.currency()).map(|r| NettedCycle {
                cycle_id: r.cycle_id.clone(),
                opened_after: rfc3339(r.opened_after),
                cut_off: rfc3339(r.cut_off),
                closed_at: rfc3339(r.closed_at),
                participants: r.participants,
                clearing_records: r.clearing_records,
                late_records: r.late_records,
                partitions: r.partitions,
                routing_version: r.routing_version,
            });
            SchemeStatus {
                currency: s.currency().to_string(),
                scheme: s.rule.clone(),
                schedule: schedule(&s.rule, now),
                next_cycle: next,
                last_netted,
            }
        })
        .collect();
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Status {
                routing_version: i64,
                schemes: Vec<SchemeStatus>,
            }
            let out = Status { routing_version: live.version(), schemes: statuses };
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        Format::Table => {
            for s in &statuses {
                println!("{:<4} cycles at {}", s.currency, s.schedule);
                match &s.next_cycle {
                    Some(n) => {
                        let at: Timestamp = n.cut_off.parse().context("a cut-off")?;
                        println!(
                            "     next: {} closes {} ({})",
                            n.cycle_id,
                            n.cut_off,
                            relative(at.as_microsecond(), now)
                        );
                    }
                    None => println!("     next: none within a year"),
                }
                match &s.last_netted {
                    Some(l) => println!(
                        "     last: {} closed {}: {} participant(s), {} clearing record(s), {} late",
                        l.cycle_id, l.closed_at, l.participants, l.clearing_records, l.late_records
                    ),
                    None => println!("     last: none netted yet"),
                }
            }
            println!("{} scheme(s) at routing version {}", statuses.len(), live.version());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------

/// The cycle as a whole: the SUMMARY record, in words.
#[derive(Serialize)]
struct CycleSummary {
    cycle_id: String,
    currency: String,
    opened_after: String,
    cut_off: String,
    closed_at: String,
    routing_version: i64,
    participants: i32,
    clearing_records: i64,
    late_records: i64,
    partitions: i32,
    gross_debit: String,
    gross_credit: String,
    gross_debit_minor: i64,
    gross_credit_minor: i64,
    debits: i64,
    credits: i64,
}

#[derive(Serialize)]
struct Participant {
    network: String,
    institution_id: String,
    name: Option<String>,
}

/// One participant's statement: what it pays or receives in the cycle.
#[derive(Serialize)]
struct Statement {
    cycle_id: String,
    currency: String,
    opened_after: String,
    cut_off: String,
    closed_at: String,
    routing_version: i64,
    participant: Participant,
    gross_debit: String,
    gross_credit: String,
    /// Credits minus debits, signed: positive receives.
    net: String,
    /// PAY (net < 0), RECEIVE (net > 0) or NONE.
    direction: &'static str,
    /// What moves, unsigned: |net|.
    settlement_amount: String,
    gross_debit_minor: i64,
    gross_credit_minor: i64,
    net_minor: i64,
    /// Clearing legs debited and credited.
    debits: i64,
    credits: i64,
}

#[derive(Serialize)]
struct Check {
    /// Positions in the cycle.
    positions: usize,
    net_sum_minor: i64,
    net_sum: String,
    /// The positions sum to zero and agree with the summary.
    balanced: bool,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct CycleReport {
    cycle: CycleSummary,
    positions: Vec<Statement>,
    check: Check,
}

fn direction(net: i64) -> &'static str {
    match net.signum() {
        -1 => "PAY",
        1 => "RECEIVE",
        _ => "NONE",
    }
}

fn statement(r: &SettlementRecord) -> Statement {
    let who = r.participant.clone().unwrap_or_else(|| Agent::new("", ""));
    let c = r.currency.as_str();
    Statement {
        cycle_id: r.cycle_id.clone(),
        currency: r.currency.clone(),
        opened_after: rfc3339(r.opened_after),
        cut_off: rfc3339(r.cut_off),
        closed_at: rfc3339(r.closed_at),
        routing_version: r.routing_version,
        participant: Participant {
            network: who.network,
            institution_id: who.institution_id,
            name: r.participant_name.clone(),
        },
        gross_debit: money(r.gross_debit_minor, c),
        gross_credit: money(r.gross_credit_minor, c),
        net: money(r.net_minor, c),
        direction: direction(r.net_minor),
        settlement_amount: money(r.net_minor.saturating_abs(), c),
        gross_debit_minor: r.gross_debit_minor,
        gross_credit_minor: r.gross_credit_minor,
        net_minor: r.net_minor,
        debits: r.debits,
        credits: r.credits,
    }
}

/// The cycle's records as a report: positions by participant, the summary, the check.
fn cycle_report(cycle_id: &str, records: &[&SettlementRecord]) -> Result<CycleReport, Failure> {
    let summaries: Vec<&&SettlementRecord> =
        records.iter().filter(|r| r.kind == SettlementRecordKind::Summary).collect();
    let Some(summary) = summaries.first() else {
        return Err(Failure::Rejected(format!("{cycle_id}: positions without the cycle's SUMMARY record")));
    };
    let mut problems = Vec::new();
    if summaries.len() > 1 {
        problems.push(format!("{} SUMMARY records for the cycle", summaries.len()));
    }
    let mut positions: BTreeMap<(String, String), &SettlementRecord> = BTreeMap::new();
    for r in records.iter().filter(|r| r.kind == SettlementRecordKind::Position) {
        let who = r.participant.clone().unwrap_or_else(|| Agent::new("", ""));
        if positions.insert((who.network.clone(), who.institution_id.clone()), r).is_some() {
            problems.push(format!("{}/{} has more than one position", who.network, who.institution_id));
        }
        if r.net_minor != r.gross_credit_minor - r.gross_debit_minor {
            problems.push(format!("{}/{}: net is not credits minus debits", who.network, who.institution_id));
        }
    }
    let c = summary.currency.as_str();
    let net_sum: i64 = positions.values().map(|r| r.net_minor).sum();
    let debit_sum: i64 = positions.values().map(|r| r.gross_debit_minor).sum();
    let credit_sum: i64 = positions.values().map(|r| r.gross_credit_minor).sum();
    if net_sum != 0 {
        problems.push(format!("positions sum to {} {c}, not zero", money(net_sum, c)));
    }
    if (debit_sum, credit_sum) != (summary.gross_debit_minor, summary.gross_credit_minor) {
        problems.push(format!(
            "positions' gross debits and credits ({}, {}) differ from the summary's ({}, {})",
            money(debit_sum, c),
            money(credit_sum, c),
            money(summary.gross_debit_minor, c),
            money(summary.gross_credit_minor, c)
        ));
    }
    if positions.len() != summary.participants as usize {
        problems.push(format!("{} positions, the summary counts {}", positions.len(), summary.participants));
    }
    Ok(CycleReport {
        cycle: CycleSummary {
            cycle_id: summary.cycle_id.clone(),
            currency: summary.currency.clone(),
            opened_after: rfc3339(summary.opened_after),
            cut_off: rfc3339(summary.cut_off),
            closed_at: rfc3339(summary.closed_at),
            routing_version: summary.routing_version,
            participants: summary.participants,
            clearing_records: summary.clearing_records,
            late_records: summary.late_records,
            partitions: summary.partitions,
            gross_debit: money(summary.gross_debit_minor, c),
            gross_credit: money(summary.gross_credit_minor, c),
            gross_debit_minor: summary.gross_debit_minor,
            gross_credit_minor: summary.gross_credit_minor,
            debits: summary.debits,
            credits: summary.credits,
        },
        positions: positions.values().map(|r| statement(r)).collect(),
        check: Check {
            positions: positions.len(),
            net_sum_minor: net_sum,
            net_sum: money(net_sum, c),
            balanced: problems.is_empty(),
            problems,
        },
    })
}

const CSV_HEADER: &str = "cycle_id,currency,opened_after,cut_off,closed_at,routing_version,network,institution_id,name,gross_debit,gross_credit,net,direction,settlement_amount,debits,credits";

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_row(s: &Statement) -> String {
    [
        s.cycle_id.as_str(),
        &s.currency,
        &s.opened_after,
        &s.cut_off,
        &s.closed_at,
        &s.routing_version.to_string(),
        &s.participant.network,
        &s.participant.institution_id,
        s.participant.name.as_deref().unwrap_or_default(),
        &s.gross_debit,
        &s.gross_credit,
        &s.net,
        s.direction,
        &s.settlement_amount,
        &s.debits.to_string(),
        &s.credits.to_string(),
    ]
    .map(csv_field)
    .join(",")
}

fn csv<'a>(statements: impl IntoIterator<Item = &'a Statement>) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for s in statements {
        out += &csv_row(s);
        out.push('\n');
    }
    out
}

/// A file name part: letters, digits, `.`, `-` and `_` kept, anything else `_`.
fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+') { c } else { '_' })
        .collect()
}

fn write_statements(dir: &Path, report: &CycleReport, selected: &[&Statement]) -> Result<Vec<PathBuf>, Failure> {
    let dir = dir.join(file_part(&report.cycle.cycle_id));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, text: String| -> Result<(), Failure> {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for s in selected {
        let base = format!("{}_{}", file_part(&s.participant.network), file_part(&s.participant.institution_id));
        write(format!("{base}.json"), serde_json::to_string_pretty(s)? + "\n")?;
        write(format!("{base}.csv"), csv([*s]))?;
    }
    write("summary.json".into(), serde_json::to_string_pretty(report)? + "\n")?;
    write("positions.csv".into(), csv(&report.positions))?;
    Ok(written)
}

fn report(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    events: &EventReader,
    cycle_id: &str,
    participant: Option<&str>,
    format: ReportFormat,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let wanted = match participant {
        None => None,
        Some(p) => Some(
            p.split_once('/')
                .filter(|(n, i)| !n.is_empty() && !i.is_empty())
                .ok_or_else(|| Failure::Rejected(format!("--participant {p:?}: give NETWORK/INSTITUTION_ID")))?,
        ),
    };
    let netted = read_settlement(kafka, topics, events)?;
    let records: Vec<&SettlementRecord> = netted.iter().filter(|r| r.cycle_id == cycle_id).collect();
    if records.is_empty() {
        let currency = cycle_id.split('-').next().unwrap_or_default();
        let mut others: Vec<&str> = netted
            .iter()
            .filter(|r| r.kind == SettlementRecordKind::Summary && r.currency == currency)
            .map(|r| r.cycle_id.as_str())
            .collect();
        others.reverse();
        others.truncate(3);
        let hint = if others.is_empty() {
            String::new()
        } else {
            format!("; latest {currency} cycles: {}", others.join(", "))
        };
        return Err(Failure::Rejected(format!(
            "{cycle_id}: no netted cycle of that id on {}{hint}",
            topics.settlement
        )));
    }
    let report = cycle_report(cycle_id, &records)?;
    let selected: Vec<&Statement> = report
        .positions
        .iter()
        .filter(|s| wanted.is_none_or(|(n, i)| s.participant.network == n && s.participant.institution_id == i))
        .collect();
    if let Some((n, i)) = wanted {
        if selected.is_empty() {
            return Err(Failure::Rejected(format!("{n}/{i} has no position in {cycle_id}")));
        }
    }
    match format {
        ReportFormat::Json if wanted.is_some() => {
            #[derive(Serialize)]
            struct Filtered<'a> {
                cycle: &'a CycleSummary,
                positions: &'a [&'a Statement],
                check: &'a Check,
            }
            let filtered = Filtered { cycle: &report.cycle, positions: &selected, check: &report.check };
            println!("{}", serde_json::to_string_pretty(&filtered)?);
        }
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Csv => print!("{}", csv(selected.iter().copied())),
        ReportFormat::Table => print_report(&report, &selected),
    }
    if let Some(dir) = out {
        let written = write_statements(dir, &report, &selected)?;
        eprintln!("wrote {} file(s) to {}", written.len(), dir.join(file_part(&report.cycle.cycle_id)).display());
    }
    if !report.check.balanced {
        return Err(Failure::Rejected(format!("{cycle_id} does not balance: {}", report.check.problems.join("; "))));
    }
    Ok(())
}

fn print_report(report: &CycleReport, selected: &[&Statement]) {
    let c = &report.cycle;
    println!(
        "cycle {} ({}): records cleared after {} up to {}; closed {} at routing version {}",
        c.cycle_id, c.currency, c.opened_after, c.cut_off, c.closed_at, c.routing_version
    );
    // Columns as wide as their widest cell.
    let width = |header: &str, cell: &dyn Fn(&Statement) -> usize| {
        selected.iter().map(|s| cell(s)).chain([header.chars().count()]).max().unwrap_or_default()
    };
    let w = [
        width("NETWORK", &|s| s.participant.network.chars().count()),
        width("INSTITUTION", &|s| s.participant.institution_id.chars().count()),
        width("NAME", &|s| s.participant.name.as_deref().unwrap_or("-").chars().count()),
        width("GROSS DEBIT", &|s| s.gross_debit.len()),
        width("GROSS CREDIT", &|s| s.gross_credit.len()),
        width("NET", &|s| s.net.len()),
    ];
    let row = |cells: [&str; 7]| {
        println!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4],
            w5 = w[5]
        )
    };
    row(["NETWORK", "INSTITUTION", "NAME", "GROSS DEBIT", "GROSS CREDIT", "NET", "DIRECTION"]);
    for s in selected {
        row([
            &s.participant.network,
            &s.participant.institution_id,
            s.participant.name.as_deref().unwrap_or("-"),
            &s.gross_debit,
            &s.gross_credit,
            &s.net,
            s.direction,
        ]);
    }
    println!(
        "SUMMARY: {} participant(s), {} clearing record(s) ({} late) from {} partition(s); gross {} debited, {} credited",
        c.participants, c.clearing_records, c.late_records, c.partitions, c.gross_debit, c.gross_credit
    );
    if report.check.balanced {
        println!(
            "check: {} position(s) sum to {} {}: balanced",
            report.check.positions, report.check.net_sum, c.currency
        );
    } else {
        println!("check: NOT BALANCED: {}", report.check.problems.join("; "));
    }
}

// ---------------------------------------------------------------------------------------
// reconcile
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Clone)]
struct Money {
    currency: String,
    minor_units: i64,
    amount: String,
}

impl Money {
    fn new(minor_units: i64, currency: &str) -> Self {
        Self { currency: currency.to_string(), minor_units, amount: money(minor_units, currency) }
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.currency, self.amount)
    }
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
enum MismatchKind {
    /// A payment to a connected network cleared without the network's settled report.
    NoConfirmation,
    /// A reversal without the network's return (pacs.004).
    NoReturn,
    /// The network's report or return names another amount than the clearing record.
    AmountDiffers,
    /// A settled report written during the cycle that no clearing record answers.
    ConfirmationWithoutClearing,
}

impl MismatchKind {
    fn name(self) -> &'static str {
        match self {
            Self::NoConfirmation => "no_confirmation",
            Self::NoReturn => "no_return",
            Self::AmountDiffers => "amount_differs",
            Self::ConfirmationWithoutClearing => "confirmation_without_clearing",
        }
    }
}

#[derive(Serialize)]
struct Mismatch {
    kind: MismatchKind,
    network: String,
    /// The clearing record's transaction id (none for a confirmation without one).
    transaction_id: Option<String>,
    wire_id: String,
    clearing_amount: Option<Money>,
    network_amount: Option<Money>,
    detail: String,
}

#[derive(Serialize, Default)]
struct NetworkTotals {
    network: String,
    /// `two_leg` (connected: the network confirms) or `direct`.
    mode: &'static str,
    /// The cycle's clearing records that credit the network (payments and reversals).
    records: u64,
    /// Their credits, per currency, in major units.
    credits: BTreeMap<String, String>,
    credits_minor: BTreeMap<String, i64>,
    /// Of those records, payments matched with the network's settled status report.
    confirmed: u64,
    /// Reversals of payments the network returned, and those matched with its pacs.004.
    reversals: u64,
    returns_matched: u64,
    mismatches: u64,
}

/// A settled report with no clearing record for which the switch sent the network a
/// return (the report came after the payment's deadline): settled both ways.
#[derive(Serialize)]
struct LateReturned {
    network: String,
    wire_id: String,
    transaction_id: String,
    return_id: String,
}

#[derive(Serialize)]
struct Reconciliation {
    cycle_id: String,
    currency: String,
    opened_after: Option<String>,
    cut_off: String,
    /// Whether the cycle's SUMMARY is on the settlement topic.
    netted: bool,
    connected: Vec<String>,
    clearing_records: u64,
    /// Payments to connected networks, and those confirmed.
    two_leg: u64,
    confirmed: u64,
    /// Payments settled by the switch's routing decision alone.
    direct: u64,
    reversals: u64,
    returns_matched: u64,
    late_returned: Vec<LateReturned>,
    networks: Vec<NetworkTotals>,
    mismatches: Vec<Mismatch>,
    clean: bool,
}

/// A status report as a network wrote it.
struct Reported {
    status: CanonicalStatus,
    /// Its Kafka timestamp (µs), when it has one.
    written: Option<i64>,
}

/// What the connected networks wrote on their `.in` topics.
#[derive(Default)]
struct NetworkMessages {
    /// Settled status reports by (network, wire id), with their Kafka timestamps (µs).
    settled: BTreeMap<(String, String), Vec<Reported>>,
    /// Returns by (network, wire id, return id).
    returns: HashMap<(String, String, String), CanonicalReturn>,
    /// Networks whose `.in` holds status reports or returns.
    answering: BTreeSet<String>,
}

impl NetworkMessages {
    fn add_status(&mut self, network: &str, status: CanonicalStatus, written: Option<i64>) {
        self.answering.insert(network.to_string());
        if status.status.finality() == Finality::Settled {
            let key = (network.to_string(), status.original_transaction_id.clone());
            self.settled.entry(key).or_default().push(Reported { status, written });
        }
    }

    fn add_return(&mut self, network: &str, r: CanonicalReturn) {
        self.answering.insert(network.to_string());
        let key = (network.to_string(), r.original_transaction_id.clone(), r.return_id.clone());
        self.returns.entry(key).or_insert(r);
    }
}

fn network_messages(records: &BTreeMap<String, Vec<TopicRecord>>, topics: &TopicsConfig) -> NetworkMessages {
    let mut m = NetworkMessages::default();
    for connector in interlink_connectors::connectors() {
        let network = connector.profile().id;
        let Some(records) = records.get(&topics.network_in(network)) else { continue };
        for r in records {
            let Some(value) = &r.value else { continue };
            let written = r.timestamp_ms.map(|ms| ms.saturating_mul(1000));
            if let Ok(status) = connector.decode_status(value) {
                m.add_status(network, status, written);
            } else if let Ok(ret) = connector.decode_return(value) {
                m.add_return(network, ret);
            }
            // Anything else is the network's own payment (or unreadable): not an answer.
        }
    }
    m
}

/// The cycle reconciled: its id and the time its records were cleared in.
struct CycleWindow {
    id: String,
    currency: String,
    /// The previous cut-off (none when the scheme has none within a year).
    opened_after: Option<i64>,
    cut_off: i64,
    /// Whether its SUMMARY is on the settlement topic.
    netted: bool,
}

/// The cycle's window, from its SUMMARY, else from the live scheme when the id names
/// one of its cut-offs.
fn cycle_window(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    events: &EventReader,
    cycle_id: &str,
) -> Result<CycleWindow, Failure> {
    let (currency, cut_off) = parse_cycle_id(cycle_id)?;
    let window = |opened_after, cut_off, netted| CycleWindow {
        id: cycle_id.to_string(),
        currency: currency.clone(),
        opened_after,
        cut_off,
        netted,
    };
    let netted = read_settlement(kafka, topics, events)?;
    if let Some(s) = netted.iter().find(|r| r.cycle_id == cycle_id && r.kind == SettlementRecordKind::Summary) {
        return Ok(window(Some(s.opened_after), s.cut_off, true));
    }
    // Not netted yet: the id names the cut-off it opened at; it closes at the next.
    let opened = cut_off;
    let live = read_live(kafka, topics)?;
    let table = live.table();
    let scheme =
        table.settlement_scheme(&currency).filter(|s| s.cycle_of(opened) == opened && s.cycle_id(opened) == cycle_id);
    match scheme {
        Some(s) => Ok(window(Some(opened), s.cycle_of(opened + 1), false)),
        None => Err(Failure::Rejected(format!(
            "{cycle_id}: no such cycle (not netted on {}, and not a cut-off of the live {currency} scheme)",
            topics.settlement
        ))),
    }
}

fn reconcile(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    events: &EventReader,
    cycle_id: &str,
    format: Format,
    connected: Option<Vec<String>>,
) -> Result<(), Failure> {
    let window = cycle_window(kafka, topics, events, cycle_id)?;

    let in_topics: Vec<String> =
        interlink_connectors::connectors().map(|c| topics.network_in(c.profile().id)).collect();
    let mut wanted: Vec<&str> = vec![&topics.clearing, &topics.returns];
    wanted.extend(in_topics.iter().map(String::as_str));
    let read = read_topics(kafka, &wanted, TIMEOUT).context("reading the clearing, returns and network topics")?;
    let Some(clearing_records) = read.get(&topics.clearing) else {
        return Err(Failure::Usage(anyhow::anyhow!(
            "topic {} does not exist; create it with `interlinkctl topics create`",
            topics.clearing
        )));
    };
    let codec = events.codec::<ClearingRecord>()?;
    let clearing: Vec<ClearingRecord> = clearing_records
        .iter()
        .filter_map(|r| r.value.as_deref())
        .map(|v| {
            events.decode(&codec, v).with_context(|| format!("a record of {} is not a ClearingRecord", topics.clearing))
        })
        .collect::<Result<_, _>>()?;
    let return_codec = events.codec::<PaymentReturn>()?;
    let sent_returns: Vec<PaymentReturn> = read
        .get(&topics.returns)
        .into_iter()
        .flatten()
        .filter_map(|r| r.value.as_deref())
        .map(|v| {
            events
                .decode(&return_codec, v)
                .with_context(|| format!("a record of {} is not a PaymentReturn", topics.returns))
        })
        .collect::<Result<_, _>>()?;
    let messages = network_messages(&read, topics);
    let connected: BTreeSet<String> = match connected {
        Some(list) => list.into_iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
        None => messages.answering.clone(),
    };
    let result = match_cycle(&window, &clearing, &sent_returns, &messages, connected);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&result)?),
        Format::Table => print_reconciliation(&result),
    }
    if result.clean {
        Ok(())
    } else {
        Err(Failure::Rejected(format!("{} mismatch(es) in {cycle_id}", result.mismatches.len())))
    }
}

/// Matches the cycle's clearing records with what the networks wrote: see
/// [`SettlementCommand::Reconcile`].
fn match_cycle(
    window: &CycleWindow,
    clearing: &[ClearingRecord],
    sent_returns: &[PaymentReturn],
    messages: &NetworkMessages,
    connected: BTreeSet<String>,
) -> Reconciliation {
    let CycleWindow { id: cycle_id, currency, opened_after, cut_off, netted } = window;
    let (cycle_id, currency, opened_after, cut_off, netted) =
        (cycle_id.as_str(), currency.as_str(), *opened_after, *cut_off, *netted);
    let in_cycle = |c: &&ClearingRecord| {
        c.debit_settlement_cycle.as_deref() == Some(cycle_id) || c.credit_settlement_cycle.as_deref() == Some(cycle_id)
    };
    let mut cycle: Vec<&ClearingRecord> = clearing.iter().filter(in_cycle).collect();
    cycle.sort_by(|a, b| a.transaction_id.cmp(&b.transaction_id));

    let mut totals: BTreeMap<String, NetworkTotals> = BTreeMap::new();
    fn totals_of<'t>(
        totals: &'t mut BTreeMap<String, NetworkTotals>,
        connected: &BTreeSet<String>,
        network: &str,
    ) -> &'t mut NetworkTotals {
        totals.entry(network.to_string()).or_insert_with(|| NetworkTotals {
            network: network.to_string(),
            mode: if connected.contains(network) { "two_leg" } else { "direct" },
            ..NetworkTotals::default()
        })
    }
    macro_rules! entry {
        ($network:expr) => {
            totals_of(&mut totals, &connected, $network)
        };
    }
    let mut mismatches = Vec::new();
    let (mut two_leg, mut confirmed, mut direct, mut reversals, mut returns_matched) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for c in &cycle {
        let creditor = c.creditor_agent.network.as_str();
        let credit = &c.credit_amount;
        {
            let t = entry!(creditor);
            t.records += 1;
            *t.credits_minor.entry(credit.currency.clone()).or_default() += credit.minor_units;
        }
        let cleared = |a: &interlink_schemas::Amount| Some(Money::new(a.minor_units, &a.currency));
        if let Some(original) = &c.reverses {
            // The network that returns the payment is the reversal's debtor.
            reversals += 1;
            let network = c.debtor_agent.network.as_str();
            let wire = wire_id(original).as_str().to_string();
            let return_id = c.transaction_id.rsplit_once(":RETURN:").map(|(_, id)| id).unwrap_or_default();
            entry!(network).reversals += 1;
            match messages.returns.get(&(network.to_string(), wire.clone(), return_id.to_string())) {
                None => {
                    mismatches.push(Mismatch {
                        kind: MismatchKind::NoReturn,
                        network: network.to_string(),
                        transaction_id: Some(c.transaction_id.clone()),
                        wire_id: wire,
                        clearing_amount: cleared(&c.debit_amount),
                        network_amount: None,
                        detail: format!("reversal of {original} without {network}'s return {return_id:?} (pacs.004)"),
                    });
                }
                Some(r) => {
                    let returned = &r.returned_amount;
                    if (returned.minor_units, returned.currency.as_str())
                        != (c.debit_amount.minor_units, c.debit_amount.currency.as_str())
                    {
                        mismatches.push(Mismatch {
                            kind: MismatchKind::AmountDiffers,
                            network: network.to_string(),
                            transaction_id: Some(c.transaction_id.clone()),
                            wire_id: wire,
                            clearing_amount: cleared(&c.debit_amount),
                            network_amount: Some(Money::new(returned.minor_units, &returned.currency)),
                            detail: format!("{network} returned another amount than the reversal debits"),
                        });
                    } else {
                        returns_matched += 1;
                        entry!(network).returns_matched += 1;
                    }
                }
            }
        } else if connected.contains(creditor) {
            two_leg += 1;
            let wire = wire_id(&c.transaction_id).as_str().to_string();
            match messages.settled.get(&(creditor.to_string(), wire.clone())) {
                None => {
                    mismatches.push(Mismatch {
                        kind: MismatchKind::NoConfirmation,
                        network: creditor.to_string(),
                        transaction_id: Some(c.transaction_id.clone()),
                        wire_id: wire,
                        clearing_amount: cleared(credit),
                        network_amount: None,
                        detail: format!("cleared without a settled status report from {creditor}"),
                    });
                }
                Some(reports) => {
                    // A report that repeats the amount must repeat the credit exactly.
                    let differing = reports.iter().find_map(|r| {
                        r.status.original_amount.as_ref().filter(|a| {
                            (a.minor_units, a.currency.as_str()) != (credit.minor_units, credit.currency.as_str())
                        })
                    });
                    match differing {
                        Some(a) => {
                            mismatches.push(Mismatch {
                                kind: MismatchKind::AmountDiffers,
                                network: creditor.to_string(),
                                transaction_id: Some(c.transaction_id.clone()),
                                wire_id: wire,
                                clearing_amount: cleared(credit),
                                network_amount: Some(Money::new(a.minor_units, &a.currency)),
                                detail: format!("{creditor} confirmed another amount than the record credits"),
                            });
                        }
                        None => {
                            confirmed += 1;
                            entry!(creditor).confirmed += 1;
                        }
                    }
                }
            }
        } else {
            direct += 1;
        }
    }

    // Settled reports of the cycle's currency written during the cycle that no clearing
    // record anywhere on the topic answers.
    let cleared_wires: HashSet<String> =
        clearing.iter().map(|c| wire_id(&c.transaction_id).as_str().to_string()).collect();
    let returned: HashMap<(&str, &str), &PaymentReturn> =
        sent_returns.iter().map(|r| ((r.network.as_str(), r.wire_transaction_id.as_str()), r)).collect();
    let mut late_returned = Vec::new();
    for ((network, wire), reports) in &messages.settled {
        if !connected.contains(network) || cleared_wires.contains(wire) {
            continue;
        }
        let network_currency = interlink_connectors::connector(network).map(|c| c.profile().currency).unwrap_or("");
        let in_window: Vec<&Reported> = reports
            .iter()
            .filter(|r| {
                let ccy = r.status.original_amount.as_ref().map_or(network_currency, |a| a.currency.as_str());
                ccy == currency && r.written.is_some_and(|w| opened_after.is_none_or(|o| w > o) && w <= cut_off)
            })
            .collect();
        let Some(Reported { status: first, written }) = in_window.first().copied() else { continue };
        if let Some(r) = returned.get(&(network.as_str(), wire.as_str())) {
            late_returned.push(LateReturned {
                network: network.clone(),
                wire_id: wire.clone(),
                transaction_id: r.transaction_id.clone(),
                return_id: r.return_id.clone(),
            });
            continue;
        }
        let copies = if in_window.len() > 1 { format!(" ({} copies)", in_window.len()) } else { String::new() };
        mismatches.push(Mismatch {
            kind: MismatchKind::ConfirmationWithoutClearing,
            network: network.clone(),
            transaction_id: None,
            wire_id: wire.clone(),
            clearing_amount: None,
            network_amount: first.original_amount.as_ref().map(|a| Money::new(a.minor_units, &a.currency)),
            detail: format!(
                "{network} reported {} ({}) written {}{copies}; no clearing record has this wire id",
                first.status,
                first.message_id,
                written.map_or_else(|| "at an unknown time".to_string(), rfc3339)
            ),
        });
    }
    for m in &mismatches {
        entry!(&m.network).mismatches += 1;
    }
    mismatches.sort_by(|a, b| (a.kind, &a.network, &a.wire_id).cmp(&(b.kind, &b.network, &b.wire_id)));
    let networks: Vec<NetworkTotals> = totals
        .into_values()
        .map(|mut t| {
            t.credits = t.credits_minor.iter().map(|(ccy, minor)| (ccy.clone(), money(*minor, ccy))).collect();
            t
        })
        .collect();
    Reconciliation {
        cycle_id: cycle_id.to_string(),
        currency: currency.to_string(),
        opened_after: opened_after.map(rfc3339),
        cut_off: rfc3339(cut_off),
        netted,
        connected: connected.into_iter().collect(),
        clearing_records: cycle.len() as u64,
        two_leg,
        confirmed,
        direct,
        reversals,
        returns_matched,
        late_returned,
        networks,
        clean: mismatches.is_empty(),
        mismatches,
    }
}

fn print_reconciliation(r: &Reconciliation) {
    let opened = r.opened_after.as_deref().map_or_else(|| "since the scheme began".into(), |o| format!("after {o}"));
    println!(
        "reconciliation of {} ({}, {}): records cleared {opened} up to {}",
        r.cycle_id,
        r.currency,
        if r.netted { "netted" } else { "not netted yet" },
        r.cut_off
    );
    let connected = if r.connected.is_empty() { "none".to_string() } else { r.connected.join(", ") };
    println!("connected networks: {connected}");
    println!(
        "{:<12} {:<8} {:>8} {:>26} {:>10} {:>9} {:>8} {:>11}",
        "NETWORK", "MODE", "RECORDS", "CREDITS", "CONFIRMED", "REVERSALS", "RETURNS", "MISMATCHES"
    );
    for t in &r.networks {
        let credits: Vec<String> = t.credits.iter().map(|(ccy, amount)| format!("{ccy} {amount}")).collect();
        let credits = if credits.is_empty() { "-".to_string() } else { credits.join("; ") };
        println!(
            "{:<12} {:<8} {:>8} {:>26} {:>10} {:>9} {:>8} {:>11}",
            t.network, t.mode, t.records, credits, t.confirmed, t.reversals, t.returns_matched, t.mismatches
        );
    }
    println!(
        "{} clearing record(s): {} to connected networks ({} confirmed), {} direct, {} reversal(s) ({} matched with a return)",
        r.clearing_records, r.two_leg, r.confirmed, r.direct, r.reversals, r.returns_matched
    );
    for l in &r.late_returned {
        println!(
            "late: {} settled {} after its deadline; the switch returned it ({} for {})",
            l.network, l.wire_id, l.return_id, l.transaction_id
        );
    }
    if r.mismatches.is_empty() {
        println!("clean: every record matches its network");
        return;
    }
    println!("{} mismatch(es):", r.mismatches.len());
    for m in &r.mismatches {
        let amounts = match (&m.clearing_amount, &m.network_amount) {
            (Some(c), Some(n)) => format!(" [cleared {c}, network {n}]"),
            (Some(c), None) => format!(" [cleared {c}]"),
            (None, Some(n)) => format!(" [network {n}]"),
            (None, None) => String::new(),
        };
        println!(
            "{:<30} {:<12} {} (wire {}): {}{amounts}",
            m.kind.name(),
            m.network,
            m.transaction_id.as_deref().unwrap_or("-"),
            m.wire_id,
            m.detail
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_connectors::canonical::Money as NetMoney;
    use interlink_connectors::{IsoReason, PaymentStatus};
    use interlink_schemas::Amount;

    const HOUR: i64 = 3_600_000_000;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn cycle_ids_name_the_cut_off_they_opened_at_and_others_are_refused() {
        let (currency, cut_off) = parse_cycle_id("HKD-20261201T160000+0800").ok().unwrap();
        assert_eq!((currency.as_str(), cut_off), ("HKD", at("2026-12-01T08:00:00Z")));
        for bad in ["HKD", "hkd-20261201T160000+0800", "HKD-20261201T1600+0800", "HKD-20261301T160000+0800"] {
            assert!(parse_cycle_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_operator_cut_off_joins_the_recent_ones_in_order_and_old_ones_go() {
        let mut scheme = SettlementScheme {
            currency: "HKD".into(),
            time_zone: "Asia/Hong_Kong".into(),
            cut_offs: vec!["16:00".into()],
            every_minutes: None,
            business_days: serde_json::from_str(r#"["mon","tue","wed","thu","fri"]"#).unwrap(),
            holidays: vec![],
            fx_participant: None,
            manual_cut_offs: vec!["2026-12-01T09:00:00Z".into(), "2026-10-01T09:00:00Z".into()],
        };
        let keep_after: Timestamp = "2026-10-27T00:00:00Z".parse().unwrap();
        let added = with_cut_off(&scheme, "2026-11-30T10:00:05Z".parse().unwrap(), keep_after);
        assert_eq!(added.manual_cut_offs, ["2026-11-30T10:00:05Z", "2026-12-01T09:00:00Z"]);
        // The same moment twice is one cut-off.
        scheme.manual_cut_offs = added.manual_cut_offs.clone();
        let again = with_cut_off(&scheme, "2026-11-30T10:00:05Z".parse().unwrap(), keep_after);
        assert_eq!(again.manual_cut_offs, added.manual_cut_offs);
        assert_eq!(
            schedule(&scheme, at("2026-11-30T12:00:00Z")),
            "16:00 mon-fri (Asia/Hong_Kong), operator cut-off(s) pending: 2026-12-01T09:00:00Z"
        );
    }

    fn position(who: Option<(&str, &str)>, debit: i64, credit: i64) -> SettlementRecord {
        SettlementRecord {
            cycle_id: "HKD-20261201T160000+0800".into(),
            kind: if who.is_some() { SettlementRecordKind::Position } else { SettlementRecordKind::Summary },
            currency: "HKD".into(),
            opened_after: at("2026-12-01T02:00:00Z"),
            cut_off: at("2026-12-01T08:00:00Z"),
            closed_at: at("2026-12-01T08:00:01Z"),
            routing_version: 4,
            participant: who.map(|(n, i)| Agent::new(n, i)),
            participant_name: who.map(|_| "Bank, \"the\"".to_string()),
            gross_debit_minor: debit,
            gross_credit_minor: credit,
            net_minor: credit - debit,
            debits: 1,
            credits: 1,
            participants: if who.is_some() { 1 } else { 2 },
            clearing_records: 1,
            late_records: 0,
            partitions: 3,
        }
    }

    #[test]
    fn a_report_checks_the_positions_against_zero_and_the_summary() {
        let (a, b) = (position(Some(("HK_FPS", "004")), 10_050, 0), position(Some(("HK_FPS", "012")), 0, 10_050));
        let summary = position(None, 10_050, 10_050);
        let report = cycle_report("HKD-20261201T160000+0800", &[&a, &b, &summary]).ok().unwrap();
        assert!(report.check.balanced, "{:?}", report.check.problems);
        let s = &report.positions[0];
        assert_eq!((s.net.as_str(), s.direction, s.settlement_amount.as_str()), ("-100.50", "PAY", "100.50"));
        assert_eq!((s.opened_after.as_str(), s.cut_off.as_str()), ("2026-12-01T02:00:00Z", "2026-12-01T08:00:00Z"));
        assert_eq!(report.positions[1].direction, "RECEIVE");
        // Names with commas and quotes stay one CSV field.
        assert_eq!(
            csv_row(s),
            "HKD-20261201T160000+0800,HKD,2026-12-01T02:00:00Z,2026-12-01T08:00:00Z,2026-12-01T08:00:01Z,4,HK_FPS,004,\"Bank, \"\"the\"\"\",100.50,0.00,-100.50,PAY,100.50,1,1"
        );

        let lopsided = position(Some(("HK_FPS", "012")), 0, 9_000);
        let report = cycle_report("HKD-20261201T160000+0800", &[&a, &lopsided, &summary]).ok().unwrap();
        assert!(!report.check.balanced);
        assert_eq!(report.check.net_sum_minor, -1_050);
        assert_eq!(report.check.problems[0], "positions sum to -10.50 HKD, not zero");
    }

    fn clearing(tx: &str, creditor: (&str, &str), credit: (i64, &str), cycle: &str) -> ClearingRecord {
        ClearingRecord {
            transaction_id: tx.into(),
            end_to_end_id: format!("E2E-{tx}"),
            debtor_agent: Agent::new("CN_IBPS", "102100099996"),
            debtor_account: "6222020200112233445".into(),
            creditor_agent: Agent::new(creditor.0, creditor.1),
            creditor_account: Some("004-123456-001".into()),
            debit_amount: Amount::new(credit.0, credit.1),
            credit_amount: Amount::new(credit.0, credit.1),
            fx_rate: "1".into(),
            quote_id: "q".into(),
            corridor: "c".into(),
            routing_version: 4,
            request_created_at: at("2026-12-01T03:00:00Z"),
            cleared_at: at("2026-12-01T03:00:01Z"),
            reverses: None,
            debit_settlement_cycle: None,
            credit_settlement_cycle: Some(cycle.into()),
        }
    }

    fn settled(wire: &str, amount: Option<(i64, &str)>) -> CanonicalStatus {
        CanonicalStatus {
            message_id: format!("STS-{wire}"),
            created_at: 0,
            original_message_id: wire.into(),
            original_end_to_end_id: format!("E2E-{wire}"),
            original_transaction_id: wire.into(),
            original_uetr: None,
            status: PaymentStatus::ACSC,
            reason: None,
            additional_info: None,
            instructing_agent: None,
            instructed_agent: None,
            original_amount: amount.map(|(m, c)| NetMoney::new(m, c)),
        }
    }

    fn network_return(wire: &str, return_id: &str, minor: i64) -> CanonicalReturn {
        CanonicalReturn {
            message_id: format!("RTR-{return_id}"),
            created_at: 0,
            return_id: return_id.into(),
            original_message_id: wire.into(),
            original_end_to_end_id: format!("E2E-{wire}"),
            original_transaction_id: wire.into(),
            original_uetr: None,
            returned_amount: NetMoney::new(minor, "HKD"),
            reason: IsoReason::parse("FOCR").unwrap(),
            additional_info: None,
            instructing_agent: None,
            instructed_agent: None,
        }
    }

    /// The reversal of `original` (to HK FPS) when HK FPS returns `minor` of it.
    fn reversal(original: &ClearingRecord, return_id: &str, minor: i64, cycle: &str) -> ClearingRecord {
        ClearingRecord {
            transaction_id: format!("{}:RETURN:{return_id}", original.transaction_id),
            debtor_agent: original.creditor_agent.clone(),
            creditor_agent: original.debtor_agent.clone(),
            debit_amount: Amount::new(minor, "HKD"),
            credit_amount: Amount::new(minor, "HKD"),
            reverses: Some(original.transaction_id.clone()),
            debit_settlement_cycle: Some(cycle.into()),
            credit_settlement_cycle: Some(cycle.into()),
            ..original.clone()
        }
    }

    #[test]
    fn reversals_meet_the_networks_returns_and_late_acceptances_the_switchs_returns() {
        let cycle = "HKD-20261201T160000+0800";
        let window = CycleWindow {
            id: cycle.into(),
            currency: "HKD".into(),
            opened_after: Some(at("2026-12-01T02:00:00Z")),
            cut_off: at("2026-12-01T08:00:00Z"),
            netted: true,
        };
        // Settled and returned in full; settled and returned, no pacs.004 seen; returned
        // for another amount than the network's pacs.004 says; a direct payment.
        let paid = clearing("tx-1", ("HK_FPS", "004"), (10_000, "HKD"), "HKD-20261130T160000+0800");
        let unseen = clearing("tx-2", ("HK_FPS", "004"), (20_000, "HKD"), "HKD-20261130T160000+0800");
        let partly = clearing("tx-3", ("HK_FPS", "012"), (30_000, "HKD"), "HKD-20261130T160000+0800");
        let direct = clearing("tx-4", ("ID_BIFAST", "CENAIDJA"), (5_000, "HKD"), cycle);
        let records = vec![
            paid.clone(),
            unseen.clone(),
            partly.clone(),
            direct,
            reversal(&paid, "R1", 10_000, cycle),
            reversal(&unseen, "R2", 20_000, cycle),
            reversal(&partly, "R3", 1_000, cycle),
        ];
        let mut m = NetworkMessages::default();
        for c in [&paid, &unseen, &partly] {
            m.add_status(
                "HK_FPS",
                settled(c.transaction_id.as_str(), Some((c.credit_amount.minor_units, "HKD"))),
                None,
            );
        }
        m.add_return("HK_FPS", network_return("tx-1", "R1", 10_000));
        m.add_return("HK_FPS", network_return("tx-3", "R3", 2_000));
        // Late: accepted after its deadline during the cycle, returned by the switch.
        m.add_status("HK_FPS", settled("late-1", Some((7_000, "HKD"))), Some(at("2026-12-01T05:00:00Z")));
        // Outside the cycle, or in another currency: not this cycle's.
        m.add_status("HK_FPS", settled("early-1", None), Some(at("2026-12-01T02:00:00Z")));
        m.add_status("HK_FPS", settled("later-1", None), Some(at("2026-12-01T08:00:00Z") + HOUR));
        m.add_status("CN_IBPS", settled("cny-1", Some((100, "CNY"))), Some(at("2026-12-01T05:00:00Z")));
        let sent = [PaymentReturn {
            return_id: "TM01-late-1".into(),
            transaction_id: "late-1".into(),
            end_to_end_id: "E2E-late-1".into(),
            network: "HK_FPS".into(),
            wire_transaction_id: "late-1".into(),
            creditor_agent: Agent::new("HK_FPS", "004"),
            returned_amount: Amount::new(7_000, "HKD"),
            reason_code: "TM01".into(),
            timed_out_at: at("2026-12-01T04:59:00Z"),
            returned_at: at("2026-12-01T05:00:01Z"),
        }];
        let connected: BTreeSet<String> = ["CN_IBPS", "HK_FPS"].map(String::from).into();
        let r = match_cycle(&window, &records, &sent, &m, connected);
        assert_eq!((r.clearing_records, r.reversals, r.returns_matched, r.direct, r.two_leg), (4, 3, 1, 1, 0));
        let found: Vec<(&str, &str, Option<&str>)> =
            r.mismatches.iter().map(|m| (m.kind.name(), m.wire_id.as_str(), m.transaction_id.as_deref())).collect();
        assert_eq!(
            found,
            [("no_return", "tx-2", Some("tx-2:RETURN:R2")), ("amount_differs", "tx-3", Some("tx-3:RETURN:R3"))]
        );
        assert_eq!(r.mismatches[1].network_amount.as_ref().unwrap().amount, "20.00");
        assert_eq!(r.late_returned.len(), 1);
        assert_eq!(
            (r.late_returned[0].wire_id.as_str(), r.late_returned[0].return_id.as_str()),
            ("late-1", "TM01-late-1")
        );
        let hk = r.networks.iter().find(|t| t.network == "HK_FPS").unwrap();
        assert_eq!((hk.reversals, hk.returns_matched, hk.mismatches, hk.records), (3, 1, 2, 0));
        let cn = r.networks.iter().find(|t| t.network == "CN_IBPS").unwrap();
        // The reversals credit the payments' debtor, CN IBPS.
        assert_eq!((cn.records, cn.mode, cn.credits_minor["HKD"]), (3, "two_leg", 31_000));

        // Without the switch's return, the late acceptance is a confirmation no record answers.
        let r = match_cycle(&window, &records, &[], &m, ["HK_FPS".to_string()].into());
        let kinds: Vec<&str> = r.mismatches.iter().map(|m| m.kind.name()).collect();
        assert_eq!(kinds, ["no_return", "amount_differs", "confirmation_without_clearing"]);
        assert_eq!(r.mismatches[2].wire_id, "late-1");
    }
}
