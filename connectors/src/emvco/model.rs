//! The decoded form of a merchant-presented code, and its encoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::crc::seal_in_place;
use super::error::{QrError, TagPath};
use super::profile::QrProfile;
use super::tlv::Writer;
use super::{amount, decode, tags};

/// A merchant-presented QR code (EMVCo MPM), one field per data object.
///
/// [`decode`] produces it from a payload and [`MerchantQr::encode`] writes it back; for every
/// value that [`MerchantQr::validate`] accepts (which includes everything `decode` returns),
/// `decode(&qr.encode()) == Ok(qr)`.
///
/// Serialises to JSON for `interlinkctl qr decode` and deserialises from it for
/// `qr encode`; optional fields may be omitted and unknown field names are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantQr {
    /// The rules the code was accepted under: [`QrProfile::Emvco`] unless it needed a scheme
    /// profile's relaxations (a PromptPay transfer without a merchant name, a DuitNow code with
    /// payload format `"02"`). A value built by hand must name the profile its contents match.
    #[serde(default)]
    pub profile: QrProfile,
    /// Tag 00, the payload format indicator: `"01"` in every published version (`"02"` in
    /// DuitNow codes, under [`QrProfile::DuitNow`]).
    #[serde(default = "payload_format_01")]
    pub payload_format: String,
    /// Tag 01; optional in the specification (its absence means a static code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiation: Option<Initiation>,
    /// Tags 02–25: primitive merchant account information reserved for card schemes
    /// (Visa 02–03, Mastercard 04–05, EMVCo 06–08, Discover 09–10, Amex 11–12, JCB 13–14,
    /// UnionPay 15–16, EMVCo 17–25), by tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scheme_accounts: BTreeMap<u8, String>,
    /// Tags 26–51: merchant account information templates, one per payment network the
    /// merchant accepts, in ascending tag order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merchant_accounts: Vec<MerchantAccount>,
    /// Tag 52, the ISO 18245 merchant category code (4 digits). Mandatory but under a profile
    /// that lets it out (PromptPay transfers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcc: Option<String>,
    /// Tag 53, the ISO 4217 numeric currency code (`"360"` for IDR).
    pub currency: String,
    /// Tag 54, the transaction amount exactly as written (`"50000"`, `"98.73"`); see
    /// [`MerchantQr::amount_minor_units`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Tags 55–57, the tip or convenience fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<Tip>,
    /// Tag 58, the ISO 3166-1 alpha-2 country of the merchant.
    pub country: String,
    /// Tag 59 (at most 25 characters). Mandatory like 52.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    /// Tag 60 (at most 15 characters). Mandatory like 52.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_city: Option<String>,
    /// Tag 61 (at most 10 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Tag 62, the additional data field template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_data: Option<AdditionalData>,
    /// Tag 64, the merchant information in an alternate language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_template: Option<LanguageTemplate>,
    /// Tags 65–99 (65–79 reserved for EMVCo, 80–99 unreserved templates), kept verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other_tags: BTreeMap<u8, String>,
}

fn payload_format_01() -> String {
    tags::PAYLOAD_FORMAT_V1.to_string()
}

/// Tag 01, the point of initiation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiation {
    /// `"11"`: the same code for every payment; the payer enters the amount.
    Static,
    /// `"12"`: a code for one payment; in Interlink it must carry the amount.
    Dynamic,
}

impl Initiation {
    /// The value of tag 01.
    pub fn code(self) -> &'static str {
        match self {
            Initiation::Static => "11",
            Initiation::Dynamic => "12",
        }
    }
}

/// Tags 55–57: whether the payer adds a tip or pays a convenience fee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tip {
    /// 55 = `"01"`: the payer's app prompts for a tip.
    Prompt,
    /// 55 = `"02"` with tag 56: a fixed fee in the transaction currency (`"5.00"`).
    FixedFee(String),
    /// 55 = `"03"` with tag 57: a percentage fee (`"3.5"`, 00.01–99.99).
    PercentageFee(String),
}

/// One merchant account information template (tags 26–51): which network (its globally
/// unique identifier) and the network-specific sub-fields, such as a PromptPay mobile number or a
/// QRIS merchant PAN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantAccount {
    /// The template's tag, 26–51.
    pub tag: u8,
    /// Sub-tag 00: an AID (`A000000677010111`) or a reverse domain name (`SG.PAYNOW`).
    pub guid: String,
    /// Sub-tags 01–99, whose meaning the network defines.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<u8, String>,
}

