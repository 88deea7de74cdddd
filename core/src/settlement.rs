//! Netting: every clearing record counts, in the partition that wrote it, towards the
//! multilateral net positions of the cycle it falls in; at each cut-off every partition
//! sends its part of the cycle to the currency's home partition, which nets the parts
//! into the cycle's positions once every partition has reported.
//!
//! All of it is keyed state written with the outputs (Kafka Streams' two-stage
//! aggregation over a repartition topic), so a crash at any moment neither loses a
//! record nor counts one twice:
//!
//! ```text
//!  clearing record (partition p) ─► book k/CUR of p: the open cycle's lines += legs
//!  cut-off passes (p's sweep)    ─► CyclePart (tag 'S') ─► forwards, keyed settlement/CUR
//!  home partition of that key    ─► netting n/CUR: parts merged; when every partition
//!                                   has reported the cycle (or a later one):
//!                                   SettlementRecord ×(participants + 1) ─► interlink.settlement
//! ```
//!
//! A record cleared by a cut-off that its partition has already reported (a worker
//! whose clock is behind the previous owner's) goes into the partition's next open
//! cycle and counts as late there, visibly.

use crate::memory::{self, Memory, MemoryError, BOOK_STORE, NETTING_STORE};
use crate::pipeline::{OutputRecord, OutputTopic};
use interlink_routing::{CompiledScheme, InstitutionRef, RoutingTable};
use interlink_schemas::{Agent, ClearingRecord, SettlementRecord, SettlementRecordKind};
use serde::{Deserialize, Serialize};

/// Netting books and nettings are kept until they are overwritten: never due.
const KEEP: i64 = i64::MAX;
/// The first byte of a cycle part on the forwards topic.
const PART_TAG: u8 = b'S';

/// One participant's side of a cycle, in the cycle's currency's minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionLine {
    pub network: String,
    pub institution_id: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub debits: u64,
    pub credits: u64,
}

/// What one cycle holds (of one partition, or merged over all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleTotals {
    pub cut_off: i64,
    /// The scheme's previous cut-off.
    pub opened_after: i64,
    /// Sorted by participant.
    pub lines: Vec<PositionLine>,
    pub records: u64,
    pub late: u64,
    /// The routing-table version whose schedule last drew this cycle: while it is
    /// current, a record inside the cycle's span needs no schedule lookup.
    pub drawn_by: i64,
}

/// A participant as (network, institution id), borrowed where it is only looked up.
type Who<'a> = (&'a str, &'a str);

fn who(r: &InstitutionRef) -> Who<'_> {
    (&r.network, &r.institution_id)
}

impl CycleTotals {
    fn new(cut_off: i64, opened_after: i64) -> Self {
        Self { cut_off, opened_after, lines: Vec::new(), records: 0, late: 0, drawn_by: 0 }
    }

    fn line(&mut self, (network, institution_id): Who<'_>) -> &mut PositionLine {
        let key = (network, institution_id);
        let at = match self.lines.binary_search_by(|l| (l.network.as_str(), l.institution_id.as_str()).cmp(&key)) {
            Ok(i) => i,
            Err(i) => {
                let line = PositionLine {
                    network: network.to_string(),
                    institution_id: institution_id.to_string(),
                    ..PositionLine::default()
                };
                self.lines.insert(i, line);
                i
            }
        };
        &mut self.lines[at]
    }

    fn debit(&mut self, who: Who<'_>, minor: i64) {
        let line = self.line(who);
        line.debit_minor = line.debit_minor.saturating_add(minor);
        line.debits += 1;
    }

    fn credit(&mut self, who: Who<'_>, minor: i64) {
        let line = self.line(who);
        line.credit_minor = line.credit_minor.saturating_add(minor);
        line.credits += 1;
    }

    fn merge(&mut self, other: &CycleTotals) {
        for l in &other.lines {
            let line = self.line((&l.network, &l.institution_id));
            line.debit_minor = line.debit_minor.saturating_add(l.debit_minor);
            line.credit_minor = line.credit_minor.saturating_add(l.credit_minor);
            line.debits += l.debits;
            line.credits += l.credits;
        }
        self.records += other.records;
        self.late += other.late;
        // Partitions close a cycle at the same cut-off unless one learnt an operator's
        // cut-off late: the cycle then ends at the last of them.
        self.cut_off = self.cut_off.max(other.cut_off);
    }
}

