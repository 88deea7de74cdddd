//! Requests with known expected outcomes, drawn from a routing table.

use crate::simulator::{LateAnswers, Punctuality};
use interlink_connectors::emvco::{MerchantAccount, MerchantQr};
use interlink_connectors::AccountForm;
use interlink_routing::{Corridor, Participant, ParticipantStatus, RouteRecord};
use interlink_schemas::{now_micros, Agent, Amount, AuthorizationRequest, Channel, Codec, PersonId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// What the switch must answer for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Clearing record plus ACCC to both sides.
    Accepted,
    /// RJCT to the debtor with this reason; nothing else.
    Rejected(&'static str),
    /// Dead letter (validation) plus RJCT to the debtor with this reason.
    Invalid(&'static str),
    /// Dead letter (undecodable) only.
    Poison,
    /// Routed to a connected network that refuses it: RJCT with the network's reason
    /// to both sides, no clearing record.
    NetworkRejected(String),
    /// Routed to a connected network that does not answer by the switch's deadline:
    /// RJCT AB05 to both sides, no clearing record; when the network accepts it later
    /// (`answered_late`), that acceptance is dead-lettered, once.
    TimedOut { answered_late: bool },
}

/// A copy of a request sent earlier under the same transaction id, and what the switch
/// must answer it with (see docs/architecture.md, "Duplicate requests").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resent {
    /// The same content with a new creation time, as a retry: one repeat notification
    /// to the debtor with the first request's outcome; nothing cleared again.
    Same,
    /// Other content: RJCT AM05 to the debtor and one dead letter; the first stands.
    Modified,
}

/// Destinations settled through their connector, and how their simulators answer.
#[derive(Debug, Clone, Default)]
pub struct NetworkLegs {
    pub connected: Vec<String>,
    pub accept_per_mille: u32,
    pub reject_reasons: Vec<String>,
    /// Payments the simulators leave unanswered or answer after the deadline.
    pub late_answers: LateAnswers,
}

/// Shares of each kind of request, in parts per thousand (the rest are valid).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub no_route: u32,
    pub above_cap: u32,
    pub invalid: u32,
    pub poison: u32,
    /// Of the decodable requests settled directly, those sent again (two or three times
    /// in all) with the same content, as an origin retries.
    pub repeated: u32,
    /// Of the same, those whose transaction id a later request with other content uses
    /// again.
    pub reused: u32,
    /// Every valid request names its debtor and creditor (`debtor_name`, `creditor_name`),
    /// as an origin that carries names does: what sanctions screening reads.
    pub party_names: bool,
}

impl Default for Mix {
    fn default() -> Self {
        Self { no_route: 40, above_cap: 20, invalid: 20, poison: 20, repeated: 0, reused: 0, party_names: false }
    }
}

/// Given names and surnames of the generated parties: common ones, none of them on the
/// synthetic sanctions lists the tests and load tests screen against.
const GIVEN_NAMES: &[&str] = &[
    "Wei", "Mei Ling", "Ka Ming", "Siu Fong", "Budi", "Siti", "Somchai", "Nattaya", "Wei Jie", "Hui Min", "Ananya",
    "Rahul", "Ana", "Joao", "Maria", "James", "Sarah", "Kenji",
];
const FAMILY_NAMES: &[&str] = &[
    "CHAN", "WONG", "LEE", "ZHANG", "WANG", "LIU", "SANTOSO", "WIJAYA", "SRISUK", "TAN", "LIM", "NG", "SHARMA",
    "PATEL", "SILVA", "SOUZA", "SMITH", "TANAKA",
];

/// A party's name as origins write it: "FAMILY Given".
fn party_name(rng: &mut StdRng) -> String {
    format!("{} {}", pick(rng, FAMILY_NAMES), pick(rng, GIVEN_NAMES))
}

/// The most records between a request and a copy of it: with up to 2,000, some copies
/// meet their first in the same batch (decided against the batch's overlay) and most in
/// a later one (against the store), as retries after a short and a long timeout would.
const MAX_COPY_GAP: u64 = 2_000;

/// A copy waiting for its turn.
struct PendingCopy {
    request: AuthorizationRequest,
    resent: Resent,
    expected: Expected,
}

