//! ISO 20022 pacs.008 / pacs.002 with an optional Business Application Header, shared by the
//! ISO 20022 networks. Each network describes its usage in an [`IsoProfile`].
//!
//! Input: a bare `<Document>`, or a business message envelope (`BizMsgEnvlp`, `Envelope` or
//! `Message`) holding `<AppHdr>` and `<Document>`; default namespaces and prefixes alike.
//! The document's namespace selects the message version, which must be one the network
//! accepts. Output: the network's emitted version, with or without a header, with the
//! network's prefix style.

pub mod bah;
mod connector;
pub mod pacs002;
pub mod pacs004;
pub mod pacs008;

pub use connector::IsoConnector;

use crate::account::{self, AccountForm};
use crate::canonical::{Agent, Alias, AliasScheme, CanonicalPayment, Money};
use crate::connector::{ConnectorError, Side};
use crate::xml::{Doc, El, XmlWriter};
use crate::{registry, FormatError, IdScheme, NetworkProfile};

/// ISO 20022 message definitions the connectors know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgDef {
    /// pacs.008.001.06: no `UETR`, accounts as CashAccount24 (`Id` mandatory, no `Prxy`).
    /// HKICL's FPS carries it in its own envelope.
    Pacs008V06,
    Pacs008V08,
    Pacs008V10,
    Pacs008V13,
    /// pacs.002.001.08: no `OrgnlUETR` (HKICL's FPS, with pacs.008.001.06).
    Pacs002V08,
    Pacs002V10,
    Pacs002V12,
    Pacs004V09,
    Pacs004V11,
    Head001V01,
    Head001V02,
    Head001V03,
    /// The Central Bank of Brazil's SPI catalogue versions (Pix): ISO messages restricted
    /// and renamed (`pacs.008.spi.1.13`), each in its own `https://www.bcb.gov.br/pi/…`
    /// namespace shared by the envelope, header and document.
    SpiPacs008V113,
    SpiPacs008V114,
    SpiPacs008V116,
    SpiPacs002V114,
    SpiPacs002V117,
    SpiPacs004V15,
}

impl MsgDef {
    pub const ALL: [MsgDef; 18] = [
        Self::Pacs008V06,
        Self::Pacs008V08,
        Self::Pacs008V10,
        Self::Pacs008V13,
        Self::Pacs002V08,
        Self::Pacs002V10,
        Self::Pacs002V12,
        Self::Pacs004V09,
        Self::Pacs004V11,
        Self::Head001V01,
        Self::Head001V02,
        Self::Head001V03,
        Self::SpiPacs008V113,
        Self::SpiPacs008V114,
        Self::SpiPacs008V116,
        Self::SpiPacs002V114,
        Self::SpiPacs002V117,
        Self::SpiPacs004V15,
    ];

    /// Message definition identifier, as in a header's `MsgDefIdr`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Pacs008V06 => "pacs.008.001.06",
            Self::Pacs008V08 => "pacs.008.001.08",
            Self::Pacs008V10 => "pacs.008.001.10",
            Self::Pacs008V13 => "pacs.008.001.13",
            Self::Pacs002V08 => "pacs.002.001.08",
            Self::Pacs002V10 => "pacs.002.001.10",
            Self::Pacs002V12 => "pacs.002.001.12",
            Self::Pacs004V09 => "pacs.004.001.09",
            Self::Pacs004V11 => "pacs.004.001.11",
            Self::Head001V01 => "head.001.001.01",
            Self::Head001V02 => "head.001.001.02",
            Self::Head001V03 => "head.001.001.03",
            Self::SpiPacs008V113 => "pacs.008.spi.1.13",
            Self::SpiPacs008V114 => "pacs.008.spi.1.14",
            Self::SpiPacs008V116 => "pacs.008.spi.1.16",
            Self::SpiPacs002V114 => "pacs.002.spi.1.14",
            Self::SpiPacs002V117 => "pacs.002.spi.1.17",
            Self::SpiPacs004V15 => "pacs.004.spi.1.5",
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Self::Pacs008V06 => "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.06",
            Self::Pacs008V08 => "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08",
            Self::Pacs008V10 => "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.10",
            Self::Pacs008V13 => "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.13",
            Self::Pacs002V08 => "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.08",
            Self::Pacs002V10 => "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10",
            Self::Pacs002V12 => "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.12",
            Self::Pacs004V09 => "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09",
            Self::Pacs004V11 => "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.11",
            Self::Head001V01 => "urn:iso:std:iso:20022:tech:xsd:head.001.001.01",
            Self::Head001V02 => "urn:iso:std:iso:20022:tech:xsd:head.001.001.02",
            Self::Head001V03 => "urn:iso:std:iso:20022:tech:xsd:head.001.001.03",
            Self::SpiPacs008V113 => "https://www.bcb.gov.br/pi/pacs.008/1.13",
            Self::SpiPacs008V114 => "https://www.bcb.gov.br/pi/pacs.008/1.14",
            Self::SpiPacs008V116 => "https://www.bcb.gov.br/pi/pacs.008/1.16",
            Self::SpiPacs002V114 => "https://www.bcb.gov.br/pi/pacs.002/1.14",
            Self::SpiPacs002V117 => "https://www.bcb.gov.br/pi/pacs.002/1.17",
            Self::SpiPacs004V15 => "https://www.bcb.gov.br/pi/pacs.004/1.5",
        }
    }

    /// Whether this is a version of the BCB's SPI catalogue rather than of ISO's own list.
    pub fn is_spi_catalogue(self) -> bool {
        match self {
            Self::SpiPacs008V113
            | Self::SpiPacs008V114
            | Self::SpiPacs008V116
            | Self::SpiPacs002V114
            | Self::SpiPacs002V117
            | Self::SpiPacs004V15 => true,
            Self::Pacs008V06
            | Self::Pacs008V08
            | Self::Pacs008V10
            | Self::Pacs008V13
            | Self::Pacs002V08
            | Self::Pacs002V10
            | Self::Pacs002V12
            | Self::Pacs004V09
            | Self::Pacs004V11
            | Self::Head001V01
            | Self::Head001V02
            | Self::Head001V03 => false,
        }
    }

    /// pacs.008.001.06 (CashAccount24) and .08 (CashAccount38) make the account `Id`
    /// mandatory; later versions use CashAccount40, where a proxy alone may identify the
    /// account. The SPI catalogue always needs the account (the payer's PSP resolves the Pix
    /// key first).
    pub fn account_id_mandatory(self) -> bool {
        matches!(self, Self::Pacs008V06 | Self::Pacs008V08)
            || (self.is_spi_catalogue() && self.id().starts_with("pacs.008"))
    }

    /// Whether the message has the UETR (`PmtId/UETR`, `OrgnlUETR`): ISO added it in the 2019
    /// versions (pacs.008.001.08, pacs.002.001.10, pacs.004.001.09); the SPI catalogue has none.
    pub fn carries_uetr(self) -> bool {
        !matches!(self, Self::Pacs008V06 | Self::Pacs002V08) && !self.is_spi_catalogue()
    }

    /// Whether a cash account may carry a proxy (`Prxy`): CashAccount24 of pacs.008.001.06 has
    /// none, so an alias does not travel in it.
    pub fn carries_proxy(self) -> bool {
        self != Self::Pacs008V06
    }
}

