//! What Interlink knows about each national fast-payment network, independent of Kafka:
//! its identity, settlement currency, the scheme its participant ids follow, and how its
//! messages translate to and from Interlink's canonical model.
//!
//! Each network is a [`Connector`] in its own folder under `networks/`; adding a network is
//! that folder (golden files beside it in `tests/golden/`), one line in [`registry`], and
//! its id in the two documents `tests/registry_docs.rs` checks (see docs/connectors.md).
//! Translation is pure: no I/O, no Kafka.

pub mod account;
pub mod alias;
pub mod canonical;
pub mod connector;
pub mod emvco;
mod id_format;
mod id_scheme;
pub mod iso20022;
pub mod money;
pub mod networks;
pub mod registry;
pub mod time;
pub mod uuid;
pub mod xml;

pub use account::AccountForm;
pub use canonical::{
    Agent, Alias, AliasScheme, CanonicalPayment, CanonicalReturn, CanonicalStatus, Creditor, Debtor,
    InterbankSettlement, IsoReason, Money, PaymentStatus, PersonIdentification,
};
pub use connector::{AmountLimit, Connector, ConnectorError, MessageForm, MessageVersions, Side, MAX_MESSAGE_BYTES};
pub use id_format::FormatError;
pub use id_scheme::{IdScheme, IdSchemeError};
pub use registry::{connector, connectors};

/// A payment network Interlink connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkProfile {
    /// Interlink's id for the network, used in events and routing tables.
    pub id: &'static str,
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 (EU for the euro area).
    pub country: &'static str,
    /// ISO 4217 settlement currency.
    pub currency: &'static str,
    /// How the network identifies its participants.
    pub participant_ids: IdScheme,
    /// The message standard at the network's edge.
    pub message_standard: &'static str,
}

impl NetworkProfile {
    pub fn validate_participant_id(&self, id: &str) -> Result<(), IdSchemeError> {
        self.participant_ids.validate(id)
    }
}

/// Every registered network, in registry order: a view over the connectors' profiles (the
/// registry is the single source of truth). `NETWORKS.iter()` yields `&'static NetworkProfile`.
pub static NETWORKS: Networks = Networks;

/// The profiles of the registered connectors; see [`NETWORKS`].
#[derive(Debug, Clone, Copy)]
pub struct Networks;

/// Iterator over the registered networks' profiles.
pub type NetworkIter = std::iter::Map<
    std::slice::Iter<'static, &'static dyn Connector>,
    fn(&&'static dyn Connector) -> &'static NetworkProfile,
>;

fn profile_of(c: &&'static dyn Connector) -> &'static NetworkProfile {
    c.profile()
}

impl Networks {
    pub fn iter(&self) -> NetworkIter {
        registry::CONNECTORS.iter().map(profile_of as fn(&&'static dyn Connector) -> &'static NetworkProfile)
    }

    pub fn len(&self) -> usize {
        registry::CONNECTORS.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl IntoIterator for Networks {
    type Item = &'static NetworkProfile;
    type IntoIter = NetworkIter;

    fn into_iter(self) -> NetworkIter {
        self.iter()
    }
}

impl IntoIterator for &Networks {
    type Item = &'static NetworkProfile;
    type IntoIter = NetworkIter;

    fn into_iter(self) -> NetworkIter {
        self.iter()
    }
}

/// Looks a network up by its Interlink id.
pub fn network(id: &str) -> Option<&'static NetworkProfile> {
    registry::connector(id).map(|c| c.profile())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_currencies_are_iso_alpha3() {
        let mut ids: Vec<_> = NETWORKS.iter().map(|n| n.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), NETWORKS.len());
        for n in NETWORKS {
            assert!(n.currency.len() == 3 && n.currency.chars().all(|c| c.is_ascii_uppercase()), "{}", n.id);
        }
    }

    #[test]
    fn lookup() {
        assert_eq!(network("HK_FPS").unwrap().currency, "HKD");
        assert!(network("XX_NOPE").is_none());
        assert!(network("CN_IBPS").unwrap().validate_participant_id("102100099996").is_ok());
        assert!(network("CN_IBPS").unwrap().validate_participant_id("004").is_err());
    }
}
