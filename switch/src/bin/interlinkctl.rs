//! `interlinkctl`: operators' command line for topics and routing tables.
//!
//! Exit codes: 0 success, 1 input rejected (nothing applied), 2 usage or
//! connection error.

use anyhow::Context;
use clap::{Parser, Subcommand};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::admin::{ensure_topics, TopicLayout};
use interlink_switch::kafka::{read_routes_log, routes_writer};
use interlink_switch::routing::{diff, parse_routes_file, Change, Marker, RouteRecord};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about = "Operate Interlink: topics and routing tables")]
struct Cli {
    #[command(flatten)]
    cluster: interlink_switch::cli::ClusterArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Kafka topics the switch uses.
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// The routing table.
    #[command(subcommand)]
    Routes(RoutesCommand),
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// Creates the switch's topics; existing ones are left alone.
    Create {
        #[arg(long, default_value_t = 12)]
        partitions: i32,
        #[arg(long, default_value_t = 1)]
        replication_factor: i32,
    },
}

#[derive(Subcommand)]
enum RoutesCommand {
    /// Checks a routing-table file; prints every problem with its line. Applies nothing.
    Validate { file: PathBuf },
    /// Makes the live table equal to FILE, as one atomic change set.
    Apply {
        file: PathBuf,
        /// Who is making the change (recorded in the change-set marker).
        #[arg(long)]
        operator: String,
        /// Why (recorded in the change-set marker).
        #[arg(long)]
        reason: String,
        /// Print the changes without writing them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Prints the live table's version and size.
    Show,
}

/// A failure with the exit code it maps to.
enum Failure {
    Rejected(String),
    Usage(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Usage(e.into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Rejected(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let (kafka, topics) = (cli.cluster.kafka(), cli.cluster.topics());
    match cli.command {
        Command::Topics(TopicsCommand::Create { partitions, replication_factor }) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let layout = TopicLayout { partitions, replication: replication_factor };
            let created = runtime.block_on(ensure_topics(&kafka, &topics, layout))?;
            for t in &created {
                println!("created {t}");
            }
            println!("{} topic(s) created, others already existed", created.len());
            Ok(())
        }
        Command::Routes(RoutesCommand::Validate { file }) => {
            let records = load_file(&file)?;
            println!("{}: valid, {} rule(s)", file.display(), records.len());
            Ok(())
        }
        Command::Routes(RoutesCommand::Apply { file, operator, reason, dry_run }) => {
            let records = load_file(&file)?;
            if operator.trim().is_empty() || reason.trim().is_empty() {
                return Err(Failure::Rejected("--operator and --reason must not be empty".into()));
            }
            let log = read_live(&kafka, &topics)?;
            let changes = diff(log.rules(), &records);
            print_changes(&changes);
            if changes.is_empty() {
                println!("no changes; live table stays at version {}", log.version());
                return Ok(());
            }
            let marker = Marker {
                version: log.version() + 1,
                operator,
                reason,
                applied_at: interlink_schemas::now_micros(),
                changes: changes.len() as u64,
            };
            if dry_run {
                println!("dry run: would apply {} change(s) as version {}", changes.len(), marker.version);
                return Ok(());
            }
            routes_writer::publish_change_set(&kafka, &topics.routes, &changes, &marker)
                .context("writing the change set")?;
            println!("applied {} change(s) as version {}", changes.len(), marker.version);
            Ok(())
        }
        Command::Routes(RoutesCommand::Show) => {
            let log = read_live(&kafka, &topics)?;
            match log.last_marker() {
                None => println!("no routing table applied yet"),
                Some(m) => println!(
                    "version {}\nrules {}\nlast change by {} ({}) with {} change(s)",
                    m.version,
                    log.rules().len(),
                    m.operator,
                    m.reason,
                    m.changes
                ),
            }
            Ok(())
        }
    }
}

fn load_file(path: &std::path::Path) -> Result<Vec<RouteRecord>, Failure> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_routes_file(&path.display().to_string(), &text).map_err(|e| Failure::Rejected(e.to_string()))
}

fn read_live(kafka: &KafkaConfig, topics: &TopicsConfig) -> Result<interlink_switch::routing::RoutingLog, Failure> {
    Ok(read_routes_log(kafka, &topics.routes, Duration::from_secs(60)).context("reading the live routing table")?)
}

fn print_changes(changes: &[Change]) {
    for c in changes {
        let sign = match c {
            Change::Added(_) => '+',
            Change::Modified { .. } => '~',
            Change::Removed(_) => '-',
        };
        println!("{sign} {}", c.key());
    }
}
