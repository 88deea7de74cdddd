//! China IBPS (CNAPS II).
//!
//! The People's Bank of China's Internet Banking Payment System, run by CNCC; the mainland side of
//! Payment Connect. CNAPS II messages are an ISO 20022-like national profile; Interlink models them
//! as ISO 20022 pacs.008.001.08 / pacs.002.001.10 with a `ns2:` prefix (see docs/connectors.md).

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The China IBPS (CNAPS II) connector.
pub static CN_IBPS: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