/// How a network wraps the header and document on the wire.
#[derive(Debug, Clone, Copy)]
pub enum Envelope {
    /// ISO 20022's business message: `<BizMsgEnvlp>` around `AppHdr` + `Document` when the
    /// network uses a header, a bare `Document` otherwise. On input any `BizMsgEnvlp`,
    /// `Envelope` or `Message` root is read the same way.
    Iso,
    /// FedNow's own envelope: `FedNowIncoming` (participant to FedNow) or `FedNowOutgoing`
    /// (FedNow to participant), its `…Message` element and a per-message wrapper
    /// (`FedNowCustomerCreditTransfer`, `FedNowPaymentStatus`, `FedNowPaymentReturn`)
    /// around the head.001.001.02 `AppHdr` and the `Document` (FedNow Service samples).
    FedNow,
    /// The BCB's SPI form (Pix): `<Envelope>` in the message's catalogue namespace, with
    /// `AppHdr` (ISPBs as `FIId/FinInstnId/Othr/Id`, `MsgDefIdr` `pacs.008.spi.1.13`,
    /// `Sgntr`) and `Document` in that same namespace.
    Spi(&'static SpiRules),
    /// HKICL's FPS envelope: `<fps:FpsMsg xmlns:fps="urn:hkicl:fps:xsd:fps.envelope.01">` with
    /// `NbOfMsgs` and `FpsPylds/BizData` around a head.001.001.01 `AppHdr` (`ah:`) and the
    /// `Document` (`doc:`), as open-source FPS participant code shows it.
    Fps,
}

impl Envelope {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Iso => "ISO business message",
            Self::FedNow => "FedNow envelope",
            Self::Spi(_) => "BCB SPI envelope",
            Self::Fps => "HKICL FPS envelope",
        }
    }
}

/// The parts of the SPI catalogue that are the network's own data.
#[derive(Debug)]
pub struct SpiRules {
    /// The SPI's own ISPB: `AppHdr/To` of every message a participant sends.
    pub spi_ispb: &'static str,
    /// The scheme of a Pix key written without a type (`CdtrAcct/Prxy/Id`), from its form.
    pub key_scheme: fn(&str) -> Option<AliasScheme>,
}

pub const FEDNOW_INCOMING: &str = "urn:fednow:incoming:v001";
pub const FEDNOW_OUTGOING: &str = "urn:fednow:outgoing:v001";

/// The namespace of HKICL's FPS envelope, its root element, and the prefixes its messages use.
pub const FPS_ENVELOPE: &str = "urn:hkicl:fps:xsd:fps.envelope.01";
pub const FPS_ROOT: &str = "FpsMsg";
const FPS_PREFIX: &str = "fps";
const FPS_HEADER_PREFIX: &str = "ah";

/// FedNow's wrapper element of a message definition.
fn fednow_wrapper(def: MsgDef) -> &'static str {
    if def.id().starts_with("pacs.008") {
        "FedNowCustomerCreditTransfer"
    } else if def.id().starts_with("pacs.004") {
        "FedNowPaymentReturn"
    } else {
        "FedNowPaymentStatus"
    }
}

