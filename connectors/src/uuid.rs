//! UUIDs in their lower-case text form: Pix random keys (EVP) and ISO 20022 UETRs.

use crate::id_format::{Check, FormatError};

/// A lower-case UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (Pix random key, any version).
pub fn lower_case(value: &str) -> Check {
    let b = value.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        });
    if ok {
        Ok(())
    } else {
        Err(FormatError::layout("a lower-case UUID"))
    }
}

/// A UETR: lower-case UUID version 4 (ISO 20022 `UUIDv4Identifier`).
pub fn uetr(value: &str) -> Check {
    lower_case(value)?;
    let b = value.as_bytes();
    if b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b') {
        Ok(())
    } else {
        Err(FormatError::layout("a version 4 UUID"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn uuids_and_uetrs() {
        assert!(lower_case("123e4567-e89b-42d3-a456-426614174000").is_ok());
        assert!(lower_case("123E4567-E89B-42D3-A456-426614174000").is_err());
        assert!(uetr("123e4567-e89b-42d3-a456-426614174000").is_ok());
        assert!(uetr("123e4567-e89b-12d3-a456-426614174000").is_err());
    }

    #[test]
    fn non_ascii_uuids_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES {
            assert!(matches!(lower_case(value), Err(FormatError::Layout(_))), "{value}");
            assert!(uetr(value).is_err(), "{value}");
        }
    }
}
