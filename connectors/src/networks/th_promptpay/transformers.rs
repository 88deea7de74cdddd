//! TH_PROMPTPAY: network profile, ISO 20022 usage, alias rules and limit.

use super::ids;
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{no_local_instrument, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "TH_PROMPTPAY",
    name: "Thailand PromptPay",
    country: "TH",
    currency: "THB",
    participant_ids: IdScheme::ThBankCode,
    message_standard: "ISO 20022",
};

pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    pacs008: MsgDef::Pacs008V10,
    pacs008_accepted: &[MsgDef::Pacs008V08, MsgDef::Pacs008V10],
    pacs002: MsgDef::Pacs002V12,
    pacs002_accepted: &[MsgDef::Pacs002V10, MsgDef::Pacs002V12],
    pacs004: MsgDef::Pacs004V11,
    pacs004_accepted: &[MsgDef::Pacs004V09, MsgDef::Pacs004V11],
    header: None,
    header_accepted: HEADERS,
    prefix: "",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Prtry("PROMPTPAY")),
    service_level: None,
    local_instrument: no_local_instrument,
    own_account_rule: None,
    names_required: false,
    uetr_required: false,
    utc_offset_minutes: 420,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] =
    &[AliasScheme::Mobile, AliasScheme::NationalId, AliasScheme::TaxId, AliasScheme::EWallet];

/// PromptPay has no scheme-wide per-transaction cap (banks set their own).
pub const LIMIT: Option<AmountLimit> = None;

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "66", 9..=9, b"689"),
            // Thai tax ids of individuals are their citizen ids: one format for both.
            AliasScheme::NationalId | AliasScheme::TaxId => ids::thai_id13(&a.value),
            AliasScheme::EWallet => alias::n_digits(&a.value, &[15]),
            other => alias::common(other, &a.value),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+66812345678")).is_ok(), "Mobile +66812345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+66212345678")).is_err(), "Mobile +66212345678");
        assert!(
            validate_alias(&Alias::new(AliasScheme::NationalId, "1101700207366")).is_ok(),
            "NationalId 1101700207366"
        );
        assert!(
            validate_alias(&Alias::new(AliasScheme::NationalId, "1101700207367")).is_err(),
            "NationalId 1101700207367"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::TaxId, "0105555012348")).is_ok(), "TaxId 0105555012348");
        assert!(
            validate_alias(&Alias::new(AliasScheme::EWallet, "140000012345678")).is_ok(),
            "EWallet 140000012345678"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::EWallet, "14000001234567")).is_err(), "EWallet 14000001234567");
        assert!(validate_alias(&Alias::new(AliasScheme::Email, "a@b.co")).is_err(), "Email a@b.co");
    }
}
