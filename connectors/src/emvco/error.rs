//! Everything that can be wrong with a merchant-presented QR payload, each with the place
//! it was found.

use std::fmt;

use super::profile::QrProfile;

/// Where in a payload a problem was found: a top-level tag such as `59`, or a sub-tag
/// inside a template such as `62.05` (tag 62, sub-tag 05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagPath {
    /// The top-level data object id (00–99).
    pub tag: u8,
    /// The data object id inside the template `tag`, if the problem is nested.
    pub sub_tag: Option<u8>,
}

impl TagPath {
    /// A top-level data object.
    pub const fn top(tag: u8) -> Self {
        TagPath { tag, sub_tag: None }
    }

    /// Data object `sub_tag` inside template `tag`.
    pub const fn nested(tag: u8, sub_tag: u8) -> Self {
        TagPath { tag, sub_tag: Some(sub_tag) }
    }
}

impl From<u8> for TagPath {
    fn from(tag: u8) -> Self {
        TagPath::top(tag)
    }
}

impl fmt::Display for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub_tag {
            None => write!(f, "{:02}", self.tag),
            Some(sub) => write!(f, "{:02}.{:02}", self.tag, sub),
        }
    }
}

/// Why a payload was rejected (by [`decode`](super::decode)) or a [`MerchantQr`](super::MerchantQr)
/// cannot be encoded (by [`MerchantQr::validate`](super::MerchantQr::validate)).
///
/// Offsets (`at`) are byte offsets into the payload. Decoding reports the first problem in
/// this order: the envelope (size, characters), the checksum of a payload that ends as one
/// (`6304` and four characters), the TLV structure, the position of the CRC, then the data
/// objects in ascending tag order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    // --- envelope ---
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is {len} characters long; at most {max} are allowed")]
    PayloadTooLong { len: usize, max: usize },
    #[error("control character at byte {at}")]
    ControlCharacter { at: usize },

    // --- TLV structure ---
    #[error("the data object starting at byte {at} runs past the end of its container")]
    Truncated { at: usize },
    #[error("expected a two-digit data object id at byte {at}, found {found:?}")]
    BadTagId { at: usize, found: String },
    #[error("tag {tag}: expected a two-digit length at byte {at}, found {found:?}")]
    BadLengthDigits { tag: TagPath, at: usize, found: String },
    #[error("tag {tag} has length 00; present data objects must have a value")]
    EmptyValue { tag: TagPath },

    // --- CRC (tag 63) ---
    #[error("the payload has no CRC (tag 63)")]
    MissingCrc,
    #[error("the CRC (tag 63) is not the last data object")]
    CrcNotLast,
    #[error("the CRC (tag 63) must be 4 uppercase hexadecimal digits, found {found:?}")]
    BadCrcFormat { found: String },
    #[error("CRC mismatch: the payload says {found:04X}, its contents give {expected:04X}")]
    BadCrc { expected: u16, found: u16 },

    // --- data objects ---
    #[error("the payload format indicator (tag 00) must be the first data object")]
    PayloadFormatNotFirst,
    #[error("unsupported payload format indicator {found:?}; expected \"01\" (or \"02\" in DuitNow codes)")]
    BadPayloadFormat { found: String },
    #[error("tag {tag} appears more than once")]
    DuplicateTag { tag: TagPath },
    #[error("mandatory tag {tag} is missing")]
    MissingTag { tag: TagPath },
    #[error("no merchant account information (tags 02-51)")]
    NoMerchantAccount,
    #[error("merchant account template {tag} has no globally unique identifier (sub-tag 00)")]
    EmptyTemplateGuid { tag: u8 },
    #[error("tag {tag} contains a character outside the allowed set")]
    InvalidCharacter { tag: TagPath },
    #[error("tag {tag} must be numeric")]
    NonNumeric { tag: TagPath },
    #[error("tag {tag} must be {expected} characters long, found {found}")]
    LengthMismatch { tag: TagPath, expected: usize, found: usize },
    #[error("tag {tag} is longer than {max} characters")]
    TooLong { tag: TagPath, max: usize },
    #[error("invalid point of initiation method {found:?}; expected \"11\" (static) or \"12\" (dynamic)")]
    InvalidInitiation { found: String },
    #[error("tag {tag}: {found:?} is not a valid amount")]
    InvalidAmount { tag: TagPath, found: String },
    #[error("a dynamic code (01 = \"12\") must carry a transaction amount (tag 54)")]
    DynamicWithoutAmount,
    #[error("invalid tip or convenience indicator {found:?}; expected \"01\", \"02\" or \"03\"")]
    InvalidTipIndicator { found: String },
    #[error("tag {tag} is not allowed here")]
    UnexpectedTag { tag: TagPath },
    #[error("{found:?} is not an ISO 4217 numeric currency code")]
    InvalidCurrency { found: String },
    #[error("{found:?} is not an ISO 3166-1 alpha-2 country code")]
    InvalidCountry { found: String },
    #[error("{found:?} is not an ISO 639-1 language code")]
    InvalidLanguage { found: String },

    // --- model only (building a code rather than reading one) ---
    #[error("tag {tag} does not belong in this field")]
    MisplacedTag { tag: TagPath },
    #[error("merchant account template {tag} is listed after a higher tag; keep merchant_accounts in ascending order")]
    OutOfOrder { tag: u8 },
    #[error("the code is declared under profile {declared} but its contents match profile {matched}")]
    ProfileMismatch { declared: QrProfile, matched: QrProfile },

    // --- amount conversion ---
    #[error("the amount has {decimals} decimal places but the currency has {exponent}")]
    AmountPrecision { decimals: usize, exponent: u32 },
    #[error("the amount does not fit in 64-bit minor units")]
    AmountOverflow,
}
