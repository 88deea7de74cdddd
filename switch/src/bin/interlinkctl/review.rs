//! `interlinkctl risk held` and `interlinkctl risk review`: the payments a risk rule
//! holds for review, and an operator's decision on one. Both read the risk alerts topic:
//! a payment is waiting while its latest alert is HELD; the decision travels to the
//! payment's partition under the HELD alert's `review_key`. docs/risk.md, "Holding for
//! review", describes the workflow.

use super::events::EventReader;
use super::{Failure, Format, TIMEOUT};
use clap::Args;
use interlink_core::review::{ReviewCommand, ReviewVerdict};
use interlink_schemas::{RiskAction, RiskAlert};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::read_topics;
use interlink_switch::kafka::review::send_review;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The Schema Registry the switch frames its alerts with, if any.
#[derive(Args)]
pub struct RegistryArg {
    /// The Schema Registry (Confluent-compatible API) the switch runs with; without it,
    /// the ids built into this build.
    #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY")]
    schema_registry: Option<String>,
}

impl RegistryArg {
    fn reader(&self, topics: &TopicsConfig) -> Result<EventReader, Failure> {
        EventReader::connect(self.schema_registry.as_deref(), topics, &[&interlink_schemas::registry::RISK_ALERT_V2])
    }
}

#[derive(Args)]
pub struct HeldArgs {
    #[command(flatten)]
    registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    registry: RegistryArg,
    /// The held payment's transaction id.
    #[arg(long)]
    transaction_id: String,
    /// Its debtor's network, when two held payments share the transaction id.
    #[arg(long)]
    debtor_network: Option<String>,
    /// Let the payment go ahead: it is decided again with the holding rule passed.
    #[arg(long, conflicts_with = "refuse", required_unless_present = "refuse")]
    approve: bool,
    /// Refuse it, with the reason of the rule that held it.
    #[arg(long)]
    refuse: bool,
    /// Who decides (kept in the alert that records the decision).
    #[arg(long)]
    operator: String,
    /// Why (a case number, what was checked): kept in the alert.
    #[arg(long)]
    note: String,
    /// Seconds to wait for the worker's decision to appear on the alerts topic (0: do
    /// not wait).
    #[arg(long, default_value_t = 30)]
    wait_seconds: u64,
}

/// Every payment that has alerts, by (debtor network, debtor institution, transaction
/// id): its latest alert.
type ByPayment = BTreeMap<(String, String, String), RiskAlert>;

/// Reads the alerts topic: each payment's latest alert. A payment's alerts share its
/// transaction id as key, so they sit in one partition, in order.
fn read_alerts(kafka: &KafkaConfig, topics: &TopicsConfig, events: &EventReader) -> Result<ByPayment, Failure> {
    let codec = events.codec::<RiskAlert>()?;
    let read = read_topics(kafka, &[topics.risk_alerts.as_str()], TIMEOUT)?;
    let mut payments = ByPayment::new();
    let mut unreadable = 0usize;
    for record in read.get(&topics.risk_alerts).into_iter().flatten() {
        let Some(value) = &record.value else { continue };
        let alert = match events.decode(&codec, value) {
            Ok(a) => a,
            Err(e) => {
                unreadable += 1;
                eprintln!("alert at partition {} offset {} is unreadable: {e}", record.partition, record.offset);
                continue;
            }
        };
        let id = (
            alert.debtor_agent.network.clone(),
            alert.debtor_agent.institution_id.clone(),
            alert.transaction_id.clone(),
        );
        payments.insert(id, alert);
    }
    if unreadable > 0 {
        eprintln!("{unreadable} unreadable alert(s) skipped");
    }
    Ok(payments)
}

/// The payments whose latest alert is HELD: still waiting for a review.
fn waiting(payments: &ByPayment) -> Vec<&RiskAlert> {
    payments.values().filter(|a| a.action == RiskAction::Held).collect()
}

