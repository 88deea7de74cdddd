//! The compiled, immutable routing table and route resolution.

use super::model::{
    AliasScheme, Corridor, FxRate, Identity, InstitutionRef, Limit, Participant, ParticipantStatus, QrScheme, RouteKey,
    RouteRecord,
};
use crate::anomaly::{Anomaly, CompiledAnomaly};
use crate::blocks::{Block, BlockKind};
use crate::limits::CompiledLimit;
use crate::settlement::{CompiledScheme, NetDebitCap};
use compact_str::CompactString;
use interlink_connectors::IdSchemeError;
use interlink_schemas::{Agent, Amount};
use interlink_vocab::money::{convert, currency_exponent, MoneyError};
use interlink_vocab::IsoReason;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Why a set of rules does not compile into a table. Lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid rule(s): {}", .problems.len(), .problems.join("; "))]
pub struct CompileError {
    pub problems: Vec<String>,
}

/// Why a request cannot be routed, with its ISO 20022 status reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("debtor agent {0} is not a participant")]
    UnknownDebtorAgent(String),
    #[error("creditor agent {0} is not a participant")]
    UnknownCreditorAgent(String),
    #[error("participant {0} is suspended")]
    ParticipantSuspended(String),
    #[error("no corridor from {from} to {to}")]
    NoCorridor { from: String, to: String },
    #[error("corridor {0} is closed")]
    CorridorClosed(String),
    #[error("corridor {0} is outside its operating window")]
    OutsideOperatingWindow(String),
    #[error("corridor from {from} to {to} does not carry {currency}")]
    CurrencyNotCarried { from: String, to: String, currency: String },
    #[error("amount {amount} exceeds the corridor maximum {max} (minor units)")]
    AboveMaximum { amount: i64, max: i64 },
    #[error("credit {amount} exceeds {network}'s per-transaction limit {max} (minor units)")]
    AboveNetworkLimit { network: String, amount: i64, max: i64 },
    #[error("amount cannot be converted: {0}")]
    Conversion(String),
    #[error("amount {amount} {currency} converts to nothing in {destination}")]
    ConvertsToNothing { amount: i64, currency: String, destination: String },
}

impl Rejection {
    /// ISO 20022 ExternalStatusReason1Code.
    pub fn reason(&self) -> IsoReason {
        match self {
            Self::UnknownDebtorAgent(_) | Self::UnknownCreditorAgent(_) => IsoReason::RC01,
            Self::ParticipantSuspended(_) | Self::NoCorridor { .. } | Self::CorridorClosed(_) => IsoReason::AG01,
            Self::OutsideOperatingWindow(_) => IsoReason::TM01,
            Self::CurrencyNotCarried { .. } => IsoReason::AM03,
            Self::AboveMaximum { .. } | Self::AboveNetworkLimit { .. } | Self::Conversion(_) => IsoReason::AM02,
            Self::ConvertsToNothing { .. } => IsoReason::AM12,
        }
    }
}

/// A corridor with what every routed request needs precomputed.
#[derive(Debug, Clone)]
pub struct CompiledCorridor {
    pub rule: Corridor,
    pub id: Arc<str>,
    /// Identifies the rate used: corridor, rate source and table version.
    pub quote_id: Arc<str>,
    /// Rate after the spread.
    pub effective_rate: Decimal,
    pub fx_rate_text: Arc<str>,
    /// The debit limit: the lower of the corridor's maximum and the source network's
    /// per-transaction limit (when the corridor debits in that network's currency).
    pub max_debit_minor: i64,
    /// The destination network's per-transaction limit, when the corridor credits in
    /// that network's currency.
    pub max_credit_minor: Option<i64>,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy)]
pub struct Route<'t> {
    pub debtor: &'t Participant,
    pub creditor: &'t Participant,
    pub corridor: &'t CompiledCorridor,
    /// What the creditor receives, in the corridor's destination currency.
    pub credit_minor_units: i64,
}

/// An immutable routing table at one version. Lookups never allocate.
#[derive(Debug, Default)]
pub struct RoutingTable {
    version: i64,
    // Fx hashing: keys are short ids chosen by operators, not by the public, and the
    // lookups are the switch's hot path.
    /// network -> institution id -> index into `participant_list`. Ids are kept inline
    /// (no heap pointer to chase) and the map holds only small entries, so a lookup
    /// in a table of a million participants touches few cache lines.
    participants: FxHashMap<String, FxHashMap<CompactString, u32>>,
    participant_list: Vec<Participant>,
    /// network -> alias institution id -> home participant
    identity_aliases: FxHashMap<String, FxHashMap<String, InstitutionRef>>,
    /// from -> to -> source currency -> corridor
    corridors: FxHashMap<String, FxHashMap<String, FxHashMap<String, CompiledCorridor>>>,
    qr_schemes: HashMap<String, QrScheme>,
    /// scheme -> entries, longest prefix first
    alias_schemes: HashMap<String, Vec<AliasScheme>>,
    /// network -> its response deadline, where the table sets one
    response_deadlines: HashMap<String, std::time::Duration>,
    /// from -> to -> the per-person limits of payments between the two networks
    limits: FxHashMap<String, FxHashMap<String, Vec<CompiledLimit>>>,
    /// from -> to -> the per-debtor anomaly rules of payments between the two networks
    anomalies: FxHashMap<String, FxHashMap<String, Vec<CompiledAnomaly>>>,
    /// (source, destination) currency -> the named rate, for converting to a limit's currency
    fx_rates: HashMap<(String, String), Decimal>,
    /// By kind (its index in `BlockKind::ALL`): network -> value -> the block
    blocks: [FxHashMap<String, FxHashMap<String, Block>>; 4],
    /// currency -> how it is settled
    settlement: FxHashMap<String, CompiledScheme>,
    /// network -> institution id -> the participant's net debit caps (one per currency)
    caps: FxHashMap<String, FxHashMap<String, Vec<NetDebitCap>>>,
    rule_count: usize,
}

