//! pacs.002 FI-to-FI payment status report (one transaction status per message).

use super::{
    check_text, close_message, header_party, leaf_text, message, open_message, opt_text, read_agent, read_amount,
    read_group_header, req, req_text, write_agent, write_amount, Envelope, IsoProfile, MAX35,
};
use crate::canonical::{CanonicalStatus, IsoReason, PaymentStatus};
use crate::connector::{admit, ConnectorError};
use crate::xml::{Doc, XmlWriter};
use crate::{time, uuid};

/// The message's root element, inside `Document`.
const ROOT: &str = "FIToFIPmtStsRpt";

/// `StsRsnInf/AddtlInf` is Max105Text; longer information is split over several.
const ADDTL_INF_LEN: usize = 105;
const MAX_ADDTL_INF: usize = 10;

fn check_status(s: &CanonicalStatus) -> Result<(), ConnectorError> {
    check_text("message_id", &s.message_id, MAX35)?;
    check_text("original_message_id", &s.original_message_id, MAX35)?;
    check_text("original_end_to_end_id", &s.original_end_to_end_id, MAX35)?;
    check_text("original_transaction_id", &s.original_transaction_id, MAX35)?;
    if let Some(u) = &s.original_uetr {
        uuid::uetr(u).map_err(|e| ConnectorError::invalid("original_uetr", e))?;
    }
    if !time::in_range(s.created_at) {
        return Err(ConnectorError::invalid("created_at", "outside years 0001-9999"));
    }
    if let Some(info) = &s.additional_info {
        check_text("additional_info", info, ADDTL_INF_LEN * MAX_ADDTL_INF)?;
    }
    if let Some(IsoReason::Other(code)) = &s.reason {
        IsoReason::parse(code).map_err(|e| ConnectorError::invalid("reason", e.to_string()))?;
    }
    if s.original_amount.as_ref().is_some_and(|m| m.minor_units <= 0) {
        return Err(ConnectorError::InvalidAmount {
            path: "original_amount".into(),
            reason: "not greater than zero".into(),
        });
    }
    Ok(())
}

