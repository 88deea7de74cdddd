//! Payload → [`MerchantQr`], checking every rule of the merchant-presented mode.

use std::collections::BTreeMap;

use super::amount::{is_amount, is_percentage};
use super::crc;
use super::error::{QrError, TagPath};
use super::model::{AdditionalData, Initiation, LanguageTemplate, MerchantAccount, MerchantQr, Tip};
use super::profile::{ProfileRules, QrProfile};
use super::tags;
use super::tlv::{self, Record};

/// The most characters a payload may have.
pub const MAX_PAYLOAD_CHARS: usize = 512;

/// Most characters in a GUID (sub-tag 00 of a merchant account template).
const MAX_GUID_CHARS: usize = 32;

/// Decodes and validates a merchant-presented QR payload (the text inside the QR symbol).
///
/// Checks, in this order: size and characters; the checksum, on the raw text, when the payload
/// ends as a CRC object does (so a corrupted code is refused as [`QrError::BadCrc`]); the TLV
/// structure; the position of tags 00 and 63 and that no tag repeats; then every data object's
/// presence, format and length, under the strict rules plus the relaxations of the
/// [`QrProfile`] the code's merchant account GUIDs select. The first problem found is returned.
/// Nothing is trimmed: a trailing newline from a scanner is a [`QrError::ControlCharacter`].
///
/// ```
/// use interlink_connectors::emvco::{decode, seal, Initiation};
/// let payload = seal(concat!(
///     "000201", "010211",
///     "2632", "0009SG.PAYNOW", "01012", "0210201234567X",
///     "52040000", "5303702", "5802SG", "5905ACME.", "6009Singapore",
/// ));
/// let qr = decode(&payload)?;
/// assert_eq!(qr.initiation, Some(Initiation::Static));
/// assert_eq!(qr.guids().collect::<Vec<_>>(), [(26, "SG.PAYNOW")]);
/// assert_eq!(qr.encode(), payload);
/// # Ok::<(), interlink_connectors::emvco::QrError>(())
/// ```
pub fn decode(payload: &str) -> Result<MerchantQr, QrError> {
    check_envelope(payload)?;
    crc::verify_trailer(payload)?;
    let records = tlv::parse(payload, 0, None)?;
    crc::verify(payload, &records)?;
    build(&records)
}

fn check_envelope(payload: &str) -> Result<(), QrError> {
    if payload.is_empty() {
        return Err(QrError::Empty);
    }
    if payload.len() > MAX_PAYLOAD_CHARS {
        let len = payload.chars().count();
        if len > MAX_PAYLOAD_CHARS {
            return Err(QrError::PayloadTooLong { len, max: MAX_PAYLOAD_CHARS });
        }
    }
    let control = if payload.is_ascii() {
        payload.bytes().position(|b| b.is_ascii_control())
    } else {
        payload.char_indices().find(|(_, c)| c.is_control()).map(|(at, _)| at)
    };
    if let Some(at) = control {
        return Err(QrError::ControlCharacter { at });
    }
    Ok(())
}

/// Top-level data objects by tag, each present at most once.
struct Objects<'r, 'a> {
    records: &'r [Record<'a>],
    /// Index into `records` of each tag's object; `ABSENT` if there is none.
    index: [u8; 100],
}

const ABSENT: u8 = u8::MAX;

impl<'r, 'a> Objects<'r, 'a> {
    fn collect(records: &'r [Record<'a>]) -> Result<Self, QrError> {
        let mut index = [ABSENT; 100];
        for (i, record) in records.iter().enumerate() {
            let slot = &mut index[usize::from(record.tag)];
            if *slot != ABSENT {
                return Err(QrError::DuplicateTag { tag: TagPath::top(record.tag) });
            }
            // At most 512 characters in objects of 5 or more: never more than 102 objects.
            *slot = u8::try_from(i).unwrap_or(ABSENT);
        }
        Ok(Objects { records, index })
    }

    fn get(&self, tag: u8) -> Option<Record<'a>> {
        self.records.get(usize::from(self.index[usize::from(tag)])).copied()
    }

    fn value(&self, tag: u8) -> Option<&'a str> {
        self.get(tag).map(|r| r.value)
    }

    fn required(&self, tag: u8) -> Result<&'a str, QrError> {
        self.value(tag).ok_or(QrError::MissingTag { tag: TagPath::top(tag) })
    }
}