impl RoutingTable {
    /// The table before any change set: routes nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    pub fn participant(&self, network: &str, institution_id: &str) -> Option<&Participant> {
        let index = *self.participants.get(network)?.get(institution_id)?;
        self.participant_list.get(index as usize)
    }

    /// A participant by any of its ids: its own, or an alias of a cross-network identity.
    pub fn find_participant(&self, network: &str, institution_id: &str) -> Option<&Participant> {
        self.participant(network, institution_id).or_else(|| {
            let home = self.identity_aliases.get(network)?.get(institution_id)?;
            self.participant(&home.network, &home.institution_id)
        })
    }

    /// The network of the first known merchant-account GUID of a QR code, by the
    /// lowest priority, then the lowest template tag.
    pub fn qr_network<'a>(&self, guids: impl IntoIterator<Item = (u8, &'a str)>) -> Option<&QrScheme> {
        guids
            .into_iter()
            .filter_map(|(tag, guid)| self.qr_schemes.get(guid).map(|s| (s.priority, tag, s)))
            .min_by_key(|(priority, tag, _)| (*priority, *tag))
            .map(|(_, _, s)| s)
    }

    /// The network that resolves an alias: longest matching prefix of its scheme.
    pub fn alias_network(&self, scheme: &str, value: &str) -> Option<&AliasScheme> {
        self.alias_schemes.get(scheme)?.iter().find(|a| value.starts_with(&a.prefix))
    }

    /// How long `network` has to send a payment's final status, where the table says.
    pub fn response_deadline(&self, network: &str) -> Option<std::time::Duration> {
        self.response_deadlines.get(network).copied()
    }

    /// The block on `value` of `kind` in `network`, if any.
    pub fn blocked(&self, kind: BlockKind, network: &str, value: &str) -> Option<&Block> {
        self.blocks[kind as usize].get(network)?.get(value)
    }

    /// How `currency` is settled, if a scheme nets it.
    pub fn settlement_scheme(&self, currency: &str) -> Option<&CompiledScheme> {
        self.settlement.get(currency)
    }

    /// The institution whose settlement account `network`/`institution_id`'s positions
    /// are netted into, as (network, institution id): its sponsor (`settles_through`),
    /// else itself (an unknown one too). Borrowed: counting a payment allocates nothing.
    pub fn settlement_institution<'a>(&'a self, network: &'a str, institution_id: &'a str) -> (&'a str, &'a str) {
        match self.find_participant(network, institution_id) {
            Some(Participant { settles_through: Some(sponsor), .. }) => (&sponsor.network, &sponsor.institution_id),
            Some(p) => (&p.network, &p.institution_id),
            None => (network, institution_id),
        }
    }

    /// Whether any participant has a net debit cap (most payments need not look).
    pub fn has_net_debit_caps(&self) -> bool {
        !self.caps.is_empty()
    }

    /// The net debit cap of a participant in `currency`, if it has one.
    pub fn net_debit_cap(&self, network: &str, institution_id: &str, currency: &str) -> Option<&NetDebitCap> {
        self.caps.get(network)?.get(institution_id)?.iter().find(|c| c.currency == currency)
    }

    /// Every settlement scheme, by currency.
    pub fn settlement_schemes(&self) -> impl Iterator<Item = &CompiledScheme> {
        self.settlement.values()
    }

    /// The per-person limits on payments from `from` to `to` (networks).
    pub fn limits(&self, from: &str, to: &str) -> &[CompiledLimit] {
        self.limits.get(from).and_then(|m| m.get(to)).map_or(&[], Vec::as_slice)
    }

    /// The per-debtor anomaly rules on payments from `from` to `to` (networks).
    pub fn anomalies(&self, from: &str, to: &str) -> &[CompiledAnomaly] {
        self.anomalies.get(from).and_then(|m| m.get(to)).map_or(&[], Vec::as_slice)
    }

    /// What a routed payment counts for against `limit`, in the limit's currency: its
    /// debit or its credit when the limit is in either leg's currency, else its debit
    /// converted at the table's named rate (or the inverse of the reverse rate).
    pub fn limit_amount(&self, limit: &CompiledLimit, route: &Route<'_>, debit_minor: i64) -> Result<i64, Rejection> {
        self.amount_in(&limit.rule.currency, "limit", &limit.rule.id, route, debit_minor)
    }

    /// What an anomaly rule sees of a routed payment, in the rule's currency, converted
    /// as for limits.
    pub fn anomaly_amount(
        &self,
        anomaly: &CompiledAnomaly,
        route: &Route<'_>,
        debit_minor: i64,
    ) -> Result<i64, Rejection> {
        self.amount_in(&anomaly.rule.currency, "anomaly rule", &anomaly.rule.id, route, debit_minor)
    }

    fn amount_in(
        &self,
        currency: &str,
        kind: &str,
        id: &str,
        route: &Route<'_>,
        debit_minor: i64,
    ) -> Result<i64, Rejection> {
        let rule = &route.corridor.rule;
        if *currency == rule.source_currency {
            return Ok(debit_minor);
        }
        if *currency == rule.destination_currency {
            return Ok(route.credit_minor_units);
        }
        let pair = |a: &str, b: &str| self.fx_rates.get(&(a.to_string(), b.to_string())).copied();
        let rate = pair(&rule.source_currency, currency)
            .or_else(|| pair(currency, &rule.source_currency).filter(|r| !r.is_zero()).map(|r| Decimal::ONE / r))
            .ok_or_else(|| {
                Rejection::Conversion(format!("no rate from {} to {currency} for {kind} {id}", rule.source_currency))
            })?;
        convert(debit_minor, &rule.source_currency, currency, rate).map_err(|e| Rejection::Conversion(e.to_string()))
    }

    /// Validates every rule and builds the table; reports every problem at once.
    pub fn compile<'a>(version: i64, records: impl IntoIterator<Item = &'a RouteRecord>) -> Result<Self, CompileError> {
        let mut table = RoutingTable { version, ..Default::default() };
        let mut problems = Vec::new();
        let mut rates: HashMap<&str, &FxRate> = HashMap::new();
        let mut identities: Vec<&Identity> = Vec::new();
        let mut corridors: Vec<&Corridor> = Vec::new();
        let mut limits: Vec<&Limit> = Vec::new();
        let mut anomalies: Vec<&Anomaly> = Vec::new();
        for record in records {
            table.rule_count += 1;
            if let Err(e) = check_record(record) {
                problems.push(format!("{}: {e}", record.key()));
                continue;
            }
            match record {
                RouteRecord::Participant(p) => {
                    let index = table.participant_list.len() as u32;
                    let previous = table
                        .participants
                        .entry(p.network.clone())
                        .or_default()
                        .insert(CompactString::from(p.institution_id.as_str()), index);
                    table.participant_list.push(p.clone());
                    if previous.is_some() {
                        problems.push(format!("participant/{}/{}: defined twice", p.network, p.institution_id));
                    }
                }
                RouteRecord::Corridor(c) => corridors.push(c),
                RouteRecord::Identity(i) => identities.push(i),
                RouteRecord::Rate(r) => {
                    rates.insert(&r.name, r);
                }
                RouteRecord::QrScheme(q) => {
                    table.qr_schemes.insert(q.guid.clone(), q.clone());
                }
                RouteRecord::AliasScheme(a) => table.alias_schemes.entry(a.scheme.clone()).or_default().push(a.clone()),
                RouteRecord::Limit(l) => limits.push(l),
                RouteRecord::Anomaly(a) => anomalies.push(a),
                RouteRecord::Settlement(scheme) => match CompiledScheme::compile(scheme) {
                    Ok(compiled) => {
                        table.settlement.insert(scheme.currency.clone(), compiled);
                    }
                    Err(e) => problems.push(format!("settlement/{}: {e}", scheme.currency)),
                },
                RouteRecord::Cap(c) => {
                    let by_id = table.caps.entry(c.network.clone()).or_default();
                    by_id.entry(c.institution_id.clone()).or_default().push(c.clone());
                }
                RouteRecord::Block(b) => {
                    let by_value = table.blocks[b.target as usize].entry(b.network.clone()).or_default();
                    by_value.insert(b.value.clone(), b.clone());
                }
                RouteRecord::Network(n) => {
                    if let Some(seconds) = n.response_deadline_seconds {
                        let deadline = std::time::Duration::from_secs(u64::from(seconds));
                        table.response_deadlines.insert(n.network.clone(), deadline);
                    }
                }
            }
        }
        for list in table.alias_schemes.values_mut() {
            list.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()).then_with(|| a.prefix.cmp(&b.prefix)));
        }
        table.compile_identities(&identities, &mut problems);
        for q in table.qr_schemes.values() {
            if let Some(id) = &q.institution_id {
                if table.find_participant(&q.network, id).is_none() {
                    problems.push(format!("qr/{}: acquirer {}/{id} is not a participant", q.guid, q.network));
                }
            }
        }
        for c in corridors {
            table.compile_corridor(c, &rates, &mut problems);
        }
        table.fx_rates =
            rates.values().map(|r| ((r.source_currency.clone(), r.destination_currency.clone()), r.rate)).collect();
        table.compile_limits(&limits, &mut problems);
        table.compile_anomalies(&anomalies, &mut problems);
        for p in &table.participant_list {
            let Some(sponsor) = &p.settles_through else { continue };
            let key = format!("participant/{}/{}", p.network, p.institution_id);
            match table.participant(&sponsor.network, &sponsor.institution_id) {
                None => problems.push(format!(
                    "{key}: settles through {}/{}, which is not a participant",
                    sponsor.network, sponsor.institution_id
                )),
                // One level: a sponsor settles for itself.
                Some(s) if s.settles_through.is_some() => problems.push(format!(
                    "{key}: settles through {}/{}, which itself settles through another",
                    sponsor.network, sponsor.institution_id
                )),
                Some(_) => {}
            }
        }
        for c in table.caps.values().flat_map(|m| m.values()).flatten() {
            let key = format!("cap/{}/{}/{}", c.network, c.institution_id, c.currency);
            if table.participant(&c.network, &c.institution_id).is_none() {
                problems.push(format!("{key}: {}/{} is not a participant", c.network, c.institution_id));
            }
            // Headroom comes back when a cycle closes: without cycles it never would.
            if !table.settlement.contains_key(&c.currency) {
                problems.push(format!("{key}: no settlement scheme nets {}; a cap needs its cycles", c.currency));
            }
        }
        for scheme in table.settlement.values() {
            if let Some(fx) = &scheme.rule.fx_participant {
                if table.participant(&fx.network, &fx.institution_id).is_none() {
                    problems.push(format!(
                        "settlement/{}: fx_participant {}/{} is not a participant",
                        scheme.rule.currency, fx.network, fx.institution_id
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(CompileError { problems })
        }
    }

    fn compile_limits(&mut self, limits: &[&Limit], problems: &mut Vec<String>) {
        for l in limits {
            let compiled = match CompiledLimit::compile(l) {
                Ok(c) => c,
                Err(e) => return problems.push(format!("limit/{}: {e}", l.id)),
            };
            self.check_convertible(&format!("limit/{}", l.id), &l.from, &l.to, &l.currency, problems);
            self.limits.entry(l.from.clone()).or_default().entry(l.to.clone()).or_default().push(compiled);
        }
    }

    fn compile_anomalies(&mut self, anomalies: &[&Anomaly], problems: &mut Vec<String>) {
        for a in anomalies {
            let compiled = match CompiledAnomaly::compile(a) {
                Ok(c) => c,
                Err(e) => return problems.push(format!("anomaly/{}: {e}", a.id)),
            };
            self.check_convertible(&format!("anomaly/{}", a.id), &a.from, &a.to, &a.currency, problems);
            self.anomalies.entry(a.from.clone()).or_default().entry(a.to.clone()).or_default().push(compiled);
        }
    }

    /// Every corridor from `from` to `to` must be able to count in `currency`.
    fn check_convertible(&self, key: &str, from: &str, to: &str, currency: &str, problems: &mut Vec<String>) {
        let covered = self.corridors.get(from).and_then(|m| m.get(to)).into_iter().flat_map(|m| m.values());
        for c in covered {
            let (source, destination) = (&c.rule.source_currency, &c.rule.destination_currency);
            let convertible = currency == source
                || currency == destination
                || self.fx_rates.contains_key(&(source.clone(), currency.to_string()))
                || self.fx_rates.contains_key(&(currency.to_string(), source.clone()));
            if !convertible {
                problems.push(format!(
                    "{key}: corridor {} pays in {source}; define a rate between {source} and {currency} to count it",
                    c.id
                ));
            }
        }
    }

    fn compile_identities(&mut self, identities: &[&Identity], problems: &mut Vec<String>) {
        let mut claimed: HashSet<(&str, &str)> = HashSet::new();
        for i in identities {
            let key = format!("identity/{}", i.id);
            if self.participant(&i.home.network, &i.home.institution_id).is_none() {
                problems.push(format!("{key}: home {}/{} is not a participant", i.home.network, i.home.institution_id));
                continue;
            }
            for a in &i.aliases {
                if self.participant(&a.network, &a.institution_id).is_some() {
                    problems.push(format!(
                        "{key}: alias {}/{} is itself a participant, which would make it ambiguous",
                        a.network, a.institution_id
                    ));
                } else if !claimed.insert((&a.network, &a.institution_id)) {
                    problems.push(format!(
                        "{key}: alias {}/{} belongs to another identity too",
                        a.network, a.institution_id
                    ));
                } else {
                    self.identity_aliases
                        .entry(a.network.clone())
                        .or_default()
                        .insert(a.institution_id.clone(), i.home.clone());
                }
            }
        }
    }

    fn compile_corridor(&mut self, c: &Corridor, rates: &HashMap<&str, &FxRate>, problems: &mut Vec<String>) {
        let key = format!("corridor/{}/{}/{}", c.from, c.to, c.source_currency);
        let (base_rate, source_name) = match (&c.fx_rate, &c.rate_source) {
            (Some(rate), None) => (*rate, None),
            (None, Some(name)) => match rates.get(name.as_str()) {
                Some(r)
                    if r.source_currency == c.source_currency && r.destination_currency == c.destination_currency =>
                {
                    (r.rate, Some(name.as_str()))
                }
                Some(r) => {
                    return problems.push(format!(
                        "{key}: rate {name} converts {} to {}, not {} to {}",
                        r.source_currency, r.destination_currency, c.source_currency, c.destination_currency
                    ))
                }
                None => return problems.push(format!("{key}: rate source {name:?} is not defined")),
            },
            _ => return problems.push(format!("{key}: set exactly one of fx_rate and rate_source")),
        };
        let effective_rate = base_rate * (Decimal::ONE - Decimal::new(i64::from(c.spread_bps), 4));
        if c.source_currency == c.destination_currency && effective_rate != Decimal::ONE {
            return problems
                .push(format!("{key}: the rate must be 1 (and no spread) when both currencies are the same"));
        }
        let id: Arc<str> = c.id().into();
        let quote_id = match source_name {
            Some(name) => format!("{id}@{name}@v{}", self.version),
            None => format!("{id}@v{}", self.version),
        };
        let by_currency = self.corridors.entry(c.from.clone()).or_default().entry(c.to.clone()).or_default();
        if by_currency.contains_key(&c.source_currency) {
            return problems.push(format!("{key}: overlaps another corridor for the same currency"));
        }
        let network_limit = |network: &str, currency: &str| {
            let connector = interlink_connectors::connector(network)?;
            (connector.profile().currency == currency).then(|| connector.amount_limit()).flatten()
        };
        let max_debit_minor = network_limit(&c.from, &c.source_currency)
            .map_or(c.max_amount_minor, |l| l.max_minor_units.min(c.max_amount_minor));
        let max_credit_minor = network_limit(&c.to, &c.destination_currency).map(|l| l.max_minor_units);
        let compiled = CompiledCorridor {
            max_debit_minor,
            max_credit_minor,
            quote_id: quote_id.into(),
            fx_rate_text: effective_rate.normalize().to_string().into(),
            effective_rate,
            id,
            rule: c.clone(),
        };
        by_currency.insert(c.source_currency.clone(), compiled);
    }

    /// Resolves a request's route at time `now_micros`. Precedence of checks, first
    /// failure wins (see docs/routing.md): debtor known (directly or through an
    /// identity alias), debtor active, creditor known, creditor active, a corridor
    /// between the two networks, one carrying the currency, enabled, open now, and the
    /// amount within its maximum.
    pub fn resolve(
        &self,
        debtor: &Agent,
        creditor: &Agent,
        amount: &Amount,
        now_micros: i64,
    ) -> Result<Route<'_>, Rejection> {
        let debtor_p = self
            .find_participant(&debtor.network, &debtor.institution_id)
            .ok_or_else(|| Rejection::UnknownDebtorAgent(debtor.to_string()))?;
        if debtor_p.status == ParticipantStatus::Suspended {
            return Err(Rejection::ParticipantSuspended(debtor.to_string()));
        }
        let creditor_p = self
            .find_participant(&creditor.network, &creditor.institution_id)
            .ok_or_else(|| Rejection::UnknownCreditorAgent(creditor.to_string()))?;
        if creditor_p.status == ParticipantStatus::Suspended {
            return Err(Rejection::ParticipantSuspended(creditor.to_string()));
        }
        let (from, to) = (&debtor_p.network, &creditor_p.network);
        let candidates = self
            .corridors
            .get(from)
            .and_then(|m| m.get(to))
            .filter(|l| !l.is_empty())
            .ok_or_else(|| Rejection::NoCorridor { from: from.clone(), to: to.clone() })?;
        let corridor = candidates.get(&amount.currency).ok_or_else(|| Rejection::CurrencyNotCarried {
            from: from.clone(),
            to: to.clone(),
            currency: amount.currency.clone(),
        })?;
        let rule = &corridor.rule;
        if !rule.enabled {
            return Err(Rejection::CorridorClosed(corridor.id.to_string()));
        }
        if !rule.windows.is_empty() && !rule.windows.iter().any(|w| w.contains(now_micros)) {
            return Err(Rejection::OutsideOperatingWindow(corridor.id.to_string()));
        }
        if amount.minor_units > corridor.max_debit_minor {
            return Err(Rejection::AboveMaximum { amount: amount.minor_units, max: corridor.max_debit_minor });
        }
        let credit =
            convert(amount.minor_units, &rule.source_currency, &rule.destination_currency, corridor.effective_rate)
                .map_err(|e| Rejection::Conversion(e.to_string()))?;
        if credit <= 0 {
            return Err(Rejection::ConvertsToNothing {
                amount: amount.minor_units,
                currency: amount.currency.clone(),
                destination: rule.destination_currency.clone(),
            });
        }
        if let Some(max) = corridor.max_credit_minor.filter(|max| credit > *max) {
            return Err(Rejection::AboveNetworkLimit { network: rule.to.clone(), amount: credit, max });
        }
        Ok(Route { debtor: debtor_p, creditor: creditor_p, corridor, credit_minor_units: credit })
    }
}

/// Why one routing rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unknown network {0:?}")]
    UnknownNetwork(String),
    #[error(transparent)]
    InstitutionId(#[from] IdSchemeError),
    #[error("{field}: {source}")]
    Money { field: &'static str, source: MoneyError },
    #[error("{field} {problem}")]
    Invalid { field: &'static str, problem: String },
    #[error("window {text:?}: {problem} (expected like \"mon-fri 08:00-22:00 +08:00\")")]
    Window { text: String, problem: &'static str },
}

/// A record travels through the routes log under its key (`rate/NAME`, ...): a name
/// the key cannot carry (a '/', an empty part) would be refused by every reader of the
/// log, so the file is refused first. Found by fuzzing the routing file.
fn check_key(record: &RouteRecord) -> Result<(), RuleError> {
    let key = record.key();
    let text = key.to_string();
    match text.parse::<RouteKey>() {
        Ok(read) if read == key => Ok(()),
        _ => Err(invalid(
            "key",
            format!(
                "{text:?} cannot be read back as this record's key: names and ids must not be empty or contain '/'"
            ),
        )),
    }
}

pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> RuleError {
    RuleError::Invalid { field, problem: problem.into() }
}

fn currency(field: &'static str, code: &str) -> Result<u32, RuleError> {
    currency_exponent(code).map_err(|source| RuleError::Money { field, source })
}

/// Checks one rule on its own: known networks, ids in their network's scheme, ISO
/// currencies, positive rates and caps.
pub fn check_record(record: &RouteRecord) -> Result<(), RuleError> {
    check_key(record)?;
    match record {
        RouteRecord::Participant(p) => check_participant(p),
        RouteRecord::Corridor(c) => check_corridor(c),
        RouteRecord::Identity(i) => {
            if i.aliases.is_empty() {
                return Err(invalid("aliases", "must name at least one alias of the identity"));
            }
            std::iter::once(&i.home).chain(&i.aliases).try_for_each(check_institution)
        }
        RouteRecord::Rate(r) => {
            currency("source_currency", &r.source_currency)?;
            currency("destination_currency", &r.destination_currency)?;
            if r.rate <= Decimal::ZERO {
                return Err(invalid("rate", format!("must be greater than zero, got {}", r.rate)));
            }
            Ok(())
        }
        RouteRecord::QrScheme(q) => {
            if q.guid.trim().is_empty() || q.guid.chars().count() > 32 {
                return Err(invalid("guid", "must have 1 to 32 characters"));
            }
            match &q.institution_id {
                Some(id) => {
                    check_institution(&InstitutionRef { network: q.network.clone(), institution_id: id.clone() })
                }
                None => known_network(&q.network),
            }
        }
        RouteRecord::AliasScheme(a) => {
            if a.scheme.trim().is_empty() {
                return Err(invalid("scheme", "must not be empty"));
            }
            known_network(&a.network)
        }
        RouteRecord::Limit(l) => crate::limits::check_limit(l),
        RouteRecord::Anomaly(a) => crate::anomaly::check_anomaly(a),
        RouteRecord::Block(b) => crate::blocks::check_block(b),
        RouteRecord::Settlement(s) => crate::settlement::check_scheme(s),
        RouteRecord::Cap(c) => crate::settlement::check_cap(c),
        RouteRecord::Network(n) => {
            // A deadline past a day would keep payments in doubt for longer than
            // anyone waits for an instant payment.
            if let Some(s) = n.response_deadline_seconds {
                if !(1..=86_400).contains(&s) {
                    return Err(invalid("response_deadline_seconds", format!("must be 1 to 86400, got {s}")));
                }
            }
            known_network(&n.network)
        }
    }
}

pub(crate) fn known_network(n: &str) -> Result<(), RuleError> {
    interlink_connectors::network(n).map(|_| ()).ok_or_else(|| RuleError::UnknownNetwork(n.to_string()))
}

pub(crate) fn check_institution(r: &InstitutionRef) -> Result<(), RuleError> {
    let network =
        interlink_connectors::network(&r.network).ok_or_else(|| RuleError::UnknownNetwork(r.network.clone()))?;
    Ok(network.validate_participant_id(&r.institution_id)?)
}

fn check_participant(p: &Participant) -> Result<(), RuleError> {
    check_institution(&InstitutionRef { network: p.network.clone(), institution_id: p.institution_id.clone() })?;
    currency("settlement_currency", &p.settlement_currency)?;
    if p.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if let Some(bic) = &p.bic {
        interlink_connectors::IdScheme::Bic.validate(bic)?;
    }
    Ok(())
}

fn check_corridor(c: &Corridor) -> Result<(), RuleError> {
    known_network(&c.from)?;
    known_network(&c.to)?;
    currency("source_currency", &c.source_currency)?;
    currency("destination_currency", &c.destination_currency)?;
    if let Some(rate) = c.fx_rate {
        if rate <= Decimal::ZERO {
            return Err(invalid("fx_rate", format!("must be greater than zero, got {rate}")));
        }
    }
    if c.spread_bps >= 10_000 {
        return Err(invalid("spread_bps", format!("must be below 10000, got {}", c.spread_bps)));
    }
    if c.max_amount_minor <= 0 {
        return Err(invalid("max_amount", "must be greater than zero"));
    }
    for w in &c.windows {
        if w.days == 0 || w.days > 0x7f || w.from_minute >= 1_440 || w.to_minute > 1_440 || w.from_minute == w.to_minute
        {
            return Err(invalid("windows", format!("{w:?} is empty or out of range")));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::OperatingWindow;
    use proptest::prelude::*;

    const NOW: i64 = 1_764_000_000_000_000;

    pub(crate) fn participant(network: &str, id: &str, currency: &str) -> RouteRecord {
        RouteRecord::Participant(Participant {
            network: network.into(),
            institution_id: id.into(),
            name: format!("Bank {id}"),
            bic: None,
            status: ParticipantStatus::Active,
            settlement_currency: currency.into(),
            settles_through: None,
        })
    }

    pub(crate) fn corridor(from: &str, to: &str, src: &str, dst: &str, rate: &str, max: i64) -> RouteRecord {
        RouteRecord::Corridor(Corridor {
            from: from.into(),
            to: to.into(),
            enabled: true,
            source_currency: src.into(),
            destination_currency: dst.into(),
            fx_rate: Some(rate.parse().unwrap()),
            rate_source: None,
            spread_bps: 0,
            max_amount_minor: max,
            windows: vec![],
        })
    }

    fn corridor_mut(r: &mut RouteRecord) -> &mut Corridor {
        match r {
            RouteRecord::Corridor(c) => c,
            other => panic!("{other:?}"),
        }
    }

    fn sample() -> Vec<RouteRecord> {
        vec![
            participant("CN_IBPS", "102100099996", "CNY"),
            participant("CN_IBPS", "103100000026", "CNY"),
            participant("HK_FPS", "004", "HKD"),
            participant("HK_FPS", "012", "HKD"),
            corridor("CN_IBPS", "HK_FPS", "CNY", "HKD", "1.0845", 8_000_000),
            corridor("CN_IBPS", "HK_FPS", "HKD", "HKD", "1", 1_000_000),
        ]
    }

    fn cn() -> Agent {
        Agent::new("CN_IBPS", "102100099996")
    }
    fn hk() -> Agent {
        Agent::new("HK_FPS", "004")
    }

    fn table() -> RoutingTable {
        RoutingTable::compile(7, &sample()).unwrap()
    }

    #[test]
    fn overlapping_corridors_are_rejected() {
        let mut rules = sample();
        rules.push(corridor("CN_IBPS", "HK_FPS", "CNY", "CNY", "1", 8_000_000));
        let err = RoutingTable::compile(1, &rules).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].contains("overlaps"), "{err}");
    }

    #[test]
    fn routes_with_fx_and_records_the_version_in_the_quote() {
        let t = table();
        let r = t.resolve(&cn(), &hk(), &Amount::new(10_000, "CNY"), NOW).unwrap();
        assert_eq!(r.credit_minor_units, 10_845);
        assert_eq!(r.creditor.institution_id, "004");
        assert_eq!(&*r.corridor.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@v7");
        assert_eq!(&*r.corridor.fx_rate_text, "1.0845");
        // Same corridor, paid in HKD: no conversion.
        let r = t.resolve(&cn(), &hk(), &Amount::new(10_000, "HKD"), NOW).unwrap();
        assert_eq!(r.credit_minor_units, 10_000);
    }

    #[test]
    fn rejections_carry_iso_codes_in_precedence_order() {
        let t = table();
        let unknown = Agent::new("HK_FPS", "999");
        let reject = |d: &Agent, c: &Agent, a: Amount| t.resolve(d, c, &a, NOW).unwrap_err();
        assert_eq!(
            reject(&unknown, &unknown, Amount::new(1, "CNY")),
            Rejection::UnknownDebtorAgent("HK_FPS/999".into())
        );
        assert_eq!(reject(&cn(), &unknown, Amount::new(1, "CNY")).reason(), IsoReason::RC01);
        // Reverse direction has no corridor.
        assert_eq!(reject(&hk(), &cn(), Amount::new(1, "HKD")).reason(), IsoReason::AG01);
        assert_eq!(reject(&cn(), &hk(), Amount::new(1, "USD")).reason(), IsoReason::AM03);
        assert_eq!(
            reject(&cn(), &hk(), Amount::new(8_000_001, "CNY")),
            Rejection::AboveMaximum { amount: 8_000_001, max: 8_000_000 }
        );
        assert!(t.resolve(&cn(), &hk(), &Amount::new(8_000_000, "CNY"), NOW).is_ok());
    }

    #[test]
    fn suspended_closed_and_outside_window_reject() {
        let mut rules = sample();
        if let RouteRecord::Participant(p) = &mut rules[2] {
            p.status = ParticipantStatus::Suspended;
        }
        let t = RoutingTable::compile(1, &rules).unwrap();
        let r = t.resolve(&cn(), &hk(), &Amount::new(1, "CNY"), NOW).unwrap_err();
        assert_eq!(r, Rejection::ParticipantSuspended("HK_FPS/004".into()));
        let mut rules = sample();
        corridor_mut(&mut rules[4]).enabled = false;
        let t = RoutingTable::compile(1, &rules).unwrap();
        let r = t.resolve(&cn(), &Agent::new("HK_FPS", "012"), &Amount::new(1, "CNY"), NOW).unwrap_err();
        assert!(matches!(r, Rejection::CorridorClosed(_)) && r.reason() == IsoReason::AG01);

        // Open one hour a day in UTC: 00:00-01:00.
        let mut rules = sample();
        corridor_mut(&mut rules[4]).windows =
            vec![OperatingWindow { days: 0x7f, from_minute: 0, to_minute: 60, utc_offset_minutes: 0 }];
        let t = RoutingTable::compile(1, &rules).unwrap();
        let midnight = NOW - NOW.rem_euclid(86_400_000_000);
        assert!(t.resolve(&cn(), &hk(), &Amount::new(1, "CNY"), midnight + 60_000_000).is_ok());
        let r = t.resolve(&cn(), &hk(), &Amount::new(1, "CNY"), midnight + 3_600_000_000).unwrap_err();
        assert_eq!(r.reason(), IsoReason::TM01);
    }

    #[test]
    fn the_lower_of_the_corridor_and_network_limits_applies() {
        let rules = vec![
            participant("US_FEDNOW", "021000021", "USD"),
            participant("EU_SCTINST", "DEUTDEFF", "EUR"),
            // Corridor allows USD 1,000,000; FedNow's limit is USD 500,000.
            corridor("US_FEDNOW", "EU_SCTINST", "USD", "EUR", "0.9240", 100_000_000),
        ];
        let t = RoutingTable::compile(1, &rules).unwrap();
        let (us, eu) = (Agent::new("US_FEDNOW", "021000021"), Agent::new("EU_SCTINST", "DEUTDEFF"));
        let r = t.resolve(&us, &eu, &Amount::new(60_000_000, "USD"), NOW).unwrap_err();
        assert_eq!(r, Rejection::AboveMaximum { amount: 60_000_000, max: 50_000_000 });
        // USD 200,000 converts to EUR 184,800, above SCT Inst's EUR 100,000.
        let r = t.resolve(&us, &eu, &Amount::new(20_000_000, "USD"), NOW).unwrap_err();
        assert_eq!(
            r,
            Rejection::AboveNetworkLimit { network: "EU_SCTINST".into(), amount: 18_480_000, max: 10_000_000 }
        );
        assert_eq!(r.reason(), IsoReason::AM02);
        assert!(t.resolve(&us, &eu, &Amount::new(10_000_000, "USD"), NOW).is_ok());
    }

    #[test]
    fn an_amount_that_converts_to_nothing_is_refused() {
        let rules = vec![
            participant("ID_BIFAST", "CENAIDJA", "IDR"),
            participant("CN_IBPS", "102100099996", "CNY"),
            corridor("ID_BIFAST", "CN_IBPS", "IDR", "CNY", "0.000438", 1_000_000_000),
        ];
        let t = RoutingTable::compile(1, &rules).unwrap();
        let (id, cn) = (Agent::new("ID_BIFAST", "CENAIDJA"), cn());
        // IDR 10.00 is 0.00438 CNY: less than a fen.
        let r = t.resolve(&id, &cn, &Amount::new(1_000, "IDR"), NOW).unwrap_err();
        assert_eq!(r.reason(), IsoReason::AM12);
        assert_eq!(t.resolve(&id, &cn, &Amount::new(100_000, "IDR"), NOW).unwrap().credit_minor_units, 44);
    }

    #[test]
    fn identities_route_an_alias_id_to_the_home_participant() {
        let mut rules = sample();
        rules.push(RouteRecord::Identity(Identity {
            id: "hsbc".into(),
            name: "HSBC".into(),
            home: InstitutionRef { network: "HK_FPS".into(), institution_id: "004".into() },
            aliases: vec![InstitutionRef { network: "CN_IBPS".into(), institution_id: "501290000012".into() }],
        }));
        let t = RoutingTable::compile(1, &rules).unwrap();
        let r = t.resolve(&cn(), &Agent::new("CN_IBPS", "501290000012"), &Amount::new(100, "CNY"), NOW).unwrap();
        assert_eq!((r.creditor.network.as_str(), r.creditor.institution_id.as_str()), ("HK_FPS", "004"));
        assert_eq!(r.credit_minor_units, 108);
    }

    #[test]
    fn identity_mistakes_are_caught() {
        let mut rules = sample();
        let identity = |home: &str, alias: (&str, &str)| {
            RouteRecord::Identity(Identity {
                id: format!("i-{home}-{}", alias.1),
                name: "x".into(),
                home: InstitutionRef { network: "HK_FPS".into(), institution_id: home.into() },
                aliases: vec![InstitutionRef { network: alias.0.into(), institution_id: alias.1.into() }],
            })
        };
        rules.push(identity("024", ("CN_IBPS", "501290000012"))); // home is not a participant
        rules.push(identity("004", ("CN_IBPS", "103100000026"))); // alias is a participant
        rules.push(identity("004", ("CN_IBPS", "501290000099")));
        rules.push(identity("012", ("CN_IBPS", "501290000099"))); // alias claimed twice
        let err = RoutingTable::compile(1, &rules).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.problems[0].contains("is not a participant"), "{err}");
        assert!(err.problems[1].contains("ambiguous"), "{err}");
        assert!(err.problems[2].contains("another identity"), "{err}");
    }

    #[test]
    fn named_rates_and_spreads_set_the_effective_rate() {
        let mut rules = sample();
        let c = corridor_mut(&mut rules[4]);
        c.fx_rate = None;
        c.rate_source = Some("cny-hkd".into());
        c.spread_bps = 50;
        rules.push(RouteRecord::Rate(FxRate {
            name: "cny-hkd".into(),
            source_currency: "CNY".into(),
            destination_currency: "HKD".into(),
            rate: "1.1".parse().unwrap(),
        }));
        let t = RoutingTable::compile(3, &rules).unwrap();
        let r = t.resolve(&cn(), &hk(), &Amount::new(100_000, "CNY"), NOW).unwrap();
        // 1.1 × (1 − 0.005) = 1.0945
        assert_eq!(&*r.corridor.fx_rate_text, "1.0945");
        assert_eq!(r.credit_minor_units, 109_450);
        assert_eq!(&*r.corridor.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@cny-hkd@v3");

        let mut bad = rules.clone();
        corridor_mut(&mut bad[4]).rate_source = Some("missing".into());
        assert!(RoutingTable::compile(1, &bad).unwrap_err().problems[0].contains("not defined"));
        corridor_mut(&mut bad[4]).fx_rate = Some(Decimal::ONE);
        assert!(RoutingTable::compile(1, &bad).unwrap_err().problems[0].contains("exactly one"));
    }

    #[test]
    fn qr_guids_and_alias_prefixes_pick_a_network() {
        let mut rules = sample();
        let qr = |guid: &str, network: &str, priority| {
            RouteRecord::QrScheme(QrScheme {
                guid: guid.into(),
                network: network.into(),
                priority,
                institution_id: None,
            })
        };
        rules.push(qr("ID.CO.QRIS.WWW", "ID_BIFAST", 10));
        rules.push(qr("hk.com.hkicl", "HK_FPS", 10));
        rules.push(qr("ID.DANA.WWW", "ID_BIFAST", 20));
        let alias = |prefix: &str, network: &str| {
            RouteRecord::AliasScheme(AliasScheme {
                scheme: "MOBILE".into(),
                prefix: prefix.into(),
                network: network.into(),
            })
        };
        rules.push(alias("+852", "HK_FPS"));
        rules.push(alias("+86", "CN_IBPS"));
        rules.push(alias("", "SG_PAYNOW"));
        let t = RoutingTable::compile(1, &rules).unwrap();
        // Two known GUIDs: the lower priority wins whatever the tag order.
        let pick = t.qr_network([(26, "ID.DANA.WWW"), (51, "ID.CO.QRIS.WWW"), (27, "unknown")]).unwrap();
        assert_eq!(pick.guid, "ID.CO.QRIS.WWW");
        assert!(t.qr_network([(26, "unknown")]).is_none());
        assert_eq!(t.alias_network("MOBILE", "+85291234567").unwrap().network, "HK_FPS");
        assert_eq!(t.alias_network("MOBILE", "+8613800000000").unwrap().network, "CN_IBPS");
        assert_eq!(t.alias_network("MOBILE", "+6591234567").unwrap().network, "SG_PAYNOW");
        assert!(t.alias_network("EMAIL", "a@b").is_none());
    }

    #[test]
    fn a_name_the_routes_log_key_cannot_carry_is_refused() {
        let rate = |name: &str| {
            RouteRecord::Rate(FxRate {
                name: name.into(),
                source_currency: "CNY".into(),
                destination_currency: "HKD".into(),
                rate: Decimal::new(845, 4),
            })
        };
        assert!(check_record(&rate("cny-hkd")).is_ok());
        let err = check_record(&rate("cny/hkd")).unwrap_err().to_string();
        assert!(err.contains("\"rate/cny/hkd\" cannot be read back"), "{err}");
    }

    #[test]
    fn invalid_rules_are_all_reported() {
        let mut zero_rate = corridor("CN_IBPS", "HK_FPS", "CNY", "HKD", "1", 1);
        corridor_mut(&mut zero_rate).fx_rate = Some(Decimal::ZERO);
        let rules = vec![
            participant("XX_NOWHERE", "1", "CNY"),
            participant("CN_IBPS", "12345", "CNY"),
            participant("HK_FPS", "004", "HKX"),
            zero_rate,
            corridor("CN_IBPS", "HK_FPS", "HKD", "HKD", "1.5", 1),
            corridor("CN_IBPS", "HK_FPS", "USD", "HKD", "7.8", 0),
        ];
        let err = RoutingTable::compile(1, &rules).unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
        assert!(err.problems[0].contains("unknown network"));
        assert!(err.problems[1].contains("12 digits"));
        assert!(err.problems[3].contains("greater than zero"));
        assert!(err.problems[5].contains("rate must be 1"), "{err}");
    }

    proptest! {
        /// Whatever the amount, a route either succeeds within the cap or is rejected
        /// with AM02 above it: the cap check is exact at the boundary.
        #[test]
        fn cap_is_exact(amount in 1i64..20_000_000) {
            let t = table();
            let r = t.resolve(&cn(), &hk(), &Amount::new(amount, "CNY"), NOW);
            if amount <= 8_000_000 {
                prop_assert!(r.is_ok());
            } else {
                prop_assert_eq!(r.unwrap_err().reason(), IsoReason::AM02);
            }
        }

        /// An unknown debtor is reported before anything about the creditor,
        /// corridor, currency or amount.
        #[test]
        fn debtor_checks_come_first(id in "[0-9]{3}", currency in "[A-Z]{3}", amount in any::<i64>()) {
            prop_assume!(id != "004" && id != "012");
            let t = table();
            let r = t.resolve(&Agent::new("HK_FPS", id), &Agent::new("ZZ", "x"), &Amount::new(amount, currency), NOW);
            prop_assert!(matches!(r, Err(Rejection::UnknownDebtorAgent(_))));
        }

        /// With both parties known, a currency the corridor does not carry is
        /// reported before the cap, whatever the amount.
        #[test]
        fn currency_comes_before_cap(amount in any::<i64>(), currency in "[A-Z]{3}") {
            prop_assume!(currency != "CNY" && currency != "HKD");
            let t = table();
            let r = t.resolve(&cn(), &hk(), &Amount::new(amount, currency), NOW).unwrap_err();
            prop_assert_eq!(r.reason(), IsoReason::AM03);
        }

        /// A closed corridor rejects with AG01 whatever the amount or time.
        #[test]
        fn closed_beats_window_and_cap(amount in any::<i64>(), now in any::<i64>()) {
            let mut rules = sample();
            corridor_mut(&mut rules[4]).enabled = false;
            corridor_mut(&mut rules[4]).windows =
                vec![OperatingWindow { days: 1, from_minute: 0, to_minute: 1, utc_offset_minutes: 0 }];
            let t = RoutingTable::compile(1, &rules).unwrap();
            let r = t.resolve(&cn(), &hk(), &Amount::new(amount, "CNY"), now / 2).unwrap_err();
            prop_assert!(matches!(r, Rejection::CorridorClosed(_)));
        }
    }
}
