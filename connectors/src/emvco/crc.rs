//! The payload checksum (tag 63).
//!
//! EMVCo uses CRC-16/CCITT-FALSE (ISO/IEC 13239): polynomial 0x1021, initial value 0xFFFF,
//! no input or output reflection, no final XOR. It covers every byte of the payload up to and
//! including the id and length of the CRC itself (`"6304"`), and is written as four
//! uppercase hexadecimal digits.

use ::crc::{Crc, Table, CRC_16_IBM_3740};

use super::error::QrError;
use super::tags;
use super::tlv::Record;

/// CRC-16/CCITT-FALSE, catalogued as CRC-16/IBM-3740; 16 table lanes (8 KiB) process a
/// payload several times faster than the one-byte table.
const CCITT_FALSE: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_IBM_3740);

/// The CRC id and length that precede the checksum.
pub(crate) const CRC_HEADER: &str = "6304";

/// CRC-16/CCITT-FALSE of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CCITT_FALSE.checksum(bytes)
}

/// Completes a payload written without its CRC: appends `6304` and the checksum.
///
/// ```
/// use interlink_connectors::emvco::seal;
/// assert_eq!(seal("000201"), "0002016304AAE6");
/// ```
pub fn seal(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 8);
    out.push_str(body);
    seal_in_place(&mut out);
    out
}

/// Appends `6304` and the checksum of everything before it.
pub(crate) fn seal_in_place(payload: &mut String) {
    payload.push_str(CRC_HEADER);
    let crc = crc16(payload.as_bytes());
    push_hex4(payload, crc);
}

fn push_hex4(out: &mut String, value: u16) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((value >> shift) & 0xF)]));
    }
}

/// Checks the checksum on the raw text, before any TLV is parsed, when the payload ends as a CRC
/// object does (`6304` and four characters): a corrupted code is then refused as corrupted
/// ([`QrError::BadCrc`]), not with whatever TLV error the corruption happens to produce further
/// on. A payload that does not end that way is left to the TLV checks and [`verify`], which say
/// what is missing or misplaced.
pub(crate) fn verify_trailer(payload: &str) -> Result<(), QrError> {
    let Some(header_at) = payload.len().checked_sub(CRC_HEADER.len() + 4) else { return Ok(()) };
    let value_at = header_at + CRC_HEADER.len();
    if payload.as_bytes().get(header_at..value_at) != Some(CRC_HEADER.as_bytes()) {
        return Ok(());
    }
    // Just after the ASCII header, so on a character boundary.
    let value = &payload[value_at..];
    let found = parse_hex4(value).ok_or_else(|| QrError::BadCrcFormat { found: value.to_string() })?;
    let expected = crc16(&payload.as_bytes()[..value_at]);
    if expected != found {
        return Err(QrError::BadCrc { expected, found });
    }
    Ok(())
}

/// Checks that the top-level `records` of `payload` end with a correct CRC.
pub(crate) fn verify(payload: &str, records: &[Record<'_>]) -> Result<(), QrError> {
    let index = records.iter().position(|r| r.tag == tags::CRC).ok_or(QrError::MissingCrc)?;
    if index + 1 != records.len() {
        return Err(QrError::CrcNotLast);
    }
    let record = &records[index];
    let found = parse_hex4(record.value).ok_or_else(|| QrError::BadCrcFormat { found: record.value.to_string() })?;
    // The checksum covers the payload through the CRC's own id and length.
    let expected = crc16(&payload.as_bytes()[..record.value_at()]);
    if expected != found {
        return Err(QrError::BadCrc { expected, found });
    }
    Ok(())
}

/// Four uppercase hexadecimal digits.
fn parse_hex4(s: &str) -> Option<u16> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        // The catalogue's check value for CRC-16/CCITT-FALSE.
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn the_trailer_is_checked_on_the_raw_text() {
        // A TLV-broken body ("99" announces 99 characters) with a wrong checksum: refused as
        // corrupted, before any TLV is read.
        let body = "000201991";
        let sealed = seal(body);
        let expected = crc16(&sealed.as_bytes()[..sealed.len() - 4]);
        assert_eq!(verify_trailer(&sealed), Ok(()));
        let corrupted = format!("{body}6304{:04X}", expected ^ 1);
        assert_eq!(verify_trailer(&corrupted), Err(QrError::BadCrc { expected, found: expected ^ 1 }));
        assert_eq!(verify_trailer("0002016304abcd"), Err(QrError::BadCrcFormat { found: "abcd".into() }));
        // Not ending as a CRC object does: left to the TLV checks.
        for other in ["", "6304", "000201", "0002016305ABCDE", "00020163049ABé"] {
            assert_eq!(verify_trailer(other), Ok(()), "{other:?}");
        }
    }

    #[test]
    fn hex_is_uppercase_and_padded() {
        let mut s = String::new();
        push_hex4(&mut s, 0x0A0F);
        assert_eq!(s, "0A0F");
        assert_eq!(parse_hex4("0A0F"), Some(0x0A0F));
        assert_eq!(parse_hex4("0a0f"), None);
        assert_eq!(parse_hex4("+A0F"), None);
    }
}