/// One request to send: its Kafka key and value, and what must come back.
#[derive(Debug, Clone)]
pub struct Planned {
    pub transaction_id: String,
    /// The Kafka key it is written with ([`AuthorizationRequest::partition_key`]).
    pub key: String,
    /// When the request was created (µs since the epoch), as its `created_at` says.
    pub created_at: i64,
    pub payload: Vec<u8>,
    pub expected: Expected,
    /// The debtor and the amount, for the clearing totals (none for poison and copies).
    pub debit: Option<(Agent, Amount)>,
    /// A copy of an earlier request with this transaction id (`expected` is then the
    /// first request's outcome, which a repeat gets again).
    pub resent: Option<Resent>,
}

pub struct Generator {
    rng: StdRng,
    codec: Codec<AuthorizationRequest>,
    corridors: Vec<Corridor>,
    participants: HashMap<String, Vec<Participant>>,
    known_ids: HashSet<(String, String)>,
    /// Network pairs with per-person limits: their requests name the debtor.
    limited: HashSet<(String, String)>,
    /// Merchant-account GUID of a QR scheme of each destination network, for QR payments.
    qr_guids: HashMap<String, String>,
    mix: Mix,
    legs: NetworkLegs,
    /// Records handed out so far, and how many the run sends in all.
    sequence: u64,
    total: u64,
    /// Copies by the sequence number at which they fall due.
    copies: BTreeMap<u64, VecDeque<PendingCopy>>,
}

#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    #[error("the routing table has no enabled corridor between active participants")]
    NoCorridor,
    #[error(transparent)]
    Codec(#[from] interlink_schemas::CodecError),
}