pub fn held(kafka: &KafkaConfig, topics: &TopicsConfig, args: HeldArgs) -> Result<(), Failure> {
    let events = args.registry.reader(topics)?;
    let payments = read_alerts(kafka, topics, &events)?;
    let held = waiting(&payments);
    let now = interlink_schemas::now_micros();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&held)?),
        Format::Table => {
            for a in &held {
                let deadline = a.review_deadline.map_or_else(|| "no deadline".to_string(), |d| due(d, now));
                println!(
                    "{:<28} {:<10} {:<8} {} {} {:<10} {:<22} {}",
                    a.transaction_id,
                    a.debtor_agent.network,
                    a.debtor_agent.institution_id,
                    a.amount.currency,
                    super::settlement::money(a.amount.minor_units, &a.amount.currency),
                    a.control.as_str(),
                    a.rule,
                    deadline
                );
                println!("    {}", a.explanation);
            }
            println!("{} payment(s) held for review", held.len());
        }
    }
    Ok(())
}

pub fn review(kafka: &KafkaConfig, topics: &TopicsConfig, args: ReviewArgs) -> Result<(), Failure> {
    if args.operator.trim().is_empty() || args.note.trim().is_empty() {
        return Err(Failure::Rejected("--operator and --note must not be empty".into()));
    }
    let events = args.registry.reader(topics)?;
    let payments = read_alerts(kafka, topics, &events)?;
    let tx = args.transaction_id.as_str();
    let mine = |a: &&RiskAlert| {
        a.transaction_id == tx && args.debtor_network.as_deref().is_none_or(|n| a.debtor_agent.network == n)
    };
    let candidates: Vec<&RiskAlert> = waiting(&payments).into_iter().filter(mine).collect();
    let held = match candidates.as_slice() {
        [one] => *one,
        [] => {
            let known = payments.values().find(mine);
            return Err(Failure::Rejected(match known {
                Some(a) => format!(
                    "transaction {tx} is not waiting for a review: its latest alert is {} ({})",
                    a.action.as_str(),
                    a.explanation
                ),
                None => format!("no payment {tx} is held for review (no alert names it)"),
            }));
        }
        several => {
            let networks: Vec<&str> = several.iter().map(|a| a.debtor_agent.network.as_str()).collect();
            return Err(Failure::Rejected(format!(
                "{} held payments are named {tx} (debtor networks {}): add --debtor-network",
                several.len(),
                networks.join(", ")
            )));
        }
    };
    let Some(review_key) = held.review_key.as_deref() else {
        return Err(Failure::Rejected(format!(
            "the HELD alert of {tx} carries no review_key (written by an older switch)"
        )));
    };
    let verdict = if args.approve { ReviewVerdict::Approve } else { ReviewVerdict::Refuse };
    let command = ReviewCommand {
        debtor_network: held.debtor_agent.network.clone(),
        debtor_institution: held.debtor_agent.institution_id.clone(),
        transaction_id: tx.to_string(),
        verdict,
        operator: args.operator,
        note: args.note,
        decided_at: interlink_schemas::now_micros(),
    };
    let (partition, offset) = send_review(kafka, topics, review_key, &command)?;
    println!("review of {tx} ({}) sent: {} partition {partition} offset {offset}", verdict.as_str(), topics.forwards);
    if args.wait_seconds == 0 {
        return Ok(());
    }
    let id = (command.debtor_network, command.debtor_institution, command.transaction_id);
    let until = Instant::now() + Duration::from_secs(args.wait_seconds);
    loop {
        let latest = read_alerts(kafka, topics, &events)?.remove(&id);
        if let Some(a) = latest.filter(|a| a.action != RiskAction::Held) {
            println!("decided: {} {} {}", a.action.as_str(), a.reason_code, a.explanation);
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(Failure::Rejected(format!(
                "no decision on {tx} within {} s: is a worker running? (the review stays on the forwards topic)",
                args.wait_seconds
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// "due in 12 min (2026-12-01T09:00:00Z)", or "overdue" once passed.
fn due(deadline: i64, now: i64) -> String {
    let at = Timestamp::from_microsecond(deadline).map_or_else(|_| deadline.to_string(), |t| t.to_string());
    if deadline <= now {
        format!("overdue (deadline {at}): refused when a worker next sweeps")
    } else {
        format!("due {} ({at})", super::settlement::relative(deadline, now))
    }
}
