//! The whole core decision on arbitrary input records: the input drives a little edge
//! around `interlink_core::Processor` (one partition, its state in a map, the sample
//! routing table `routes/sample.toml`, alone or with risk rules added) through a sequence of
//! steps, each one record decided as the worker decides it:
//!
//! - a request built from the input (participants, corridors, amounts, QR codes, aliases,
//!   person ids and Unicode-heavy names drawn from the table and `interlink_fuzz`), keyed as
//!   producers key it or not; or a request's raw bytes; or an earlier request again, as it
//!   was or changed;
//! - a forward the switch wrote (payments to connected networks, limit releases,
//!   settlement cycle parts), delivered once;
//! - a connected network's answer to a payment the switch sent it: a status report of any
//!   status, or a return, naming the payment or not quite, on time or late; or arbitrary
//!   bytes on a network's `.in` topic; or a payment the network originates, and the
//!   request the switch makes of it;
//! - time passing: the worker's sweep closes settlement cycles and expires state entries
//!   (a payment whose network did not answer times out).
//!
//! Must never panic and must always decide (an `Undecided` would stop the worker), and:
//! - every output record is readable: the switch's Avro records by their codecs, state
//!   values by their header, forwards by the core, network messages by the network's
//!   connector;
//! - one outcome per record, with the outputs it implies: a clearing record only for an
//!   accepted payment (exactly one) or a network's return (exactly one reversal), a dead
//!   letter for a dead-lettered record, a forward for a forwarded request, a refusal
//!   notification for a rejected one;
//! - over the whole sequence, a payment clears at most once, is reversed at most once and
//!   only after it cleared, and its debtor gets each final answer at most once.

#![no_main]

use interlink_connectors::{CanonicalPayment, CanonicalReturn, CanonicalStatus, Connector, IsoReason, Money};
use interlink_core::memory::{self, ForwardCommand, LimitRelease, Memory, MemoryError};
use interlink_core::settlement::CyclePart;
use interlink_core::{Context, Expiry, InputRecord, InputSource, Outcome, OutputRecord, OutputTopic, Processor};
use interlink_fuzz::arbitrary::{Result, Unstructured};
use interlink_fuzz::UNICODE_TEXTS;
use interlink_routing::{parse_routes_file, Corridor, Participant, RouteRecord, RoutingTable};
use interlink_schemas::{
    Agent, Alias, Amount, AuthorizationRequest, Channel, ClearingRecord, Codec, DeadLetter, Notification, Party,
    PaymentReturn, PersonId, RiskAlert, SettlementRecord,
};
use interlink_vocab::{Finality, PaymentStatus};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock};

struct Table {
    table: RoutingTable,
    participants: Vec<Participant>,
    corridors: Vec<Corridor>,
}

