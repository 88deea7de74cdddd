//! `interlinkctl risk export`: one calendar day's risk alerts, one file per corridor,
//! for a regulator's feed or a case-management tool. docs/risk.md, "Alerts", describes
//! the files and their columns.
//!
//! Reading the topic is [`run`]; choosing, ordering and formatting the alerts are the
//! pure functions below it, tested beside them.

use super::events::EventReader;
use super::Failure;
use anyhow::Context;
use clap::ValueEnum;
use interlink_routing::format_minor;
use interlink_schemas::RiskAlert;
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::read_topics;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole topic is read: a busy one needs longer than other commands' minute.
const READ_TIMEOUT: Duration = Duration::from_secs(600);

/// What `--corridor` and the file names call the alerts refused before routing.
const UNROUTED: &str = "unrouted";

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The calendar day (YYYY-MM-DD) in --time-zone: alerts decided from its midnight
    /// to the next.
    #[arg(long)]
    day: Date,
    /// The IANA time zone of the day and of the times written (Asia/Hong_Kong).
    #[arg(long, default_value = "UTC")]
    time_zone: String,
    /// Only this corridor, as alerts name it (CN_IBPS>HK_FPS:CNY-HKD), or `unrouted`
    /// for the alerts refused before routing; repeatable. Default: all of them.
    #[arg(long = "corridor", value_name = "ID")]
    corridors: Vec<String>,
    /// The directory the files are written to (created if missing; files of the same
    /// names are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    format: FileFormat,
    /// Exit 1 when a record of the topic cannot be read (otherwise only reported on
    /// standard error); the files are written either way.
    #[arg(long)]
    strict: bool,
    /// The Schema Registry (Confluent-compatible API) whose ids the switch frames its
    /// records with, if it runs with one; without it, the ids built into this build.
    #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY")]
    schema_registry: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// RFC 4180 CSV (CRLF line ends, a header line).
    Csv,
    /// One JSON object per line, with the CSV's columns as fields.
    Jsonl,
}

impl FileFormat {
    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

pub fn run(kafka: &KafkaConfig, topics: &TopicsConfig, args: ExportArgs) -> Result<(), Failure> {
    let zone = TimeZone::get(&args.time_zone)
        .map_err(|e| Failure::Rejected(format!("--time-zone {:?}: {e}", args.time_zone)))?;
    let day = ExportDay::new(args.day, zone).map_err(|e| Failure::Rejected(format!("--day {}: {e}", args.day)))?;
    let events =
        EventReader::connect(args.schema_registry.as_deref(), topics, &[&interlink_schemas::registry::RISK_ALERT_V2])?;
    let codec = events.codec::<RiskAlert>()?;

    let topic = topics.risk_alerts.as_str();
    let records = read_topics(kafka, &[topic], READ_TIMEOUT)
        .with_context(|| format!("reading {topic}"))?
        .remove(topic)
        .ok_or_else(|| Failure::Rejected(format!("topic {topic} does not exist")))?;
    let mut alerts = Vec::with_capacity(records.len());
    let mut unreadable = 0usize;
    for record in &records {
        let decoded = match record.value.as_deref() {
            Some(bytes) => events.decode(&codec, bytes),
            None => Err(anyhow::anyhow!("an empty record (tombstone)")),
        };
        match decoded {
            Ok(alert) => alerts.push(alert),
            Err(e) => {
                unreadable += 1;
                eprintln!("{topic} partition {} offset {}: not a RiskAlert: {e:#}", record.partition, record.offset);
            }
        }
    }

    let selection = select(alerts, &day, &args.corridors);
    let files = plan_files(&selection, day.day, args.format).map_err(|e| Failure::Rejected(format!("{e:#}")))?;
    if !files.is_empty() {
        std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    }
    for file in &files {
        let bytes = match args.format {
            FileFormat::Csv => to_csv(file.rows)?,
            FileFormat::Jsonl => to_jsonl(file.rows)?,
        };
        write_replacing(&args.out, &file.name, &bytes)?;
    }
    print!("{}", summary(&day, &args.corridors, &files, &args.out));

    if selection.repeated > 0 {
        eprintln!("{} record(s) repeating an alert id already read: exported once", selection.repeated);
    }
    if unreadable > 0 {
        eprintln!("{unreadable} unreadable record(s) of {} in {topic} skipped", records.len());
        if args.strict {
            return Err(Failure::Rejected(format!("{unreadable} unreadable record(s) in {topic} (--strict)")));
        }
    }
    Ok(())
}

/// Writes `name` in `dir` through a temporary file renamed into place, so that a feed
/// picking files up never reads half of one.
fn write_replacing(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("renaming {} to {}", partial.display(), path.display()))
}

