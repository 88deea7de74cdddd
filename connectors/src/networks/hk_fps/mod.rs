//! Hong Kong FPS.
//!
//! HKICL's Faster Payment System: ISO 20022 pacs.008.001.08 / pacs.002.001.10 with a Business
//! Application Header (head.001.001.03), prefixed namespaces.

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Hong Kong FPS connector.
pub static HK_FPS: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
