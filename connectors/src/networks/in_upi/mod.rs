//! India UPI.
//!
//! UPI is not ISO 20022 at its edge: NPCI's XML API carries a payment as `upi:ReqPay` (Head, Txn,
//! Payer, Payees with Ac details and Amount) and its outcome as `upi:RespPay` (Resp with
//! result SUCCESS/FAILURE and an errCode from NPCI's response-code list). The wire types and the
//! response-code mapping are in `transformers.rs`; docs/connectors.md lists the simplifications.

pub mod ids;
mod transformers;

pub use transformers::{
    validate_alias, Ac, Amount, Detail, Head, NotAUpiCode, Party, Payees, ReqPay, Resp, RespPay, Txn, UpiErrorCode,
    UpiResult, ALIASES, LIMIT, NAMESPACE, NOTE_MAX, ORG_ID, PROFILE, UTC_OFFSET_MINUTES, VERSIONS,
};

use crate::canonical::{
    Agent, Alias, AliasScheme, CanonicalPayment, CanonicalReturn, CanonicalStatus, Creditor, Debtor, IsoReason, Money,
};
use crate::connector::{admit, AmountLimit, Connector, ConnectorError, MessageForm, MessageVersions};
use crate::iso20022::{agent_network, check_alias, check_text, MAX140, MAX34, MAX35};
use crate::xml::Doc;
use crate::{money, time, NetworkProfile};

/// The UPI connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct InUpi;

const PAYMENT: &str = "upi:ReqPay";
/// `Txn/@type` of a payment, and of a settled payment's reversal.
const PAY: &str = "PAY";
const REVERSAL: &str = "REVERSAL";
const STATUS: &str = "upi:RespPay";
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

fn serialize<T: serde::Serialize>(root: &str, value: &T) -> Result<Vec<u8>, ConnectorError> {
    let mut out = String::with_capacity(1024);
    out.push_str(DECLARATION);
    quick_xml::se::to_writer_with_root(&mut out, root, value)
        .map_err(|e| ConnectorError::invalid(root, format!("cannot serialise: {e}")))?;
    Ok(out.into_bytes())
}

/// Checks the root element, bounds the document (depth, size), then deserialises it.
fn deserialize<'a, T: serde::Deserialize<'a>>(text: &'a str, root: &str) -> Result<T, ConnectorError> {
    let doc = Doc::parse(text)?;
    let el = doc.root();
    if el.ns() != NAMESPACE {
        return Err(ConnectorError::WrongNamespace { found: el.ns().to_string(), expected: NAMESPACE.to_string() });
    }
    if el.name() != root {
        return Err(ConnectorError::UnsupportedMessage(format!("<{}> where upi:{root} was expected", el.name())));
    }
    quick_xml::de::from_str(text).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => ConnectorError::MissingField(format!("{root}/{}", rest.trim_end_matches('`'))),
            None => ConnectorError::invalid(root, msg),
        }
    })
}

/// The `Head` of a message this switch writes.
fn head(msg_id: &str, ts: &str) -> Head {
    Head { ver: VERSIONS[0].to_string(), ts: ts.to_string(), org_id: ORG_ID.to_string(), msg_id: msg_id.to_string() }
}

fn ts(micros: i64) -> String {
    time::format_datetime(micros, UTC_OFFSET_MINUTES)
}

fn parse_ts(path: &str, text: &str) -> Result<i64, ConnectorError> {
    time::parse_datetime(text).map_err(|e| ConnectorError::invalid(path, e))
}

fn check_version(head: &Head) -> Result<(), ConnectorError> {
    if VERSIONS.contains(&head.ver.as_str()) {
        Ok(())
    } else {
        Err(ConnectorError::UnsupportedMessage(format!("UPI API version {:?} (accepted: {VERSIONS:?})", head.ver)))
    }
}