impl Generator {
    /// `rules` is a routing table (for example the parsed routes file the switch
    /// runs with); only enabled corridors between active participants, open at all hours, are used.
    pub fn new(rules: &[RouteRecord], mix: Mix, seed: u64) -> Result<Self, GeneratorError> {
        let mut participants: HashMap<String, Vec<Participant>> = HashMap::new();
        let mut known_ids = HashSet::new();
        let mut corridors = Vec::new();
        let mut qr_guids: HashMap<String, (u32, String)> = HashMap::new();
        let mut limited = HashSet::new();
        for r in rules {
            match r {
                RouteRecord::Limit(l) => {
                    limited.insert((l.from.clone(), l.to.clone()));
                }
                // Anomaly rules judge a named debtor too.
                RouteRecord::Anomaly(a) => {
                    limited.insert((a.from.clone(), a.to.clone()));
                }
                RouteRecord::QrScheme(q) => {
                    // The scheme the switch will pick for a code with only this GUID.
                    let best = qr_guids.entry(q.network.clone()).or_insert((q.priority, q.guid.clone()));
                    if q.priority < best.0 {
                        *best = (q.priority, q.guid.clone());
                    }
                }
                RouteRecord::Participant(p) => {
                    known_ids.insert((p.network.clone(), p.institution_id.clone()));
                    if p.status == ParticipantStatus::Active {
                        participants.entry(p.network.clone()).or_default().push(p.clone());
                    }
                }
                // A corridor with operating windows may be closed when the load runs.
                RouteRecord::Corridor(c) if c.enabled && c.windows.is_empty() => corridors.push(c.clone()),
                _ => {}
            }
        }
        corridors.retain(|c| participants.contains_key(&c.from) && participants.contains_key(&c.to));
        corridors.sort_by_key(|c| c.id());
        if corridors.is_empty() {
            return Err(GeneratorError::NoCorridor);
        }
        let codec = Codec::new()?;
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            codec,
            corridors,
            participants,
            known_ids,
            limited,
            qr_guids: qr_guids.into_iter().map(|(network, (_, guid))| (network, guid)).collect(),
            mix,
            legs: NetworkLegs::default(),
            sequence: 0,
            total: u64::MAX,
            copies: BTreeMap::new(),
        })
    }

    /// The run sends `total` records in all, copies included: copies are planned to fall
    /// within them, and every copy planned is sent before the last record.
    pub fn with_total(mut self, total: u64) -> Self {
        self.total = total;
        self
    }

    /// Payments to these networks go through their (simulated) connector, which
    /// accepts or refuses each as `crate::simulator::decision` says.
    /// Frames requests with the ids of `catalog` (a Schema Registry's).
    pub fn with_schemas(
        mut self,
        catalog: &std::sync::Arc<interlink_schemas::SchemaCatalog>,
    ) -> Result<Self, GeneratorError> {
        self.codec = Codec::with_catalog(catalog)?;
        Ok(self)
    }

    pub fn with_network_legs(mut self, legs: NetworkLegs) -> Self {
        self.legs = legs;
        self
    }

    /// The next record to send: a copy whose turn has come, else a new request.
    pub fn next_request(&mut self) -> Planned {
        self.sequence += 1;
        let pending: u64 = self.copies.values().map(|q| q.len() as u64).sum();
        let remaining = self.total.saturating_sub(self.sequence) + 1;
        // A copy whose turn has come, or any, when only copies fit in what is left.
        let due = self.copies.first_key_value().is_some_and(|(at, _)| *at <= self.sequence || pending >= remaining);
        if due {
            let mut entry = self.copies.first_entry().expect("a copy is pending");
            let copy = entry.get_mut().pop_front().expect("queues are never left empty");
            if entry.get().is_empty() {
                entry.remove();
            }
            return self.copy(copy);
        }
        let (planned, copyable) = self.first_request();
        if let Some(request) = copyable {
            self.plan_copies(request, &planned.expected, pending, remaining);
        }
        planned
    }

    /// A copy stamped now, as the origin's retry (or its reuse of the id) would be.
    fn copy(&mut self, pending: PendingCopy) -> Planned {
        let PendingCopy { mut request, resent, expected } = pending;
        request.created_at = now_micros();
        if resent == Resent::Modified {
            request.amount.minor_units += 1;
        }
        let payload = self.codec.encode(&request).expect("a copy of a generated request encodes");
        Planned {
            key: request.partition_key().into_owned(),
            transaction_id: request.transaction_id,
            created_at: request.created_at,
            payload,
            expected,
            debit: None,
            resent: Some(resent),
        }
    }

    /// Schedules copies of a request just made, as [`Mix::repeated`] and [`Mix::reused`]
    /// say, where they fit before the end of the run.
    fn plan_copies(&mut self, request: AuthorizationRequest, expected: &Expected, pending: u64, remaining: u64) {
        let roll = self.rng.random_range(0..1000);
        let resent = if roll < self.mix.repeated {
            // Two or three times in all.
            vec![Resent::Same; self.rng.random_range(1..=2)]
        } else if roll < self.mix.repeated + self.mix.reused {
            vec![Resent::Modified]
        } else {
            return;
        };
        let room = remaining.saturating_sub(1 + pending + resent.len() as u64).min(MAX_COPY_GAP);
        if room == 0 {
            return;
        }
        for r in resent {
            let at = self.sequence + self.rng.random_range(1..=room);
            let copy = PendingCopy { request: request.clone(), resent: r, expected: expected.clone() };
            self.copies.entry(at).or_default().push_back(copy);
        }
    }

    /// A new request, and the request itself when copies of it may be sent: only of
    /// requests the switch remembers (it cannot read a poison one) and settles directly
    /// (a copy of a payment in flight gets ACSP or its final status, depending on when
    /// it comes). No copies, no draws: runs without copies see the same requests as before.
    fn first_request(&mut self) -> (Planned, Option<AuthorizationRequest>) {
        let roll = self.rng.random_range(0..1000);
        let m = self.mix;
        let corridor = self.corridors[self.rng.random_range(0..self.corridors.len())].clone();
        let mut req = self.valid_request(&corridor);
        let transaction_id = req.transaction_id.clone();
        let expected = if roll < m.poison {
            let mut payload = self.codec.encode(&req).expect("valid request encodes");
            // Truncated, or not Avro at all: both must be dead-lettered, never crash.
            if self.rng.random_bool(0.5) {
                payload.truncate(payload.len() / 2);
            } else {
                payload = format!("{{\"transaction_id\":\"{transaction_id}\"}}").into_bytes();
            }
            let planned = Planned {
                key: req.partition_key().into_owned(),
                transaction_id,
                created_at: req.created_at,
                payload,
                expected: Expected::Poison,
                debit: None,
                resent: None,
            };
            return (planned, None);
        } else if roll < m.poison + m.invalid {
            req.amount.minor_units = -req.amount.minor_units;
            Expected::Invalid("AM12")
        } else if roll < m.poison + m.invalid + m.above_cap {
            req.amount.minor_units = corridor.max_amount_minor + 1;
            Expected::Rejected("AM02")
        } else if roll < m.poison + m.invalid + m.above_cap + m.no_route {
            req.creditor_agent = Some(Agent::new(&corridor.to, self.unknown_id(&corridor.to)));
            Expected::Rejected("RC01")
        } else {
            self.maybe_by_qr(&mut req, &corridor);
            self.routable_outcome(&corridor, &transaction_id)
        };
        let payload = self.codec.encode(&req).expect("generated request encodes");
        let debit = Some((req.debtor_agent.clone(), req.amount.clone()));
        let key = req.partition_key().into_owned();
        let planned =
            Planned { key, transaction_id, created_at: req.created_at, payload, expected, debit, resent: None };
        let copies = self.mix.repeated + self.mix.reused > 0 && !self.legs.connected.contains(&corridor.to);
        (planned, copies.then_some(req))
    }

    /// What a routable payment gets: accepted, refused by a connected network, or
    /// refused by the switch when that network does not answer in time.
    fn routable_outcome(&self, corridor: &Corridor, transaction_id: &str) -> Expected {
        if !self.legs.connected.contains(&corridor.to) {
            return Expected::Accepted;
        }
        let wire = interlink_core::legs::wire_id(transaction_id);
        match crate::simulator::punctuality(wire.as_str(), &self.legs.late_answers) {
            Punctuality::Silent => Expected::TimedOut { answered_late: false },
            Punctuality::Late => Expected::TimedOut { answered_late: true },
            Punctuality::OnTime => {
                match crate::simulator::decision(wire.as_str(), self.legs.accept_per_mille, &self.legs.reject_reasons) {
                    Some(reason) => Expected::NetworkRejected(carried_reason(&corridor.to, &reason)),
                    None => Expected::Accepted,
                }
            }
        }
    }

    /// One in ten routable payments to a network with a QR scheme pays a merchant's
    /// static EMVCo code instead of naming the creditor.
    fn maybe_by_qr(&mut self, req: &mut AuthorizationRequest, c: &Corridor) {
        let (Some(guid), Some(creditor)) = (self.qr_guids.get(&c.to), req.creditor_agent.as_ref()) else { return };
        if self.rng.random_range(0..10) == 0 {
            let merchant_account = account(&mut self.rng, &c.to);
            req.qr_payload = Some(merchant_code(guid, &creditor.institution_id, &merchant_account, c));
            req.creditor_agent = None;
            req.creditor_account = None;
            req.channel = Channel::Qr;
        }
    }

    fn valid_request(&mut self, c: &Corridor) -> AuthorizationRequest {
        let debtor = pick(&mut self.rng, &self.participants[&c.from]).clone();
        let creditor = pick(&mut self.rng, &self.participants[&c.to]).clone();
        // Retail amounts of 50 to 200 major units of the payer's currency: under every
        // corridor and network limit of the sample table, and never converting to
        // less than one minor unit.
        let unit = 10i64.pow(interlink_routing::currency_exponent(&c.source_currency).unwrap_or(2));
        let cap = c.max_amount_minor.clamp(1, 200 * unit);
        let minor = self.rng.random_range((50 * unit).min(cap)..=cap);
        let transaction_id = uuid::Uuid::now_v7().to_string();
        AuthorizationRequest {
            end_to_end_id: format!("E2E{}", &transaction_id.replace('-', "")[..24]),
            transaction_id,
            created_at: now_micros(),
            debtor_agent: Agent::new(&debtor.network, &debtor.institution_id),
            debtor_account: account(&mut self.rng, &c.from),
            creditor_agent: Some(Agent::new(&creditor.network, &creditor.institution_id)),
            creditor_account: Some(account(&mut self.rng, &c.to)),
            qr_payload: None,
            creditor_alias: None,
            amount: Amount::new(minor, &c.source_currency),
            channel: [Channel::Mobile, Channel::InternetBanking, Channel::Api][self.rng.random_range(0..3)],
            purpose: None,
            debtor_name: self.mix.party_names.then(|| party_name(&mut self.rng)),
            // A payer of its own per request: far under any limit. The issuer is the
            // network's country (network ids start with it).
            debtor_id: self.limited.contains(&(c.from.clone(), c.to.clone())).then(|| {
                let number: u64 = self.rng.random_range(10u64.pow(17)..10u64.pow(18));
                PersonId::new("NIDN", &c.from[..2], number.to_string())
            }),
            creditor_name: self.mix.party_names.then(|| party_name(&mut self.rng)),
            device_id: None,
        }
    }

    /// An id that follows the network's scheme but belongs to no participant.
    fn unknown_id(&mut self, network: &str) -> String {
        let profile = interlink_connectors::network(network).expect("corridor networks are registered");
        let samples = self.participants[network].iter().map(|p| p.institution_id.clone()).collect::<Vec<_>>();
        for _ in 0..1000 {
            let base = pick(&mut self.rng, &samples);
            // Keep the shape (letters stay letters, digits stay digits), change content.
            let candidate: String = base
                .chars()
                .enumerate()
                .map(|(i, ch)| match ch {
                    '0'..='9' => char::from(b'0' + self.rng.random_range(0..10u8)),
                    'A'..='Z' if i < 4 => char::from(b'A' + self.rng.random_range(0..26u8)),
                    other => other,
                })
                .collect();
            if profile.validate_participant_id(&candidate).is_ok()
                && !self.known_ids.contains(&(network.to_string(), candidate.clone()))
            {
                return candidate;
            }
        }
        panic!("could not invent an unknown id for {network}");
    }
}

