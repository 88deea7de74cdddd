//! Thailand PromptPay.
//!
//! ITMX's PromptPay: ISO 20022 pacs.008.001.10 / pacs.002.001.12 (pacs.008.001.08 and
//! pacs.002.001.10 accepted), no header.

pub mod ids;
mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::iso20022::IsoConnector;

/// The Thailand PromptPay connector.
pub static TH_PROMPTPAY: IsoConnector =
    IsoConnector { profile: &PROFILE, iso: &ISO, aliases: ALIASES, limit: LIMIT, validate_alias };
