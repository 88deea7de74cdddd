//! Indonesia BI-FAST.
//!
//! Bank Indonesia's fast payment system: ISO 20022 pacs.008.001.08 / pacs.002.001.10 with a
//! Business Application Header (head.001.001.02).

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Indonesia BI-FAST connector.
pub static ID_BIFAST: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