impl MerchantAccount {
    /// A template with only its GUID.
    pub fn new(tag: u8, guid: impl Into<String>) -> Self {
        MerchantAccount { tag, guid: guid.into(), fields: BTreeMap::new() }
    }

    /// Adds (or replaces) sub-field `sub_tag`.
    pub fn with_field(mut self, sub_tag: u8, value: impl Into<String>) -> Self {
        self.fields.insert(sub_tag, value.into());
        self
    }

    /// Sub-field `sub_tag`, if present.
    pub fn field(&self, sub_tag: u8) -> Option<&str> {
        self.fields.get(&sub_tag).map(String::as_str)
    }

    /// The national scheme this template belongs to, if Interlink knows its GUID.
    pub fn scheme(&self) -> Option<KnownScheme> {
        KnownScheme::from_guid(&self.guid)
    }
}

/// National fast-payment schemes whose merchant account GUIDs Interlink recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownScheme {
    /// Thailand PromptPay credit transfer, usually tag 29; sub-tag 01 mobile
    /// (`0066` + 9 digits), 02 national id, 03 e-wallet id.
    PromptPay,
    /// Singapore PayNow, usually tag 26; sub-tag 01 proxy type (0 mobile, 2 UEN), 02 proxy
    /// value, 03 amount editable (0/1), 04 expiry (YYYYMMDD).
    PayNow,
    /// Hong Kong FPS, usually tag 26; sub-tag 01 participant (clearing) code, 02 FPS id,
    /// 03 mobile, 04 email.
    HkFps,
    /// Indonesia's national QRIS template, usually tag 51; sub-tag 02 national merchant id
    /// (NMID), 03 merchant criteria (UMI/UKE/UME/UBE).
    Qris,
    /// Malaysia DuitNow, usually tag 26; sub-tag 01 the acquirer's participant code, 02 the
    /// merchant or account id.
    DuitNow,
    /// Thailand PromptPay bill payment, tag 30; sub-tag 01 biller id, 02 and 03 references.
    PromptPayBillPayment,
    /// Brazil's Pix (BR Code), tag 26; sub-tag 01 the Pix key, 25 the URL of a dynamic
    /// charge.
    Pix,
}

impl KnownScheme {
    /// Every recognised scheme.
    pub const ALL: [KnownScheme; 7] = [
        KnownScheme::PromptPay,
        KnownScheme::PayNow,
        KnownScheme::HkFps,
        KnownScheme::Qris,
        KnownScheme::DuitNow,
        KnownScheme::PromptPayBillPayment,
        KnownScheme::Pix,
    ];

    /// The GUID (sub-tag 00) the scheme's templates carry.
    pub fn guid(self) -> &'static str {
        match self {
            KnownScheme::PromptPay => "A000000677010111",
            KnownScheme::PayNow => "SG.PAYNOW",
            KnownScheme::HkFps => "hk.com.hkicl",
            KnownScheme::Qris => "ID.CO.QRIS.WWW",
            KnownScheme::DuitNow => "A0000006150001",
            KnownScheme::PromptPayBillPayment => "A000000677010112",
            KnownScheme::Pix => "br.gov.bcb.pix",
        }
    }

    /// The scheme with this GUID. Reverse-domain GUIDs are compared without regard to case.
    pub fn from_guid(guid: &str) -> Option<Self> {
        KnownScheme::ALL.into_iter().find(|s| s.guid().eq_ignore_ascii_case(guid))
    }

    /// The Interlink network ([`crate::network`]) that settles payments to this scheme.
    pub fn network_id(self) -> &'static str {
        match self {
            KnownScheme::PromptPay | KnownScheme::PromptPayBillPayment => "TH_PROMPTPAY",
            KnownScheme::PayNow => "SG_PAYNOW",
            KnownScheme::HkFps => "HK_FPS",
            KnownScheme::Qris => "ID_BIFAST",
            KnownScheme::DuitNow => "MY_DUITNOW",
            KnownScheme::Pix => "BR_PIX",
        }
    }
}

