//! The switch's decision for one input record, as pure code: decode, validate, route,
//! and build the output records. The Kafka edge (`interlink-switch`) only moves bytes.

use crate::anomaly;
use crate::blocks;
use crate::legs;
use crate::limits;
use crate::memory::{
    self, Decision, Forgetful, ForwardCommand, InFlightEntry, InFlightKey, InFlightPhase, LimitHold, LimitRelease,
    Memory, MemoryError, RecordPlace, RequestKey, RequestMemo, StoreKind,
};
use crate::party_watch::{self, CreditorActivity, CreditorKey, PaymentSeen};
use crate::qr_gateway::{self, QrRejection};
use crate::review::ReviewCommand;
use crate::risk::RiskRefusal;
use crate::settlement::{self, CyclePart};
use crate::validate::{validate, CreditorAddress, ValidationError};
use interlink_connectors::{CanonicalReturn, CanonicalStatus, Connector};
use interlink_routing::{Route, RoutingTable};
use interlink_schemas::{
    Agent, AuthorizationRequest, ClearingRecord, Codec, CodecError, DeadLetter, ErrorKind, Notification, Party,
    PaymentReturn, RiskAction, RiskAlert, RiskControl, SchemaCatalog, SettlementRecord,
};
use interlink_vocab::{Finality, IsoReason, PaymentStatus};
use std::sync::Arc;

mod held;

/// Where an output record goes; the edge maps it to a configured topic name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputTopic {
    Clearing,
    Notifications,
    DeadLetters,
    /// Payments on their way to a network, keyed by wire id: the switch's internal
    /// repartition topic, so a payment is kept in flight in the state of the partition
    /// where the network's status report arrives.
    Forwards,
    /// Authorization requests (a payment a network originated, in canonical form).
    Requests,
    /// A network's own messages, out to it.
    NetworkOut(&'static str),
    /// The switch's keyed state (see [`memory`]): the changelog partition of the input
    /// record being decided. `None` payload deletes the entry.
    State,
    /// Returns the switch sent networks (`PaymentReturn`).
    Returns,
    /// Risk decisions, explained (`RiskAlert`).
    RiskAlerts,
    /// Netted cycles: positions and summaries (`SettlementRecord`).
    Settlement,
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
    /// The switch's own forwards topic (see [`OutputTopic::Forwards`]).
    Forwards,
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
    /// When the record was written (µs; its Kafka timestamp), if known. A network's
    /// answer counts as on time by this, not by when a worker gets to read it.
    pub written_at: Option<i64>,
}

/// What the pipeline needs besides the input record.
pub struct Context<'a> {
    pub table: &'a RoutingTable,
    pub now_micros: i64,
    /// The state of the input record's partition.
    pub memory: &'a dyn Memory,
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
    /// A forwarded payment sent into its network and kept in flight.
    Sent,
    /// A network's answer to a payment that had already timed out: dead-lettered,
    /// never settled; an acceptance (`settled`) means the funds must come back.
    LateAnswer {
        settled: bool,
        /// The answer was written after the deadline of a payment still awaiting it:
        /// reading it timed the payment out (AB05 to both sides) before it was handled.
        timed_out: bool,
    },
    /// A status report that does not end the payment (ACSP, ACTC, PDNG, ...).
    Pending,
    /// A payment a network originated, passed on as an authorization request.
    Originated,
    /// A settled payment its destination network sent back (pacs.004): reversed.
    Returned,
    /// A request already decided, sent again: its origin is told the first outcome
    /// again, and nothing else happens.
    Repeat,
    /// What a payment that did not settle had counted against its debtor's limits,
    /// given back (at the person's partition).
    LimitReleased,
    /// A partition's part of a settlement cycle, merged into its currency's netting
    /// (and, when it completed cycles, their settlement records written).
    Netted,
    /// Held for an operator's review by a risk rule: PDNG to its debtor, kept until the
    /// review or its deadline.
    Held,
    /// A payment that went ahead, counted at its creditor's partition by the creditor
    /// rules (and alerted on, if one fired).
    CreditorCounted,
}

impl Outcome {
    /// Label used in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::DeadLettered { .. } => "dead_lettered",
            Self::Forwarded => "forwarded",
            Self::Sent => "sent",
            Self::LateAnswer { .. } => "late_answer",
            Self::Pending => "pending",
            Self::Originated => "originated",
            Self::Returned => "returned",
            Self::Repeat => "repeat",
            Self::LimitReleased => "limit_released",
            Self::Netted => "netted",
            Self::Held => "held",
            Self::CreditorCounted => "creditor_counted",
        }
    }
}

/// What became of a state entry handed to [`Processor::expire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Not due after all (the edge's index was stale): nothing written.
    NotDue,
    /// Its window is over: it leaves the store and the changelog.
    Forgotten,
    /// A payment its network did not answer in time: refused to both sides (AB05).
    TimedOut,
    /// A payment held for review that no operator decided on in time: refused.
    ReviewTimedOut,
}

