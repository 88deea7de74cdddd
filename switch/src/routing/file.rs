//! The operators' routing-table file (TOML), documented in docs/routing.md, with a
//! JSON Schema in docs/routes.schema.json. Every problem is reported with its line.

use super::model::{Corridor, Participant, ParticipantStatus, RouteKey, RouteRecord};
use super::money::parse_major;
use super::table::check_record;
use rust_decimal::Decimal;
use serde::Deserialize;
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
pub struct RoutesFile {
    #[serde(default)]
    participants: Vec<Spanned<FileParticipant>>,
    #[serde(default)]
    corridors: Vec<Spanned<FileCorridor>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParticipant {
    network: String,
    institution_id: String,
    name: String,
    bic: Option<String>,
    #[serde(default)]
    status: ParticipantStatus,
    settlement_currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCorridor {
    from: String,
    to: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    source_currency: String,
    destination_currency: String,
    /// Decimal text, so no precision is lost to floating point.
    fx_rate: String,
    /// In the source currency's major units ("80000.00").
    max_amount: String,
}

fn enabled_by_default() -> bool {
    true
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Parses and checks a routing-table file; `name` is used in messages.
pub fn parse_routes_file(name: &str, text: &str) -> Result<Vec<RouteRecord>, RoutesFileError> {
    let file: RoutesFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        RoutesFileError { problems: vec![format!("{name}:{line}: {}", e.message())] }
    })?;
    let mut problems = Vec::new();
    let mut records = Vec::new();
    let mut seen: HashMap<RouteKey, usize> = HashMap::new();
    let mut add = |record: Result<RouteRecord, String>, line: usize, problems: &mut Vec<String>| {
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
    for p in file.participants {
        let line = line_of(text, p.span().start);
        let p = p.into_inner();
        let record = Ok(RouteRecord::Participant(Participant {
            network: p.network,
            institution_id: p.institution_id,
            name: p.name,
            bic: p.bic,
            status: p.status,
            settlement_currency: p.settlement_currency,
        }));
        add(record, line, &mut problems);
    }
    for c in file.corridors {
        let line = line_of(text, c.span().start);
        let c = c.into_inner();
        let record = corridor(c);
        add(record, line, &mut problems);
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(RoutesFileError { problems })
    }
}

fn corridor(c: FileCorridor) -> Result<RouteRecord, String> {
    let fx_rate: Decimal =
        c.fx_rate.trim().parse().map_err(|_| format!("fx_rate {:?} is not a decimal number", c.fx_rate))?;
    let max_amount_minor = parse_major(&c.max_amount, &c.source_currency).map_err(|e| format!("max_amount: {e}"))?;
    Ok(RouteRecord::Corridor(Corridor {
        from: c.from,
        to: c.to,
        enabled: c.enabled,
        source_currency: c.source_currency,
        destination_currency: c.destination_currency,
        fx_rate,
        max_amount_minor,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small valid table, shared with other modules' tests.
    pub(crate) const GOOD: &str = r#"
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

    #[test]
    fn parses_participants_and_corridors() {
        let records = parse_routes_file("t.toml", GOOD).unwrap();
        assert_eq!(records.len(), 3);
        match &records[2] {
            RouteRecord::Corridor(c) => {
                assert_eq!(c.max_amount_minor, 8_000_000);
                assert_eq!(c.fx_rate.to_string(), "1.0845");
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
}
