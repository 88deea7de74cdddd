//! Per-scheme profiles: what national schemes really issue where it departs from the strict
//! EMVCo rules.
//!
//! A code is checked against the strict rules, with the relaxations of the profile its merchant
//! account GUIDs select (the first template, in tag order, whose GUID has a profile). The profile
//! reported is the one whose relaxations the code needed: a PromptPay code that carries tags 52,
//! 59 and 60 is a plain EMVCo code and is reported as [`QrProfile::Emvco`]. Anything a profile
//! does not relax keeps its strict rule and its precise error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The rules a code was accepted under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QrProfile {
    /// The EMV QRCPS merchant-presented mode, strictly: every code of no known scheme, and every
    /// code of a known scheme that needed no relaxation.
    #[default]
    #[serde(rename = "emvco")]
    Emvco,
    /// Thai person-to-person PromptPay (GUID `A000000677010111`, tag 29), as Thai banking apps
    /// and the PromptPay QR libraries write it: a mobile number, national id or e-wallet id and
    /// no merchant, so no MCC (52), merchant name (59) or city (60).
    #[serde(rename = "promptpay_p2p")]
    PromptPayP2p,
    /// Thai PromptPay bill payment (GUID `A000000677010112`, tag 30): a biller id and references;
    /// written without 52, 59 and 60 like the person-to-person codes.
    #[serde(rename = "promptpay_bill_payment")]
    PromptPayBillPayment,
    /// Malaysian DuitNow (GUID `A0000006150001`): codes issued by Malaysian banks and wallets
    /// carry payload format indicator `"02"`.
    #[serde(rename = "duitnow")]
    DuitNow,
}

/// What a profile allows beyond the strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Relaxations {
    /// Tags 52, 59 and 60 may be absent.
    pub merchant_fields_optional: bool,
    /// Payload format indicator `"02"` is accepted besides `"01"`.
    pub payload_format_02: bool,
}

impl Relaxations {
    pub const NONE: Relaxations = Relaxations { merchant_fields_optional: false, payload_format_02: false };
}

impl QrProfile {
    /// Every profile.
    pub const ALL: [QrProfile; 4] =
        [QrProfile::Emvco, QrProfile::PromptPayP2p, QrProfile::PromptPayBillPayment, QrProfile::DuitNow];

    /// The id used in JSON and in the corpus manifests (`"promptpay_p2p"`).
    pub fn id(self) -> &'static str {
        match self {
            QrProfile::Emvco => "emvco",
            QrProfile::PromptPayP2p => "promptpay_p2p",
            QrProfile::PromptPayBillPayment => "promptpay_bill_payment",
            QrProfile::DuitNow => "duitnow",
        }
    }

    /// The merchant account GUID that selects this profile (`None` for the strict rules).
    pub fn guid(self) -> Option<&'static str> {
        match self {
            QrProfile::Emvco => None,
            QrProfile::PromptPayP2p => Some("A000000677010111"),
            QrProfile::PromptPayBillPayment => Some("A000000677010112"),
            QrProfile::DuitNow => Some("A0000006150001"),
        }
    }

    /// The scheme profile a template with this GUID selects (compared without regard to case).
    pub fn for_guid(guid: &str) -> Option<QrProfile> {
        QrProfile::ALL.into_iter().find(|p| p.guid().is_some_and(|g| g.eq_ignore_ascii_case(guid)))
    }

    pub(crate) fn relaxations(self) -> Relaxations {
        match self {
            QrProfile::Emvco => Relaxations::NONE,
            QrProfile::PromptPayP2p | QrProfile::PromptPayBillPayment => {
                Relaxations { merchant_fields_optional: true, payload_format_02: false }
            }
            QrProfile::DuitNow => Relaxations { merchant_fields_optional: false, payload_format_02: true },
        }
    }
}

impl fmt::Display for QrProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The rules of one decoding: the strict ones plus the relaxations of the profile the code's
/// GUIDs selected, remembering whether any relaxation was needed.
#[derive(Debug)]
pub(crate) struct ProfileRules {
    candidate: Option<QrProfile>,
    relaxations: Relaxations,
    relaxed: bool,
}

impl ProfileRules {
    pub fn new(candidate: Option<QrProfile>) -> Self {
        let relaxations = candidate.map_or(Relaxations::NONE, QrProfile::relaxations);
        ProfileRules { candidate, relaxations, relaxed: false }
    }

    /// Whether `found` is an accepted payload format indicator.
    pub fn accepts_payload_format(&mut self, found: &str, strict: &str) -> bool {
        if found == strict {
            return true;
        }
        let relaxed = self.relaxations.payload_format_02 && found == "02";
        self.relaxed |= relaxed;
        relaxed
    }

    /// Whether a merchant field (52, 59, 60) may be absent.
    pub fn allows_missing_merchant_field(&mut self) -> bool {
        self.relaxed |= self.relaxations.merchant_fields_optional;
        self.relaxations.merchant_fields_optional
    }

    /// The profile the code matched: the candidate if a relaxation was needed, else the strict
    /// rules.
    pub fn matched(&self) -> QrProfile {
        match self.candidate {
            Some(profile) if self.relaxed => profile,
            _ => QrProfile::Emvco,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_select_profiles() {
        assert_eq!(QrProfile::for_guid("A000000677010111"), Some(QrProfile::PromptPayP2p));
        assert_eq!(QrProfile::for_guid("a000000677010112"), Some(QrProfile::PromptPayBillPayment));
        assert_eq!(QrProfile::for_guid("A0000006150001"), Some(QrProfile::DuitNow));
        assert_eq!(QrProfile::for_guid("SG.PAYNOW"), None);
        for profile in QrProfile::ALL {
            assert_eq!(profile.guid().and_then(QrProfile::for_guid), profile.guid().map(|_| profile));
            let json = serde_json::to_string(&profile).unwrap();
            assert_eq!(json, format!("\"{}\"", profile.id()));
        }
    }

    #[test]
    fn the_profile_is_reported_only_when_a_relaxation_was_needed() {
        let mut rules = ProfileRules::new(Some(QrProfile::DuitNow));
        assert!(rules.accepts_payload_format("01", "01"));
        assert_eq!(rules.matched(), QrProfile::Emvco);
        assert!(!rules.allows_missing_merchant_field());
        assert!(rules.accepts_payload_format("02", "01"));
        assert_eq!(rules.matched(), QrProfile::DuitNow);

        let mut rules = ProfileRules::new(Some(QrProfile::PromptPayP2p));
        assert!(!rules.accepts_payload_format("02", "01"));
        assert!(rules.allows_missing_merchant_field());
        assert_eq!(rules.matched(), QrProfile::PromptPayP2p);

        let mut rules = ProfileRules::new(None);
        assert!(!rules.accepts_payload_format("02", "01"));
        assert!(!rules.allows_missing_merchant_field());
        assert_eq!(rules.matched(), QrProfile::Emvco);
    }
}
