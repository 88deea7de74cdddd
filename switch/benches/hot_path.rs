//! The per-request hot path: route resolution on the sample table and on a large
//! table (100,000 participants, 10,000 corridors), the whole decision for one
//! request (decode, validate, route, encode three outputs and the request's memo),
//! and what the keyed state adds: the memo itself, and the same decision against the
//! worker's store (lookup of a new id, the open batch's write, the store write at commit),
//! and what per-person limits (and the anomaly rules beside them) add to that.

use criterion::{criterion_group, criterion_main, Criterion};
use interlink_core::memory::{self, Decision, RecordPlace, RequestKey, RequestMemo};
use interlink_core::pipeline::{Context, InputRecord, InputSource, Processor};
use interlink_routing::{parse_routes_file, RouteRecord, RoutingTable};
use interlink_schemas::{Agent, Amount, AuthorizationRequest, Channel, Codec, PersonId};
use interlink_switch::state::KeyedState;
use std::hint::black_box;

fn sample_table() -> RoutingTable {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    RoutingTable::compile(1, &parse_routes_file("sample.toml", &text).unwrap()).unwrap()
}

/// 100,000 participants and 10,000 corridors (the load tool's synthetic table),
/// and lookups between random participants in rotating currencies.
fn large_table() -> (RoutingTable, Vec<(Agent, Agent, Amount)>) {
    let rules = interlink_testkit::routes::synthetic_rules(100_000, 10_000);
    let currencies: Vec<String> = rules
        .iter()
        .filter_map(|r| match r {
            RouteRecord::Corridor(c) if c.from == "CN_IBPS" && c.to == "CN_IBPS" => Some(c.source_currency.clone()),
            _ => None,
        })
        .collect();
    let table = RoutingTable::compile(1, &rules).unwrap();
    let lookups = (0..1024u64)
        .map(|i| {
            let debtor = Agent::new("CN_IBPS", format!("{:012}", 100_000_000_000 + (i * 7_919) % 100_000));
            let creditor = Agent::new("CN_IBPS", format!("{:012}", 100_000_000_000 + (i * 104_729) % 100_000));
            (debtor, creditor, Amount::new(1_000 + i as i64, &currencies[i as usize % currencies.len()]))
        })
        .collect();
    (table, lookups)
}

fn routing(c: &mut Criterion) {
    let table = sample_table();
    let (debtor, creditor, amount) =
        (Agent::new("CN_IBPS", "102100099996"), Agent::new("HK_FPS", "004"), Amount::new(10_000, "CNY"));
    c.bench_function("route/sample_table", |b| {
        b.iter(|| {
            table.resolve(black_box(&debtor), black_box(&creditor), black_box(&amount), 0).unwrap().credit_minor_units
        })
    });

    let (large, lookups) = large_table();
    assert_eq!(large.rule_count(), 110_000);
    assert!(lookups.iter().all(|(d, c, a)| large.resolve(d, c, a, 0).is_ok()), "every lookup routes");
    let mut i = 0;
    c.bench_function("route/100k_participants_10k_corridors", |b| {
        b.iter(|| {
            let (d, cr, a) = &lookups[i & 1023];
            i += 1;
            black_box(large.resolve(d, cr, a, 0)).is_ok()
        })
    });
}

