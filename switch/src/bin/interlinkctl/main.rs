//! `interlinkctl`: operators' command line for topics, routing tables and ACLs.
//!
//! Exit codes: 0 success, 1 input rejected or not found (nothing applied), 2 usage or
//! connection error.

mod events;
mod review;
mod risk_export;
mod risk_rules;
mod settlement;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use interlink_connectors::emvco;
use interlink_routing::{
    audit_record_hash, export_routes_file, parse_routes_file, rules_at, verify_chain, AnomalyAction, AnomalyPattern,
    AuditEntry, Block, BlockKind, Change, ChangeOp, RouteKey, RouteRecord, RoutingLog,
};
use interlink_switch::config::{KafkaConfig, TopicsConfig};
use interlink_switch::kafka::acls;
use interlink_switch::kafka::admin::{broker_count, check_topics, ensure_topics, TopicLayout};
use interlink_switch::kafka::routes_writer::{apply_rules, edit_rules, Applied, ChangeRequest};
use interlink_switch::kafka::KafkaEdgeError;
use interlink_switch::kafka::{read_routes_log, read_to_end};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about = "Operate Interlink: topics, ACLs, routing tables, QR codes, connectors, settlement")]
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
    /// Kafka ACLs for Interlink's principals, on brokers with an authorizer (KRaft's
    /// StandardAuthorizer): only the operator writes the routing table and its audit
    /// trail, workers write the outputs, each network only its own `.in` topic.
    #[command(subcommand)]
    Acls(AclsCommand),
    /// The routing table: validate, diff, apply, inspect, audit, roll back.
    #[command(subcommand)]
    Routes(RoutesCommand),
    /// EMVCo merchant-presented QR codes.
    #[command(subcommand)]
    Qr(QrCommand),
    /// The payment networks' connectors: list them, and read or write their messages.
    #[command(subcommand)]
    Connectors(ConnectorsCommand),
    /// Risk controls: the thresholds (limits, velocity and anomaly rules) as a file of
    /// their own, block lists, payments held for review, and the daily export of risk
    /// alerts. Thresholds and blocks are rules of the routing table: each change is a
    /// change set (a new version, in the audit trail), applied by every worker at once.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// Settlement cycles: close one now, the schemes' status, a netted cycle's positions
    /// and statements, and a cycle's reconciliation with the networks.
    Settlement {
        /// The Schema Registry (Confluent-compatible API) whose ids the switch frames its
        /// records with, if it runs with one; without it, the ids built into this build.
        #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY")]
        schema_registry: Option<String>,
        #[command(subcommand)]
        command: settlement::SettlementCommand,
    },
    /// Event schemas in the Schema Registry: register, check a candidate, list.
    Schemas {
        /// The registry's Confluent-compatible API.
        #[arg(long, env = "INTERLINK_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081/apis/ccompat/v7")]
        registry: String,
        #[command(subcommand)]
        command: SchemasCommand,
    },
}

