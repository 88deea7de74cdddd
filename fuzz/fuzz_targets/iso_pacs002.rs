//! Reads arbitrary bytes as a pacs.002 status report from an ISO 20022 network
//! (`Connector::decode_status`, what the switch tries first on every record of a network's
//! `.in` topic), for every ISO 20022 network: the first byte picks the connector
//! (`interlink_fuzz::pick_iso`), the rest is the message.
//!
//! Must never panic; an accepted report must re-encode and read back as what the network's
//! message carries of it (`interlink_fuzz::check_status`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((connector, message)) = interlink_fuzz::pick_iso(data) {
        interlink_fuzz::check_status(connector, message);
    }
});