fn build(records: &[Record<'_>]) -> Result<MerchantQr, QrError> {
    if records.first().map(|r| r.tag) != Some(tags::PAYLOAD_FORMAT) {
        return Err(QrError::PayloadFormatNotFirst);
    }
    let objects = Objects::collect(records)?;
    let mut rules = ProfileRules::new(scheme_profile(&objects));

    let payload_format = objects.required(tags::PAYLOAD_FORMAT)?;
    if !rules.accepts_payload_format(payload_format, tags::PAYLOAD_FORMAT_V1) {
        return Err(QrError::BadPayloadFormat { found: payload_format.to_string() });
    }

    let initiation = match objects.value(tags::INITIATION) {
        None => None,
        Some("11") => Some(Initiation::Static),
        Some("12") => Some(Initiation::Dynamic),
        Some(other) => return Err(QrError::InvalidInitiation { found: other.to_string() }),
    };

    let mut scheme_accounts = BTreeMap::new();
    for tag in tags::SCHEME_ACCOUNTS {
        if let Some(value) = objects.value(tag) {
            scheme_accounts.insert(tag, ans(TagPath::top(tag), value)?.to_string());
        }
    }
    let mut merchant_accounts = Vec::new();
    for tag in tags::ACCOUNT_TEMPLATES {
        if let Some(record) = objects.get(tag) {
            merchant_accounts.push(account_template(record)?);
        }
    }
    if scheme_accounts.is_empty() && merchant_accounts.is_empty() {
        return Err(QrError::NoMerchantAccount);
    }

    let mcc =
        merchant_field(&objects, &mut rules, tags::MCC)?.map(|v| numeric(TagPath::top(tags::MCC), v, 4)).transpose()?;
    let currency = currency(objects.required(tags::CURRENCY)?)?;

    let amount = match objects.value(tags::AMOUNT) {
        Some(value) => Some(amount(TagPath::top(tags::AMOUNT), value, 13, is_amount)?),
        None if initiation == Some(Initiation::Dynamic) => return Err(QrError::DynamicWithoutAmount),
        None => None,
    };
    let tip = tip(&objects)?;

    let country = objects.required(tags::COUNTRY)?;
    if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(QrError::InvalidCountry { found: country.to_string() });
    }
    let merchant_name = merchant_field(&objects, &mut rules, tags::MERCHANT_NAME)?
        .map(|v| text(TagPath::top(tags::MERCHANT_NAME), v, 25))
        .transpose()?;
    let merchant_city = merchant_field(&objects, &mut rules, tags::MERCHANT_CITY)?
        .map(|v| text(TagPath::top(tags::MERCHANT_CITY), v, 15))
        .transpose()?;
    let postal_code = match objects.value(tags::POSTAL_CODE) {
        Some(value) => Some(text(TagPath::top(tags::POSTAL_CODE), value, 10)?),
        None => None,
    };
    let additional_data = objects.get(tags::ADDITIONAL_DATA).map(additional_data).transpose()?;
    let language_template = objects.get(tags::LANGUAGE_TEMPLATE).map(language_template).transpose()?;

    let mut other_tags = BTreeMap::new();
    for tag in tags::OTHER {
        if let Some(value) = objects.value(tag) {
            other_tags.insert(tag, ans(TagPath::top(tag), value)?.to_string());
        }
    }

    Ok(MerchantQr {
        profile: rules.matched(),
        payload_format: payload_format.to_string(),
        initiation,
        scheme_accounts,
        merchant_accounts,
        mcc,
        currency,
        amount,
        tip,
        country: country.to_string(),
        merchant_name,
        merchant_city,
        postal_code,
        additional_data,
        language_template,
        other_tags,
    })
}

