//! Holding a payment for an operator's review, and the end of a hold: the review's
//! verdict or its deadline (see [`crate::review`]).

use super::{
    About, Answer, Decision, InputRecord, InputSource, Outcome, OutputRecord, OutputTopic, Processor, RiskRefusal,
    Undecided,
};
use crate::memory::{self, MemoryError, RecordPlace, RequestKey, RequestMemo};
use crate::pipeline::Context;
use crate::review::{HeldKey, HeldPayment, ReviewCommand, ReviewVerdict};
use interlink_routing::Route;
use interlink_schemas::{Agent, AuthorizationRequest, ErrorKind, Party, RiskAction, RiskAlert};
use interlink_vocab::{IsoReason, PaymentStatus};

/// How a hold ended: an operator's review (read from `input`, decided in `ctx`), or
/// its deadline.
enum HoldEnd<'a, 'b> {
    Review { review: &'a ReviewCommand, input: &'a InputRecord<'b>, ctx: &'a Context<'b> },
    Deadline,
}

impl Processor {
    /// A payment a risk rule holds for review: PDNG to its debtor (without the rule's
    /// figures: a party under suspicion is not told why), a HELD alert carrying the key
    /// a review must travel under, and the request kept until the review or its deadline.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hold_for_review(
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
        let deadline = now.saturating_add(self.review_timeout_micros);
        let held = HeldPayment {
            request: input.payload.unwrap_or_default().to_vec(),
            partition_key: partition_key.to_string(),
            transaction_id: request.transaction_id.clone(),
            end_to_end_id: request.end_to_end_id.clone(),
            debtor_agent: request.debtor_agent.clone(),
            amount: request.amount.clone(),
            request_created_at: request.created_at,
            request_hash: memory::request_hash(request),
            topic: input.topic.to_string(),
            place: RecordPlace { partition: input.partition, offset: input.offset },
            control: refusal.control,
            rule: refusal.rule,
            reason: refusal.reason.code().to_string(),
            explanation: refusal.text,
            routing_version: version,
            corridor: route.map(|r| r.corridor.id.to_string()),
            creditor_agent: route.map(|r| Agent::new(&r.creditor.network, &r.creditor.institution_id)),
            held_at: now,
            expires_at: deadline,
        };
        let text = format!(
            "held for review by the switch's operator; a final status follows within {} s",
            self.review_timeout_micros / 1_000_000
        );
        let about = About::of_request(request, version, now);
        let id = format!("{}:DEBTOR:HELD", request.transaction_id);
        let note = Answer { id, status: PaymentStatus::PDNG, reason: None, text, repeat: false };
        self.notify_debtor(&about, &request.debtor_agent, &request.amount, note, out)?;
        let review = (Some(partition_key.to_string()), Some(deadline));
        self.alert_on_hold(&held, RiskAction::Held, String::new(), held.explanation.clone(), review, now, out)?;
        let key =
            HeldKey::new(&request.debtor_agent.network, &request.debtor_agent.institution_id, &request.transaction_id);
        out.push(OutputRecord {
            topic: OutputTopic::State,
            key: Some(key.as_bytes().to_vec()),
            payload: Some(held.encode()?),
        });
        Ok((Outcome::Held, Some(Decision::Held)))
    }

