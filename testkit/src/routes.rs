//! Synthetic routing tables of any size, for benchmarks and scale tests.

use interlink_routing::{Corridor, Participant, ParticipantStatus, RouteRecord};

/// `participants` CNAPS participants plus `corridors` corridors across every network
/// pair and ISO currency.
pub fn synthetic_rules(participants: usize, corridors: usize) -> Vec<RouteRecord> {
    let mut rules = Vec::with_capacity(participants + corridors);
    for i in 0..participants as u64 {
        rules.push(RouteRecord::Participant(Participant {
            network: "CN_IBPS".into(),
            institution_id: format!("{:012}", 100_000_000_000 + i),
            name: format!("Bank {i}"),
            bic: None,
            status: ParticipantStatus::Active,
            settlement_currency: "CNY".into(),
            settles_through: None,
        }));
    }
    let networks: Vec<&str> = interlink_connectors::NETWORKS.iter().map(|n| n.id).collect();
    let currencies = iso_currencies();
    'outer: for currency in &currencies {
        for from in &networks {
            for to in &networks {
                if rules.len() == participants + corridors {
                    break 'outer;
                }
                rules.push(RouteRecord::Corridor(Corridor {
                    from: from.to_string(),
                    to: to.to_string(),
                    enabled: true,
                    source_currency: currency.to_string(),
                    destination_currency: if from == to { currency.to_string() } else { "USD".into() },
                    fx_rate: Some(if from == to { "1".parse().unwrap() } else { "1.2345".parse().unwrap() }),
                    rate_source: None,
                    spread_bps: 0,
                    max_amount_minor: 10_000_000,
                    windows: vec![],
                }));
            }
        }
    }
    rules
}

pub fn iso_currencies() -> Vec<&'static str> {
    let mut all = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            for c in b'A'..=b'Z' {
                let code = [a, b, c];
                let code = std::str::from_utf8(&code).expect("ASCII");
                if let Some(cur) = iso_currency::Currency::from_code(code) {
                    // Currencies without minor units as defined would still compile;
                    // keep ones with an exponent for realistic conversions.
                    if cur.exponent().is_some() {
                        all.push(cur.code());
                    }
                }
            }
        }
    }
    all
}
