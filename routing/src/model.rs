//! The records of the `interlink.routes` log. Values are JSON: this is a low-volume
//! control topic that operators inspect with ordinary Kafka tools.

pub use crate::anomaly::{Anomaly, AnomalyAction, AnomalyPattern};
pub use crate::blocks::{Block, BlockKind};
pub use crate::limits::{Limit, LimitPeriod};
pub use crate::settlement::{BusinessDay, NetDebitCap, SettlementScheme};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Key of the change-set marker record.
pub const MARKER_KEY: &str = "__marker__";

/// A rule's identity in the compacted log: the latest value per key wins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKey {
    Participant { network: String, institution_id: String },
    Corridor { from: String, to: String, source_currency: String },
    Identity { id: String },
    Rate { name: String },
    QrScheme { guid: String },
    AliasScheme { scheme: String, prefix: String },
    Network { network: String },
    Limit { id: String },
    Anomaly { id: String },
    Block { kind: BlockKind, network: String, value: String },
    Settlement { currency: String },
    Cap { network: String, institution_id: String, currency: String },
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Participant { network, institution_id } => write!(f, "participant/{network}/{institution_id}"),
            Self::Corridor { from, to, source_currency } => write!(f, "corridor/{from}/{to}/{source_currency}"),
            Self::Identity { id } => write!(f, "identity/{id}"),
            Self::Rate { name } => write!(f, "rate/{name}"),
            Self::QrScheme { guid } => write!(f, "qr/{guid}"),
            Self::AliasScheme { scheme, prefix } => write!(f, "alias/{scheme}/{prefix}"),
            Self::Network { network } => write!(f, "network/{network}"),
            Self::Limit { id } => write!(f, "limit/{id}"),
            Self::Anomaly { id } => write!(f, "anomaly/{id}"),
            Self::Block { kind, network, value } => write!(f, "block/{kind}/{network}/{value}"),
            Self::Settlement { currency } => write!(f, "settlement/{currency}"),
            Self::Cap { network, institution_id, currency } => write!(f, "cap/{network}/{institution_id}/{currency}"),
        }
    }
}

impl std::str::FromStr for RouteKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &[&str]| p.iter().all(|x| !x.is_empty());
        let owned = |x: &str| x.to_string();
        match parts.as_slice() {
            ["participant", n, i] if ok(&[n, i]) => Ok(Self::Participant { network: owned(n), institution_id: owned(i) }),
            ["corridor", a, b, c] if ok(&[a, b, c]) => {
                Ok(Self::Corridor { from: owned(a), to: owned(b), source_currency: owned(c) })
            }
            ["identity", id] if ok(&[id]) => Ok(Self::Identity { id: owned(id) }),
            ["rate", name] if ok(&[name]) => Ok(Self::Rate { name: owned(name) }),
            ["qr", guid] if ok(&[guid]) => Ok(Self::QrScheme { guid: owned(guid) }),
            ["network", network] if ok(&[network]) => Ok(Self::Network { network: owned(network) }),
            ["limit", id] if ok(&[id]) => Ok(Self::Limit { id: owned(id) }),
            ["anomaly", id] if ok(&[id]) => Ok(Self::Anomaly { id: owned(id) }),
            ["settlement", currency] if ok(&[currency]) => Ok(Self::Settlement { currency: owned(currency) }),
            ["cap", n, i, c] if ok(&[n, i, c]) => {
                Ok(Self::Cap { network: owned(n), institution_id: owned(i), currency: owned(c) })
            }
            // A blocked value may itself contain '/'.
            ["block", kind, network, value @ ..] if ok(&[network]) && !value.is_empty() => Ok(Self::Block {
                kind: kind.parse().map_err(|e: crate::table::RuleError| e.to_string())?,
                network: owned(network),
                value: value.join("/"),
            }),
            // A prefix may be empty (the scheme's default network).
            ["alias", scheme, prefix] if !scheme.is_empty() => {
                Ok(Self::AliasScheme { scheme: owned(scheme), prefix: owned(prefix) })
            }
            _ => Err(format!(
                "{s:?} is not a route key (participant/NETWORK/ID, corridor/FROM/TO/CURRENCY, identity/ID, rate/NAME, qr/GUID, alias/SCHEME/PREFIX, network/NETWORK, limit/ID, anomaly/ID, block/KIND/NETWORK/VALUE, settlement/CURRENCY or cap/NETWORK/ID/CURRENCY)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    #[default]
    Active,
    Suspended,
}

/// An institution in one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub network: String,
    /// In the network's own scheme (CNAPS code, FPS clearing code, BIC, ...).
    pub institution_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default)]
    pub status: ParticipantStatus,
    pub settlement_currency: String,
    /// The participant whose settlement account its positions are netted into (an
    /// indirect participant's sponsor); itself when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles_through: Option<InstitutionRef>,
}

