//! ID_BIFAST: network profile, ISO 20022 usage, alias rules and limit.

use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "ID_BIFAST",
    name: "Bank Indonesia Fast Payment (BI-FAST) and QRIS",
    country: "ID",
    currency: "IDR",
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
    clearing_system: Some(Code::Prtry("BIFAST")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: true,
    uetr_required: false,
    utc_offset_minutes: 420,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[AliasScheme::Mobile, AliasScheme::Email];

/// BI-FAST's per-transaction maximum: IDR 250,000,000 (Bank Indonesia, BI-FAST service
/// parameters). IDR has ISO 4217 exponent 2, so the limit is 25,000,000,000 minor units.
pub const LIMIT: Option<AmountLimit> = Some(AmountLimit {
    max_minor_units: 25_000_000_000,
    source: "Bank Indonesia BI-FAST: IDR 250,000,000 per transaction",
});

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "62", 9..=12, b"8"),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+6281234567890")).is_ok(), "Mobile +6281234567890");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+6221234567")).is_err(), "Mobile +6221234567");
        assert!(
            validate_alias(&Alias::new(AliasScheme::Email, "budi@example.co.id")).is_ok(),
            "Email budi@example.co.id"
        );
        assert!(
            validate_alias(&Alias::new(AliasScheme::NationalId, "3171234567890001")).is_err(),
            "NationalId 3171234567890001"
        );
    }
}
