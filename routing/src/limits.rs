//! Per-person corridor limits, as the cross-border schemes set them: so much per
//! person per calendar day, month or year, counted in the corridor's own time zone
//! (Payment Connect northbound: HKD 10,000 a day and HKD 200,000 a year per person,
//! Hong Kong time). The table holds the rules; the decision core keeps the usage.

use crate::table::{invalid, RuleError};
use interlink_vocab::money::currency_exponent;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The period a limit counts over: a calendar day, month or year, or (a velocity rule)
/// the last `window_seconds` before each payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPeriod {
    Day,
    Month,
    Year,
    Rolling,
}

/// A rolling window is counted in buckets of a thirtieth of the window: a payment
/// leaves the window up to one bucket late, never early (the control errs strict).
pub const ROLLING_BUCKETS: i64 = 30;

/// A limit on what one person may pay through a corridor in a calendar period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Names the rule in refusals and usage (`payment-connect-north-daily`).
    pub id: String,
    /// The debtor's network.
    pub from: String,
    /// The creditor's network.
    pub to: String,
    pub period: LimitPeriod,
    /// IANA time zone whose calendar the period follows (`Asia/Hong_Kong`).
    pub time_zone: String,
    /// The limit's currency; payments in another are converted at the table's rates.
    pub currency: String,
    pub max_amount_minor: i64,
    /// The window of a `rolling` period, in seconds (only there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u32>,
    /// At most this many payments per person per period (a velocity rule), besides the
    /// amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payments: Option<u32>,
}

/// One calendar period of a limit: its label (`2026-12-01`, `2026-12`, `2026`) and
/// when it ends (µs since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSpan {
    pub label: String,
    pub ends_at: i64,
}

/// A limit with its time zone resolved.
#[derive(Debug, Clone)]
pub struct CompiledLimit {
    pub rule: Limit,
    time_zone: TimeZone,
}

impl CompiledLimit {
    pub fn compile(rule: &Limit) -> Result<Self, RuleError> {
        let time_zone = TimeZone::get(&rule.time_zone)
            .map_err(|e| invalid("time_zone", format!("{:?} is not an IANA time zone: {e}", rule.time_zone)))?;
        Ok(Self { rule: rule.clone(), time_zone })
    }

    /// The width of a rolling window's buckets, in µs.
    fn bucket_micros(&self) -> i64 {
        let window = i64::from(self.rule.window_seconds.unwrap_or(1)) * 1_000_000;
        (window / ROLLING_BUCKETS).max(1_000_000)
    }

    /// The periods whose usage counts for a payment at `at`: its calendar period, or the
    /// buckets of the rolling window that ends at `at`, oldest first.
    pub fn window_labels(&self, at: i64) -> Vec<String> {
        if self.rule.period != LimitPeriod::Rolling {
            return vec![self.period_of(at).label];
        }
        let width = self.bucket_micros();
        let window = i64::from(self.rule.window_seconds.unwrap_or(1)) * 1_000_000;
        // The bucket holding `at - window` counts whole: strict, never lenient.
        let (first, last) = ((at - window).div_euclid(width), at.div_euclid(width));
        (first..=last).map(|b| format!("r{b}")).collect()
    }

    /// The period that the moment `at` (µs since the epoch) falls in, on the limit's
    /// local calendar (DST-correct: a local day may last 23 or 25 hours); for a rolling
    /// window, the bucket that `at` falls in.
    pub fn period_of(&self, at: i64) -> PeriodSpan {
        let local_date = || {
            let ts = Timestamp::from_microsecond(at).unwrap_or(Timestamp::UNIX_EPOCH);
            ts.to_zoned(self.time_zone.clone()).date()
        };
        let (label, next) = match self.rule.period {
            LimitPeriod::Day => {
                let date = local_date();
                (date.to_string(), date.checked_add(1.day()))
            }
            LimitPeriod::Month => {
                let date = local_date();
                (format!("{:04}-{:02}", date.year(), date.month()), date.first_of_month().checked_add(1.month()))
            }
            LimitPeriod::Year => {
                let date = local_date();
                (format!("{:04}", date.year()), date.first_of_year().checked_add(1.year()))
            }
            LimitPeriod::Rolling => {
                let width = self.bucket_micros();
                let bucket = at.div_euclid(width);
                return PeriodSpan { label: format!("r{bucket}"), ends_at: (bucket + 1).saturating_mul(width) };
            }
        };
        // Local midnight at the start of the next period (the earlier instant when a
        // DST change makes it ambiguous).
        let ends_at = next
            .ok()
            .and_then(|d: Date| d.to_zoned(self.time_zone.clone()).ok())
            .map_or(i64::MAX, |z| z.timestamp().as_microsecond());
        PeriodSpan { label, ends_at }
    }
}