/// Builds the network's pacs.002 for `s`.
pub fn encode(profile: &IsoProfile, s: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError> {
    check_status(s)?;
    let spi = matches!(profile.envelope, Envelope::Spi(_));
    // Written from what the network's form carries only, so re-encoding is stable.
    let s = &fitted_to_version(profile, &if spi { carried_spi(s) } else { s.clone() });
    let own = profile.network;
    let mut w = XmlWriter::new(1536);
    let (from, to) = (header_party(&s.instructing_agent, own), header_party(&s.instructed_agent, own));
    open_message(&mut w, profile, profile.pacs002, ROOT, from, to, &s.message_id, s.created_at)?;
    w.close("GrpHdr");
    w.open("TxInfAndSts");
    if spi {
        // The SPI's report names the original by OrgnlInstrId and end-to-end id only.
        w.leaf("OrgnlInstrId", &s.original_transaction_id);
        w.leaf("OrgnlEndToEndId", &s.original_end_to_end_id);
    } else {
        w.open("OrgnlGrpInf");
        w.leaf("OrgnlMsgId", &s.original_message_id);
        w.leaf("OrgnlMsgNmId", profile.pacs008.id());
        w.close("OrgnlGrpInf");
        w.leaf("OrgnlEndToEndId", &s.original_end_to_end_id);
        w.leaf("OrgnlTxId", &s.original_transaction_id);
        if let Some(u) = &s.original_uetr {
            w.leaf("OrgnlUETR", u);
        }
    }
    w.leaf("TxSts", s.status.code());
    if s.reason.is_some() || s.additional_info.is_some() {
        w.open("StsRsnInf");
        if let Some(r) = &s.reason {
            w.open("Rsn");
            w.leaf("Cd", r.code());
            w.close("Rsn");
        }
        if let Some(info) = &s.additional_info {
            for line in lines(info) {
                w.leaf("AddtlInf", line);
            }
        }
        w.close("StsRsnInf");
    }
    if let Some(a) = &s.instructing_agent {
        write_agent(&mut w, "InstgAgt", a, own, "instructing_agent")?;
    }
    if let Some(a) = &s.instructed_agent {
        write_agent(&mut w, "InstdAgt", a, own, "instructed_agent")?;
    }
    if let Some(amount) = &s.original_amount {
        w.open("OrgnlTxRef");
        write_amount(&mut w, "IntrBkSttlmAmt", amount)?;
        w.close("OrgnlTxRef");
    }
    w.close("TxInfAndSts");
    Ok(close_message(w, profile, profile.pacs002, ROOT))
}

/// Reads a pacs.002 the network sent.
pub fn decode(profile: &IsoProfile, bytes: &[u8]) -> Result<CanonicalStatus, ConnectorError> {
    let text = admit(bytes)?;
    let doc = Doc::parse(text)?;
    let opened = super::open(&doc, profile, profile.pacs002_accepted)?;
    let msg = message(opened.document, ROOT)?;
    let (message_id, created_at) = read_group_header(msg)?;
    let tx = match msg.count("TxInfAndSts") {
        1 => req(msg, "TxInfAndSts")?,
        0 if msg.child("OrgnlGrpInfAndSts").is_some() => {
            return Err(ConnectorError::UnsupportedMessage(
                "group status without a transaction status; Interlink reads TxInfAndSts".into(),
            ))
        }
        0 => return Err(ConnectorError::MissingField(format!("{}/TxInfAndSts", msg.path()))),
        n => {
            return Err(ConnectorError::UnsupportedMessage(format!("{n} TxInfAndSts; Interlink takes one per message")))
        }
    };
    let original_message_id = match tx.child("OrgnlGrpInf") {
        Some(grp) => req_text(grp, "OrgnlMsgId", MAX35)?.to_string(),
        // The SPI's reports have no OrgnlGrpInf: the original is its OrgnlInstrId.
        None if matches!(profile.envelope, Envelope::Spi(_)) => req_text(tx, "OrgnlInstrId", MAX35)
            .map_err(|_| ConnectorError::MissingField(format!("{}/OrgnlInstrId", tx.path())))?
            .to_string(),
        None => return Err(ConnectorError::MissingField(format!("{}/OrgnlGrpInf", tx.path()))),
    };
    let original_end_to_end_id = req_text(tx, "OrgnlEndToEndId", MAX35)?.to_string();
    let original_transaction_id = match opt_text(tx, "OrgnlTxId", MAX35)? {
        Some(t) => t.to_string(),
        None => req_text(tx, "OrgnlInstrId", MAX35)
            .map_err(|_| ConnectorError::MissingField(format!("{}/OrgnlTxId", tx.path())))?
            .to_string(),
    };
    let original_uetr = opt_text(tx, "OrgnlUETR", 36)?.map(str::to_string);
    if let Some(u) = &original_uetr {
        uuid::uetr(u).map_err(|e| ConnectorError::invalid(tx.path() + "/OrgnlUETR", e))?;
    }
    let sts = req(tx, "TxSts")?;
    let status: PaymentStatus = leaf_text(sts, 4)?
        .parse()
        .map_err(|e: interlink_vocab::UnknownStatus| ConnectorError::invalid(sts.path(), e.to_string()))?;
    let (mut reason, mut additional_info) = (None, None);
    if let Some(inf) = tx.child("StsRsnInf") {
        if let Some(rsn) = inf.child("Rsn") {
            if let Some(cd) = rsn.child("Cd") {
                let code = leaf_text(cd, 4)?;
                reason = Some(IsoReason::parse(code).map_err(|e| ConnectorError::invalid(cd.path(), e.to_string()))?);
            } else {
                let prtry = req_text(rsn, "Prtry", MAX35)?;
                match IsoReason::parse(prtry) {
                    Ok(r) => reason = Some(r),
                    Err(_) => {
                        reason = Some(IsoReason::NARR);
                        additional_info = Some(format!("proprietary reason {prtry}"));
                    }
                }
            }
        }
        let mut info = String::new();
        for el in inf.children().filter(|c| c.name() == "AddtlInf") {
            let piece = el.text();
            if piece.chars().count() > ADDTL_INF_LEN {
                return Err(ConnectorError::invalid(el.path(), format!("longer than {ADDTL_INF_LEN} characters")));
            }
            if !piece.is_empty() {
                if !info.is_empty() {
                    info.push(' ');
                }
                info.push_str(piece);
            }
        }
        if !info.is_empty() {
            additional_info = Some(match additional_info {
                Some(prefix) => format!("{prefix}: {info}"),
                None => info,
            });
        }
        if additional_info.as_ref().is_some_and(|i| i.chars().count() > ADDTL_INF_LEN * MAX_ADDTL_INF) {
            return Err(ConnectorError::invalid(
                inf.path() + "/AddtlInf",
                format!("more than {} characters in all", ADDTL_INF_LEN * MAX_ADDTL_INF),
            ));
        }
    }
    let own = profile.network;
    let instructing_agent = tx.child("InstgAgt").map(|a| read_agent(a, own)).transpose()?;
    let instructed_agent = tx.child("InstdAgt").map(|a| read_agent(a, own)).transpose()?;
    // Other parts of the original's reference (dates, parties) are not read.
    let original_amount =
        tx.child("OrgnlTxRef").and_then(|r| r.child("IntrBkSttlmAmt")).map(read_amount).transpose()?;
    Ok(CanonicalStatus {
        message_id,
        created_at,
        original_message_id,
        original_end_to_end_id,
        original_transaction_id,
        original_uetr,
        status,
        reason,
        additional_info,
        instructing_agent,
        instructed_agent,
        original_amount,
    })
}

/// Splits additional information into `AddtlInf` lines of at most 105 characters, breaking at
/// the last space of a line where there is one (the space is the line break).
fn lines(info: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = info;
    while !rest.is_empty() {
        let end = match rest.char_indices().nth(ADDTL_INF_LEN) {
            None => rest.len(),
            Some((limit, _)) => match rest[..limit].rfind(' ') {
                Some(space) if space > 0 => space,
                _ => limit,
            },
        };
        out.push(&rest[..end]);
        rest = rest[end..].strip_prefix(' ').unwrap_or(&rest[end..]);
    }
    out
}

/// What the SPI catalogue's pacs.002 carries: the original is named by its transaction id
/// (`OrgnlInstrId`) and end-to-end id; no UETR and no agents.
fn carried_spi(s: &CanonicalStatus) -> CanonicalStatus {
    let mut out = s.clone();
    out.original_message_id = s.original_transaction_id.clone();
    out.original_uetr = None;
    out.instructing_agent = None;
    out.instructed_agent = None;
    out
}

/// What survives a pacs.002 round trip under `profile`.
pub fn carried_in(profile: &IsoProfile, s: &CanonicalStatus) -> CanonicalStatus {
    match profile.envelope {
        Envelope::Spi(_) => carried(&carried_spi(s)),
        Envelope::Iso | Envelope::FedNow | Envelope::Fps => carried(&fitted_to_version(profile, s)),
    }
}

/// What the emitted pacs.002 has room for: pacs.002.001.08 has no `OrgnlUETR`.
fn fitted_to_version(profile: &IsoProfile, s: &CanonicalStatus) -> CanonicalStatus {
    let mut out = s.clone();
    if !profile.pacs002.carries_uetr() {
        out.original_uetr = None;
    }
    out
}

/// What survives a pacs.002 round trip: everything the canonical status holds, except that
/// information longer than one `AddtlInf` comes back with its lines trimmed and joined by one
/// space.
pub fn carried(s: &CanonicalStatus) -> CanonicalStatus {
    let mut out = s.clone();
    if let Some(info) = &s.additional_info {
        let joined = lines(info).iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        out.additional_info = (!joined.is_empty()).then_some(joined);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_spaces() {
        assert_eq!(lines("short"), vec!["short"]);
        let long = format!("{} {}", "a".repeat(100), "b".repeat(50));
        assert_eq!(lines(&long), vec!["a".repeat(100).as_str(), "b".repeat(50).as_str()]);
        let word = "c".repeat(230);
        assert_eq!(lines(&word).iter().map(|l| l.len()).collect::<Vec<_>>(), vec![105, 105, 20]);
        assert!(lines(&"x ".repeat(200)).iter().all(|l| l.chars().count() <= ADDTL_INF_LEN));
    }

    /// Lines are cut by characters, so multi-byte text splits between characters.
    #[test]
    fn lines_of_non_ascii_text() {
        let wide = "付".repeat(230);
        assert_eq!(lines(&wide).iter().map(|l| l.chars().count()).collect::<Vec<_>>(), vec![105, 105, 20]);
        let mixed = format!("{} {}", "é".repeat(104), "😀".repeat(120));
        let got = lines(&mixed);
        assert_eq!(got[0], "é".repeat(104));
        assert!(got.iter().all(|l| l.chars().count() <= ADDTL_INF_LEN));
        assert_eq!(got.concat().chars().filter(|c| *c == '😀').count(), 120);
    }
}