/// The `Ac` details naming an agent: `IFSC` for UPI members, `NETWORK` and `INSTID` for
/// institutions of other networks.
fn agent_details(agent: &Agent) -> Vec<Detail> {
    if agent.network == PROFILE.id {
        vec![Detail::new("IFSC", agent.institution_id.as_str())]
    } else {
        vec![Detail::new("NETWORK", agent.network.as_str()), Detail::new("INSTID", agent.institution_id.as_str())]
    }
}

fn read_agent(ac: &Ac, path: &str) -> Result<Agent, ConnectorError> {
    let agent = match (ac.detail("IFSC"), ac.detail("NETWORK"), ac.detail("INSTID")) {
        (Some(ifsc), _, _) => Agent::new(PROFILE.id, ifsc),
        (None, Some(network), Some(id)) => Agent::new(network, id),
        _ => return Err(ConnectorError::MissingField(format!("{path}/Detail[@name='IFSC']"))),
    };
    agent_network(&agent, path)?;
    Ok(agent)
}

fn amount(m: &Money) -> Result<Amount, ConnectorError> {
    Ok(Amount { value: money::format_decimal(m.minor_units, &m.currency)?, curr: m.currency.clone() })
}

fn read_amount(a: &Amount, path: &str) -> Result<Money, ConnectorError> {
    Ok(Money::new(money::parse_decimal(&a.value, &a.curr, path)?, a.curr.as_str()))
}

/// UPI's `note` holds 50 characters; longer remittance information is cut there.
fn note(info: &str) -> Option<String> {
    let cut: String = info.chars().take(NOTE_MAX).collect();
    let cut = cut.trim_end();
    (!cut.is_empty()).then(|| cut.to_string())
}

fn check_parties(debtor: &Agent, creditor: &Agent) -> Result<(), ConnectorError> {
    let d = agent_network(debtor, "debtor.agent")?;
    let c = agent_network(creditor, "creditor.agent")?;
    if d.id != PROFILE.id && c.id != PROFILE.id {
        return Err(ConnectorError::UnknownAgent {
            path: "debtor.agent, creditor.agent".into(),
            reason: format!("neither agent is a participant of {}", PROFILE.id),
        });
    }
    Ok(())
}

/// How a payee is addressed in `Ac/@addrType`, from the creditor's account and alias.
fn payee_ac(creditor: &Creditor) -> Result<Ac, ConnectorError> {
    let mut details = agent_details(&creditor.agent);
    let addr_type = match (&creditor.account, &creditor.alias) {
        (Some(account), _) => {
            details.push(Detail::new("ACNUM", account.as_str()));
            "ACCOUNT"
        }
        (None, Some(Alias { scheme: AliasScheme::Mobile, value })) => {
            details.push(Detail::new("MOBNUM", value.trim_start_matches('+')));
            "MOBILE"
        }
        (None, Some(Alias { scheme: AliasScheme::Aadhaar, value })) => {
            details.push(Detail::new("AADHAAR", value.as_str()));
            "AADHAAR"
        }
        (None, Some(Alias { scheme: AliasScheme::Vpa, .. })) => "ACCOUNT",
        (None, Some(other)) => {
            return Err(ConnectorError::invalid(
                "creditor.alias",
                format!("UPI addresses payees by VPA, mobile number or Aadhaar, not {}", other.scheme),
            ))
        }
        (None, None) => return Err(ConnectorError::MissingField("creditor.account or creditor.alias".into())),
    };
    Ok(Ac { addr_type: addr_type.to_string(), details })
}

fn vpa_of(alias: &Option<Alias>) -> Option<String> {
    alias.as_ref().filter(|a| a.scheme == AliasScheme::Vpa).map(|a| a.value.clone())
}

