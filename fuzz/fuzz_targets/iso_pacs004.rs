//! Reads arbitrary bytes as a pacs.004 payment return from an ISO 20022 network
//! (`Connector::decode_return`), for every ISO 20022 network: the first byte picks the
//! connector (`interlink_fuzz::pick_iso`), the rest is the message.
//!
//! Must never panic; an accepted return has a positive amount and, when it can be written
//! again, reads back unchanged (`interlink_fuzz::check_return`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((connector, message)) = interlink_fuzz::pick_iso(data) {
        interlink_fuzz::check_return(connector, message);
    }
});
