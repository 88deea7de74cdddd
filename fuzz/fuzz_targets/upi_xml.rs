//! Reads arbitrary bytes as the messages of India's UPI XML API, as the switch reads a
//! record of UPI's `.in` topic: `upi:RespPay` (a status), `upi:ReqPay` of type REVERSAL
//! (a return) and `upi:ReqPay` of type PAY (a payment UPI originates).
//!
//! Must never panic; accepted messages must re-encode and read back as what UPI's messages
//! carry of them (the checks in `interlink_fuzz`); a message is at most one kind, and
//! `Connector::message_form` (what `interlinkctl connectors decode` shows) recognises
//! whatever is accepted as that message.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let upi = interlink_connectors::connector("IN_UPI").expect("UPI is registered");
    let status = interlink_fuzz::check_status(upi, data).is_some();
    let returned = interlink_fuzz::check_return(upi, data).is_some();
    let payment = interlink_fuzz::check_inbound_payment(upi, data).is_some();
    assert!(
        u8::from(status) + u8::from(returned) + u8::from(payment) <= 1,
        "status {status}, return {returned}, payment {payment}"
    );
    if status || returned || payment {
        let form = upi.message_form(data).map(|f| f.message);
        let root = if status { "upi:RespPay " } else { "upi:ReqPay " };
        assert!(form.is_some_and(|m| m.starts_with(root)), "read as {root:?}, recognised as {form:?}");
    }
});