/// An institution id in some network, as a request may carry it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionRef {
    pub network: String,
    pub institution_id: String,
}

/// One institution known by several ids: requests that name any alias are routed to
/// the home participant (for example a Hong Kong bank's mainland CNAPS code routed
/// to its FPS clearing code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub id: String,
    pub name: String,
    /// The participant that receives payments addressed to any alias.
    pub home: InstitutionRef,
    #[serde(default)]
    pub aliases: Vec<InstitutionRef>,
}

/// A named FX rate that corridors can refer to, so one update reprices them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxRate {
    pub name: String,
    pub source_currency: String,
    pub destination_currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// When a corridor accepts payments: days and a time range in a fixed UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingWindow {
    /// Bit 0 is Monday ... bit 6 is Sunday.
    pub days: u8,
    /// Minutes after local midnight; a window with `from > to` runs past midnight.
    pub from_minute: u16,
    pub to_minute: u16,
    pub utc_offset_minutes: i16,
}

impl OperatingWindow {
    /// Whether `now_micros` (UTC) falls inside the window.
    pub fn contains(&self, now_micros: i64) -> bool {
        let local_minutes = now_micros.div_euclid(60_000_000) + i64::from(self.utc_offset_minutes);
        let day = local_minutes.div_euclid(1_440);
        let minute = local_minutes.rem_euclid(1_440) as u16;
        // 1970-01-01 was a Thursday: Monday-based index 3.
        let weekday = (day + 3).rem_euclid(7) as u8;
        if self.from_minute <= self.to_minute {
            self.days & (1 << weekday) != 0 && (self.from_minute..self.to_minute).contains(&minute)
        } else if minute >= self.from_minute {
            self.days & (1 << weekday) != 0
        } else {
            // After midnight: the window belongs to the previous local day.
            let previous = (weekday + 6) % 7;
            self.days & (1 << previous) != 0 && minute < self.to_minute
        }
    }
}

/// A one-way path from one network to another for one source currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corridor {
    pub from: String,
    pub to: String,
    pub enabled: bool,
    /// The currency the debtor pays in.
    pub source_currency: String,
    /// The currency the creditor receives.
    pub destination_currency: String,
    /// Destination units per source unit before the spread; `None` when `rate_source`
    /// names an [`FxRate`].
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    pub fx_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_source: Option<String>,
    /// The switch's margin, taken off the rate: effective = rate × (1 − bps / 10,000).
    #[serde(default)]
    pub spread_bps: u32,
    /// Per-transaction maximum in the source currency's minor units.
    pub max_amount_minor: i64,
    /// Empty: always open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<OperatingWindow>,
}

impl Corridor {
    pub fn id(&self) -> String {
        format!("{}>{}:{}-{}", self.from, self.to, self.source_currency, self.destination_currency)
    }
}

