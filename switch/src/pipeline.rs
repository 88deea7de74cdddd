//! The switch's decision for one input record, as pure code: decode, validate, route,
//! and build the output records. The Kafka edge (`crate::kafka`) only moves bytes.

use crate::qr_gateway::{self, QrRejection};
use crate::routing::{Route, RoutingTable};
use crate::validate::{validate, CreditorAddress, ValidationError};
use interlink_schemas::{
    Agent, AuthorizationRequest, ClearingRecord, Codec, CodecError, DeadLetter, ErrorKind, Notification, Party,
    TransactionStatus,
};

/// Where an output record goes; the edge maps it to a configured topic name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputTopic {
    Clearing,
    Notifications,
    DeadLetters,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    pub topic: OutputTopic,
    /// The request's transaction id where known, so a request's outputs share a key.
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

/// An input record with where it came from.
#[derive(Debug, Clone, Copy)]
pub struct InputRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Routed: a clearing record and an ACCC notification for each side.
    Accepted,
    /// Not routable: an RJCT notification to the debtor with this reason.
    Rejected { reason_code: &'static str },
    /// Unreadable or invalid: a dead letter (and, when the debtor is known, an RJCT).
    DeadLettered { kind: ErrorKind },
}

impl Outcome {
    /// Label used in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::DeadLettered { .. } => "dead_lettered",
        }
    }
}

