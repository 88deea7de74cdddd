//! What Interlink knows about each national fast-payment network, independent of Kafka:
//! its identity, settlement currency, and the scheme its participant ids follow.
//!
//! Adding a network is one entry in [`NETWORKS`]; message translation (ISO 20022
//! profiles) builds on these profiles.

mod id_scheme;

pub use id_scheme::{IdScheme, IdSchemeError};

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

/// Every registered network.
pub static NETWORKS: &[NetworkProfile] = &[
    NetworkProfile {
        id: "CN_IBPS",
        name: "China Internet Banking Payment System (CNAPS II)",
        country: "CN",
        currency: "CNY",
        participant_ids: IdScheme::Cnaps,
        message_standard: "ISO 20022 (CNAPS profile)",
    },
    NetworkProfile {
        id: "HK_FPS",
        name: "Hong Kong Faster Payment System",
        country: "HK",
        currency: "HKD",
        participant_ids: IdScheme::HkClearingCode,
        message_standard: "ISO 20022",
    },
    NetworkProfile {
        id: "ID_BIFAST",
        name: "Bank Indonesia Fast Payment (BI-FAST) and QRIS",
        country: "ID",
        currency: "IDR",
        participant_ids: IdScheme::Bic,
        message_standard: "ISO 20022",
    },
    NetworkProfile {
        id: "TH_PROMPTPAY",
        name: "Thailand PromptPay",
        country: "TH",
        currency: "THB",
        participant_ids: IdScheme::ThBankCode,
        message_standard: "ISO 20022",
    },
    NetworkProfile {
        id: "SG_PAYNOW",
        name: "Singapore FAST / PayNow",
        country: "SG",
        currency: "SGD",
        participant_ids: IdScheme::Bic,
        message_standard: "ISO 20022",
    },
    NetworkProfile {
        id: "MY_DUITNOW",
        name: "Malaysia DuitNow (RPP)",
        country: "MY",
        currency: "MYR",
        participant_ids: IdScheme::Bic,
        message_standard: "ISO 20022",
    },
    NetworkProfile {
        id: "IN_UPI",
        name: "India Unified Payments Interface",
        country: "IN",
        currency: "INR",
        participant_ids: IdScheme::Ifsc,
        message_standard: "UPI XML API",
    },
    NetworkProfile {
        id: "BR_PIX",
        name: "Brazil Pix (SPI)",
        country: "BR",
        currency: "BRL",
        participant_ids: IdScheme::Ispb,
        message_standard: "ISO 20022 (SPI catalogue)",
    },
    NetworkProfile {
        id: "EU_SCTINST",
        name: "SEPA Instant Credit Transfer",
        country: "EU",
        currency: "EUR",
        participant_ids: IdScheme::Bic,
        message_standard: "ISO 20022 (EPC SCT Inst)",
    },
    NetworkProfile {
        id: "US_FEDNOW",
        name: "FedNow Service",
        country: "US",
        currency: "USD",
        participant_ids: IdScheme::AbaRoutingNumber,
        message_standard: "ISO 20022 (FedNow)",
    },
];

/// Looks a network up by its Interlink id.
pub fn network(id: &str) -> Option<&'static NetworkProfile> {
    NETWORKS.iter().find(|n| n.id == id)
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