/// Encoding one of our own records failed: a bug, never caused by input.
#[derive(Debug, thiserror::Error)]
#[error("encoding an output record: {0}")]
pub struct OutputEncodeError(#[from] CodecError);

/// Why a record was not decided. Its outputs so far must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum Undecided {
    #[error(transparent)]
    Encode(#[from] OutputEncodeError),
    /// The state cannot be read (or holds what the core cannot read): a broken store,
    /// never the record's fault.
    #[error(transparent)]
    Memory(#[from] MemoryError),
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
    returns: Codec<PaymentReturn>,
    risk_alerts: Codec<RiskAlert>,
    settlement: Codec<SettlementRecord>,
    /// Networks reached through their connector: payments to them leave as their own
    /// messages, and payments they originate get their final status back.
    connected: Vec<&'static dyn Connector>,
    /// How long a request's id stays taken, in µs.
    duplicate_window_micros: i64,
    /// How long a connected network has to send a payment's final status, in µs.
    response_deadline_micros: i64,
    /// Partition count of the inputs, when the edge has them checked: a keyed record
    /// must arrive on its key's partition (see [`memory::home_partition`]).
    partitions: Option<u32>,
    /// How far a limited request's creation time may be from the switch's clock, in µs:
    /// limits count by it.
    limit_clock_skew_micros: i64,
    /// Screens the parties' names against the sanctions lists, when any are loaded.
    screener: Option<Arc<interlink_screening::Screener>>,
    /// A sanctions hit holds the payment for review instead of refusing it.
    screening_holds: bool,
    /// How long a held payment waits for its review before it is refused, in µs.
    review_timeout_micros: i64,
}

/// How far a limited request's `created_at` may be from the switch's clock unless
/// configured otherwise.
pub const DEFAULT_LIMIT_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

/// How long a connected network has for a final status unless configured otherwise.
pub const DEFAULT_RESPONSE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a payment held for review waits for an operator unless configured otherwise.
pub const DEFAULT_REVIEW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long a request's transaction id stays taken unless configured otherwise.
pub const DEFAULT_DUPLICATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Processor {
    /// With the fixed schema ids compiled into this build (no registry).
    pub fn new() -> Result<Self, CodecError> {
        Self::with_schemas(&SchemaCatalog::fixed())
    }

    /// Framing its records with the ids of `catalog` (a Schema Registry's, assigned at
    /// start), and reading requests of any writer version the catalog knows.
    pub fn with_schemas(catalog: &Arc<SchemaCatalog>) -> Result<Self, CodecError> {
        Ok(Self {
            requests: Codec::with_catalog(catalog)?,
            clearing: Codec::with_catalog(catalog)?,
            notifications: Codec::with_catalog(catalog)?,
            dead_letters: Codec::with_catalog(catalog)?,
            returns: Codec::with_catalog(catalog)?,
            risk_alerts: Codec::with_catalog(catalog)?,
            settlement: Codec::with_catalog(catalog)?,
            connected: Vec::new(),
            duplicate_window_micros: DEFAULT_DUPLICATE_WINDOW.as_micros() as i64,
            response_deadline_micros: DEFAULT_RESPONSE_DEADLINE.as_micros() as i64,
            partitions: None,
            limit_clock_skew_micros: DEFAULT_LIMIT_CLOCK_SKEW.as_micros() as i64,
            screener: None,
            screening_holds: false,
            review_timeout_micros: DEFAULT_REVIEW_TIMEOUT.as_micros() as i64,
        })
    }

    /// The schema id of the requests this processor writes (and reads without resolution).
    pub fn request_schema_id(&self) -> u32 {
        self.requests.schema_id()
    }

    /// Checks that every keyed record arrives on the partition its key belongs on, of
    /// `partitions` (the inputs' count): one elsewhere would miss its state.
    pub fn with_partitions(mut self, partitions: u32) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// Gives connected networks `deadline` to send a payment's final status; past it
    /// the payment is refused to both sides (AB05).
    pub fn with_response_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.response_deadline_micros = i64::try_from(deadline.as_micros()).unwrap_or(i64::MAX);
        self
    }

    /// Remembers each request for `window`: a copy inside it is a repeat (or, with
    /// other content, a refused duplicate).
    pub fn with_duplicate_window(mut self, window: std::time::Duration) -> Self {
        self.duplicate_window_micros = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
        self
    }

    /// Accepts limited requests created up to `skew` away from the switch's clock.
    pub fn with_limit_clock_skew(mut self, skew: std::time::Duration) -> Self {
        self.limit_clock_skew_micros = i64::try_from(skew.as_micros()).unwrap_or(i64::MAX);
        self
    }

    /// Screens the debtor's and creditor's names (where requests carry them) with
    /// `screener`: a hit refuses the payment with RR04.
    pub fn with_screener(mut self, screener: Arc<interlink_screening::Screener>) -> Self {
        self.screener = Some(screener);
        self
    }

    /// Connects these networks (ids without a registered connector are ignored; the
    /// configuration check refuses them earlier).
    /// How long a held payment waits for its review, and whether a sanctions hit holds
    /// the payment for review (`true`) or refuses it at once.
    pub fn with_review(mut self, timeout: std::time::Duration, screening_holds: bool) -> Self {
        self.review_timeout_micros = i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX);
        self.screening_holds = screening_holds;
        self
    }

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
        let ctx = Context { table, now_micros, memory: &Forgetful };
        self.process_with(input, &ctx, out)
    }

    /// Processes one input record, appending its outputs to `out`.
    pub fn process_with(
        &self,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        if let (Some(partitions), Some(key)) = (self.partitions, input.key) {
            let home = memory::home_partition(key, partitions);
            if home != input.partition {
                let kind = ErrorKind::Validation;
                let text = format!(
                    "record keyed {:?} belongs on partition {home} of {partitions} (murmur2, as the Java client partitions) but arrived on {}: decided here it would miss its state; producers must partition by murmur2 (librdkafka: partitioner=murmur2_random)",
                    String::from_utf8_lossy(key),
                    input.partition
                );
                self.dead_letter(input, kind, text, None, None, ctx.now_micros, out)?;
                return Ok(Outcome::DeadLettered { kind });
            }
        }
        match input.source {
            InputSource::Requests => self.request(input, ctx, out),
            InputSource::Forwards => self.send(input, ctx, out),
            InputSource::Network(network) => self.network_message(network, input, ctx, out),
        }
    }

    fn request(
        &self,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let now_micros = ctx.now_micros;
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
        // The key puts every copy of a request (and every request of a person it names)
        // on one partition, where its memo (and the person's limits) are: a record
        // keyed otherwise would be checked against the wrong partition's state.
        let partition_key = request.partition_key();
        if input.key != Some(partition_key.as_bytes()) {
            let kind = ErrorKind::Validation;
            let key = describe_key(input.key);
            let text = if request.debtor_id.is_some() {
                format!(
                    "request {} arrived with {key}; a request that names its debtor must be keyed by the debtor's person key {partition_key} (docs/schemas.md), so that the person's requests meet their limits and duplicate checks in one partition",
                    request.transaction_id
                )
            } else {
                format!(
                    "request {} arrived with {key}; requests must be keyed by their transaction id, so that every copy of a request meets the same duplicate check",
                    request.transaction_id
                )
            };
            let tx = Some(request.transaction_id.as_str());
            self.dead_letter(input, kind, text, None, tx, now_micros, out)?;
            return Ok(Outcome::DeadLettered { kind });
        }
        let key = RequestKey::of(&request);
        let hash = memory::request_hash(&request);
        let place = RecordPlace { partition: input.partition, offset: input.offset };
        if let Some(value) = ctx.memory.get(key.as_bytes())? {
            let memo = RequestMemo::decode(&value)?;
            // A memo past its window is as good as gone (its tombstone is on the way);
            // a memo of this very record is a replay after a crash: decide it again.
            if memo.expires_at > now_micros && memo.first != place {
                return if memo.request_hash == hash {
                    self.repeat(&request, &memo, input, now_micros, out)
                } else {
                    self.modified(&request, &memo, input, now_micros, out)
                };
            }
        }
        let (outcome, decision) = self.decide_request(&request, &partition_key, input, ctx, out, None)?;
        if let Some(decision) = decision {
            let memo = RequestMemo {
                request_hash: hash,
                decision,
                routing_version: ctx.table.version(),
                first: place,
                decided_at: now_micros,
                expires_at: now_micros.saturating_add(self.duplicate_window_micros),
            };
            out.push(OutputRecord {
                topic: OutputTopic::State,
                key: Some(key.as_bytes().to_vec()),
                payload: Some(memo.encode()?),
            });
        }
        Ok(outcome)
    }

    /// A request sent again with the same content: its origin gets the first outcome
    /// again, marked as a repeat; nothing is cleared or forwarded again.
    fn repeat(
        &self,
        request: &AuthorizationRequest,
        memo: &RequestMemo,
        input: &InputRecord<'_>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let first = format!("partition {} offset {}", memo.first.partition, memo.first.offset);
        let (status, reason, text) = match &memo.decision {
            Decision::Accepted => (PaymentStatus::ACCC, None, format!("repeat of the request at {first}, settled")),
            Decision::Forwarded => (
                PaymentStatus::ACSP,
                None,
                format!(
                    "repeat of the request at {first}, sent on to its destination network; its final status follows"
                ),
            ),
            Decision::Rejected { reason } => (
                PaymentStatus::RJCT,
                Some(IsoReason::parse(reason).unwrap_or(IsoReason::NARR)),
                format!("repeat of the request at {first}, rejected with {reason}"),
            ),
            Decision::Held => (
                PaymentStatus::PDNG,
                None,
                format!("repeat of the request at {first}, held for review; its final status follows"),
            ),
        };
        let about = About::of_request(request, memo.routing_version, now);
        let id = format!("{}:DEBTOR:REPEAT:{}:{}", request.transaction_id, input.partition, input.offset);
        let note = Answer { id, status, reason, text, repeat: true };
        self.notify_debtor(&about, &request.debtor_agent, &request.amount, note, out)?;
        Ok(Outcome::Repeat)
    }

    /// A different request under a transaction id already taken: refused with AM05 to
    /// its debtor and dead-lettered, naming the first. The first's memo stays.
    fn modified(
        &self,
        request: &AuthorizationRequest,
        memo: &RequestMemo,
        input: &InputRecord<'_>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let reason = IsoReason::AM05;
        let text = format!(
            "transaction id {} of {} is already used by a different request (first at partition {} offset {}, decided at {} µs as {:?})",
            request.transaction_id,
            request.debtor_agent,
            memo.first.partition,
            memo.first.offset,
            memo.decided_at,
            memo.decision
        );
        let kind = ErrorKind::Validation;
        let tx = Some(request.transaction_id.as_str());
        self.dead_letter(input, kind, text.clone(), Some(&reason), tx, now, out)?;
        let about = About::of_request(request, memo.routing_version, now);
        let id = format!("{}:DEBTOR:DUPLICATE:{}:{}", request.transaction_id, input.partition, input.offset);
        let note = Answer { id, status: PaymentStatus::RJCT, reason: Some(reason), text, repeat: false };
        self.notify_debtor(&about, &request.debtor_agent, &request.amount, note, out)?;
        Ok(Outcome::DeadLettered { kind })
    }

    /// Decides a first request; also returns what to remember of it (nothing for a
    /// request that is not the origin's to repeat). `reviewed`: an operator approved it
    /// after a hold by this control, whose holding rules then pass it (the other
    /// controls still decide).
    fn decide_request(
        &self,
        request: &AuthorizationRequest,
        partition_key: &str,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
        reviewed: Option<RiskControl>,
    ) -> Result<(Outcome, Option<Decision>), Undecided> {
        let (table, now_micros) = (ctx.table, ctx.now_micros);
        let rejected = |reason: &IsoReason| Some(Decision::Rejected { reason: reason.code().to_string() });
        #[cfg(feature = "fault-injection")]
        if request.purpose.as_deref() == Some(POISON_PURPOSE) {
            panic!("fault injection: request {} is a poison pill", request.transaction_id);
        }
        let address = match validate(request) {
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
                self.reject(request, &reason, &message, 0, now_micros, out)?;
                return Ok((Outcome::DeadLettered { kind }, rejected(&reason)));
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
                    self.reject(request, &reason, &message, table.version(), now_micros, out)?;
                    return Ok((Outcome::DeadLettered { kind }, rejected(&reason)));
                }
                Err(rejection) => {
                    let reason = rejection.reason();
                    self.reject(request, &reason, &rejection.to_string(), table.version(), now_micros, out)?;
                    return Ok((Outcome::Rejected { reason: reason.clone() }, rejected(&reason)));
                }
            },
            CreditorAddress::Alias => {
                if let Some(alias) = &request.creditor_alias {
                    if let Some(refusal) = blocks::check_alias(table, &alias.scheme, &alias.value) {
                        return self.decide_for_risk(request, None, refusal, partition_key, input, ctx, out);
                    }
                }
                // Alias resolution belongs to the destination network's directory
                // (acmt.023/024); until it is wired, such requests are refused, never dropped.
                let (reason, text) = (IsoReason::AG03, "creditor addressing by alias is not enabled on this switch");
                self.reject(request, &reason, text, table.version(), now_micros, out)?;
                return Ok((Outcome::Rejected { reason: reason.clone() }, rejected(&reason)));
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
                let blocked =
                    blocks::check_route(table, &route, request, creditor_account.as_deref(), qr_merchant.as_ref());
                // A sanctions hit an operator has reviewed and approved is not screened again.
                let screened = || {
                    let approved = reviewed == Some(RiskControl::Sanctions) && self.screening_holds;
                    let screener = self.screener.as_deref().filter(|_| !approved)?;
                    let hit = blocks::check_names(screener, request)?;
                    Some(RiskRefusal { for_review: self.screening_holds, ..hit })
                };
                if let Some(refusal) = blocked.or_else(screened) {
                    return self.decide_for_risk(request, Some(&route), refusal, partition_key, input, ctx, out);
                }
                let skew = self.limit_clock_skew_micros;
                let account = creditor_account.as_deref();
                let checked = limits::check(
                    table,
                    &route,
                    request,
                    partition_key,
                    account,
                    now_micros,
                    skew,
                    ctx.memory,
                    reviewed,
                )?;
                let limits = match checked {
                    Ok(check) => check,
                    Err(refusal) => {
                        return self.decide_for_risk(request, Some(&route), refusal, partition_key, input, ctx, out)
                    }
                };
                // What the creditor's and the device's rules will see, should it go ahead.
                let seen = PaymentSeen::of_payment(table, &route, request, creditor_account.as_deref());
                let clearing = clearing_record(request, &route, creditor_account, table.version(), now_micros);
                let decided = match self.connected(&clearing.creditor_agent.network) {
                    Some(connector) => self.forward(connector, request, clearing, limits.hold, input, ctx, out)?,
                    None => match self.over_cap(&clearing, input.partition, ctx)? {
                        Some(text) => {
                            self.reject(request, &IsoReason::AM04, &text, table.version(), now_micros, out)?;
                            (Outcome::Rejected { reason: IsoReason::AM04 }, rejected(&IsoReason::AM04))
                        }
                        None => {
                            self.settle(clearing, None, ctx, out)?;
                            (Outcome::Accepted, Some(Decision::Accepted))
                        }
                    },
                };
                // Counted only if it went ahead, in the same transaction as its outputs.
                // Alerts too: a payment refused further on (its debtor's cap) raises none.
                if matches!(decided.0, Outcome::Accepted | Outcome::Forwarded) {
                    out.extend(limits.writes);
                    for alerted in limits.alerts {
                        self.alert_for_risk(request, &route, alerted, table.version(), now_micros, out)?;
                    }
                    // The creditor's and the device's rules see it at their partitions.
                    for seen in seen {
                        out.push(OutputRecord::new(OutputTopic::Forwards, &seen.key, seen.encode()?));
                    }
                }
                Ok(decided)
            }
            Err((reason, text)) => {
                self.reject(request, &reason, &text, table.version(), now_micros, out)?;
                Ok((Outcome::Rejected { reason: reason.clone() }, rejected(&reason)))
            }
        }
    }

    /// A payment a risk control stops: held for review when the control says so, else
    /// refused.
    #[allow(clippy::too_many_arguments)]
    fn decide_for_risk(
        &self,
        request: &AuthorizationRequest,
        route: Option<&Route<'_>>,
        refusal: RiskRefusal,
        partition_key: &str,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(Outcome, Option<Decision>), Undecided> {
        let (version, now) = (ctx.table.version(), ctx.now_micros);
        if refusal.for_review {
            self.hold_for_review(request, route, refusal, partition_key, input, ctx, out)
        } else {
            self.refuse_for_risk(request, route, refusal, version, now, out)
        }
    }

    /// A payment a risk control refuses: RJCT with the control's reason to its debtor,
    /// and the decision, explained, on the risk alerts topic.
    fn refuse_for_risk(
        &self,
        request: &AuthorizationRequest,
        route: Option<&Route<'_>>,
        refusal: RiskRefusal,
        version: i64,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(Outcome, Option<Decision>), Undecided> {
        let RiskRefusal { control, rule, reason, text, .. } = refusal;
        self.reject(request, &reason, &text, version, now, out)?;
        let alert = RiskAlert {
            alert_id: format!("{}:RISK:{}", request.transaction_id, control.as_str()),
            transaction_id: request.transaction_id.clone(),
            end_to_end_id: request.end_to_end_id.clone(),
            control,
            rule,
            action: RiskAction::Refused,
            reason_code: reason.code().to_string(),
            explanation: text,
            routing_version: version,
            corridor: route.map(|r| r.corridor.id.to_string()),
            debtor_agent: request.debtor_agent.clone(),
            creditor_agent: route.map(|r| Agent::new(&r.creditor.network, &r.creditor.institution_id)),
            amount: request.amount.clone(),
            decided_at: now,
            review_key: None,
            review_deadline: None,
        };
        out.push(OutputRecord::new(OutputTopic::RiskAlerts, &request.transaction_id, self.risk_alerts.encode(&alert)?));
        let decision = Decision::Rejected { reason: reason.code().to_string() };
        Ok((Outcome::Rejected { reason }, Some(decision)))
    }

    /// A payment an `alert` anomaly rule fired on and that went ahead: explained on the
    /// risk alerts topic (ALERTED), in the same transaction as its outputs. The debtor
    /// was told no reason, so the alert carries none (an empty `reason_code`); its id
    /// names the rule, as several rules may alert on one payment.
    fn alert_for_risk(
        &self,
        request: &AuthorizationRequest,
        route: &Route<'_>,
        alerted: anomaly::Alerted,
        version: i64,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), Undecided> {
        let control = RiskControl::Anomaly;
        let alert = RiskAlert {
            alert_id: format!("{}:RISK:{}:{}", request.transaction_id, control.as_str(), alerted.rule),
            transaction_id: request.transaction_id.clone(),
            end_to_end_id: request.end_to_end_id.clone(),
            control,
            rule: alerted.rule,
            action: RiskAction::Alerted,
            reason_code: String::new(),
            explanation: alerted.text,
            routing_version: version,
            corridor: Some(route.corridor.id.to_string()),
            debtor_agent: request.debtor_agent.clone(),
            creditor_agent: Some(Agent::new(&route.creditor.network, &route.creditor.institution_id)),
            amount: request.amount.clone(),
            decided_at: now,
            review_key: None,
            review_deadline: None,
        };
        out.push(OutputRecord::new(OutputTopic::RiskAlerts, &request.transaction_id, self.risk_alerts.encode(&alert)?));
        Ok(())
    }

    /// The final accepted outcome: the clearing record, counted in its settlement
    /// cycles, and ACCC to both sides.
    /// `held` is what the payment held against its debtor's cap while in flight.
    fn settle(
        &self,
        mut c: ClearingRecord,
        held: Option<&settlement::CapHold>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), Undecided> {
        let now = ctx.now_micros;
        c.cleared_at = now;
        let key = c.transaction_id.clone();
        self.clear(&mut c, &key, held, ctx, out)?;
        Ok(self.notify_both(&c, PaymentStatus::ACCC, None, None, now, out)?)
    }

    /// Writes a clearing record (a payment's, or a return's reversal), counted in the
    /// settlement cycles of its currencies in this partition, with those outputs. Keyed
    /// by `key`: the payment's transaction id, which a reversal shares.
    fn clear(
        &self,
        c: &mut ClearingRecord,
        key: &str,
        held: Option<&settlement::CapHold>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), Undecided> {
        let counted = settlement::count(ctx.table, ctx.memory, c, held)?;
        out.push(OutputRecord::new(OutputTopic::Clearing, key, self.clearing.encode(c)?));
        out.extend(counted);
        Ok(())
    }

    /// The cut-offs that have passed by `now_micros` for one owned partition (the
    /// edge's sweep calls this every second): each closed cycle's part goes to its
    /// currency's netting (see [`settlement`]).
    pub fn close_cycles(
        &self,
        table: &RoutingTable,
        memory: &dyn Memory,
        partition: i32,
        now_micros: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), Undecided> {
        out.extend(settlement::close_due(table, memory, partition, now_micros)?);
        Ok(())
    }

    /// A partition's part of a cycle, at its currency's netting partition.
    fn net(
        &self,
        part: Result<CyclePart, MemoryError>,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let part = match part {
            Ok(part) => part,
            Err(e) => {
                let text = format!("unreadable settlement cycle part: {e}");
                return self.internal_refused(input, ErrorKind::Decode, text, ctx, out);
            }
        };
        match settlement::net(ctx.table, ctx.memory, part, self.partitions.unwrap_or(1), ctx.now_micros)? {
            Ok((writes, records)) => {
                for r in &records {
                    out.push(OutputRecord::new(OutputTopic::Settlement, &r.cycle_id, self.settlement.encode(r)?));
                }
                out.extend(writes);
                Ok(Outcome::Netted)
            }
            Err(refused) => {
                let text = format!("settlement cycle part not netted: {refused}");
                self.internal_refused(input, ErrorKind::Validation, text, ctx, out)
            }
        }
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
        let answer = Answer {
            id: format!("{}:{side}", about.transaction_id),
            status,
            reason: reason.map(|(code, _)| code.clone()),
            text: reason.map_or_else(String::new, |(_, text)| text.to_string()),
            repeat: false,
        };
        self.emit_notification(about, party, agent, amount, answer, out)
    }

    /// A notification to the debtor only (the answer to a repeated or modified request).
    fn notify_debtor(
        &self,
        about: &About<'_>,
        agent: &Agent,
        amount: &interlink_schemas::Amount,
        answer: Answer,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        self.emit_notification(about, Party::Debtor, agent, amount, answer, out)
    }

    fn emit_notification(
        &self,
        about: &About<'_>,
        party: Party,
        agent: &Agent,
        amount: &interlink_schemas::Amount,
        answer: Answer,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let note = Notification {
            notification_id: answer.id,
            transaction_id: about.transaction_id.to_string(),
            end_to_end_id: about.end_to_end_id.to_string(),
            party,
            agent: agent.clone(),
            status: answer.status,
            reason_code: answer.reason.map(|code| code.code().to_string()),
            reason_text: (!answer.text.is_empty()).then_some(answer.text),
            amount: amount.clone(),
            routing_version: about.routing_version,
            request_created_at: about.request_created_at,
            emitted_at: about.now,
            repeat: answer.repeat,
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

    /// Hands a routed payment for a connected network to the partition of its wire id
    /// (where the network's report will arrive), with the network's message built now
    /// and what it counted against its debtor's limits (`hold`).
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        connector: &'static dyn Connector,
        request: &AuthorizationRequest,
        clearing: ClearingRecord,
        hold: Option<LimitHold>,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(Outcome, Option<Decision>), Undecided> {
        let (network, now) = (connector.profile().id, ctx.now_micros);
        match legs::outbound_message(connector, request, &clearing) {
            Ok((wire, message)) => {
                let command = ForwardCommand {
                    network: network.to_string(),
                    wire_id: wire.as_str().to_string(),
                    uetr: Some(legs::uetr(&clearing.transaction_id)),
                    clearing,
                    message,
                    hold,
                };
                out.push(OutputRecord::new(OutputTopic::Forwards, wire.as_str(), command.encode()?));
                Ok((Outcome::Forwarded, Some(Decision::Forwarded)))
            }
            Err(e) => {
                // The destination network cannot carry this payment: refuse it, keep it.
                let reason = e.iso_reason();
                let text = format!("{network} cannot carry this payment: {e}");
                let tx = Some(request.transaction_id.as_str());
                self.dead_letter(input, ErrorKind::Validation, text.clone(), Some(&reason), tx, now, out)?;
                self.reject(request, &reason, &text, clearing.routing_version, now, out)?;
                let decision = Decision::Rejected { reason: reason.code().to_string() };
                Ok((Outcome::DeadLettered { kind: ErrorKind::Validation }, Some(decision)))
            }
        }
    }

    /// A forward, at the partition of its wire id: the network's message goes out and
    /// the payment is kept in flight here, with its deadline, in one transaction, so the
    /// network can only answer a payment this partition holds.
    fn send(
        &self,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let now = ctx.now_micros;
        let payload = input.payload.unwrap_or_default();
        if let Some(release) = LimitRelease::decode(payload) {
            return self.release(release, input, ctx, out);
        }
        if let Some(review) = ReviewCommand::decode(payload) {
            return self.review(review, input, ctx, out);
        }
        if let Some(seen) = PaymentSeen::decode(payload) {
            return self.creditor_seen(seen, input, ctx, out);
        }
        if let Some(part) = CyclePart::decode(payload) {
            return self.net(part, input, ctx, out);
        }
        let command = match ForwardCommand::decode(payload) {
            Ok(c) => c,
            Err(e) => {
                return self.internal_refused(input, ErrorKind::Decode, format!("unreadable forward: {e}"), ctx, out)
            }
        };
        let Some(connector) = self.connected(&command.network) else {
            let text = format!("forward to {}, which is not a connected network of this switch", command.network);
            let tx = Some(command.clearing.transaction_id.as_str());
            self.dead_letter(input, ErrorKind::Validation, text, None, tx, now, out)?;
            return Ok(Outcome::DeadLettered { kind: ErrorKind::Validation });
        };
        let key = InFlightKey::new(&command.network, &command.wire_id);
        let mut entry = InFlightEntry {
            network: command.network,
            clearing: command.clearing,
            uetr: command.uetr,
            phase: InFlightPhase::AwaitingAnswer,
            held: None,
            expires_at: now.saturating_add(self.response_deadline(ctx.table, connector.profile().id)),
            hold: command.hold,
        };
        // Checked and held here, where the payment will count when it settles.
        if let Some(text) = self.over_cap(&entry.clearing, input.partition, ctx)? {
            let c = &entry.clearing;
            let about = About {
                transaction_id: &c.transaction_id,
                end_to_end_id: &c.end_to_end_id,
                request_created_at: c.request_created_at,
                routing_version: c.routing_version,
                now,
            };
            let reason = Some((&IsoReason::AM04, text.as_str()));
            self.notify(&about, Party::Debtor, &c.debtor_agent, &c.debit_amount, PaymentStatus::RJCT, reason, out)?;
            self.release_hold(&entry, "refused: net debit cap", 1, 1, ctx.memory, out)?;
            return Ok(Outcome::Rejected { reason: IsoReason::AM04 });
        }
        if let Some((write, held)) = settlement::hold(ctx.table, ctx.memory, &entry.clearing)? {
            out.push(write);
            entry.held = Some(held);
        }
        out.push(OutputRecord::new(OutputTopic::NetworkOut(connector.profile().id), &command.wire_id, command.message));
        out.push(OutputRecord {
            topic: OutputTopic::State,
            key: Some(key.as_bytes().to_vec()),
            payload: Some(entry.encode()?),
        });
        Ok(Outcome::Sent)
    }

    /// A payment that went ahead, at its creditor's partition: counted in the creditor's
    /// activity, and an ALERTED alert for each creditor rule that fires.
    fn creditor_seen(
        &self,
        seen: Result<PaymentSeen, MemoryError>,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let seen = match seen {
            Ok(s) => s,
            Err(e) => {
                let text = format!("unreadable payment for the creditor rules: {e}");
                return self.internal_refused(input, ErrorKind::Decode, text, ctx, out);
            }
        };
        let key = CreditorKey::new(&seen.key);
        let mut activity = match ctx.memory.get(key.as_bytes())? {
            Some(value) => CreditorActivity::decode(&value)?,
            None => CreditorActivity::default(),
        };
        let now = ctx.now_micros;
        for fired in party_watch::observe(ctx.table, &seen, &mut activity, now) {
            let alert = RiskAlert {
                alert_id: format!("{}:RISK:{}:{}", seen.transaction_id, RiskControl::Anomaly.as_str(), fired.rule),
                transaction_id: seen.transaction_id.clone(),
                end_to_end_id: seen.end_to_end_id.clone(),
                control: RiskControl::Anomaly,
                rule: fired.rule,
                action: RiskAction::Alerted,
                reason_code: String::new(),
                explanation: fired.text,
                routing_version: ctx.table.version(),
                corridor: Some(seen.corridor.clone()),
                debtor_agent: seen.debtor_agent.clone(),
                creditor_agent: Some(seen.creditor_agent.clone()),
                amount: seen.amount.clone(),
                decided_at: now,
                review_key: None,
                review_deadline: None,
            };
            let encoded = self.risk_alerts.encode(&alert)?;
            out.push(OutputRecord::new(OutputTopic::RiskAlerts, &seen.transaction_id, encoded));
        }
        let value = if activity.lines.is_empty() { None } else { Some(activity.encode()?) };
        out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.as_bytes().to_vec()), payload: value });
        Ok(Outcome::CreditorCounted)
    }

    /// A release of what a payment counted against its debtor's limits, at the
    /// person's partition.
    fn release(
        &self,
        release: Result<LimitRelease, MemoryError>,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        match release {
            Ok(release) => {
                limits::apply_release(&release, ctx.memory, out)?;
                Ok(Outcome::LimitReleased)
            }
            Err(e) => {
                self.internal_refused(input, ErrorKind::Decode, format!("unreadable limit release: {e}"), ctx, out)
            }
        }
    }

    /// An internal record (on the forwards topic) that cannot be applied: a bug or a
    /// foreign writer, never traffic. Dead-lettered with the reason; the partition flows on.
    fn internal_refused(
        &self,
        input: &InputRecord<'_>,
        kind: ErrorKind,
        text: String,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        self.dead_letter(input, kind, text, None, None, ctx.now_micros, out)?;
        Ok(Outcome::DeadLettered { kind })
    }

    /// What a payment in flight counted against its debtor's limits, given back
    /// because it did not settle (or `part` of `whole` came back); and, if it did not
    /// settle, what it held against its debtor's net debit cap.
    fn release_hold(
        &self,
        entry: &InFlightEntry,
        because: &str,
        part: i64,
        whole: i64,
        memory: &dyn Memory,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), MemoryError> {
        if let Some(hold) = &entry.hold {
            out.push(limits::release_record(hold, &entry.clearing.transaction_id, because, part, whole)?);
        }
        if let Some(held) = &entry.held {
            out.push(settlement::give_back(memory, held)?);
        }
        Ok(())
    }

    /// `Some(explanation)` when the payment of `c`, counted in `partition`, would take
    /// its debtor past its net debit cap (this partition's share of it).
    fn over_cap(&self, c: &ClearingRecord, partition: i32, ctx: &Context<'_>) -> Result<Option<String>, MemoryError> {
        settlement::check_cap(ctx.table, ctx.memory, partition, self.partitions.unwrap_or(1), c)
    }

    /// A state entry whose time has come (its header's expiry is at or before now): a
    /// request's memo, or a timed-out payment's marker, leaves the store and the
    /// changelog; a payment still awaiting its network's answer times out.
    pub fn expire(
        &self,
        key: &[u8],
        value: &[u8],
        memory: &dyn Memory,
        now_micros: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Expiry, Undecided> {
        match memory::expires_at(value) {
            Some(at) if at <= now_micros => {}
            Some(_) => return Ok(Expiry::NotDue),
            None => return Err(MemoryError::UnknownFormat { len: value.len(), first: value.first().copied() }.into()),
        }
        let forget = OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: None };
        match StoreKind::of_key(key) {
            Some(StoreKind::InFlight) => {
                let entry = InFlightEntry::decode(value)?;
                match entry.phase {
                    InFlightPhase::AwaitingAnswer => {
                        self.time_out(key, entry, memory, now_micros, out)?;
                        return Ok(Expiry::TimedOut);
                    }
                    InFlightPhase::TimedOut { .. }
                    | InFlightPhase::Returned { .. }
                    | InFlightPhase::Settled { .. }
                    | InFlightPhase::ReturnedByNetwork { .. } => out.push(forget),
                }
            }
            // Netting books never expire (their header says so): not due.
            Some(StoreKind::Settlement) => return Ok(Expiry::NotDue),
            Some(StoreKind::Held) => {
                self.review_timed_out(key, value, now_micros, out)?;
                return Ok(Expiry::ReviewTimedOut);
            }
            Some(StoreKind::Requests | StoreKind::Usage | StoreKind::Creditor) | None => out.push(forget),
        }
        Ok(Expiry::Forgotten)
    }

    /// How long `network` has for a final status (µs): the routing table's setting,
    /// else the switch's.
    fn response_deadline(&self, table: &RoutingTable, network: &str) -> i64 {
        table
            .response_deadline(network)
            .map_or(self.response_deadline_micros, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }

    /// A payment whose network sent no final status by its deadline: final now, as
    /// RJCT AB05 to both sides, with no clearing record. The entry stays, marked, for
    /// the duplicate window, so a late answer is recognised rather than settled.
    fn time_out(
        &self,
        key: &[u8],
        mut entry: InFlightEntry,
        memory: &dyn Memory,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<InFlightEntry, Undecided> {
        let text = format!("no final status from {} within its response deadline", entry.network);
        self.notify_both(&entry.clearing, PaymentStatus::RJCT, Some(&IsoReason::AB05), Some(&text), now, out)?;
        self.release_hold(&entry, "timed out", 1, 1, memory, out)?;
        entry.phase = InFlightPhase::TimedOut { at: now };
        entry.held = None;
        entry.expires_at = now.saturating_add(self.duplicate_window_micros);
        out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: Some(entry.encode()?) });
        Ok(entry)
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
        if let Ok(returned) = connector.decode_return(message) {
            return self.inbound_return(network, &returned, input, ctx, out);
        }
        let inbound = connector.decode_inbound_payment(message).map_err(legs::InboundError::from);
        match inbound.and_then(|p| legs::inbound_request(network, p)) {
            Ok(request) => {
                // Keyed as any origin keys it, by the person when the network names one.
                out.push(OutputRecord::new(
                    OutputTopic::Requests,
                    &request.partition_key(),
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
        let refuse = |text: String, out: &mut Vec<OutputRecord>| self.refuse(input, text, None, now, out);
        // Keyed by the payment's wire id, a report reaches the partition that holds it.
        if input.key != Some(wire.as_bytes()) {
            return refuse(not_keyed_by_wire(network, "status report", wire, input.key), out);
        }
        let key = InFlightKey::new(network, wire);
        let Some(value) = ctx.memory.get(key.as_bytes())? else {
            // Unknown, or already settled by an earlier copy of this report: never a
            // second clearing record. Kept in the DLQ for the operator.
            return refuse(
                format!(
                    "{network} status report {} for {wire} matches no payment in flight (unknown or already final)",
                    status.status
                ),
                out,
            );
        };
        let entry = InFlightEntry::decode(&value)?;
        let clearing = &entry.clearing;
        // The report must be about this very payment, not only carry its id.
        if !entry.is_named_by(&status.original_end_to_end_id, status.original_uetr.as_deref()) {
            return refuse(
                format!(
                    "{network} status report for {wire} does not match the payment in flight (end-to-end id {:?} vs {:?}, UETR {:?} vs {:?}); not settled",
                    status.original_end_to_end_id, clearing.end_to_end_id, status.original_uetr, entry.uetr
                ),
                out,
            );
        }
        // A report that repeats the payment's amount must repeat it exactly.
        if let Some(reported) = &status.original_amount {
            let sent = &clearing.credit_amount;
            if reported.minor_units != sent.minor_units || reported.currency != sent.currency {
                return refuse(
                    format!(
                        "{network} status report for {wire} names {} {} (minor units), the payment in flight {} {}; not settled",
                        reported.minor_units, reported.currency, sent.minor_units, sent.currency
                    ),
                    out,
                );
            }
        }
        match entry.phase {
            InFlightPhase::TimedOut { at } | InFlightPhase::Returned { at } => {
                return self.late_answer(network, wire, status, entry, at, &key, input, now, out);
            }
            // Written after its deadline: late, however soon this worker reads it (a
            // worker behind on its inputs decides as one that kept up would).
            InFlightPhase::AwaitingAnswer if input.written_at.is_some_and(|at| at > entry.expires_at) => {
                let timed_out = self.time_out(key.as_bytes(), entry, ctx.memory, now, out)?;
                let late = self.late_answer(network, wire, status, timed_out, now, &key, input, now, out)?;
                return Ok(match late {
                    Outcome::LateAnswer { settled, .. } => Outcome::LateAnswer { settled, timed_out: true },
                    other => other,
                });
            }
            InFlightPhase::Settled { at } | InFlightPhase::ReturnedByNetwork { at } => {
                // A copy of the report that settled it: never a second clearing record.
                return refuse(
                    format!(
                        "{network} status report {} for {wire} matches no payment in flight (already final: settled at {at} µs)",
                        status.status
                    ),
                    out,
                );
            }
            InFlightPhase::AwaitingAnswer => {}
        }
        let settled = match status.status.finality() {
            Finality::Settled => {
                self.settle(clearing.clone(), entry.held.as_ref(), ctx, out)?;
                // Kept, marked settled, for the window: the network may return it.
                let mut settled = entry.clone();
                settled.phase = InFlightPhase::Settled { at: now };
                settled.held = None;
                settled.expires_at = now.saturating_add(self.duplicate_window_micros);
                let state = Some(settled.encode()?);
                out.push(OutputRecord {
                    topic: OutputTopic::State,
                    key: Some(key.as_bytes().to_vec()),
                    payload: state,
                });
                return Ok(Outcome::Accepted);
            }
            Finality::Refused => {
                let reason = status.reason.clone().unwrap_or(IsoReason::NARR);
                let text = status.additional_info.clone().unwrap_or_else(|| format!("rejected by {network}"));
                self.notify_both(clearing, told_refused(status.status), Some(&reason), Some(&text), now, out)?;
                self.release_hold(&entry, "refused by its network", 1, 1, ctx.memory, out)?;
                Outcome::Rejected { reason }
            }
            // Not final: the deadline still holds.
            Finality::NotFinal => return Ok(Outcome::Pending),
        };
        out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.as_bytes().to_vec()), payload: None });
        Ok(settled)
    }

    /// A network returns a payment it settled (pacs.004): a reversal clearing record
    /// (the original's parties swapped, `reverses` naming it) and a notification to
    /// each side. A return of a payment not settled here, of one already returned, or
    /// of more than was credited, is dead-lettered.
    fn inbound_return(
        &self,
        network: &str,
        r: &CanonicalReturn,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let (now, wire) = (ctx.now_micros, &r.original_transaction_id);
        let refuse = |text: String, out: &mut Vec<OutputRecord>| self.refuse(input, text, Some(&r.reason), now, out);
        if input.key != Some(wire.as_bytes()) {
            return refuse(not_keyed_by_wire(network, "return", wire, input.key), out);
        }
        let key = InFlightKey::new(network, wire);
        let entry = match ctx.memory.get(key.as_bytes())? {
            Some(value) => InFlightEntry::decode(&value)?,
            None => {
                return refuse(format!("{network} returns {wire}, which was not settled here (or too long ago)"), out)
            }
        };
        let c = &entry.clearing;
        match entry.phase {
            InFlightPhase::Settled { .. } => {}
            InFlightPhase::ReturnedByNetwork { at } => {
                return refuse(format!("{network} returns {wire} again; it was returned at {at} µs"), out)
            }
            _ => return refuse(format!("{network} returns {wire}, which never settled"), out),
        }
        if !entry.is_named_by(&r.original_end_to_end_id, r.original_uetr.as_deref()) {
            return refuse(
                format!("{network} return of {wire} does not match the payment (end-to-end id or UETR)"),
                out,
            );
        }
        let amount = &r.returned_amount;
        if amount.currency != c.credit_amount.currency || amount.minor_units > c.credit_amount.minor_units {
            return refuse(
                format!(
                    "{network} returns {} {} of {wire}, which credited {} {}",
                    amount.minor_units, amount.currency, c.credit_amount.minor_units, c.credit_amount.currency
                ),
                out,
            );
        }
        // The debtor gets back its share of what it paid: all of it for a full return.
        let back = i64::try_from(
            i128::from(c.debit_amount.minor_units) * i128::from(amount.minor_units)
                / i128::from(c.credit_amount.minor_units.max(1)),
        )
        .unwrap_or(c.debit_amount.minor_units);
        let mut reversal = ClearingRecord {
            transaction_id: format!("{}:RETURN:{}", c.transaction_id, r.return_id),
            end_to_end_id: c.end_to_end_id.clone(),
            debtor_agent: c.creditor_agent.clone(),
            debtor_account: c.creditor_account.clone().unwrap_or_default(),
            creditor_agent: c.debtor_agent.clone(),
            creditor_account: Some(c.debtor_account.clone()),
            debit_amount: interlink_schemas::Amount::new(amount.minor_units, &amount.currency),
            credit_amount: interlink_schemas::Amount::new(back, &c.debit_amount.currency),
            fx_rate: c.fx_rate.clone(),
            quote_id: c.quote_id.clone(),
            corridor: c.corridor.clone(),
            routing_version: c.routing_version,
            request_created_at: c.request_created_at,
            cleared_at: now,
            reverses: Some(c.transaction_id.clone()),
            debit_settlement_cycle: None,
            credit_settlement_cycle: None,
        };
        self.clear(&mut reversal, &c.transaction_id, None, ctx, out)?;
        let text = format!("returned by {network} ({})", r.reason.code());
        let about = About {
            transaction_id: &c.transaction_id,
            end_to_end_id: &c.end_to_end_id,
            request_created_at: c.request_created_at,
            routing_version: c.routing_version,
            now,
        };
        for (party, agent, money) in [
            (Party::Debtor, &c.debtor_agent, &reversal.credit_amount),
            (Party::Creditor, &c.creditor_agent, &reversal.debit_amount),
        ] {
            let side = if party == Party::Debtor { "DEBTOR" } else { "CREDITOR" };
            let id = format!("{}:{side}:RETURN:{}", c.transaction_id, r.return_id);
            let reason = Some(r.reason.clone());
            let answer = Answer { id, status: PaymentStatus::ACCC, reason, text: text.clone(), repeat: false };
            self.emit_notification(&about, party, agent, money, answer, out)?;
        }
        let (part, whole) = (amount.minor_units, c.credit_amount.minor_units);
        self.release_hold(&entry, "returned by its network", part, whole, ctx.memory, out)?;
        let mut returned = entry.clone();
        returned.phase = InFlightPhase::ReturnedByNetwork { at: now };
        let state = Some(returned.encode()?);
        out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.as_bytes().to_vec()), payload: state });
        Ok(Outcome::Returned)
    }

    /// A network's answer to a payment that had already timed out (refused to both
    /// sides at `timed_out_at`): it changes nothing for the parties. A late acceptance
    /// means the network moved the money: the switch sends it the payment's return
    /// (pacs.004), once, and the operator sees it in the DLQ and the
    /// `late_answer`/`settled` outcome (an alert).
    #[allow(clippy::too_many_arguments)]
    fn late_answer(
        &self,
        network: &str,
        wire: &str,
        status: &CanonicalStatus,
        mut entry: InFlightEntry,
        timed_out_at: i64,
        key: &InFlightKey,
        input: &InputRecord<'_>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let settled = status.status.finality() == Finality::Settled;
        let late = format!("late {} from {network} for {wire}, after it timed out at {timed_out_at} µs", status.status);
        let text = match (&entry.phase, settled, self.connected(network)) {
            (_, false, _) => format!("{late}; nothing changes"),
            (InFlightPhase::Returned { at }, true, _) => format!("{late}; its return was sent at {at} µs, none again"),
            (_, true, Some(connector)) => {
                match legs::late_acceptance_return(connector, &entry.clearing, wire, entry.uetr.as_deref(), now) {
                    Ok((return_id, message)) => {
                        out.push(OutputRecord::new(OutputTopic::NetworkOut(connector.profile().id), wire, message));
                        let c = &entry.clearing;
                        let record = PaymentReturn {
                            return_id,
                            transaction_id: c.transaction_id.clone(),
                            end_to_end_id: c.end_to_end_id.clone(),
                            network: network.to_string(),
                            wire_transaction_id: wire.to_string(),
                            creditor_agent: c.creditor_agent.clone(),
                            returned_amount: c.credit_amount.clone(),
                            reason_code: legs::LATE_ACCEPTANCE_RETURN_REASON.code().to_string(),
                            timed_out_at,
                            returned_at: now,
                        };
                        out.push(OutputRecord::new(OutputTopic::Returns, &c.transaction_id, self.returns.encode(&record)?));
                        entry.phase = InFlightPhase::Returned { at: now };
                        let state = Some(entry.encode()?);
                        out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.as_bytes().to_vec()), payload: state });
                        format!("{late}: {network} settled it after it was refused to both sides; a return (pacs.004, TM01) went back to {network}")
                    }
                    Err(e) => format!(
                        "{late}: {network} settled it after it was refused to both sides, and its return cannot be sent ({e}): return the funds by hand"
                    ),
                }
            }
            (_, true, None) => {
                format!("{late}: settled after the refusal; {network} is not connected, return the funds by hand")
            }
        };
        self.dead_letter(input, ErrorKind::Validation, text, None, None, now, out)?;
        Ok(Outcome::LateAnswer { settled, timed_out: false })
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
        let about = About::of_request(req, version, now);
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

    /// Dead-letters a well-formed record the switch refuses to act on.
    fn refuse(
        &self,
        input: &InputRecord<'_>,
        text: String,
        reason: Option<&IsoReason>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let kind = ErrorKind::Validation;
        self.dead_letter(input, kind, text, reason, None, now, out)?;
        Ok(Outcome::DeadLettered { kind })
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

/// What one notification says.
struct Answer {
    id: String,
    status: PaymentStatus,
    reason: Option<IsoReason>,
    /// Sent as the reason text unless empty.
    text: String,
    repeat: bool,
}

/// A record's key, as a dead letter's message names it.
fn describe_key(key: Option<&[u8]>) -> String {
    key.map_or_else(|| "no key".to_string(), |k| format!("key {:?}", String::from_utf8_lossy(k)))
}

/// Why a network's message about a payment is not decided: it is not keyed by the
/// payment's wire id, which is what brings it to the partition that holds the payment.
fn not_keyed_by_wire(network: &str, what: &str, wire: &str, key: Option<&[u8]>) -> String {
    format!(
        "{network} {what} for {wire} arrived with {}; it must be keyed by the original transaction id",
        describe_key(key)
    )
}

/// What every notification about one payment shares.
struct About<'a> {
    transaction_id: &'a str,
    end_to_end_id: &'a str,
    request_created_at: i64,
    routing_version: i64,
    now: i64,
}