/// The scheme profile of the first merchant account template, in tag order, whose GUID selects
/// one. Templates are only looked into here; their errors are reported when they are read.
fn scheme_profile(objects: &Objects<'_, '_>) -> Option<QrProfile> {
    tags::ACCOUNT_TEMPLATES.filter_map(|tag| objects.get(tag)).find_map(|record| {
        let fields = tlv::parse(record.value, record.value_at(), Some(record.tag)).ok()?;
        fields.iter().find(|f| f.tag == tags::GUID).and_then(|guid| QrProfile::for_guid(guid.value))
    })
}

/// A merchant field (52, 59, 60): mandatory unless the profile lets it out.
fn merchant_field<'a>(
    objects: &Objects<'_, 'a>,
    rules: &mut ProfileRules,
    tag: u8,
) -> Result<Option<&'a str>, QrError> {
    match objects.value(tag) {
        Some(value) => Ok(Some(value)),
        None if rules.allows_missing_merchant_field() => Ok(None),
        None => Err(QrError::MissingTag { tag: TagPath::top(tag) }),
    }
}

/// The sub-fields of template `record`, rejecting a sub-tag that appears twice.
fn sub_fields<'a>(record: &Record<'a>) -> Result<Vec<Record<'a>>, QrError> {
    let fields = tlv::parse(record.value, record.value_at(), Some(record.tag))?;
    let mut seen = 0u128;
    for field in &fields {
        let bit = 1u128 << field.tag;
        if seen & bit != 0 {
            return Err(QrError::DuplicateTag { tag: TagPath::nested(record.tag, field.tag) });
        }
        seen |= bit;
    }
    Ok(fields)
}

/// A merchant account information template (26–51): GUID in sub-tag 00, then
/// network-defined sub-fields, which are only checked for their character set.
fn account_template(record: Record<'_>) -> Result<MerchantAccount, QrError> {
    let mut guid = None;
    let mut fields = BTreeMap::new();
    for sub in sub_fields(&record)? {
        let path = TagPath::nested(record.tag, sub.tag);
        if sub.tag == tags::GUID {
            guid = Some(text(path, sub.value, MAX_GUID_CHARS)?);
        } else {
            fields.insert(sub.tag, ans(path, sub.value)?.to_string());
        }
    }
    let guid = guid.ok_or(QrError::EmptyTemplateGuid { tag: record.tag })?;
    Ok(MerchantAccount { tag: record.tag, guid, fields })
}

fn additional_data(record: Record<'_>) -> Result<AdditionalData, QrError> {
    let mut data = AdditionalData::default();
    for sub in sub_fields(&record)? {
        let path = TagPath::nested(tags::ADDITIONAL_DATA, sub.tag);
        let value = text(path, sub.value, AdditionalData::max_len(sub.tag))?;
        match data.named_mut(sub.tag) {
            Some(slot) => *slot = Some(value),
            None => {
                data.other.insert(sub.tag, value);
            }
        }
    }
    Ok(data)
}

/// Tag 64: language (00) and merchant name (01) are mandatory; names may use any script.
fn language_template(record: Record<'_>) -> Result<LanguageTemplate, QrError> {
    let t = tags::LANGUAGE_TEMPLATE;
    let mut fields: BTreeMap<u8, &str> = sub_fields(&record)?.into_iter().map(|r| (r.tag, r.value)).collect();
    let language = fields.remove(&0).ok_or(QrError::MissingTag { tag: TagPath::nested(t, 0) })?;
    if !(language.len() == 2 && language.bytes().all(|b| b.is_ascii_alphabetic())) {
        return Err(QrError::InvalidLanguage { found: language.to_string() });
    }
    let name = fields.remove(&1).ok_or(QrError::MissingTag { tag: TagPath::nested(t, 1) })?;
    let merchant_name = unicode_text(TagPath::nested(t, 1), name, 25)?;
    let merchant_city = fields.remove(&2).map(|city| unicode_text(TagPath::nested(t, 2), city, 15)).transpose()?;
    let other = fields.into_iter().map(|(sub, value)| (sub, value.to_string())).collect();
    Ok(LanguageTemplate { language: language.to_string(), merchant_name, merchant_city, other })
}

