//! Settlement schemes: when the clearing records of one currency are netted. A scheme
//! closes a cycle at cut-off times of day on its business days, in an IANA time zone
//! (or every so many minutes), and at the cut-offs an operator adds
//! (`interlinkctl settlement close`). Cycle `C` holds the clearing records cleared
//! after the previous cut-off and at or before `C`'s own: each record in exactly one.

use crate::model::InstitutionRef;
use crate::table::{invalid, RuleError};
use interlink_vocab::money::currency_exponent;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// How far a schedule is searched for its next or previous cut-off (a scheme whose
/// business days are all holidays for longer never closes).
const SEARCH_DAYS: i32 = 400;

/// The network of the switch's own FX settlement account, the default other side of an
/// FX payment's legs.
pub const SWITCH_NETWORK: &str = "INTERLINK";
/// The switch's own FX settlement account in [`SWITCH_NETWORK`].
pub const SWITCH_FX_ACCOUNT: &str = "FX";

/// A day of the week as operators write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessDay {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl BusinessDay {
    fn weekday(self) -> Weekday {
        match self {
            Self::Mon => Weekday::Monday,
            Self::Tue => Weekday::Tuesday,
            Self::Wed => Weekday::Wednesday,
            Self::Thu => Weekday::Thursday,
            Self::Fri => Weekday::Friday,
            Self::Sat => Weekday::Saturday,
            Self::Sun => Weekday::Sunday,
        }
    }
}

fn weekdays() -> Vec<BusinessDay> {
    use BusinessDay::*;
    vec![Mon, Tue, Wed, Thu, Fri]
}

fn is_weekdays(days: &[BusinessDay]) -> bool {
    days == weekdays().as_slice()
}

/// How one currency is settled: its netting cycles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementScheme {
    /// The settlement currency (ISO 4217): every clearing leg in it is netted here.
    pub currency: String,
    /// IANA time zone of the cut-offs and business days (`Asia/Hong_Kong`).
    pub time_zone: String,
    /// Local times of day ("HH:MM") at which a cycle closes on each business day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cut_offs: Vec<String>,
    /// Or a cycle every so many minutes from local midnight on business days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_minutes: Option<u32>,
    /// Days on which cycles close (default Monday to Friday).
    #[serde(default = "weekdays", skip_serializing_if = "is_weekdays")]
    pub business_days: Vec<BusinessDay>,
    /// Local dates (YYYY-MM-DD) on which no cycle closes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
    /// The other side of FX payments' legs in this currency (the FX provider's
    /// settlement account); without it, the switch's own FX account
    /// (`INTERLINK/FX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx_participant: Option<InstitutionRef>,
    /// Cut-offs operators added (`interlinkctl settlement close`), RFC 3339.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_cut_offs: Vec<String>,
}

/// How far a participant may go into debit in one currency between cut-offs: its net
/// debit cap plus what it prefunded. A payment that would take its net position (the
/// open cycles' credits minus debits, and what its payments in flight hold) past that
/// is refused (AM04). Each of the switch's partitions enforces its share (see
/// docs/settlement.md), so the participant never goes past the whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetDebitCap {
    pub network: String,
    pub institution_id: String,
    pub currency: String,
    pub net_debit_cap_minor: i64,
    /// Collateral the participant placed with the settlement bank.
    #[serde(default)]
    pub prefunded_minor: i64,
}

impl NetDebitCap {
    /// What the participant may owe in all: cap and collateral.
    pub fn total_minor(&self) -> i64 {
        self.net_debit_cap_minor.saturating_add(self.prefunded_minor)
    }

    /// Partition `p`'s share of the total, of `partitions`: the shares add up to it.
    pub fn share_minor(&self, p: i32, partitions: u32) -> i64 {
        let n = i64::from(partitions.max(1));
        let total = self.total_minor();
        total / n + i64::from(i64::from(p) < total % n)
    }
}

pub(crate) fn check_cap(c: &NetDebitCap) -> Result<(), RuleError> {
    crate::table::check_institution(&InstitutionRef {
        network: c.network.clone(),
        institution_id: c.institution_id.clone(),
    })?;
    currency_exponent(&c.currency).map_err(|source| RuleError::Money { field: "currency", source })?;
    if c.net_debit_cap_minor < 0 || c.prefunded_minor < 0 {
        return Err(invalid("net_debit_cap", "the cap and the prefunded amount must not be negative"));
    }
    Ok(())
}

/// A scheme with its zone, times and dates resolved.
#[derive(Debug, Clone)]
pub struct CompiledScheme {
    pub rule: SettlementScheme,
    time_zone: TimeZone,
    /// Local times of the scheduled cut-offs, ascending.
    times: Vec<Time>,
    business_days: Vec<Weekday>,
    holidays: Vec<Date>,
    /// Operators' cut-offs, µs since the epoch, ascending.
    manual: Vec<i64>,
    fx_participant: InstitutionRef,
}

