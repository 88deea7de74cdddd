//! SEPA Instant Credit Transfer.
//!
//! The EPC SCT Inst scheme: ISO 20022 pacs.008.001.08 / pacs.002.001.10 (2019 message versions
//! of the rulebook), no header, IBANs for the scheme's own customers.

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The SEPA Instant Credit Transfer connector.
pub static EU_SCTINST: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
