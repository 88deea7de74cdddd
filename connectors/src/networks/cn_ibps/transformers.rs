//! CN_IBPS: network profile, ISO 20022 usage, alias rules and limit.

use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "CN_IBPS",
    name: "China Internet Banking Payment System (CNAPS II)",
    country: "CN",
    currency: "CNY",
    participant_ids: IdScheme::Cnaps,
    message_standard: "ISO 20022 (CNAPS profile)",
};

pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    pacs008: MsgDef::Pacs008V08,
    pacs008_accepted: &[MsgDef::Pacs008V08],
    pacs002: MsgDef::Pacs002V10,
    pacs002_accepted: &[MsgDef::Pacs002V10],
    pacs004: MsgDef::Pacs004V09,
    pacs004_accepted: &[MsgDef::Pacs004V09],
    header: None,
    header_accepted: HEADERS,
    prefix: "ns2",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Prtry("IBPS")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: true,
    uetr_required: false,
    utc_offset_minutes: 480,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[AliasScheme::Mobile, AliasScheme::Email];

/// IBPS publishes no scheme-wide per-transaction cap; Payment Connect's caps (RMB 80,000 same-name
/// daily, HKD 10,000 a day northbound, the USD 50,000 FX quota southbound) are per person per
/// day or year and need state, so they belong to the switch, not to this pure check.
pub const LIMIT: Option<AmountLimit> = None;

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "86", 11..=11, b"1"),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+8613800138000")).is_ok(), "Mobile +8613800138000");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+862012345678")).is_err(), "Mobile +862012345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "13800138000")).is_err(), "Mobile 13800138000");
        assert!(
            validate_alias(&Alias::new(AliasScheme::Email, "li.wei@example.cn")).is_ok(),
            "Email li.wei@example.cn"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::Email, "li.wei@")).is_err(), "Email li.wei@");
        assert!(validate_alias(&Alias::new(AliasScheme::Cpf, "52998224725")).is_err(), "Cpf 52998224725");
    }
}