/// Tag 62, the additional data field template. Sub-tags 01–11 have names; the others
/// (00, 12–49 reserved, 50–99 payment-system templates) are kept in `other`.
///
/// A value of `"***"` asks the payer's app to prompt for the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalData {
    /// 01, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_number: Option<String>,
    /// 02, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    /// 03, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_label: Option<String>,
    /// 04, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loyalty_number: Option<String>,
    /// 05, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_label: Option<String>,
    /// 06, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_label: Option<String>,
    /// 07, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_label: Option<String>,
    /// 08, purpose of transaction, at most 25 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// 09, additional consumer data request (any of `A` address, `M` mobile, `E` email),
    /// at most 3 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_data_request: Option<String>,
    /// 10, at most 20 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_tax_id: Option<String>,
    /// 11, at most 3 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_channel: Option<String>,
    /// Every other sub-tag, verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<u8, String>,
}

impl AdditionalData {
    /// The highest sub-tag with a name.
    pub(crate) const LAST_NAMED: u8 = 11;

    /// The most characters the specification allows in named sub-tag `sub_tag`.
    pub(crate) fn max_len(sub_tag: u8) -> usize {
        match sub_tag {
            1..=8 => 25,
            9 | 11 => 3,
            10 => 20,
            _ => 99,
        }
    }

    /// Named sub-tag `sub_tag` (1–11).
    pub(crate) fn named(&self, sub_tag: u8) -> Option<&Option<String>> {
        Some(match sub_tag {
            1 => &self.bill_number,
            2 => &self.mobile_number,
            3 => &self.store_label,
            4 => &self.loyalty_number,
            5 => &self.reference_label,
            6 => &self.customer_label,
            7 => &self.terminal_label,
            8 => &self.purpose,
            9 => &self.consumer_data_request,
            10 => &self.merchant_tax_id,
            11 => &self.merchant_channel,
            _ => return None,
        })
    }

    /// Named sub-tag `sub_tag` (1–11), for filling in.
    pub(crate) fn named_mut(&mut self, sub_tag: u8) -> Option<&mut Option<String>> {
        Some(match sub_tag {
            1 => &mut self.bill_number,
            2 => &mut self.mobile_number,
            3 => &mut self.store_label,
            4 => &mut self.loyalty_number,
            5 => &mut self.reference_label,
            6 => &mut self.customer_label,
            7 => &mut self.terminal_label,
            8 => &mut self.purpose,
            9 => &mut self.consumer_data_request,
            10 => &mut self.merchant_tax_id,
            11 => &mut self.merchant_channel,
            _ => return None,
        })
    }

    /// Every sub-field present, in ascending sub-tag order (for a value whose `other` holds
    /// no named sub-tag; one that does is listed too, after the named fields, so that nothing
    /// is silently dropped).
    pub fn iter(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        let named = (1..=Self::LAST_NAMED).filter_map(|t| self.named(t).and_then(|v| v.as_deref()).map(|v| (t, v)));
        let low = self.other.range(..1).map(|(t, v)| (*t, v.as_str()));
        let rest = self.other.range(1..).map(|(t, v)| (*t, v.as_str()));
        low.chain(named).chain(rest)
    }
}

/// Tag 64, the merchant information language template: the merchant's name (and city) in a
/// second language, which may use any Unicode script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageTemplate {
    /// 00, ISO 639-1 two-letter code (`"th"`, `"zh"`).
    pub language: String,
    /// 01, at most 25 characters.
    pub merchant_name: String,
    /// 02, at most 15 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_city: Option<String>,
    /// Sub-tags 03–99 (reserved), verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<u8, String>,
}

impl MerchantQr {
    /// A static code with the mandatory fields and no merchant account yet (add one with
    /// [`MerchantQr::with_account`]).
    pub fn new(
        mcc: impl Into<String>,
        currency: impl Into<String>,
        country: impl Into<String>,
        merchant_name: impl Into<String>,
        merchant_city: impl Into<String>,
    ) -> Self {
        MerchantQr {
            profile: QrProfile::Emvco,
            payload_format: payload_format_01(),
            initiation: Some(Initiation::Static),
            scheme_accounts: BTreeMap::new(),
            merchant_accounts: Vec::new(),
            mcc: Some(mcc.into()),
            currency: currency.into(),
            amount: None,
            tip: None,
            country: country.into(),
            merchant_name: Some(merchant_name.into()),
            merchant_city: Some(merchant_city.into()),
            postal_code: None,
            additional_data: None,
            language_template: None,
            other_tags: BTreeMap::new(),
        }
    }

    /// Adds a merchant account template, keeping them in tag order (replacing one with the
    /// same tag).
    pub fn with_account(mut self, account: MerchantAccount) -> Self {
        match self.merchant_accounts.binary_search_by_key(&account.tag, |a| a.tag) {
            Ok(i) => self.merchant_accounts[i] = account,
            Err(i) => self.merchant_accounts.insert(i, account),
        }
        self
    }