/// Encoding one of our own records failed: a bug, never caused by input.
#[derive(Debug, thiserror::Error)]
#[error("encoding an output record: {0}")]
pub struct OutputEncodeError(#[from] CodecError);

/// Decides and encodes. Build once per worker: the codecs hold resolved schemas.
pub struct Processor {
    requests: Codec<AuthorizationRequest>,
    clearing: Codec<ClearingRecord>,
    notifications: Codec<Notification>,
    dead_letters: Codec<DeadLetter>,
}

impl Processor {
    pub fn new() -> Result<Self, CodecError> {
        Ok(Self {
            requests: Codec::new()?,
            clearing: Codec::new()?,
            notifications: Codec::new()?,
            dead_letters: Codec::new()?,
        })
    }

    /// Processes one input record against `table`, appending its outputs to `out`.
    pub fn process(
        &self,
        input: &InputRecord<'_>,
        table: &RoutingTable,
        now_micros: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, OutputEncodeError> {
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
        let address = match validate(&request) {
            Ok(a) => a,
            Err(ValidationError { reason_code, message }) => {
                let kind = ErrorKind::Validation;
                let tx = Some(request.transaction_id.as_str());
                self.dead_letter(
                    input,
                    kind,
                    format!("invalid AuthorizationRequest: {message}"),
                    Some(reason_code),
                    tx,
                    now_micros,
                    out,
                )?;
                self.reject(&request, reason_code, &message, 0, now_micros, out)?;
                return Ok(Outcome::DeadLettered { kind });
            }
        };
        let (creditor, qr_merchant) = match address {
            CreditorAddress::Agent(a) => (a.clone(), None),
            CreditorAddress::QrPayload(payload) => match qr_gateway::find_merchant(table, payload) {
                Ok(m) => (m.creditor.clone(), Some(m)),
                Err(QrRejection::Malformed(e)) => {
                    // An unreadable code is bad input: kept in the DLQ, and the payer told why.
                    let (kind, code) = (ErrorKind::Validation, "FF01");
                    let message = format!("invalid QR code: {e}");
                    let tx = Some(request.transaction_id.as_str());
                    self.dead_letter(input, kind, message.clone(), Some(code), tx, now_micros, out)?;
                    self.reject(&request, code, &message, table.version(), now_micros, out)?;
                    return Ok(Outcome::DeadLettered { kind });
                }
                Err(rejection) => {
                    let code = rejection.reason_code();
                    self.reject(&request, code, &rejection.to_string(), table.version(), now_micros, out)?;
                    return Ok(Outcome::Rejected { reason_code: code });
                }
            },
            CreditorAddress::Alias => {
                // Alias resolution belongs to the destination network's directory
                // (acmt.023/024); until it is wired, such requests are refused, never dropped.
                let (code, text) = ("AG03", "creditor addressing by alias is not enabled on this switch");
                self.reject(&request, code, text, table.version(), now_micros, out)?;
                return Ok(Outcome::Rejected { reason_code: code });
            }
        };
        let decided = table
            .resolve(&request.debtor_agent, &creditor, &request.amount, now_micros)
            .map_err(|r| (r.reason_code(), r.to_string()))
            .and_then(|mut route| match &qr_merchant {
                None => Ok(route),
                Some(m) => {
                    route.credit_minor_units = qr_gateway::credit_amount(m, &route, request.amount.minor_units)
                        .map_err(|r| (r.reason_code(), r.to_string()))?;
                    Ok(route)
                }
            });
        match decided {
            Ok(route) => {
                self.accept(&request, &route, table.version(), now_micros, out)?;
                Ok(Outcome::Accepted)
            }
            Err((code, text)) => {
                self.reject(&request, code, &text, table.version(), now_micros, out)?;
                Ok(Outcome::Rejected { reason_code: code })
            }
        }
    }

    fn accept(
        &self,
        req: &AuthorizationRequest,
        route: &Route<'_>,
        version: i64,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let creditor_agent = Agent::new(&route.creditor.network, &route.creditor.institution_id);
        let corridor = &route.corridor.rule;
        let clearing = ClearingRecord {
            transaction_id: req.transaction_id.clone(),
            end_to_end_id: req.end_to_end_id.clone(),
            debtor_agent: req.debtor_agent.clone(),
            debtor_account: req.debtor_account.clone(),
            creditor_agent: creditor_agent.clone(),
            creditor_account: req.creditor_account.clone(),
            debit_amount: req.amount.clone(),
            credit_amount: interlink_schemas::Amount::new(route.credit_minor_units, &corridor.destination_currency),
            fx_rate: route.corridor.fx_rate_text.to_string(),
            quote_id: route.corridor.quote_id.to_string(),
            corridor: route.corridor.id.to_string(),
            routing_version: version,
            request_created_at: req.created_at,
            cleared_at: now,
        };
        let key = Some(req.transaction_id.as_bytes().to_vec());
        out.push(OutputRecord {
            topic: OutputTopic::Clearing,
            key: key.clone(),
            payload: self.clearing.encode(&clearing)?,
        });
        for (party, agent, amount) in [
            (Party::Debtor, req.debtor_agent.clone(), req.amount.clone()),
            (Party::Creditor, creditor_agent, clearing.credit_amount.clone()),
        ] {
            let note = notification(req, party, agent, amount, TransactionStatus::ACCC, None, None, version, now);
            out.push(OutputRecord {
                topic: OutputTopic::Notifications,
                key: key.clone(),
                payload: self.notifications.encode(&note)?,
            });
        }
        Ok(())
    }

    fn reject(
        &self,
        req: &AuthorizationRequest,
        code: &str,
        text: &str,
        version: i64,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let note = notification(
            req,
            Party::Debtor,
            req.debtor_agent.clone(),
            req.amount.clone(),
            TransactionStatus::RJCT,
            Some(code.to_string()),
            Some(text.to_string()),
            version,
            now,
        );
        out.push(OutputRecord {
            topic: OutputTopic::Notifications,
            key: Some(req.transaction_id.as_bytes().to_vec()),
            payload: self.notifications.encode(&note)?,
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn dead_letter(
        &self,
        input: &InputRecord<'_>,
        kind: ErrorKind,
        message: String,
        reason_code: Option<&str>,
        transaction_id: Option<&str>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), OutputEncodeError> {
        let dead = DeadLetter {
            source_topic: input.topic.to_string(),
            source_partition: input.partition,
            source_offset: input.offset,
            original_key: input.key.map(<[u8]>::to_vec),
            original_value: input.payload.map(<[u8]>::to_vec),
            error_kind: kind,
            error_message: message,
            reason_code: reason_code.map(str::to_string),
            transaction_id: transaction_id.map(str::to_string),
            dead_lettered_at: now,
        };
        out.push(OutputRecord {
            topic: OutputTopic::DeadLetters,
            key: input.key.map(<[u8]>::to_vec),
            payload: self.dead_letters.encode(&dead)?,
        });
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn notification(
    req: &AuthorizationRequest,
    party: Party,
    agent: Agent,
    amount: interlink_schemas::Amount,
    status: TransactionStatus,
    reason_code: Option<String>,
    reason_text: Option<String>,
    version: i64,
    now: i64,
) -> Notification {
    let side = match party {
        Party::Debtor => "DEBTOR",
        Party::Creditor => "CREDITOR",
    };
    Notification {
        notification_id: format!("{}:{side}", req.transaction_id),
        transaction_id: req.transaction_id.clone(),
        end_to_end_id: req.end_to_end_id.clone(),
        party,
        agent,
        status,
        reason_code,
        reason_text,
        amount,
        routing_version: version,
        request_created_at: req.created_at,
        emitted_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::parse_routes_file;
    use interlink_schemas::{Amount, Channel};

    fn table() -> RoutingTable {
        RoutingTable::compile(4, &parse_routes_file("t", crate::routing::TEST_ROUTES_TOML).unwrap()).unwrap()
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
        let input = InputRecord { topic: "in", partition: 2, offset: 77, key: Some(b"tx-9"), payload: Some(payload) };
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
        let c = p.clearing.decode(&out[0].payload).unwrap();
        assert_eq!(c.credit_amount, Amount::new(10_845, "HKD"));
        assert_eq!((c.routing_version, c.cleared_at, c.fx_rate.as_str()), (4, 99, "1.0845"));
        assert_eq!(c.quote_id, "CN_IBPS>HK_FPS:CNY-HKD@v4");
        let creditor = p.notifications.decode(&out[2].payload).unwrap();
        assert_eq!(creditor.notification_id, "tx-9:CREDITOR");
        assert_eq!((creditor.status, creditor.agent.institution_id.as_str()), (TransactionStatus::ACCC, "004"));
        assert_eq!(creditor.amount, Amount::new(10_845, "HKD"));
        assert!(out.iter().all(|o| o.key.as_deref() == Some(&b"tx-9"[..])));
    }

    #[test]
    fn an_unknown_creditor_is_rejected_with_rc01_and_no_clearing() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, &p.requests.encode(&request("999")).unwrap());
        assert_eq!(outcome, Outcome::Rejected { reason_code: "RC01" });
        assert_eq!(out.len(), 1);
        let n = p.notifications.decode(&out[0].payload).unwrap();
        assert_eq!(
            (n.status, n.reason_code.as_deref(), n.party),
            (TransactionStatus::RJCT, Some("RC01"), Party::Debtor)
        );
        assert_eq!(n.routing_version, 4);
    }

    #[test]
    fn garbage_is_dead_lettered_with_its_bytes_and_origin() {
        let p = Processor::new().unwrap();
        let (outcome, out) = run(&p, b"\x00\x00\x00\x00\x65garbage");
        assert_eq!(outcome, Outcome::DeadLettered { kind: ErrorKind::Decode });
        assert_eq!(out.len(), 1);
        let d = p.dead_letters.decode(&out[0].payload).unwrap();
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
        let d = p.dead_letters.decode(&out[0].payload).unwrap();
        assert_eq!((d.reason_code.as_deref(), d.transaction_id.as_deref()), (Some("AM12"), Some("tx-9")));
        let n = p.notifications.decode(&out[1].payload).unwrap();
        assert_eq!((n.status, n.reason_code.as_deref()), (TransactionStatus::RJCT, Some("AM12")));
    }
}