#[derive(Subcommand)]
enum SchemasCommand {
    /// Registers every schema version of this build under its topic's subject, oldest
    /// first (exits 1 when the registry refuses one as incompatible).
    Register,
    /// Checks a candidate schema against the registry's latest version of its subject,
    /// under the subject's compatibility rule; exits 1 when incompatible. Registers nothing.
    Check {
        /// The record it is a version of (AuthorizationRequest, ClearingRecord, ...);
        /// its subject is `<topic>-value`.
        #[arg(long, conflicts_with = "subject")]
        record: Option<String>,
        /// Or the subject itself.
        #[arg(long)]
        subject: Option<String>,
        /// The candidate `.avsc` file.
        file: PathBuf,
    },
    /// Lists the subjects with their versions and ids.
    List,
    /// Sets the compatibility rule of a subject, or the registry's default (BACKWARD is
    /// Interlink's contract; Apicurio starts with NONE). Waits up to a minute for a
    /// registry that is starting.
    Compatibility {
        /// BACKWARD, FORWARD, FULL, NONE, or their _TRANSITIVE forms.
        level: String,
        #[arg(long)]
        subject: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConnectorsCommand {
    /// Lists the registered networks with their currency, limits and message standard.
    List,
    /// Prints what a connector reads from a network message, as canonical JSON, with the
    /// profile it matched (message version, namespace, envelope, header); exits 1
    /// with the reason when the connector refuses the message.
    Decode {
        #[arg(long)]
        network: String,
        /// The message file; `-` or nothing reads standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Writes the network's message for canonical JSON (a payment, or a status report
    /// with --status); exits 1 with the reason when the connector refuses it.
    Encode {
        #[arg(long)]
        network: String,
        /// The input is a status report, not a payment.
        #[arg(long)]
        status: bool,
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum QrCommand {
    /// Prints a QR payload as JSON, with the profile it matched (`emvco`, `promptpay_p2p`,
    /// `promptpay_bill_payment`, `duitnow`) in its `profile` field and on standard error;
    /// exits 1 with the reason when the code is invalid.
    Decode {
        /// The payload text, as scanned.
        payload: String,
    },
    /// Builds a QR payload (with its CRC) from JSON as `qr decode` prints it.
    Encode {
        /// JSON file; `-` or nothing reads standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// Creates the switch's topics; existing ones are left alone.
    Create {
        #[arg(long, default_value_t = 12)]
        partitions: i32,
        /// Default: 3 on a cluster of three brokers or more (with min.insync.replicas
        /// 2), else the number of brokers.
        #[arg(long)]
        replication_factor: Option<i32>,
    },
    /// Compares the existing topics with what the switch needs (partitions, replication,
    /// min.insync.replicas, compaction, retention) and says what is wrong; exit 1 if
    /// anything is.
    Check {
        /// Partitions expected when the requests topic itself is missing.
        #[arg(long, default_value_t = 12)]
        partitions: i32,
    },
}

#[derive(Subcommand)]
enum AclsCommand {
    /// Prints the ACLs the given principals need; writes nothing.
    Plan(AclRoles),
    /// Creates those ACLs (ones in place stay), connected as a principal that may alter
    /// the cluster's ACLs (a super user such as User:admin); says how many were missing.
    Apply(AclRoles),
    /// Lists the ACLs the brokers hold.
    List,
}

/// Who plays which part. Principals are `User:<name>` (a bare name means `User:`).
#[derive(clap::Args)]
struct AclRoles {
    /// Operators: create and read the switch's topics, write the routing table and audit.
    #[arg(long)]
    operator: Vec<String>,
    /// Switch workers: read inputs and the routing table, write outputs and state.
    #[arg(long)]
    worker: Vec<String>,
    /// A network's principal, NETWORK=PRINCIPAL (HK_FPS=User:network-hk-fps): writes
    /// only its `.in` topic, reads only its `.out`.
    #[arg(long, value_parser = network_principal)]
    network: Vec<(String, String)>,
    /// Clients (banks' gateways, the load test): write requests, read the outputs.
    #[arg(long)]
    client: Vec<String>,
    /// The workers' consumer group (their kafka.group_id).
    #[arg(long, default_value = "interlink-switch")]
    group: String,
    /// The workers' kafka.transactional_id_prefix (their ids are `<prefix>-<worker_id>`).
    #[arg(long, default_value = "interlink-switch")]
    transactional_id_prefix: String,
    /// Clients' consumer groups start with this.
    #[arg(long, default_value = "interlink-client-")]
    client_group_prefix: String,
}

fn network_principal(arg: &str) -> Result<(String, String), String> {
    let (network, principal) = arg.split_once('=').ok_or_else(|| format!("{arg:?}: expected NETWORK=PRINCIPAL"))?;
    if interlink_connectors::connector(network).is_none() {
        let known: Vec<&str> = interlink_connectors::connectors().map(|c| c.profile().id).collect();
        return Err(format!("no connector for {network:?}; registered: {}", known.join(", ")));
    }
    Ok((network.to_string(), acls::principal(principal)))
}

impl AclRoles {
    fn plan(&self, topics: &TopicsConfig) -> Result<Vec<acls::AclBinding>, Failure> {
        let who = acls::Principals {
            operators: self.operator.iter().map(|p| acls::principal(p)).collect(),
            workers: self.worker.iter().map(|p| acls::principal(p)).collect(),
            networks: self.network.clone(),
            clients: self.client.iter().map(|p| acls::principal(p)).collect(),
        };
        if who.operators.is_empty() && who.workers.is_empty() && who.networks.is_empty() && who.clients.is_empty() {
            return Err(Failure::Rejected("name at least one --operator, --worker, --network or --client".into()));
        }
        let mut scope = acls::AclScope::new(topics.clone());
        scope.group_id = self.group.clone();
        scope.transactional_id_prefix = self.transactional_id_prefix.clone();
        scope.client_group_prefix = self.client_group_prefix.clone();
        Ok(acls::plan(&scope, &who))
    }
}

fn acls_command(kafka: &KafkaConfig, topics: &TopicsConfig, command: AclsCommand) -> Result<(), Failure> {
    match command {
        AclsCommand::Plan(roles) => {
            let plan = roles.plan(topics)?;
            for b in &plan {
                println!("{b}");
            }
            println!("{} ACL(s)", plan.len());
        }
        AclsCommand::Apply(roles) => {
            let plan = roles.plan(topics)?;
            let present = acls::describe_acls(kafka, TIMEOUT).context("reading the brokers' ACLs")?;
            let missing = acls::missing(&plan, &present);
            for b in &missing {
                println!("+ {b}");
            }
            acls::create_acls(kafka, &plan, TIMEOUT).context("creating the ACLs")?;
            println!("{} ACL(s) in place, {} of them new", plan.len(), missing.len());
        }
        AclsCommand::List => {
            let present = acls::describe_acls(kafka, TIMEOUT).context("reading the brokers' ACLs")?;
            for b in &present {
                println!("{b}");
            }
            println!("{} ACL(s)", present.len());
            if present.is_empty() {
                // librdkafka drops the broker's refusal of DescribeAcls.
                eprintln!("(an empty list also when this principal may not describe the cluster's ACLs)");
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum RoutesCommand {
    /// Checks a routing-table file; prints every problem with file and line. Applies nothing.
    Validate { file: PathBuf },
    /// Shows what applying FILE would change in the live table.
    Diff { file: PathBuf },
    /// Makes the live table equal to FILE, as one atomic change set (a new version).
    Apply(ApplyArgs),
    /// Prints one live rule as JSON, by key (participant/HK_FPS/004, corridor/CN_IBPS/HK_FPS/CNY, ...).
    Get { key: String },
    /// Lists the live rules.
    List {
        /// Only rules that concern this network.
        #[arg(long)]
        network: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Prints the live table in the file format; applying the output changes nothing.
    Export,
    /// Prints the version, the rule count and the last change.
    Show,
    /// Who changed the table, when, why and what, from the audit topic.
    History {
        /// Also list every changed key.
        #[arg(long)]
        verbose: bool,
    },
    /// The audit trail's integrity.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Makes the live table what it was at VERSION again, as a new version.
    Rollback(RollbackArgs),
}

/// Applying a file as one change set (`routes apply`, `risk apply`).
#[derive(clap::Args)]
struct ApplyArgs {
    file: PathBuf,
    #[command(flatten)]
    change: ChangeArgs,
    /// The live version FILE was prepared against: refused if the table has changed
    /// since. Default: the version in the header `routes export` writes, if any.
    #[arg(long)]
    base_version: Option<i64>,
}

/// Going back to a version (`routes rollback`, `risk rollback`).
#[derive(clap::Args)]
struct RollbackArgs {
    #[arg(long = "to")]
    version: i64,
    #[command(flatten)]
    change: ChangeArgs,
}

/// Who changes the table and why (both recorded in the audit trail), or only a look.
#[derive(clap::Args)]
struct ChangeArgs {
    #[arg(long)]
    operator: String,
    #[arg(long)]
    reason: String,
    /// Print the changes without writing them.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the audit trail's hash chain, and its end against the routes log: an
    /// edited, removed, reordered or inserted entry is named; exit 1 if any.
    Verify {
        /// The head an earlier `verify` printed (kept somewhere else): the trail must
        /// still contain it.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Blocks an institution, account, alias (SCHEME:value) or QR merchant of a network:
    /// no payment from or to it is accepted from the next table version on.
    Block(BlockChange),
    /// Lifts a block.
    Unblock(BlockChange),
    /// Lists the live blocks.
    List {
        #[arg(long)]
        network: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Checks a risk file (only `[[limits]]` and `[[anomalies]]`: the thresholds) on its
    /// own and with the live table. Applies nothing.
    Validate { file: PathBuf },
    /// Shows what applying a risk file would change in the live thresholds.
    Diff { file: PathBuf },
    /// Makes the live thresholds equal to the file's, as one change set (a new routing
    /// version, in the audit trail); the rest of the table stays as it is.
    Apply(ApplyArgs),
    /// The change sets that touched the thresholds: who, when, why, what.
    History {
        #[arg(long)]
        verbose: bool,
    },
    /// Makes the live thresholds what they were at a version again, as a new version.
    Rollback(RollbackArgs),
    /// The payments held for review (their latest alert is HELD): rule, explanation and
    /// review deadline.
    Held(review::HeldArgs),
    /// Approves or refuses a held payment: the decision goes to the worker holding it,
    /// which decides it again (approved) or refuses it, and records it as an alert.
    Review(review::ReviewArgs),
    /// Writes one day's risk alerts (from the alerts topic, read to its end) to DIR, one
    /// file per corridor, `risk-alerts-<DAY>-<CORRIDOR>.csv` (`...-unrouted.csv` for
    /// alerts refused before routing), rows by decision time; prints the count per
    /// corridor, control and action. A day without alerts writes no file.
    Export(risk_export::ExportArgs),
}

/// One block or unblock: what, why, who.
#[derive(clap::Args)]
struct BlockChange {
    #[command(flatten)]
    target: BlockTarget,
    /// Why (a case number, a regulator's notice): shown in refusals and the audit trail.
    #[arg(long)]
    reason: String,
    #[arg(long)]
    operator: String,
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Args)]
struct BlockTarget {
    /// institution, account, alias or qr_merchant
    #[arg(long)]
    kind: String,
    #[arg(long)]
    network: String,
    #[arg(long)]
    value: String,
}

impl BlockTarget {
    fn block(self, reason: String) -> Result<Block, Failure> {
        let kind: BlockKind =
            self.kind.parse().map_err(|e: interlink_routing::RuleError| Failure::Rejected(e.to_string()))?;
        Ok(Block { target: kind, network: self.network, value: self.value, reason })
    }
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
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "error".into()))
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

const TIMEOUT: Duration = Duration::from_secs(60);

fn run(cli: Cli) -> Result<(), Failure> {
    let topics = cli.cluster.topics();
    // Commands that never reach the brokers do not need their settings to be valid.
    let kafka = match cli.command {
        Command::Qr(_) | Command::Connectors(_) | Command::Schemas { .. } => KafkaConfig::default(),
        _ => cli.cluster.kafka().context("the Kafka client settings")?,
    };
    let routes = match cli.command {
        Command::Topics(TopicsCommand::Create { partitions, replication_factor }) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let layout = match replication_factor {
                Some(rf) => TopicLayout::with_replication(partitions, rf),
                None => TopicLayout::for_cluster(partitions, broker_count(&kafka)?),
            };
            let created = runtime.block_on(ensure_topics(&kafka, &topics, layout))?;
            for t in &created {
                println!("created {t}");
            }
            println!(
                "{} topic(s) created (replication factor {}, min.insync.replicas {}), others already existed",
                created.len(),
                layout.replication,
                layout.min_insync_replicas
            );
            return Ok(());
        }
        Command::Topics(TopicsCommand::Check { partitions }) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (want, problems) = runtime.block_on(check_topics(&kafka, &topics, partitions))?;
            for p in &problems {
                println!("{p}");
            }
            return match problems.len() {
                0 => {
                    println!(
                        "every topic is as the switch needs it (replication factor {}, min.insync.replicas {})",
                        want.replication, want.min_insync_replicas
                    );
                    Ok(())
                }
                n => Err(Failure::Rejected(format!("{n} problem(s) with the switch's topics"))),
            };
        }
        Command::Routes(r) => r,
        Command::Acls(a) => return acls_command(&kafka, &topics, a),
        Command::Connectors(c) => return connectors(c),
        Command::Risk(r) => return risk(&kafka, &topics, r),
        Command::Settlement { schema_registry, command } => {
            let events = events::EventReader::connect(schema_registry.as_deref(), &topics, &settlement::READS)?;
            return settlement::run(&kafka, &topics, &events, command);
        }
        Command::Schemas { registry, command } => return schemas(&registry, &topics, command),
        Command::Qr(QrCommand::Decode { payload }) => {
            let qr = emvco::decode(payload.trim()).map_err(|e| Failure::Rejected(format!("invalid QR code: {e}")))?;
            eprintln!("profile: {}", qr.profile);
            println!("{}", serde_json::to_string_pretty(&qr)?);
            return Ok(());
        }
        Command::Qr(QrCommand::Encode { file }) => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
            };
            let qr: emvco::MerchantQr =
                serde_json::from_str(&text).map_err(|e| Failure::Rejected(format!("not a QR description: {e}")))?;
            qr.validate().map_err(|e| Failure::Rejected(format!("invalid QR code: {e}")))?;
            println!("{}", qr.encode());
            return Ok(());
        }
    };
    match routes {
        RoutesCommand::Validate { file } => {
            let records = load_file(&file)?;
            println!("{}: valid, {} rule(s)", file.display(), records.len());
        }
        RoutesCommand::Diff { file } => {
            let desired = load_file(&file)?;
            let dry = ChangeRequest { dry_run: true, ..Default::default() };
            let applied = apply_rules(&kafka, &topics, &desired, dry).context("reading the live table")?;
            print_changes(&applied.changes, true);
            println!("{} change(s) against live version {}", applied.changes.len(), applied.previous_version);
        }
        RoutesCommand::Apply(ApplyArgs { file, change: ChangeArgs { operator, reason, dry_run }, base_version }) => {
            let desired = load_file(&file)?;
            let base_version = base_version.or_else(|| exported_version(&file));
            let request = ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version };
            apply(&kafka, &topics, &desired, request)?;
        }
        RoutesCommand::Get { key } => {
            let key: RouteKey = key.parse().map_err(Failure::Rejected)?;
            let log = read_live(&kafka, &topics)?;
            let rule = log.rules().get(&key).ok_or_else(|| Failure::Rejected(format!("{key}: no such rule")))?;
            println!("{}", serde_json::to_string_pretty(rule)?);
        }
        RoutesCommand::List { network, format } => {
            let log = read_live(&kafka, &topics)?;
            let rules: Vec<&RouteRecord> =
                log.rules().values().filter(|r| network.as_deref().is_none_or(|n| r.networks().contains(&n))).collect();
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&rules)?),
                Format::Table => {
                    for r in &rules {
                        println!("{:<48} {}", r.key().to_string(), summary(r));
                    }
                    println!("{} rule(s) at version {}", rules.len(), log.version());
                }
            }
        }
        RoutesCommand::Export => {
            let log = read_live(&kafka, &topics)?;
            println!("{EXPORT_HEADER}{}", log.version());
            print!("{}", export_routes_file(log.rules().values()));
        }
        RoutesCommand::Show => {
            let log = read_live(&kafka, &topics)?;
            match log.last_marker() {
                None => println!("no routing table applied yet"),
                Some(m) => println!(
                    "version {}\nrules {}\nlast change by {}{} ({}) with {} change(s)",
                    m.version,
                    log.rules().len(),
                    m.operator,
                    m.principal.as_ref().map(|p| format!(" as {p}")).unwrap_or_default(),
                    m.reason,
                    m.changes
                ),
            }
        }
        RoutesCommand::History { verbose } => {
            for e in read_audit(&kafka, &topics)? {
                let who = match &e.principal {
                    Some(principal) => format!("{} ({principal})", e.operator),
                    None => e.operator.clone(),
                };
                println!(
                    "v{:<5} {}  {:<12} +{} ~{} -{}  {}",
                    e.version,
                    interlink_connectors::time::format_datetime(e.applied_at, 0),
                    who,
                    e.count(ChangeOp::Added),
                    e.count(ChangeOp::Modified),
                    e.count(ChangeOp::Removed),
                    e.reason
                );
                if verbose {
                    for c in &e.changes {
                        let sign = match c.op {
                            ChangeOp::Added => '+',
                            ChangeOp::Modified => '~',
                            ChangeOp::Removed => '-',
                        };
                        println!("         {sign} {}", c.key);
                    }
                }
            }
        }
        RoutesCommand::Audit(AuditCommand::Verify { expect_head }) => verify_audit(&kafka, &topics, expect_head)?,
        RoutesCommand::Rollback(RollbackArgs { version, change: ChangeArgs { operator, reason, dry_run } }) => {
            let trail = read_audit(&kafka, &topics)?;
            let desired = rules_at(&trail, version).map_err(|e| Failure::Rejected(e.to_string()))?;
            let reason = format!("rollback to v{version}: {reason}");
            apply(
                &kafka,
                &topics,
                &desired,
                ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version: None },
            )?;
        }
    }
    Ok(())
}

fn schemas(registry: &str, topics: &TopicsConfig, command: SchemasCommand) -> Result<(), Failure> {
    use interlink_schema_registry::{subject_of, RegistryClient, RegistryError};
    let client =
        RegistryClient::new(registry, Duration::from_secs(10)).map_err(|e| Failure::Rejected(e.to_string()))?;
    let refused = |e: RegistryError| match e {
        RegistryError::Incompatible { .. } | RegistryError::NoSubject(_) | RegistryError::NotFound { .. } => {
            Failure::Rejected(e.to_string())
        }
        other => Failure::Usage(other.into()),
    };
    match command {
        SchemasCommand::Register => {
            for version in interlink_schemas::registry::ALL {
                let subject = subject_of(topics, version).map_err(refused)?;
                let id = client.register(&subject, version.text).map_err(refused)?;
                println!("{subject:<40} {:<22} id {id}", version.record);
            }
        }
        SchemasCommand::Check { record, subject, file } => {
            let subject = match (record, subject) {
                (_, Some(s)) => s,
                (Some(r), None) => {
                    let topic = topics.topic_of(&r).ok_or_else(|| {
                        Failure::Rejected(format!("{r} is not a record of Interlink's event contract"))
                    })?;
                    TopicsConfig::value_subject(topic)
                }
                (None, None) => return Err(Failure::Rejected("give --record or --subject".into())),
            };
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            apache_avro::Schema::parse_str(&text)
                .map_err(|e| Failure::Rejected(format!("{}: not an Avro schema: {e}", file.display())))?;
            let verdict = client.check(&subject, &text).map_err(refused)?;
            if !verdict.compatible {
                let why = if verdict.messages.is_empty() {
                    String::new()
                } else {
                    format!(": {}", verdict.messages.join("; "))
                };
                return Err(Failure::Rejected(format!("{}: incompatible with {subject}{why}", file.display())));
            }
            println!("{}: compatible with {subject}", file.display());
        }
        SchemasCommand::Compatibility { level, subject } => {
            let give_up = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                match client.set_compatibility(subject.as_deref(), &level) {
                    Err(e) if e.is_transient() && std::time::Instant::now() < give_up => {
                        std::thread::sleep(Duration::from_secs(1))
                    }
                    other => break other.map_err(refused)?,
                }
            }
            println!("compatibility of {}: {level}", subject.as_deref().unwrap_or("the registry"));
        }
        SchemasCommand::List => {
            for subject in client.subjects().map_err(refused)? {
                for v in client.versions(&subject).map_err(refused)? {
                    let version = client.version(&subject, v).map_err(refused)?;
                    println!("{subject:<40} version {:<3} id {}", version.version, version.id);
                }
            }
        }
    }
    Ok(())
}

fn connectors(command: ConnectorsCommand) -> Result<(), Failure> {
    let find = |network: &str| {
        interlink_connectors::connector(network).ok_or_else(|| {
            let known: Vec<&str> = interlink_connectors::connectors().map(|c| c.profile().id).collect();
            Failure::Rejected(format!("no connector for {network:?}; registered: {}", known.join(", ")))
        })
    };
    match command {
        ConnectorsCommand::List => {
            println!(
                "{:<13} {:<4} {:<8} {:<24} {:<34} LIMIT",
                "NETWORK", "CCY", "COUNTRY", "PARTICIPANT IDS", "MESSAGES"
            );
            for c in interlink_connectors::connectors() {
                let p = c.profile();
                let v = c.message_versions();
                let limit = c.amount_limit().map_or("-".to_string(), |l| {
                    interlink_routing::format_minor(l.max_minor_units, p.currency)
                        .unwrap_or_else(|_| l.max_minor_units.to_string())
                });
                println!(
                    "{:<13} {:<4} {:<8} {:<24} {:<34} {}",
                    p.id,
                    p.currency,
                    p.country,
                    p.participant_ids.name(),
                    format!("{} / {}", v.payment, v.status),
                    limit
                );
            }
        }
        ConnectorsCommand::Decode { network, file } => {
            let connector = find(&network)?;
            let message = read_input(&file)?;
            // A network sends payments and status reports; say which this one is, and the
            // version, namespace and envelope it came in.
            let form = connector.message_form(&message);
            let json = match connector.decode_status(&message) {
                Ok(status) => serde_json::json!({ "profile": form, "status_report": status }),
                Err(status_error) => match connector.decode_payment(&message) {
                    Ok(payment) => serde_json::json!({ "profile": form, "payment": payment }),
                    Err(payment_error) => {
                        return Err(Failure::Rejected(format!(
                            "{network} refuses this message ({}): as a payment: {payment_error}; as a status report: {status_error}",
                            payment_error.iso_reason().code()
                        )))
                    }
                },
            };
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        ConnectorsCommand::Encode { network, status, file } => {
            let connector = find(&network)?;
            let text = String::from_utf8(read_input(&file)?).map_err(|e| Failure::Rejected(e.to_string()))?;
            let refused = |e: interlink_connectors::ConnectorError| {
                Failure::Rejected(format!("{network} refuses this ({}): {e}", e.iso_reason().code()))
            };
            let message = if status {
                let s: interlink_connectors::CanonicalStatus =
                    serde_json::from_str(&text).map_err(|e| Failure::Rejected(format!("not a status report: {e}")))?;
                connector.encode_status(&s).map_err(refused)?
            } else {
                let p: interlink_connectors::CanonicalPayment =
                    serde_json::from_str(&text).map_err(|e| Failure::Rejected(format!("not a payment: {e}")))?;
                connector.encode_payment(&p).map_err(refused)?
            };
            println!("{}", String::from_utf8_lossy(&message));
        }
    }
    Ok(())
}

fn read_input(file: &Path) -> Result<Vec<u8>, Failure> {
    if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        Ok(buf)
    } else {
        Ok(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?)
    }
}

fn risk(kafka: &KafkaConfig, topics: &TopicsConfig, command: RiskCommand) -> Result<(), Failure> {
    match command {
        RiskCommand::Export(args) => risk_export::run(kafka, topics, args)?,
        RiskCommand::Block(BlockChange { target, reason, operator, dry_run }) => {
            let block = RouteRecord::Block(target.block(reason.clone())?);
            interlink_routing::check_record(&block).map_err(|e| Failure::Rejected(format!("{}: {e}", block.key())))?;
            let key = block.key();
            let add = |live: &BTreeMap<RouteKey, RouteRecord>| {
                live.values().filter(|r| r.key() != key).cloned().chain(std::iter::once(block)).collect()
            };
            let reason = format!("block: {reason}");
            edit(
                kafka,
                topics,
                add,
                ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version: None },
            )?;
        }
        RiskCommand::Unblock(BlockChange { target, reason, operator, dry_run }) => {
            let key = RouteRecord::Block(target.block(reason.clone())?).key();
            if !read_live(kafka, topics)?.rules().contains_key(&key) {
                return Err(Failure::Rejected(format!("{key}: no such block")));
            }
            let remove =
                |live: &BTreeMap<RouteKey, RouteRecord>| live.values().filter(|r| r.key() != key).cloned().collect();
            let reason = format!("unblock: {reason}");
            edit(
                kafka,
                topics,
                remove,
                ChangeRequest { operator: &operator, reason: &reason, dry_run, base_version: None },
            )?;
        }
        RiskCommand::Validate { file } => risk_rules::validate(kafka, topics, &file)?,
        RiskCommand::Diff { file } => risk_rules::diff(kafka, topics, &file)?,
        RiskCommand::Apply(args) => risk_rules::apply(kafka, topics, args)?,
        RiskCommand::History { verbose } => risk_rules::history(kafka, topics, verbose)?,
        RiskCommand::Rollback(args) => risk_rules::rollback(kafka, topics, args)?,
        RiskCommand::Held(args) => review::held(kafka, topics, args)?,
        RiskCommand::Review(args) => review::review(kafka, topics, args)?,
        RiskCommand::List { network, format } => {
            let log = read_live(kafka, topics)?;
            let blocks: Vec<&Block> = log
                .rules()
                .values()
                .filter_map(|r| match r {
                    RouteRecord::Block(b) if network.as_deref().is_none_or(|n| b.network == n) => Some(b),
                    _ => None,
                })
                .collect();
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&blocks)?),
                Format::Table => {
                    for b in &blocks {
                        println!("{:<12} {:<14} {:<36} {}", b.target, b.network, b.value, b.reason);
                    }
                    println!("{} block(s) at version {}", blocks.len(), log.version());
                }
            }
        }
    }
    Ok(())
}