impl Table {
    fn new(text: &str) -> Self {
        let rules = parse_routes_file("fuzz.toml", text).expect("the fuzz tables are valid");
        let table = RoutingTable::compile(3, &rules).expect("the fuzz tables compile");
        let participants = rules
            .iter()
            .filter_map(|r| match r {
                RouteRecord::Participant(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        let corridors = rules
            .iter()
            .filter_map(|r| match r {
                RouteRecord::Corridor(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        Self { table, participants, corridors }
    }

    fn in_network(&self, network: &str) -> Vec<&Participant> {
        self.participants.iter().filter(|p| p.network == network).collect()
    }
}

const SAMPLE: &str = include_str!("../../routes/sample.toml");

static TABLES: LazyLock<[Table; 2]> =
    LazyLock::new(|| [Table::new(SAMPLE), Table::new(&format!("{SAMPLE}\n{}", interlink_fuzz::RISK_RULES))]);

/// Which networks each processor reaches through their connectors (the others settle
/// directly): none, five, every network in the connector registry.
static CONNECTED: LazyLock<[Vec<&'static str>; 3]> = LazyLock::new(|| {
    [
        Vec::new(),
        vec!["HK_FPS", "IN_UPI", "BR_PIX", "US_FEDNOW", "EU_SCTINST"],
        interlink_connectors::connectors().map(|c| c.profile().id).collect(),
    ]
});

const OFAC_SEED: &[u8] = include_bytes!("../seeds/ofac_csv/synthetic");

/// The processors, as workers build them; the last one screens names against the
/// synthetic OFAC list of the `ofac_csv` seeds.
static PROCESSORS: LazyLock<Vec<Processor>> = LazyLock::new(|| {
    // The seed is `sdn.csv`, a NUL, then `alt.csv`.
    let split = OFAC_SEED.iter().position(|&b| b == 0).expect("the OFAC seed has its two files");
    let list =
        interlink_screening::ofac::parse(&OFAC_SEED[..split], &OFAC_SEED[split + 1..]).expect("the OFAC seed loads");
    let screener = Arc::new(interlink_screening::Screener::new(&list));
    CONNECTED
        .iter()
        .enumerate()
        .map(|(i, networks)| {
            let networks: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
            let p = Processor::new().expect("a processor").with_connected(&networks);
            if i == 2 {
                p.with_screener(screener.clone())
            } else {
                p
            }
        })
        .collect()
});

struct Codecs {
    requests: Codec<AuthorizationRequest>,
    clearing: Codec<ClearingRecord>,
    notifications: Codec<Notification>,
    dead_letters: Codec<DeadLetter>,
    returns: Codec<PaymentReturn>,
    risk_alerts: Codec<RiskAlert>,
    settlement: Codec<SettlementRecord>,
}

static CODECS: LazyLock<Codecs> = LazyLock::new(|| Codecs {
    requests: Codec::new().unwrap(),
    clearing: Codec::new().unwrap(),
    notifications: Codec::new().unwrap(),
    dead_letters: Codec::new().unwrap(),
    returns: Codec::new().unwrap(),
    risk_alerts: Codec::new().unwrap(),
    settlement: Codec::new().unwrap(),
});

/// Each network's golden payment (`connectors/tests/golden`): what a network originates,
/// before the input changes it.
static GOLDEN_PAYMENTS: LazyLock<Vec<(&'static str, CanonicalPayment)>> = LazyLock::new(|| {
    macro_rules! golden {
        ($($net:literal),*) => {
            vec![$(($net, include_bytes!(concat!("../../connectors/tests/golden/", $net, "/payment.xml")).as_slice())),*]
        };
    }
    golden!(
        "CN_IBPS",
        "HK_FPS",
        "ID_BIFAST",
        "TH_PROMPTPAY",
        "SG_PAYNOW",
        "MY_DUITNOW",
        "IN_UPI",
        "BR_PIX",
        "EU_SCTINST",
        "US_FEDNOW"
    )
    .into_iter()
    .map(|(net, bytes)| (net, connector(net).decode_payment(bytes).expect("a golden payment decodes")))
    .collect()
});

/// QR codes the gateway may be handed: the `emvco_decode` seeds (QRIS, PromptPay, PayNow,
/// HK FPS, DuitNow, several schemes in one), and some that are not codes.
const QR_CODES: &[&str] = &[
    include_str!("../seeds/emvco_decode/qris"),
    include_str!("../seeds/emvco_decode/promptpay"),
    include_str!("../seeds/emvco_decode/paynow"),
    include_str!("../seeds/emvco_decode/hk_fps"),
    include_str!("../seeds/emvco_decode/duitnow"),
    include_str!("../seeds/emvco_decode/multi_scheme"),
    include_str!("../seeds/emvco_decode/promptpay_p2p"),
    "000201",
    "",
];

/// Request currencies: the networks' own and two the corridors never pay in (USD, JPY),
/// ISO 4217's code reserved for testing (a listed code no payment is made in) and a
/// lower-case code, which must be refused.
const TESTING_CURRENCY: &str = "XTS";
const CURRENCIES: &[&str] =
    &["CNY", "HKD", "IDR", "THB", "SGD", "MYR", "INR", "BRL", "EUR", "USD", "JPY", TESTING_CURRENCY, "cny"];

/// Instants the sequence may start at: a Wednesday afternoon in New York (inside the
/// windowed corridor), a Saturday night in Asia, a holiday of the samples, the hour the US
/// clocks go forward.
const STARTS: [i64; 4] = [1_780_502_400_000_000, 1_780_714_800_000_000, 1_798_200_000_000_000, 1_772_953_200_000_000];

/// How far one step may move the clock: the duplicate window (24 h) is never reached in a
/// sequence, so a payment cleared twice is always a bug.
const MAX_TICK_MICROS: i64 = 1_800_000_000;
const MAX_STEPS: usize = 24;

/// `INTERLINK_FUZZ_TRACE=1` prints every decision (to see what a crash input does, or what
/// the corpus reaches: `INTERLINK_FUZZ_TRACE=1 fuzz/target/*/release/core_decision -runs=0 DIR`).
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("INTERLINK_FUZZ_TRACE").is_some());

fn connector(network: &str) -> &'static dyn Connector {
    interlink_connectors::connector(network).expect("a registered network")
}

/// A state store in a map, written as the edge writes it: every State output.
#[derive(Default)]
struct MapMemory(RefCell<BTreeMap<Vec<u8>, Vec<u8>>>);

impl Memory for MapMemory {
    fn get(&self, key: &[u8]) -> std::result::Result<Option<Vec<u8>>, MemoryError> {
        Ok(self.0.borrow().get(key).cloned())
    }
}

impl MapMemory {
    fn apply(&self, out: &[OutputRecord]) {
        for o in out.iter().filter(|o| o.topic == OutputTopic::State) {
            let key = o.key.clone().expect("state records are keyed");
            match &o.payload {
                Some(v) => self.0.borrow_mut().insert(key, v.clone()),
                None => self.0.borrow_mut().remove(&key),
            };
        }
    }
}

/// A payment the switch sent into a network, as the network read it.
struct Sent {
    network: &'static str,
    key: Vec<u8>,
    payment: CanonicalPayment,
}

/// A record waiting to be read, as the edge would write it to a topic.
struct Queued {
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
}

/// Takes a record from `queue` as Kafka delivers them: records of any key may come first,
/// but those of one key (one partition) come in the order they were written.
fn take(u: &mut Unstructured<'_>, queue: &mut Vec<Queued>) -> Result<Option<Queued>> {
    if queue.is_empty() {
        return Ok(None);
    }
    let key = queue[u.choose_index(queue.len())?].key.clone();
    let first = queue.iter().position(|q| q.key == key).expect("the chosen key is queued");
    Ok(Some(queue.remove(first)))
}

struct Sim<'w> {
    processor: &'w Processor,
    connected: &'static [&'static str],
    table: &'w Table,
    memory: MapMemory,
    now: i64,
    offset: i64,
    forwards: Vec<Queued>,
    originated: Vec<Queued>,
    sent: Vec<Sent>,
    requests: Vec<(AuthorizationRequest, Option<Vec<u8>>)>,
    /// (debtor network, debtor institution, transaction id) of every payment cleared.
    cleared: HashSet<(String, String, String)>,
    /// Transaction ids reversed.
    reversed: HashSet<String>,
    /// (debtor agent, notification id) of every final answer to a debtor.
    answered: HashSet<(String, String, String)>,
}