/// A code-or-proprietary choice (`<Cd>` or `<Prtry>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Cd(&'static str),
    Prtry(&'static str),
}

/// A network's rule for the accounts of its own customers (SEPA: an IBAN of a SEPA country).
#[derive(Debug, Clone, Copy)]
pub struct AccountRule {
    /// Checks an account id, giving the reason it fails.
    pub check: fn(&str) -> Result<(), FormatError>,
    /// The form a valid account takes, for [`Connector::account_form`](crate::Connector::account_form).
    pub form: AccountForm,
}

/// How one network uses ISO 20022.
#[derive(Debug, Clone, Copy)]
pub struct IsoProfile {
    pub network: &'static NetworkProfile,
    /// Emitted pacs.008 version, and those accepted on input.
    pub pacs008: MsgDef,
    pub pacs008_accepted: &'static [MsgDef],
    /// Emitted pacs.002 version, and those accepted on input.
    pub pacs002: MsgDef,
    pub pacs002_accepted: &'static [MsgDef],
    /// Emitted pacs.004 (payment return) version, and those accepted on input.
    pub pacs004: MsgDef,
    pub pacs004_accepted: &'static [MsgDef],
    /// Business Application Header emitted (inside a `BizMsgEnvlp`), if any.
    pub header: Option<MsgDef>,
    /// Header versions accepted on input; messages without a header are accepted too.
    pub header_accepted: &'static [MsgDef],
    /// Namespace prefix for emitted documents; "" for a default namespace.
    pub prefix: &'static str,
    /// `GrpHdr/SttlmInf/SttlmMtd`.
    pub settlement_method: &'static str,
    /// `GrpHdr/SttlmInf/ClrSys`.
    pub clearing_system: Option<Code>,
    /// `PmtTpInf/SvcLvl/Cd`.
    pub service_level: Option<&'static str>,
    /// `PmtTpInf/LclInstrm`, chosen per payment.
    pub local_instrument: fn(&CanonicalPayment) -> Option<Code>,
    /// Extra rule for the accounts of this network's own customers (SEPA: an IBAN of a SEPA
    /// country), checked on encode and decode.
    pub own_account_rule: Option<AccountRule>,
    /// Whether debtor and creditor names are mandatory (`Dbtr/Nm`, `Cdtr/Nm`).
    pub names_required: bool,
    /// Whether `PmtId/UETR` is mandatory.
    pub uetr_required: bool,
    /// Offset of the local time written in `CreDtTm` and `IntrBkSttlmDt`, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The envelope around header and document, emitted and (with bare documents and
    /// ISO envelopes) accepted.
    pub envelope: Envelope,
}

impl IsoProfile {
    pub fn header_prefix(&self) -> &'static str {
        if matches!(self.envelope, Envelope::Fps) {
            FPS_HEADER_PREFIX
        } else if self.prefix.is_empty() {
            ""
        } else {
            "head"
        }
    }
}

/// Every header version; all are accepted on input by every ISO 20022 connector.
pub const HEADERS: &[MsgDef] = &[MsgDef::Head001V01, MsgDef::Head001V02, MsgDef::Head001V03];

/// The message versions of a profile, for [`Connector::message_versions`](crate::Connector::message_versions).
pub fn versions(p: &IsoProfile) -> crate::connector::MessageVersions {
    let ids = |defs: &[MsgDef]| defs.iter().map(|d| d.id()).collect();
    crate::connector::MessageVersions {
        payment: p.pacs008.id(),
        payment_accepted: ids(p.pacs008_accepted),
        status: p.pacs002.id(),
        status_accepted: ids(p.pacs002_accepted),
        header: p.header.map(MsgDef::id),
        header_accepted: ids(p.header_accepted),
        envelope: p.envelope.name(),
    }
}

/// No local instrument.
pub fn no_local_instrument(_: &CanonicalPayment) -> Option<Code> {
    None
}

/// The envelope element emitted around `AppHdr` + `Document`.
pub const ENVELOPE: &str = "BizMsgEnvlp";
/// Envelope root elements accepted on input.
pub const ENVELOPES: &[&str] = &["BizMsgEnvlp", "Envelope", "Message"];

pub const MAX35: usize = 35;
pub const MAX140: usize = 140;
pub const MAX34: usize = 34;

/// The `<Document>` of a message, its version, its header if it had one, and the
/// envelope it came in.
pub struct Opened<'d, 'a> {
    pub document: El<'d, 'a>,
    pub version: MsgDef,
    pub header: Option<El<'d, 'a>>,
    /// The envelope's elements from the root down to the one holding the document
    /// (`FedNowOutgoing/FedNowOutgoingMessage/FedNowPaymentStatus`), empty for a bare document.
    pub envelope_path: String,
}