    /// Makes this a dynamic code for `amount` (written as in tag 54: `"50000"`, `"98.73"`).
    pub fn with_amount(mut self, amount: impl Into<String>) -> Self {
        self.initiation = Some(Initiation::Dynamic);
        self.amount = Some(amount.into());
        self
    }

    /// Sets the additional data template (tag 62).
    pub fn with_additional_data(mut self, data: AdditionalData) -> Self {
        self.additional_data = Some(data);
        self
    }

    /// Whether tag 01 says `"12"` (a code for a single payment).
    pub fn is_dynamic(&self) -> bool {
        self.initiation == Some(Initiation::Dynamic)
    }

    /// The tag and GUID of every merchant account template (26–51), in tag order.
    pub fn guids(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        self.merchant_accounts.iter().map(|a| (a.tag, a.guid.as_str()))
    }

    /// The first template whose GUID is `guid` (compared without regard to ASCII case).
    pub fn account_by_guid(&self, guid: &str) -> Option<&MerchantAccount> {
        self.merchant_accounts.iter().find(|a| a.guid.eq_ignore_ascii_case(guid))
    }

    /// The first template of a scheme Interlink knows.
    pub fn account_for(&self, scheme: KnownScheme) -> Option<&MerchantAccount> {
        self.account_by_guid(scheme.guid())
    }

    /// The amount (tag 54) in minor units of a currency with `exponent` decimal places:
    /// `"98.7"` with exponent 2 is 9870. `None` without an amount; an error if the amount
    /// is malformed, has more decimals than `exponent`, or overflows `i64`.
    pub fn amount_minor_units(&self, exponent: u32) -> Option<Result<i64, QrError>> {
        self.amount.as_deref().map(|a| amount::to_minor_units(TagPath::top(tags::AMOUNT), a, exponent))
    }

    /// The ISO 4217 exponent of the transaction currency (2 for `"360"` IDR, 0 for `"392"` JPY),
    /// if the currency is known and has minor units defined.
    pub fn currency_exponent(&self) -> Option<u32> {
        interlink_vocab::money::currency_exponent_numeric(&self.currency)
    }

    /// Checks that [`MerchantQr::encode`] gives a payload that decodes back to `self`: every
    /// rule [`decode`] applies, plus the ones a hand-built value can break (a tag kept in the
    /// wrong field, templates out of order, a value over 99 characters).
    pub fn validate(&self) -> Result<(), QrError> {
        self.try_encode().map(drop)
    }

    /// [`MerchantQr::encode`] after [`MerchantQr::validate`]: use it for values built from
    /// untrusted input, such as JSON.
    pub fn try_encode(&self) -> Result<String, QrError> {
        self.check_placement()?;
        let (payload, overflow) = self.write();
        if let Some(tag) = overflow {
            return Err(QrError::TooLong { tag, max: 99 });
        }
        // The decoder owns the rules for every value; anything it accepts and that passed the
        // placement checks above decodes back to `self` field for field, the profile excepted:
        // that one the decoder derives from the contents, so it is compared here.
        let matched = decode(&payload)?.profile;
        if matched != self.profile {
            return Err(QrError::ProfileMismatch { declared: self.profile, matched });
        }
        Ok(payload)
    }

    /// The payload: every data object in ascending tag order, then the CRC (tag 63).
    ///
    /// Never fails, and writes every field it is given; for a value that
    /// [`MerchantQr::validate`] rejects, the payload is one that [`decode`] rejects or reads
    /// differently (a bill number kept in `additional_data.other` comes back as `bill_number`).
    pub fn encode(&self) -> String {
        self.write().0
    }

