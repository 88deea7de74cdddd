//! Decodes arbitrary bytes as an authorization request, the switch's input record: Avro in
//! the Confluent wire format (magic byte, big-endian schema id, datum), read with the codec
//! the switch builds (`interlink_schemas::Codec<AuthorizationRequest>`, fixed schema ids).
//!
//! Each input is decoded twice: as it is (a whole framed record, header included), and as a
//! plain Avro datum after a header the fuzzer does not have to find, naming one of the
//! request schemas by the input's first byte: v1 (id 101) or v2 (102), read through Avro
//! schema resolution, or v3 (103), the one this build writes.
//!
//! Must never panic, and whatever decodes must:
//! - encode again, and decode back to itself;
//! - survive an older (v1) producer's framing, less the fields v2 and v3 added;
//! - give the pipeline's derived values (partition key, request key and hash, validation)
//!   without panicking.

#![no_main]

use interlink_schemas::{registry, AuthorizationRequest};
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    let codec = interlink_fuzz::request_codec();
    let Ok(request) = codec.decode(bytes) else { return };
    let again = codec.encode(&request).unwrap_or_else(|e| panic!("{request:?} does not re-encode: {e}"));
    assert_eq!(codec.decode(&again).as_ref().ok(), Some(&request), "re-encoded as {again:?}");
    let v1 = codec
        .encode_as(&request, &registry::AUTHORIZATION_REQUEST_V1)
        .unwrap_or_else(|e| panic!("{request:?} does not encode as v1: {e}"));
    // A v1 producer has none of the fields v2 and v3 added.
    let older = AuthorizationRequest {
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
        ..request.clone()
    };
    assert_eq!(codec.decode(&v1).as_ref().ok(), Some(&older), "v1 frame {v1:?}");
    let _ = request.partition_key();
    let _ = interlink_core::memory::RequestKey::of(&request);
    let _ = interlink_core::memory::request_hash(&request);
    let _ = interlink_core::validate::validate(&request);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(first) = data.first() {
        let version = match first % 3 {
            0 => &registry::AUTHORIZATION_REQUEST_V1,
            1 => &registry::AUTHORIZATION_REQUEST_V2,
            _ => &registry::AUTHORIZATION_REQUEST_V3,
        };
        let mut framed = Vec::with_capacity(data.len() + 5);
        framed.push(0);
        framed.extend_from_slice(&version.id.to_be_bytes());
        framed.extend_from_slice(&data[1..]);
        check(&framed);
    }
});
