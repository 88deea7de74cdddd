//! EMVCo merchant-presented QR codes (EMV QRCPS MPM): the payload inside the QR symbols of
//! QRIS, PromptPay, PayNow, FPS, DuitNow and the card schemes.
//!
//! A payload is a sequence of data objects, each a two-digit id, a two-digit decimal length
//! and the value; some values (merchant account information 26–51, additional data 62,
//! language template 64) are themselves sequences of data objects. The payload starts with
//! the payload format indicator (`000201`) and ends with a CRC-16/CCITT-FALSE (`6304` and
//! four hex digits) over everything before the checksum.
//!
//! [`decode`] checks the checksum first, then validates the payload strictly, with the
//! relaxations of a scheme profile ([`QrProfile`]) where the code's GUID selects one, and returns
//! a [`MerchantQr`] that names the profile it matched; [`MerchantQr::encode`]
//! writes one back in ascending tag order with a fresh CRC, and for a decoded code whose tags
//! were already in ascending order the result is the original payload, byte for byte.
//!
//! ```
//! use interlink_connectors::emvco::{decode, KnownScheme, MerchantAccount, MerchantQr};
//!
//! let qr = MerchantQr::new("5812", "764", "TH", "SOMTAM NUA", "BANGKOK")
//!     .with_account(MerchantAccount::new(29, KnownScheme::PromptPay.guid()).with_field(1, "0066812345678"))
//!     .with_amount("120.00");
//! let payload = qr.try_encode()?;
//! let back = decode(&payload)?;
//! assert_eq!(back, qr);
//! assert_eq!(back.account_for(KnownScheme::PromptPay).and_then(|a| a.field(1)), Some("0066812345678"));
//! assert_eq!(back.amount_minor_units(2), Some(Ok(12000)));
//! # Ok::<(), interlink_connectors::emvco::QrError>(())
//! ```

mod amount;
mod crc;
mod decode;
mod error;
mod model;
mod profile;
pub mod tags;
mod tlv;

pub use self::crc::{crc16, seal};
pub use self::decode::{decode, MAX_PAYLOAD_CHARS};
pub use self::error::{QrError, TagPath};
pub use self::model::{AdditionalData, Initiation, KnownScheme, LanguageTemplate, MerchantAccount, MerchantQr, Tip};
pub use self::profile::QrProfile;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
