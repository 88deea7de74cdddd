//! Business Application Header (head.001.001.01/02/03): `Fr`, `To`, `BizMsgIdr`, `MsgDefIdr`,
//! `CreDt`. Interlink writes it and checks it on input; the canonical model carries none of
//! its fields (the business message id is the document's `MsgId`).

use super::{leaf_text, req, write_fin_instn_id, IsoProfile, MsgDef, MAX35};
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
    w.leaf_with("CreDt", None, |out| {
        time::write_datetime(out, h.created_at, 0);
        Ok(())
    })?;
    w.close("AppHdr");
    Ok(())
}

/// Checks a header on input: an accepted version, a business message id, and a message
/// definition matching the document it travels with.
pub fn check(header: El<'_, '_>, document: MsgDef, accepted: &[MsgDef]) -> Result<(), ConnectorError> {
    if !accepted.iter().any(|v| v.namespace() == header.ns()) {
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
