//! The operators' routing-table file (TOML), documented in docs/routing.md, with a
//! JSON Schema in docs/routes.schema.json. Every problem is reported with its line,
//! and an exported table parses back to exactly the same rules.

use super::model::{
    AliasScheme, Anomaly, AnomalyAction, AnomalyPattern, Block, Corridor, FxRate, Identity, Limit, LimitPeriod,
    NetDebitCap, NetworkSettings, OperatingWindow, Participant, QrScheme, RouteKey, RouteRecord, SettlementScheme,
};
use super::table::{check_record, invalid, RoutingTable, RuleError};
use interlink_vocab::money::{format_minor, parse_major};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use toml::Spanned;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct RoutesFileError {
    /// `file:line: message`, one per problem.
    pub problems: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutesFileIn {
    #[serde(default)]
    participants: Vec<Spanned<Participant>>,
    #[serde(default)]
    identities: Vec<Spanned<Identity>>,
    #[serde(default)]
    rates: Vec<Spanned<FxRate>>,
    #[serde(default)]
    corridors: Vec<Spanned<FileCorridor>>,
    #[serde(default)]
    qr_schemes: Vec<Spanned<QrScheme>>,
    #[serde(default)]
    alias_schemes: Vec<Spanned<AliasScheme>>,
    #[serde(default)]
    networks: Vec<Spanned<NetworkSettings>>,
    #[serde(default)]
    limits: Vec<Spanned<FileLimit>>,
    #[serde(default)]
    anomalies: Vec<Spanned<FileAnomaly>>,
    #[serde(default)]
    blocks: Vec<Spanned<Block>>,
    #[serde(default)]
    settlement: Vec<Spanned<SettlementScheme>>,
    #[serde(default)]
    caps: Vec<Spanned<FileCap>>,
}

/// The same sections, for export.
#[derive(Debug, Default, Serialize)]
struct RoutesFileOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    participants: Vec<Participant>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identities: Vec<Identity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rates: Vec<FxRate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    corridors: Vec<FileCorridor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    qr_schemes: Vec<QrScheme>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alias_schemes: Vec<AliasScheme>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    networks: Vec<NetworkSettings>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    limits: Vec<FileLimit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    anomalies: Vec<FileAnomaly>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocks: Vec<Block>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    settlement: Vec<SettlementScheme>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    caps: Vec<FileCap>,
}

/// A net debit cap as operators write it: amounts in major units.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCap {
    network: String,
    institution_id: String,
    currency: String,
    net_debit_cap: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefunded: Option<String>,
}

/// A limit as operators write it: the amount in major units ("10000.00").
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimit {
    id: String,
    from: String,
    to: String,
    period: LimitPeriod,
    time_zone: String,
    currency: String,
    max_amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_payments: Option<u32>,
}

/// An anomaly rule as operators write it: the floor in major units ("1000.00"), the
/// deviations as decimal text ("6" or "4.5").
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAnomaly {
    id: String,
    from: String,
    to: String,
    pattern: AnomalyPattern,
    action: AnomalyAction,
    currency: String,
    min_amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deviations: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_payments: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    half_life_payments: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_debtors: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new_for_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_payments: Option<u32>,
    /// `creditor_velocity`: in major units of the rule's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_amount: Option<String>,
}