/// A partition's netting of one currency: the latest cycle it has reported to the
/// netting, the cycles still open in it (ascending cut-offs), and what payments in
/// flight from this partition hold against their debtors' net debit caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionBook {
    pub reported: i64,
    pub open: Vec<CycleTotals>,
    /// Sorted by participant; only non-zero holds are kept.
    pub reserved: Vec<Reservation>,
}

impl Default for PartitionBook {
    fn default() -> Self {
        Self { reported: i64::MIN, open: Vec::new(), reserved: Vec::new() }
    }
}

/// What one payment in flight holds against a participant's cap: who (its debtor's
/// settlement institution when it was sent) and how much of which currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapHold {
    pub payer: InstitutionRef,
    pub currency: String,
    pub minor: i64,
}

/// What a participant's payments in flight hold against its cap, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub network: String,
    pub institution_id: String,
    pub minor: i64,
}

/// A partition's part of a closed cycle, on its way to the currency's netting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CyclePart {
    pub currency: String,
    pub partition: i32,
    pub totals: CycleTotals,
}

impl CyclePart {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        crate::memory::encode_tagged(PART_TAG, self)
    }

    /// `None` when the bytes are not a cycle part at all.
    pub fn decode(bytes: &[u8]) -> Option<Result<Self, MemoryError>> {
        crate::memory::decode_tagged(PART_TAG, bytes)
    }
}

/// A currency's netting: the latest cycle each partition has reported, the cycles not
/// yet complete, and the latest one netted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netting {
    pub reported: Vec<i64>,
    pub pending: Vec<CycleTotals>,
    pub netted: i64,
}

/// The key of the netting of `currency`: its cycle parts are keyed so, and it lives
/// in the state of that key's partition.
pub fn netting_key(currency: &str) -> String {
    format!("settlement/{currency}")
}

fn book_key(currency: &str) -> Vec<u8> {
    memory::store_key(BOOK_STORE, &[currency])
}

fn netting_state_key(currency: &str) -> Vec<u8> {
    memory::store_key(NETTING_STORE, &[currency])
}

fn read<T: for<'de> Deserialize<'de> + Default>(memory: &dyn Memory, key: &[u8]) -> Result<T, MemoryError> {
    memory.get(key)?.map_or_else(|| Ok(T::default()), |v| memory::unframe(&v))
}

fn write<T: Serialize>(key: Vec<u8>, value: &T) -> Result<OutputRecord, MemoryError> {
    Ok(OutputRecord { topic: OutputTopic::State, key: Some(key), payload: Some(memory::frame(KEEP, value)?) })
}

impl PartitionBook {
    /// The participant's net position in this partition: its credits minus its debits
    /// in the open cycles, minus what its payments in flight hold.
    fn position(&self, who: Who<'_>) -> i64 {
        let is = |network: &str, id: &str| (network, id) == who;
        let netted: i64 = self
            .open
            .iter()
            .flat_map(|c| c.lines.iter().filter(|l| is(&l.network, &l.institution_id)))
            .map(|l| l.credit_minor - l.debit_minor)
            .sum();
        let held: i64 = self.reserved.iter().filter(|r| is(&r.network, &r.institution_id)).map(|r| r.minor).sum();
        netted - held
    }

    /// Adds `minor` (negative: gives back) to what `who`'s payments in flight hold.
    fn hold(&mut self, who: Who<'_>, minor: i64) {
        match self.reserved.binary_search_by(|r| (r.network.as_str(), r.institution_id.as_str()).cmp(&who)) {
            Ok(i) => {
                self.reserved[i].minor += minor;
                if self.reserved[i].minor == 0 {
                    self.reserved.remove(i);
                }
            }
            Err(i) if minor != 0 => self
                .reserved
                .insert(i, Reservation { network: who.0.to_string(), institution_id: who.1.to_string(), minor }),
            Err(_) => {}
        }
    }

