//! US_FEDNOW: network profile, ISO 20022 usage, alias rules and limit.

use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme, CanonicalPayment};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "US_FEDNOW",
    name: "FedNow Service",
    country: "US",
    currency: "USD",
    participant_ids: IdScheme::AbaRoutingNumber,
    message_standard: "ISO 20022 (FedNow)",
};

pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    pacs008: MsgDef::Pacs008V08,
    pacs008_accepted: &[MsgDef::Pacs008V08],
    pacs002: MsgDef::Pacs002V10,
    pacs002_accepted: &[MsgDef::Pacs002V10],
    pacs004: MsgDef::Pacs004V09,
    pacs004_accepted: &[MsgDef::Pacs004V09],
    header: Some(MsgDef::Head001V02),
    header_accepted: HEADERS,
    prefix: "",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Cd("FDN")),
    service_level: None,
    local_instrument,
    own_account_rule: None,
    names_required: true,
    uetr_required: true,
    utc_offset_minutes: 0,
    envelope: Envelope::FedNow,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[];

/// FedNow's default per-transaction limit: USD 500,000 (participants may lower it; the network
/// maximum is higher). Federal Reserve Financial Services, FedNow transaction limits.
pub const LIMIT: Option<AmountLimit> = Some(AmountLimit {
    max_minor_units: 50_000_000,
    source: "Federal Reserve FedNow default limit USD 500,000 per transaction",
});

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(a, alias::common(a.scheme, &a.value))
}

/// `PmtTpInf/LclInstrm/Prtry` = `FDNA`: FedNow's customer credit transfer.
pub fn local_instrument(_: &CanonicalPayment) -> Option<Code> {
    Some(Code::Prtry("FDNA"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+12025550123")).is_err(), "Mobile +12025550123");
        assert!(validate_alias(&Alias::new(AliasScheme::Email, "a@b.us")).is_err(), "Email a@b.us");
    }
}