fn check_payment(c: &InUpi, p: &CanonicalPayment) -> Result<(), ConnectorError> {
    check_text("message_id", &p.message_id, MAX35)?;
    check_text("transaction_id", &p.transaction_id, MAX35)?;
    check_text("end_to_end_id", &p.end_to_end_id, MAX35)?;
    if !time::in_range(p.created_at) {
        return Err(ConnectorError::invalid("created_at", "outside years 0001-9999"));
    }
    check_text("debtor.account", &p.debtor.account, MAX34)?;
    if let Some(a) = &p.creditor.account {
        check_text("creditor.account", a, MAX34)?;
    }
    for (path, n) in [("debtor.name", &p.debtor.name), ("creditor.name", &p.creditor.name)] {
        if let Some(n) = n {
            check_text(path, n, MAX140)?;
        }
    }
    if let Some(r) = &p.remittance_info {
        check_text("remittance_info", r, MAX140)?;
    }
    check_parties(&p.debtor.agent, &p.creditor.agent)?;
    if let Some(a) = &p.debtor.alias {
        check_alias(a, &p.debtor.agent.network)?;
    }
    if let Some(a) = &p.creditor.alias {
        check_alias(a, &p.creditor.agent.network)?;
    }
    let settled = p.settlement_amount();
    c.check_amount(settled.minor_units, &settled.currency)
}

fn encode_payment(c: &InUpi, p: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError> {
    check_payment(c, p)?;
    let settled = amount(p.settlement_amount())?;
    let created = ts(p.created_at);
    let mut payer_details = agent_details(&p.debtor.agent);
    payer_details.push(Detail::new("ACNUM", p.debtor.account.as_str()));
    let req = ReqPay {
        xmlns_upi: NAMESPACE.to_string(),
        head: head(&p.message_id, &created),
        txn: Txn {
            id: p.transaction_id.clone(),
            note: p.remittance_info.as_deref().and_then(note),
            ref_id: Some(p.end_to_end_id.clone()),
            ts: created,
            kind: PAY.to_string(),
            org_txn_id: None,
            org_resp_code: None,
        },
        payer: Party {
            addr: vpa_of(&p.debtor.alias),
            name: p.debtor.name.clone(),
            seq_num: "1".to_string(),
            kind: "PERSON".to_string(),
            code: "0000".to_string(),
            ac: Some(Ac { addr_type: "ACCOUNT".to_string(), details: payer_details }),
            amount: settled.clone(),
        },
        payees: Payees {
            payee: vec![Party {
                addr: vpa_of(&p.creditor.alias),
                name: p.creditor.name.clone(),
                seq_num: "1".to_string(),
                kind: "PERSON".to_string(),
                code: "0000".to_string(),
                ac: Some(payee_ac(&p.creditor)?),
                amount: settled,
            }],
        },
    };
    serialize(PAYMENT, &req)
}

/// What a payment and a reversal share: one payee, the times, and one amount that the
/// payer and the payee agree on and UPI allows. Answers the payee, `Txn/@ts` and the amount.
fn read_transfer<'r>(c: &InUpi, req: &'r ReqPay) -> Result<(&'r Party, i64, Money), ConnectorError> {
    let payee = match req.payees.payee.as_slice() {
        [one] => one,
        [] => return Err(ConnectorError::MissingField("ReqPay/Payees/Payee".into())),
        many => return Err(ConnectorError::UnsupportedMessage(format!("{} payees; Interlink takes one", many.len()))),
    };
    parse_ts("ReqPay/Head/@ts", &req.head.ts)?;
    let created_at = parse_ts("ReqPay/Txn/@ts", &req.txn.ts)?;
    let amount = read_amount(&req.payer.amount, "ReqPay/Payer/Amount")?;
    if read_amount(&payee.amount, "ReqPay/Payees/Payee/Amount")? != amount {
        return Err(ConnectorError::invalid("ReqPay/Payees/Payee/Amount", "differs from the payer's amount"));
    }
    c.check_amount(amount.minor_units, &amount.currency)?;
    Ok((payee, created_at, amount))
}