    /// The open cycle a record cleared at `at` counts in, counting the record and
    /// whether it is late. A cycle is known by the cut-off it opened at (the latest
    /// before `at`), so it keeps its name whenever it closes: at the schedule's next
    /// cut-off, or earlier at an operator's. Its span is reused while the table that
    /// drew it (`version`) is current.
    fn cycle_for(&mut self, scheme: &CompiledScheme, version: i64, at: i64) -> &mut CycleTotals {
        let drawn = self.open.iter().position(|c| c.drawn_by == version && c.opened_after < at && at <= c.cut_off);
        if let Some(i) = drawn {
            let cycle = &mut self.open[i];
            cycle.records += 1;
            return cycle;
        }
        let mut opening = scheme.cut_off_before(at.saturating_sub(1));
        // Its cycle has closed here already: it counts in the one open now.
        let late = opening < self.reported;
        if late {
            opening = self.reported;
        }
        let i = match self.open.binary_search_by_key(&opening, |c| c.opened_after) {
            Ok(i) => i,
            Err(i) => {
                self.open.insert(i, CycleTotals::new(i64::MAX, opening));
                i
            }
        };
        let cycle = &mut self.open[i];
        cycle.cut_off = scheme.cycle_of(opening.saturating_add(1));
        cycle.drawn_by = version;
        cycle.records += 1;
        cycle.late += u64::from(late);
        cycle
    }
}

/// The institution whose account `a`'s positions go to: its sponsor, or itself.
fn settler<'a>(table: &'a RoutingTable, a: &'a Agent) -> Who<'a> {
    table.settlement_institution(&a.network, &a.institution_id)
}

/// Counts a clearing record (cleared at its `cleared_at`) in the books of its
/// currencies' schemes, in the state of the partition deciding it, and names the
/// cycles on the record. Each currency balances: an FX payment's legs meet the
/// scheme's FX participant, a same-currency payment's difference (a spread) goes to it
/// too. Currencies without a scheme are not netted (the record names no cycle).
///
/// Positions are the settlement institutions' (a sponsor nets for the participants
/// that settle through it). `held` is what the payment held against a cap while in
/// flight: given back as the payment counts for real.
pub fn count(
    table: &RoutingTable,
    memory: &dyn Memory,
    c: &mut ClearingRecord,
    held: Option<&CapHold>,
) -> Result<Vec<OutputRecord>, MemoryError> {
    let (debtor, creditor) = (settler(table, &c.debtor_agent), settler(table, &c.creditor_agent));
    let (debit, credit) = (c.debit_amount.minor_units, c.credit_amount.minor_units);
    let same_currency = c.debit_amount.currency == c.credit_amount.currency;
    let mut writes = Vec::with_capacity(2);
    let scheme = table.settlement_scheme(&c.debit_amount.currency);
    // A hold is in the debit currency: given back in that book as it is written, or
    // alone if its scheme went away while the payment was in flight.
    if let (None, Some(h)) = (scheme, held) {
        writes.push(give_back(memory, h)?);
    }
    if let Some(scheme) = scheme {
        let key = book_key(scheme.currency());
        let mut book: PartitionBook = read(memory, &key)?;
        if let Some(h) = held {
            book.hold(who(&h.payer), -h.minor);
        }
        let cycle = book.cycle_for(scheme, table.version(), c.cleared_at);
        cycle.debit(debtor, debit);
        if same_currency {
            cycle.credit(creditor, credit);
            match debit - credit {
                0 => {}
                kept if kept > 0 => cycle.credit(who(scheme.fx_participant()), kept),
                paid => cycle.debit(who(scheme.fx_participant()), -paid),
            }
        } else {
            cycle.credit(who(scheme.fx_participant()), debit);
        }
        let id = scheme.cycle_id(cycle.opened_after);
        c.debit_settlement_cycle = Some(id.clone());
        if same_currency {
            c.credit_settlement_cycle = Some(id);
        }
        writes.push(write(key, &book)?);
    }
    if same_currency {
        return Ok(writes);
    }
    if let Some(scheme) = table.settlement_scheme(&c.credit_amount.currency) {
        let key = book_key(scheme.currency());
        let mut book: PartitionBook = read(memory, &key)?;
        let cycle = book.cycle_for(scheme, table.version(), c.cleared_at);
        cycle.debit(who(scheme.fx_participant()), credit);
        cycle.credit(creditor, credit);
        c.credit_settlement_cycle = Some(scheme.cycle_id(cycle.opened_after));
        writes.push(write(key, &book)?);
    }
    Ok(writes)
}