/// QR gateway: which network a merchant-account GUID belongs to. When a code carries
/// several known GUIDs, the lowest `priority` wins (ties: the lower template tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrScheme {
    pub guid: String,
    pub network: String,
    #[serde(default)]
    pub priority: u32,
    /// The participant that acquires payments to codes with this GUID, used when the
    /// code itself names no participant (QRIS codes reach merchants through an acquirer
    /// or a domestic switch; FPS codes carry the clearing code themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_id: Option<String>,
}

/// Alias (proxy) routing: which network resolves aliases of a scheme (MOBILE, EMAIL,
/// TAX_ID, ...) whose value starts with `prefix` (longest prefix wins; "" is the
/// scheme's default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasScheme {
    pub scheme: String,
    pub prefix: String,
    pub network: String,
}

/// What the switch holds of one connected network as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSettings {
    pub network: String,
    /// How long the network has to send a payment's final status before the switch
    /// refuses it to both sides (AB05): its scheme's timeout, or the operator's choice.
    /// Without it the switch's `networks.response_deadline_seconds` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_deadline_seconds: Option<u32>,
}

/// Closes a change set: every rule since the previous marker becomes visible at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// Strictly increasing table version.
    pub version: i64,
    pub operator: String,
    pub reason: String,
    /// Microseconds since the Unix epoch.
    pub applied_at: i64,
    /// Number of rule records (upserts and deletions) in this change set.
    pub changes: u64,
    /// The principal the brokers authenticated for the change (its SASL user), when
    /// the tool connected with credentials; `operator` is what the person typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Hash of the last audit record written with this change set: the anchor of the
    /// audit trail's hash chain (see `audit_chain`). Absent before chaining began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
}

/// A value in the routes log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteRecord {
    Participant(Participant),
    Corridor(Corridor),
    Identity(Identity),
    Rate(FxRate),
    QrScheme(QrScheme),
    AliasScheme(AliasScheme),
    Network(NetworkSettings),
    Limit(Limit),
    Anomaly(Anomaly),
    Block(Block),
    Settlement(SettlementScheme),
    Cap(NetDebitCap),
}

impl RouteRecord {
    pub fn key(&self) -> RouteKey {
        match self {
            Self::Participant(p) => {
                RouteKey::Participant { network: p.network.clone(), institution_id: p.institution_id.clone() }
            }
            Self::Corridor(c) => RouteKey::Corridor {
                from: c.from.clone(),
                to: c.to.clone(),
                source_currency: c.source_currency.clone(),
            },
            Self::Identity(i) => RouteKey::Identity { id: i.id.clone() },
            Self::Rate(r) => RouteKey::Rate { name: r.name.clone() },
            Self::QrScheme(q) => RouteKey::QrScheme { guid: q.guid.clone() },
            Self::AliasScheme(a) => RouteKey::AliasScheme { scheme: a.scheme.clone(), prefix: a.prefix.clone() },
            Self::Network(n) => RouteKey::Network { network: n.network.clone() },
            Self::Limit(l) => RouteKey::Limit { id: l.id.clone() },
            Self::Anomaly(a) => RouteKey::Anomaly { id: a.id.clone() },
            Self::Block(b) => RouteKey::Block { kind: b.target, network: b.network.clone(), value: b.value.clone() },
            Self::Settlement(s) => RouteKey::Settlement { currency: s.currency.clone() },
            Self::Cap(c) => RouteKey::Cap {
                network: c.network.clone(),
                institution_id: c.institution_id.clone(),
                currency: c.currency.clone(),
            },
        }
    }