/// What one record's outputs hold, read back.
#[derive(Default)]
struct Read {
    clearing: Vec<ClearingRecord>,
    notifications: Vec<Notification>,
    /// The dead letters' messages.
    dead_letters: Vec<String>,
    forward_commands: usize,
    network_out: usize,
}

fn text(u: &mut Unstructured<'_>, ids: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=19)? {
        0..=15 => u.choose(ids)?.to_string(),
        16..=18 => u.choose(UNICODE_TEXTS)?.to_string(),
        _ => {
            let s: String = u.arbitrary()?;
            s.chars().take(80).collect()
        }
    })
}

fn name(u: &mut Unstructured<'_>) -> Result<Option<String>> {
    Ok(match u.int_in_range(0..=4)? {
        0 => None,
        1 => Some("TARKAZI, Muhammad Yusuf".into()),
        2 => Some(u.choose(&["Chan Tai Man", "Wang Fang", "Somchai Jaidee", "Maria da Silva"])?.to_string()),
        _ => Some(text(u, UNICODE_TEXTS)?),
    })
}

fn minor_units(u: &mut Unstructured<'_>, max: i64) -> Result<i64> {
    Ok(match u.int_in_range(0..=19)? {
        0..=14 => u.int_in_range(1..=max.max(1))?,
        15 => max,
        16 => max.saturating_add(1),
        17 | 18 => *u.choose(&[0, -1, 1, i64::MAX, i64::MIN])?,
        _ => u.arbitrary()?,
    })
}

impl<'w> Sim<'w> {
    fn agent(&self, u: &mut Unstructured<'_>, network: &str) -> Result<Agent> {
        let candidates = self.table.in_network(network);
        Ok(match (u.ratio(7u8, 8u8)?, candidates.is_empty()) {
            (true, false) => {
                let p = u.choose(&candidates)?;
                Agent::new(&p.network, &p.institution_id)
            }
            _ => Agent::new(network, text(u, &["004", "999", "102584000002", "501290000012"])?),
        })
    }

