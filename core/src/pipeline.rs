//! The switch's decision for one input record, as pure code: decode, validate, route,
//! and build the output records. The Kafka edge (`interlink-switch`) only moves bytes.

use crate::legs;
use crate::qr_gateway::{self, QrRejection};
use crate::validate::{validate, CreditorAddress, ValidationError};
use interlink_connectors::{CanonicalStatus, Connector};
use interlink_routing::{Route, RoutingTable};
use interlink_schemas::{
    Agent, AuthorizationRequest, ClearingRecord, Codec, CodecError, DeadLetter, ErrorKind, Notification, Party,
};
use interlink_vocab::{Finality, IsoReason, PaymentStatus};

/// Where an output record goes; the edge maps it to a configured topic name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputTopic {
    Clearing,
    Notifications,
    DeadLetters,
    /// Payments in flight to a network (compacted; a tombstone settles one).
    Payments,
    /// Authorization requests (a payment a network originated, in canonical form).
    Requests,
    /// A network's own messages, out to it.
    NetworkOut(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    pub topic: OutputTopic,
    /// The request's transaction id where known, so a request's outputs share a key.
    pub key: Option<Vec<u8>>,
    /// `None` writes a tombstone.
    pub payload: Option<Vec<u8>>,
}

impl OutputRecord {
    fn new(topic: OutputTopic, key: &str, payload: Vec<u8>) -> Self {
        Self { topic, key: Some(key.as_bytes().to_vec()), payload: Some(payload) }
    }
}

/// Which kind of topic a record was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSource {
    Requests,
    /// A connected network's `.in` topic: its status reports and the payments it originates.
    Network(&'static str),
}

/// An input record with where it came from.
#[derive(Debug, Clone, Copy)]
pub struct InputRecord<'a> {
    pub source: InputSource,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

/// What the in-flight view knows of one wire id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // returned by value once per status report; boxing buys nothing
pub enum InFlightLookup {
    Found(ClearingRecord),
    /// Not in flight: unknown, or already final. The view is known to be current.
    NotInFlight,
    /// Not in the view, which may be behind: the edge must bring it up to date and
    /// hand the record in again.
    Unknown,
}

/// Payments in flight to networks, by wire transaction id (see [`legs::wire_id`]).
pub trait InFlight {
    fn get(&self, wire_id: &str) -> InFlightLookup;
    /// The payment is settled by the batch being built (hide it from now on).
    fn settle(&self, wire_id: &str);
    /// The payment goes out in the batch being built (in flight once it commits).
    fn forward(&self, _wire_id: String, _payment: ClearingRecord) {}
}

/// No payment is in flight (direct settlement only).
pub struct NothingInFlight;

impl InFlight for NothingInFlight {
    fn get(&self, _: &str) -> InFlightLookup {
        InFlightLookup::NotInFlight
    }
    fn settle(&self, _: &str) {}
}

/// What the pipeline needs besides the input record.
pub struct Context<'a> {
    pub table: &'a RoutingTable,
    pub now_micros: i64,
    pub in_flight: &'a dyn InFlight,
}

/// What happened to one input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Settled: a clearing record and an ACCC notification for each side.
    Accepted,
    /// Refused (by routing or by the destination network): RJCT notifications.
    Rejected { reason: IsoReason },
    /// Unreadable or invalid: a dead letter (and, when the debtor is known, an RJCT).
    DeadLettered { kind: ErrorKind },
    /// Routed to a connected network; its status report will settle it.
    Forwarded,
    /// A status report that does not end the payment (ACSP, ACTC, PDNG, ...).
    Pending,
    /// A payment a network originated, passed on as an authorization request.
    Originated,
}

impl Outcome {
    /// Label used in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::DeadLettered { .. } => "dead_lettered",
            Self::Forwarded => "forwarded",
            Self::Pending => "pending",
            Self::Originated => "originated",
        }
    }
}

