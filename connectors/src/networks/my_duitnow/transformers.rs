//! MY_DUITNOW: network profile, ISO 20022 usage, alias rules and limit.

use super::ids;
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "MY_DUITNOW",
    name: "Malaysia DuitNow (RPP)",
    country: "MY",
    currency: "MYR",
    participant_ids: IdScheme::Bic,
    message_standard: "ISO 20022",
};

pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    pacs008: MsgDef::Pacs008V10,
    pacs008_accepted: &[MsgDef::Pacs008V10, MsgDef::Pacs008V13],
    pacs002: MsgDef::Pacs002V12,
    pacs002_accepted: &[MsgDef::Pacs002V10, MsgDef::Pacs002V12],
    pacs004: MsgDef::Pacs004V11,
    pacs004_accepted: &[MsgDef::Pacs004V09, MsgDef::Pacs004V11],
    header: None,
    header_accepted: HEADERS,
    prefix: "ns2",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Prtry("RPP")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: false,
    uetr_required: false,
    utc_offset_minutes: 480,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] =
    &[AliasScheme::Mobile, AliasScheme::NationalId, AliasScheme::Passport, AliasScheme::BusinessId];

/// DuitNow has no published scheme-wide per-transaction cap (banks set their own).
pub const LIMIT: Option<AmountLimit> = None;

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "60", 9..=10, b"1"),
            AliasScheme::NationalId => ids::mykad(&a.value),
            AliasScheme::BusinessId => ids::ssm(&a.value),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+60123456789")).is_ok(), "Mobile +60123456789");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+60312345678")).is_err(), "Mobile +60312345678");
        assert!(
            validate_alias(&Alias::new(AliasScheme::NationalId, "900101145678")).is_ok(),
            "NationalId 900101145678"
        );
        assert!(
            validate_alias(&Alias::new(AliasScheme::NationalId, "901301145678")).is_err(),
            "NationalId 901301145678"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::Passport, "A12345678")).is_ok(), "Passport A12345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Passport, "a1")).is_err(), "Passport a1");
        assert!(
            validate_alias(&Alias::new(AliasScheme::BusinessId, "201901012345")).is_ok(),
            "BusinessId 201901012345"
        );
        assert!(
            validate_alias(&Alias::new(AliasScheme::BusinessId, "201909012345")).is_err(),
            "BusinessId 201909012345"
        );
    }
}