    fn account(&self, u: &mut Unstructured<'_>, network: &str) -> Result<String> {
        Ok(match u.int_in_range(0..=5)? {
            0..=3 => match interlink_connectors::connector(network) {
                Some(c) => c.account_form().example(u.int_in_range(0..=9)?),
                None => "123456789012".into(),
            },
            4 => "000000000007".into(),
            _ => text(u, &["", "HK-1", "6222"])?,
        })
    }

    fn request(&self, u: &mut Unstructured<'_>) -> Result<AuthorizationRequest> {
        let corridor = u.choose(&self.table.corridors)?;
        let (from, to) = match u.int_in_range(0..=9)? {
            0..=7 => (corridor.from.clone(), corridor.to.clone()),
            _ => {
                let networks: Vec<&str> = interlink_connectors::NETWORKS.iter().map(|n| n.id).collect();
                (u.choose(&networks)?.to_string(), u.choose(&networks)?.to_string())
            }
        };
        let currency =
            if u.ratio(7u8, 8u8)? { corridor.source_currency.clone() } else { u.choose(CURRENCIES)?.to_string() };
        let creditor_agent = Some(self.agent(u, &to)?);
        let (creditor_agent, qr_payload, creditor_alias) = match u.int_in_range(0..=9)? {
            0..=6 => (creditor_agent, None, None),
            7 => (None, Some(u.choose(QR_CODES)?.to_string()), None),
            8 => {
                let value = u.choose(&["+85291234567", "+8613800138000", "+6591234567", "+919876543210", "x"])?;
                (None, None, Some(Alias { scheme: "MOBILE".into(), value: value.to_string() }))
            }
            _ => (creditor_agent, Some(text(u, QR_CODES)?), None),
        };
        let debtor_id = match u.int_in_range(0..=7)? {
            0..=4 => None,
            5 | 6 => Some(PersonId::new("NIDN", "HK", text(u, &["A1234563", "K7654321"])?)),
            _ => Some(PersonId::new(
                text(u, &["CCPT", "NIDN", ""])?,
                text(u, &["CN", "SG", "hk"])?,
                text(u, UNICODE_TEXTS)?,
            )),
        };
        let now = self.now;
        Ok(AuthorizationRequest {
            transaction_id: text(u, &["tx-1", "tx-2", "tx-3", "tx-4", "tx-5", "tx-6", "tx-7", "tx-8"])?,
            end_to_end_id: text(u, &["E2E-1", "E2E-2", "NOTPROVIDED"])?,
            created_at: match u.int_in_range(0..=9)? {
                0..=7 => now - u.int_in_range(0..=600_000_000)?,
                8 => now + u.int_in_range(0..=3_600_000_000)?,
                _ => u.arbitrary()?,
            },
            debtor_agent: self.agent(u, &from)?,
            debtor_account: self.account(u, &from)?,
            creditor_account: if u.ratio(1u8, 8u8)? { None } else { Some(self.account(u, &to)?) },
            creditor_agent,
            qr_payload,
            creditor_alias,
            amount: Amount::new(minor_units(u, corridor.max_amount_minor)?, currency),
            channel: *u.choose(&[Channel::Mobile, Channel::Qr, Channel::Api, Channel::Unknown])?,
            purpose: if u.ratio(1u8, 4u8)? { Some(text(u, &["SALA", "GDDS", "OTHR"])?) } else { None },
            debtor_name: name(u)?,
            debtor_id,
            creditor_name: name(u)?,
            device_id: if u.ratio(1u8, 3u8)? { Some(text(u, &["dev-1", "dev-2", "pos-9"])?) } else { None },
        })
    }

    /// Decides one record and checks its outcome against its outputs.
    fn decide(
        &mut self,
        source: InputSource,
        topic: &str,
        key: Option<&[u8]>,
        payload: &[u8],
        written_at: Option<i64>,
    ) -> (Outcome, Read) {
        self.offset += 1;
        let input =
            InputRecord { source, topic, partition: 0, offset: self.offset, key, payload: Some(payload), written_at };
        let ctx = Context { table: &self.table.table, now_micros: self.now, memory: &self.memory };
        let mut out = Vec::new();
        let outcome = self
            .processor
            .process_with(&input, &ctx, &mut out)
            .unwrap_or_else(|e| panic!("not decided ({source:?}, key {key:?}): {e}"));
        let read = self.absorb(&out);
        if *TRACE {
            let topics: Vec<_> = out.iter().map(|o| o.topic).collect();
            eprintln!(
                "{source:?} {:?}: {outcome:?} {topics:?} {:?}",
                key.map(String::from_utf8_lossy),
                read.dead_letters
            );
        }
        check_outcome(&outcome, &read, &out);
        (outcome, read)
    }

