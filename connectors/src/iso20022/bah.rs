//! Business Application Header (head.001.001.01/02/03): `Fr`, `To`, `BizMsgIdr`, `MsgDefIdr`,
//! `CreDt`. Interlink writes it and checks it on input; the canonical model carries none of
//! its fields (the business message id is the document's `MsgId`).

use super::{leaf_text, req, write_fin_instn_id, Envelope, IsoProfile, MsgDef, SpiRules, MAX35};
use crate::canonical::Agent;
use crate::connector::ConnectorError;
use crate::time;
use crate::xml::{El, XmlWriter};

/// A header party: an agent (`FIId`), or an organisation by name when the status report names
/// no agent.
pub enum Party<'p> {
    Agent(&'p Agent),
    Name(&'p str),
}

fn write_party(w: &mut XmlWriter, tag: &str, party: Party<'_>, profile: &IsoProfile) -> Result<(), ConnectorError> {
    w.open(tag);
    match party {
        Party::Agent(agent) => {
            w.open("FIId");
            write_fin_instn_id(w, agent, profile.network, &format!("AppHdr/{tag}"))?;
            w.close("FIId");
        }
        Party::Name(name) => {
            w.open("OrgId");
            w.leaf("Nm", name);
            w.close("OrgId");
        }
    }
    w.close(tag);
    Ok(())
}

/// The fields of a header Interlink writes.
pub struct Header<'p> {
    pub version: MsgDef,
    pub from: Party<'p>,
    pub to: Party<'p>,
    pub business_message_id: &'p str,
    /// The definition of the document the header travels with.
    pub msg_def: MsgDef,
    pub created_at: i64,
}

/// Writes `<AppHdr>`.
pub fn write(w: &mut XmlWriter, profile: &IsoProfile, h: Header<'_>) -> Result<(), ConnectorError> {
    w.set_prefix(profile.header_prefix());
    w.open_ns("AppHdr", h.version.namespace());
    write_party(w, "Fr", h.from, profile)?;
    write_party(w, "To", h.to, profile)?;
    w.leaf("BizMsgIdr", h.business_message_id);
    w.leaf("MsgDefIdr", h.msg_def.id());
    if matches!(profile.envelope, Envelope::FedNow) {
        // FedNow's header names its market practice (FedNow Service samples).
        w.open("MktPrctc");
        w.leaf("Regy", FEDNOW_MARKET_PRACTICE_REGISTRY);
        w.leaf("Id", FEDNOW_MARKET_PRACTICE_ID);
        w.close("MktPrctc");
    }
    w.leaf_with("CreDt", None, |out| {
        time::write_datetime(out, h.created_at, 0);
        Ok(())
    })?;
    w.close("AppHdr");
    Ok(())
}

pub const FEDNOW_MARKET_PRACTICE_REGISTRY: &str =
    "www2.swift.com/mystandards/#/group/Federal_Reserve_Financial_Services/FedNow_Service";
pub const FEDNOW_MARKET_PRACTICE_ID: &str = "frb.fednow.01";

/// An SPI header party: `FIId/FinInstnId/Othr/Id` with an ISPB.
fn write_spi_party(w: &mut XmlWriter, tag: &str, ispb: &str) {
    w.open(tag);
    w.open("FIId");
    w.open("FinInstnId");
    w.open("Othr");
    w.leaf("Id", ispb);
    w.close("Othr");
    w.close("FinInstnId");
    w.close("FIId");
    w.close(tag);
}

/// Writes the SPI's `<AppHdr>` (in the envelope's namespace): from the network's own
/// participant among the message's parties (the SPI itself when neither is one) to the
/// SPI, which every participant sends to; an empty `Sgntr` (signing is not done here).
#[allow(clippy::too_many_arguments)]
pub fn write_spi(
    w: &mut XmlWriter,
    profile: &IsoProfile,
    rules: &SpiRules,
    from: Party<'_>,
    to: Party<'_>,
    business_message_id: &str,
    msg_def: MsgDef,
    created_at: i64,
) -> Result<(), ConnectorError> {
    let own = |p: &Party<'_>| match p {
        Party::Agent(a) if a.network == profile.network.id => Some(a.institution_id.clone()),
        _ => None,
    };
    let sender = own(&from).or_else(|| own(&to)).unwrap_or_else(|| rules.spi_ispb.to_string());
    w.open("AppHdr");
    write_spi_party(w, "Fr", &sender);
    write_spi_party(w, "To", rules.spi_ispb);
    w.leaf("BizMsgIdr", business_message_id);
    w.leaf("MsgDefIdr", msg_def.id());
    w.leaf_with("CreDt", None, |out| {
        time::write_datetime(out, created_at, 0);
        Ok(())
    })?;
    w.open("Sgntr");
    w.close("Sgntr");
    w.close("AppHdr");
    Ok(())
}

/// Checks a header on input: an accepted version, a business message id, and a message
/// definition matching the document it travels with.
pub fn check(header: El<'_, '_>, document: MsgDef, accepted: &[MsgDef]) -> Result<(), ConnectorError> {
    if document.is_spi_catalogue() {
        // The SPI's header shares the envelope's (the document's) catalogue namespace.
        if header.ns() != document.namespace() {
            return Err(ConnectorError::WrongNamespace {
                found: header.ns().to_string(),
                expected: document.namespace().to_string(),
            });
        }
    } else if !accepted.iter().any(|v| v.namespace() == header.ns()) {
        return Err(ConnectorError::WrongNamespace {
            found: header.ns().to_string(),
            expected: if accepted.is_empty() {
                "no Business Application Header".to_string()
            } else {
                accepted.iter().map(|v| v.namespace()).collect::<Vec<_>>().join(" or ")
            },
        });
    }
    leaf_text(req(header, "BizMsgIdr")?, MAX35)?;
    let def = leaf_text(req(header, "MsgDefIdr")?, MAX35)?;
    if def != document.id() {
        return Err(ConnectorError::invalid(
            header.path() + "/MsgDefIdr",
            format!("{def:?} does not match the document ({})", document.id()),
        ));
    }
    Ok(())
}