/// Encoding one of our own records failed: a bug, never caused by input.
#[derive(Debug, thiserror::Error)]
#[error("encoding an output record: {0}")]
pub struct OutputEncodeError(#[from] CodecError);

/// Why a record was not decided. Its outputs so far must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum Undecided {
    /// A status report names a payment the in-flight view does not hold, and the view
    /// may be behind: the edge brings it up to date, then hands the record in again.
    #[error("status report for {wire_id}: the in-flight view may be behind")]
    InFlightViewBehind { wire_id: String },
    #[error(transparent)]
    Encode(#[from] OutputEncodeError),
}

impl From<CodecError> for Undecided {
    fn from(e: CodecError) -> Self {
        Self::Encode(OutputEncodeError(e))
    }
}

/// The most of an input record a dead letter carries: an input near Kafka's
/// `message.max.bytes` must not make a dead letter over it (the send would fail and
/// the batch rewind forever). Longer inputs keep this prefix, with their size and hash
/// in the error message.
pub const DEAD_LETTER_MAX_PAYLOAD: usize = 64 * 1024;

/// With the `fault-injection` feature (tests only), a request with this purpose makes
/// the decision code panic, as a bug would.
#[cfg(feature = "fault-injection")]
pub const POISON_PURPOSE: &str = "INTERLINK-TEST-POISON";

/// Decides and encodes. Build once per worker: the codecs hold resolved schemas.
pub struct Processor {
    requests: Codec<AuthorizationRequest>,
    clearing: Codec<ClearingRecord>,
    notifications: Codec<Notification>,
    dead_letters: Codec<DeadLetter>,
    /// Networks reached through their connector: payments to them leave as their own
    /// messages, and payments they originate get their final status back.
    connected: Vec<&'static dyn Connector>,
}

impl Processor {
    pub fn new() -> Result<Self, CodecError> {
        Ok(Self {
            requests: Codec::new()?,
            clearing: Codec::new()?,
            notifications: Codec::new()?,
            dead_letters: Codec::new()?,
            connected: Vec::new(),
        })
    }

    /// Connects these networks (ids without a registered connector are ignored; the
    /// configuration check refuses them earlier).
    pub fn with_connected(mut self, networks: &[String]) -> Self {
        self.connected = networks.iter().filter_map(|n| interlink_connectors::connector(n)).collect();
        self
    }

    fn connected(&self, network: &str) -> Option<&'static dyn Connector> {
        self.connected.iter().copied().find(|c| c.profile().id == network)
    }

    /// Processes one request with direct settlement (no connected network).
    pub fn process(
        &self,
        input: &InputRecord<'_>,
        table: &RoutingTable,
        now_micros: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let ctx = Context { table, now_micros, in_flight: &NothingInFlight };
        self.process_with(input, &ctx, out)
    }

    /// Processes one input record, appending its outputs to `out`.
    pub fn process_with(
        &self,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        match input.source {
            InputSource::Requests => self.request(input, ctx, out),
            InputSource::Network(network) => self.network_message(network, input, ctx, out),
        }
    }

    fn request(
        &self,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let (table, now_micros) = (ctx.table, ctx.now_micros);
        let payload = input.payload.unwrap_or_default();
        let request = match self.requests.decode(payload) {
            Ok(r) => r,
            Err(e) => {
                let kind = ErrorKind::Decode;
                self.dead_letter(
                    input,
                    kind,
                    format!("undecodable AuthorizationRequest: {e}"),
                    None,
                    None,
                    now_micros,
                    out,
                )?;
                return Ok(Outcome::DeadLettered { kind });
            }
        };
        #[cfg(feature = "fault-injection")]
        if request.purpose.as_deref() == Some(POISON_PURPOSE) {
            panic!("fault injection: request {} is a poison pill", request.transaction_id);
        }
        let address = match validate(&request) {
            Ok(a) => a,
            Err(ValidationError { reason, message }) => {
                let kind = ErrorKind::Validation;
                let tx = Some(request.transaction_id.as_str());
                self.dead_letter(
                    input,
                    kind,
                    format!("invalid AuthorizationRequest: {message}"),
                    Some(&reason),
                    tx,
                    now_micros,
                    out,
                )?;
                self.reject(&request, &reason, &message, 0, now_micros, out)?;
                return Ok(Outcome::DeadLettered { kind });
            }
        };
        let (creditor, qr_merchant) = match address {
            CreditorAddress::Agent(a) => (a.clone(), None),
            CreditorAddress::QrPayload(payload) => match qr_gateway::find_merchant(table, payload) {
                Ok(m) => (m.creditor.clone(), Some(m)),
                Err(QrRejection::Malformed(e)) => {
                    // An unreadable code is bad input: kept in the DLQ, and the payer told why.
                    let (kind, reason) = (ErrorKind::Validation, IsoReason::FF01);
                    let message = format!("invalid QR code: {e}");
                    let tx = Some(request.transaction_id.as_str());
                    self.dead_letter(input, kind, message.clone(), Some(&reason), tx, now_micros, out)?;
                    self.reject(&request, &reason, &message, table.version(), now_micros, out)?;
                    return Ok(Outcome::DeadLettered { kind });
                }
                Err(rejection) => {
                    let reason = rejection.reason();
                    self.reject(&request, &reason, &rejection.to_string(), table.version(), now_micros, out)?;
                    return Ok(Outcome::Rejected { reason });
                }
            },
            CreditorAddress::Alias => {
                // Alias resolution belongs to the destination network's directory
                // (acmt.023/024); until it is wired, such requests are refused, never dropped.
                let (reason, text) = (IsoReason::AG03, "creditor addressing by alias is not enabled on this switch");
                self.reject(&request, &reason, text, table.version(), now_micros, out)?;
                return Ok(Outcome::Rejected { reason });
            }
        };
        let decided = table
            .resolve(&request.debtor_agent, &creditor, &request.amount, now_micros)
            .map_err(|r| (r.reason(), r.to_string()))
            .and_then(|mut route| match &qr_merchant {
                None => Ok(route),
                Some(m) => {
                    route.credit_minor_units = qr_gateway::credit_amount(m, &route, request.amount.minor_units)
                        .map_err(|r| (r.reason(), r.to_string()))?;
                    Ok(route)
                }
            });
        match decided {
            Ok(route) => {
                // A QR payment names no account; the merchant's code gives it.
                let creditor_account =
                    request.creditor_account.clone().or_else(|| qr_merchant.as_ref().and_then(|m| m.account.clone()));
                let clearing = clearing_record(&request, &route, creditor_account, table.version(), now_micros);
                if let Some(connector) = self.connected(&clearing.creditor_agent.network) {
                    return self.forward(connector, &request, clearing, input, ctx, out);
                }
                self.settle(clearing, now_micros, out)?;
                Ok(Outcome::Accepted)
            }
            Err((reason, text)) => {
                self.reject(&request, &reason, &text, table.version(), now_micros, out)?;
                Ok(Outcome::Rejected { reason })
            }
        }
    }

    /// The final accepted outcome: the clearing record and ACCC to both sides.
    fn settle(&self, mut c: ClearingRecord, now: i64, out: &mut Vec<OutputRecord>) -> Result<(), OutputEncodeError> {
        c.cleared_at = now;
        out.push(OutputRecord::new(OutputTopic::Clearing, &c.transaction_id, self.clearing.encode(&c)?));
        self.notify_both(&c, PaymentStatus::ACCC, None, None, now, out)
    }

    /// Notifications to both sides of a routed payment.
    fn notify_both(
        &self,
        c: &ClearingRecord,
        status: PaymentStatus,
        reason_code: Option<&IsoReason>,
        reason_text: Option<&str>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let about = About {
            transaction_id: &c.transaction_id,
            end_to_end_id: &c.end_to_end_id,
            request_created_at: c.request_created_at,
            routing_version: c.routing_version,
            now,
        };
        let reason = reason_code.zip(reason_text);
        self.notify(&about, Party::Debtor, &c.debtor_agent, &c.debit_amount, status, reason, out)?;
        self.notify(&about, Party::Creditor, &c.creditor_agent, &c.credit_amount, status, reason, out)
    }

    /// One notification (and, for the debtor of a connected origin network, its
    /// status report).
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        about: &About<'_>,
        party: Party,
        agent: &Agent,
        amount: &interlink_schemas::Amount,
        status: PaymentStatus,
        reason: Option<(&IsoReason, &str)>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let side = match party {
            Party::Debtor => "DEBTOR",
            Party::Creditor => "CREDITOR",
        };
        let note = Notification {
            notification_id: format!("{}:{side}", about.transaction_id),
            transaction_id: about.transaction_id.to_string(),
            end_to_end_id: about.end_to_end_id.to_string(),
            party,
            agent: agent.clone(),
            status,
            reason_code: reason.map(|(code, _)| code.code().to_string()),
            reason_text: reason.map(|(_, text)| text.to_string()),
            amount: amount.clone(),
            routing_version: about.routing_version,
            request_created_at: about.request_created_at,
            emitted_at: about.now,
        };
        out.push(OutputRecord::new(
            OutputTopic::Notifications,
            about.transaction_id,
            self.notifications.encode(&note)?,
        ));
        if party == Party::Debtor {
            self.answer_origin(&note, out);
        }
        Ok(())
    }

    /// A payment a connected network originated gets its final status back, in the
    /// network's own status report.
    fn answer_origin(&self, debtor_note: &Notification, out: &mut Vec<OutputRecord>) {
        let Some(connector) = self.connected(&debtor_note.agent.network) else { return };
        match legs::origin_status(connector, debtor_note) {
            Ok((wire, message)) => {
                out.push(OutputRecord::new(OutputTopic::NetworkOut(connector.profile().id), wire.as_str(), message));
            }
            Err(e) => tracing::error!(
                network = connector.profile().id,
                transaction = %debtor_note.transaction_id,
                error = %e,
                "the origin's status report cannot be built; the notification stands"
            ),
        }
    }

    /// Sends a routed payment into its destination network and records it in flight.
    fn forward(
        &self,
        connector: &'static dyn Connector,
        request: &AuthorizationRequest,
        clearing: ClearingRecord,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let (network, now, in_flight) = (connector.profile().id, ctx.now_micros, ctx.in_flight);
        match legs::outbound_message(connector, request, &clearing) {
            Ok((wire, message)) => {
                out.push(OutputRecord::new(OutputTopic::NetworkOut(connector.profile().id), wire.as_str(), message));
                out.push(OutputRecord::new(OutputTopic::Payments, wire.as_str(), self.clearing.encode(&clearing)?));
                in_flight.forward(wire.into_string(), clearing);
                Ok(Outcome::Forwarded)
            }
            Err(e) => {
                // The destination network cannot carry this payment: refuse it, keep it.
                let reason = e.iso_reason();
                let text = format!("{network} cannot carry this payment: {e}");
                let tx = Some(request.transaction_id.as_str());
                self.dead_letter(input, ErrorKind::Validation, text.clone(), Some(&reason), tx, now, out)?;
                self.reject(request, &reason, &text, clearing.routing_version, now, out)?;
                Ok(Outcome::DeadLettered { kind: ErrorKind::Validation })
            }
        }
    }

    /// The outcome of a record that made the decision code panic on an earlier
    /// attempt: it is not decided again, only dead-lettered with what happened.
    pub fn poisoned(
        &self,
        input: &InputRecord<'_>,
        panic_message: &str,
        now_micros: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, OutputEncodeError> {
        let kind = ErrorKind::Unknown;
        let text = format!("the switch could not decide this record (the decision code panicked: {panic_message})");
        self.dead_letter(input, kind, text, None, None, now_micros, out)?;
        Ok(Outcome::DeadLettered { kind })
    }

    /// A record on a connected network's `.in` topic: a status report that settles a
    /// payment in flight, or a payment the network originates.
    fn network_message(
        &self,
        network: &'static str,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let Some(connector) = self.connected(network) else {
            let text = format!("{network} is not a connected network of this switch");
            self.dead_letter(input, ErrorKind::Validation, text, None, None, ctx.now_micros, out)?;
            return Ok(Outcome::DeadLettered { kind: ErrorKind::Validation });
        };
        let message = input.payload.unwrap_or_default();
        let now = ctx.now_micros;
        let status_error = match connector.decode_status(message) {
            Ok(status) => return self.status_report(network, &status, input, ctx, out),
            Err(e) => e,
        };
        let inbound = connector.decode_inbound_payment(message).map_err(legs::InboundError::from);
        match inbound.and_then(|p| legs::inbound_request(network, p)) {
            Ok(request) => {
                out.push(OutputRecord::new(
                    OutputTopic::Requests,
                    &request.transaction_id,
                    self.requests.encode(&request)?,
                ));
                Ok(Outcome::Originated)
            }
            Err(payment_error) => {
                let kind = ErrorKind::Decode;
                let text = format!(
                    "{network} message is neither a status report ({status_error}) nor a payment ({payment_error})"
                );
                let reason = status_error.iso_reason();
                self.dead_letter(input, kind, text, Some(&reason), None, now, out)?;
                Ok(Outcome::DeadLettered { kind })
            }
        }
    }

    fn status_report(
        &self,
        network: &str,
        status: &CanonicalStatus,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let now = ctx.now_micros;
        let wire = &status.original_transaction_id;
        let clearing = match ctx.in_flight.get(wire) {
            InFlightLookup::Found(clearing) => clearing,
            InFlightLookup::Unknown => return Err(Undecided::InFlightViewBehind { wire_id: wire.clone() }),
            InFlightLookup::NotInFlight => {
                // Unknown, or already settled by an earlier copy of this report: never a
                // second clearing record. Kept in the DLQ for the operator.
                let text = format!(
                    "{network} status report {} for {wire} matches no payment in flight (unknown or already final)",
                    status.status
                );
                self.dead_letter(input, ErrorKind::Validation, text, None, None, now, out)?;
                return Ok(Outcome::DeadLettered { kind: ErrorKind::Validation });
            }
        };
        let settled = match status.status.finality() {
            Finality::Settled => {
                self.settle(clearing, now, out)?;
                Outcome::Accepted
            }
            Finality::Refused => {
                let reason = status.reason.clone().unwrap_or(IsoReason::NARR);
                let text = status.additional_info.clone().unwrap_or_else(|| format!("rejected by {network}"));
                self.notify_both(&clearing, status.status, Some(&reason), Some(&text), now, out)?;
                Outcome::Rejected { reason }
            }
            Finality::NotFinal => return Ok(Outcome::Pending),
        };
        out.push(OutputRecord { topic: OutputTopic::Payments, key: Some(wire.as_bytes().to_vec()), payload: None });
        ctx.in_flight.settle(wire);
        Ok(settled)
    }

    fn reject(
        &self,
        req: &AuthorizationRequest,
        reason: &IsoReason,
        text: &str,
        version: i64,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let about = About {
            transaction_id: &req.transaction_id,
            end_to_end_id: &req.end_to_end_id,
            request_created_at: req.created_at,
            routing_version: version,
            now,
        };
        self.notify(
            &about,
            Party::Debtor,
            &req.debtor_agent,
            &req.amount,
            PaymentStatus::RJCT,
            Some((reason, text)),
            out,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn dead_letter(
        &self,
        input: &InputRecord<'_>,
        kind: ErrorKind,
        mut message: String,
        reason: Option<&IsoReason>,
        transaction_id: Option<&str>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let original_value = input.payload.map(|p| {
            if p.len() > DEAD_LETTER_MAX_PAYLOAD {
                message.push_str(&format!(
                    " [original value: {} bytes, sha256 {}; the first {DEAD_LETTER_MAX_PAYLOAD} bytes kept]",
                    p.len(),
                    legs::sha256_hex(p)
                ));
            }
            p[..p.len().min(DEAD_LETTER_MAX_PAYLOAD)].to_vec()
        });
        let original_key = input.key.map(|k| k[..k.len().min(DEAD_LETTER_MAX_PAYLOAD)].to_vec());
        let dead = DeadLetter {
            source_topic: input.topic.to_string(),
            source_partition: input.partition,
            source_offset: input.offset,
            original_key: original_key.clone(),
            original_value,
            error_kind: kind,
            error_message: message,
            reason_code: reason.map(|r| r.code().to_string()),
            transaction_id: transaction_id.map(str::to_string),
            dead_lettered_at: now,
        };
        out.push(OutputRecord {
            topic: OutputTopic::DeadLetters,
            key: original_key,
            payload: Some(self.dead_letters.encode(&dead)?),
        });
        Ok(())
    }
}

/// What every notification about one payment shares.
struct About<'a> {
    transaction_id: &'a str,
    end_to_end_id: &'a str,
    request_created_at: i64,
    routing_version: i64,
    now: i64,
}

