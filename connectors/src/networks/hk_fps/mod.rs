//! Hong Kong FPS.
//!
//! HKICL's Faster Payment System: ISO 20022 pacs.008.001.08 / pacs.002.001.10 with a Business
//! Application Header (head.001.001.03), prefixed namespaces.

mod transformers;

pub use transformers::{validate_alias, ALIASES, ISO, LIMIT, PROFILE};

use crate::canonical::{Alias, AliasScheme, CanonicalPayment, CanonicalStatus};
use crate::connector::{AmountLimit, Connector, ConnectorError, MessageVersions};
use crate::iso20022::{self, pacs002, pacs008};
use crate::NetworkProfile;

/// The Hong Kong FPS connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct HkFps;

impl Connector for HkFps {
    fn profile(&self) -> &'static NetworkProfile {
        &PROFILE
    }

    fn message_versions(&self) -> MessageVersions {
        iso20022::versions(&ISO)
    }

    fn alias_schemes(&self) -> &'static [AliasScheme] {
        ALIASES
    }

    fn validate_alias(&self, alias: &Alias) -> Result<(), ConnectorError> {
        validate_alias(alias)
    }

    fn amount_limit(&self) -> Option<AmountLimit> {
        LIMIT
    }

    fn encode_payment(&self, payment: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError> {
        pacs008::encode(self, &ISO, payment)
    }

    fn decode_payment(&self, message: &[u8]) -> Result<CanonicalPayment, ConnectorError> {
        pacs008::decode(self, &ISO, message)
    }

    fn encode_status(&self, status: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError> {
        pacs002::encode(&ISO, status)
    }

    fn decode_status(&self, message: &[u8]) -> Result<CanonicalStatus, ConnectorError> {
        pacs002::decode(&ISO, message)
    }

    fn carried_payment(&self, payment: &CanonicalPayment) -> CanonicalPayment {
        pacs008::carried(payment)
    }

    fn carried_status(&self, status: &CanonicalStatus) -> CanonicalStatus {
        pacs002::carried(status)
    }
}