    /// Reads every output back, checks it, and does what the edge does with it.
    fn absorb(&mut self, out: &[OutputRecord]) -> Read {
        let codecs = &*CODECS;
        let mut read = Read::default();
        for o in out {
            let payload = o.payload.as_deref();
            let bytes = || payload.unwrap_or_else(|| panic!("{:?} output without a payload", o.topic));
            match o.topic {
                OutputTopic::Clearing => {
                    let c = codecs.clearing.decode(bytes()).expect("a clearing record decodes");
                    assert!(c.debit_amount.minor_units > 0, "{c:?}");
                    // A small partial return may give the debtor back less than a unit.
                    let least = if c.reverses.is_some() { 0 } else { 1 };
                    assert!(c.credit_amount.minor_units >= least, "{c:?}");
                    read.clearing.push(c);
                }
                OutputTopic::Notifications => {
                    read.notifications.push(codecs.notifications.decode(bytes()).expect("a notification decodes"))
                }
                OutputTopic::DeadLetters => {
                    let d = codecs.dead_letters.decode(bytes()).expect("a dead letter decodes");
                    assert!(d.original_value.as_ref().is_none_or(|v| v.len() <= 64 * 1024));
                    read.dead_letters.push(d.error_message);
                }
                OutputTopic::Requests => {
                    let r = codecs.requests.decode(bytes()).expect("an originated request decodes");
                    assert_eq!(o.key.as_deref(), Some(r.partition_key().as_bytes()), "keyed as origins key");
                    self.originated.push(Queued { key: o.key.clone(), payload: bytes().to_vec() });
                }
                OutputTopic::Returns => {
                    codecs.returns.decode(bytes()).expect("a payment return decodes");
                }
                OutputTopic::RiskAlerts => {
                    codecs.risk_alerts.decode(bytes()).expect("a risk alert decodes");
                }
                OutputTopic::Settlement => {
                    codecs.settlement.decode(bytes()).expect("a settlement record decodes");
                }
                OutputTopic::Forwards => {
                    let p = bytes();
                    let release = LimitRelease::decode(p).map(|r| r.expect("a limit release decodes"));
                    let part = CyclePart::decode(p).map(|r| r.expect("a cycle part decodes"));
                    let seen = interlink_core::party_watch::PaymentSeen::decode(p)
                        .map(|r| r.expect("a payment for the creditor rules decodes"));
                    let command = ForwardCommand::decode(p).ok();
                    if let Some(command) = &command {
                        assert!(self.connected.contains(&command.network.as_str()), "forwarded to {}", command.network);
                    }
                    let kinds =
                        usize::from(release.is_some())
                            + usize::from(part.is_some())
                            + usize::from(seen.is_some())
                            + usize::from(command.is_some());
                    assert_eq!(kinds, 1, "a forward is one thing: {p:?}");
                    read.forward_commands += usize::from(command.is_some());
                    self.forwards.push(Queued { key: o.key.clone(), payload: p.to_vec() });
                }
                OutputTopic::NetworkOut(network) => {
                    read.network_out += 1;
                    let c = connector(network);
                    let p = bytes();
                    let key = o.key.clone().expect("network messages are keyed by wire id");
                    if let Ok(payment) = c.decode_payment(p) {
                        self.sent.push(Sent { network, key, payment });
                    } else {
                        assert!(
                            c.decode_status(p).is_ok() || c.decode_return(p).is_ok(),
                            "{network} cannot read what the switch sent it: {}",
                            String::from_utf8_lossy(p)
                        );
                    }
                }
                OutputTopic::State => {
                    assert!(o.key.is_some(), "state records are keyed");
                    if let Some(v) = payload {
                        assert!(memory::expires_at(v).is_some(), "a state value has its header: {v:?}");
                    }
                }
            }
        }
        self.memory.apply(out);
        for c in &read.clearing {
            match &c.reverses {
                None => {
                    let id = (
                        c.debtor_agent.network.clone(),
                        c.debtor_agent.institution_id.clone(),
                        c.transaction_id.clone(),
                    );
                    assert!(self.cleared.insert(id), "cleared twice: {c:?}");
                }
                Some(original) => {
                    let id =
                        (c.creditor_agent.network.clone(), c.creditor_agent.institution_id.clone(), original.clone());
                    assert!(self.cleared.contains(&id), "a reversal of a payment never cleared: {c:?}");
                    assert!(self.reversed.insert(original.clone()), "reversed twice: {c:?}");
                }
            }
        }
        for n in read.notifications.iter().filter(|n| n.party == Party::Debtor) {
            let id = (n.agent.network.clone(), n.agent.institution_id.clone(), n.notification_id.clone());
            assert!(self.answered.insert(id), "the debtor told twice: {n:?}");
        }
        read
    }