fn sample_request() -> AuthorizationRequest {
    AuthorizationRequest {
        transaction_id: "0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80".into(),
        end_to_end_id: "E2E20261128CN0000000001".into(),
        created_at: 1_764_000_000_000_000,
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222020200112233445".into(),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some("004123456789001".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(12_345, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    }
}

fn pipeline(c: &mut Criterion) {
    let table = sample_table();
    let processor = Processor::new().unwrap();
    let request = sample_request();
    let payload = Codec::<AuthorizationRequest>::new().unwrap().encode(&request).unwrap();
    let mut out = Vec::with_capacity(4);
    c.bench_function("pipeline/accept_one_request", |b| {
        b.iter(|| {
            out.clear();
            let input = InputRecord {
                source: InputSource::Requests,
                topic: "in",
                partition: 0,
                offset: 1,
                key: Some(request.transaction_id.as_bytes()),
                payload: Some(&payload),
                written_at: None,
            };
            processor.process(black_box(&input), &table, 1, &mut out).unwrap()
        })
    });
}

/// The state's share: the memo (key, SHA-256 of the business fields, encoding), and a
/// first request decided against a real store, its memo staged and committed to the
/// store every 500 requests as a batch would.
fn state(c: &mut Criterion) {
    let request = sample_request();
    c.bench_function("state/request_memo", |b| {
        b.iter(|| {
            let memo = RequestMemo {
                request_hash: memory::request_hash(black_box(&request)),
                decision: Decision::Accepted,
                routing_version: 1,
                first: RecordPlace { partition: 0, offset: 1 },
                decided_at: 1,
                expires_at: 86_400_000_001,
            };
            (RequestKey::of(&request), memo.encode().unwrap())
        })
    });

    decide_with_store(c, "state/accept_first_request_with_store", &sample_table(), 1, |n| AuthorizationRequest {
        transaction_id: format!("tx-{n:012}"),
        ..request.clone()
    });
}

/// What per-person limits add: a Hong Kong resident's payment into the mainland decided
/// against the store, with the sample table's two Payment Connect limits (the person
/// key, two usages read, checked and written) and with the same table without them.
/// A thousand people take turns, so usages are found in the store as they would be.
/// Then the same with the two anomaly patterns added.
fn limits(c: &mut Criterion) {
    let now = 1_764_000_000_000_000;
    let northbound = |n: u64| AuthorizationRequest {
        transaction_id: format!("tx-{n:012}"),
        created_at: now,
        debtor_agent: Agent::new("HK_FPS", "004"),
        debtor_account: "004123456789001".into(),
        creditor_agent: Some(Agent::new("CN_IBPS", "102100099996")),
        creditor_account: Some("6222020200112233445".into()),
        amount: Amount::new(100, "HKD"),
        debtor_id: Some(PersonId::new("NIDN", "HK", format!("A{:06}3", n % 1_000))),
        ..sample_request()
    };
    decide_with_store(c, "limits/northbound_with_limits", &sample_table(), now, northbound);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    let mut rules = parse_routes_file("sample.toml", &text).unwrap();
    rules.retain(|r| !matches!(r, RouteRecord::Limit(_)));
    let unlimited = RoutingTable::compile(1, &rules).unwrap();
    decide_with_store(c, "limits/northbound_without_limits", &unlimited, now, northbound);
    // The limits and both anomaly patterns (alerting: the creditor is new to each
    // person once, then known; the amount never far above the usual), in the same entry.
    let anomalies = format!("{text}{}", include_str!("../../core/benches/anomalies-northbound.toml"));
    let table = RoutingTable::compile(1, &parse_routes_file("anomalies.toml", &anomalies).unwrap()).unwrap();
    decide_with_store(c, "limits/northbound_with_limits_and_anomalies", &table, now, northbound);
}

/// Decides the requests `make(1)`, `make(2)`, ... (each keyed as it says) against a
/// real store at `now`, staging each one's state and committing every 500 requests as a
/// batch would.
fn decide_with_store(
    c: &mut Criterion,
    name: &str,
    table: &RoutingTable,
    now: i64,
    mut make: impl FnMut(u64) -> AuthorizationRequest,
) {
    let processor = Processor::new().unwrap();
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut state = KeyedState::open(dir.path()).unwrap();
    state.assign([0]);
    state.restore_start(0, 0).unwrap();
    state.restored(0, 0);
    let mut next_id = 0u64;
    let mut out = Vec::with_capacity(7);
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            // Every request is new, as nearly all are: encoded outside the timing.
            let payloads: Vec<(String, Vec<u8>)> = (0..iters)
                .map(|_| {
                    next_id += 1;
                    let r = make(next_id);
                    (r.partition_key().into_owned(), codec.encode(&r).unwrap())
                })
                .collect();
            let started = std::time::Instant::now();
            for (i, (key, payload)) in payloads.iter().enumerate() {
                out.clear();
                let input = InputRecord {
                    source: InputSource::Requests,
                    topic: "in",
                    partition: 0,
                    offset: i as i64,
                    key: Some(key.as_bytes()),
                    payload: Some(payload),
                    written_at: None,
                };
                let memory = state.memory(0);
                let ctx = Context { table, now_micros: now, memory: &memory };
                black_box(processor.process_with(&input, &ctx, &mut out).unwrap());
                state.stage(0, &out);
                if i % 500 == 499 {
                    state.batch_committed();
                }
            }
            state.batch_committed();
            started.elapsed()
        })
    });
}