fn apply(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    desired: &[RouteRecord],
    request: ChangeRequest<'_>,
) -> Result<Applied, Failure> {
    edit(kafka, topics, |_| desired.to_vec(), request)
}

/// Applies what `change` makes of the live rules as one change set, and says what it did.
fn edit(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    change: impl FnOnce(&BTreeMap<RouteKey, RouteRecord>) -> Vec<RouteRecord>,
    request: ChangeRequest<'_>,
) -> Result<Applied, Failure> {
    if request.operator.trim().is_empty() || request.reason.trim().is_empty() {
        return Err(Failure::Rejected("--operator and --reason must not be empty".into()));
    }
    let applied = match edit_rules(kafka, topics, change, request) {
        Ok(applied) => applied,
        // Not the tool's failure: the operator must look at the live table first.
        Err(e @ (KafkaEdgeError::StaleBase { .. } | KafkaEdgeError::ConcurrentApply)) => {
            return Err(Failure::Rejected(e.to_string()))
        }
        Err(e) => return Err(anyhow::Error::from(e).context("applying the change set").into()),
    };
    print_changes(&applied.changes, false);
    if applied.changes.is_empty() {
        println!("no changes; live table stays at version {}", applied.previous_version);
    } else if request.dry_run {
        println!(
            "dry run: would apply {} change(s) as version {}",
            applied.changes.len(),
            applied.previous_version + 1
        );
    } else {
        println!("applied {} change(s) as version {}", applied.changes.len(), applied.version);
    }
    Ok(applied)
}

