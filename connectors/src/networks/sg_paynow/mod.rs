//! Singapore FAST / PayNow.
//!
//! Singapore's FAST with the PayNow proxy directory: ISO 20022 pacs.008.001.08 / pacs.002.001.10
//! with a Business Application Header (head.001.001.02).

pub mod ids;
mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Singapore FAST / PayNow connector.
pub static SG_PAYNOW: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
