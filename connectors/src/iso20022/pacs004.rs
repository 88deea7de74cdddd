//! pacs.004 payment return (one returned transaction per message): a settled payment
//! sent back, referring to the original by its ids, with the amount returned and the
//! return reason.

use super::{
    check_text, close_message, header_party, leaf_text, message, open_message, opt_text, read_agent, read_amount,
    read_group_header, req, req_text, write_agent, write_amount, write_one_transaction_settlement, IsoProfile, MAX35,
};
use crate::canonical::{CanonicalReturn, IsoReason};
use crate::connector::{admit, ConnectorError};
use crate::xml::{Doc, XmlWriter};
use crate::{time, uuid};

/// The message's root element, inside `Document`.
const ROOT: &str = "PmtRtr";

/// `RtrRsnInf/AddtlInf` is Max105Text; a return carries one.
const ADDTL_INF_LEN: usize = 105;

/// What every network's return must hold, whatever its message (UPI's too).
pub(crate) fn check_return(r: &CanonicalReturn) -> Result<(), ConnectorError> {
    check_text("message_id", &r.message_id, MAX35)?;
    check_text("return_id", &r.return_id, MAX35)?;
    check_text("original_message_id", &r.original_message_id, MAX35)?;
    check_text("original_end_to_end_id", &r.original_end_to_end_id, MAX35)?;
    check_text("original_transaction_id", &r.original_transaction_id, MAX35)?;
    if let Some(u) = &r.original_uetr {
        uuid::uetr(u).map_err(|e| ConnectorError::invalid("original_uetr", e))?;
    }
    if !time::in_range(r.created_at) {
        return Err(ConnectorError::invalid("created_at", "outside years 0001-9999"));
    }
    if r.returned_amount.minor_units <= 0 {
        return Err(ConnectorError::InvalidAmount {
            path: "returned_amount".into(),
            reason: "not greater than zero".into(),
        });
    }
    if let Some(info) = &r.additional_info {
        check_text("additional_info", info, ADDTL_INF_LEN)?;
    }
    if let IsoReason::Other(code) = &r.reason {
        IsoReason::parse(code).map_err(|e| ConnectorError::invalid("reason", e.to_string()))?;
    }
    Ok(())
}

/// Builds the network's pacs.004 for `r`.
pub fn encode(profile: &IsoProfile, r: &CanonicalReturn) -> Result<Vec<u8>, ConnectorError> {
    check_return(r)?;
    let own = profile.network;
    let mut w = XmlWriter::new(1536);
    let (from, to) = (header_party(&r.instructing_agent, own), header_party(&r.instructed_agent, own));
    open_message(&mut w, profile, profile.pacs004, ROOT, from, to, &r.message_id, r.created_at)?;
    write_one_transaction_settlement(&mut w, profile);
    w.close("GrpHdr");
    w.open("TxInf");
    w.leaf("RtrId", &r.return_id);
    w.open("OrgnlGrpInf");
    w.leaf("OrgnlMsgId", &r.original_message_id);
    w.leaf("OrgnlMsgNmId", profile.pacs008.id());
    w.close("OrgnlGrpInf");
    w.leaf("OrgnlEndToEndId", &r.original_end_to_end_id);
    w.leaf("OrgnlTxId", &r.original_transaction_id);
    if let Some(u) = &r.original_uetr {
        w.leaf("OrgnlUETR", u);
    }
    write_amount(&mut w, "RtrdIntrBkSttlmAmt", &r.returned_amount)?;
    w.leaf_with("IntrBkSttlmDt", None, |out| {
        time::write_local_date(out, r.created_at, profile.utc_offset_minutes);
        Ok(())
    })?;
    if let Some(a) = &r.instructing_agent {
        write_agent(&mut w, "InstgAgt", a, own, "instructing_agent")?;
    }
    if let Some(a) = &r.instructed_agent {
        write_agent(&mut w, "InstdAgt", a, own, "instructed_agent")?;
    }
    w.open("RtrRsnInf");
    w.open("Rsn");
    w.leaf("Cd", r.reason.code());
    w.close("Rsn");
    if let Some(info) = &r.additional_info {
        w.leaf("AddtlInf", info);
    }
    w.close("RtrRsnInf");
    w.close("TxInf");
    Ok(close_message(w, profile, profile.pacs004, ROOT))
}