/// The first line `routes export` writes, before the version.
const EXPORT_HEADER: &str = "# Interlink routing table, version ";

/// The live version a file was exported at, from its header.
fn exported_version(file: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().next()?.strip_prefix(EXPORT_HEADER)?.trim().parse().ok()
}

fn load_file(path: &Path) -> Result<Vec<RouteRecord>, Failure> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_routes_file(&path.display().to_string(), &text).map_err(|e| Failure::Rejected(e.to_string()))
}

fn read_live(kafka: &KafkaConfig, topics: &TopicsConfig) -> Result<RoutingLog, Failure> {
    Ok(read_routes_log(kafka, &topics.routes, TIMEOUT).context("reading the live routing table")?)
}

/// `routes audit verify`.
fn verify_audit(kafka: &KafkaConfig, topics: &TopicsConfig, expect_head: Option<String>) -> Result<(), Failure> {
    let records = read_to_end(kafka, &topics.routes_audit, TIMEOUT).context("reading the audit topic")?;
    let values: Vec<Vec<u8>> = records.into_iter().map(|(_, v)| v.unwrap_or_default()).collect();
    let hashes: Vec<String> = values.iter().map(|v| audit_record_hash(v)).collect();
    let log = read_live(kafka, topics)?;
    let report = verify_chain(&values.iter().map(Vec::as_slice).collect::<Vec<_>>(), log.last_marker());
    let report = match report {
        Ok(report) => report,
        Err(breaks) => {
            for b in &breaks {
                println!("{b}");
            }
            return Err(Failure::Rejected(format!("the audit trail is broken in {} place(s)", breaks.len())));
        }
    };
    if let Some(expected) = expect_head {
        if !hashes.contains(&expected) {
            return Err(Failure::Rejected(format!(
                "the trail no longer contains the head {expected} recorded earlier: it was rewritten"
            )));
        }
    }
    println!(
        "audit trail verified: {} record(s) up to version {}{}",
        report.records,
        report.last_version,
        match report.unchained {
            0 => String::new(),
            n => format!(" ({n} from before chaining began, not verifiable)"),
        }
    );
    if let Some(head) = report.head {
        println!("head {head}");
    }
    Ok(())
}