impl<'a> About<'a> {
    fn of_request(request: &'a AuthorizationRequest, routing_version: i64, now: i64) -> Self {
        Self {
            transaction_id: &request.transaction_id,
            end_to_end_id: &request.end_to_end_id,
            request_created_at: request.created_at,
            routing_version,
            now,
        }
    }
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
        reverses: None,
        debit_settlement_cycle: None,
        credit_settlement_cycle: None,
    }
}

/// The status the parties are told for a network's refusal. The notification's Avro enum
/// (`TransactionStatus`) holds RJCT and BLCK among final outcomes: a blocked payment stays
/// BLCK, a cancellation (CANC) is told as RJCT with the network's reason.
fn told_refused(network_status: PaymentStatus) -> PaymentStatus {
    match network_status {
        PaymentStatus::BLCK => PaymentStatus::BLCK,
        _ => PaymentStatus::RJCT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::tests_support::MapMemory;
    use crate::review::HeldKey;

    /// Whatever a network refuses with, the parties' notification can carry it (the Avro
    /// enum has fewer symbols than the ISO list), and a settled report tells ACCC.
    #[test]
    fn every_refusing_network_status_is_told_in_a_notification() {
        let codec = Codec::<Notification>::new().unwrap();
        let note = |status| Notification {
            notification_id: "tx:DEBTOR".into(),
            transaction_id: "tx".into(),
            end_to_end_id: "e2e".into(),
            party: Party::Debtor,
            agent: Agent::new("US_FEDNOW", "021000021"),
            status,
            reason_code: Some("AC03".into()),
            reason_text: None,
            amount: interlink_schemas::Amount::new(100, "USD"),
            routing_version: 1,
            request_created_at: 1,
            emitted_at: 2,
            repeat: false,
        };
        let refusing: Vec<_> = PaymentStatus::ALL.into_iter().filter(|s| s.finality() == Finality::Refused).collect();
        assert_eq!(refusing, [PaymentStatus::BLCK, PaymentStatus::CANC, PaymentStatus::RJCT]);
        for status in refusing {
            let told = told_refused(status);
            assert_eq!(told, if status == PaymentStatus::BLCK { PaymentStatus::BLCK } else { PaymentStatus::RJCT });
            codec.encode(&note(told)).unwrap();
        }
        // A status outside the Avro symbols cannot be written: the mapping above is needed.
        assert!(codec.encode(&note(PaymentStatus::CANC)).is_err());
    }
    use interlink_routing::parse_routes_file;
    use interlink_schemas::Amount;

    fn table() -> RoutingTable {
        RoutingTable::compile(4, &parse_routes_file("t", interlink_routing::TEST_ROUTES_TOML).unwrap()).unwrap()
    }

    fn request(creditor: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            transaction_id: "tx-9".into(),
            end_to_end_id: "E2E-9".into(),
            creditor_agent: Some(Agent::new("HK_FPS", creditor)),
            ..crate::memory::sample_request()
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
            written_at: None,
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
        assert_eq!(
            topics,
            [OutputTopic::Clearing, OutputTopic::Notifications, OutputTopic::Notifications, OutputTopic::State]
        );
        let c = p.clearing.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(c.credit_amount, Amount::new(10_845, "HKD"));
        assert_eq!((c.routing_version, c.cleared_at, c.fx_rate.as_str()), (4, 99, "1.0845"));
        assert_eq!(c.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@v4");
        let creditor = p.notifications.decode(out[2].payload.as_deref().unwrap()).unwrap();
        assert_eq!(creditor.notification_id, "tx-9:CREDITOR");
        assert_eq!((creditor.status, creditor.agent.institution_id.as_str()), (PaymentStatus::ACCC, "004"));
        assert_eq!(creditor.amount, Amount::new(10_845, "HKD"));
        let events = out.iter().filter(|o| o.topic != OutputTopic::State);
        assert!(events.clone().all(|o| o.key.as_deref() == Some(&b"tx-9"[..])));
    }

    #[test]
    fn an_unknown_creditor_is_rejected_with_rc01_and_no_clearing() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, &p.requests.encode(&request("999")).unwrap());
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::RC01 });
        assert_eq!(out.iter().map(|o| o.topic).collect::<Vec<_>>(), [OutputTopic::Notifications, OutputTopic::State]);
        let n = p.notifications.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref(), n.party), (PaymentStatus::RJCT, Some("RC01"), Party::Debtor));
        assert_eq!(n.routing_version, 4);
    }

    /// The two legs through a connected HK FPS, as the edge would run them against
    /// one partition's state: the request, its forward, the network's report.
    struct TwoLegs {
        p: Processor,
        memory: MapMemory,
        table: RoutingTable,
    }

    impl TwoLegs {
        fn new() -> Self {
            let p = Processor::new()
                .unwrap()
                .with_connected(&["HK_FPS".to_string()])
                .with_response_deadline(std::time::Duration::from_micros(1_000));
            Self { p, memory: MapMemory::default(), table: table() }
        }

        /// Decides a record written just now.
        fn run(&self, source: InputSource, key: &[u8], payload: &[u8], now: i64) -> (Outcome, Vec<OutputRecord>) {
            self.run_written(source, key, payload, now, now)
        }

        /// Decides at `now` a record written at `written_at`.
        fn run_written(
            &self,
            source: InputSource,
            key: &[u8],
            payload: &[u8],
            written_at: i64,
            now: i64,
        ) -> (Outcome, Vec<OutputRecord>) {
            let input = InputRecord {
                source,
                topic: "t",
                partition: 0,
                offset: now,
                key: Some(key),
                payload: Some(payload),
                written_at: Some(written_at),
            };
            let ctx = Context { table: &self.table, now_micros: now, memory: &self.memory };
            let mut out = Vec::new();
            let outcome = self.p.process_with(&input, &ctx, &mut out).unwrap();
            self.memory.apply(&out);
            (outcome, out)
        }

        /// Routes `tx-9` to HK FPS and sends it: returns the network's message.
        fn send(&self) -> Vec<u8> {
            let (outcome, out) =
                self.run(InputSource::Requests, b"tx-9", &self.p.requests.encode(&request("004")).unwrap(), 10);
            assert_eq!(outcome, Outcome::Forwarded);
            let forward = out.iter().find(|o| o.topic == OutputTopic::Forwards).expect("a forward");
            assert_eq!(forward.key.as_deref(), Some(&b"tx-9"[..]), "keyed by the wire id");
            let (outcome, out) = self.run(InputSource::Forwards, b"tx-9", forward.payload.as_deref().unwrap(), 20);
            assert_eq!(outcome, Outcome::Sent);
            assert_eq!(
                out.iter().map(|o| o.topic).collect::<Vec<_>>(),
                [OutputTopic::NetworkOut("HK_FPS"), OutputTopic::State]
            );
            out[0].payload.clone().unwrap()
        }

        fn report(&self, status: PaymentStatus, e2e: &str, now: i64) -> (Outcome, Vec<OutputRecord>) {
            self.run(InputSource::Network("HK_FPS"), b"tx-9", &self.report_bytes(status, e2e), now)
        }

        fn report_bytes(&self, status: PaymentStatus, e2e: &str) -> Vec<u8> {
            let hk = interlink_connectors::connector("HK_FPS").unwrap();
            hk.encode_status(&CanonicalStatus {
                message_id: "S1".into(),
                created_at: 1_700_000_000_000_000,
                original_message_id: "tx-9".into(),
                original_end_to_end_id: e2e.into(),
                original_transaction_id: "tx-9".into(),
                original_uetr: None,
                status,
                reason: None,
                additional_info: None,
                instructing_agent: None,
                instructed_agent: None,
                original_amount: None,
            })
            .unwrap()
        }

        fn dead_letter(&self, out: &[OutputRecord]) -> String {
            let d = out.iter().find(|o| o.topic == OutputTopic::DeadLetters).expect("a dead letter");
            self.p.dead_letters.decode(d.payload.as_deref().unwrap()).unwrap().error_message
        }
    }

    #[test]
    fn a_payment_goes_out_through_its_forward_and_its_report_settles_it_once() {
        let legs = TwoLegs::new();
        let message = legs.send();
        let hk = interlink_connectors::connector("HK_FPS").unwrap();
        assert_eq!(hk.decode_payment(&message).unwrap().end_to_end_id, "E2E-9");
        let (outcome, out) = legs.report(PaymentStatus::ACCC, "E2E-9", 30);
        assert_eq!(outcome, Outcome::Accepted);
        let topics: Vec<_> = out.iter().map(|o| o.topic).collect();
        assert_eq!(
            topics,
            [OutputTopic::Clearing, OutputTopic::Notifications, OutputTopic::Notifications, OutputTopic::State]
        );
        let marker = InFlightEntry::decode(out[3].payload.as_deref().unwrap()).unwrap();
        assert!(matches!(marker.phase, InFlightPhase::Settled { at: 30 }), "kept, settled, for a return: {marker:?}");
        let (again, out) = legs.report(PaymentStatus::ACCC, "E2E-9", 31);
        assert_eq!(again, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(legs.dead_letter(&out).contains("matches no payment in flight"));
    }

    #[test]
    fn the_routing_table_sets_a_networks_deadline() {
        let mut legs = TwoLegs::new();
        let text = format!(
            "{}\n[[networks]]\nnetwork = \"HK_FPS\"\nresponse_deadline_seconds = 7\n",
            interlink_routing::TEST_ROUTES_TOML
        );
        legs.table = RoutingTable::compile(4, &parse_routes_file("t", &text).unwrap()).unwrap();
        legs.send();
        let value = legs.memory.get(InFlightKey::new("HK_FPS", "tx-9").as_bytes()).unwrap().unwrap();
        assert_eq!(memory::expires_at(&value), Some(20 + 7_000_000), "sent at 20 µs, due 7 s later");
    }

    fn return_bytes(amount: i64, return_id: &str) -> Vec<u8> {
        let hk = interlink_connectors::connector("HK_FPS").unwrap();
        hk.encode_return(&CanonicalReturn {
            message_id: return_id.into(),
            created_at: 1_700_000_000_000_000,
            return_id: return_id.into(),
            original_message_id: "tx-9".into(),
            original_end_to_end_id: "E2E-9".into(),
            original_transaction_id: "tx-9".into(),
            original_uetr: None,
            returned_amount: interlink_connectors::canonical::Money { minor_units: amount, currency: "HKD".into() },
            reason: IsoReason::parse("AC04").unwrap(),
            additional_info: None,
            instructing_agent: None,
            instructed_agent: None,
        })
        .unwrap()
    }

    #[test]
    fn a_network_returns_a_settled_payment_once_and_the_reversal_swaps_the_parties() {
        let legs = TwoLegs::new();
        // Not settled yet: nothing to reverse.
        legs.send();
        let (early, out) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &return_bytes(10_845, "R0"), 25);
        assert_eq!(early, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(legs.dead_letter(&out).contains("never settled"), "{}", legs.dead_letter(&out));
        assert_eq!(legs.report(PaymentStatus::ACCC, "E2E-9", 30).0, Outcome::Accepted);
        // More than was credited: refused.
        let (too_much, _) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &return_bytes(10_846, "R1"), 40);
        assert_eq!(too_much, Outcome::DeadLettered { kind: ErrorKind::Validation });
        // Half of it back.
        let (outcome, out) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &return_bytes(5_000, "R2"), 50);
        assert_eq!(outcome, Outcome::Returned);
        let topics: Vec<_> = out.iter().map(|o| o.topic).collect();
        assert_eq!(
            topics,
            [OutputTopic::Clearing, OutputTopic::Notifications, OutputTopic::Notifications, OutputTopic::State]
        );
        let reversal = legs.p.clearing.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(reversal.reverses.as_deref(), Some("tx-9"));
        assert_eq!(reversal.transaction_id, "tx-9:RETURN:R2");
        assert_eq!(
            (reversal.debtor_agent.network.as_str(), reversal.creditor_agent.network.as_str()),
            ("HK_FPS", "CN_IBPS")
        );
        assert_eq!(reversal.debit_amount, Amount::new(5_000, "HKD"));
        assert_eq!(reversal.credit_amount, Amount::new(4_610, "CNY"), "10,000 × 5,000 / 10,845, rounded down");
        let debtor = legs.p.notifications.decode(out[1].payload.as_deref().unwrap()).unwrap();
        assert_eq!(debtor.notification_id, "tx-9:DEBTOR:RETURN:R2");
        assert_eq!((debtor.reason_code.as_deref(), debtor.amount.minor_units), (Some("AC04"), 4_610));
        // A second return of it reverses nothing.
        let (again, out) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &return_bytes(5_000, "R3"), 60);
        assert_eq!(again, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(legs.dead_letter(&out).contains("again"), "{}", legs.dead_letter(&out));
        // And a copy of the settling report still settles nothing.
        assert_eq!(
            legs.report(PaymentStatus::ACCC, "E2E-9", 70).0,
            Outcome::DeadLettered { kind: ErrorKind::Validation }
        );
    }

    #[test]
    fn a_report_that_names_the_id_but_not_the_payment_is_dead_lettered_unsettled() {
        let legs = TwoLegs::new();
        legs.send();
        let (outcome, out) = legs.report(PaymentStatus::ACCC, "E2E-OTHER", 30);
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(legs.dead_letter(&out).contains("does not match the payment in flight"));
        assert!(out.iter().all(|o| o.topic == OutputTopic::DeadLetters));
        assert_eq!(legs.report(PaymentStatus::ACCC, "E2E-9", 31).0, Outcome::Accepted, "still in flight");
    }

    #[test]
    fn a_report_that_repeats_another_amount_is_dead_lettered_unsettled() {
        let legs = TwoLegs::new();
        legs.send();
        let hk = interlink_connectors::connector("HK_FPS").unwrap();
        let report = |minor: i64, currency: &str| {
            let mut status = hk.decode_status(&legs.report_bytes(PaymentStatus::ACCC, "E2E-9")).unwrap();
            status.original_amount = Some(interlink_connectors::Money::new(minor, currency));
            hk.encode_status(&status).unwrap()
        };
        for (minor, currency) in [(10_846, "HKD"), (10_845, "CNY")] {
            let (outcome, out) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &report(minor, currency), 30);
            assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
            assert!(legs.dead_letter(&out).contains("the payment in flight 10845 HKD"), "{}", legs.dead_letter(&out));
            assert!(out.iter().all(|o| o.topic == OutputTopic::DeadLetters));
        }
        let (outcome, _) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &report(10_845, "HKD"), 31);
        assert_eq!(outcome, Outcome::Accepted, "the same amount settles it");
    }

    #[test]
    fn no_answer_by_the_deadline_refuses_it_to_both_sides_and_a_late_acceptance_is_not_settled() {
        let legs = TwoLegs::new();
        legs.send();
        // Non-final statuses extend nothing.
        assert_eq!(legs.report(PaymentStatus::ACSP, "E2E-9", 500).0, Outcome::Pending);
        let key = InFlightKey::new("HK_FPS", "tx-9");
        let value = legs.memory.get(key.as_bytes()).unwrap().unwrap();
        let mut out = Vec::new();
        assert_eq!(
            legs.p.expire(key.as_bytes(), &value, &legs.memory, 1_019, &mut out).unwrap(),
            Expiry::NotDue,
            "sent at 20, 1 ms deadline"
        );
        assert_eq!(legs.p.expire(key.as_bytes(), &value, &legs.memory, 1_020, &mut out).unwrap(), Expiry::TimedOut);
        legs.memory.apply(&out);
        let notes: Vec<_> = out
            .iter()
            .filter(|o| o.topic == OutputTopic::Notifications)
            .map(|o| legs.p.notifications.decode(o.payload.as_deref().unwrap()).unwrap())
            .collect();
        assert_eq!(notes.len(), 2, "both sides told");
        assert!(notes.iter().all(|n| n.status == PaymentStatus::RJCT && n.reason_code.as_deref() == Some("AB05")));
        assert!(out.iter().all(|o| o.topic != OutputTopic::Clearing));
        let (late, out) = legs.report(PaymentStatus::ACCC, "E2E-9", 2_000);
        assert_eq!(late, Outcome::LateAnswer { settled: true, timed_out: false });
        assert!(legs.dead_letter(&out).contains("after it timed out"), "{}", legs.dead_letter(&out));
        assert!(out.iter().all(|o| o.topic != OutputTopic::Clearing), "never settled twice");
        // The network moved the money: it gets the payment's return, once.
        let sent: Vec<_> = out.iter().filter(|o| o.topic == OutputTopic::NetworkOut("HK_FPS")).collect();
        assert_eq!(sent.len(), 1);
        let recorded: Vec<_> = out.iter().filter(|o| o.topic == OutputTopic::Returns).collect();
        assert_eq!(recorded.len(), 1, "the return is recorded");
        let record = legs.p.returns.decode(recorded[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((record.transaction_id.as_str(), record.timed_out_at, record.returned_at), ("tx-9", 1_020, 2_000));
        let hk = interlink_connectors::connector("HK_FPS").unwrap();
        let back = hk.decode_return(sent[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((back.original_transaction_id.as_str(), back.original_end_to_end_id.as_str()), ("tx-9", "E2E-9"));
        assert_eq!((back.returned_amount.minor_units, back.returned_amount.currency.as_str()), (10_845, "HKD"));
        assert_eq!(back.reason.code(), "TM01");
        let (again, out) = legs.report(PaymentStatus::ACCC, "E2E-9", 2_100);
        assert_eq!(again, Outcome::LateAnswer { settled: true, timed_out: false });
        assert!(out.iter().all(|o| o.topic == OutputTopic::DeadLetters), "no second return: {out:?}");
        assert!(legs.dead_letter(&out).contains("none again"));
        let (refused, out) = legs.report(PaymentStatus::RJCT, "E2E-9", 2_200);
        assert_eq!(refused, Outcome::LateAnswer { settled: false, timed_out: false });
        assert!(out.iter().all(|o| o.topic == OutputTopic::DeadLetters), "a late refusal changes nothing");
    }

    /// A worker behind on its inputs reads answers after the deadline has passed: when
    /// each was written decides, not when it is read.
    #[test]
    fn an_answer_is_on_time_or_late_by_when_it_was_written_not_when_it_is_read() {
        let legs = TwoLegs::new();
        legs.send();
        // Sent at 20 with a 1 ms deadline; written at 1 000, read at 5 000: on time.
        let accc = legs.report_bytes(PaymentStatus::ACCC, "E2E-9");
        let (outcome, out) = legs.run_written(InputSource::Network("HK_FPS"), b"tx-9", &accc, 1_000, 5_000);
        assert_eq!(outcome, Outcome::Accepted);
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 1);

        // Written at 1 021, after the deadline, though read before any timer fired: the
        // payment times out then (AB05 to both sides) and the acceptance is returned.
        let legs = TwoLegs::new();
        legs.send();
        let (outcome, out) = legs.run_written(InputSource::Network("HK_FPS"), b"tx-9", &accc, 1_021, 1_030);
        assert_eq!(outcome, Outcome::LateAnswer { settled: true, timed_out: true });
        assert!(out.iter().all(|o| o.topic != OutputTopic::Clearing), "never settled");
        let refusals: Vec<_> = out
            .iter()
            .filter(|o| o.topic == OutputTopic::Notifications)
            .map(|o| legs.p.notifications.decode(o.payload.as_deref().unwrap()).unwrap())
            .collect();
        assert_eq!(refusals.len(), 2, "both sides told");
        assert!(refusals.iter().all(|n| n.reason_code.as_deref() == Some("AB05")));
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::NetworkOut("HK_FPS")).count(), 1, "one return");
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Returns).count(), 1);
        assert!(legs.dead_letter(&out).contains("after it timed out"));
        let key = InFlightKey::new("HK_FPS", "tx-9");
        let marker = InFlightEntry::decode(&legs.memory.get(key.as_bytes()).unwrap().unwrap()).unwrap();
        assert!(matches!(marker.phase, InFlightPhase::Returned { at: 1_030 }), "{marker:?}");
        // Its timer, when the sweep gets to it, finds nothing left to time out.
        let mut timers = Vec::new();
        let value = legs.memory.get(key.as_bytes()).unwrap().unwrap();
        assert_eq!(legs.p.expire(key.as_bytes(), &value, &legs.memory, 1_040, &mut timers).unwrap(), Expiry::NotDue);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_report_keyed_other_than_by_its_payment_is_dead_lettered() {
        let legs = TwoLegs::new();
        legs.send();
        let (outcome, out) =
            legs.run(InputSource::Network("HK_FPS"), b"other", &legs.report_bytes(PaymentStatus::ACCC, "E2E-9"), 30);
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(legs.dead_letter(&out).contains("must be keyed by the original transaction id"));
        assert_eq!(legs.report(PaymentStatus::ACCC, "E2E-9", 31).0, Outcome::Accepted, "the payment is untouched");
    }

    /// Decides `request` read at `offset` (keyed by its id) against `memory` at `now`.
    fn decide_at(
        p: &Processor,
        memory: &MapMemory,
        request: &AuthorizationRequest,
        offset: i64,
        now: i64,
    ) -> (Outcome, Vec<OutputRecord>) {
        decide_on(&table(), p, memory, request, offset, now)
    }

    /// Decides `request` (keyed by its partition key) with `table`.
    fn decide_on(
        table: &RoutingTable,
        p: &Processor,
        memory: &MapMemory,
        request: &AuthorizationRequest,
        offset: i64,
        now: i64,
    ) -> (Outcome, Vec<OutputRecord>) {
        let payload = p.requests.encode(request).unwrap();
        let key = request.partition_key();
        let input = InputRecord {
            source: InputSource::Requests,
            topic: "in",
            partition: 1,
            offset,
            key: Some(key.as_bytes()),
            payload: Some(&payload),
            written_at: None,
        };
        let ctx = Context { table, now_micros: now, memory };
        let mut out = Vec::new();
        let outcome = p.process_with(&input, &ctx, &mut out).unwrap();
        memory.apply(&out);
        (outcome, out)
    }

    #[test]
    fn a_repeated_request_gets_its_first_outcome_again_and_nothing_clears_twice() {
        let p = Processor::new().unwrap();
        let memory = MapMemory::default();
        let (first, out) = decide_at(&p, &memory, &request("004"), 10, 1_000);
        assert_eq!(first, Outcome::Accepted);
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::State).count(), 1);

        let retry = AuthorizationRequest { created_at: 500, ..request("004") };
        let (again, out) = decide_at(&p, &memory, &retry, 11, 2_000);
        assert_eq!(again, Outcome::Repeat);
        assert_eq!(out.iter().map(|o| o.topic).collect::<Vec<_>>(), [OutputTopic::Notifications]);
        let n = p.notifications.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.party, n.repeat), (PaymentStatus::ACCC, Party::Debtor, true));
        assert_eq!(n.notification_id, "tx-9:DEBTOR:REPEAT:1:11");
        assert!(n.reason_text.unwrap().contains("partition 1 offset 10"));
    }

    #[test]
    fn a_repeated_rejection_is_rejected_again_with_its_reason() {
        let p = Processor::new().unwrap();
        let memory = MapMemory::default();
        assert_eq!(decide_at(&p, &memory, &request("999"), 3, 1_000).0, Outcome::Rejected { reason: IsoReason::RC01 });
        let (again, out) = decide_at(&p, &memory, &request("999"), 4, 1_001);
        assert_eq!(again, Outcome::Repeat);
        let n = p.notifications.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref(), n.repeat), (PaymentStatus::RJCT, Some("RC01"), true));
    }

    #[test]
    fn a_modified_request_under_a_used_id_is_refused_with_am05_naming_the_first() {
        let p = Processor::new().unwrap();
        let memory = MapMemory::default();
        decide_at(&p, &memory, &request("004"), 10, 1_000);
        let mut modified = request("004");
        modified.amount.minor_units += 1;
        let (outcome, out) = decide_at(&p, &memory, &modified, 12, 2_000);
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert_eq!(
            out.iter().map(|o| o.topic).collect::<Vec<_>>(),
            [OutputTopic::DeadLetters, OutputTopic::Notifications],
            "no clearing, and the first request's memo is left as it is"
        );
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(d.reason_code.as_deref(), Some("AM05"));
        assert!(d.error_message.contains("first at partition 1 offset 10"), "{}", d.error_message);
        let n = p.notifications.decode(out[1].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AM05")));
        assert_eq!(n.notification_id, "tx-9:DEBTOR:DUPLICATE:1:12");
        // The original is still remembered: its exact copy is a repeat, accepted.
        let (again, out) = decide_at(&p, &memory, &request("004"), 13, 3_000);
        assert_eq!(again, Outcome::Repeat);
        assert_eq!(p.notifications.decode(out[0].payload.as_deref().unwrap()).unwrap().status, PaymentStatus::ACCC);
    }

    #[test]
    fn a_replay_of_the_first_record_is_decided_again_and_an_expired_memo_counts_for_nothing() {
        let p = Processor::new().unwrap().with_duplicate_window(std::time::Duration::from_micros(1_000));
        let memory = MapMemory::default();
        decide_at(&p, &memory, &request("004"), 10, 1_000);
        assert_eq!(decide_at(&p, &memory, &request("004"), 10, 1_500).0, Outcome::Accepted, "same record again");
        assert_eq!(decide_at(&p, &memory, &request("004"), 11, 1_999).0, Outcome::Repeat);
        // The replay remembered the request anew, from 1_500.
        assert_eq!(decide_at(&p, &memory, &request("004"), 12, 2_499).0, Outcome::Repeat);
        assert_eq!(decide_at(&p, &memory, &request("004"), 13, 2_500).0, Outcome::Accepted, "window over");
    }

    #[test]
    fn an_expired_memo_leaves_by_a_tombstone_and_a_live_one_stays() {
        let p = Processor::new().unwrap().with_duplicate_window(std::time::Duration::from_micros(1_000));
        let memory = MapMemory::default();
        let (_, out) = decide_at(&p, &memory, &request("004"), 10, 1_000);
        let state = out.iter().find(|o| o.topic == OutputTopic::State).unwrap();
        let (key, value) = (state.key.as_deref().unwrap(), state.payload.as_deref().unwrap());
        let mut expired = Vec::new();
        assert_eq!(p.expire(key, value, &memory, 1_999, &mut expired).unwrap(), Expiry::NotDue);
        assert!(expired.is_empty());
        assert_eq!(p.expire(key, value, &memory, 2_000, &mut expired).unwrap(), Expiry::Forgotten);
        assert_eq!(expired, [OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: None }]);
    }

    #[test]
    fn a_record_on_another_partition_than_its_keys_is_dead_lettered_undecided() {
        let p = Processor::new().unwrap().with_partitions(8);
        let payload = p.requests.encode(&request("004")).unwrap();
        let home = memory::home_partition(b"tx-9", 8);
        let input = |partition| InputRecord {
            source: InputSource::Requests,
            topic: "in",
            partition,
            offset: 1,
            key: Some(b"tx-9"),
            payload: Some(&payload),
            written_at: None,
        };
        let mut out = Vec::new();
        let elsewhere = p.process(&input((home + 1) % 8), &table(), 1, &mut out).unwrap();
        assert_eq!(elsewhere, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert_eq!(out.iter().map(|o| o.topic).collect::<Vec<_>>(), [OutputTopic::DeadLetters]);
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert!(d.error_message.contains(&format!("belongs on partition {home} of 8")), "{}", d.error_message);
        out.clear();
        assert_eq!(p.process(&input(home), &table(), 1, &mut out).unwrap(), Outcome::Accepted);
    }

    #[test]
    fn a_request_keyed_other_than_by_its_id_is_dead_lettered_undecided() {
        let p = Processor::new().unwrap();
        let payload = p.requests.encode(&request("004")).unwrap();
        let input = InputRecord {
            source: InputSource::Requests,
            topic: "in",
            partition: 0,
            offset: 1,
            key: Some(b"someone-else"),
            payload: Some(&payload),
            written_at: None,
        };
        let mut out = Vec::new();
        let outcome = p.process(&input, &table(), 1, &mut out).unwrap();
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert_eq!(out.iter().map(|o| o.topic).collect::<Vec<_>>(), [OutputTopic::DeadLetters]);
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert!(d.error_message.contains("keyed by their transaction id"), "{}", d.error_message);
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
            [OutputTopic::DeadLetters, OutputTopic::Notifications, OutputTopic::State]
        );
        let d = p.dead_letters.decode(out[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!((d.reason_code.as_deref(), d.transaction_id.as_deref()), (Some("AM12"), Some("tx-9")));
        let n = p.notifications.decode(out[1].payload.as_deref().unwrap()).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref()), (PaymentStatus::RJCT, Some("AM12")));
    }

    /// The test table with per-person limits on CN IBPS to HK FPS: CNY 250.00 a
    /// Shanghai day, and USD 100.00 a year converted at a named CNY/USD rate.
    fn limited_table() -> RoutingTable {
        let text = format!(
            "{}{}",
            interlink_routing::TEST_ROUTES_TOML,
            r#"
[[rates]]
name = "cny-usd"
source_currency = "CNY"
destination_currency = "USD"
rate = "0.14"

[[limits]]
id = "daily"
from = "CN_IBPS"
to = "HK_FPS"
period = "day"
time_zone = "Asia/Shanghai"
currency = "CNY"
max_amount = "250.00"

[[limits]]
id = "fx-quota"
from = "CN_IBPS"
to = "HK_FPS"
period = "year"
time_zone = "Asia/Shanghai"
currency = "USD"
max_amount = "100.00"
"#
        );
        RoutingTable::compile(5, &parse_routes_file("t", &text).unwrap()).unwrap()
    }

    /// 10:00 in Shanghai on the `day`th of December 2026, in µs.
    fn shanghai_morning(day: i64) -> i64 {
        let dec_1_0200_utc = 1_796_083_200_000_000i64 + 2 * 3_600_000_000;
        dec_1_0200_utc + (day - 1) * 86_400_000_000
    }

    fn paid_by(person: &str, tx: &str, at: i64) -> AuthorizationRequest {
        AuthorizationRequest {
            transaction_id: tx.into(),
            created_at: at,
            debtor_id: Some(interlink_schemas::PersonId::new("NIDN", "CN", person)),
            ..request("004")
        }
    }

    fn refusal(p: &Processor, out: &[OutputRecord]) -> (String, String) {
        let n = out.iter().find(|o| o.topic == OutputTopic::Notifications).expect("the debtor is told");
        let n = p.notifications.decode(n.payload.as_deref().unwrap()).unwrap();
        (n.reason_code.unwrap_or_default(), n.reason_text.unwrap_or_default())
    }

    #[test]
    fn a_person_is_held_to_the_daily_and_the_yearly_limit_on_the_local_calendar() {
        let (p, memory, table) = (Processor::new().unwrap(), MapMemory::default(), limited_table());
        let mut n = 0;
        let mut pay = |person: &str, at: i64| {
            n += 1;
            decide_on(&table, &p, &memory, &paid_by(person, &format!("tx-{n}"), at), n, at)
        };
        // CNY 100.00 each: two a day fit under CNY 250.00, the third does not.
        assert_eq!(pay("110101199003077777", shanghai_morning(1)).0, Outcome::Accepted);
        assert_eq!(pay("110101199003077777", shanghai_morning(1) + 1).0, Outcome::Accepted);
        let (third, out) = pay("110101199003077777", shanghai_morning(1) + 2);
        assert_eq!(third, Outcome::Rejected { reason: IsoReason::AM14 });
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 0);
        let alert = out.iter().find(|o| o.topic == OutputTopic::RiskAlerts).expect("the refusal, explained");
        let alert = p.risk_alerts.decode(alert.payload.as_deref().unwrap()).unwrap();
        assert_eq!((alert.rule.as_str(), alert.reason_code.as_str()), ("daily", "AM14"));
        let (code, text) = refusal(&p, &out);
        assert_eq!(alert.explanation, text);
        assert_eq!(code, "AM14");
        assert!(text.contains("limit daily (routing v5)") && text.contains("CNY 200.00 in 2 payments"), "{text}");
        assert!(text.contains("period 2026-12-01 (Asia/Shanghai)") && text.contains("over its CNY 250.00"), "{text}");
        // Another person is not affected.
        assert_eq!(pay("440301198807076666", shanghai_morning(1) + 3).0, Outcome::Accepted);
        // 23:59 in Shanghai is still the same day; midnight starts a new one.
        let midnight = shanghai_morning(2) - 10 * 3_600_000_000;
        assert_eq!(pay("110101199003077777", midnight - 60_000_000).0, Outcome::Rejected { reason: IsoReason::AM14 });
        assert_eq!(pay("110101199003077777", midnight).0, Outcome::Accepted);
        // The yearly USD 100.00 counts USD 14.00 a payment across days: 7 fit (two on
        // the 1st, one on the 2nd, two each on the 3rd and 4th), the 8th does not.
        for day in 3..=4 {
            assert_eq!(pay("110101199003077777", shanghai_morning(day)).0, Outcome::Accepted, "day {day}");
            assert_eq!(pay("110101199003077777", shanghai_morning(day) + 1).0, Outcome::Accepted, "day {day}");
        }
        let (eighth, out) = pay("110101199003077777", shanghai_morning(5));
        assert_eq!(eighth, Outcome::Rejected { reason: IsoReason::AM14 });
        let text = refusal(&p, &out).1;
        assert!(text.contains("limit fx-quota") && text.contains("USD 98.00 in 7 payments"), "{text}");
    }

    /// CN IBPS to HK FPS with one new-creditor anomaly rule (above CNY 0.01) with `action`.
    fn anomaly_table(action: &str) -> RoutingTable {
        let rule = format!(
            "\n[[anomalies]]\nid = \"new-payee\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\npattern = \"new_creditor\"\naction = \"{action}\"\ncurrency = \"CNY\"\nmin_amount = \"0.01\"\nretention_days = 30\n"
        );
        let text = format!("{}{rule}", interlink_routing::TEST_ROUTES_TOML);
        RoutingTable::compile(6, &parse_routes_file("t", &text).unwrap()).unwrap()
    }

    #[test]
    fn an_alerting_anomaly_rule_lets_the_payment_settle_and_explains_it_in_the_same_outputs() {
        let (p, memory, table) = (Processor::new().unwrap(), MapMemory::default(), anomaly_table("alert"));
        let now = shanghai_morning(1);
        let (outcome, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-1", now), 1, now);
        assert_eq!(outcome, Outcome::Accepted);
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 1);
        let alerts: Vec<_> = out.iter().filter(|o| o.topic == OutputTopic::RiskAlerts).collect();
        assert_eq!(alerts.len(), 1);
        let alert = p.risk_alerts.decode(alerts[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(
            (alert.action, alert.rule.as_str(), alert.reason_code.as_str()),
            (RiskAction::Alerted, "new-payee", "")
        );
        assert_eq!(alert.alert_id, "tx-1:RISK:ANOMALY:new-payee");
        assert!(
            alert.explanation.contains("first payment to creditor HK_FPS/004/****HK-1 in the last 30 days"),
            "{}",
            alert.explanation
        );
        // The creditor is known now: no alert for the next payment to it.
        let (outcome, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-2", now), 2, now);
        assert_eq!(outcome, Outcome::Accepted);
        assert!(out.iter().all(|o| o.topic != OutputTopic::RiskAlerts));
        // An alert-only rule cannot judge a debtor the request does not name, and lets
        // it pass unjudged; a refusing one refuses it (RR01), as a limit does.
        let anonymous = AuthorizationRequest { transaction_id: "tx-3".into(), created_at: now, ..request("004") };
        let (outcome, out) = decide_on(&table, &p, &memory, &anonymous, 3, now);
        assert_eq!(outcome, Outcome::Accepted);
        assert!(out.iter().all(|o| o.topic != OutputTopic::RiskAlerts));
        let anonymous = AuthorizationRequest { transaction_id: "tx-4".into(), ..anonymous };
        let (outcome, out) = decide_on(&anomaly_table("refuse"), &p, &memory, &anonymous, 4, now);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::RR01 });
        assert!(refusal(&p, &out).1.contains("(new-payee)"));
        // A refusing rule refuses a new creditor with FRAD, explained, and counts nothing.
        let (outcome, out) =
            decide_on(&anomaly_table("refuse"), &p, &memory, &paid_by("440301198807076666", "tx-5", now), 5, now);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::FRAD });
        assert!(out.iter().all(|o| o.topic != OutputTopic::State || o.key.as_deref().is_some_and(|k| k[0] == b'r')));
    }

    /// Runs an operator's review of the payment `tx` of `request("004")`'s debtor at `now`.
    fn review_on(
        table: &RoutingTable,
        p: &Processor,
        memory: &MapMemory,
        review_key: &str,
        tx: &str,
        verdict: crate::review::ReviewVerdict,
        now: i64,
    ) -> (Outcome, Vec<OutputRecord>) {
        let review = ReviewCommand {
            debtor_network: "CN_IBPS".into(),
            debtor_institution: request("004").debtor_agent.institution_id,
            transaction_id: tx.into(),
            verdict,
            operator: "ops-7".into(),
            note: "called the customer".into(),
            decided_at: now,
        };
        let payload = review.encode().unwrap();
        let input = InputRecord {
            source: InputSource::Forwards,
            topic: "fwd",
            partition: 1,
            offset: now,
            key: Some(review_key.as_bytes()),
            payload: Some(&payload),
            written_at: None,
        };
        let ctx = Context { table, now_micros: now, memory };
        let mut out = Vec::new();
        let outcome = p.process_with(&input, &ctx, &mut out).unwrap();
        memory.apply(&out);
        (outcome, out)
    }

    fn alerts_of(p: &Processor, out: &[OutputRecord]) -> Vec<RiskAlert> {
        let alerts = out.iter().filter(|o| o.topic == OutputTopic::RiskAlerts);
        alerts.map(|o| p.risk_alerts.decode(o.payload.as_deref().unwrap()).unwrap()).collect()
    }

    fn debtor_note(p: &Processor, out: &[OutputRecord]) -> Notification {
        let notes = out.iter().filter(|o| o.topic == OutputTopic::Notifications);
        let notes: Vec<_> = notes.map(|o| p.notifications.decode(o.payload.as_deref().unwrap()).unwrap()).collect();
        notes.into_iter().find(|n| n.party == Party::Debtor).expect("the debtor is told")
    }

    #[test]
    fn a_held_payment_waits_for_its_review_and_ends_approved_refused_or_at_its_deadline() {
        use crate::review::ReviewVerdict::{Approve, Refuse};
        let p = Processor::new().unwrap().with_review(std::time::Duration::from_secs(600), false);
        let (memory, table) = (MapMemory::default(), anomaly_table("hold"));
        let now = shanghai_morning(1);
        let hold = |person: &str, tx: &str, offset: i64| {
            let (outcome, out) = decide_on(&table, &p, &memory, &paid_by(person, tx, now), offset, now);
            assert_eq!(outcome, Outcome::Held, "{tx}");
            assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 0, "nothing cleared yet");
            let note = debtor_note(&p, &out);
            assert_eq!((note.status, note.reason_code.as_deref()), (PaymentStatus::PDNG, None));
            assert!(!note.reason_text.as_deref().unwrap().contains("creditor"), "the rule's figures stay unsaid");
            let alerts = alerts_of(&p, &out);
            assert_eq!(alerts.len(), 1);
            let held = &alerts[0];
            assert_eq!(
                (held.action, held.control, held.rule.as_str()),
                (RiskAction::Held, RiskControl::Anomaly, "new-payee")
            );
            assert_eq!(held.review_deadline, Some(now + 600_000_000));
            held.review_key.clone().expect("the key a review travels under")
        };

        // Approved: decided again with the hold passed, settled once, the rule's profile learnt.
        let key = hold("110101199003077777", "tx-1", 1);
        let (again, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-1", now), 9, now + 1);
        assert_eq!(again, Outcome::Repeat);
        assert_eq!(debtor_note(&p, &out).status, PaymentStatus::PDNG, "a repeat while held is told it is pending");
        let (approved, out) = review_on(&table, &p, &memory, &key, "tx-1", Approve, now + 5);
        assert_eq!(approved, Outcome::Accepted);
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 1);
        assert_eq!(debtor_note(&p, &out).status, PaymentStatus::ACCC);
        let alerts = alerts_of(&p, &out);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].action, RiskAction::Approved);
        assert!(alerts[0].explanation.contains("ops-7: called the customer"), "{}", alerts[0].explanation);
        let (repeat, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-1", now), 10, now + 6);
        assert_eq!(repeat, Outcome::Repeat);
        assert_eq!(debtor_note(&p, &out).status, PaymentStatus::ACCC, "the memo has the final outcome");
        // The same review again finds nothing held: dead-lettered, nothing cleared.
        let (twice, out) = review_on(&table, &p, &memory, &key, "tx-1", Approve, now + 7);
        assert_eq!(twice, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 0);
        // The creditor is known now: the next payment to it is not held.
        let (next, _) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-2", now), 11, now + 8);
        assert_eq!(next, Outcome::Accepted);

        // Refused by the operator: RJCT with the rule's reason, nothing cleared or learnt.
        let key = hold("440301198807076666", "tx-3", 12);
        let (refused, out) = review_on(&table, &p, &memory, &key, "tx-3", Refuse, now + 9);
        assert_eq!(refused, Outcome::Rejected { reason: IsoReason::FRAD });
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 0);
        let note = debtor_note(&p, &out);
        assert_eq!((note.status, note.reason_code.as_deref()), (PaymentStatus::RJCT, Some("FRAD")));
        assert_eq!(alerts_of(&p, &out)[0].action, RiskAction::Refused);

        // Not reviewed by its deadline: refused when the held entry comes due, and only then.
        let key = hold("510104198001011234", "tx-4", 13);
        let held = HeldKey::new("CN_IBPS", &request("004").debtor_agent.institution_id, "tx-4");
        let value = memory.get(held.as_bytes()).unwrap().expect("kept until reviewed");
        let mut out = Vec::new();
        assert_eq!(p.expire(held.as_bytes(), &value, &memory, now + 599_000_000, &mut out).unwrap(), Expiry::NotDue);
        assert!(out.is_empty());
        assert_eq!(
            p.expire(held.as_bytes(), &value, &memory, now + 600_000_000, &mut out).unwrap(),
            Expiry::ReviewTimedOut
        );
        memory.apply(&out);
        let note = debtor_note(&p, &out);
        assert_eq!((note.status, note.reason_code.as_deref()), (PaymentStatus::RJCT, Some("FRAD")));
        assert!(note.reason_text.unwrap().contains("not reviewed by its deadline (600 s)"));
        assert!(memory.get(held.as_bytes()).unwrap().is_none(), "the hold is over");
        let (late, _) = review_on(&table, &p, &memory, &key, "tx-4", Approve, now + 600_000_001);
        assert_eq!(
            late,
            Outcome::DeadLettered { kind: ErrorKind::Validation },
            "a review after the deadline changes nothing"
        );
    }

    #[test]
    fn a_held_request_that_cannot_be_read_again_stays_held_on_approval_and_is_refused_at_its_deadline() {
        use crate::review::ReviewVerdict::Approve;
        let p = Processor::new().unwrap().with_review(std::time::Duration::from_secs(60), false);
        let (memory, table) = (MapMemory::default(), anomaly_table("hold"));
        let now = shanghai_morning(1);
        let (outcome, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-u", now), 1, now);
        assert_eq!(outcome, Outcome::Held);
        let key = alerts_of(&p, &out).remove(0).review_key.unwrap();
        // As if the request's writer schema were unknown to a worker started since.
        let held_key = HeldKey::new("CN_IBPS", &request("004").debtor_agent.institution_id, "tx-u");
        let mut held = crate::review::HeldPayment::decode(&memory.get(held_key.as_bytes()).unwrap().unwrap()).unwrap();
        held.request = vec![0, 0, 0, 0x7f, 0x7f, 2, 4];
        let rewritten = OutputRecord {
            topic: OutputTopic::State,
            key: Some(held_key.as_bytes().to_vec()),
            payload: Some(held.encode().unwrap()),
        };
        memory.apply(&[rewritten]);
        let (approved, out) = review_on(&table, &p, &memory, &key, "tx-u", Approve, now + 5);
        assert_eq!(approved, Outcome::DeadLettered { kind: ErrorKind::Decode });
        assert!(out.iter().all(|o| o.topic != OutputTopic::Clearing && o.topic != OutputTopic::State));
        let value = memory.get(held_key.as_bytes()).unwrap().expect("still held");
        let mut out = Vec::new();
        let at = now + 60_000_000;
        assert_eq!(p.expire(held_key.as_bytes(), &value, &memory, at, &mut out).unwrap(), Expiry::ReviewTimedOut);
        let note = debtor_note(&p, &out);
        assert_eq!((note.status, note.reason_code.as_deref()), (PaymentStatus::RJCT, Some("FRAD")));
        assert_eq!(note.transaction_id, "tx-u");
        memory.apply(&out);
        let (repeat, out) = decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-u", now), 9, at + 1);
        assert_eq!(repeat, Outcome::Repeat);
        assert_eq!(debtor_note(&p, &out).status, PaymentStatus::RJCT, "the memo has the refusal");
    }

    #[test]
    fn a_sanctions_hit_held_for_review_is_not_screened_again_once_approved() {
        use crate::review::ReviewVerdict::{Approve, Refuse};
        let sdn = "1001,\"TARKAZI, Muhammad Yusuf\",\"individual\",\"SYN-A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        let list = interlink_screening::ofac::parse_sdn(sdn.as_bytes()).unwrap();
        let screener = Arc::new(interlink_screening::Screener::new(&list));
        let p = Processor::new().unwrap().with_screener(screener).with_review(std::time::Duration::from_secs(60), true);
        let (memory, table) = (MapMemory::default(), table());
        let listed = |tx: &str| AuthorizationRequest {
            transaction_id: tx.into(),
            creditor_name: Some("Mohammed Yousef Tarkazi".into()),
            ..request("004")
        };
        let (outcome, out) = decide_on(&table, &p, &memory, &listed("tx-s1"), 1, 1_000);
        assert_eq!(outcome, Outcome::Held);
        let held = alerts_of(&p, &out).remove(0);
        assert_eq!(
            (held.action, held.control, held.rule.as_str()),
            (RiskAction::Held, RiskControl::Sanctions, "OFAC-1001")
        );
        assert!(!debtor_note(&p, &out).reason_text.unwrap().contains("TARKAZI"), "no tipping off");
        let key = held.review_key.unwrap();
        let (approved, out) = review_on(&table, &p, &memory, &key, "tx-s1", Approve, 2_000);
        assert_eq!(approved, Outcome::Accepted, "a reviewed false positive settles");
        assert_eq!(out.iter().filter(|o| o.topic == OutputTopic::Clearing).count(), 1);
        // Refused after review: RR04, the sanctions reason.
        let (outcome, out) = decide_on(&table, &p, &memory, &listed("tx-s2"), 2, 3_000);
        assert_eq!(outcome, Outcome::Held);
        let key = alerts_of(&p, &out).remove(0).review_key.unwrap();
        let (refused, _) = review_on(&table, &p, &memory, &key, "tx-s2", Refuse, 4_000);
        assert_eq!(refused, Outcome::Rejected { reason: IsoReason::RR04 });
        // Configured to refuse, the same hit is refused at once.
        let refusing = Processor::new().unwrap().with_screener(p.screener.clone().unwrap());
        let (outcome, _) = decide_on(&table, &refusing, &MapMemory::default(), &listed("tx-s3"), 3, 5_000);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::RR04 });
    }

    #[test]
    fn a_payment_that_goes_ahead_is_counted_at_its_creditors_partition_and_a_mule_alerts_there() {
        let rule = "\n[[anomalies]]\nid = \"mule\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\npattern = \"many_debtors\"\naction = \"alert\"\ncurrency = \"CNY\"\nmin_amount = \"10.00\"\nmin_debtors = 3\nwindow_seconds = 600\nnew_for_days = 7\n";
        let text = format!("{}{rule}", interlink_routing::TEST_ROUTES_TOML);
        let table = RoutingTable::compile(8, &parse_routes_file("t", &text).unwrap()).unwrap();
        let (p, memory) = (Processor::new().unwrap(), MapMemory::default());
        let mut alerts = Vec::new();
        for d in 1..=4 {
            let paying = AuthorizationRequest {
                transaction_id: format!("tx-m{d}"),
                debtor_account: format!("62220202001100{d}"),
                ..request("004")
            };
            let (outcome, out) = decide_on(&table, &p, &memory, &paying, d, 1_000 + d);
            assert_eq!(outcome, Outcome::Accepted, "the payment itself is not held up");
            let seen: Vec<_> = out.iter().filter(|o| o.topic == OutputTopic::Forwards).collect();
            assert_eq!(seen.len(), 1, "one record for the creditor's partition, in the payment's transaction");
            let digest = party_watch::creditor_digest("HK_FPS", "004", Some("HK-1"));
            assert_eq!(seen[0].key.as_deref(), Some(digest.as_bytes()), "keyed by the creditor's digest");
            let input = InputRecord {
                source: InputSource::Forwards,
                topic: "fwd",
                partition: 0,
                offset: d,
                key: seen[0].key.as_deref(),
                payload: seen[0].payload.as_deref(),
                written_at: None,
            };
            let ctx = Context { table: &table, now_micros: 2_000 + d, memory: &memory };
            let mut counted = Vec::new();
            assert_eq!(p.process_with(&input, &ctx, &mut counted).unwrap(), Outcome::CreditorCounted);
            memory.apply(&counted);
            alerts.extend(alerts_of(&p, &counted));
        }
        // The third debtor fires it; the fourth, inside the same window, does not again.
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            (a.transaction_id.as_str(), a.control, a.action, a.rule.as_str()),
            ("tx-m3", RiskControl::Anomaly, RiskAction::Alerted, "mule")
        );
        assert!(a.explanation.contains("was paid by 3 different debtors in the last 600 s"), "{}", a.explanation);
        assert!(a.explanation.contains("HK_FPS/004/****HK-1"), "the account masked: {}", a.explanation);
    }

    #[test]
    fn a_limited_corridor_needs_the_debtor_named_and_a_current_time() {
        let (p, memory, limited) = (Processor::new().unwrap(), MapMemory::default(), limited_table());
        let now = shanghai_morning(1);
        let anonymous = AuthorizationRequest { created_at: now, ..request("004") };
        let (outcome, out) = decide_on(&limited, &p, &memory, &anonymous, 1, now);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::RR01 });
        assert!(refusal(&p, &out).1.contains("daily, fx-quota"));
        // Stamped a day early, it would count in yesterday's limit.
        let stale = paid_by("110101199003077777", "tx-old", now - 86_400_000_000);
        let (outcome, out) = decide_on(&limited, &p, &memory, &stale, 2, now);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::DT01 });
        assert!(refusal(&p, &out).1.contains("86400 s from the switch's clock"));
        // Unlimited corridors need neither.
        let anonymous = AuthorizationRequest { transaction_id: "tx-unlimited".into(), ..anonymous };
        let (outcome, _) = decide_on(&table(), &p, &memory, &anonymous, 3, now);
        assert_eq!(outcome, Outcome::Accepted);
    }

    #[test]
    fn a_repeat_counts_nothing_and_a_record_keyed_by_id_instead_of_person_is_refused_undecided() {
        let (p, memory, table) = (Processor::new().unwrap(), MapMemory::default(), limited_table());
        let now = shanghai_morning(1);
        let first = paid_by("110101199003077777", "tx-1", now);
        assert_eq!(decide_on(&table, &p, &memory, &first, 1, now).0, Outcome::Accepted);
        for offset in 2..5 {
            assert_eq!(decide_on(&table, &p, &memory, &first, offset, now).0, Outcome::Repeat);
        }
        assert_eq!(
            decide_on(&table, &p, &memory, &paid_by("110101199003077777", "tx-2", now), 5, now).0,
            Outcome::Accepted
        );

        let payload = p.requests.encode(&paid_by("110101199003077777", "tx-3", now)).unwrap();
        let input = InputRecord {
            source: InputSource::Requests,
            topic: "in",
            partition: 1,
            offset: 6,
            key: Some(b"tx-3"),
            payload: Some(&payload),
            written_at: None,
        };
        let mut out = Vec::new();
        let ctx = Context { table: &table, now_micros: now, memory: &memory };
        let outcome = p.process_with(&input, &ctx, &mut out).unwrap();
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Validation });
        assert!(out.iter().all(|o| o.topic != OutputTopic::State && o.topic != OutputTopic::Clearing));
    }

    #[test]
    fn what_a_refused_or_timed_out_payment_counted_is_given_back_at_the_persons_partition() {
        let mut legs = TwoLegs::new();
        legs.table = limited_table();
        let now = shanghai_morning(1);
        let person = paid_by("110101199003077777", "tx-9", now);
        let person_key = person.partition_key().into_owned();
        let usage = || {
            let key = memory::UsageKey::new(&person_key);
            let usage = memory::PersonUsage::decode(&legs.memory.get(key.as_bytes()).unwrap()?).unwrap();
            let daily = memory::UsageOf::new("daily", "2026-12-01", "CNY");
            usage.lines.iter().find(|l| l.of == daily).map(|l| l.used_minor)
        };
        let request_bytes = legs.p.requests.encode(&person).unwrap();
        let (outcome, out) = legs.run(InputSource::Requests, person_key.as_bytes(), &request_bytes, now);
        assert_eq!(outcome, Outcome::Forwarded);
        assert_eq!(usage(), Some(10_000), "held while in flight");
        let forward = out.iter().find(|o| o.topic == OutputTopic::Forwards).unwrap();
        assert_eq!(
            legs.run(InputSource::Forwards, b"tx-9", forward.payload.as_deref().unwrap(), now + 1).0,
            Outcome::Sent
        );

        let rjct = legs.report_bytes(PaymentStatus::RJCT, "E2E-9");
        let (outcome, out) = legs.run(InputSource::Network("HK_FPS"), b"tx-9", &rjct, now + 2);
        assert!(matches!(outcome, Outcome::Rejected { .. }), "{outcome:?}");
        let release = out.iter().find(|o| o.topic == OutputTopic::Forwards).expect("a release");
        assert_eq!(release.key.as_deref(), Some(person_key.as_bytes()), "to the person's partition");
        assert_eq!(usage(), Some(10_000), "given back only where the person's state is");
        let released =
            legs.run(InputSource::Forwards, person_key.as_bytes(), release.payload.as_deref().unwrap(), now + 3);
        assert_eq!(released.0, Outcome::LimitReleased);
        assert_eq!(usage(), Some(0));

        // A second payment that its network never answers: released when it times out.
        let second = paid_by("110101199003077777", "tx-10", now);
        let bytes = legs.p.requests.encode(&second).unwrap();
        let (_, out) = legs.run(InputSource::Requests, person_key.as_bytes(), &bytes, now + 4);
        let forward = out.iter().find(|o| o.topic == OutputTopic::Forwards).unwrap();
        legs.run(InputSource::Forwards, b"tx-10", forward.payload.as_deref().unwrap(), now + 5);
        assert_eq!(usage(), Some(10_000));
        let key = InFlightKey::new("HK_FPS", "tx-10");
        let value = legs.memory.get(key.as_bytes()).unwrap().unwrap();
        let mut out = Vec::new();
        assert_eq!(
            legs.p.expire(key.as_bytes(), &value, &legs.memory, now + 1_000_000, &mut out).unwrap(),
            Expiry::TimedOut
        );
        let release = out.iter().find(|o| o.topic == OutputTopic::Forwards).expect("a release on timeout");
        legs.run(InputSource::Forwards, person_key.as_bytes(), release.payload.as_deref().unwrap(), now + 6);
        assert_eq!(usage(), Some(0));
    }

    /// ICBC may owe CNY 250.00 (200 cap + 50 prefunded), netted in CNY cycles at 10:00
    /// and 16:00 Shanghai time.
    fn capped_table() -> RoutingTable {
        let text = format!(
            "{}{}",
            interlink_routing::TEST_ROUTES_TOML,
            r#"
[[settlement]]
currency = "CNY"
time_zone = "Asia/Shanghai"
cut_offs = ["10:00", "16:00"]
business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[[settlement]]
currency = "HKD"
time_zone = "Asia/Hong_Kong"
cut_offs = ["16:00"]
business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[[caps]]
network = "CN_IBPS"
institution_id = "102100099996"
currency = "CNY"
net_debit_cap = "200.00"
prefunded = "50.00"
"#
        );
        RoutingTable::compile(4, &interlink_routing::parse_routes_file("t", &text).unwrap()).unwrap()
    }

    /// 2026-12-01 09:00 Shanghai, in µs.
    const NINE_SHANGHAI: i64 = 1_796_086_800_000_000;

    #[test]
    fn a_payment_that_would_pass_the_debtors_net_debit_cap_is_refused_and_a_cut_off_restores_it() {
        let (p, memory, table) = (Processor::new().unwrap(), MapMemory::default(), capped_table());
        let pay = |tx: &str, minor: i64, at: i64| {
            let r =
                AuthorizationRequest { transaction_id: tx.into(), amount: Amount::new(minor, "CNY"), ..request("004") };
            decide_on(&table, &p, &memory, &r, at, at)
        };
        assert_eq!(pay("c1", 10_000, NINE_SHANGHAI).0, Outcome::Accepted);
        assert_eq!(pay("c2", 15_000, NINE_SHANGHAI + 1).0, Outcome::Accepted, "exactly at the cap");
        let (outcome, out) = pay("c3", 1, NINE_SHANGHAI + 2);
        assert_eq!(outcome, Outcome::Rejected { reason: IsoReason::AM04 });
        assert!(out.iter().all(|o| o.topic != OutputTopic::Clearing));
        let note = p
            .notifications
            .decode(out.iter().find(|o| o.topic == OutputTopic::Notifications).unwrap().payload.as_ref().unwrap())
            .unwrap();
        assert!(
            note.reason_text.as_deref().is_some_and(|t| t.contains("position -250.00 here, payment 0.01")),
            "{note:?}"
        );
        // The 10:00 cut-off closes the cycle: the position starts again from zero.
        let ten = NINE_SHANGHAI + 3_600_000_000;
        let ctx = Context { table: &table, now_micros: ten, memory: &memory };
        let mut closed = Vec::new();
        p.close_cycles(ctx.table, &memory, 1, ten, &mut closed).unwrap();
        memory.apply(&closed);
        assert_eq!(pay("c4", 25_000, ten + 1).0, Outcome::Accepted);
        assert_eq!(pay("c5", 1, ten + 2).0, Outcome::Rejected { reason: IsoReason::AM04 });
    }

    #[test]
    fn a_payment_in_flight_holds_its_debit_against_the_cap_until_its_network_answers() {
        let mut legs = TwoLegs::new();
        legs.table = capped_table();
        let run = |legs: &TwoLegs, tx: &str, minor: i64, at: i64| {
            let r =
                AuthorizationRequest { transaction_id: tx.into(), amount: Amount::new(minor, "CNY"), ..request("004") };
            let (_, out) = legs.run(InputSource::Requests, tx.as_bytes(), &legs.p.requests.encode(&r).unwrap(), at);
            let forward = out.iter().find(|o| o.topic == OutputTopic::Forwards).expect("forwarded");
            legs.run(InputSource::Forwards, tx.as_bytes(), forward.payload.as_deref().unwrap(), at).0
        };
        let answer = |tx: &str, status: PaymentStatus, at: i64| {
            let hk = interlink_connectors::connector("HK_FPS").unwrap();
            let report = hk
                .encode_status(&CanonicalStatus {
                    message_id: format!("S-{tx}"),
                    created_at: 1_700_000_000_000_000,
                    original_message_id: tx.into(),
                    original_end_to_end_id: "E2E-9".into(),
                    original_transaction_id: tx.into(),
                    original_uetr: None,
                    status,
                    reason: None,
                    additional_info: None,
                    instructing_agent: None,
                    instructed_agent: None,
                    original_amount: None,
                })
                .unwrap();
            legs.run(InputSource::Network("HK_FPS"), tx.as_bytes(), &report, at).0
        };
        let at = NINE_SHANGHAI;
        assert_eq!(run(&legs, "tx-9", 20_000, at), Outcome::Sent);
        // CNY 200 held in flight: another 60 would pass the 250.
        assert_eq!(run(&legs, "tx-8", 6_000, at + 1), Outcome::Rejected { reason: IsoReason::AM04 });
        // The network refuses tx-9: its hold is given back and 60 fits.
        assert_eq!(answer("tx-9", PaymentStatus::RJCT, at + 2), Outcome::Rejected { reason: IsoReason::NARR });
        assert_eq!(run(&legs, "tx-7", 6_000, at + 3), Outcome::Sent);
        // Settled, tx-7's debit counts in the cycle instead of its hold: 190 more fit, not 191.
        assert_eq!(answer("tx-7", PaymentStatus::ACCC, at + 4), Outcome::Accepted);
        assert_eq!(run(&legs, "tx-6", 19_100, at + 5), Outcome::Rejected { reason: IsoReason::AM04 });
        assert_eq!(run(&legs, "tx-5", 19_000, at + 6), Outcome::Sent);
        // tx-5 times out: its hold is given back with the AB05.
        let key = InFlightKey::new("HK_FPS", "tx-5");
        let value = legs.memory.get(key.as_bytes()).unwrap().unwrap();
        let mut out = Vec::new();
        let deadline = at + 6 + 1_000;
        assert_eq!(legs.p.expire(key.as_bytes(), &value, &legs.memory, deadline, &mut out).unwrap(), Expiry::TimedOut);
        legs.memory.apply(&out);
        assert_eq!(run(&legs, "tx-4", 19_000, deadline + 1), Outcome::Sent);
    }
}