/// Whether the payment of `c` fits its debtor's net debit cap in the debit currency,
/// as far as this partition's share of it goes (of `partitions`): `Some(explanation)`
/// when it would go past it. Payments are checked in the partition that will count
/// them (where they settle, or, through a connected network, where they wait for its
/// answer), so the shares are never exceeded and neither is the cap.
pub fn check_cap(
    table: &RoutingTable,
    memory: &dyn Memory,
    partition: i32,
    partitions: u32,
    c: &ClearingRecord,
) -> Result<Option<String>, MemoryError> {
    if !table.has_net_debit_caps() {
        return Ok(None);
    }
    let (debtor, amount) = (settler(table, &c.debtor_agent), &c.debit_amount);
    let Some(cap) = table.net_debit_cap(debtor.0, debtor.1, &amount.currency) else {
        return Ok(None);
    };
    let book: PartitionBook = read(memory, &book_key(&amount.currency))?;
    let (position, share) = (book.position(debtor), cap.share_minor(partition, partitions));
    if position - amount.minor_units >= -share {
        return Ok(None);
    }
    let major = |m: i64| interlink_vocab::money::format_minor(m, &amount.currency).unwrap_or_else(|_| m.to_string());
    Ok(Some(format!(
        "{}/{} would pass its net debit cap in {}: position {} here, payment {}, this partition's share {} of {} (cap {} + prefunded {}, over {partitions} partitions)",
        debtor.0,
        debtor.1,
        amount.currency,
        major(position),
        major(amount.minor_units),
        major(share),
        major(cap.total_minor()),
        major(cap.net_debit_cap_minor),
        major(cap.prefunded_minor),
    )))
}

/// Holds the debit of `c` against its debtor's cap while the payment is in flight
/// (only where the debtor's settlement institution has a cap): the book's write and
/// the hold, which the payment keeps to give back exactly what it took.
pub fn hold(
    table: &RoutingTable,
    memory: &dyn Memory,
    c: &ClearingRecord,
) -> Result<Option<(OutputRecord, CapHold)>, MemoryError> {
    if !table.has_net_debit_caps() {
        return Ok(None);
    }
    let (payer, amount) = (settler(table, &c.debtor_agent), &c.debit_amount);
    if table.net_debit_cap(payer.0, payer.1, &amount.currency).is_none() {
        return Ok(None);
    }
    let key = book_key(&amount.currency);
    let mut book: PartitionBook = read(memory, &key)?;
    book.hold(payer, amount.minor_units);
    let payer = InstitutionRef { network: payer.0.to_string(), institution_id: payer.1.to_string() };
    let held = CapHold { payer, currency: amount.currency.clone(), minor: amount.minor_units };
    Ok(Some((write(key, &book)?, held)))
}

/// Gives back what a payment that will not settle (refused, timed out) held.
pub fn give_back(memory: &dyn Memory, held: &CapHold) -> Result<OutputRecord, MemoryError> {
    let key = book_key(&held.currency);
    let mut book: PartitionBook = read(memory, &key)?;
    book.hold(who(&held.payer), -held.minor);
    write(key, &book)
}

/// A partition's cut-offs: every open cycle whose cut-off has passed by `now` goes to
/// its currency's netting as this partition's part, and so (empty) does the latest
/// passed cut-off not reported yet, so the netting knows this partition holds nothing
/// more up to it. Runs from the edge's sweep for every partition it owns.
pub fn close_due(
    table: &RoutingTable,
    memory: &dyn Memory,
    partition: i32,
    now: i64,
) -> Result<Vec<OutputRecord>, MemoryError> {
    let mut out = Vec::new();
    for scheme in table.settlement_schemes() {
        let key = book_key(scheme.currency());
        let mut book: PartitionBook = read(memory, &key)?;
        let mut parts = Vec::new();
        // Oldest first: a cycle closes at the first cut-off after it opened, as the
        // table now has it (an operator's cut-off closes it early).
        while let Some(cycle) = book.open.first() {
            let closes = scheme.cycle_of(cycle.opened_after.saturating_add(1));
            if closes > now {
                break;
            }
            let mut cycle = book.open.remove(0);
            cycle.cut_off = closes;
            book.reported = book.reported.max(closes);
            parts.push(cycle);
        }
        let latest = scheme.cut_off_before(now);
        if latest > book.reported {
            // Nothing here for the cycle that just closed: say so, so it is not waited for.
            parts.push(CycleTotals::new(latest, scheme.cut_off_before(latest.saturating_sub(1))));
            book.reported = latest;
        }
        if parts.is_empty() {
            continue;
        }
        for totals in parts {
            let part = CyclePart { currency: scheme.currency().to_string(), partition, totals };
            let routed = netting_key(scheme.currency());
            out.push(OutputRecord {
                topic: OutputTopic::Forwards,
                key: Some(routed.into_bytes()),
                payload: Some(part.encode()?),
            });
        }
        out.push(write(key, &book)?);
    }
    Ok(out)
}