// ---------------------------------------------------------------------------------------
// Choosing, ordering and formatting (pure)
// ---------------------------------------------------------------------------------------

/// A calendar day in a time zone, as the instants it spans: 23 or 25 hours on the days
/// clocks change.
#[derive(Debug, Clone)]
pub struct ExportDay {
    pub day: Date,
    pub zone: TimeZone,
    /// The day's first microsecond since the epoch.
    pub start: i64,
    /// The next day's first microsecond (not in the day).
    pub end: i64,
}

impl ExportDay {
    pub fn new(day: Date, zone: TimeZone) -> Result<Self, jiff::Error> {
        // `start_of_day`: midnight, or the first instant after it where a clock change
        // skips midnight.
        let start = day.to_zoned(zone.clone())?.start_of_day()?.timestamp().as_microsecond();
        let end = day.tomorrow()?.to_zoned(zone.clone())?.start_of_day()?.timestamp().as_microsecond();
        Ok(Self { day, zone, start, end })
    }

    pub fn contains(&self, decided_at: i64) -> bool {
        (self.start..self.end).contains(&decided_at)
    }

    /// RFC 3339 in the day's zone, to the microsecond ("2026-12-01T08:00:00.000000+08:00").
    pub fn local_time(&self, micros: i64) -> String {
        match Timestamp::from_microsecond(micros) {
            Ok(t) => t.to_zoned(self.zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string(),
            // Out of jiff's range (years beyond ±9999), so never in a day it can name.
            Err(_) => format!("{micros} µs since the epoch"),
        }
    }
}

/// Which file an alert goes to. Corridors sort before the unrouted alerts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Corridor(String),
    /// Refused before routing: no corridor.
    Unrouted,
}

impl Group {
    fn of(alert: &RiskAlert) -> Self {
        alert.corridor.clone().map_or(Group::Unrouted, Group::Corridor)
    }

    /// As `--corridor` names it.
    pub fn id(&self) -> &str {
        match self {
            Group::Corridor(id) => id,
            Group::Unrouted => UNROUTED,
        }
    }
}

/// One alert as a row of the export: the alert's own fields as text, nothing added
/// (alerts carry no names or account numbers; the export must not either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    pub alert_id: String,
    pub decided_at: String,
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub control: String,
    pub rule: String,
    pub action: String,
    pub reason_code: String,
    pub explanation: String,
    pub routing_version: i64,
    pub corridor: Option<String>,
    pub debtor_network: String,
    pub debtor_institution: String,
    pub creditor_network: Option<String>,
    pub creditor_institution: Option<String>,
    /// Decimal, in major units ("1234.50").
    pub amount: String,
    pub currency: String,
}

impl AlertRow {
    pub fn new(alert: &RiskAlert, day: &ExportDay) -> Self {
        Self {
            alert_id: alert.alert_id.clone(),
            decided_at: day.local_time(alert.decided_at),
            transaction_id: alert.transaction_id.clone(),
            end_to_end_id: alert.end_to_end_id.clone(),
            control: alert.control.as_str().to_string(),
            rule: alert.rule.clone(),
            action: symbol(&alert.action),
            reason_code: alert.reason_code.clone(),
            explanation: alert.explanation.clone(),
            routing_version: alert.routing_version,
            corridor: alert.corridor.clone(),
            debtor_network: alert.debtor_agent.network.clone(),
            debtor_institution: alert.debtor_agent.institution_id.clone(),
            creditor_network: alert.creditor_agent.as_ref().map(|a| a.network.clone()),
            creditor_institution: alert.creditor_agent.as_ref().map(|a| a.institution_id.clone()),
            // The switch refuses currencies it has no exponent for before any risk
            // control runs; the minor units are the only honest text if one gets here.
            amount: format_minor(alert.amount.minor_units, &alert.amount.currency)
                .unwrap_or_else(|_| alert.amount.minor_units.to_string()),
            currency: alert.amount.currency.clone(),
        }
    }
}

