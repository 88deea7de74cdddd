//! The ISO 20022 envelopes and headers: a bare `Document`, ISO's business message
//! (`BizMsgEnvlp`, `Envelope`, `Message`) with its `AppHdr` (head.001.001.01 to .03),
//! FedNow's `FedNowIncoming`/`FedNowOutgoing`, the BCB's SPI `Envelope` and HKICL's FPS
//! `fps:FpsMsg` (seeded from the HK_FPS corpus samples). The first byte
//! picks the connector (`interlink_fuzz::pick_iso`), the rest is the message, which is read
//! the way the switch reads a record of a network's `.in` topic: a status report, else a
//! return, else a payment the network originates.
//!
//! Must never panic, and the three readers must agree with the envelope reader: whatever
//! one of them accepts, `Connector::message_form` recognises, as that kind of message;
//! and a message is at most one kind. Accepted messages get the checks of their kind.

#![no_main]

use interlink_connectors::Connector;
use libfuzzer_sys::fuzz_target;

fn kind(c: &dyn Connector, message: &[u8]) -> Option<&'static str> {
    let form = c.message_form(message)?;
    Some(&form.message[..8])
}

fuzz_target!(|data: &[u8]| {
    let Some((c, message)) = interlink_fuzz::pick_iso(data) else { return };
    let form = kind(c, message);
    let mut accepted = Vec::new();
    if interlink_fuzz::check_status(c, message).is_some() {
        accepted.push("pacs.002");
    }
    if interlink_fuzz::check_return(c, message).is_some() {
        accepted.push("pacs.004");
    }
    if interlink_fuzz::check_inbound_payment(c, message).is_some() {
        accepted.push("pacs.008");
    }
    assert!(accepted.len() <= 1, "{}: read as {accepted:?}", c.profile().id);
    if let Some(read_as) = accepted.first() {
        assert_eq!(form, Some(*read_as), "{}: the envelope reader disagrees", c.profile().id);
    }
});