/// Why a cycle part was not netted (a bug or a changed partition count, never traffic).
#[derive(Debug, thiserror::Error)]
pub enum PartRefused {
    #[error(
        "part of the {currency} cycle opened at {opened} from partition {partition} arrived after the cycle was netted"
    )]
    AlreadyNetted { currency: String, opened: i64, partition: i32 },
    #[error("part of {currency} cycle from partition {partition}, but the switch has {partitions} partitions")]
    NoSuchPartition { currency: String, partition: i32, partitions: u32 },
    #[error("part of a cycle of {0}, which no settlement scheme nets now")]
    NoScheme(String),
}

/// What merging a part gives: the netting's state write, and the settlement records
/// of the cycles it completed (none while a partition is still to report).
pub type Netted = (Vec<OutputRecord>, Vec<SettlementRecord>);

/// Merges a partition's part into its currency's netting; every cycle that all
/// `partitions` have now reported (or passed) is netted: its settlement records.
pub fn net(
    table: &RoutingTable,
    memory: &dyn Memory,
    part: CyclePart,
    partitions: u32,
    now: i64,
) -> Result<Result<Netted, PartRefused>, MemoryError> {
    let Some(scheme) = table.settlement_scheme(&part.currency) else {
        return Ok(Err(PartRefused::NoScheme(part.currency)));
    };
    let key = netting_state_key(&part.currency);
    let mut netting: Netting = match memory.get(&key)? {
        Some(v) => memory::unframe(&v)?,
        None => Netting { reported: Vec::new(), pending: Vec::new(), netted: i64::MIN },
    };
    netting.reported.resize(partitions as usize, i64::MIN);
    let Some(reported) = usize::try_from(part.partition).ok().and_then(|p| netting.reported.get_mut(p)) else {
        return Ok(Err(PartRefused::NoSuchPartition {
            currency: part.currency,
            partition: part.partition,
            partitions,
        }));
    };
    // Cycles are known by when they opened; each partition reports them in order.
    let opened = part.totals.opened_after;
    if opened <= netting.netted {
        return Ok(Err(PartRefused::AlreadyNetted { currency: part.currency, opened, partition: part.partition }));
    }
    *reported = (*reported).max(opened);
    match netting.pending.binary_search_by_key(&opened, |c| c.opened_after) {
        Ok(i) => netting.pending[i].merge(&part.totals),
        Err(i) => netting.pending.insert(i, part.totals),
    }
    let complete_to = netting.reported.iter().copied().min().unwrap_or(i64::MIN);
    let done = netting.pending.partition_point(|c| c.opened_after <= complete_to);
    let mut records = Vec::new();
    for totals in netting.pending.drain(..done) {
        netting.netted = totals.opened_after;
        records.extend(settlement_records(table, scheme, &totals, partitions, now));
    }
    Ok(Ok((vec![write(key, &netting)?], records)))
}