    fn step(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        match u.int_in_range(0..=13)? {
            0..=3 => {
                let request = self.request(u)?;
                let key = match u.int_in_range(0..=15)? {
                    0..=13 => Some(request.partition_key().as_bytes().to_vec()),
                    14 => None,
                    _ => Some(text(u, &["tx-1", ""])?.into_bytes()),
                };
                self.send_request(request, key)?;
            }
            4 => {
                // An earlier request again: the same, or changed.
                if self.requests.is_empty() {
                    return Ok(());
                }
                let i = u.choose_index(self.requests.len())?;
                let (mut request, key) = self.requests[i].clone();
                if u.arbitrary()? {
                    request.amount.minor_units = request.amount.minor_units.wrapping_add(1);
                }
                self.send_request(request, key)?;
            }
            5 => {
                // Raw bytes on the requests topic, with or without the header of a version.
                let mut payload = Vec::new();
                if u.arbitrary()? {
                    payload.push(0);
                    payload.extend_from_slice(&u.choose(&[102u32, 101, 7])?.to_be_bytes());
                }
                let len = u.int_in_range(0..=200)?;
                payload.extend_from_slice(u.bytes(len.min(u.len()))?);
                let key = u.arbitrary::<Option<Vec<u8>>>()?;
                self.decide(InputSource::Requests, "requests", key.as_deref(), &payload, None);
            }
            6 | 7 => {
                // A forward, read once at the partition of its key.
                let Some(f) = take(u, &mut self.forwards)? else { return Ok(()) };
                let (outcome, read) =
                    self.decide(InputSource::Forwards, "forwards", f.key.as_deref(), &f.payload, Some(self.now));
                // Forwards are the switch's own records: never refused as unreadable.
                assert!(
                    !matches!(outcome, Outcome::DeadLettered { .. }),
                    "a forward dead-lettered: {:?}",
                    read.dead_letters
                );
            }
            8 | 9 => self.network_answer(u)?,
            10 => self.network_payment(u)?,
            11 => {
                // A request a network originated, read from the requests topic.
                let Some(r) = take(u, &mut self.originated)? else { return Ok(()) };
                self.decide(InputSource::Requests, "requests", r.key.as_deref(), &r.payload, None);
            }
            12 => {
                // Arbitrary bytes on a network's `.in` topic (mostly a connected one's).
                let network = if u.ratio(7u8, 8u8)? && !self.connected.is_empty() {
                    *u.choose(self.connected)?
                } else {
                    *u.choose(&CONNECTED[2])?
                };
                let len = u.int_in_range(0..=300)?;
                let payload = u.bytes(len.min(u.len()))?.to_vec();
                let key = u.arbitrary::<Option<Vec<u8>>>()?;
                self.decide(InputSource::Network(network), "network.in", key.as_deref(), &payload, Some(self.now));
            }
            _ => self.tick(u)?,
        }
        Ok(())
    }

    fn send_request(&mut self, request: AuthorizationRequest, key: Option<Vec<u8>>) -> Result<()> {
        let payload = CODECS.requests.encode(&request).expect("a request encodes");
        let (outcome, read) = self.decide(InputSource::Requests, "requests", key.as_deref(), &payload, None);
        if outcome == Outcome::Accepted {
            let c = &read.clearing[0];
            assert_eq!((&c.transaction_id, &c.debit_amount), (&request.transaction_id, &request.amount), "{c:?}");
        }
        self.requests.push((request, key));
        Ok(())
    }

