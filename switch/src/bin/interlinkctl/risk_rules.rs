//! `interlinkctl risk validate|diff|apply|history|rollback`: the risk thresholds (per-person
//! limits, velocity and anomaly rules) as a file of their own, managed like the routing
//! table. They are rules of the same table, so a risk change set is a routing change set
//! (one version, one audit entry, every worker at once) that touches only `limit/` and
//! `anomaly/` keys: applying a risk file leaves corridors, participants, rates and blocks
//! as they are. Blocks keep their own commands (`risk block|unblock`).

use super::{
    edit, exported_version, load_file, print_changes, read_audit, read_live, ApplyArgs, ChangeArgs, Failure,
    RollbackArgs,
};
use anyhow::Context;
use interlink_routing::{rules_at, ChangeOp, RouteKey, RouteRecord, RoutingTable};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::routes_writer::{edit_rules, ChangeRequest};
use std::collections::BTreeMap;
use std::path::Path;

/// Whether a rule is a risk threshold (what a risk file holds).
fn is_threshold(record: &RouteRecord) -> bool {
    matches!(record, RouteRecord::Limit(_) | RouteRecord::Anomaly(_))
}

fn is_threshold_key(key: &RouteKey) -> bool {
    matches!(key, RouteKey::Limit { .. } | RouteKey::Anomaly { .. })
}

/// The rules of a risk file: only `[[limits]]` and `[[anomalies]]`.
fn load_thresholds(file: &Path) -> Result<Vec<RouteRecord>, Failure> {
    let records = load_file(file)?;
    let others: Vec<String> = records.iter().filter(|r| !is_threshold(r)).map(|r| r.key().to_string()).collect();
    if !others.is_empty() {
        return Err(Failure::Rejected(format!(
            "{}: a risk file holds only [[limits]] and [[anomalies]]; {} belong in the routing table (routes apply) or, for blocks, to risk block",
            file.display(),
            others.join(", ")
        )));
    }
    Ok(records)
}

/// The live table with its thresholds replaced by `thresholds`.
fn with_thresholds(live: &BTreeMap<RouteKey, RouteRecord>, thresholds: &[RouteRecord]) -> Vec<RouteRecord> {
    live.values().filter(|r| !is_threshold(r)).cloned().chain(thresholds.iter().cloned()).collect()
}

/// Checks FILE on its own, then with the live table (its corridors and rates: a limit
/// in a currency the corridor cannot convert to is refused there).
pub fn validate(kafka: &KafkaConfig, topics: &TopicsConfig, file: &Path) -> Result<(), Failure> {
    let thresholds = load_thresholds(file)?;
    let live = read_live(kafka, topics)?;
    let merged = with_thresholds(live.rules(), &thresholds);
    RoutingTable::compile(live.version() + 1, &merged).map_err(|e| {
        Failure::Rejected(format!("{}: does not fit the live table (version {}): {e}", file.display(), live.version()))
    })?;
    println!(
        "{}: valid, {} threshold rule(s), fit the live table (version {})",
        file.display(),
        thresholds.len(),
        live.version()
    );
    Ok(())
}

/// What applying FILE would change: only threshold keys.
pub fn diff(kafka: &KafkaConfig, topics: &TopicsConfig, file: &Path) -> Result<(), Failure> {
    let thresholds = load_thresholds(file)?;
    let dry = ChangeRequest { dry_run: true, ..Default::default() };
    let applied =
        edit_rules(kafka, topics, |live| with_thresholds(live, &thresholds), dry).context("reading the live table")?;
    print_changes(&applied.changes, true);
    println!("{} change(s) against live version {}", applied.changes.len(), applied.previous_version);
    Ok(())
}

/// Makes the live thresholds equal to FILE's, as one change set.
pub fn apply(kafka: &KafkaConfig, topics: &TopicsConfig, args: ApplyArgs) -> Result<(), Failure> {
    let ApplyArgs { file, change: ChangeArgs { operator, reason, dry_run }, base_version } = args;
    let thresholds = load_thresholds(&file)?;
    let base_version = base_version.or_else(|| exported_version(&file));
    let reason = format!("risk: {reason}");
    let request = ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version };
    edit(kafka, topics, |live| with_thresholds(live, &thresholds), request)?;
    Ok(())
}

/// The change sets that touched thresholds, from the audit trail.
pub fn history(kafka: &KafkaConfig, topics: &TopicsConfig, verbose: bool) -> Result<(), Failure> {
    let mut shown = 0;
    for e in read_audit(kafka, topics)? {
        let touched: Vec<_> = e.changes.iter().filter(|c| c.key.parse().is_ok_and(|k| is_threshold_key(&k))).collect();
        if touched.is_empty() {
            continue;
        }
        shown += 1;
        let count = |op: ChangeOp| touched.iter().filter(|c| c.op == op).count();
        println!(
            "v{:<5} {}  {:<12} +{} ~{} -{}  {}",
            e.version,
            interlink_connectors::time::format_datetime(e.applied_at, 0),
            e.operator,
            count(ChangeOp::Added),
            count(ChangeOp::Modified),
            count(ChangeOp::Removed),
            e.reason
        );
        if verbose {
            for c in touched {
                let sign = match c.op {
                    ChangeOp::Added => '+',
                    ChangeOp::Modified => '~',
                    ChangeOp::Removed => '-',
                };
                println!("         {sign} {}", c.key);
            }
        }
    }
    println!("{shown} change set(s) touched the risk thresholds");
    Ok(())
}

/// Makes the live thresholds what they were at VERSION again (the rest of the table as
/// it is now), as a new version.
pub fn rollback(kafka: &KafkaConfig, topics: &TopicsConfig, args: RollbackArgs) -> Result<(), Failure> {
    let RollbackArgs { version, change: ChangeArgs { operator, reason, dry_run } } = args;
    let trail = read_audit(kafka, topics)?;
    let then = rules_at(&trail, version).map_err(|e| Failure::Rejected(e.to_string()))?;
    let thresholds: Vec<RouteRecord> = then.into_iter().filter(is_threshold).collect();
    let reason = format!("risk rollback to v{version}: {reason}");
    let request = ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version: None };
    edit(kafka, topics, |live| with_thresholds(live, &thresholds), request)?;
    Ok(())
}
