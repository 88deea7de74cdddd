//! Brazil Pix (SPI).
//!
//! The Central Bank of Brazil's instant payment system: ISO 20022 pacs.008.001.08 /
//! pacs.002.001.10 per the SPI catalogue, with a Business Application Header (head.001.001.02).

pub mod ids;
mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Brazil Pix (SPI) connector.
pub static BR_PIX: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