impl Opened<'_, '_> {
    /// What the message was recognised as, for people (`interlinkctl connectors decode`).
    pub fn form(&self) -> crate::connector::MessageForm {
        crate::connector::MessageForm {
            message: self.version.id(),
            namespace: self.version.namespace(),
            envelope: if self.envelope_path.is_empty() { "none".to_string() } else { self.envelope_path.clone() },
            header: self.header.map(|h| {
                if h.ns() == self.version.namespace() {
                    format!("AppHdr in {}", self.version.namespace())
                } else {
                    format!("AppHdr in {}", h.ns())
                }
            }),
        }
    }
}

/// The element holding `AppHdr` + `Document`, and the envelope's path to it.
fn envelope_holder<'d, 'a>(root: El<'d, 'a>, profile: &IsoProfile) -> Result<(El<'d, 'a>, String), ConnectorError> {
    let name = root.name();
    if ENVELOPES.contains(&name) {
        return Ok((root, name.to_string()));
    }
    if name == FPS_ROOT {
        return fps_business_data(root, profile);
    }
    let fednow = match name {
        "FedNowIncoming" => Some((FEDNOW_INCOMING, "FedNowIncomingMessage")),
        "FedNowOutgoing" => Some((FEDNOW_OUTGOING, "FedNowOutgoingMessage")),
        _ => None,
    };
    let Some((namespace, message)) = fednow else {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "root element <{name}> is neither a Document nor a business message envelope"
        )));
    };
    if !matches!(profile.envelope, Envelope::FedNow) {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "<{name}> is FedNow's envelope; {} does not use it",
            profile.network.id
        )));
    }
    if root.ns() != namespace {
        return Err(ConnectorError::WrongNamespace { found: root.ns().to_string(), expected: namespace.to_string() });
    }
    let msg = root.child(message).ok_or_else(|| ConnectorError::MissingField(format!("{name}/{message}")))?;
    let mut wrappers = msg.children();
    let wrapper = wrappers.next().ok_or_else(|| ConnectorError::MissingField(format!("{name}/{message}/*")))?;
    if wrappers.next().is_some() {
        return Err(ConnectorError::UnsupportedMessage(format!("{name}/{message} holds more than one message")));
    }
    Ok((wrapper, format!("{name}/{message}/{}", wrapper.name())))
}

/// The one `BizData` of an FPS envelope. The envelope may carry several (HKICL's batch
/// files); Interlink takes one message per envelope, as it takes one transaction per message.
fn fps_business_data<'d, 'a>(root: El<'d, 'a>, profile: &IsoProfile) -> Result<(El<'d, 'a>, String), ConnectorError> {
    if !matches!(profile.envelope, Envelope::Fps) {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "<{FPS_ROOT}> is HKICL FPS's envelope; {} does not use it",
            profile.network.id
        )));
    }
    if root.ns() != FPS_ENVELOPE {
        return Err(ConnectorError::WrongNamespace {
            found: root.ns().to_string(),
            expected: FPS_ENVELOPE.to_string(),
        });
    }
    let count = req(root, "NbOfMsgs")?;
    let messages: u64 =
        leaf_text(count, 15)?.parse().map_err(|_| ConnectorError::invalid(count.path(), "not a whole number"))?;
    if messages != 1 {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "{messages} messages in one {FPS_ROOT}; Interlink takes one per envelope"
        )));
    }
    let payloads = req(root, "FpsPylds")?;
    match payloads.count("BizData") {
        1 => {}
        0 => return Err(ConnectorError::MissingField(format!("{}/BizData", payloads.path()))),
        n => {
            return Err(ConnectorError::UnsupportedMessage(format!(
                "{n} BizData in one {FPS_ROOT}; Interlink takes one per envelope"
            )))
        }
    }
    Ok((req(payloads, "BizData")?, format!("{FPS_ROOT}/FpsPylds/BizData")))
}

/// Finds the document (inside an envelope or not), checks its namespace against `accepted`,
/// and checks the header if there is one.
pub fn open<'d, 'a>(
    doc: &'d Doc<'a>,
    profile: &IsoProfile,
    accepted: &[MsgDef],
) -> Result<Opened<'d, 'a>, ConnectorError> {
    let root = doc.root();
    let (document, header, envelope_path) = if root.name() == "Document" {
        (root, None, String::new())
    } else {
        let (holder, path) = envelope_holder(root, profile)?;
        let document =
            holder.child_any_ns("Document").ok_or_else(|| ConnectorError::MissingField(format!("{path}/Document")))?;
        (document, holder.child_any_ns("AppHdr"), path)
    };
    let version = accepted.iter().copied().find(|v| v.namespace() == document.ns()).ok_or_else(|| {
        ConnectorError::WrongNamespace {
            found: document.ns().to_string(),
            expected: accepted.iter().map(|v| v.namespace()).collect::<Vec<_>>().join(" or "),
        }
    })?;
    if let Some(h) = header {
        bah::check(h, version, profile.header_accepted)?;
    }
    Ok(Opened { document, version, header, envelope_path })
}

/// The single message element inside `<Document>`.
pub fn message<'d, 'a>(document: El<'d, 'a>, name: &str) -> Result<El<'d, 'a>, ConnectorError> {
    match document.child(name) {
        Some(m) => Ok(m),
        None => match document.children().next() {
            Some(other) => {
                Err(ConnectorError::UnsupportedMessage(format!("<{}> where <{name}> was expected", other.name())))
            }
            None => Err(ConnectorError::MissingField(format!("{}/{name}", document.path()))),
        },
    }
}

