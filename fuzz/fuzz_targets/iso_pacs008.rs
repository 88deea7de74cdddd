//! Reads arbitrary bytes as a pacs.008 credit transfer from an ISO 20022 network, as the
//! switch reads the payments a connected network originates
//! (`Connector::decode_inbound_payment`), for every ISO 20022 network: the first byte picks
//! the connector (`interlink_fuzz::pick_iso`), the rest is the message (a bare `Document`,
//! or one in its envelope with its `AppHdr`).
//!
//! Must never panic; an accepted payment must re-encode and read back as what the
//! network's message carries of it, and the authorization request the switch makes of it
//! must be writable (`interlink_fuzz::check_inbound_payment`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((connector, message)) = interlink_fuzz::pick_iso(data) {
        interlink_fuzz::check_inbound_payment(connector, message);
    }
});
