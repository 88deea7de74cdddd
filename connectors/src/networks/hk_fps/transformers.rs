//! HK_FPS: network profile, ISO 20022 usage, alias rules and limit.

use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "HK_FPS",
    name: "Hong Kong Faster Payment System",
    country: "HK",
    currency: "HKD",
    participant_ids: IdScheme::HkClearingCode,
    message_standard: "ISO 20022",
};

/// What HKICL's FPS exchanges: pacs.008.001.06 / pacs.002.001.08 under a head.001.001.01
/// header in its own `fps:FpsMsg` envelope (as open-source FPS participant code shows it), so
/// that is what goes out. The 2019 versions in ISO envelopes (.08 / .10, any header) are still
/// read. No source shows FPS's return version, so returns stay pacs.004.001.09.
pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    pacs008: MsgDef::Pacs008V06,
    pacs008_accepted: &[MsgDef::Pacs008V06, MsgDef::Pacs008V08],
    pacs002: MsgDef::Pacs002V08,
    pacs002_accepted: &[MsgDef::Pacs002V08, MsgDef::Pacs002V10],
    pacs004: MsgDef::Pacs004V09,
    pacs004_accepted: &[MsgDef::Pacs004V09],
    header: Some(MsgDef::Head001V01),
    header_accepted: HEADERS,
    prefix: "doc",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Prtry("FPS")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: true,
    uetr_required: false,
    utc_offset_minutes: 480,
    envelope: Envelope::Fps,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[AliasScheme::Mobile, AliasScheme::Email, AliasScheme::FpsId];

/// FPS sets no scheme-wide per-transaction cap (participants set their own); the Payment Connect
/// northbound cap (HKD 10,000 per person per day) needs state and is the switch's.
pub const LIMIT: Option<AmountLimit> = None;

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "852", 8..=8, b"456789"),
            AliasScheme::FpsId => alias::n_digits(&a.value, &[7, 9]),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+85291234567")).is_ok(), "Mobile +85291234567");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+85221234567")).is_err(), "Mobile +85221234567");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+8529123456")).is_err(), "Mobile +8529123456");
        assert!(
            validate_alias(&Alias::new(AliasScheme::Email, "chan.tai.man@example.hk")).is_ok(),
            "Email chan.tai.man@example.hk"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::FpsId, "1234567")).is_ok(), "FpsId 1234567");
        assert!(validate_alias(&Alias::new(AliasScheme::FpsId, "123456789")).is_ok(), "FpsId 123456789");
        assert!(validate_alias(&Alias::new(AliasScheme::FpsId, "12345678")).is_err(), "FpsId 12345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Vpa, "a@ybl")).is_err(), "Vpa a@ybl");
    }
}