fn read_audit(kafka: &KafkaConfig, topics: &TopicsConfig) -> Result<Vec<AuditEntry>, Failure> {
    let records = read_to_end(kafka, &topics.routes_audit, TIMEOUT).context("reading the audit topic")?;
    let parts = records
        .into_iter()
        .filter_map(|(_, v)| v)
        .map(|v| serde_json::from_slice(&v).context("an audit entry is not valid JSON").map_err(Failure::from))
        .collect::<Result<Vec<AuditEntry>, Failure>>()?;
    Ok(AuditEntry::merge(parts))
}

fn print_changes(changes: &[Change], detailed: bool) {
    for c in changes {
        match c {
            Change::Added(r) => println!("+ {}  {}", c.key(), if detailed { summary(r) } else { String::new() }),
            Change::Removed(_) => println!("- {}", c.key()),
            Change::Modified { before, after } => {
                println!("~ {}", c.key());
                if detailed {
                    println!("    was: {}\n    now: {}", summary(before), summary(after));
                }
            }
        }
    }
}

/// One line describing a rule.
fn summary(r: &RouteRecord) -> String {
    match r {
        RouteRecord::Participant(p) => format!("{} ({}, {:?})", p.name, p.settlement_currency, p.status),
        RouteRecord::Corridor(c) => format!(
            "{}-{} rate {}{} spread {}bps max {} {}{}",
            c.source_currency,
            c.destination_currency,
            c.fx_rate.map(|r| r.to_string()).unwrap_or_default(),
            c.rate_source.as_deref().map(|s| format!("@{s}")).unwrap_or_default(),
            c.spread_bps,
            c.max_amount_minor,
            if c.enabled { "enabled" } else { "DISABLED" },
            if c.windows.is_empty() { String::new() } else { format!(" ({} window(s))", c.windows.len()) }
        ),
        RouteRecord::Identity(i) => format!("{} -> {}/{}", i.name, i.home.network, i.home.institution_id),
        RouteRecord::Rate(x) => format!("{}-{} {}", x.source_currency, x.destination_currency, x.rate),
        RouteRecord::QrScheme(q) => format!("-> {} (priority {})", q.network, q.priority),
        RouteRecord::AliasScheme(a) => format!("-> {}", a.network),
        RouteRecord::Network(n) => match n.response_deadline_seconds {
            Some(s) => format!("response deadline {s} s"),
            None => "switch default response deadline".to_string(),
        },
        RouteRecord::Block(b) => format!("blocked: {}", b.reason),
        RouteRecord::Settlement(x) => {
            let when = match x.every_minutes {
                Some(n) => format!("every {n} min"),
                None => x.cut_offs.join(", "),
            };
            let manual = match x.manual_cut_offs.len() {
                0 => String::new(),
                n => format!(", {n} operator cut-off(s)"),
            };
            format!("cycles at {when} ({}){manual}", x.time_zone)
        }
        RouteRecord::Cap(c) => {
            let major = |m: i64| interlink_routing::format_minor(m, &c.currency).unwrap_or_else(|_| m.to_string());
            format!(
                "net debit cap {} {} + prefunded {}",
                c.currency,
                major(c.net_debit_cap_minor),
                major(c.prefunded_minor)
            )
        }
        RouteRecord::Limit(l) => {
            let amount = interlink_routing::format_minor(l.max_amount_minor, &l.currency)
                .unwrap_or_else(|_| l.max_amount_minor.to_string());
            let period = match l.window_seconds {
                Some(window) => format!("the last {window} s"),
                None => format!("{:?} ({})", l.period, l.time_zone),
            };
            let count = l.max_payments.map(|n| format!(", at most {n} payments")).unwrap_or_default();
            format!("{} -> {}: {} {amount}{count} per person per {period}", l.from, l.to, l.currency)
        }
        RouteRecord::Anomaly(a) => {
            let floor = interlink_routing::format_minor(a.min_amount_minor, &a.currency)
                .unwrap_or_else(|_| a.min_amount_minor.to_string());
            let pattern = match a.pattern {
                AnomalyPattern::AmountAboveUsual => format!(
                    "amount above the debtor's usual + {} deviations (after {} payments, half-life {})",
                    a.deviations.unwrap_or_default(),
                    a.min_payments.unwrap_or_default(),
                    a.half_life_payments.unwrap_or_default()
                ),
                AnomalyPattern::NewCreditor => {
                    format!("a creditor not paid in {} days", a.retention_days.unwrap_or_default())
                }
                AnomalyPattern::ManyDebtors => format!(
                    "{} different debtors paying one creditor within {} s, the creditor new for {} days",
                    a.min_debtors.unwrap_or_default(),
                    a.window_seconds.unwrap_or_default(),
                    a.new_for_days.unwrap_or_default()
                ),
                AnomalyPattern::CreditorVelocity | AnomalyPattern::DeviceVelocity => {
                    let payments = a.max_payments.map(|n| format!("more than {n} payments"));
                    let amount = a.max_amount_minor.map(|m| {
                        let m = interlink_routing::format_minor(m, &a.currency).unwrap_or_else(|_| m.to_string());
                        format!("more than {} {m}", a.currency)
                    });
                    let over: Vec<String> = payments.into_iter().chain(amount).collect();
                    let party =
                        if a.pattern == AnomalyPattern::DeviceVelocity { "from one device" } else { "to one creditor" };
                    format!("{} {party} within {} s", over.join(" or "), a.window_seconds.unwrap_or_default())
                }
            };
            let action = match a.action {
                AnomalyAction::Refuse => "refuse",
                AnomalyAction::Alert => "alert",
                AnomalyAction::Hold => "hold for review",
            };
            format!("{} -> {}: {action} on {pattern}, above {} {floor}", a.from, a.to, a.currency)
        }
    }
}