fn decode_payment(c: &InUpi, bytes: &[u8]) -> Result<CanonicalPayment, ConnectorError> {
    let text = admit(bytes)?;
    let req: ReqPay = deserialize(text, "ReqPay")?;
    check_version(&req.head)?;
    if req.txn.kind != PAY {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "ReqPay of type {:?}; Interlink takes PAY",
            req.txn.kind
        )));
    }
    let (payee, created_at, amount) = read_transfer(c, &req)?;

    let payer_ac = req.payer.ac.as_ref().ok_or_else(|| ConnectorError::MissingField("ReqPay/Payer/Ac".into()))?;
    let debtor_agent = read_agent(payer_ac, "ReqPay/Payer/Ac")?;
    let debtor_account = payer_ac
        .detail("ACNUM")
        .ok_or_else(|| ConnectorError::MissingField("ReqPay/Payer/Ac/Detail[@name='ACNUM']".into()))?;
    let payee_ac = payee.ac.as_ref().ok_or_else(|| ConnectorError::MissingField("ReqPay/Payees/Payee/Ac".into()))?;
    let creditor_agent = read_agent(payee_ac, "ReqPay/Payees/Payee/Ac")?;
    let creditor_alias = match (&payee.addr, payee_ac.addr_type.as_str()) {
        (Some(vpa), _) => Some(Alias::new(AliasScheme::Vpa, vpa.as_str())),
        (None, "MOBILE") => payee_ac.detail("MOBNUM").map(|m| Alias::new(AliasScheme::Mobile, format!("+{m}"))),
        (None, "AADHAAR") => payee_ac.detail("AADHAAR").map(|a| Alias::new(AliasScheme::Aadhaar, a)),
        (None, _) => None,
    };
    let payment = CanonicalPayment {
        message_id: req.head.msg_id.clone(),
        transaction_id: req.txn.id.clone(),
        end_to_end_id: req.txn.ref_id.clone().unwrap_or_else(|| req.txn.id.clone()),
        uetr: None,
        created_at,
        instructed_amount: amount,
        interbank_settlement: None,
        debtor: Debtor {
            name: req.payer.name.clone(),
            account: debtor_account.to_string(),
            alias: req.payer.addr.as_ref().map(|v| Alias::new(AliasScheme::Vpa, v.as_str())),
            agent: debtor_agent,
            identification: None,
        },
        creditor: Creditor {
            name: payee.name.clone(),
            account: payee_ac.detail("ACNUM").map(str::to_string),
            alias: creditor_alias,
            agent: creditor_agent,
        },
        purpose: None,
        remittance_info: req.txn.note.clone(),
    };
    if payment.creditor.account.is_none() && payment.creditor.alias.is_none() {
        return Err(ConnectorError::MissingField("ReqPay/Payees/Payee/@addr or Ac/Detail[@name='ACNUM']".into()));
    }
    check_payment(c, &payment)?;
    Ok(payment)
}

fn upi_code(status: &CanonicalStatus) -> UpiErrorCode {
    UpiErrorCode::from(status.reason.as_ref().unwrap_or(&IsoReason::MS03))
}