/// What netting adds: a CNY payment to Hong Kong (two currencies, so two books read and
/// written) decided against the store with the sample table's settlement schemes, and
/// with the same table without them. Then a cut-off: a partition's book holding a
/// cycle of a million clearing records among 200 participants, closed and netted.
fn settlement(c: &mut Criterion) {
    let now = 1_764_000_000_000_000;
    let table = sample_table();
    let payment = |n: u64| AuthorizationRequest {
        transaction_id: format!("tx-{n:012}"),
        created_at: now,
        creditor_agent: Some(Agent::new("HK_FPS", ["004", "012", "024", "003"][n as usize % 4])),
        ..sample_request()
    };
    decide_with_store(c, "settlement/accept_with_netting", &table, now, payment);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
    let mut rules = parse_routes_file("sample.toml", &text).unwrap();
    rules.retain(|r| !matches!(r, RouteRecord::Settlement(_)));
    let unsettled = RoutingTable::compile(1, &rules).unwrap();
    decide_with_store(c, "settlement/accept_without_netting", &unsettled, now, payment);

    // A million records counted into one partition's HKD book, outside the timing.
    let mut book_value: Option<(Vec<u8>, Vec<u8>)> = None;
    struct One<'a>(&'a Option<(Vec<u8>, Vec<u8>)>);
    impl interlink_core::memory::Memory for One<'_> {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, interlink_core::memory::MemoryError> {
            Ok(self.0.as_ref().filter(|(k, _)| k == key).map(|(_, v)| v.clone()))
        }
    }
    let mut clearing = interlink_schemas::ClearingRecord {
        transaction_id: "tx".into(),
        end_to_end_id: "e2e".into(),
        debtor_agent: Agent::new("HK_FPS", "004"),
        debtor_account: "1".into(),
        creditor_agent: Agent::new("HK_FPS", "012"),
        creditor_account: None,
        debit_amount: Amount::new(100, "HKD"),
        credit_amount: Amount::new(100, "HKD"),
        fx_rate: "1".into(),
        quote_id: "q".into(),
        corridor: "c".into(),
        routing_version: 1,
        request_created_at: now,
        cleared_at: now,
        reverses: None,
        debit_settlement_cycle: None,
        credit_settlement_cycle: None,
    };
    // A million when benchmarking; `cargo test` runs each benchmark once, unoptimised,
    // where a thousand shows the same code works.
    let records = if std::env::args().any(|a| a == "--bench") { 1_000_000u64 } else { 1_000 };
    for n in 0..records {
        clearing.debtor_agent.institution_id = format!("{:03}", n % 200);
        clearing.creditor_agent.institution_id = format!("{:03}", (n * 7 + 1) % 200);
        let writes = interlink_core::settlement::count(&table, &One(&book_value), &mut clearing, None).unwrap();
        let w = writes.into_iter().next().unwrap();
        book_value = Some((w.key.unwrap(), w.payload.unwrap()));
    }
    let cut_off = table.settlement_scheme("HKD").unwrap().cycle_of(now);
    c.bench_function("settlement/cut_off_of_1m_records_200_participants", |b| {
        b.iter(|| {
            let parts = interlink_core::settlement::close_due(&table, &One(&book_value), 0, cut_off).unwrap();
            let mut netted = 0;
            for part in parts.iter().filter(|o| o.topic == interlink_core::OutputTopic::Forwards) {
                let part =
                    interlink_core::settlement::CyclePart::decode(part.payload.as_ref().unwrap()).unwrap().unwrap();
                if part.totals.records == records {
                    let (_, settled) =
                        interlink_core::settlement::net(&table, &interlink_core::memory::Forgetful, part, 1, cut_off)
                            .unwrap()
                            .unwrap();
                    netted += settled.len();
                }
            }
            assert_eq!(netted, 201, "200 positions and the summary");
        })
    });
}

criterion_group!(benches, routing, pipeline, state, limits, settlement);
criterion_main!(benches);