/// A netted cycle as records: each participant's position, then the summary.
fn settlement_records(
    table: &RoutingTable,
    scheme: &CompiledScheme,
    totals: &CycleTotals,
    partitions: u32,
    now: i64,
) -> Vec<SettlementRecord> {
    let base = SettlementRecord {
        cycle_id: scheme.cycle_id(totals.opened_after),
        kind: SettlementRecordKind::Position,
        currency: scheme.currency().to_string(),
        opened_after: totals.opened_after,
        cut_off: totals.cut_off,
        closed_at: now,
        routing_version: table.version(),
        participant: None,
        participant_name: None,
        gross_debit_minor: 0,
        gross_credit_minor: 0,
        net_minor: 0,
        debits: 0,
        credits: 0,
        participants: 1,
        clearing_records: 0,
        late_records: 0,
        partitions: partitions as i32,
    };
    let mut records: Vec<SettlementRecord> = totals
        .lines
        .iter()
        .map(|l| SettlementRecord {
            participant: Some(Agent::new(&l.network, &l.institution_id)),
            participant_name: table.find_participant(&l.network, &l.institution_id).map(|p| p.name.clone()),
            gross_debit_minor: l.debit_minor,
            gross_credit_minor: l.credit_minor,
            net_minor: l.credit_minor - l.debit_minor,
            debits: l.debits as i64,
            credits: l.credits as i64,
            ..base.clone()
        })
        .collect();
    let sum = |f: fn(&PositionLine) -> i64| totals.lines.iter().map(f).sum::<i64>();
    records.push(SettlementRecord {
        kind: SettlementRecordKind::Summary,
        gross_debit_minor: sum(|l| l.debit_minor),
        gross_credit_minor: sum(|l| l.credit_minor),
        net_minor: sum(|l| l.credit_minor - l.debit_minor),
        debits: sum(|l| l.debits as i64),
        credits: sum(|l| l.credits as i64),
        participants: totals.lines.len() as i32,
        clearing_records: totals.records as i64,
        late_records: totals.late as i64,
        ..base
    });
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::tests_support::MapMemory;
    use interlink_routing::{parse_routes_file, TEST_ROUTES_TOML};
    use interlink_schemas::Amount;

    const SCHEMES: &str = r#"
[[settlement]]
currency = "CNY"
time_zone = "Asia/Shanghai"
cut_offs = ["10:00", "16:00"]

[[settlement]]
currency = "HKD"
time_zone = "Asia/Hong_Kong"
cut_offs = ["16:00"]
"#;

    fn table() -> RoutingTable {
        let text = format!("{TEST_ROUTES_TOML}\n{SCHEMES}");
        let rules = parse_routes_file("test.toml", &text).unwrap();
        RoutingTable::compile(3, &rules).unwrap()
    }

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_microsecond()
    }

    fn clearing(
        debtor: (&str, &str),
        creditor: (&str, &str),
        debit: (i64, &str),
        credit: (i64, &str),
        at: i64,
    ) -> ClearingRecord {
        let mut c = crate::memory::tests_support::sample_clearing();
        c.debtor_agent = Agent::new(debtor.0, debtor.1);
        c.creditor_agent = Agent::new(creditor.0, creditor.1);
        c.debit_amount = Amount::new(debit.0, debit.1);
        c.credit_amount = Amount::new(credit.0, credit.1);
        c.cleared_at = at;
        c
    }

    fn apply(memory: &MapMemory, out: Vec<OutputRecord>) -> Vec<OutputRecord> {
        memory.take(out)
    }

    #[test]
    fn an_fx_payment_nets_in_both_currencies_against_the_fx_account_and_each_currency_sums_to_zero() {
        let t = table();
        let partitions = [MapMemory::default(), MapMemory::default()];
        let morning = at("2026-12-01T01:00:00Z"); // 09:00 in Shanghai and Hong Kong
        let mut c = clearing(("CN_IBPS", "102100099996"), ("HK_FPS", "004"), (10_000, "CNY"), (10_800, "HKD"), morning);
        let writes = count(&t, &partitions[0], &mut c, None).unwrap();
        assert!(apply(&partitions[0], writes).is_empty());
        // Cycles are named by the cut-off they opened at: yesterday's last.
        assert_eq!(c.debit_settlement_cycle.as_deref(), Some("CNY-20261130T160000+0800"));
        assert_eq!(c.credit_settlement_cycle.as_deref(), Some("HKD-20261130T160000+0800"));
        let mut d = clearing(("HK_FPS", "004"), ("HK_FPS", "012"), (500, "HKD"), (500, "HKD"), morning + 1);
        let writes = count(&t, &partitions[1], &mut d, None).unwrap();
        apply(&partitions[1], writes);

        // 16:00 Hong Kong has passed: both partitions report both currencies.
        let evening = at("2026-12-01T08:30:00Z");
        let mut parts = Vec::new();
        for (p, memory) in partitions.iter().enumerate() {
            let out = close_due(&t, memory, p as i32, evening).unwrap();
            parts.extend(apply(memory, out));
            // Nothing more is due a second later.
            assert!(apply(memory, close_due(&t, memory, p as i32, evening + 1_000_000).unwrap()).is_empty());
        }
        let netting = MapMemory::default();
        let mut netted = Vec::new();
        for o in parts {
            assert_eq!(o.topic, OutputTopic::Forwards);
            let part = CyclePart::decode(o.payload.as_ref().unwrap()).unwrap().unwrap();
            assert_eq!(o.key.as_deref(), Some(netting_key(&part.currency).as_bytes()));
            let (writes, records) = net(&t, &netting, part, 2, evening).unwrap().unwrap();
            apply(&netting, writes);
            netted.extend(records);
        }
        let hkd: Vec<_> = netted.iter().filter(|r| r.cycle_id == "HKD-20261130T160000+0800").collect();
        let position = |net: &str, id: &str| {
            hkd.iter()
                .find(|r| r.participant == Some(Agent::new(net, id)))
                .map(|r| (r.gross_debit_minor, r.gross_credit_minor, r.net_minor))
        };
        assert_eq!(position("INTERLINK", "FX"), Some((10_800, 0, -10_800)));
        assert_eq!(position("HK_FPS", "004"), Some((500, 10_800, 10_300)));
        assert_eq!(position("HK_FPS", "012"), Some((0, 500, 500)));
        let summary = hkd.iter().find(|r| r.kind == SettlementRecordKind::Summary).unwrap();
        assert_eq!((summary.net_minor, summary.clearing_records, summary.participants), (0, 2, 3));
        // The CNY cycle closed at 10:00 and the (empty) one closed at 16:00 are netted too.
        let cny: Vec<_> =
            netted.iter().filter(|r| r.currency == "CNY").map(|r| (r.cycle_id.as_str(), r.kind, r.net_minor)).collect();
        assert_eq!(
            cny,
            [
                ("CNY-20261130T160000+0800", SettlementRecordKind::Position, -10_000),
                ("CNY-20261130T160000+0800", SettlementRecordKind::Position, 10_000),
                ("CNY-20261130T160000+0800", SettlementRecordKind::Summary, 0),
                ("CNY-20261201T100000+0800", SettlementRecordKind::Summary, 0),
            ]
        );
    }

    #[test]
    fn a_cycle_waits_for_every_partition_and_a_record_after_its_cycle_closed_is_late_in_the_next() {
        let t = table();
        let (p0, p1, netting) = (MapMemory::default(), MapMemory::default(), MapMemory::default());
        let ten = at("2026-12-01T02:00:00Z");
        let mut c =
            clearing(("CN_IBPS", "102100099996"), ("CN_IBPS", "103100000026"), (700, "CNY"), (700, "CNY"), ten - 5);
        let writes = count(&t, &p0, &mut c, None).unwrap();
        apply(&p0, writes);
        let parts0 = apply(&p0, close_due(&t, &p0, 0, ten + 1).unwrap());
        let part = |o: &OutputRecord| CyclePart::decode(o.payload.as_ref().unwrap()).unwrap().unwrap();
        let (writes, records) = net(&t, &netting, part(&parts0[0]), 2, ten + 1).unwrap().unwrap();
        apply(&netting, writes);
        assert!(records.is_empty(), "partition 1 has not reported");
        // Partition 1's clock is behind: it counts a record stamped before 10:00 after
        // its own cut-off report... first it reports (nothing), then the record is late.
        let parts1 = apply(&p1, close_due(&t, &p1, 1, ten + 2).unwrap());
        let mut late =
            clearing(("CN_IBPS", "103100000026"), ("CN_IBPS", "102100099996"), (50, "CNY"), (50, "CNY"), ten - 1);
        let writes = count(&t, &p1, &mut late, None).unwrap();
        apply(&p1, writes);
        assert_eq!(late.debit_settlement_cycle.as_deref(), Some("CNY-20261201T100000+0800"), "the open one");
        let (writes, records) = net(&t, &netting, part(&parts1[0]), 2, ten + 3).unwrap().unwrap();
        apply(&netting, writes);
        let summary = records.last().unwrap();
        assert_eq!(
            (summary.cycle_id.as_str(), summary.clearing_records, summary.gross_debit_minor),
            ("CNY-20261130T160000+0800", 1, 700)
        );
        // The next cycle carries the late record.
        let four = at("2026-12-01T08:00:00Z");
        let mut all = Vec::new();
        for (p, m) in [(0, &p0), (1, &p1)] {
            for o in apply(m, close_due(&t, m, p, four).unwrap()) {
                let (writes, records) = net(&t, &netting, part(&o), 2, four).unwrap().unwrap();
                apply(&netting, writes);
                all.extend(records);
            }
        }
        let summary = all.iter().find(|r| r.kind == SettlementRecordKind::Summary && r.currency == "CNY").unwrap();
        assert_eq!((summary.clearing_records, summary.late_records, summary.gross_debit_minor), (1, 1, 50));
        // A part for a cycle already netted is refused, not counted again.
        let again = CyclePart { currency: "CNY".into(), partition: 0, totals: CycleTotals::new(ten, ten - 1) };
        assert!(matches!(net(&t, &netting, again, 2, four).unwrap(), Err(PartRefused::AlreadyNetted { .. })));
    }

    #[test]
    fn an_operators_cut_off_closes_the_open_cycle_with_all_it_holds() {
        let before = table();
        let p0 = MapMemory::default();
        let nine = at("2026-12-01T01:00:00Z");
        let mut c =
            clearing(("CN_IBPS", "102100099996"), ("CN_IBPS", "103100000026"), (700, "CNY"), (700, "CNY"), nine);
        let writes = count(&before, &p0, &mut c, None).unwrap();
        apply(&p0, writes);
        // At 09:10 the operator closes the CNY cycle at 09:10:05 (a new table version).
        let text = format!(
            "{TEST_ROUTES_TOML}\n{}",
            SCHEMES.replacen(
                "cut_offs = [\"10:00\", \"16:00\"]",
                "cut_offs = [\"10:00\", \"16:00\"]\nmanual_cut_offs = [\"2026-12-01T01:10:05Z\"]",
                1
            )
        );
        let after = RoutingTable::compile(4, &parse_routes_file("t.toml", &text).unwrap()).unwrap();
        let closed = apply(&p0, close_due(&after, &p0, 0, at("2026-12-01T01:10:06Z")).unwrap());
        let parts: Vec<CyclePart> =
            closed.iter().map(|o| CyclePart::decode(o.payload.as_ref().unwrap()).unwrap().unwrap()).collect();
        let cny: Vec<_> =
            parts.iter().filter(|p| p.currency == "CNY").map(|p| (p.totals.cut_off, p.totals.records)).collect();
        assert_eq!(cny, [(at("2026-12-01T01:10:05Z"), 1)], "closed early, with the record counted before the close");
        // Later records open the next cycle, named by the operator's cut-off.
        let mut d = clearing(
            ("CN_IBPS", "102100099996"),
            ("CN_IBPS", "103100000026"),
            (5, "CNY"),
            (5, "CNY"),
            at("2026-12-01T01:11:00Z"),
        );
        apply(&p0, count(&after, &p0, &mut d, None).unwrap());
        assert_eq!(d.debit_settlement_cycle.as_deref(), Some("CNY-20261201T091005+0800"));
    }

    #[test]
    fn an_indirect_participant_is_netted_in_its_sponsors_position() {
        let text = format!(
            "{TEST_ROUTES_TOML}\n{SCHEMES}\n[[participants]]\nnetwork = \"HK_FPS\"\ninstitution_id = \"388\"\nname = \"A small bank\"\nsettlement_currency = \"HKD\"\nsettles_through = {{ network = \"HK_FPS\", institution_id = \"004\" }}\n"
        );
        let t = RoutingTable::compile(5, &parse_routes_file("t.toml", &text).unwrap()).unwrap();
        let (p0, netting) = (MapMemory::default(), MapMemory::default());
        let nine = at("2026-12-01T01:00:00Z");
        let mut c = clearing(("HK_FPS", "388"), ("HK_FPS", "004"), (900, "HKD"), (900, "HKD"), nine);
        apply(&p0, count(&t, &p0, &mut c, None).unwrap());
        let mut records = Vec::new();
        for o in apply(&p0, close_due(&t, &p0, 0, at("2026-12-01T08:00:00Z")).unwrap()) {
            let part = CyclePart::decode(o.payload.as_ref().unwrap()).unwrap().unwrap();
            let (writes, netted) = net(&t, &netting, part, 1, nine).unwrap().unwrap();
            apply(&netting, writes);
            records.extend(netted);
        }
        let hkd: Vec<_> = records
            .iter()
            .filter(|r| r.currency == "HKD" && r.kind == SettlementRecordKind::Position)
            .map(|r| (r.participant.clone().unwrap(), r.gross_debit_minor, r.gross_credit_minor))
            .collect();
        assert_eq!(hkd, [(Agent::new("HK_FPS", "004"), 900, 900)], "one position: the sponsor's");
    }
}