fn encode_status(s: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError> {
    check_text("message_id", &s.message_id, MAX35)?;
    check_text("original_message_id", &s.original_message_id, MAX35)?;
    check_text("original_end_to_end_id", &s.original_end_to_end_id, MAX35)?;
    check_text("original_transaction_id", &s.original_transaction_id, MAX35)?;
    if !time::in_range(s.created_at) {
        return Err(ConnectorError::invalid("created_at", "outside years 0001-9999"));
    }
    let result = UpiResult::from(s.status);
    let created = ts(s.created_at);
    let resp = RespPay {
        xmlns_upi: NAMESPACE.to_string(),
        head: head(&s.message_id, &created),
        txn: Txn {
            id: s.original_transaction_id.clone(),
            note: None,
            ref_id: Some(s.original_end_to_end_id.clone()),
            ts: created,
            kind: PAY.to_string(),
            org_txn_id: None,
            org_resp_code: None,
        },
        resp: Resp {
            req_msg_id: s.original_message_id.clone(),
            result: result.as_str().to_string(),
            err_code: (result == UpiResult::Failure).then(|| upi_code(s).code().to_string()),
        },
    };
    serialize(STATUS, &resp)
}

fn failure_info(code: &UpiErrorCode) -> String {
    format!("UPI {}: {}", code.code(), code.description())
}

fn decode_status(bytes: &[u8]) -> Result<CanonicalStatus, ConnectorError> {
    let text = admit(bytes)?;
    let resp: RespPay = deserialize(text, "RespPay")?;
    check_version(&resp.head)?;
    let created_at = parse_ts("RespPay/Head/@ts", &resp.head.ts)?;
    let result = UpiResult::parse(&resp.resp.result).ok_or_else(|| {
        ConnectorError::invalid("RespPay/Resp/@result", format!("unknown result {:?}", resp.resp.result))
    })?;
    let (reason, additional_info) = if result == UpiResult::Failure {
        let code = resp
            .resp
            .err_code
            .as_deref()
            .ok_or_else(|| ConnectorError::MissingField("RespPay/Resp/@errCode".into()))?;
        let code = UpiErrorCode::parse(code).map_err(|e| ConnectorError::invalid("RespPay/Resp/@errCode", e))?;
        (Some(IsoReason::from(&code)), Some(failure_info(&code)))
    } else {
        (None, None)
    };
    for (path, v) in [
        ("RespPay/Head/@msgId", &resp.head.msg_id),
        ("RespPay/Txn/@id", &resp.txn.id),
        ("RespPay/Resp/@reqMsgId", &resp.resp.req_msg_id),
    ] {
        check_text(path, v, MAX35)?;
    }
    // The end-to-end id the report names must fit where it came from, as the others.
    if let Some(ref_id) = &resp.txn.ref_id {
        check_text("RespPay/Txn/@refId", ref_id, MAX35)?;
    }
    Ok(CanonicalStatus {
        message_id: resp.head.msg_id,
        created_at,
        original_message_id: resp.resp.req_msg_id,
        original_end_to_end_id: resp.txn.ref_id.unwrap_or_else(|| resp.txn.id.clone()),
        original_transaction_id: resp.txn.id,
        original_uetr: None,
        status: result.into(),
        reason,
        additional_info,
        instructing_agent: None,
        instructed_agent: None,
        original_amount: None,
    })
}

/// A party of a reversal: the agent, when known, and the amount that moves back.
fn reversal_party(agent: &Option<Agent>, amount: &Amount) -> Party {
    Party {
        addr: None,
        name: None,
        seq_num: "1".to_string(),
        kind: "ENTITY".to_string(),
        code: "0000".to_string(),
        ac: agent.as_ref().map(|a| Ac { addr_type: "ACCOUNT".to_string(), details: agent_details(a) }),
        amount: amount.clone(),
    }
}

/// A settled payment sent back: `upi:ReqPay` of type REVERSAL naming the original
/// (`Txn/@orgTxnId`, `@refId` its end-to-end id) and why (`@orgRespCode`, the UPI code of
/// the ISO reason), the payer being who returns the funds.
fn encode_return(c: &InUpi, r: &CanonicalReturn) -> Result<Vec<u8>, ConnectorError> {
    crate::iso20022::pacs004::check_return(r)?;
    c.check_amount(r.returned_amount.minor_units, &r.returned_amount.currency)?;
    for (path, agent) in [("instructing_agent", &r.instructing_agent), ("instructed_agent", &r.instructed_agent)] {
        if let Some(a) = agent {
            agent_network(a, path)?;
        }
    }
    let back = amount(&r.returned_amount)?;
    let created = ts(r.created_at);
    let req = ReqPay {
        xmlns_upi: NAMESPACE.to_string(),
        head: head(&r.message_id, &created),
        txn: Txn {
            id: r.return_id.clone(),
            note: r.additional_info.as_deref().and_then(note),
            ref_id: Some(r.original_end_to_end_id.clone()),
            ts: created,
            kind: REVERSAL.to_string(),
            org_txn_id: Some(r.original_transaction_id.clone()),
            org_resp_code: Some(UpiErrorCode::from(&r.reason).code().to_string()),
        },
        payer: reversal_party(&r.instructing_agent, &back),
        payees: Payees { payee: vec![reversal_party(&r.instructed_agent, &back)] },
    };
    serialize(PAYMENT, &req)
}

fn decode_return(c: &InUpi, bytes: &[u8]) -> Result<CanonicalReturn, ConnectorError> {
    let text = admit(bytes)?;
    let req: ReqPay = deserialize(text, "ReqPay")?;
    check_version(&req.head)?;
    if req.txn.kind != REVERSAL {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "ReqPay of type {:?} where a REVERSAL was expected",
            req.txn.kind
        )));
    }
    let original =
        req.txn.org_txn_id.as_deref().ok_or_else(|| ConnectorError::MissingField("ReqPay/Txn/@orgTxnId".into()))?;
    let code = req
        .txn
        .org_resp_code
        .as_deref()
        .ok_or_else(|| ConnectorError::MissingField("ReqPay/Txn/@orgRespCode".into()))?;
    let code = UpiErrorCode::parse(code).map_err(|e| ConnectorError::invalid("ReqPay/Txn/@orgRespCode", e))?;
    let (payee, created_at, returned_amount) = read_transfer(c, &req)?;
    let end_to_end = req.txn.ref_id.as_deref().unwrap_or(original);
    for (path, v) in [
        ("ReqPay/Head/@msgId", req.head.msg_id.as_str()),
        ("ReqPay/Txn/@id", req.txn.id.as_str()),
        ("ReqPay/Txn/@orgTxnId", original),
        ("ReqPay/Txn/@refId", end_to_end),
    ] {
        check_text(path, v, MAX35)?;
    }
    let agent = |party: &Party, path: &str| party.ac.as_ref().map(|ac| read_agent(ac, path)).transpose();
    Ok(CanonicalReturn {
        message_id: req.head.msg_id.clone(),
        created_at,
        return_id: req.txn.id.clone(),
        // UPI names the original by its transaction id only.
        original_message_id: original.to_string(),
        original_end_to_end_id: end_to_end.to_string(),
        original_transaction_id: original.to_string(),
        original_uetr: None,
        returned_amount,
        reason: IsoReason::from(&code),
        // One line of at most 105 characters, as in a pacs.004.
        additional_info: Some(
            match &req.txn.note {
                Some(n) => format!("{}: {n}", failure_info(&code)),
                None => failure_info(&code),
            }
            .chars()
            .take(105)
            .collect(),
        ),
        instructing_agent: agent(&req.payer, "ReqPay/Payer/Ac")?,
        instructed_agent: agent(payee, "ReqPay/Payees/Payee/Ac")?,
    })
}

