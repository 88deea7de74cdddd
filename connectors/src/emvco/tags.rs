//! Data object ids of the merchant-presented mode.

use std::ops::RangeInclusive;

/// Payload format indicator; must be the first data object.
pub const PAYLOAD_FORMAT: u8 = 0;
/// The only payload format indicator value published so far.
pub const PAYLOAD_FORMAT_V1: &str = "01";
/// Point of initiation method: `"11"` static, `"12"` dynamic.
pub const INITIATION: u8 = 1;
/// Primitive merchant account information reserved for card schemes.
pub const SCHEME_ACCOUNTS: RangeInclusive<u8> = 2..=25;
/// Merchant account information templates (sub-tag 00 is the GUID).
pub const ACCOUNT_TEMPLATES: RangeInclusive<u8> = 26..=51;
/// Sub-tag of a merchant account template that holds its globally unique identifier.
pub const GUID: u8 = 0;
/// Merchant category code.
pub const MCC: u8 = 52;
/// Transaction currency (ISO 4217 numeric).
pub const CURRENCY: u8 = 53;
/// Transaction amount.
pub const AMOUNT: u8 = 54;
/// Tip or convenience indicator.
pub const TIP_INDICATOR: u8 = 55;
/// Value of convenience fee, fixed.
pub const FEE_FIXED: u8 = 56;
/// Value of convenience fee, percentage.
pub const FEE_PERCENTAGE: u8 = 57;
/// Country code (ISO 3166-1 alpha-2).
pub const COUNTRY: u8 = 58;
/// Merchant name.
pub const MERCHANT_NAME: u8 = 59;
/// Merchant city.
pub const MERCHANT_CITY: u8 = 60;
/// Postal code.
pub const POSTAL_CODE: u8 = 61;
/// Additional data field template.
pub const ADDITIONAL_DATA: u8 = 62;
/// CRC; must be the last data object.
pub const CRC: u8 = 63;
/// Merchant information language template.
pub const LANGUAGE_TEMPLATE: u8 = 64;
/// Reserved for future use by EMVCo (65–79) and unreserved templates (80–99).
pub const OTHER: RangeInclusive<u8> = 65..=99;