/// Checks a limit on its own: a name, known networks, an IANA zone, an ISO currency,
/// a positive amount.
pub(crate) fn check_limit(l: &Limit) -> Result<(), RuleError> {
    if l.id.is_empty() || l.id.len() > 64 || !l.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(invalid("id", format!("{:?} must be 1 to 64 letters, digits, '-', '_' or '.'", l.id)));
    }
    crate::table::known_network(&l.from)?;
    crate::table::known_network(&l.to)?;
    currency_exponent(&l.currency).map_err(|source| RuleError::Money { field: "currency", source })?;
    if l.max_amount_minor <= 0 {
        return Err(invalid("max_amount", format!("must be greater than zero, got {}", l.max_amount_minor)));
    }
    match (l.period, l.window_seconds) {
        (LimitPeriod::Rolling, Some(w)) if (1..=366 * 86_400).contains(&w) => {}
        (LimitPeriod::Rolling, _) => return Err(invalid("window_seconds", "a rolling period needs 1 s to 366 days")),
        (_, Some(_)) => return Err(invalid("window_seconds", "only a rolling period has a window")),
        (_, None) => {}
    }
    if l.max_payments == Some(0) {
        return Err(invalid("max_payments", "must be at least 1"));
    }
    CompiledLimit::compile(l).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(period: LimitPeriod, zone: &str) -> CompiledLimit {
        CompiledLimit::compile(&Limit {
            id: "l".into(),
            from: "HK_FPS".into(),
            to: "CN_IBPS".into(),
            period,
            time_zone: zone.into(),
            currency: "HKD".into(),
            max_amount_minor: 1_000_000,
            window_seconds: (period == LimitPeriod::Rolling).then_some(3_600),
            max_payments: None,
        })
        .unwrap()
    }

    #[test]
    fn a_rolling_window_is_the_thirty_buckets_that_end_at_the_payment() {
        let hour = limit(LimitPeriod::Rolling, "UTC");
        // Buckets of 120 s: at 10:00:30 the window runs from the bucket of 09:00:30.
        let at = micros("2026-12-01T10:00:30Z");
        let labels = hour.window_labels(at);
        assert_eq!(labels.len(), 31);
        let bucket = |t: &str| format!("r{}", micros(t) / 120_000_000);
        assert_eq!(labels.last(), Some(&bucket("2026-12-01T10:00:30Z")));
        assert_eq!(labels[0], bucket("2026-12-01T09:00:30Z"), "an hour ago still counts");
        assert!(!labels.contains(&bucket("2026-12-01T08:59:59Z")), "before its bucket, out");
        assert_eq!(hour.period_of(at).label, bucket("2026-12-01T10:00:30Z"));
        assert_eq!(hour.period_of(at).ends_at, micros("2026-12-01T10:02:00Z"));
        // A calendar limit counts its one period.
        assert_eq!(limit(LimitPeriod::Day, "Asia/Hong_Kong").window_labels(at), ["2026-12-01"]);
    }

    fn micros(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn a_hong_kong_day_runs_from_local_midnight_to_local_midnight() {
        let day = limit(LimitPeriod::Day, "Asia/Hong_Kong");
        // 15:59:59 UTC is 23:59:59 in Hong Kong; a second later it is the next day.
        let late = day.period_of(micros("2026-12-01T15:59:59Z"));
        assert_eq!(late.label, "2026-12-01");
        assert_eq!(late.ends_at, micros("2026-12-01T16:00:00Z"));
        assert_eq!(day.period_of(micros("2026-12-01T16:00:00Z")).label, "2026-12-02");
        assert_eq!(day.period_of(micros("2026-11-30T16:00:00Z")).label, "2026-12-01");
    }

    #[test]
    fn months_and_years_follow_the_local_calendar() {
        let year = limit(LimitPeriod::Year, "Asia/Shanghai");
        let new_year = year.period_of(micros("2026-12-31T16:00:00Z"));
        assert_eq!(new_year.label, "2027");
        assert_eq!(new_year.ends_at, micros("2027-12-31T16:00:00Z"));
        let month = limit(LimitPeriod::Month, "Asia/Shanghai");
        assert_eq!(month.period_of(micros("2026-02-28T16:00:00Z")).label, "2026-03");
        assert_eq!(month.period_of(micros("2026-02-28T15:59:59Z")).ends_at, micros("2026-02-28T16:00:00Z"));
    }

    #[test]
    fn a_day_across_a_dst_change_lasts_as_long_as_it_does_locally() {
        // Europe/Berlin springs forward on 2026-03-29: that local day has 23 hours.
        let day = limit(LimitPeriod::Day, "Europe/Berlin");
        let start = micros("2026-03-28T23:00:00Z");
        let span = day.period_of(start);
        assert_eq!(span.label, "2026-03-29");
        assert_eq!(span.ends_at - start, 23 * 3_600_000_000);
    }

    #[test]
    fn rules_are_checked() {
        let mut l = limit(LimitPeriod::Day, "Asia/Hong_Kong").rule;
        assert!(check_limit(&l).is_ok());
        l.time_zone = "Asia/Atlantis".into();
        assert!(check_limit(&l).unwrap_err().to_string().contains("IANA"));
        l.time_zone = "Asia/Hong_Kong".into();
        l.max_amount_minor = 0;
        assert!(check_limit(&l).is_err());
        l.max_amount_minor = 1;
        l.id = "has space".into();
        assert!(check_limit(&l).is_err());
        l.id = "ok".into();
        l.window_seconds = Some(60);
        assert!(check_limit(&l).unwrap_err().to_string().contains("only a rolling period"));
        l.period = LimitPeriod::Rolling;
        assert!(check_limit(&l).is_ok());
        l.window_seconds = None;
        assert!(check_limit(&l).is_err());
        l.window_seconds = Some(60);
        l.max_payments = Some(0);
        assert!(check_limit(&l).is_err());
    }
}