impl Connector for InUpi {
    fn profile(&self) -> &'static NetworkProfile {
        &PROFILE
    }

    fn message_versions(&self) -> MessageVersions {
        MessageVersions {
            payment: "upi:ReqPay 2.0",
            payment_accepted: vec!["upi:ReqPay 2.0", "upi:ReqPay 1.0"],
            status: "upi:RespPay 2.0",
            status_accepted: vec!["upi:RespPay 2.0", "upi:RespPay 1.0"],
            header: None,
            header_accepted: Vec::new(),
            envelope: "UPI XML API (no envelope)",
        }
    }

    /// `upi:ReqPay` or `upi:RespPay` with its API version (`Head/@ver`), when the root, its
    /// namespace and the version are ones this connector reads.
    fn message_form(&self, message: &[u8]) -> Option<MessageForm> {
        let doc = Doc::parse(admit(message).ok()?).ok()?;
        let root = doc.root();
        if root.ns() != NAMESPACE {
            return None;
        }
        let ver = root.child_any_ns("Head")?.attr("ver")?;
        let versions = self.message_versions();
        let accepted = match root.name() {
            "ReqPay" => versions.payment_accepted,
            "RespPay" => versions.status_accepted,
            _ => return None,
        };
        let message = accepted.into_iter().find(|m| *m == format!("upi:{} {ver}", root.name()))?;
        Some(MessageForm { message, namespace: NAMESPACE, envelope: "none".to_string(), header: None })
    }

    fn alias_schemes(&self) -> &'static [AliasScheme] {
        ALIASES
    }

    fn validate_alias(&self, alias: &Alias) -> Result<(), ConnectorError> {
        validate_alias(alias)
    }

    fn amount_limit(&self) -> Option<AmountLimit> {
        LIMIT
    }

    fn encode_payment(&self, payment: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError> {
        encode_payment(self, payment)
    }

    fn decode_payment(&self, message: &[u8]) -> Result<CanonicalPayment, ConnectorError> {
        decode_payment(self, message)
    }

    fn encode_status(&self, status: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError> {
        encode_status(status)
    }

    fn decode_status(&self, message: &[u8]) -> Result<CanonicalStatus, ConnectorError> {
        decode_status(message)
    }

    fn encode_return(&self, r: &CanonicalReturn) -> Result<Vec<u8>, ConnectorError> {
        encode_return(self, r)
    }

    fn decode_return(&self, message: &[u8]) -> Result<CanonicalReturn, ConnectorError> {
        decode_return(self, message)
    }

    /// UPI carries no UETR, purpose or FX leg (the payer amount is the INR that moves), cuts the
    /// note at 50 characters, carries the payer's alias only as a VPA, and a payee's mobile or
    /// Aadhaar alias only when there is no account number.
    fn carried_payment(&self, p: &CanonicalPayment) -> CanonicalPayment {
        let mut out = p.clone();
        out.uetr = None;
        out.purpose = None;
        out.instructed_amount = p.settlement_amount().clone();
        out.interbank_settlement = None;
        out.remittance_info = p.remittance_info.as_deref().and_then(note);
        out.debtor.alias = p.debtor.alias.clone().filter(|a| a.scheme == AliasScheme::Vpa);
        // ReqPay's payer carries no identity document.
        out.debtor.identification = None;
        out.creditor.alias = p.creditor.alias.clone().filter(|a| {
            a.scheme == AliasScheme::Vpa
                || (p.creditor.account.is_none() && matches!(a.scheme, AliasScheme::Mobile | AliasScheme::Aadhaar))
        });
        out
    }

    /// RespPay carries SUCCESS, FAILURE with a UPI code, or PENDING; no UETR, agents, amount
    /// or text.
    fn carried_status(&self, s: &CanonicalStatus) -> CanonicalStatus {
        let result = UpiResult::from(s.status);
        let mut out = s.clone();
        out.status = result.into();
        out.original_uetr = None;
        out.instructing_agent = None;
        out.instructed_agent = None;
        out.original_amount = None;
        if result == UpiResult::Failure {
            let code = upi_code(s);
            out.reason = Some(IsoReason::from(&code));
            out.additional_info = Some(failure_info(&code));
        } else {
            out.reason = None;
            out.additional_info = None;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The form a message was recognised as: root and API version; nothing for other roots,
    /// namespaces or versions.
    #[test]
    fn message_form_names_the_api_and_its_version() {
        let payment = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/IN_UPI/payment.xml")).unwrap();
        let form = InUpi.message_form(&payment).unwrap();
        assert_eq!((form.message, form.namespace, form.envelope.as_str()), ("upi:ReqPay 2.0", NAMESPACE, "none"));
        let status = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/IN_UPI/status.xml")).unwrap();
        assert_eq!(InUpi.message_form(&status).unwrap().message, "upi:RespPay 2.0");
        let text = String::from_utf8(payment).unwrap();
        let v1 = text.replace("<Head ver=\"2.0\"", "<Head ver=\"1.0\"");
        assert_eq!(InUpi.message_form(v1.as_bytes()).unwrap().message, "upi:ReqPay 1.0");
        assert!(InUpi.message_form(text.replace("<Head ver=\"2.0\"", "<Head ver=\"3.0\"").as_bytes()).is_none());
        assert!(InUpi.message_form(text.replace("http://npci.org/upi/schema/", "urn:x").as_bytes()).is_none());
        assert!(InUpi.message_form(b"<Document/>").is_none());
    }

    fn late_acceptance_return() -> CanonicalReturn {
        CanonicalReturn {
            message_id: "RTUPI0001".into(),
            created_at: 1_767_225_600_000_000,
            return_id: "RTUPI0001".into(),
            original_message_id: "UPI0001".into(),
            original_end_to_end_id: "E2E-UPI-0001".into(),
            original_transaction_id: "UPI0001".into(),
            original_uetr: None,
            returned_amount: Money::new(1_250_050, "INR"),
            reason: IsoReason::AB05,
            additional_info: Some("settled after the switch's response deadline; refused to both sides".into()),
            instructing_agent: None,
            instructed_agent: Some(Agent::new("IN_UPI", "HDFC0000001")),
        }
    }

    #[test]
    fn a_return_is_a_reversal_naming_the_original_and_reads_back() {
        let upi = InUpi;
        let r = late_acceptance_return();
        let xml = String::from_utf8(upi.encode_return(&r).unwrap()).unwrap();
        for part in [
            r#"<upi:ReqPay xmlns:upi="http://npci.org/upi/schema/">"#,
            r#"type="REVERSAL" orgTxnId="UPI0001" orgRespCode="U68""#,
            r#"id="RTUPI0001""#,
            r#"refId="E2E-UPI-0001""#,
            r#"<Amount value="12500.50" curr="INR"/>"#,
            r#"<Detail name="IFSC" value="HDFC0000001"/>"#,
        ] {
            assert!(xml.contains(part), "{part} in {xml}");
        }
        let back = upi.decode_return(xml.as_bytes()).unwrap();
        assert_eq!(
            (back.return_id.as_str(), back.original_transaction_id.as_str(), back.original_end_to_end_id.as_str()),
            ("RTUPI0001", "UPI0001", "E2E-UPI-0001")
        );
        assert_eq!(
            (back.returned_amount, back.reason, back.created_at),
            (r.returned_amount, IsoReason::AB05, r.created_at)
        );
        assert_eq!((back.instructing_agent, back.instructed_agent), (None, r.instructed_agent));
        let info = back.additional_info.unwrap();
        assert!(info.starts_with("UPI U68: ") && info.contains("settled after the switch's response"), "{info}");
        // Not a payment, and a payment is not a return.
        assert!(matches!(upi.decode_payment(xml.as_bytes()), Err(ConnectorError::UnsupportedMessage(_))));
        let payment = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/IN_UPI/payment.xml")).unwrap();
        assert!(matches!(upi.decode_return(&payment), Err(ConnectorError::UnsupportedMessage(_))));
    }

    #[test]
    fn a_reversal_without_its_original_or_its_cause_is_refused() {
        let upi = InUpi;
        let xml = String::from_utf8(upi.encode_return(&late_acceptance_return()).unwrap()).unwrap();
        let missing = |needle: &str| upi.decode_return(xml.replace(needle, "").as_bytes()).unwrap_err();
        assert!(
            matches!(missing(r#" orgTxnId="UPI0001""#), ConnectorError::MissingField(f) if f == "ReqPay/Txn/@orgTxnId")
        );
        assert!(
            matches!(missing(r#" orgRespCode="U68""#), ConnectorError::MissingField(f) if f == "ReqPay/Txn/@orgRespCode")
        );
        let unknown = upi.decode_return(xml.replace(r#"orgRespCode="U68""#, r#"orgRespCode="??""#).as_bytes());
        assert!(matches!(unknown, Err(ConnectorError::InvalidField { .. })), "{unknown:?}");
        let other = xml.replacen(r#"value="12500.50""#, r#"value="12500.49""#, 1);
        assert!(matches!(upi.decode_return(other.as_bytes()), Err(ConnectorError::InvalidField { .. })));
    }

    #[test]
    fn a_return_of_nothing_or_over_the_limit_is_not_built() {
        let upi = InUpi;
        let mut r = late_acceptance_return();
        r.returned_amount = Money::new(0, "INR");
        assert!(matches!(upi.encode_return(&r), Err(ConnectorError::InvalidAmount { .. })));
        r.returned_amount = Money::new(10_000_001, "INR");
        assert!(upi.encode_return(&r).is_err(), "over UPI's per-transaction limit");
    }
}
