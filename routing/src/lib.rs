//! Routing: which institution in which network reaches which institution in another,
//! through which corridor, under which cap and FX rate.
//!
//! Pure code, no Kafka. Rules are [`RouteRecord`]s keyed by [`RouteKey`]; a
//! [`RoutingLog`] replays them in log order and compiles an immutable, versioned
//! [`RoutingTable`] at every change-set [`Marker`]. Workers share the table as an
//! `Arc` snapshot and swap it whole, so no request is routed with half a change.

mod anomaly;
mod audit;
mod audit_chain;
mod blocks;
mod change;
mod file;
mod limits;
mod log;
mod model;
mod settlement;
mod table;

pub use anomaly::{CompiledAnomaly, Watched};
pub use audit::{rules_at, AuditChange, AuditEntry, ChangeOp, ReplayError};
pub use audit_chain::{audit_record_hash, chain_parts, verify_chain, ChainBreak, ChainReport, CHAIN_START};
pub use change::{diff, Change};
/// A small routing table file used by the tests of this crate and the ones above it.
#[doc(hidden)]
pub use file::TEST_ROUTES_TOML;
pub use file::{export_routes_file, parse_routes_file, RoutesFileError};
pub use interlink_vocab::money::{convert, currency_exponent, format_minor, parse_major, MoneyError};
pub use limits::{CompiledLimit, PeriodSpan};
pub use log::{RoutingLog, RoutingLogError};
pub use model::{
    AliasScheme, Anomaly, AnomalyAction, AnomalyPattern, Block, BlockKind, BusinessDay, Corridor, FxRate, Identity,
    InstitutionRef, Limit, LimitPeriod, Marker, NetDebitCap, NetworkSettings, OperatingWindow, Participant,
    ParticipantStatus, QrScheme, RouteKey, RouteRecord, SettlementScheme, MARKER_KEY,
};
pub use settlement::{CompiledScheme, SWITCH_FX_ACCOUNT, SWITCH_NETWORK};
pub use table::{check_record, CompileError, CompiledCorridor, Rejection, Route, RoutingTable, RuleError};