/// A merchant's static EMVCo code in the destination's currency: the merchant account
/// carries the GUID of the network's QR scheme, the merchant's participant and account.
fn merchant_code(guid: &str, participant: &str, merchant_account: &str, c: &Corridor) -> String {
    let numeric = iso_currency::Currency::from_code(&c.destination_currency).map_or(0, |cur| cur.numeric());
    let country = interlink_connectors::network(&c.to).map_or("XX", |p| p.country);
    MerchantQr::new("5411", format!("{numeric:03}"), country, "INTERLINK TEST MERCHANT", "CITY")
        .with_account(MerchantAccount::new(26, guid).with_field(1, participant).with_field(2, merchant_account))
        .encode()
}

/// The reason the switch will read from the network's status report: networks with
/// codes of their own (UPI) map an ISO reason to theirs and back, not always to itself.
fn carried_reason(network: &str, reason: &str) -> String {
    use interlink_connectors::{CanonicalStatus, IsoReason, PaymentStatus};
    let Some(connector) = interlink_connectors::connector(network) else { return reason.to_string() };
    let status = CanonicalStatus {
        message_id: "M".into(),
        created_at: 0,
        original_message_id: "M".into(),
        original_end_to_end_id: "E".into(),
        original_transaction_id: "T".into(),
        original_uetr: None,
        status: PaymentStatus::RJCT,
        reason: IsoReason::parse(reason).ok(),
        additional_info: None,
        instructing_agent: None,
        instructed_agent: None,
        original_amount: None,
    };
    connector.carried_status(&status).reason.map_or_else(|| "NARR".to_string(), |r| r.code().to_string())
}

