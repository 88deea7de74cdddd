//! Decodes arbitrary UTF-8 as an EMVCo merchant-presented payload. The decoder must never
//! panic, and whatever it accepts must survive encode → decode unchanged.
//!
//! Most random inputs fail the CRC, which would hide every later check from the fuzzer, so
//! each input is also tried "resealed": with its trailing CRC (if any) replaced by the
//! correct one.
//!
//! `scripts/fuzz run emvco_decode` (docs/reliability.md, "Fuzzing and property tests").

#![no_main]

use interlink_connectors::emvco::{decode, seal};
use libfuzzer_sys::fuzz_target;

fn check(payload: &str) {
    if let Ok(qr) = decode(payload) {
        let encoded = qr.encode();
        assert_eq!(decode(&encoded).as_ref(), Ok(&qr), "{payload:?} re-encoded as {encoded:?}");
        assert_eq!(qr.validate(), Ok(()), "{payload:?}");
        // A payload already in canonical form is reproduced byte for byte.
        assert_eq!(decode(&encoded).map(|q| q.encode()), Ok(encoded));
    }
}

/// `payload` with a correct CRC in place of its last eight characters when they look like
/// one, or appended otherwise.
fn reseal(payload: &str) -> String {
    let body = match payload.char_indices().rev().nth(7) {
        Some((i, _)) if payload[i..].starts_with("6304") => &payload[..i],
        _ => payload,
    };
    seal(body)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = std::str::from_utf8(data) {
        check(payload);
        check(&reseal(payload));
    }
});