/// The clearing record a routed request will settle with.
fn clearing_record(
    req: &AuthorizationRequest,
    route: &Route<'_>,
    creditor_account: Option<String>,
    version: i64,
    now: i64,
) -> ClearingRecord {
    ClearingRecord {
        transaction_id: req.transaction_id.clone(),
        end_to_end_id: req.end_to_end_id.clone(),
        debtor_agent: req.debtor_agent.clone(),
        debtor_account: req.debtor_account.clone(),
        creditor_agent: Agent::new(&route.creditor.network, &route.creditor.institution_id),
        creditor_account,
        debit_amount: req.amount.clone(),
        credit_amount: interlink_schemas::Amount::new(
            route.credit_minor_units,
            &route.corridor.rule.destination_currency,
        ),
        fx_rate: route.corridor.fx_rate_text.to_string(),
        quote_id: route.corridor.quote_id.to_string(),
        corridor: route.corridor.id.to_string(),
        routing_version: version,
        request_created_at: req.created_at,
        cleared_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_routing::parse_routes_file;
    use interlink_schemas::{Amount, Channel};

    fn table() -> RoutingTable {
        RoutingTable::compile(4, &parse_routes_file("t", interlink_routing::TEST_ROUTES_TOML).unwrap()).unwrap()
    }

    fn request(creditor: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            transaction_id: "tx-9".into(),
            end_to_end_id: "E2E-9".into(),
            created_at: 10,
            debtor_agent: Agent::new("CN_IBPS", "102100099996"),
            debtor_account: "6222".into(),
            creditor_agent: Some(Agent::new("HK_FPS", creditor)),
            creditor_account: Some("HK-1".into()),
            qr_payload: None,
            creditor_alias: None,
            amount: Amount::new(10_000, "CNY"),
            channel: Channel::Mobile,
            purpose: None,
        }
    }

    fn run(p: &Processor, payload: &[u8]) -> (Outcome, Vec<OutputRecord>) {
        let input = InputRecord {
            source: InputSource::Requests,
            topic: "in",
            partition: 2,
            offset: 77,
            key: Some(b"tx-9"),
            payload: Some(payload),
        };
        let mut out = Vec::new();
        let outcome = p.process(&input, &table(), 99, &mut out).unwrap();
        (outcome, out)
    }

    #[test]
    fn a_routed_request_clears_once_and_notifies_both_sides() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, &p.requests.encode(&request("004")).unwrap());
        assert_eq!(outcome, Outcome::Accepted);
        let topics: Vec<_> = out.iter().map(|o| o.topic).collect();
        assert_eq!(topics, [OutputTopic::Clearing, OutputTopic::Notifications, OutputTopic::Notifications]);
        let c = p.clearing.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(c.credit_amount, Amount::new(10_845, "HKD"));
        assert_eq!((c.routing_version, c.cleared_at, c.fx_rate.as_str()), (4, 99, "1.0845"));
        assert_eq!(c.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@v4");
        let creditor = p.notifications.decode(out[2].payload.as_deref().unwrap()).unwrap();
        assert_eq!(creditor.notification_id, "tx-9:CREDITOR");
        assert_eq!((creditor.status, creditor.agent.institution_id.as_str()), (PaymentStatus::ACCC, "004"));
        assert_eq!(creditor.amount, Amount::new(10_845, "HKD"));
        assert!(out.iter().all(|o| o.key.as_deref() == Some(&b"tx-9"[..])));
    }

    #[test]
    fn an_unknown_creditor_is_rejected_with_rc01_and_no_clearing() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, &p.requests.encode(&request("999")).unwrap());
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::RC01 });
        assert_eq!(out.len(), 1);
        let n = p.notifications.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref(), n.party), (PaymentStatus::RJCT, Some("RC01"), Party::Debtor));
        assert_eq!(n.routing_version, 4);
    }

    /// An in-flight view that holds nothing and says whether it is current.
    struct EmptyView {
        current: bool,
    }

    impl InFlight for EmptyView {
        fn get(&self, _: &str) -> InFlightLookup {
            if self.current {
                InFlightLookup::NotInFlight
            } else {
                InFlightLookup::Unknown
            }
        }
        fn settle(&self, _: &str) {}
    }

    #[test]
    fn a_report_for_an_unseen_payment_is_not_decided_until_the_view_is_current() {
        let p = Processor::new().unwrap().with_connected(&["HK_FPS".to_string()]);
        let hk = interlink_connectors::connector("HK_FPS").unwrap();
        let report = hk
            .encode_status(&CanonicalStatus {
                message_id: "S1".into(),
                created_at: 1_700_000_000_000_000,
                original_message_id: "tx9".into(),
                original_end_to_end_id: "E2E-9".into(),
                original_transaction_id: "tx9".into(),
                original_uetr: None,
                status: PaymentStatus::ACCC,
                reason: None,
                additional_info: None,
                instructing_agent: None,
                instructed_agent: None,
            })
            .unwrap();
        let input = InputRecord {
            source: InputSource::Network("HK_FPS"),
            topic: "hk.in",
            partition: 0,
            offset: 5,
            key: Some(b"tx9"),
            payload: Some(&report),
        };
        let table = table();
        let mut out = Vec::new();
        let behind = Context { table: &table, now_micros: 99, in_flight: &EmptyView { current: false } };
        let undecided = p.process_with(&input, &behind, &mut out).unwrap_err();
        assert!(matches!(&undecided, Undecided::InFlightViewBehind { wire_id } if wire_id == "tx9"), "{undecided}");
        assert!(out.is_empty(), "nothing is written for an undecided record");

        let current = Context { table: &table, now_micros: 99, in_flight: &EmptyView { current: true } };
        let outcome = p.process_with(&input, &current, &mut out).unwrap();
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert!(d.error_message.contains("matches no payment in flight"), "{}", d.error_message);
    }

    #[test]
    fn a_dead_letter_keeps_a_prefix_of_a_huge_input_with_its_size_and_hash() {
        let p = Processor::new().unwrap();
        let huge = vec![0u8; DEAD_LETTER_MAX_PAYLOAD * 3];
        let (outcome, out) = run(&p, &huge);
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Decode });
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(d.original_value.map(|v| v.len()), Some(DEAD_LETTER_MAX_PAYLOAD));
        assert!(d.error_message.contains(&format!("{} bytes, sha256 {}", huge.len(), legs::sha256_hex(&huge))));
        assert!(out[0].payload.as_ref().unwrap().len() < DEAD_LETTER_MAX_PAYLOAD + 1024);
    }

    #[test]
    fn garbage_is_dead_lettered_with_its_bytes_and_origin() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, b"\x00\x00\x00\x00\x65garbage");
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Decode });
        assert_eq!(out.len(), 1);
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(d.original_value.as_deref(), Some(&b"\x00\x00\x00\x00\x65garbage"[..]));
        assert_eq!((d.source_topic.as_str(), d.source_partition, d.source_offset), ("in", 2, 77));
        assert!(d.error_message.starts_with("undecodable AuthorizationRequest"), "{}", d.error_message);
    }

    #[test]
    fn an_invalid_request_is_dead_lettered_and_its_debtor_told() {
        let p = Processor::new().unwrap();
        let mut r = request("004");
        r.amount.minor_units = -1;
        let (outcome, out) = run(&p, &p.requests.encode(&r).unwrap());
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert_eq!(
            out.iter().map(|o| o.topic).collect::<Vec<_>>(),
            [OutputTopic::DeadLetters, OutputTopic::Notifications]
        );
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((d.reason_code.as_deref(), d.transaction_id.as_deref()), (Some("AM12"), Some("tx-9")));
        let n = p.notifications.decode(out[1].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AM12")));
    }
}
