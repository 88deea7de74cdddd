//! Reads arbitrary text as an operators' routing-table file (TOML: participants,
//! identities, rates, corridors, QR and alias schemes, network settings, per-person
//! limits, blocks, settlement schemes, net debit caps), as `interlinkctl routes validate`
//! and `apply` do (`interlink_routing::parse_routes_file`).
//!
//! Must never panic, and a file it accepts must:
//! - hold rules that are each valid and that compile into a table together;
//! - export to a file that parses back to the same rules;
//! - go through the routes log as `interlinkctl routes apply` writes it (one JSON record
//!   per rule, then a marker) and compile there as one change set;
//! - route without panicking: each corridor's first participants at one unit, at the
//!   corridor's maximum and above it, and an accepted route credits something and keeps
//!   to the maximum; limits and settlement schedules answer for a few awkward instants
//!   (DST changes, a holiday, the epoch, year 2100 and 9999) within their bounds.
//!
//! The instants stay within the range jiff can place in every time zone (its timestamps end
//! on 9999-12-30): the switch asks about the time of a request it is deciding (within the
//! configured clock skew of its own clock), never about arbitrary ones.

#![no_main]

use interlink_routing::{
    check_record, export_routes_file, parse_routes_file, Marker, Participant, RouteRecord, RoutingLog, RoutingTable,
};
use interlink_schemas::{Agent, Amount};
use libfuzzer_sys::fuzz_target;

/// 2026-03-08T07:30Z (US DST starts), 2026-10-25T00:59:59Z (EU DST ends),
/// 2026-12-25T08:00Z (a holiday in the samples), the epoch, 2100-01-01T00:00Z,
/// 9999-01-01T00:00Z.
const INSTANTS: [i64; 6] = [
    1_772_955_000_000_000,
    1_792_889_999_000_000,
    1_798_185_600_000_000,
    0,
    4_102_444_800_000_000,
    253_370_764_800_000_000,
];

fn through_the_log(rules: &[RouteRecord]) {
    let mut log = RoutingLog::new();
    for r in rules {
        let value = serde_json::to_vec(r).expect("a rule serialises");
        let read = log.read(r.key().to_string().as_bytes(), Some(&value));
        assert!(matches!(read, Ok(None)), "{r:?}: {read:?}");
    }
    let marker = Marker {
        version: 1,
        operator: "fuzz".into(),
        reason: "fuzz".into(),
        applied_at: 0,
        changes: rules.len() as u64,
        principal: None,
        audit_head: None,
    };
    let table = log.close(marker, true).unwrap_or_else(|e| panic!("the change set is refused: {e}"));
    assert_eq!(table.map(|t| t.rule_count()), Some(rules.len()));
}

fn route(table: &RoutingTable, rules: &[RouteRecord]) {
    let participants = |network: &str| -> Vec<&Participant> {
        rules
            .iter()
            .filter_map(|r| match r {
                RouteRecord::Participant(p) if p.network == network => Some(p),
                _ => None,
            })
            .take(2)
            .collect()
    };
    let corridors = rules.iter().filter_map(|r| match r {
        RouteRecord::Corridor(c) => Some(c),
        _ => None,
    });
    for c in corridors.take(8) {
        for debtor in participants(&c.from) {
            for creditor in participants(&c.to) {
                let (from, to) = (
                    Agent::new(&debtor.network, &debtor.institution_id),
                    Agent::new(&creditor.network, &creditor.institution_id),
                );
                for minor in [1, c.max_amount_minor, c.max_amount_minor.saturating_add(1), i64::MAX] {
                    let amount = Amount::new(minor, &c.source_currency);
                    for at in INSTANTS {
                        if let Ok(route) = table.resolve(&from, &to, &amount, at) {
                            assert!(route.credit_minor_units > 0, "{route:?}");
                            assert!(minor <= route.corridor.max_debit_minor, "{route:?}");
                            for limit in table.limits(&c.from, &c.to) {
                                let _ = table.limit_amount(limit, &route, minor);
                            }
                        }
                    }
                }
            }
        }
    }
    for from in ["CN_IBPS", "HK_FPS", "SG_PAYNOW", "IN_UPI"] {
        for to in ["CN_IBPS", "HK_FPS", "SG_PAYNOW", "IN_UPI"] {
            for limit in table.limits(from, to) {
                for at in INSTANTS {
                    let span = limit.period_of(at);
                    assert!(span.ends_at > at, "{:?} at {at}: {span:?}", limit.rule);
                    assert!(!limit.window_labels(at).is_empty());
                }
            }
        }
    }
    for scheme in table.settlement_schemes() {
        for at in INSTANTS {
            let (next, last) = (scheme.cycle_of(at), scheme.cut_off_before(at));
            assert!(last <= at && at <= next, "{} at {at}: {last}..{next}", scheme.currency());
            if next != i64::MAX {
                let _ = scheme.cycle_id(next);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rules) = parse_routes_file("fuzz.toml", text) else { return };
    for r in &rules {
        assert_eq!(check_record(r), Ok(()), "{r:?}");
    }
    let table = RoutingTable::compile(7, &rules).unwrap_or_else(|e| panic!("accepted rules do not compile: {e}"));
    assert_eq!(table.rule_count(), rules.len());
    let exported = export_routes_file(&rules);
    assert_eq!(parse_routes_file("exported.toml", &exported).as_ref(), Ok(&rules), "exported as:\n{exported}");
    through_the_log(&rules);
    route(&table, &rules);
});