/// An enum's Avro symbol, by its serde name: a symbol added to the schema needs no
/// change here.
fn symbol(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// The alerts of a day, by file, in order.
#[derive(Debug, Default)]
pub struct Selection {
    pub groups: BTreeMap<Group, Vec<AlertRow>>,
    /// Alerts whose id an earlier record of the topic already had (not exported again).
    pub repeated: usize,
}

/// The alerts decided on `day` of the wanted corridors (all when `corridors` is
/// empty; `unrouted` names the alerts without one), by file, each file's rows ordered
/// by decision time then alert id. `alerts` come in the topic's order: of two with the
/// same id, the first is kept.
pub fn select(alerts: Vec<RiskAlert>, day: &ExportDay, corridors: &[String]) -> Selection {
    let wanted = |group: &Group| corridors.is_empty() || corridors.iter().any(|c| c == group.id());
    let mut seen = HashSet::new();
    let mut selection = Selection::default();
    let mut chosen: Vec<RiskAlert> = Vec::new();
    for alert in alerts {
        if !day.contains(alert.decided_at) || !wanted(&Group::of(&alert)) {
            continue;
        }
        if !seen.insert(alert.alert_id.clone()) {
            selection.repeated += 1;
            continue;
        }
        chosen.push(alert);
    }
    chosen.sort_by(|a, b| (a.decided_at, &a.alert_id).cmp(&(b.decided_at, &b.alert_id)));
    for alert in &chosen {
        selection.groups.entry(Group::of(alert)).or_default().push(AlertRow::new(alert, day));
    }
    selection
}

/// A corridor id as part of a file name: letters, digits, `_` and `-` stay, the
/// separators `>` and `:` become `.`, anything else `%XX` per UTF-8 byte (no `/`, no
/// spaces, no surprises for a shell or a file share).
pub fn file_safe(corridor: &str) -> String {
    let mut safe = String::with_capacity(corridor.len());
    for c in corridor.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' => safe.push(c),
            '>' | ':' => safe.push('.'),
            other => {
                let mut utf8 = [0u8; 4];
                for byte in other.encode_utf8(&mut utf8).bytes() {
                    safe.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    safe
}

/// `risk-alerts-<DAY>-<corridor, file-safe>.<ext>`, or `...-unrouted.<ext>`.
pub fn file_name(day: Date, group: &Group, format: FileFormat) -> String {
    let part = match group {
        Group::Corridor(id) => file_safe(id),
        Group::Unrouted => UNROUTED.to_string(),
    };
    format!("risk-alerts-{day}-{part}.{}", format.extension())
}

/// One file to write.
#[derive(Debug)]
pub struct PlannedFile<'a> {
    pub name: String,
    pub group: &'a Group,
    pub rows: &'a [AlertRow],
}

/// The files of a selection, refusing two groups that would share a file name
/// (corridor ids differing only in `>` against `:`, or a corridor named `unrouted`)
/// rather than letting one overwrite the other.
pub fn plan_files(selection: &Selection, day: Date, format: FileFormat) -> anyhow::Result<Vec<PlannedFile<'_>>> {
    let mut by_name: BTreeMap<String, &Group> = BTreeMap::new();
    let mut files = Vec::with_capacity(selection.groups.len());
    for (group, rows) in &selection.groups {
        let name = file_name(day, group, format);
        if let Some(other) = by_name.insert(name.clone(), group) {
            anyhow::bail!("corridors {:?} and {:?} would both be written to {name}", other.id(), group.id());
        }
        files.push(PlannedFile { name, group, rows });
    }
    Ok(files)
}

/// RFC 4180 CSV with a header line.
pub fn to_csv(rows: &[AlertRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// One JSON object per line.
pub fn to_jsonl(rows: &[AlertRow]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut out, row)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// What was written: the day's span, then per file its corridor, count and file, and
/// the count per control and action; wanted corridors without alerts are named too.
pub fn summary(day: &ExportDay, corridors: &[String], files: &[PlannedFile<'_>], out: &Path) -> String {
    let span = format!(
        "{} in {} ({} to {})",
        day.day,
        day.zone.iana_name().unwrap_or("the given zone"),
        day.local_time(day.start),
        day.local_time(day.end)
    );
    let total: usize = files.iter().map(|f| f.rows.len()).sum();
    let mut text = if files.is_empty() {
        format!("no risk alerts on {span}: no files written\n")
    } else {
        format!("risk alerts on {span}: {total} in {} file(s) in {}\n", files.len(), out.display())
    };
    for file in files {
        text.push_str(&format!("{}: {} alert(s) in {}\n", file.group.id(), file.rows.len(), file.name));
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for row in file.rows {
            *counts.entry((row.control.as_str(), row.action.as_str())).or_default() += 1;
        }
        for ((control, action), n) in counts {
            text.push_str(&format!("  {control:<10} {action:<8} {n}\n"));
        }
    }
    for wanted in corridors {
        if !files.iter().any(|f| f.group.id() == wanted) {
            text.push_str(&format!("{wanted}: no alerts\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_schemas::{Agent, Amount, RiskAction, RiskControl};

    /// The one place tests build a `RiskAlert` (its schema grows: a merge touches only this).
    fn alert(id: &str, corridor: Option<&str>, decided_at: &str) -> RiskAlert {
        let decided_at: Timestamp = decided_at.parse().unwrap();
        RiskAlert {
            alert_id: format!("{id}:RISK:LIMIT"),
            transaction_id: id.into(),
            end_to_end_id: format!("E2E-{id}"),
            control: RiskControl::Limit,
            rule: "cn-hk-daily".into(),
            action: RiskAction::Refused,
            reason_code: "AM14".into(),
            explanation: "limit cn-hk-daily (v3): 60000.00 CNY today with this payment, above 50000.00".into(),
            routing_version: 3,
            corridor: corridor.map(String::from),
            debtor_agent: Agent::new("CN_IBPS", "102100099996"),
            creditor_agent: corridor.map(|_| Agent::new("HK_FPS", "004")),
            amount: Amount::new(1_234_550, "CNY"),
            decided_at: decided_at.as_microsecond(),
            review_key: None,
            review_deadline: None,
        }
    }

    fn day(date: &str, zone: &str) -> ExportDay {
        ExportDay::new(date.parse().unwrap(), TimeZone::get(zone).unwrap()).unwrap()
    }

    fn micros(at: &str) -> i64 {
        at.parse::<Timestamp>().unwrap().as_microsecond()
    }

    const CN_HK: &str = "CN_IBPS>HK_FPS:CNY-HKD";

    #[test]
    fn a_hong_kong_day_runs_from_16_00_utc_to_16_00_utc() {
        let d = day("2026-12-01", "Asia/Hong_Kong");
        assert_eq!(d.start, micros("2026-11-30T16:00:00Z"));
        assert_eq!(d.end, micros("2026-12-01T16:00:00Z"));
        assert!(!d.contains(micros("2026-11-30T15:59:59.999999Z")));
        assert!(d.contains(micros("2026-11-30T16:00:00Z")));
        assert!(d.contains(micros("2026-12-01T15:59:59.999999Z")));
        assert!(!d.contains(micros("2026-12-01T16:00:00Z")));
        assert_eq!(d.local_time(micros("2026-11-30T16:00:00.5Z")), "2026-12-01T00:00:00.500000+08:00");
    }

    #[test]
    fn berlin_s_spring_forward_day_has_23_hours() {
        let d = day("2026-03-29", "Europe/Berlin");
        assert_eq!(d.start, micros("2026-03-28T23:00:00Z")); // midnight CET (+01:00)
        assert_eq!(d.end, micros("2026-03-29T22:00:00Z")); // midnight CEST (+02:00)
        assert_eq!(d.end - d.start, 23 * 3_600_000_000);
        // 01:59:59 CET, then 03:00 CEST a microsecond later.
        assert_eq!(d.local_time(micros("2026-03-29T00:59:59Z")), "2026-03-29T01:59:59.000000+01:00");
        assert_eq!(d.local_time(micros("2026-03-29T01:00:00Z")), "2026-03-29T03:00:00.000000+02:00");
        assert!(d.contains(micros("2026-03-29T21:59:59.999999Z")));
        assert!(!d.contains(micros("2026-03-29T22:00:00Z")));
        // And autumn's day has 25.
        let d = day("2026-10-25", "Europe/Berlin");
        assert_eq!(d.end - d.start, 25 * 3_600_000_000);
    }

    #[test]
    fn the_default_zone_is_utc_midnight_to_midnight() {
        let d = day("2026-12-01", "UTC");
        assert_eq!((d.start, d.end), (micros("2026-12-01T00:00:00Z"), micros("2026-12-02T00:00:00Z")));
        assert_eq!(d.local_time(d.start), "2026-12-01T00:00:00.000000+00:00");
    }

    #[test]
    fn a_day_keeps_its_alerts_by_corridor_in_time_then_id_order() {
        let d = day("2026-12-01", "Asia/Hong_Kong");
        let alerts = vec![
            alert("tx-late", Some(CN_HK), "2026-12-01T10:00:00Z"),
            alert("tx-b", Some(CN_HK), "2026-12-01T01:00:00Z"),
            alert("tx-a", Some(CN_HK), "2026-12-01T01:00:00Z"),
            alert("tx-yesterday", Some(CN_HK), "2026-11-30T15:59:59Z"),
            alert("tx-tomorrow", Some(CN_HK), "2026-12-01T16:00:00Z"),
            alert("tx-alias", None, "2026-11-30T16:00:00Z"),
            alert("tx-sg", Some("SG_FAST>HK_FPS:SGD-HKD"), "2026-12-01T02:00:00Z"),
            alert("tx-a", Some(CN_HK), "2026-12-01T01:00:00Z"),
        ];
        let selection = select(alerts, &d, &[]);
        assert_eq!(selection.repeated, 1);
        let ids = |g: &Group| selection.groups[g].iter().map(|r| r.transaction_id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(&Group::Corridor(CN_HK.into())), ["tx-a", "tx-b", "tx-late"]);
        assert_eq!(ids(&Group::Corridor("SG_FAST>HK_FPS:SGD-HKD".into())), ["tx-sg"]);
        assert_eq!(ids(&Group::Unrouted), ["tx-alias"]);
        // Corridors first, by id, then the unrouted.
        let order: Vec<&str> = selection.groups.keys().map(Group::id).collect();
        assert_eq!(order, [CN_HK, "SG_FAST>HK_FPS:SGD-HKD", "unrouted"]);

        let only = select(
            vec![alert("tx-1", Some(CN_HK), "2026-12-01T01:00:00Z"), alert("tx-2", None, "2026-12-01T01:00:00Z")],
            &d,
            &["unrouted".to_string()],
        );
        assert_eq!(only.groups.keys().collect::<Vec<_>>(), [&Group::Unrouted]);
    }

    #[test]
    fn a_row_is_the_alert_in_text_with_the_amount_in_major_units() {
        let d = day("2026-12-01", "Asia/Hong_Kong");
        let row = AlertRow::new(&alert("tx-1", Some(CN_HK), "2026-12-01T01:02:03.000456Z"), &d);
        assert_eq!(row.decided_at, "2026-12-01T09:02:03.000456+08:00");
        assert_eq!((row.control.as_str(), row.action.as_str()), ("LIMIT", "REFUSED"));
        assert_eq!((row.amount.as_str(), row.currency.as_str()), ("12345.50", "CNY"));
        assert_eq!(row.creditor_network.as_deref(), Some("HK_FPS"));
        let mut unrouted = alert("tx-2", None, "2026-12-01T01:00:00Z");
        unrouted.amount = Amount::new(5_000, "JPY");
        unrouted.action = RiskAction::Alerted;
        let row = AlertRow::new(&unrouted, &d);
        assert_eq!((row.amount.as_str(), row.action.as_str()), ("5000", "ALERTED"));
        assert_eq!((row.corridor, row.creditor_institution), (None, None));
    }

    #[test]
    fn csv_quotes_an_explanation_with_a_comma_and_a_quote() {
        let d = day("2026-12-01", "UTC");
        let mut a = alert("tx-1", None, "2026-12-01T01:00:00Z");
        a.explanation = r#"blocked: "case 7", court order"#.into();
        let csv = String::from_utf8(to_csv(&[AlertRow::new(&a, &d)]).unwrap()).unwrap();
        assert_eq!(
            csv,
            "alert_id,decided_at,transaction_id,end_to_end_id,control,rule,action,reason_code,explanation,\
             routing_version,corridor,debtor_network,debtor_institution,creditor_network,creditor_institution,\
             amount,currency\r\n\
             tx-1:RISK:LIMIT,2026-12-01T01:00:00.000000+00:00,tx-1,E2E-tx-1,LIMIT,cn-hk-daily,REFUSED,AM14,\
             \"blocked: \"\"case 7\"\", court order\",3,,CN_IBPS,102100099996,,,12345.50,CNY\r\n"
        );
        // And it reads back as it was.
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[8], r#"blocked: "case 7", court order"#);

        let jsonl = String::from_utf8(to_jsonl(&[AlertRow::new(&a, &d)]).unwrap()).unwrap();
        let value: serde_json::Value = serde_json::from_str(jsonl.trim_end()).unwrap();
        assert_eq!(value["explanation"], r#"blocked: "case 7", court order"#);
        assert_eq!((value["corridor"].clone(), value["amount"].clone()), (serde_json::Value::Null, "12345.50".into()));
        assert!(jsonl.ends_with("}\n") && jsonl.lines().count() == 1);
    }

    #[test]
    fn corridor_file_names_are_file_safe_and_distinct() {
        let day: Date = "2026-12-01".parse().unwrap();
        let name = |g: Group| file_name(day, &g, FileFormat::Csv);
        assert_eq!(name(Group::Corridor(CN_HK.into())), "risk-alerts-2026-12-01-CN_IBPS.HK_FPS.CNY-HKD.csv");
        assert_eq!(name(Group::Unrouted), "risk-alerts-2026-12-01-unrouted.csv");
        assert_eq!(file_name(day, &Group::Unrouted, FileFormat::Jsonl), "risk-alerts-2026-12-01-unrouted.jsonl");
        assert_eq!(file_safe("A/B>C D:É"), "A%2FB.C%20D.%C3%89");
        assert_eq!(file_safe("../x"), "%2E%2E%2Fx");

        // Two groups that would share a name are refused, not overwritten.
        let d = ExportDay::new(day, TimeZone::UTC).unwrap();
        let clash = select(
            vec![
                alert("tx-1", Some("A>B:C-D"), "2026-12-01T01:00:00Z"),
                alert("tx-2", Some("A:B>C-D"), "2026-12-01T01:00:00Z"),
            ],
            &d,
            &[],
        );
        let e = plan_files(&clash, day, FileFormat::Csv).unwrap_err().to_string();
        assert!(e.contains("risk-alerts-2026-12-01-A.B.C-D.csv"), "{e}");
    }

    #[test]
    fn the_summary_counts_by_control_and_action_and_says_when_there_is_nothing() {
        let d = day("2026-12-01", "Asia/Hong_Kong");
        let mut block = alert("tx-2", Some(CN_HK), "2026-12-01T02:00:00Z");
        block.control = RiskControl::Block;
        let selection = select(
            vec![
                alert("tx-1", Some(CN_HK), "2026-12-01T01:00:00Z"),
                block,
                alert("tx-3", Some(CN_HK), "2026-12-01T03:00:00Z"),
            ],
            &d,
            &[],
        );
        let files = plan_files(&selection, d.day, FileFormat::Csv).unwrap();
        let wanted = [CN_HK.to_string(), "X>Y:A-B".to_string()];
        assert_eq!(
            summary(&d, &wanted, &files, Path::new("/exports")),
            "risk alerts on 2026-12-01 in Asia/Hong_Kong (2026-12-01T00:00:00.000000+08:00 to \
             2026-12-02T00:00:00.000000+08:00): 3 in 1 file(s) in /exports\n\
             CN_IBPS>HK_FPS:CNY-HKD: 3 alert(s) in risk-alerts-2026-12-01-CN_IBPS.HK_FPS.CNY-HKD.csv\n\
             \x20 BLOCK      REFUSED  1\n\
             \x20 LIMIT      REFUSED  2\n\
             X>Y:A-B: no alerts\n"
        );
        assert_eq!(
            summary(&d, &[], &[], Path::new("/exports")),
            "no risk alerts on 2026-12-01 in Asia/Hong_Kong (2026-12-01T00:00:00.000000+08:00 to \
             2026-12-02T00:00:00.000000+08:00): no files written\n"
        );
    }
}