pub fn req<'d, 'a>(parent: El<'d, 'a>, name: &str) -> Result<El<'d, 'a>, ConnectorError> {
    parent.child(name).ok_or_else(|| ConnectorError::MissingField(format!("{}/{name}", parent.path())))
}

/// Text of a leaf: non-empty and at most `max` characters.
pub fn leaf_text<'d>(el: El<'d, '_>, max: usize) -> Result<&'d str, ConnectorError> {
    let t = el.text();
    if t.is_empty() {
        return Err(ConnectorError::MissingField(el.path()));
    }
    if el.has_children() {
        return Err(ConnectorError::invalid(el.path(), "expected text, found elements"));
    }
    if t.chars().count() > max {
        return Err(ConnectorError::invalid(el.path(), format!("longer than {max} characters")));
    }
    Ok(t)
}

pub fn req_text<'d>(parent: El<'d, '_>, name: &str, max: usize) -> Result<&'d str, ConnectorError> {
    leaf_text(req(parent, name)?, max)
}

pub fn opt_text<'d>(parent: El<'d, '_>, name: &str, max: usize) -> Result<Option<&'d str>, ConnectorError> {
    parent.child(name).map(|el| leaf_text(el, max)).transpose()
}

/// Checks a canonical text value before it is written: non-empty, no surrounding
/// whitespace (the decoder trims), no control characters, at most `max` characters.
pub fn check_text(path: &str, value: &str, max: usize) -> Result<(), ConnectorError> {
    let bad = |why: &str| Err(ConnectorError::invalid(path, why));
    if value.is_empty() {
        return bad("empty");
    }
    if value.trim() != value {
        return bad("leading or trailing whitespace");
    }
    if value.chars().any(char::is_control) {
        return bad("control characters");
    }
    if value.chars().count() > max {
        return bad(&format!("longer than {max} characters"));
    }
    Ok(())
}

/// ExternalClearingSystemIdentification1Code of an id scheme, where ISO has one.
pub fn clearing_code(scheme: IdScheme) -> Option<&'static str> {
    match scheme {
        IdScheme::Cnaps => Some("CNAPS"),
        IdScheme::HkClearingCode => Some("HKNCC"),
        IdScheme::ThBankCode => Some("THCBC"),
        IdScheme::Ifsc => Some("INFSC"),
        IdScheme::AbaRoutingNumber => Some("USABA"),
        IdScheme::Ispb | IdScheme::Bic => None,
    }
}

/// Looks up an agent's network and checks its id in that network's scheme.
pub fn agent_network(agent: &Agent, path: &str) -> Result<&'static NetworkProfile, ConnectorError> {
    let network = crate::network(&agent.network).ok_or_else(|| ConnectorError::UnknownAgent {
        path: path.to_string(),
        reason: format!("unknown network {:?}", agent.network),
    })?;
    network
        .validate_participant_id(&agent.institution_id)
        .map_err(|source| ConnectorError::InvalidParticipantId { path: path.to_string(), source })?;
    Ok(network)
}

/// Writes `FinInstnId` for an agent. Agents of `own` use the network's native form (BICFI, or
/// a clearing-system member id with the ISO clearing code); agents of other networks carry
/// their Interlink network id as a proprietary clearing system, with BICFI too when their
/// network identifies participants by BIC.
pub fn write_fin_instn_id(
    w: &mut XmlWriter,
    agent: &Agent,
    own: &NetworkProfile,
    path: &str,
) -> Result<(), ConnectorError> {
    let network = agent_network(agent, path)?;
    let foreign = network.id != own.id;
    w.open("FinInstnId");
    if network.participant_ids == IdScheme::Bic {
        w.leaf("BICFI", &agent.institution_id);
    }
    if network.participant_ids != IdScheme::Bic || foreign {
        w.open("ClrSysMmbId");
        let code =
            if foreign { Some(Code::Prtry(network.id)) } else { clearing_code(network.participant_ids).map(Code::Cd) };
        if let Some(code) = code {
            w.open("ClrSysId");
            write_code(w, code);
            w.close("ClrSysId");
        }
        w.leaf("MmbId", &agent.institution_id);
        w.close("ClrSysMmbId");
    }
    w.close("FinInstnId");
    Ok(())
}

pub fn write_agent(
    w: &mut XmlWriter,
    tag: &str,
    agent: &Agent,
    own: &NetworkProfile,
    path: &str,
) -> Result<(), ConnectorError> {
    w.open(tag);
    write_fin_instn_id(w, agent, own, path)?;
    w.close(tag);
    Ok(())
}

pub fn write_code(w: &mut XmlWriter, code: Code) {
    match code {
        Code::Cd(c) => w.leaf("Cd", c),
        Code::Prtry(p) => w.leaf("Prtry", p),
    }
}

