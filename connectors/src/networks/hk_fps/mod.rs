//! Hong Kong FPS.
//!
//! HKICL's Faster Payment System: ISO 20022 pacs.008.001.06 / pacs.002.001.08 with a Business
//! Application Header (head.001.001.01) in HKICL's `fps:FpsMsg` envelope; the 2019 versions
//! (.08 / .10) in ISO envelopes are read too.

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Hong Kong FPS connector.
pub static HK_FPS: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
