//! SG_PAYNOW: network profile, ISO 20022 usage, alias rules and limit.

use super::ids;
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "SG_PAYNOW",
    name: "Singapore FAST / PayNow",
    country: "SG",
    currency: "SGD",
    participant_ids: IdScheme::Bic,
    message_standard: "ISO 20022",
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
    clearing_system: Some(Code::Prtry("FAST")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: true,
    uetr_required: false,
    utc_offset_minutes: 480,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[AliasScheme::Mobile, AliasScheme::NationalId, AliasScheme::Uen];

/// FAST's per-transaction limit: SGD 200,000 (ABS, FAST and PayNow).
pub const LIMIT: Option<AmountLimit> = Some(AmountLimit {
    max_minor_units: 20_000_000,
    source: "Association of Banks in Singapore: FAST limit SGD 200,000 per transaction",
});

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "65", 8..=8, b"89"),
            AliasScheme::NationalId => ids::nric(&a.value),
            AliasScheme::Uen => ids::uen(&a.value),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+6591234567")).is_ok(), "Mobile +6591234567");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+6561234567")).is_err(), "Mobile +6561234567");
        assert!(validate_alias(&Alias::new(AliasScheme::NationalId, "S1234567D")).is_ok(), "NationalId S1234567D");
        assert!(validate_alias(&Alias::new(AliasScheme::NationalId, "S1234567A")).is_err(), "NationalId S1234567A");
        assert!(validate_alias(&Alias::new(AliasScheme::Uen, "201912345K")).is_ok(), "Uen 201912345K");
        assert!(validate_alias(&Alias::new(AliasScheme::Uen, "2019123K4")).is_err(), "Uen 2019123K4");
        assert!(validate_alias(&Alias::new(AliasScheme::Email, "a@b.sg")).is_err(), "Email a@b.sg");
    }
}