/// Reads an agent (`<DbtrAgt>`, `<CdtrAgt>`, …) back; the inverse of [`write_agent`].
pub fn read_agent(el: El<'_, '_>, own: &'static NetworkProfile) -> Result<Agent, ConnectorError> {
    let fi = req(el, "FinInstnId")?;
    let unknown = |reason: String| ConnectorError::UnknownAgent { path: fi.path(), reason };
    let (network, id) = if let Some(m) = fi.child("ClrSysMmbId") {
        let id = req_text(m, "MmbId", MAX35)?;
        let network = match m.child("ClrSysId") {
            None => own,
            Some(cs) => {
                if let Some(p) = cs.child("Prtry") {
                    let p = leaf_text(p, MAX35)?;
                    crate::network(p).ok_or_else(|| unknown(format!("unknown clearing system {p:?}")))?
                } else {
                    let cd = req_text(cs, "Cd", 5)?;
                    registry::connectors()
                        .map(|c| c.profile())
                        .find(|n| clearing_code(n.participant_ids) == Some(cd))
                        .ok_or_else(|| unknown(format!("clearing system {cd:?} is not one Interlink connects")))?
                }
            }
        };
        if let Some(bic) = fi.child("BICFI") {
            if network.participant_ids == IdScheme::Bic && bic.text() != id {
                return Err(ConnectorError::invalid(fi.path(), "BICFI and clearing-system member id differ"));
            }
        }
        (network, id)
    } else if let Some(bic) = fi.child("BICFI") {
        if own.participant_ids != IdScheme::Bic {
            return Err(unknown(format!(
                "identified by BIC only, but {} identifies participants by {}",
                own.id,
                own.participant_ids.name()
            )));
        }
        (own, leaf_text(bic, 11)?)
    } else {
        return Err(ConnectorError::MissingField(format!("{}/BICFI or ClrSysMmbId", fi.path())));
    };
    network
        .validate_participant_id(id)
        .map_err(|source| ConnectorError::InvalidParticipantId { path: fi.path(), source })?;
    Ok(Agent::new(network.id, id))
}

/// Proxy type code on the wire: the ISO ExternalProxyAccountType1Code where there is one,
/// Interlink's alias scheme code as proprietary otherwise.
pub fn proxy_type(scheme: AliasScheme) -> Code {
    match scheme {
        AliasScheme::Mobile => Code::Cd("MBNO"),
        AliasScheme::Email => Code::Cd("EMAL"),
        other => Code::Prtry(other.code()),
    }
}

/// Checks an alias with the connector of the network that resolves it.
pub fn check_alias(alias: &Alias, network: &str) -> Result<(), ConnectorError> {
    match registry::connector(network) {
        Some(c) => c.validate_alias(alias),
        None => {
            Err(ConnectorError::UnknownAgent { path: "alias".into(), reason: format!("unknown network {network:?}") })
        }
    }
}

/// Writes a cash account: `Id/IBAN` for IBANs, `Id/Othr/Id` otherwise, then `Prxy`.
pub fn write_account(w: &mut XmlWriter, tag: &str, account: Option<&str>, alias: Option<&Alias>) {
    w.open(tag);
    if let Some(account) = account {
        w.open("Id");
        if account::iban(account).is_ok() {
            w.leaf("IBAN", account);
        } else {
            w.open("Othr");
            w.leaf("Id", account);
            w.close("Othr");
        }
        w.close("Id");
    }
    if let Some(alias) = alias {
        w.open("Prxy");
        w.open("Tp");
        write_code(w, proxy_type(alias.scheme));
        w.close("Tp");
        w.leaf("Id", &alias.value);
        w.close("Prxy");
    }
    w.close(tag);
}

/// Reads a cash account: (account id, alias).
pub fn read_account(el: El<'_, '_>, side: Side) -> Result<(Option<String>, Option<Alias>), ConnectorError> {
    let account = match el.child("Id") {
        None => None,
        Some(id) => Some(if let Some(iban) = id.child("IBAN") {
            let iban = leaf_text(iban, MAX34)?;
            account::iban(iban).map_err(|reason| ConnectorError::InvalidAccount {
                side,
                path: id.path() + "/IBAN",
                reason: reason.to_string(),
            })?;
            iban.to_string()
        } else if let Some(othr) = id.child("Othr") {
            req_text(othr, "Id", MAX34)?.to_string()
        } else {
            return Err(ConnectorError::MissingField(format!("{}/IBAN or Othr", id.path())));
        }),
    };
    let alias = match el.child("Prxy") {
        None => None,
        Some(prxy) => {
            let tp = req(prxy, "Tp")?;
            let scheme = if let Some(cd) = tp.child("Cd") {
                match leaf_text(cd, 4)? {
                    "MBNO" | "TELE" => AliasScheme::Mobile,
                    "EMAL" => AliasScheme::Email,
                    other => {
                        return Err(ConnectorError::invalid(
                            cd.path(),
                            format!("proxy type {other:?} is not supported"),
                        ))
                    }
                }
            } else {
                let p = req(tp, "Prtry")?;
                leaf_text(p, MAX35)?.parse().map_err(|e: crate::canonical::UnknownAliasScheme| {
                    ConnectorError::invalid(p.path(), e.to_string())
                })?
            };
            Some(Alias::new(scheme, req_text(prxy, "Id", 2048)?))
        }
    };
    Ok((account, alias))
}

