//! BR_PIX: network profile, ISO 20022 usage, alias rules and limit.

use super::ids;
use crate::alias::{self, verdict};
use crate::canonical::{Alias, AliasScheme, CanonicalPayment};
use crate::connector::{check_alias_scheme, AmountLimit, ConnectorError};
use crate::iso20022::{Code, Envelope, IsoProfile, MsgDef, SpiRules};
use crate::uuid;
use crate::{IdScheme, NetworkProfile};

pub static PROFILE: NetworkProfile = NetworkProfile {
    id: "BR_PIX",
    name: "Brazil Pix (SPI)",
    country: "BR",
    currency: "BRL",
    participant_ids: IdScheme::Ispb,
    message_standard: "ISO 20022 (SPI catalogue)",
};

pub static ISO: IsoProfile = IsoProfile {
    network: &PROFILE,
    // The SPI catalogue's own versions (catalogue 5.x: pacs.008 1.13 to 1.16, pacs.002
    // 1.14 and 1.17, pacs.004 1.5); Interlink writes the ones the brief's samples name.
    pacs008: MsgDef::SpiPacs008V113,
    pacs008_accepted: &[MsgDef::SpiPacs008V113, MsgDef::SpiPacs008V114, MsgDef::SpiPacs008V116],
    pacs002: MsgDef::SpiPacs002V114,
    pacs002_accepted: &[MsgDef::SpiPacs002V114, MsgDef::SpiPacs002V117],
    pacs004: MsgDef::SpiPacs004V15,
    pacs004_accepted: &[MsgDef::SpiPacs004V15],
    // The SPI's header lives in each message's catalogue namespace, not in head.001.
    header: None,
    header_accepted: &[],
    prefix: "",
    settlement_method: "CLRG",
    clearing_system: Some(Code::Prtry("SPI")),
    service_level: None,
    local_instrument,
    own_account_rule: None,
    // The SPI's creditor has no name (the payer's PSP shows the DICT's).
    names_required: false,
    uetr_required: false,
    // SPI timestamps are UTC.
    utc_offset_minutes: 0,
    envelope: Envelope::Spi(&SPI),
};

/// The SPI: messages go to the SPI's ISPB; Pix keys are untyped on the wire.
pub static SPI: SpiRules = SpiRules { spi_ispb: "00038166", key_scheme };

/// The scheme of a Pix key from its form (the SPI writes keys without a type): e-mail
/// (`@`), phone (`+55…`), EVP (a UUID), CPF (11 digits), CNPJ (14 characters).
pub fn key_scheme(key: &str) -> Option<AliasScheme> {
    let b = key.as_bytes();
    if key.contains('@') {
        Some(AliasScheme::Email)
    } else if key.starts_with('+') {
        Some(AliasScheme::Mobile)
    } else if b.len() == 36 && b.iter().filter(|c| **c == b'-').count() == 4 {
        Some(AliasScheme::Evp)
    } else if b.len() == 11 && b.iter().all(u8::is_ascii_digit) {
        Some(AliasScheme::Cpf)
    } else if b.len() == 14 && b.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) {
        Some(AliasScheme::Cnpj)
    } else {
        None
    }
}

/// Alias schemes the network resolves.
pub const ALIASES: &[AliasScheme] =
    &[AliasScheme::Cpf, AliasScheme::Cnpj, AliasScheme::Mobile, AliasScheme::Email, AliasScheme::Evp];

/// Pix has no scheme-wide per-transaction cap: limits are set by each PSP (with the Central
/// Bank's night-time rule for individuals), so none is applied here.
pub const LIMIT: Option<AmountLimit> = None;

/// Checks an alias against the network's formats.
pub fn validate_alias(a: &Alias) -> Result<(), ConnectorError> {
    check_alias_scheme(PROFILE.id, ALIASES, a)?;
    verdict(
        a,
        match a.scheme {
            AliasScheme::Mobile => alias::mobile(&a.value, "55", 10..=11, b"123456789"),
            AliasScheme::Email => alias::email(&a.value, 77),
            AliasScheme::Cpf => ids::cpf(&a.value),
            AliasScheme::Cnpj => ids::cnpj(&a.value),
            AliasScheme::Evp => uuid::lower_case(&a.value),
            other => alias::common(other, &a.value),
        },
    )
}

/// `PmtTpInf/LclInstrm/Prtry`: `DICT` when the payment was addressed by a Pix key, `MANU` when by
/// account details (SPI catalogue; QR-initiated forms are out of scope).
pub fn local_instrument(p: &CanonicalPayment) -> Option<Code> {
    Some(Code::Prtry(if p.creditor.alias.is_some() { "DICT" } else { "MANU" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias(&Alias::new(AliasScheme::Cpf, "52998224725")).is_ok(), "Cpf 52998224725");
        assert!(validate_alias(&Alias::new(AliasScheme::Cpf, "52998224724")).is_err(), "Cpf 52998224724");
        assert!(validate_alias(&Alias::new(AliasScheme::Cnpj, "11222333000181")).is_ok(), "Cnpj 11222333000181");
        assert!(validate_alias(&Alias::new(AliasScheme::Cnpj, "12ABC34501DE35")).is_ok(), "Cnpj 12ABC34501DE35");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+5561988887777")).is_ok(), "Mobile +5561988887777");
        assert!(validate_alias(&Alias::new(AliasScheme::Mobile, "+556198888")).is_err(), "Mobile +556198888");
        assert!(
            validate_alias(&Alias::new(AliasScheme::Email, "joao@example.com.br")).is_ok(),
            "Email joao@example.com.br"
        );
        assert!(
            validate_alias(&Alias::new(
                AliasScheme::Email,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@example.com"
            ))
            .is_err(),
            "Email xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@example.com"
        );
        assert!(
            validate_alias(&Alias::new(AliasScheme::Evp, "123e4567-e89b-42d3-a456-426614174000")).is_ok(),
            "Evp 123e4567-e89b-42d3-a456-426614174000"
        );
        assert!(validate_alias(&Alias::new(AliasScheme::Evp, "not-a-uuid")).is_err(), "Evp not-a-uuid");
    }
}