fn parse_time(text: &str) -> Result<Time, RuleError> {
    let problem = || invalid("cut_offs", format!("{text:?} is not a local time like \"16:00\""));
    let (h, m) = text.split_once(':').ok_or_else(problem)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| problem())?, m.parse().map_err(|_| problem())?);
    Time::new(h, m, 0, 0).map_err(|_| problem())
}

fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

impl CompiledScheme {
    pub fn compile(rule: &SettlementScheme) -> Result<Self, RuleError> {
        currency_exponent(&rule.currency).map_err(|source| RuleError::Money { field: "currency", source })?;
        let time_zone = TimeZone::get(&rule.time_zone)
            .map_err(|e| invalid("time_zone", format!("{:?} is not an IANA time zone: {e}", rule.time_zone)))?;
        let mut times: Vec<Time> = rule.cut_offs.iter().map(|t| parse_time(t)).collect::<Result<_, _>>()?;
        match (rule.every_minutes, times.is_empty()) {
            (Some(n), true) => {
                if !(1..=1_440).contains(&n) || 1_440 % n != 0 {
                    return Err(invalid("every_minutes", format!("{n} must divide a day (1 to 1440)")));
                }
                times = (0..1_440 / n)
                    .map(|i| {
                        let minute = i * n;
                        Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).expect("a minute of the day")
                    })
                    .collect();
            }
            (None, false) => {}
            (Some(_), false) => return Err(invalid("cut_offs", "give cut_offs or every_minutes, not both")),
            (None, true) => return Err(invalid("cut_offs", "give cut_offs or every_minutes")),
        }
        times.sort();
        times.dedup();
        if rule.business_days.is_empty() {
            return Err(invalid("business_days", "must name at least one day"));
        }
        let holidays = rule
            .holidays
            .iter()
            .map(|d| d.parse::<Date>().map_err(|_| invalid("holidays", format!("{d:?} is not a date like 2026-12-25"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut manual = rule
            .manual_cut_offs
            .iter()
            .map(|t| {
                t.parse::<Timestamp>()
                    .map(micros)
                    .map_err(|_| invalid("manual_cut_offs", format!("{t:?} is not an RFC 3339 time")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        manual.sort_unstable();
        let fx_participant = rule.fx_participant.clone().unwrap_or_else(|| InstitutionRef {
            network: SWITCH_NETWORK.into(),
            institution_id: SWITCH_FX_ACCOUNT.into(),
        });
        Ok(Self {
            rule: rule.clone(),
            time_zone,
            times,
            business_days: rule.business_days.iter().map(|d| d.weekday()).collect(),
            holidays,
            manual,
            fx_participant,
        })
    }

    pub fn currency(&self) -> &str {
        &self.rule.currency
    }

    /// Who takes the other side of FX legs in this currency.
    pub fn fx_participant(&self) -> &InstitutionRef {
        &self.fx_participant
    }

    fn local_date(&self, at: i64) -> Date {
        Timestamp::from_microsecond(at).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.time_zone.clone()).date()
    }

    /// The scheduled cut-offs of local `date`, ascending (none on a day off).
    fn cut_offs_on(&self, date: Date) -> impl DoubleEndedIterator<Item = i64> + '_ {
        let open = self.business_days.contains(&date.weekday()) && !self.holidays.contains(&date);
        let times = if open { self.times.as_slice() } else { &[] };
        // A time a DST change skips closes at the moment after the gap (jiff's
        // "compatible" choice), one that repeats at its first occurrence.
        times
            .iter()
            .filter_map(move |t| date.to_datetime(*t).to_zoned(self.time_zone.clone()).ok())
            .map(|z| micros(z.timestamp()))
    }

    /// The cut-off of the cycle a record cleared at `at` falls in: the first cut-off at
    /// or after it (`i64::MAX` if the schedule has none within a year).
    pub fn cycle_of(&self, at: i64) -> i64 {
        let manual = self.manual.iter().copied().find(|&m| m >= at).unwrap_or(i64::MAX);
        let start = self.local_date(at);
        let scheduled = (0..SEARCH_DAYS)
            .filter_map(|d| start.checked_add(d.days()).ok())
            .find_map(|date| self.cut_offs_on(date).find(|&c| c >= at))
            .unwrap_or(i64::MAX);
        scheduled.min(manual)
    }

    /// The latest cut-off at or before `at` (`i64::MIN` if none within a year).
    pub fn cut_off_before(&self, at: i64) -> i64 {
        let manual = self.manual.iter().rev().copied().find(|&m| m <= at).unwrap_or(i64::MIN);
        let start = self.local_date(at);
        let scheduled = (0..SEARCH_DAYS)
            .filter_map(|d| start.checked_sub(d.days()).ok())
            .find_map(|date| self.cut_offs_on(date).rev().find(|&c| c <= at))
            .unwrap_or(i64::MIN);
        scheduled.max(manual)
    }

    /// The name of the cycle that closes at `cut_off`: the currency and the local
    /// cut-off with its UTC offset (`HKD-20261201T160000+0800`).
    pub fn cycle_id(&self, cut_off: i64) -> String {
        let local =
            Timestamp::from_microsecond(cut_off).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.time_zone.clone());
        format!("{}-{}", self.rule.currency, local.strftime("%Y%m%dT%H%M%S%z"))
    }
}

/// Checks a scheme on its own.
pub(crate) fn check_scheme(s: &SettlementScheme) -> Result<(), RuleError> {
    CompiledScheme::compile(s)?;
    if let Some(fx) = &s.fx_participant {
        crate::table::known_network(&fx.network)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(cut_offs: &[&str]) -> SettlementScheme {
        SettlementScheme {
            currency: "HKD".into(),
            time_zone: "Asia/Hong_Kong".into(),
            cut_offs: cut_offs.iter().map(|s| s.to_string()).collect(),
            every_minutes: None,
            business_days: weekdays(),
            holidays: vec!["2026-12-25".into()],
            fx_participant: None,
            manual_cut_offs: vec![],
        }
    }

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn a_record_falls_in_the_first_cut_off_at_or_after_it_on_business_days() {
        let s = CompiledScheme::compile(&scheme(&["16:00", "10:00"])).unwrap();
        // Tuesday 2026-12-01, 09:00 Hong Kong: the 10:00 cycle.
        assert_eq!(s.cycle_of(at("2026-12-01T01:00:00Z")), at("2026-12-01T02:00:00Z"));
        // Exactly at the cut-off: still in it.
        assert_eq!(s.cycle_of(at("2026-12-01T02:00:00Z")), at("2026-12-01T02:00:00Z"));
        assert_eq!(s.cycle_of(at("2026-12-01T02:00:00.000001Z")), at("2026-12-01T08:00:00Z"));
        // Friday evening: Monday 10:00.
        assert_eq!(s.cycle_of(at("2026-12-04T09:00:00Z")), at("2026-12-07T02:00:00Z"));
        // Thursday 24 December evening: Christmas is a holiday, so Monday 28th.
        assert_eq!(s.cycle_of(at("2026-12-24T09:00:00Z")), at("2026-12-28T02:00:00Z"));
        assert_eq!(s.cut_off_before(at("2026-12-28T01:00:00Z")), at("2026-12-24T08:00:00Z"));
        assert_eq!(s.cycle_id(at("2026-12-01T08:00:00Z")), "HKD-20261201T160000+0800");
    }

    #[test]
    fn cut_offs_follow_daylight_saving_time() {
        let mut rule = scheme(&["17:00"]);
        rule.currency = "USD".into();
        rule.time_zone = "America/New_York".into();
        rule.holidays.clear();
        let s = CompiledScheme::compile(&rule).unwrap();
        // 17:00 New York is 21:00 UTC in summer (EDT) and 22:00 UTC in winter (EST).
        assert_eq!(s.cycle_of(at("2026-10-30T12:00:00Z")), at("2026-10-30T21:00:00Z"));
        assert_eq!(s.cycle_of(at("2026-11-02T12:00:00Z")), at("2026-11-02T22:00:00Z"));
    }

    #[test]
    fn every_n_minutes_and_operator_cut_offs_split_the_day() {
        let mut rule = scheme(&[]);
        rule.every_minutes = Some(15);
        rule.manual_cut_offs = vec!["2026-12-01T02:07:30Z".into()];
        let s = CompiledScheme::compile(&rule).unwrap();
        assert_eq!(s.cycle_of(at("2026-12-01T02:01:00Z")), at("2026-12-01T02:07:30Z"));
        assert_eq!(s.cycle_of(at("2026-12-01T02:08:00Z")), at("2026-12-01T02:15:00Z"));
        assert_eq!(s.cut_off_before(at("2026-12-01T02:10:00Z")), at("2026-12-01T02:07:30Z"));
        assert_eq!(s.cut_off_before(at("2026-12-01T02:20:00Z")), at("2026-12-01T02:15:00Z"));
    }

    #[test]
    fn a_caps_partition_shares_add_up_to_the_cap_and_collateral() {
        let cap = NetDebitCap {
            network: "HK_FPS".into(),
            institution_id: "004".into(),
            currency: "HKD".into(),
            net_debit_cap_minor: 1_000_003,
            prefunded_minor: 20,
        };
        let shares: Vec<i64> = (0..4).map(|p| cap.share_minor(p, 4)).collect();
        assert_eq!(shares, [250_006, 250_006, 250_006, 250_005]);
        assert_eq!(shares.iter().sum::<i64>(), cap.total_minor());
    }

    #[test]
    fn bad_schedules_are_refused_with_the_field() {
        let mut both = scheme(&["16:00"]);
        both.every_minutes = Some(30);
        let mut odd = scheme(&[]);
        odd.every_minutes = Some(7);
        let mut zone = scheme(&["16:00"]);
        zone.time_zone = "Mars/Olympus".into();
        for (rule, field) in
            [(both, "cut_offs"), (odd, "every_minutes"), (zone, "time_zone"), (scheme(&["25:00"]), "cut_offs")]
        {
            let e = CompiledScheme::compile(&rule).unwrap_err().to_string();
            assert!(e.starts_with(field), "{e}");
        }
    }
}