    /// The networks this rule concerns (for `interlinkctl routes list --network`).
    pub fn networks(&self) -> Vec<&str> {
        match self {
            Self::Participant(p) => vec![&p.network],
            Self::Corridor(c) => vec![&c.from, &c.to],
            Self::Identity(i) => std::iter::once(&i.home).chain(&i.aliases).map(|r| r.network.as_str()).collect(),
            Self::Rate(_) => vec![],
            Self::QrScheme(q) => vec![&q.network],
            Self::AliasScheme(a) => vec![&a.network],
            Self::Network(n) => vec![&n.network],
            Self::Limit(l) => vec![&l.from, &l.to],
            Self::Anomaly(a) => vec![&a.from, &a.to],
            Self::Block(b) => vec![&b.network],
            Self::Settlement(s) => s.fx_participant.iter().map(|p| p.network.as_str()).collect(),
            Self::Cap(c) => vec![&c.network],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text() {
        for k in [
            RouteKey::Participant { network: "CN_IBPS".into(), institution_id: "102100099996".into() },
            RouteKey::Corridor { from: "CN_IBPS".into(), to: "HK_FPS".into(), source_currency: "CNY".into() },
            RouteKey::Identity { id: "icbc-asia".into() },
            RouteKey::Rate { name: "cny-hkd".into() },
            RouteKey::QrScheme { guid: "ID.CO.QRIS.WWW".into() },
            RouteKey::AliasScheme { scheme: "MOBILE".into(), prefix: "+852".into() },
            RouteKey::AliasScheme { scheme: "EMAIL".into(), prefix: "".into() },
            RouteKey::Limit { id: "payment-connect-north-daily".into() },
            RouteKey::Anomaly { id: "big-payment-north".into() },
            RouteKey::Block { kind: BlockKind::Account, network: "BR_PIX".into(), value: "0001/12345-6".into() },
            RouteKey::Settlement { currency: "HKD".into() },
            RouteKey::Cap { network: "HK_FPS".into(), institution_id: "004".into(), currency: "HKD".into() },
        ] {
            assert_eq!(k.to_string().parse::<RouteKey>().unwrap(), k);
        }
        assert!("participant/CN_IBPS".parse::<RouteKey>().is_err());
        assert!("corridor//HK/CNY".parse::<RouteKey>().is_err());
    }

    #[test]
    fn record_json_is_tagged_and_strict() {
        let json = r#"{"kind":"participant","network":"HK_FPS","institution_id":"004","name":"HSBC","settlement_currency":"HKD"}"#;
        let r: RouteRecord = serde_json::from_str(json).unwrap();
        assert_eq!(r.key().to_string(), "participant/HK_FPS/004");
        let bad = r#"{"kind":"participant","network":"HK_FPS","institution_id":"004","name":"HSBC","settlement_currency":"HKD","colour":"red"}"#;
        assert!(serde_json::from_str::<RouteRecord>(bad).is_err());
    }

    fn window(days: u8, from: u16, to: u16, offset: i16) -> OperatingWindow {
        OperatingWindow { days, from_minute: from, to_minute: to, utc_offset_minutes: offset }
    }

    /// 2026-11-30 is a Monday.
    fn at(day_offset: i64, hh: i64, mm: i64) -> i64 {
        let monday_utc_days = 20_787; // days from 1970-01-01 to 2026-11-30
        ((monday_utc_days + day_offset) * 1_440 + hh * 60 + mm) * 60_000_000
    }

    #[test]
    fn windows_follow_local_days_and_times() {
        let weekdays_8_to_22_hk = window(0b001_1111, 8 * 60, 22 * 60, 8 * 60);
        // Monday 00:30 UTC is Monday 08:30 in Hong Kong.
        assert!(weekdays_8_to_22_hk.contains(at(0, 0, 30)));
        // Monday 14:30 UTC is 22:30 HKT: closed.
        assert!(!weekdays_8_to_22_hk.contains(at(0, 14, 30)));
        // Saturday 02:00 UTC is Saturday 10:00 HKT: closed at weekends.
        assert!(!weekdays_8_to_22_hk.contains(at(5, 2, 0)));
        // Overnight window Friday 22:00 to 02:00 (UTC).
        let overnight = window(1 << 4, 22 * 60, 2 * 60, 0);
        assert!(overnight.contains(at(4, 23, 0)));
        assert!(overnight.contains(at(5, 1, 0)), "Saturday 01:00 belongs to Friday's window");
        assert!(!overnight.contains(at(5, 23, 0)));
    }
}