/// A corridor as operators write it: decimal text for rates and amounts, windows as
/// "mon-fri 08:00-22:00 +08:00".
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCorridor {
    from: String,
    to: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    source_currency: String,
    destination_currency: String,
    /// Decimal text, so no precision is lost to floating point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fx_rate: Option<String>,
    /// Or the name of a `[[rates]]` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate_source: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    spread_bps: u32,
    /// In the source currency's major units ("80000.00").
    max_amount: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    windows: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Parses and checks a routing-table file, each rule on its own and then the table
/// as a whole (identities, rate sources); `name` is used in messages.
pub fn parse_routes_file(name: &str, text: &str) -> Result<Vec<RouteRecord>, RoutesFileError> {
    let file: RoutesFileIn = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        RoutesFileError { problems: vec![format!("{name}:{line}: {}", e.message())] }
    })?;
    let mut problems = Vec::new();
    let mut records = Vec::new();
    let mut seen: HashMap<RouteKey, usize> = HashMap::new();
    let mut add = |record: Result<RouteRecord, RuleError>, line: usize| {
        let record = match record.and_then(|r| check_record(&r).map(|()| r)) {
            Ok(r) => r,
            Err(e) => return problems.push(format!("{name}:{line}: {e}")),
        };
        let key = record.key();
        if let Some(first) = seen.insert(key.clone(), line) {
            return problems.push(format!("{name}:{line}: duplicate key {key}, first defined on line {first}"));
        }
        records.push(record);
    };
    let at = |start: usize| line_of(text, start);
    for p in file.participants {
        add(Ok(RouteRecord::Participant(p.get_ref().clone())), at(p.span().start));
    }
    for i in file.identities {
        add(Ok(RouteRecord::Identity(i.get_ref().clone())), at(i.span().start));
    }
    for r in file.rates {
        add(Ok(RouteRecord::Rate(r.get_ref().clone())), at(r.span().start));
    }
    for c in file.corridors {
        let line = at(c.span().start);
        add(corridor(c.into_inner()), line);
    }
    for q in file.qr_schemes {
        add(Ok(RouteRecord::QrScheme(q.get_ref().clone())), at(q.span().start));
    }
    for a in file.alias_schemes {
        add(Ok(RouteRecord::AliasScheme(a.get_ref().clone())), at(a.span().start));
    }
    for n in file.networks {
        add(Ok(RouteRecord::Network(n.get_ref().clone())), at(n.span().start));
    }
    for l in file.limits {
        let line = at(l.span().start);
        let l = l.into_inner();
        let limit = parse_major(&l.max_amount, &l.currency)
            .map_err(|source| RuleError::Money { field: "max_amount", source })
            .map(|max_amount_minor| {
                RouteRecord::Limit(Limit {
                    id: l.id,
                    from: l.from,
                    to: l.to,
                    period: l.period,
                    time_zone: l.time_zone,
                    currency: l.currency,
                    max_amount_minor,
                    window_seconds: l.window_seconds,
                    max_payments: l.max_payments,
                })
            });
        add(limit, line);
    }
    for a in file.anomalies {
        let line = at(a.span().start);
        add(anomaly(a.into_inner()), line);
    }
    for b in file.blocks {
        add(Ok(RouteRecord::Block(b.get_ref().clone())), at(b.span().start));
    }
    for s in file.settlement {
        add(Ok(RouteRecord::Settlement(s.get_ref().clone())), at(s.span().start));
    }
    for c in file.caps {
        let line = at(c.span().start);
        let c = c.into_inner();
        let minor = |field: &'static str, text: &str| {
            parse_major(text, &c.currency).map_err(|source| RuleError::Money { field, source })
        };
        let cap = minor("net_debit_cap", &c.net_debit_cap).and_then(|net_debit_cap_minor| {
            let prefunded_minor = c.prefunded.as_deref().map_or(Ok(0), |p| minor("prefunded", p))?;
            Ok(RouteRecord::Cap(NetDebitCap {
                network: c.network.clone(),
                institution_id: c.institution_id.clone(),
                currency: c.currency.clone(),
                net_debit_cap_minor,
                prefunded_minor,
            }))
        });
        add(cap, line);
    }
    if problems.is_empty() {
        // Rules that are fine alone may still not fit together.
        if let Err(e) = RoutingTable::compile(1, &records) {
            for problem in e.problems {
                let line = problem
                    .split_once(": ")
                    .and_then(|(key, _)| key.parse::<RouteKey>().ok())
                    .and_then(|key| seen.get(&key).copied())
                    .unwrap_or(1);
                problems.push(format!("{name}:{line}: {problem}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(RoutesFileError { problems })
    }
}

/// Writes rules in the file format; `parse_routes_file` of the result gives them back.
pub fn export_routes_file<'a>(records: impl IntoIterator<Item = &'a RouteRecord>) -> String {
    let mut out = RoutesFileOut::default();
    for r in records {
        match r {
            RouteRecord::Participant(p) => out.participants.push(p.clone()),
            RouteRecord::Identity(i) => out.identities.push(i.clone()),
            RouteRecord::Rate(x) => out.rates.push(x.clone()),
            RouteRecord::Corridor(c) => out.corridors.push(FileCorridor {
                from: c.from.clone(),
                to: c.to.clone(),
                enabled: c.enabled,
                source_currency: c.source_currency.clone(),
                destination_currency: c.destination_currency.clone(),
                fx_rate: c.fx_rate.map(|d| d.to_string()),
                rate_source: c.rate_source.clone(),
                spread_bps: c.spread_bps,
                max_amount: format_minor(c.max_amount_minor, &c.source_currency)
                    .unwrap_or_else(|_| c.max_amount_minor.to_string()),
                windows: c.windows.iter().map(format_window).collect(),
            }),
            RouteRecord::QrScheme(q) => out.qr_schemes.push(q.clone()),
            RouteRecord::AliasScheme(a) => out.alias_schemes.push(a.clone()),
            RouteRecord::Network(n) => out.networks.push(n.clone()),
            RouteRecord::Block(b) => out.blocks.push(b.clone()),
            RouteRecord::Settlement(x) => out.settlement.push(x.clone()),
            RouteRecord::Cap(c) => {
                let major = |minor: i64| format_minor(minor, &c.currency).unwrap_or_else(|_| minor.to_string());
                out.caps.push(FileCap {
                    network: c.network.clone(),
                    institution_id: c.institution_id.clone(),
                    currency: c.currency.clone(),
                    net_debit_cap: major(c.net_debit_cap_minor),
                    prefunded: (c.prefunded_minor != 0).then(|| major(c.prefunded_minor)),
                })
            }
            RouteRecord::Limit(l) => out.limits.push(FileLimit {
                id: l.id.clone(),
                from: l.from.clone(),
                to: l.to.clone(),
                period: l.period,
                time_zone: l.time_zone.clone(),
                currency: l.currency.clone(),
                max_amount: format_minor(l.max_amount_minor, &l.currency)
                    .unwrap_or_else(|_| l.max_amount_minor.to_string()),
                window_seconds: l.window_seconds,
                max_payments: l.max_payments,
            }),
            RouteRecord::Anomaly(a) => out.anomalies.push(FileAnomaly {
                id: a.id.clone(),
                from: a.from.clone(),
                to: a.to.clone(),
                pattern: a.pattern,
                action: a.action,
                currency: a.currency.clone(),
                min_amount: format_minor(a.min_amount_minor, &a.currency)
                    .unwrap_or_else(|_| a.min_amount_minor.to_string()),
                deviations: a.deviations.map(|d| d.normalize().to_string()),
                min_payments: a.min_payments,
                half_life_payments: a.half_life_payments,
                retention_days: a.retention_days,
                min_debtors: a.min_debtors,
                window_seconds: a.window_seconds,
                new_for_days: a.new_for_days,
                max_payments: a.max_payments,
                max_amount: a.max_amount_minor.map(|m| format_minor(m, &a.currency).unwrap_or_else(|_| m.to_string())),
            }),
        }
    }
    toml::to_string(&out).expect("routing rules serialize as TOML")
}

fn anomaly(a: FileAnomaly) -> Result<RouteRecord, RuleError> {
    let min_amount_minor =
        parse_major(&a.min_amount, &a.currency).map_err(|source| RuleError::Money { field: "min_amount", source })?;
    let max_amount_minor = a
        .max_amount
        .as_deref()
        .map(|m| parse_major(m, &a.currency).map_err(|source| RuleError::Money { field: "max_amount", source }))
        .transpose()?;
    let deviations = a
        .deviations
        .as_deref()
        .map(|t| {
            t.trim().parse::<Decimal>().map_err(|_| invalid("deviations", format!("{t:?} is not a decimal number")))
        })
        .transpose()?;
    Ok(RouteRecord::Anomaly(Anomaly {
        id: a.id,
        from: a.from,
        to: a.to,
        pattern: a.pattern,
        action: a.action,
        currency: a.currency,
        min_amount_minor,
        deviations,
        min_payments: a.min_payments,
        half_life_payments: a.half_life_payments,
        retention_days: a.retention_days,
        min_debtors: a.min_debtors,
        window_seconds: a.window_seconds,
        new_for_days: a.new_for_days,
        max_payments: a.max_payments,
        max_amount_minor,
    }))
}

fn corridor(c: FileCorridor) -> Result<RouteRecord, RuleError> {
    let fx_rate = c
        .fx_rate
        .as_deref()
        .map(|t| t.trim().parse::<Decimal>().map_err(|_| invalid("fx_rate", format!("{t:?} is not a decimal number"))))
        .transpose()?;
    let max_amount_minor = parse_major(&c.max_amount, &c.source_currency)
        .map_err(|source| RuleError::Money { field: "max_amount", source })?;
    let windows = c.windows.iter().map(|w| parse_window(w)).collect::<Result<_, _>>()?;
    Ok(RouteRecord::Corridor(Corridor {
        from: c.from,
        to: c.to,
        enabled: c.enabled,
        source_currency: c.source_currency,
        destination_currency: c.destination_currency,
        fx_rate,
        rate_source: c.rate_source,
        spread_bps: c.spread_bps,
        max_amount_minor,
        windows,
    }))
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// "mon-fri 08:00-22:00 +08:00", "daily 00:00-24:00 +00:00", "sat,sun 09:00-12:00 -05:00".
fn parse_window(text: &str) -> Result<OperatingWindow, RuleError> {
    let bad = |problem: &'static str| RuleError::Window { text: text.to_string(), problem };
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [days, times, offset] = parts.as_slice() else { return Err(bad("three parts needed")) };
    let day = |d: &str| DAYS.iter().position(|x| *x == d).ok_or_else(|| bad("unknown day"));
    let mut mask = 0u8;
    for item in days.split(',') {
        match item {
            "daily" => mask = 0x7f,
            range if range.contains('-') => {
                let (a, b) = range.split_once('-').expect("contains '-'");
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    mask |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            single => mask |= 1 << day(single)?,
        }
    }
    let minutes = |t: &str| -> Result<u16, RuleError> {
        let (h, m) = t.split_once(':').ok_or_else(|| bad("time must be HH:MM"))?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad("bad hour"))?, m.parse().map_err(|_| bad("bad minute"))?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(bad("time out of range"));
        }
        Ok(h * 60 + m)
    };
    let (from, to) = times.split_once('-').ok_or_else(|| bad("times must be HH:MM-HH:MM"))?;
    let sign = match offset.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => return Err(bad("offset must start with + or -")),
    };
    let offset_minutes = minutes(&offset[1..])? as i16 * sign;
    Ok(OperatingWindow {
        days: mask,
        from_minute: minutes(from)?,
        to_minute: minutes(to)?,
        utc_offset_minutes: offset_minutes,
    })
}

fn format_window(w: &OperatingWindow) -> String {
    let days = if w.days == 0x7f {
        "daily".to_string()
    } else {
        (0..7).filter(|d| w.days & (1 << d) != 0).map(|d| DAYS[d]).collect::<Vec<_>>().join(",")
    };
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let sign = if w.utc_offset_minutes < 0 { '-' } else { '+' };
    format!("{days} {}-{} {sign}{}", hm(w.from_minute), hm(w.to_minute), hm(w.utc_offset_minutes.unsigned_abs()))
}

/// A small valid routing table file for tests (here and in the crates above).
#[doc(hidden)]
pub const TEST_ROUTES_TOML: &str = r#"
[[participants]]
network = "CN_IBPS"
institution_id = "102100099996"
name = "ICBC"
bic = "ICBKCNBJ"
settlement_currency = "CNY"

[[participants]]
network = "HK_FPS"
institution_id = "004"
name = "HSBC"
settlement_currency = "HKD"

[[corridors]]
from = "CN_IBPS"
to = "HK_FPS"
source_currency = "CNY"
destination_currency = "HKD"
fx_rate = "1.0845"
max_amount = "80000.00"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    use super::TEST_ROUTES_TOML as GOOD;

    #[test]
    fn parses_participants_and_corridors() {
        let records = parse_routes_file("t.toml", GOOD).unwrap();
        assert_eq!(records.len(), 3);
        match &records[2] {
            RouteRecord::Corridor(c) => {
                assert_eq!(c.max_amount_minor, 8_000_000);
                assert_eq!(c.fx_rate.unwrap().to_string(), "1.0845");
                assert!(c.enabled);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = format!(
            "{GOOD}\n[[participants]]\nnetwork = \"HK_FPS\"\ninstitution_id = \"004\"\nname = \"dup\"\nsettlement_currency = \"HKD\"\n\n[[participants]]\nnetwork = \"ZZ_NONE\"\ninstitution_id = \"1\"\nname = \"x\"\nsettlement_currency = \"HKD\"\n\n[[corridors]]\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\nsource_currency = \"HKD\"\ndestination_currency = \"HKD\"\nfx_rate = \"-1\"\nmax_amount = \"1\"\n"
        );
        let err = parse_routes_file("t.toml", &text).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        // Each message names a line inside the offending entry.
        let line = |p: &str| p.split(':').nth(1).unwrap().parse::<usize>().unwrap();
        let within = |p: &str, block: std::ops::RangeInclusive<usize>| assert!(block.contains(&line(p)), "{p}");
        within(&err.problems[0], 21..=25);
        assert!(err.problems[0].contains("duplicate key participant/HK_FPS/004, first defined on line"), "{err}");
        within(&err.problems[1], 27..=31);
        assert!(err.problems[1].contains("unknown network"), "{err}");
        within(&err.problems[2], 33..=39);
        assert!(err.problems[2].contains("greater than zero"), "{err}");
    }

    #[test]
    fn syntax_errors_and_unknown_fields_name_the_line() {
        let err = parse_routes_file("t.toml", "[[participants]]\nnetwork = \"HK_FPS\"\ncolour = 1\n").unwrap_err();
        assert!(err.problems[0].starts_with("t.toml:3:") && err.problems[0].contains("colour"), "{err}");
        let err = parse_routes_file("t.toml", "\n\n[[corridors]\n").unwrap_err();
        assert!(err.problems[0].starts_with("t.toml:3:"), "{err}");
    }

    fn sample_text() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap()
    }

    #[test]
    fn the_sample_table_is_valid_and_exports_back_to_the_same_rules() {
        let rules = parse_routes_file("sample.toml", &sample_text()).unwrap();
        let exported = export_routes_file(&rules);
        let again = parse_routes_file("exported.toml", &exported).unwrap();
        assert_eq!(again, rules);
    }

    #[test]
    fn a_net_debit_cap_reads_in_major_units_exports_back_and_needs_a_participant_and_a_scheme() {
        let cap = |id: &str, currency: &str| {
            format!("\n[[caps]]\nnetwork = \"HK_FPS\"\ninstitution_id = \"{id}\"\ncurrency = \"{currency}\"\nnet_debit_cap = \"1000.50\"\nprefunded = \"20\"\n")
        };
        let scheme = "\n[[settlement]]\ncurrency = \"HKD\"\ntime_zone = \"Asia/Hong_Kong\"\ncut_offs = [\"16:00\"]\n";
        let text = format!("{GOOD}{scheme}{}", cap("004", "HKD"));
        let rules = parse_routes_file("t.toml", &text).unwrap();
        let table = RoutingTable::compile(1, &rules).unwrap();
        let c = table.net_debit_cap("HK_FPS", "004", "HKD").unwrap();
        assert_eq!((c.net_debit_cap_minor, c.prefunded_minor, c.total_minor()), (100_050, 2_000, 102_050));
        assert_eq!(parse_routes_file("x.toml", &export_routes_file(&rules)).unwrap(), rules);

        let err = parse_routes_file("t.toml", &format!("{GOOD}{scheme}{}{}", cap("999", "HKD"), cap("004", "CNY")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cap/HK_FPS/999/HKD: HK_FPS/999 is not a participant"), "{err}");
        assert!(err.contains("cap/HK_FPS/004/CNY: no settlement scheme nets CNY"), "{err}");
    }

    #[test]
    fn a_participant_settles_through_a_sponsor_that_settles_for_itself() {
        let sponsored = |id: &str, via: &str| {
            format!("\n[[participants]]\nnetwork = \"HK_FPS\"\ninstitution_id = \"{id}\"\nname = \"n\"\nsettlement_currency = \"HKD\"\nsettles_through = {{ network = \"HK_FPS\", institution_id = \"{via}\" }}\n")
        };
        let rules = parse_routes_file("t.toml", &format!("{GOOD}{}", sponsored("388", "004"))).unwrap();
        let table = RoutingTable::compile(1, &rules).unwrap();
        assert_eq!(table.settlement_institution("HK_FPS", "388"), ("HK_FPS", "004"));
        assert_eq!(table.settlement_institution("HK_FPS", "004"), ("HK_FPS", "004"));
        assert_eq!(parse_routes_file("x.toml", &export_routes_file(&rules)).unwrap(), rules);
        let err = parse_routes_file("t.toml", &format!("{GOOD}{}{}", sponsored("388", "999"), sponsored("389", "388")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("participant/HK_FPS/388: settles through HK_FPS/999, which is not a participant"),
            "{err}"
        );
        assert!(
            err.contains("participant/HK_FPS/389: settles through HK_FPS/388, which itself settles through another"),
            "{err}"
        );
    }

    #[test]
    fn a_network_gives_its_response_deadline_and_an_absurd_one_is_refused() {
        let text = format!("{GOOD}\n[[networks]]\nnetwork = \"HK_FPS\"\nresponse_deadline_seconds = 15\n");
        let records = parse_routes_file("t.toml", &text).unwrap();
        let table = RoutingTable::compile(1, &records).unwrap();
        assert_eq!(table.response_deadline("HK_FPS"), Some(std::time::Duration::from_secs(15)));
        assert_eq!(table.response_deadline("CN_IBPS"), None, "the switch's default applies");
        let bad = format!("{GOOD}\n[[networks]]\nnetwork = \"HK_FPS\"\nresponse_deadline_seconds = 0\n");
        let err = parse_routes_file("t.toml", &bad).unwrap_err();
        assert!(err.problems.iter().any(|p| p.contains("response_deadline_seconds must be 1 to 86400")), "{err}");
    }

    const ANOMALIES: &str = r#"
[[anomalies]]
id = "big-payment"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "amount_above_usual"
action = "alert"
currency = "CNY"
min_amount = "2000.00"
deviations = "4.5"
min_payments = 10
half_life_payments = 20

[[anomalies]]
id = "new-payee"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "new_creditor"
action = "refuse"
currency = "HKD"
min_amount = "5000"
retention_days = 90
"#;

    #[test]
    fn anomaly_rules_read_in_major_units_compile_per_corridor_and_export_back() {
        let rules = parse_routes_file("t.toml", &format!("{GOOD}{ANOMALIES}")).unwrap();
        let table = RoutingTable::compile(1, &rules).unwrap();
        let found = table.anomalies("CN_IBPS", "HK_FPS");
        assert_eq!(found.len(), 2);
        let big = &found[0].rule;
        assert_eq!(
            (big.pattern, big.action, big.min_amount_minor),
            (AnomalyPattern::AmountAboveUsual, AnomalyAction::Alert, 200_000)
        );
        assert_eq!((found[0].deviations, big.min_payments, big.half_life_payments), (4.5, Some(10), Some(20)));
        let payee = &found[1];
        assert_eq!((payee.rule.action, payee.rule.min_amount_minor), (AnomalyAction::Refuse, 500_000));
        assert_eq!(payee.retention_micros, 90 * 86_400_000_000);
        assert!(table.anomalies("HK_FPS", "CN_IBPS").is_empty());
        let exported = export_routes_file(&rules);
        assert!(exported.contains("[[anomalies]]") && exported.contains("deviations = \"4.5\""), "{exported}");
        assert_eq!(parse_routes_file("x.toml", &exported).unwrap(), rules);
        assert_eq!(rules[3].key().to_string(), "anomaly/big-payment");
    }

    #[test]
    fn bad_anomaly_rules_are_reported_with_their_line_and_what_is_wrong() {
        let problems = |extra: &str| parse_routes_file("t.toml", &format!("{GOOD}{extra}")).unwrap_err().problems;
        let rule = |body: &str| {
            format!("\n[[anomalies]]\nid = \"r\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\ncurrency = \"CNY\"\n{body}\n")
        };
        let cases = [
            ("pattern = \"new_creditor\"\naction = \"alert\"\nmin_amount = \"10\"", "retention_days is needed by the new_creditor pattern"),
            ("pattern = \"new_creditor\"\naction = \"alert\"\nmin_amount = \"10\"\nretention_days = 9\ndeviations = \"3\"", "deviations is not used by the new_creditor pattern"),
            ("pattern = \"amount_above_usual\"\naction = \"alert\"\nmin_amount = \"10\"\ndeviations = \"lots\"\nmin_payments = 5\nhalf_life_payments = 5", "\"lots\" is not a decimal number"),
            ("pattern = \"amount_above_usual\"\naction = \"alert\"\nmin_amount = \"10\"\ndeviations = \"3\"\nmin_payments = 0\nhalf_life_payments = 5", "min_payments must be 1 to 1000, got 0"),
            ("pattern = \"amount_above_usual\"\naction = \"alert\"\nmin_amount = \"10.001\"\ndeviations = \"3\"\nmin_payments = 5\nhalf_life_payments = 5", "min_amount"),
            ("pattern = \"new_creditor\"\naction = \"review\"\nmin_amount = \"10\"\nretention_days = 9", "unknown variant `review`"),
            ("pattern = \"mule\"\naction = \"alert\"\nmin_amount = \"10\"\nretention_days = 9", "unknown variant `mule`"),
        ];
        for (body, expected) in cases {
            let p = problems(&rule(body));
            assert_eq!(p.len(), 1, "{p:?}");
            assert!(p[0].starts_with("t.toml:") && p[0].contains(expected), "{body}: {p:?}");
            // The line is inside the rule's entry (the GOOD table ends on line 22).
            let line: usize = p[0].split(':').nth(1).unwrap().parse().unwrap();
            assert!((22..=34).contains(&line), "{p:?}");
        }
        // A rule whose currency a corridor it covers cannot convert to.
        let usd = rule("pattern = \"new_creditor\"\naction = \"alert\"\nmin_amount = \"10\"\nretention_days = 9")
            .replace("CNY", "USD");
        let p = problems(&usd);
        assert!(
            p[0].contains("anomaly/r: corridor CN_IBPS>HK_FPS:CNY-HKD pays in CNY; define a rate between CNY and USD"),
            "{p:?}"
        );
        let twice = format!(
            "{}{}",
            rule("pattern = \"new_creditor\"\naction = \"alert\"\nmin_amount = \"10\"\nretention_days = 9"),
            rule("pattern = \"new_creditor\"\naction = \"alert\"\nmin_amount = \"10\"\nretention_days = 9")
        );
        assert!(problems(&twice)[0].contains("duplicate key anomaly/r"), "{twice}");
    }

    #[test]
    fn windows_parse_and_format() {
        let w = parse_window("mon-fri 08:00-22:00 +08:00").unwrap();
        assert_eq!((w.days, w.from_minute, w.to_minute, w.utc_offset_minutes), (0b001_1111, 480, 1320, 480));
        assert_eq!(format_window(&w), "mon,tue,wed,thu,fri 08:00-22:00 +08:00");
        assert_eq!(parse_window(&format_window(&w)).unwrap(), w);
        let w = parse_window("fri-mon 22:00-02:00 -05:30").unwrap();
        assert_eq!((w.days, w.utc_offset_minutes), (0b111_0001, -330));
        assert_eq!(format_window(&parse_window("daily 00:00-24:00 +00:00").unwrap()), "daily 00:00-24:00 +00:00");
        for bad in ["mon 08:00-22:00", "funday 08:00-22:00 +00:00", "mon 25:00-26:00 +00:00", "mon 08:00 +00:00"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_that_do_not_fit_together_are_reported_with_their_line() {
        let text = format!(
            "{GOOD}\n[[identities]]\nid = \"ghost\"\nname = \"Ghost\"\nhome = {{ network = \"HK_FPS\", institution_id = \"024\" }}\naliases = [{{ network = \"CN_IBPS\", institution_id = \"501290000012\" }}]\n"
        );
        let err = parse_routes_file("t.toml", &text).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(err.problems[0].starts_with("t.toml:2"), "{err}");
        assert!(err.problems[0].contains("home HK_FPS/024 is not a participant"), "{err}");
    }
}
