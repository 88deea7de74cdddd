//! What the anomaly rules add to the per-person check alone, without the store or the
//! rest of the decision (the switch's `hot_path` bench has those, but on a shared
//! machine its noise is larger than this difference): `limits::check` of a Hong Kong
//! resident's payment into the mainland with the sample table's two Payment Connect
//! limits, and with the two anomaly patterns added. A thousand people take turns; their
//! entries live in a map and each check's write is applied, as a batch would.

use criterion::{criterion_group, criterion_main, Criterion};
use interlink_core::limits;
use interlink_core::memory::{Memory, MemoryError};
use interlink_core::OutputTopic;
use interlink_routing::{parse_routes_file, RoutingTable};
use interlink_schemas::{Agent, Amount, AuthorizationRequest, Channel, PersonId};
use std::cell::RefCell;
use std::collections::HashMap;

/// Both anomaly patterns on the northbound corridor, shared with the switch's hot-path bench.
const ANOMALIES: &str = include_str!("anomalies-northbound.toml");

#[derive(Default)]
struct Map(RefCell<HashMap<Vec<u8>, Vec<u8>>>);

impl Memory for Map {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MemoryError> {
        Ok(self.0.borrow().get(key).cloned())
    }
}

fn table(extra: &str) -> RoutingTable {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    RoutingTable::compile(1, &parse_routes_file("sample.toml", &format!("{text}{extra}")).unwrap()).unwrap()
}

fn check(c: &mut Criterion, name: &str, table: &RoutingTable) {
    let now = 1_764_000_000_000_000;
    // Each person pays one of four creditors, so the creditor rule meets known ones.
    let requests: Vec<AuthorizationRequest> = (0..1_000u64)
        .map(|n| AuthorizationRequest {
            transaction_id: format!("tx-{n}"),
            end_to_end_id: format!("e2e-{n}"),
            created_at: now,
            debtor_agent: Agent::new("HK_FPS", "004"),
            debtor_account: "004123456789001".into(),
            creditor_agent: Some(Agent::new("CN_IBPS", "102100099996")),
            creditor_account: Some(format!("622202020011223344{}", n % 4)),
            qr_payload: None,
            creditor_alias: None,
            amount: Amount::new(100, "HKD"),
            channel: Channel::Mobile,
            purpose: None,
            debtor_name: None,
            debtor_id: Some(PersonId::new("NIDN", "HK", format!("A{:06}3", n % 1_000))),
            creditor_name: None,
            device_id: None,
        })
        .collect();
    let keys: Vec<String> = requests.iter().map(|r| r.partition_key().into_owned()).collect();
    let creditor = Agent::new("CN_IBPS", "102100099996");
    let store = Map::default();
    let mut i = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let (r, key) = (&requests[i % 1_000], &keys[i % 1_000]);
            i += 1;
            let route = table.resolve(&r.debtor_agent, &creditor, &r.amount, now).unwrap();
            let account = r.creditor_account.as_deref();
            let checked =
                limits::check(table, &route, r, key, account, now, 60_000_000, &store, None).unwrap().unwrap();
            for w in checked.writes.iter().filter(|w| w.topic == OutputTopic::State) {
                store.0.borrow_mut().insert(w.key.clone().unwrap(), w.payload.clone().unwrap());
            }
            checked.alerts.len()
        })
    });
}

fn anomaly(c: &mut Criterion) {
    check(c, "person_check/limits", &table(""));
    check(c, "person_check/limits_and_anomalies", &table(ANOMALIES));
}

criterion_group!(benches, anomaly);
criterion_main!(benches);
