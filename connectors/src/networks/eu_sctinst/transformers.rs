//! EU_SCTINST: network profile, ISO 20022 usage, alias rules and limit.

use crate::account::{self, AccountForm};
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme, CanonicalPayment};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{AccountRule, Code, Envelope, IsoProfile, MsgDef, HEADERS};
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "EU_SCTINST",
    name: "SEPA Instant Credit Transfer",
    country: "EU",
    currency: "EUR",
    participant_ids: IdScheme::Bic,
    message_standard: "ISO 20022 (EPC SCT Inst)",
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
    prefix: "",
    settlement_method: "CLRG",
    clearing_system: None,
    service_level: Some("SEPA"),
    local_instrument,
    // Any SEPA country's IBAN is accepted; a German one is the example callers are given.
    own_account_rule: Some(AccountRule {
        check: account::sepa_iban,
        form: AccountForm::Iban { country: "DE", len: 22 },
    }),
    names_required: true,
    uetr_required: false,
    utc_offset_minutes: 0,
    envelope: Envelope::Iso,
};

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] = &[AliasScheme::Mobile];

/// EUR 100,000: the SCT Inst rulebook maximum until its 2025 edition, which removed the scheme-wide
/// cap under the Instant Payments Regulation; Interlink keeps it as its default per-transaction limit.
pub const LIMIT: Option<AmountLimit> = Some(AmountLimit {
    max_minor_units: 10_000_000,
    source: "EPC SCT Inst rulebook maximum EUR 100,000 (kept as Interlink default)",
});

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(a, alias::common(a.scheme, &a.value))
}

/// `PmtTpInf/LclInstrm/Cd` = `INST` (with `SvcLvl/Cd` = `SEPA`), as the rulebook requires.
pub fn local_instrument(_: &CanonicalPayment) -> Option<Code> {
    Some(Code::Cd("INST"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+4915112345678")).is_ok(), "Mobile +4915112345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "015112345678")).is_err(), "Mobile 015112345678");
        assert!(validate_alias(&Alias::new(AliasScheme::Email, "a@b.de")).is_err(), "Email a@b.de");
    }

    /// The example accounts the connector offers pass its own-account rule.
    #[test]
    fn example_accounts_pass_the_own_account_rule() {
        let rule = ISO.own_account_rule.unwrap();
        for n in (0..500).chain([u64::MAX]) {
            let account = rule.form.example(n);
            assert_eq!((rule.check)(&account), Ok(()), "{account}");
        }
        assert!((rule.check)(&AccountForm::LOCAL_DIGITS.example(1)).is_err());
    }
}
