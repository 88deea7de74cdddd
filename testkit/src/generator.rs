//! Requests with known expected outcomes, drawn from a routing table.

use interlink_connectors::emvco::{MerchantAccount, MerchantQr};
use interlink_connectors::AccountForm;
use interlink_routing::{Corridor, Participant, ParticipantStatus, RouteRecord};
use interlink_schemas::{now_micros, Agent, Amount, AuthorizationRequest, Channel, Codec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

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
}

/// Destinations settled through their connector, and how their simulators answer.
#[derive(Debug, Clone, Default)]
pub struct NetworkLegs {
    pub connected: Vec<String>,
    pub accept_per_mille: u32,
    pub reject_reasons: Vec<String>,
}

/// Shares of each kind of request, in parts per thousand (the rest are valid).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub no_route: u32,
    pub above_cap: u32,
    pub invalid: u32,
    pub poison: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self { no_route: 40, above_cap: 20, invalid: 20, poison: 20 }
    }
}

/// One request to send: its Kafka key and value, and what must come back.
#[derive(Debug, Clone)]
pub struct Planned {
    pub transaction_id: String,
    /// When the request was created (µs since the epoch), as its `created_at` says.
    pub created_at: i64,
    pub payload: Vec<u8>,
    pub expected: Expected,
    /// The debtor and the amount, for the clearing totals (none for poison).
    pub debit: Option<(Agent, Amount)>,
}

pub struct Generator {
    rng: StdRng,
    codec: Codec<AuthorizationRequest>,
    corridors: Vec<Corridor>,
    participants: HashMap<String, Vec<Participant>>,
    known_ids: HashSet<(String, String)>,
    /// Merchant-account GUID of a QR scheme of each destination network, for QR payments.
    qr_guids: HashMap<String, String>,
    mix: Mix,
    legs: NetworkLegs,
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
        for r in rules {
            match r {
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
            qr_guids: qr_guids.into_iter().map(|(network, (_, guid))| (network, guid)).collect(),
            mix,
            legs: NetworkLegs::default(),
        })
    }

    /// Payments to these networks go through their (simulated) connector, which
    /// accepts or refuses each as `crate::simulator::decision` says.
    pub fn with_network_legs(mut self, legs: NetworkLegs) -> Self {
        self.legs = legs;
        self
    }

    pub fn next_request(&mut self) -> Planned {
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
            return Planned {
                transaction_id,
                created_at: req.created_at,
                payload,
                expected: Expected::Poison,
                debit: None,
            };
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
        Planned { transaction_id, created_at: req.created_at, payload, expected, debit }
    }

    /// What a routable payment gets: accepted, or refused by a connected network.
    fn routable_outcome(&self, corridor: &Corridor, transaction_id: &str) -> Expected {
        if self.legs.connected.contains(&corridor.to) {
            let wire = interlink_core::legs::wire_id(transaction_id);
            match crate::simulator::decision(wire.as_str(), self.legs.accept_per_mille, &self.legs.reject_reasons) {
                Some(reason) => Expected::NetworkRejected(carried_reason(&corridor.to, &reason)),
                None => Expected::Accepted,
            }
        } else {
            Expected::Accepted
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
        let mut g =
            Generator::new(&rules, Mix { no_route: 100, above_cap: 100, invalid: 100, poison: 100 }, 7).unwrap();
        let p = Processor::new().unwrap();
        let mut kinds = HashMap::new();
        for _ in 0..2000 {
            let planned = g.next_request();
            let input = InputRecord {
                source: InputSource::Requests,
                topic: "t",
                partition: 0,
                offset: 0,
                key: Some(planned.transaction_id.as_bytes()),
                payload: Some(&planned.payload),
            };
            let outcome = p.process(&input, &table, 1, &mut Vec::new()).unwrap();
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
}