/// Tags 55–57. 56 must accompany 55 = "02" and 57 must accompany 55 = "03"; neither may
/// appear otherwise.
fn tip(objects: &Objects<'_, '_>) -> Result<Option<Tip>, QrError> {
    let fixed = objects.value(tags::FEE_FIXED);
    let percentage = objects.value(tags::FEE_PERCENTAGE);
    let missing = |tag| QrError::MissingTag { tag: TagPath::top(tag) };
    let tip = match objects.value(tags::TIP_INDICATOR) {
        None => None,
        Some("01") => Some(Tip::Prompt),
        Some("02") => {
            let fee = fixed.ok_or_else(|| missing(tags::FEE_FIXED))?;
            Some(Tip::FixedFee(amount(TagPath::top(tags::FEE_FIXED), fee, 13, is_amount)?))
        }
        Some("03") => {
            let fee = percentage.ok_or_else(|| missing(tags::FEE_PERCENTAGE))?;
            Some(Tip::PercentageFee(amount(TagPath::top(tags::FEE_PERCENTAGE), fee, 5, is_percentage)?))
        }
        Some(other) => return Err(QrError::InvalidTipIndicator { found: other.to_string() }),
    };
    // A fee value only travels with the indicator that announces it.
    if fixed.is_some() && !matches!(tip, Some(Tip::FixedFee(_))) {
        return Err(QrError::UnexpectedTag { tag: TagPath::top(tags::FEE_FIXED) });
    }
    if percentage.is_some() && !matches!(tip, Some(Tip::PercentageFee(_))) {
        return Err(QrError::UnexpectedTag { tag: TagPath::top(tags::FEE_PERCENTAGE) });
    }
    Ok(tip)
}

fn currency(value: &str) -> Result<String, QrError> {
    let code = numeric(TagPath::top(tags::CURRENCY), value, 3)?;
    let known = code.parse().ok().and_then(iso_currency::Currency::from_numeric).is_some();
    if !known {
        return Err(QrError::InvalidCurrency { found: code });
    }
    Ok(code)
}

/// An amount-like value: at most `max` characters, then `well_formed`.
fn amount(tag: TagPath, value: &str, max: usize, well_formed: fn(&str) -> bool) -> Result<String, QrError> {
    if value.len() > max && value.chars().count() > max {
        return Err(QrError::TooLong { tag, max });
    }
    if !well_formed(value) {
        return Err(QrError::InvalidAmount { tag, found: value.to_string() });
    }
    Ok(value.to_string())
}

/// Exactly `len` ASCII digits.
fn numeric(tag: TagPath, value: &str, len: usize) -> Result<String, QrError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QrError::NonNumeric { tag });
    }
    if value.len() != len {
        return Err(QrError::LengthMismatch { tag, expected: len, found: value.len() });
    }
    Ok(value.to_string())
}

/// Printable ASCII (the specification's "ans" common character set) of at most `max`
/// characters.
fn text(tag: TagPath, value: &str, max: usize) -> Result<String, QrError> {
    let value = ans(tag, value)?;
    if value.len() > max {
        return Err(QrError::TooLong { tag, max });
    }
    Ok(value.to_string())
}

/// Any non-control Unicode (control characters are refused for the whole payload), at most
/// `max` characters.
fn unicode_text(tag: TagPath, value: &str, max: usize) -> Result<String, QrError> {
    if value.chars().count() > max {
        return Err(QrError::TooLong { tag, max });
    }
    Ok(value.to_string())
}

/// `value` if it is printable ASCII.
fn ans(tag: TagPath, value: &str) -> Result<&str, QrError> {
    if value.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        Ok(value)
    } else {
        Err(QrError::InvalidCharacter { tag })
    }
}