/// Writes an amount element with its currency, in the currency's decimals.
pub(crate) fn write_amount(w: &mut XmlWriter, tag: &str, m: &Money) -> Result<(), ConnectorError> {
    w.leaf_with(tag, Some(("Ccy", &m.currency)), |out| crate::money::write_decimal(out, m.minor_units, &m.currency))
}

/// Reads an amount element: a positive decimal in its `Ccy`'s decimals.
pub(crate) fn read_amount(el: El<'_, '_>) -> Result<Money, ConnectorError> {
    let ccy = el.attr("Ccy").ok_or_else(|| ConnectorError::MissingField(format!("{}/@Ccy", el.path())))?;
    let text = leaf_text(el, 40)?;
    let m = crate::money::parse_decimal(text, ccy, "").map(|minor| Money::new(minor, ccy)).map_err(|e| match e {
        ConnectorError::InvalidAmount { reason, .. } => ConnectorError::InvalidAmount { path: el.path(), reason },
        other => other,
    })?;
    if m.minor_units <= 0 {
        return Err(ConnectorError::InvalidAmount { path: el.path(), reason: "not greater than zero".into() });
    }
    Ok(m)
}

/// The header party for a message's optional agent: the agent, or the network itself.
pub(crate) fn header_party<'p>(agent: &'p Option<Agent>, own: &'static NetworkProfile) -> bah::Party<'p> {
    match agent {
        Some(a) => bah::Party::Agent(a),
        None => bah::Party::Name(own.id),
    }
}

/// `GrpHdr/NbOfTxs` (one: Interlink sends one transaction per message) and the
/// network's `SttlmInf`.
pub(crate) fn write_one_transaction_settlement(w: &mut XmlWriter, profile: &IsoProfile) {
    w.leaf("NbOfTxs", "1");
    w.open("SttlmInf");
    w.leaf("SttlmMtd", profile.settlement_method);
    if let Some(cs) = profile.clearing_system {
        w.open("ClrSys");
        write_code(w, cs);
        w.close("ClrSys");
    }
    w.close("SttlmInf");
}

/// `GrpHdr/MsgId` and `GrpHdr/CreDtTm` (µs since the epoch) of a message.
pub(crate) fn read_group_header(msg: El<'_, '_>) -> Result<(String, i64), ConnectorError> {
    let grp = req(msg, "GrpHdr")?;
    let message_id = req_text(grp, "MsgId", MAX35)?.to_string();
    let created = req(grp, "CreDtTm")?;
    let created_at =
        crate::time::parse_datetime(leaf_text(created, 64)?).map_err(|e| ConnectorError::invalid(created.path(), e))?;
    Ok((message_id, created_at))
}

/// Opens a message for `def` in the network's envelope (with its Business Application
/// Header when the network uses one), the `Document`, its `root` element, and the group
/// header with its `MsgId` and `CreDtTm`. The caller writes the rest of `GrpHdr`, closes
/// it, and ends with [`close_message`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn open_message(
    w: &mut XmlWriter,
    profile: &IsoProfile,
    def: MsgDef,
    root: &str,
    from: bah::Party<'_>,
    to: bah::Party<'_>,
    message_id: &str,
    created_at: i64,
) -> Result<(), ConnectorError> {
    match profile.envelope {
        Envelope::Iso => {
            if let Some(header) = profile.header {
                w.open(ENVELOPE);
                bah::write(
                    w,
                    profile,
                    bah::Header {
                        version: header,
                        from,
                        to,
                        business_message_id: message_id,
                        msg_def: def,
                        created_at,
                    },
                )?;
            }
            w.set_prefix(profile.prefix);
            w.open_ns("Document", def.namespace());
        }
        Envelope::FedNow => {
            // Interlink is a participant: what it sends FedNow goes in FedNowIncoming.
            w.set_prefix("");
            w.open_ns("FedNowIncoming", FEDNOW_INCOMING);
            w.open("FedNowIncomingMessage");
            w.open(fednow_wrapper(def));
            let version = profile.header.unwrap_or(MsgDef::Head001V02);
            bah::write(
                w,
                profile,
                bah::Header { version, from, to, business_message_id: message_id, msg_def: def, created_at },
            )?;
            w.set_prefix("");
            w.open_ns("Document", def.namespace());
        }
        Envelope::Spi(rules) => {
            w.set_prefix("");
            w.open_ns("Envelope", def.namespace());
            bah::write_spi(w, profile, rules, from, to, message_id, def, created_at)?;
            w.open("Document");
        }
        Envelope::Fps => {
            // One message per envelope, as Interlink sends one transaction per message.
            w.set_prefix(FPS_PREFIX);
            w.open_ns(FPS_ROOT, FPS_ENVELOPE);
            w.leaf("NbOfMsgs", "1");
            w.open("FpsPylds");
            w.open("BizData");
            let version = profile.header.unwrap_or(MsgDef::Head001V01);
            bah::write(
                w,
                profile,
                bah::Header { version, from, to, business_message_id: message_id, msg_def: def, created_at },
            )?;
            w.set_prefix(profile.prefix);
            w.open_ns("Document", def.namespace());
        }
    }
    w.open(root);
    w.open("GrpHdr");
    w.leaf("MsgId", message_id);
    w.leaf_with("CreDtTm", None, |out| {
        crate::time::write_datetime(out, created_at, profile.utc_offset_minutes);
        Ok(())
    })
}