    /// A connected network answers a payment the switch sent it.
    fn network_answer(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        if self.sent.is_empty() {
            return Ok(());
        }
        let i = u.choose_index(self.sent.len())?;
        let (network, key, p) = {
            let s = &self.sent[i];
            (s.network, s.key.clone(), s.payment.clone())
        };
        let c = connector(network);
        let e2e = if u.ratio(7u8, 8u8)? { p.end_to_end_id.clone() } else { text(u, &["E2E-OTHER"])? };
        let amount = p.settlement_amount().clone();
        let message = if u.ratio(3u8, 4u8)? {
            let status = if u.arbitrary()? {
                *u.choose(&[PaymentStatus::ACCC, PaymentStatus::ACSC, PaymentStatus::RJCT, PaymentStatus::ACSP])?
            } else {
                *u.choose(&PaymentStatus::ALL)?
            };
            let refused = status.finality() == Finality::Refused;
            let s = CanonicalStatus {
                message_id: text(u, &["S1", "S2"])?,
                created_at: self.now,
                original_message_id: p.message_id.clone(),
                original_end_to_end_id: e2e,
                original_transaction_id: p.transaction_id.clone(),
                original_uetr: if u.ratio(7u8, 8u8)? { p.uetr.clone() } else { None },
                status,
                reason: if refused || u.ratio(1u8, 8u8)? {
                    Some(
                        IsoReason::parse(u.choose(&["AC03", "AM04", "AB05", "FF01", "NARR", "RR04"])?)
                            .expect("a reason"),
                    )
                } else {
                    None
                },
                additional_info: if u.ratio(1u8, 4u8)? { Some(text(u, UNICODE_TEXTS)?) } else { None },
                instructing_agent: None,
                instructed_agent: None,
                original_amount: match u.int_in_range(0..=5)? {
                    0 => Some(Money::new(amount.minor_units + 1, &amount.currency)),
                    1 | 2 => Some(amount.clone()),
                    _ => None,
                },
            };
            c.encode_status(&s)
        } else {
            let returned = match u.int_in_range(0..=3)? {
                0 => amount.minor_units.saturating_add(1),
                1 => (amount.minor_units / 2).max(1),
                2 => 1,
                _ => amount.minor_units,
            };
            let r = CanonicalReturn {
                message_id: text(u, &["R1", "R2"])?,
                created_at: self.now,
                return_id: text(u, &["R1", "R2", "R3"])?,
                original_message_id: p.message_id.clone(),
                original_end_to_end_id: e2e,
                original_transaction_id: p.transaction_id.clone(),
                original_uetr: p.uetr.clone(),
                returned_amount: Money::new(returned, &amount.currency),
                reason: IsoReason::parse(u.choose(&["AC04", "MD06", "FOCR", "DUPL"])?).expect("a reason"),
                additional_info: if u.ratio(1u8, 4u8)? { Some(text(u, UNICODE_TEXTS)?) } else { None },
                instructing_agent: None,
                instructed_agent: None,
            };
            c.encode_return(&r)
        };
        let Ok(message) = message else { return Ok(()) };
        let key = if u.ratio(7u8, 8u8)? { key } else { text(u, &["tx-1"])?.into_bytes() };
        let written_at = match u.int_in_range(0..=5)? {
            0..=3 => Some(self.now),
            4 => None,
            _ => Some(self.now + u.int_in_range(0..=MAX_TICK_MICROS)?),
        };
        self.decide(InputSource::Network(network), "network.in", Some(&key), &message, written_at);
        Ok(())
    }

    /// A connected network originates a payment: its golden payment, changed by the input.
    fn network_payment(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let (network, golden) = u.choose(&GOLDEN_PAYMENTS[..])?;
        let c = connector(network);
        let mut p = golden.clone();
        p.transaction_id = text(u, &["NT-1", "NT-2", &p.transaction_id])?;
        p.message_id = text(u, &["M1", &p.message_id])?;
        p.created_at = self.now - u.int_in_range(0..=60_000_000)?;
        if u.arbitrary()? {
            p.debtor.name = name(u)?;
            p.creditor.name = name(u)?;
        }
        if u.arbitrary()? {
            // To a participant a corridor from this network reaches.
            let reachable: Vec<&Corridor> = self.table.corridors.iter().filter(|k| k.from == **network).collect();
            if let Ok(k) = u.choose(&reachable) {
                p.creditor.agent = interlink_connectors::Agent::new(&k.to, self.agent(u, &k.to)?.institution_id);
                p.instructed_amount = Money::new(minor_units(u, k.max_amount_minor)?, &k.source_currency);
                p.interbank_settlement = None;
            }
        }
        let Ok(message) = c.encode_payment(&p) else { return Ok(()) };
        let key = p.transaction_id.clone().into_bytes();
        self.decide(InputSource::Network(network), "network.in", Some(&key), &message, Some(self.now));
        Ok(())
    }