    /// An operator's verdict on a held payment, at the payment's partition: approved, it
    /// is decided again with the holding rules passed; refused, its debtor is told RJCT
    /// with the holding rule's reason. Either way the hold ends in this transaction.
    pub(super) fn review(
        &self,
        review: Result<ReviewCommand, MemoryError>,
        input: &InputRecord<'_>,
        ctx: &Context<'_>,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let review = match review {
            Ok(r) => r,
            Err(e) => {
                return self.internal_refused(input, ErrorKind::Decode, format!("unreadable review: {e}"), ctx, out)
            }
        };
        let key = review.held_key();
        let Some(value) = ctx.memory.get(key.as_bytes())? else {
            let text = format!(
                "review ({}) by {} of transaction {} from {}/{}: no payment is held under it here (already reviewed, refused at its review deadline, never held, or sent under another key than its HELD alert's review_key)",
                review.verdict.as_str(),
                review.operator,
                review.transaction_id,
                review.debtor_network,
                review.debtor_institution
            );
            let tx = Some(review.transaction_id.as_str());
            self.dead_letter(input, ErrorKind::Validation, text, None, tx, ctx.now_micros, out)?;
            return Ok(Outcome::DeadLettered { kind: ErrorKind::Validation });
        };
        let held = HeldPayment::decode(&value)?;
        self.end_hold(key.as_bytes(), held, HoldEnd::Review { review: &review, input, ctx }, ctx.now_micros, out)
    }

    /// A held payment whose review deadline has passed: refused with its rule's reason.
    pub(super) fn review_timed_out(
        &self,
        key: &[u8],
        value: &[u8],
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let held = HeldPayment::decode(value)?;
        self.end_hold(key, held, HoldEnd::Deadline, now, out)
    }

    fn end_hold(
        &self,
        key: &[u8],
        held: HeldPayment,
        end: HoldEnd<'_, '_>,
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<Outcome, Undecided> {
        let mut version = held.routing_version;
        let (outcome, decision) = match end {
            HoldEnd::Review { review, input, ctx } if review.verdict == ReviewVerdict::Approve => {
                let request = match self.requests.decode(&held.request) {
                    Ok(r) => r,
                    Err(e) => {
                        // Read once when it was held: only a writer schema this worker has
                        // not learnt gets here. Refusing stays possible without it.
                        let text = format!(
                            "approval of {}: the held request cannot be read ({e}); it stays held (refuse it, or let its deadline refuse it)",
                            held.transaction_id
                        );
                        return self.internal_refused(input, ErrorKind::Decode, text, ctx, out);
                    }
                };
                out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: None });
                // Decided again as the record it was, so its dead letters name it.
                let request_input = InputRecord {
                    source: InputSource::Requests,
                    topic: &held.topic,
                    partition: held.place.partition,
                    offset: held.place.offset,
                    key: Some(held.partition_key.as_bytes()),
                    payload: Some(&held.request),
                    written_at: None,
                };
                let text = format!("approved after review by {}: {}", review.operator, review.note);
                self.alert_on_hold(&held, RiskAction::Approved, String::new(), text, (None, None), now, out)?;
                version = ctx.table.version();
                self.decide_request(&request, &held.partition_key, &request_input, ctx, out, Some(held.control))?
            }
            end => {
                out.push(OutputRecord { topic: OutputTopic::State, key: Some(key.to_vec()), payload: None });
                let reason = IsoReason::parse(&held.reason).unwrap_or(IsoReason::NARR);
                let text = match end {
                    HoldEnd::Review { review, .. } => {
                        format!("refused after review by {}: {}", review.operator, review.note)
                    }
                    HoldEnd::Deadline => format!(
                        "refused: held for review at {} µs and not reviewed by its deadline ({} s)",
                        held.held_at,
                        self.review_timeout_micros / 1_000_000
                    ),
                };
                let about = About {
                    transaction_id: &held.transaction_id,
                    end_to_end_id: &held.end_to_end_id,
                    request_created_at: held.request_created_at,
                    routing_version: held.routing_version,
                    now,
                };
                let refusal = Some((&reason, text.as_str()));
                self.notify(
                    &about,
                    Party::Debtor,
                    &held.debtor_agent,
                    &held.amount,
                    PaymentStatus::RJCT,
                    refusal,
                    out,
                )?;
                let code = reason.code().to_string();
                self.alert_on_hold(&held, RiskAction::Refused, code.clone(), text, (None, None), now, out)?;
                (Outcome::Rejected { reason }, Some(Decision::Rejected { reason: code }))
            }
        };
        if let Some(decision) = decision {
            // The memo now answers a repeat with the final outcome, not PDNG.
            let memo = RequestMemo {
                request_hash: held.request_hash,
                decision,
                routing_version: version,
                first: held.place,
                decided_at: now,
                expires_at: now.saturating_add(self.duplicate_window_micros),
            };
            let key = RequestKey::for_payment(&held.debtor_agent, &held.transaction_id);
            out.push(OutputRecord {
                topic: OutputTopic::State,
                key: Some(key.as_bytes().to_vec()),
                payload: Some(memo.encode()?),
            });
        }
        Ok(outcome)
    }

    /// A held payment's alert: held (with the key and deadline of its review), approved
    /// or refused. One per step, each with its own id.
    #[allow(clippy::too_many_arguments)]
    fn alert_on_hold(
        &self,
        held: &HeldPayment,
        action: RiskAction,
        reason_code: String,
        explanation: String,
        (review_key, review_deadline): (Option<String>, Option<i64>),
        now: i64,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), Undecided> {
        let alert = RiskAlert {
            alert_id: format!("{}:RISK:{}:{}", held.transaction_id, held.control.as_str(), action.as_str()),
            transaction_id: held.transaction_id.clone(),
            end_to_end_id: held.end_to_end_id.clone(),
            control: held.control,
            rule: held.rule.clone(),
            action,
            reason_code,
            explanation,
            routing_version: held.routing_version,
            corridor: held.corridor.clone(),
            debtor_agent: held.debtor_agent.clone(),
            creditor_agent: held.creditor_agent.clone(),
            amount: held.amount.clone(),
            decided_at: now,
            review_key,
            review_deadline,
        };
        out.push(OutputRecord::new(OutputTopic::RiskAlerts, &held.transaction_id, self.risk_alerts.encode(&alert)?));
        Ok(())
    }
}
