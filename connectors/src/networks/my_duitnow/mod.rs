//! Malaysia DuitNow.
//!
//! PayNet's Real-time Retail Payments Platform with DuitNow proxies: ISO 20022 pacs.008.001.10
//! (pacs.008.001.13 accepted) / pacs.002.001.12, prefixed namespaces, no header.

pub mod ids;
mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Malaysia DuitNow connector.
pub static MY_DUITNOW: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