    /// Time passes; the worker's sweep closes cycles and expires what is due.
    fn tick(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        self.now += match u.int_in_range(0..=9)? {
            0..=6 => u.int_in_range(0..=10_000_000)?,
            7 | 8 => u.int_in_range(0..=120_000_000)?,
            _ => u.int_in_range(0..=MAX_TICK_MICROS)?,
        };
        let mut out = Vec::new();
        self.processor
            .close_cycles(&self.table.table, &self.memory, 0, self.now, &mut out)
            .unwrap_or_else(|e| panic!("cycles not closed: {e}"));
        let read = self.absorb(&out);
        assert!(read.clearing.is_empty() && read.notifications.is_empty(), "closing cycles pays nobody");
        let due: Vec<(Vec<u8>, Vec<u8>)> = self
            .memory
            .0
            .borrow()
            .iter()
            .filter(|(_, v)| memory::expires_at(v).is_some_and(|at| at <= self.now))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in due {
            let mut out = Vec::new();
            let expiry = self
                .processor
                .expire(&key, &value, &self.memory, self.now, &mut out)
                .unwrap_or_else(|e| panic!("not expired: {e}"));
            let read = self.absorb(&out);
            assert!(read.clearing.is_empty(), "an expiry clears nothing");
            match expiry {
                Expiry::TimedOut | Expiry::ReviewTimedOut => {
                    assert!(
                        read.notifications.iter().all(|n| n.status == PaymentStatus::RJCT),
                        "timed out: AB05 to both"
                    )
                }
                Expiry::Forgotten | Expiry::NotDue => assert!(read.notifications.is_empty()),
            }
        }
        Ok(())
    }
}

fn check_outcome(outcome: &Outcome, read: &Read, out: &[OutputRecord]) {
    let (plain, reversals): (Vec<_>, Vec<_>) = read.clearing.iter().partition(|c| c.reverses.is_none());
    let topics: Vec<_> = out.iter().map(|o| o.topic).collect();
    match outcome {
        Outcome::Accepted => {
            assert_eq!((plain.len(), reversals.len()), (1, 0), "accepted: {topics:?}");
            let accc = read.notifications.iter().filter(|n| n.status == PaymentStatus::ACCC && !n.repeat).count();
            assert_eq!(accc, 2, "both sides told ACCC: {topics:?}");
        }
        Outcome::Returned => assert_eq!((plain.len(), reversals.len()), (0, 1), "returned: {topics:?}"),
        other => assert!(read.clearing.is_empty(), "{other:?} with a clearing record: {topics:?}"),
    }
    match outcome {
        Outcome::DeadLettered { .. } | Outcome::LateAnswer { .. } => {
            assert_eq!(read.dead_letters.len(), 1, "{outcome:?}: {topics:?}")
        }
        _ => assert_eq!(read.dead_letters, Vec::<String>::new(), "{outcome:?}: {topics:?}"),
    }
    match outcome {
        Outcome::Forwarded => assert_eq!(read.forward_commands, 1, "forwarded: {topics:?}"),
        _ => assert_eq!(read.forward_commands, 0, "{outcome:?}: {topics:?}"),
    }
    if *outcome == Outcome::Sent {
        assert_eq!(read.network_out, 1, "sent: {topics:?}");
    }
    if let Outcome::Rejected { .. } = outcome {
        let refused =
            read.notifications.iter().filter(|n| matches!(n.status, PaymentStatus::RJCT | PaymentStatus::BLCK)).count();
        assert!(refused >= 1, "rejected without telling: {topics:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(setup) = u.arbitrary::<u8>() else { return };
    let processor = &PROCESSORS[usize::from(setup % 3)];
    let connected = CONNECTED[usize::from(setup % 3)].as_slice();
    let table = &TABLES[usize::from(setup / 3 % 2)];
    let now = STARTS[usize::from(setup / 6 % 4)];
    let mut sim = Sim {
        processor,
        connected,
        table,
        memory: MapMemory::default(),
        now,
        offset: 0,
        forwards: Vec::new(),
        originated: Vec::new(),
        sent: Vec::new(),
        requests: Vec::new(),
        cleared: HashSet::new(),
        reversed: HashSet::new(),
        answered: HashSet::new(),
    };
    for _ in 0..MAX_STEPS {
        if u.is_empty() || sim.step(&mut u).is_err() {
            break;
        }
    }
});