/// Reads a pacs.004 the network sent.
pub fn decode(profile: &IsoProfile, bytes: &[u8]) -> Result<CanonicalReturn, ConnectorError> {
    let text = admit(bytes)?;
    let doc = Doc::parse(text)?;
    let opened = super::open(&doc, profile, profile.pacs004_accepted)?;
    let msg = message(opened.document, ROOT)?;
    let (message_id, created_at) = read_group_header(msg)?;
    let tx = match msg.count("TxInf") {
        1 => req(msg, "TxInf")?,
        0 => return Err(ConnectorError::MissingField(format!("{}/TxInf", msg.path()))),
        n => return Err(ConnectorError::UnsupportedMessage(format!("{n} TxInf; Interlink takes one per message"))),
    };
    let return_id = req_text(tx, "RtrId", MAX35)?.to_string();
    let original_message_id = req_text(req(tx, "OrgnlGrpInf")?, "OrgnlMsgId", MAX35)?.to_string();
    let original_end_to_end_id = req_text(tx, "OrgnlEndToEndId", MAX35)?.to_string();
    let original_transaction_id = req_text(tx, "OrgnlTxId", MAX35)?.to_string();
    let original_uetr = opt_text(tx, "OrgnlUETR", 36)?.map(str::to_string);
    if let Some(u) = &original_uetr {
        uuid::uetr(u).map_err(|e| ConnectorError::invalid(tx.path() + "/OrgnlUETR", e))?;
    }
    let returned_amount = read_amount(req(tx, "RtrdIntrBkSttlmAmt")?)?;
    let info = req(tx, "RtrRsnInf")?;
    let rsn = req(info, "Rsn")?;
    let (reason, mut additional_info) = match rsn.child("Cd") {
        Some(cd) => {
            let code = leaf_text(cd, 4)?;
            (IsoReason::parse(code).map_err(|e| ConnectorError::invalid(cd.path(), e.to_string()))?, None)
        }
        None => {
            let prtry = req_text(rsn, "Prtry", MAX35)?;
            match IsoReason::parse(prtry) {
                Ok(r) => (r, None),
                Err(_) => (IsoReason::NARR, Some(format!("proprietary reason {prtry}"))),
            }
        }
    };
    if let Some(line) = opt_text(info, "AddtlInf", ADDTL_INF_LEN)? {
        additional_info = Some(match additional_info {
            Some(prefix) => format!("{prefix}: {line}"),
            None => line.to_string(),
        });
    }
    let own = profile.network;
    let instructing_agent = tx.child("InstgAgt").map(|a| read_agent(a, own)).transpose()?;
    let instructed_agent = tx.child("InstdAgt").map(|a| read_agent(a, own)).transpose()?;
    Ok(CanonicalReturn {
        message_id,
        created_at,
        return_id,
        original_message_id,
        original_end_to_end_id,
        original_transaction_id,
        original_uetr,
        returned_amount,
        reason,
        additional_info,
        instructing_agent,
        instructed_agent,
    })
}

#[cfg(test)]
mod tests {
    use crate::canonical::{CanonicalReturn, IsoReason, Money};
    use crate::ConnectorError;
    use proptest::prelude::*;

    fn sample(network: &str, currency: &str) -> CanonicalReturn {
        CanonicalReturn {
            message_id: format!("RTN{}0001", &network[..2]),
            created_at: 1_764_000_000_000_000,
            return_id: "RTR0001".into(),
            original_message_id: "0193a1b27c4d7e2f9a103b4c5d6e7f80".into(),
            original_end_to_end_id: "E2E20261201CN0000000001".into(),
            original_transaction_id: "0193a1b27c4d7e2f9a103b4c5d6e7f80".into(),
            original_uetr: Some("8a562c67-ca16-48ba-b074-65581be6f001".into()),
            returned_amount: Money::new(12_345, currency),
            reason: IsoReason::parse("FOCR").unwrap(),
            additional_info: Some("settled after the switch's deadline".into()),
            instructing_agent: None,
            instructed_agent: None,
        }
    }

    /// Every ISO 20022 network reads back the return it writes.
    #[test]
    fn every_iso_network_returns_a_payment_and_reads_it_back() {
        let mut iso = 0;
        // UPI reverses with its own message (networks/in_upi).
        for c in crate::connectors().filter(|c| c.profile().id != "IN_UPI") {
            let profile = c.profile();
            let r = sample(profile.id, profile.currency);
            match c.encode_return(&r) {
                Ok(bytes) => {
                    iso += 1;
                    let text = std::str::from_utf8(&bytes).unwrap();
                    assert!(text.contains("PmtRtr") && text.contains("pacs.004."), "{}: {text}", profile.id);
                    assert_eq!(c.decode_return(&bytes).unwrap(), r, "{}", profile.id);
                    // A return is neither a payment nor a status report.
                    assert!(c.decode_status(&bytes).is_err() && c.decode_payment(&bytes).is_err(), "{}", profile.id);
                }
                Err(e) => panic!("{}: {e}", profile.id),
            }
        }
        assert_eq!(iso, 9, "the nine ISO 20022 networks return payments");
    }

    #[test]
    fn a_return_without_its_amount_or_with_an_unknown_reason_is_refused() {
        let hk = crate::connector("HK_FPS").unwrap();
        let good = String::from_utf8(hk.encode_return(&sample("HK_FPS", "HKD")).unwrap()).unwrap();
        // Cut the element out, whatever namespace prefix the network writes.
        let name = "RtrdIntrBkSttlmAmt";
        let open = good[..good.find(name).unwrap()].rfind('<').unwrap();
        let close = good.rfind(name).unwrap() + name.len() + 1;
        let no_amount = format!("{}{}", &good[..open], &good[close..]);
        let err = hk.decode_return(no_amount.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("RtrdIntrBkSttlmAmt"), "{err}");
        // Not a code at all (codes are four letters or digits).
        let bad_reason = good.replace(">FOCR<", ">fo!<");
        assert_ne!(bad_reason, good);
        assert!(hk.decode_return(bad_reason.as_bytes()).is_err());
        let mut zero = sample("HK_FPS", "HKD");
        zero.returned_amount.minor_units = 0;
        assert!(matches!(hk.encode_return(&zero), Err(ConnectorError::InvalidAmount { .. })));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let hk = crate::connector("HK_FPS").unwrap();
            let _ = hk.decode_return(&bytes);
        }

        #[test]
        fn mutated_returns_never_panic(cut in 0usize..2000, byte in any::<u8>()) {
            let hk = crate::connector("HK_FPS").unwrap();
            let mut bytes = hk.encode_return(&sample("HK_FPS", "HKD")).unwrap();
            let at = cut % bytes.len();
            bytes[at] = byte;
            let _ = hk.decode_return(&bytes);
            let _ = hk.decode_return(&bytes[..at]);
        }
    }
}