    fn write(&self) -> (String, Option<TagPath>) {
        let mut w = Writer::with_capacity(256);
        w.push(TagPath::top(tags::PAYLOAD_FORMAT), &self.payload_format);
        if let Some(initiation) = self.initiation {
            w.push(TagPath::top(tags::INITIATION), initiation.code());
        }
        for (tag, value) in &self.scheme_accounts {
            w.push(TagPath::top(*tag), value);
        }
        let mut accounts: Vec<&MerchantAccount> = self.merchant_accounts.iter().collect();
        accounts.sort_by_key(|a| a.tag);
        for account in accounts {
            let mut inner = Writer::with_capacity(64);
            inner.push(TagPath::nested(account.tag, tags::GUID), &account.guid);
            for (sub, value) in &account.fields {
                inner.push(TagPath::nested(account.tag, *sub), value);
            }
            w.push_template(account.tag, inner);
        }
        if let Some(mcc) = &self.mcc {
            w.push(TagPath::top(tags::MCC), mcc);
        }
        w.push(TagPath::top(tags::CURRENCY), &self.currency);
        if let Some(amount) = &self.amount {
            w.push(TagPath::top(tags::AMOUNT), amount);
        }
        match &self.tip {
            None => {}
            Some(Tip::Prompt) => w.push(TagPath::top(tags::TIP_INDICATOR), "01"),
            Some(Tip::FixedFee(fee)) => {
                w.push(TagPath::top(tags::TIP_INDICATOR), "02");
                w.push(TagPath::top(tags::FEE_FIXED), fee);
            }
            Some(Tip::PercentageFee(fee)) => {
                w.push(TagPath::top(tags::TIP_INDICATOR), "03");
                w.push(TagPath::top(tags::FEE_PERCENTAGE), fee);
            }
        }
        w.push(TagPath::top(tags::COUNTRY), &self.country);
        if let Some(name) = &self.merchant_name {
            w.push(TagPath::top(tags::MERCHANT_NAME), name);
        }
        if let Some(city) = &self.merchant_city {
            w.push(TagPath::top(tags::MERCHANT_CITY), city);
        }
        if let Some(postal) = &self.postal_code {
            w.push(TagPath::top(tags::POSTAL_CODE), postal);
        }
        if let Some(data) = &self.additional_data {
            let mut inner = Writer::with_capacity(64);
            for (sub, value) in data.iter() {
                inner.push(TagPath::nested(tags::ADDITIONAL_DATA, sub), value);
            }
            w.push_template(tags::ADDITIONAL_DATA, inner);
        }
        if let Some(lang) = &self.language_template {
            let t = tags::LANGUAGE_TEMPLATE;
            let mut inner = Writer::with_capacity(64);
            inner.push(TagPath::nested(t, 0), &lang.language);
            inner.push(TagPath::nested(t, 1), &lang.merchant_name);
            if let Some(city) = &lang.merchant_city {
                inner.push(TagPath::nested(t, 2), city);
            }
            for (sub, value) in &lang.other {
                inner.push(TagPath::nested(t, *sub), value);
            }
            w.push_template(t, inner);
        }
        for (tag, value) in &self.other_tags {
            w.push(TagPath::top(*tag), value);
        }
        let Writer { mut out, overflow } = w;
        seal_in_place(&mut out);
        (out, overflow)
    }

    /// The rules that only a hand-built value can break: each tag in the field meant for it,
    /// and templates in ascending order (as `decode` returns them).
    fn check_placement(&self) -> Result<(), QrError> {
        let misplaced = |tag: TagPath| Err(QrError::MisplacedTag { tag });
        if let Some(tag) = self.scheme_accounts.keys().find(|t| !tags::SCHEME_ACCOUNTS.contains(*t)) {
            return misplaced(TagPath::top(*tag));
        }
        let mut previous: Option<u8> = None;
        for account in &self.merchant_accounts {
            if !tags::ACCOUNT_TEMPLATES.contains(&account.tag) {
                return misplaced(TagPath::top(account.tag));
            }
            match previous {
                Some(p) if p == account.tag => return Err(QrError::DuplicateTag { tag: TagPath::top(p) }),
                Some(p) if p > account.tag => return Err(QrError::OutOfOrder { tag: account.tag }),
                _ => previous = Some(account.tag),
            }
            if let Some(sub) = account.fields.keys().find(|s| !(1..=99).contains(*s)) {
                return misplaced(TagPath::nested(account.tag, *sub));
            }
        }
        if let Some(data) = &self.additional_data {
            if let Some(sub) = data.other.keys().find(|s| (1..=AdditionalData::LAST_NAMED).contains(*s) || **s > 99) {
                return misplaced(TagPath::nested(tags::ADDITIONAL_DATA, *sub));
            }
        }
        if let Some(lang) = &self.language_template {
            if let Some(sub) = lang.other.keys().find(|s| !(3..=99).contains(*s)) {
                return misplaced(TagPath::nested(tags::LANGUAGE_TEMPLATE, *sub));
            }
        }
        if let Some(tag) = self.other_tags.keys().find(|t| !tags::OTHER.contains(*t)) {
            return misplaced(TagPath::top(*tag));
        }
        Ok(())
    }
}