/// An account number in the form the network needs (its connector says which).
fn account(rng: &mut StdRng, network: &str) -> String {
    let form = interlink_connectors::connector(network).map_or(AccountForm::LOCAL_DIGITS, |c| c.account_form());
    form.example(rng.random())
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_core::pipeline::{InputRecord, InputSource, Outcome, Processor};
    use interlink_routing::{parse_routes_file, RoutingTable};

    /// Every network's accounts pass its own connector's account rule.
    #[test]
    fn accounts_take_each_networks_form() {
        let mut rng = StdRng::seed_from_u64(3);
        for connector in interlink_connectors::connectors() {
            let network = connector.profile().id;
            for _ in 0..20 {
                let account = account(&mut rng, network);
                let expected_len = match connector.account_form() {
                    AccountForm::Digits { len } | AccountForm::Iban { len, .. } => len,
                };
                assert_eq!(account.len(), expected_len, "{network}: {account}");
            }
        }
        let iban = account(&mut rng, "EU_SCTINST");
        assert!(interlink_connectors::account::sepa_iban(&iban).is_ok(), "{iban}");
    }

    /// The generator's expectations agree with the switch's own decisions.
    #[test]
    fn expectations_match_the_pipeline() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
        let rules = parse_routes_file("sample.toml", &text).unwrap();
        let table = RoutingTable::compile(1, &rules).unwrap();
        let mut g = Generator::new(
            &rules,
            Mix { no_route: 100, above_cap: 100, invalid: 100, poison: 100, ..Mix::default() },
            7,
        )
        .unwrap();
        let p = Processor::new().unwrap();
        let mut kinds = HashMap::new();
        for _ in 0..2000 {
            let planned = g.next_request();
            let input = InputRecord {
                source: InputSource::Requests,
                topic: "t",
                partition: 0,
                offset: 0,
                key: Some(planned.key.as_bytes()),
                payload: Some(&planned.payload),
                written_at: None,
            };
            let outcome = p.process(&input, &table, now_micros(), &mut Vec::new()).unwrap();
            let agrees = match (&planned.expected, &outcome) {
                (Expected::Accepted, Outcome::Accepted) => true,
                (Expected::Rejected(c), Outcome::Rejected { reason }) => *c == reason.code(),
                (Expected::Invalid(_), Outcome::DeadLettered { kind }) => {
                    *kind == interlink_schemas::ErrorKind::Validation
                }
                (Expected::Poison, Outcome::DeadLettered { kind }) => *kind == interlink_schemas::ErrorKind::Decode,
                _ => false,
            };
            assert!(agrees, "{:?} vs {outcome:?}", planned.expected);
            *kinds.entry(format!("{:?}", planned.expected)).or_insert(0) += 1;
            let request = Codec::<AuthorizationRequest>::new().unwrap().decode(&planned.payload);
            if let Some(r) = request.ok().filter(|r| r.qr_payload.is_some()) {
                assert_eq!(r.channel, Channel::Qr);
                *kinds.entry(format!("QR {:?}", planned.expected)).or_insert(0) += 1;
            }
        }
        assert_eq!(kinds.len(), 6, "every kind generated, QR payments among them: {kinds:?}");
        assert!(kinds["QR Accepted"] > 50, "{kinds:?}");
    }

    /// Copies follow their first request, all of them within the run's total, with the
    /// same content (a new creation time aside) or, when reused, another amount; never
    /// of poison.
    #[test]
    fn copies_follow_their_first_request_and_fit_in_the_run() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
        let rules = parse_routes_file("sample.toml", &text).unwrap();
        let codec = Codec::<AuthorizationRequest>::new().unwrap();
        let mix = Mix { repeated: 100, reused: 10, ..Mix::default() };
        let total = 6_000;
        let mut g = Generator::new(&rules, mix, 5).unwrap().with_total(total);
        let mut firsts: HashMap<String, Planned> = HashMap::new();
        let (mut same, mut modified) = (0, 0);
        let (mut repeated, mut copied) = (HashSet::new(), HashMap::<String, u32>::new());
        for _ in 0..total {
            let p = g.next_request();
            let Some(resent) = p.resent else {
                firsts.insert(p.transaction_id.clone(), p);
                continue;
            };
            let first = firsts.get(&p.transaction_id).expect("a copy comes after its first request");
            assert_ne!(first.expected, Expected::Poison);
            assert_eq!((&p.expected, p.debit.as_ref()), (&first.expected, None));
            let (a, b) = (codec.decode(&first.payload).unwrap(), codec.decode(&p.payload).unwrap());
            assert!(b.created_at >= a.created_at);
            let b = AuthorizationRequest { created_at: a.created_at, ..b };
            match resent {
                Resent::Same => {
                    same += 1;
                    repeated.insert(p.transaction_id.clone());
                    assert_eq!(a, b);
                }
                Resent::Modified => {
                    modified += 1;
                    assert_eq!(b.amount.minor_units, a.amount.minor_units + 1);
                }
            }
            *copied.entry(p.transaction_id.clone()).or_default() += 1;
        }
        assert!(g.copies.is_empty(), "every copy planned was sent");
        let distinct = firsts.len() as f64;
        assert_eq!(firsts.len() + same + modified, total as usize);
        let repeated = repeated.len() as f64;
        assert!((0.07..0.13).contains(&(repeated / distinct)), "{repeated} of {distinct}");
        assert!((0.005..0.02).contains(&(modified as f64 / distinct)), "{modified} of {distinct}");
        assert!(copied.values().all(|n| *n <= 2), "sent two or three times in all");
    }
}
