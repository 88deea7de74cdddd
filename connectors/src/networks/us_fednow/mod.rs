//! FedNow Service.
//!
//! The Federal Reserve's instant payment service: ISO 20022 pacs.008.001.08 / pacs.002.001.10
//! with a Business Application Header (head.001.001.02); UETR mandatory.

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The FedNow Service connector.
pub static US_FEDNOW: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
