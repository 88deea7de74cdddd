//! What Interlink's fuzz targets share: how an input picks a connector, the checks every
//! accepted network message must pass, and the text seeds are made of.
//!
//! The targets are in `fuzz_targets/`, one per parser that sees outside input; their seeds
//! in `seeds/TARGET` (written by hand, or by `examples/seeds.rs`) and their minimised corpus
//! in `corpus/TARGET`. `scripts/fuzz` builds and runs them (docs/reliability.md).

use interlink_connectors::{CanonicalPayment, CanonicalReturn, CanonicalStatus, Connector};
use interlink_schemas::{AuthorizationRequest, Codec};
use std::sync::LazyLock;

pub use libfuzzer_sys::arbitrary;

/// Risk rules to add to `routes/sample.toml`: blocks of each kind, net debit caps small
/// enough to bite, rolling and counted limits, a suspended participant, a closed corridor.
pub const RISK_RULES: &str = include_str!("risk_rules.toml");

/// Names and free text as payments carry them: many scripts, combining marks,
/// right-to-left text and its overrides, emoji sequences, control characters and
/// non-characters. Seeds put them in every name and text field; the structured targets
/// draw from them.
pub const UNICODE_TEXTS: &[&str] = &[
    "中国工商银行股份有限公司",
    "陳大文",
    "張偉 Zhang Wei",
    "山田太郎",
    "김민준",
    "สมชาย ใจดี",
    "ร้านส้มตำนัว กรุงเทพมหานคร",
    "محمد بن عبد الله",
    "شركة الخليج للتجارة",
    "שלום עליכם",
    "Ñandú Çedilla Øresund Łódź",
    "e\u{301}e\u{301}\u{327}\u{30a}\u{35c}a",
    "Z\u{334}\u{327}\u{31b}\u{353}a\u{335}l\u{337}g\u{336}o\u{334}",
    "\u{202e}gnp.exe\u{202c} invoice",
    "abc\u{200b}\u{200d}\u{feff}def",
    "👩\u{200d}👩\u{200d}👧\u{200d}👦 🇭🇰 🏳\u{fe0f}\u{200d}🌈",
    "\u{1F600}\u{1F4B0}\u{1F4B8}",
    "NUL\u{0}inside",
    "tab\there\r\nnewline",
    "\u{fffd}\u{fffe}\u{ffff}",
    "\u{10ffff}\u{e000}\u{f8ff}",
    "Ⅻ ﬁ ǅ ß ẞ İ ı",
    "दिल्ली मुंबई",
    "Κωνσταντίνος Παπαδόπουλος",
    "Владимир Иванович",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝",
    "&lt;&amp;]]>\"'",
];

/// Byte sequences that are not UTF-8, for the seeds of parsers that take bytes: an
/// over-long `/` (`C0 AF`), an over-long NUL (`C0 80`, modified UTF-8), an over-long
/// three-byte form (`E0 80 AF`), a UTF-16 surrogate (`ED A0 80`), a lone continuation
/// byte and a truncated sequence.
pub const NOT_UTF8: &[&[u8]] = &[b"\xc0\xaf", b"\xc0\x80", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\x80", b"\xe4\xb8"];

/// The ISO 20022 connectors, in registry order: every registered network but UPI.
pub fn iso_connectors() -> &'static [&'static dyn Connector] {
    static ISO: LazyLock<Vec<&'static dyn Connector>> = LazyLock::new(|| {
        interlink_connectors::connectors().filter(|c| c.profile().message_standard.starts_with("ISO 20022")).collect()
    });
    &ISO
}

/// The connector an input's first byte names (modulo their count), and the message after it.
pub fn pick_iso(data: &[u8]) -> Option<(&'static dyn Connector, &[u8])> {
    let (first, message) = data.split_first()?;
    let all = iso_connectors();
    Some((all[*first as usize % all.len()], message))
}

/// The first byte that makes [`pick_iso`] choose `network`.
pub fn iso_selector(network: &str) -> u8 {
    iso_connectors().iter().position(|c| c.profile().id == network).expect("an ISO 20022 network") as u8
}

/// The request codec as the switch builds it (fixed schema ids, no registry).
pub fn request_codec() -> &'static Codec<AuthorizationRequest> {
    static CODEC: LazyLock<Codec<AuthorizationRequest>> =
        LazyLock::new(|| Codec::new().expect("the request codec builds"));
    &CODEC
}