/// Closes what [`open_message`] opened, from its `root` element out.
pub(crate) fn close_message(mut w: XmlWriter, profile: &IsoProfile, def: MsgDef, root: &str) -> Vec<u8> {
    w.close(root);
    w.close("Document");
    match profile.envelope {
        Envelope::Iso => {
            if profile.header.is_some() {
                w.set_prefix("");
                w.close(ENVELOPE);
            }
        }
        Envelope::FedNow => {
            w.close(fednow_wrapper(def));
            w.close("FedNowIncomingMessage");
            w.close("FedNowIncoming");
        }
        Envelope::Spi(_) => w.close("Envelope"),
        Envelope::Fps => {
            w.set_prefix(FPS_PREFIX);
            w.close("BizData");
            w.close("FpsPylds");
            w.close(FPS_ROOT);
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Account and proxy ids in any script: an IBAN that is not ASCII is an invalid account,
    /// anything else is carried as text.
    #[test]
    fn non_ascii_accounts_and_proxies() {
        for (xml, ok) in [
            ("<Acct><Id><IBAN>DE8937040044053201300é</IBAN></Id></Acct>", false),
            ("<Acct><Id><IBAN>ＤＥ89370400440532013000</IBAN></Id></Acct>", false),
            ("<Acct><Id><Othr><Id>账户😀é</Id></Othr></Id></Acct>", true),
            ("<Acct><Prxy><Tp><Cd>MBNé</Cd></Tp><Id>+65</Id></Prxy></Acct>", false),
            ("<Acct><Prxy><Tp><Prtry>ÜEN</Prtry></Tp><Id>x</Id></Prxy></Acct>", false),
            ("<Acct><Prxy><Tp><Prtry>UEN</Prtry></Tp><Id>Ｔ09LL0001B</Id></Prxy></Acct>", true),
        ] {
            let doc = Doc::parse(xml).unwrap();
            let read = read_account(doc.root(), Side::Creditor);
            assert_eq!(read.is_ok(), ok, "{xml}: {read:?}");
            if let Err(e) = read {
                assert!(matches!(e, ConnectorError::InvalidAccount { .. } | ConnectorError::InvalidField { .. }));
            }
        }
    }

    /// The FPS envelope carries one message: a count other than one, several `BizData` or
    /// none, or another namespace are refused, never guessed at.
    #[test]
    fn fps_envelope_holds_exactly_one_message() {
        let hk = registry::connector("HK_FPS").unwrap();
        let good = include_str!("../../tests/corpus/HK_FPS/fps.envelope.01_pacs.008.001.06.xml");
        assert!(hk.decode_payment(good.as_bytes()).is_ok());
        let (start, end) = (good.find("<fps:BizData>").unwrap(), good.find("</fps:BizData>").unwrap());
        let biz_data = &good[start..end + "</fps:BizData>".len()];
        let two = good.replace(biz_data, &format!("{biz_data}{biz_data}"));
        let none = good.replace(biz_data, "");
        for (xml, what) in [
            (good.replace(">1</fps:NbOfMsgs>", ">2</fps:NbOfMsgs>"), "UnsupportedMessage"),
            (good.replace("<fps:NbOfMsgs>1</fps:NbOfMsgs>", ""), "MissingField"),
            (good.replace(">1</fps:NbOfMsgs>", ">one</fps:NbOfMsgs>"), "InvalidField"),
            (two.replace(">1</fps:NbOfMsgs>", ">2</fps:NbOfMsgs>"), "UnsupportedMessage"),
            (two, "UnsupportedMessage"),
            (none, "MissingField"),
            (good.replace("fps.envelope.01\"", "fps.envelope.02\""), "WrongNamespace"),
        ] {
            let e = hk.decode_payment(xml.as_bytes()).unwrap_err();
            assert!(format!("{e:?}").starts_with(what), "{what}: {e:?}");
        }
    }

    #[test]
    fn namespaces_name_their_versions() {
        for v in MsgDef::ALL {
            if v.is_spi_catalogue() {
                // https://www.bcb.gov.br/pi/pacs.008/1.13 for pacs.008.spi.1.13
                let (message, version) = v.id().split_once(".spi.").unwrap();
                assert_eq!(v.namespace(), format!("https://www.bcb.gov.br/pi/{message}/{version}"));
            } else {
                assert!(v.namespace().ends_with(v.id()));
            }
        }
    }

    #[test]
    fn every_clearing_code_points_at_one_network() {
        for scheme in [
            IdScheme::Cnaps,
            IdScheme::HkClearingCode,
            IdScheme::ThBankCode,
            IdScheme::Ifsc,
            IdScheme::AbaRoutingNumber,
        ] {
            let code = clearing_code(scheme).unwrap();
            assert_eq!(
                registry::connectors().filter(|c| clearing_code(c.profile().participant_ids) == Some(code)).count(),
                1
            );
        }
    }
}