fn id(c: &dyn Connector) -> &'static str {
    c.profile().id
}

/// A payment the network sent, read as the switch reads it
/// ([`Connector::decode_inbound_payment`]), and what must hold if it is accepted:
///
/// - it is [`Connector::decode_payment`]'s answer, from one of the network's participants;
/// - it re-encodes, and reads back as what the network's message carries of it, which
///   encodes to the same bytes (the canonical form is a fixed point);
/// - the authorization request the switch makes of it, if any, can be written with the
///   request schema (the worker could not go on otherwise).
pub fn check_inbound_payment(c: &dyn Connector, message: &[u8]) -> Option<CanonicalPayment> {
    let inbound = c.decode_inbound_payment(message);
    let decoded = c.decode_payment(message);
    match (&inbound, &decoded) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", id(c)),
        (Ok(_), Err(e)) => panic!("{}: inbound accepted, decode_payment refused: {e}", id(c)),
        (Err(_), Ok(p)) => assert_ne!(p.debtor.agent.network, id(c), "{}: refused only as not its own", id(c)),
        (Err(_), Err(_)) => {}
    }
    let p = decoded.ok()?;
    let again = c.encode_payment(&p).unwrap_or_else(|e| panic!("{}: accepted payment does not re-encode: {e}", id(c)));
    let back = c.decode_payment(&again).unwrap_or_else(|e| panic!("{}: re-encoded payment refused: {e}", id(c)));
    assert_eq!(back, c.carried_payment(&p), "{}", id(c));
    assert_eq!(c.encode_payment(&back).as_ref(), Ok(&again), "{}: canonical form", id(c));
    if let Ok(inbound) = inbound {
        if let Ok(request) = interlink_core::legs::inbound_request(id(c), inbound) {
            let bytes = request_codec()
                .encode(&request)
                .unwrap_or_else(|e| panic!("{}: originated request does not encode: {e}", id(c)));
            assert_eq!(request_codec().decode(&bytes).as_ref().ok(), Some(&request), "{}", id(c));
        }
    }
    Some(p)
}

/// A status report the network sent, and what must hold if it is accepted: it
/// re-encodes and reads back as what the network's message carries of it, a fixed point.
pub fn check_status(c: &dyn Connector, message: &[u8]) -> Option<CanonicalStatus> {
    let s = c.decode_status(message).ok()?;
    let again = c.encode_status(&s).unwrap_or_else(|e| panic!("{}: accepted status does not re-encode: {e}", id(c)));
    let back = c.decode_status(&again).unwrap_or_else(|e| panic!("{}: re-encoded status refused: {e}", id(c)));
    assert_eq!(back, c.carried_status(&s), "{}", id(c));
    assert_eq!(c.encode_status(&back).as_ref(), Ok(&again), "{}: canonical form", id(c));
    Some(s)
}

/// A payment return the network sent, and what must hold if it is accepted: a positive
/// amount (the switch computes the reversal from it), and, when it can be written again
/// (a return whose texts grew when read, such as a proprietary reason prefixed to the
/// additional information, may not), it reads back naming the same payment, return, amount
/// and time. A pacs.004 reads back unchanged and is a fixed point; UPI's reversal is not
/// (it maps reasons through its own codes and prefixes their description to the note).
pub fn check_return(c: &dyn Connector, message: &[u8]) -> Option<CanonicalReturn> {
    let r = c.decode_return(message).ok()?;
    assert!(r.returned_amount.minor_units > 0, "{}: {r:?}", id(c));
    if let Ok(again) = c.encode_return(&r) {
        let back = c.decode_return(&again).unwrap_or_else(|e| panic!("{}: re-encoded return refused: {e}", id(c)));
        let named = |r: &CanonicalReturn| {
            (
                r.return_id.clone(),
                r.original_transaction_id.clone(),
                r.original_end_to_end_id.clone(),
                r.returned_amount.clone(),
                r.created_at,
            )
        };
        assert_eq!(named(&back), named(&r), "{}", id(c));
        if c.profile().message_standard.starts_with("ISO 20022") {
            assert_eq!(back, r, "{}", id(c));
            assert_eq!(c.encode_return(&back).as_ref(), Ok(&again), "{}: canonical form", id(c));
        }
    }
    Some(r)
}
