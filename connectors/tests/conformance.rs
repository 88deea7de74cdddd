//! Conformance suite: every registered connector must pass every check here. A new network
//! passes by adding its folder, its registry line, and `tests/golden/<NETWORK>/` with a
//! realistic `payment.xml`/`status.xml` and the canonical JSON they decode to. The list of
//! networks comes from the registry and those folders, never from a count kept here.

use std::path::PathBuf;

use interlink_connectors::{
    connectors, AccountForm, Agent, Alias, AliasScheme, CanonicalPayment, CanonicalReturn, CanonicalStatus, Connector,
    ConnectorError, IdScheme, InterbankSettlement, IsoReason, Money, PaymentStatus, MAX_MESSAGE_BYTES,
};
use proptest::prelude::*;
use serde_json::Value;

/// The names of the folders under `dir`, sorted.
fn folders(dir: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The registered network ids, sorted.
fn registered_ids() -> Vec<&'static str> {
    let mut ids: Vec<_> = connectors().map(id).collect();
    ids.sort();
    ids
}

fn golden_path(network: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(network).join(file)
}

fn golden(network: &str, file: &str) -> Vec<u8> {
    std::fs::read(golden_path(network, file)).unwrap_or_else(|e| panic!("{network}/{file}: {e}"))
}

fn golden_text(network: &str, file: &str) -> String {
    String::from_utf8(golden(network, file)).unwrap()
}

fn golden_json(network: &str, file: &str) -> Value {
    serde_json::from_slice(&golden(network, file)).unwrap_or_else(|e| panic!("{network}/{file}: {e}"))
}

fn expected_payment(network: &str) -> CanonicalPayment {
    serde_json::from_value(golden_json(network, "payment.json")).unwrap()
}

fn expected_status(network: &str) -> CanonicalStatus {
    serde_json::from_value(golden_json(network, "status.json")).unwrap()
}

fn id(c: &dyn Connector) -> &'static str {
    c.profile().id
}

/// Compares two JSON values field by field, naming the first field that differs.
fn assert_fields(network: &str, path: &str, got: &Value, want: &Value) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for key in g.keys().chain(w.keys()) {
                let (gv, wv) = (g.get(key).unwrap_or(&Value::Null), w.get(key).unwrap_or(&Value::Null));
                assert_fields(network, &format!("{path}.{key}"), gv, wv);
            }
        }
        _ => assert_eq!(got, want, "{network}: field {path} differs"),
    }
}

/// The registry, the network folders (`src/networks/<id in lower case>/`) and the goldens
/// (`tests/golden/<ID>/`) name the same networks: one folder each, no more.
#[test]
fn every_network_is_registered_with_its_folder_and_goldens() {
    let ids = registered_ids();
    let code_folders: Vec<String> = folders("src/networks").iter().map(|f| f.to_uppercase()).collect();
    assert_eq!(code_folders, ids, "src/networks/ folders and registered networks differ");
    assert_eq!(folders("tests/golden"), ids, "tests/golden/ folders and registered networks differ");
    for network in &ids {
        for file in ["payment.xml", "payment.json", "status.xml", "status.json"] {
            assert!(golden_path(network, file).is_file(), "missing golden {network}/{file}");
        }
        let p = interlink_connectors::network(network).unwrap();
        assert_eq!(interlink_connectors::connector(network).unwrap().profile(), p);
    }
    assert_eq!(interlink_connectors::NETWORKS.len(), connectors().len());
    assert!(interlink_connectors::NETWORKS.iter().map(|n| n.id).eq(connectors().map(id)));
}

/// A valid account of the form a network asks for passes its own rules: every connector
/// encodes (and reads back) its golden payment with example accounts on both sides.
#[test]
fn example_accounts_pass_each_networks_own_rules() {
    for c in connectors() {
        let form = c.account_form();
        for n in [0, 1, 42, 370_400_440_532_013_000, u64::MAX] {
            let account = form.example(n);
            let mut p = expected_payment(id(c));
            p.debtor.account = account.clone();
            p.creditor.account = Some(account.clone());
            let bytes = c.encode_payment(&p).unwrap_or_else(|e| panic!("{} {account}: {e}", id(c)));
            assert_eq!(c.decode_payment(&bytes).unwrap(), c.carried_payment(&p), "{} {account}", id(c));
        }
    }
    // SEPA's own accounts are IBANs; a local digit string is refused.
    let sepa = interlink_connectors::connector("EU_SCTINST").unwrap();
    assert!(matches!(sepa.account_form(), AccountForm::Iban { country: "DE", .. }));
    let mut p = expected_payment("EU_SCTINST");
    p.creditor.account = Some(AccountForm::LOCAL_DIGITS.example(42));
    assert_eq!(sepa.encode_payment(&p).unwrap_err().iso_reason(), IsoReason::AC03);
}

#[test]
fn golden_payments_decode_field_by_field() {
    for c in connectors() {
        let got = c.decode_payment(&golden(id(c), "payment.xml")).unwrap_or_else(|e| panic!("{}: {e}", id(c)));
        assert_fields(id(c), "payment", &serde_json::to_value(&got).unwrap(), &golden_json(id(c), "payment.json"));
        assert_eq!(got, expected_payment(id(c)));
    }
}

#[test]
fn inbound_payments_must_come_from_the_network() {
    for c in connectors() {
        let golden = golden(id(c), "payment.xml");
        assert_eq!(c.decode_inbound_payment(&golden).unwrap(), c.decode_payment(&golden).unwrap());
        let mut outbound = expected_payment(id(c));
        outbound.debtor = expected_payment(id(other(c))).debtor;
        let bytes = c.encode_payment(&outbound).unwrap();
        assert!(c.decode_payment(&bytes).is_ok(), "{}", id(c));
        let e = c.decode_inbound_payment(&bytes).unwrap_err();
        assert_eq!(e.iso_reason(), IsoReason::RC01, "{}", id(c));
    }
}

#[test]
fn golden_statuses_decode_field_by_field() {
    for c in connectors() {
        let got = c.decode_status(&golden(id(c), "status.xml")).unwrap_or_else(|e| panic!("{}: {e}", id(c)));
        assert_fields(id(c), "status", &serde_json::to_value(&got).unwrap(), &golden_json(id(c), "status.json"));
        assert_eq!(got, expected_status(id(c)));
    }
}

/// The connector after `c` in the registry, for cross-network variants.
fn other(c: &dyn Connector) -> &'static dyn Connector {
    let all: Vec<_> = connectors().collect();
    let i = all.iter().position(|o| id(*o) == id(c)).unwrap();
    all[(i + 1) % all.len()]
}

/// Payments each connector must carry: its golden, a cross-border inbound leg with FX and a
/// quote, an outbound leg to a foreign creditor, and minimal and maximal forms.
fn payment_variants(c: &dyn Connector) -> Vec<(&'static str, CanonicalPayment)> {
    let golden = expected_payment(id(c));
    let foreign = expected_payment(id(other(c)));
    let mut out = vec![("golden", golden.clone())];

    let mut fx = golden.clone();
    fx.debtor = foreign.debtor.clone();
    fx.instructed_amount = foreign.instructed_amount.clone();
    fx.interbank_settlement = Some(InterbankSettlement {
        amount: golden.instructed_amount.clone(),
        fx_rate: Some("1.0845".parse().unwrap()),
        quote_id: Some("0192f5a8-3c1e-7d2b-9a4f-5e6d7c8b9a01".into()),
    });
    fx.uetr = Some("7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a".into());
    out.push(("cross-border inbound with FX", fx));

    if foreign.creditor.account.is_some() {
        let mut outbound = golden.clone();
        outbound.creditor = foreign.creditor.clone();
        out.push(("foreign creditor", outbound));
    }

    let mut minimal = golden.clone();
    minimal.remittance_info = None;
    minimal.purpose = None;
    if minimal.creditor.account.is_some() {
        minimal.creditor.alias = None;
    }
    minimal.debtor.alias = None;
    if id(c) != "US_FEDNOW" {
        minimal.uetr = None;
    }
    out.push(("minimal", minimal));

    let mut maximal = golden.clone();
    maximal.remittance_info = Some("Ünïcode & <markup> \"quoted\" 'text' — 付款 ".trim().to_string());
    maximal.purpose = Some("Cross-border family support".into());
    maximal.uetr = Some("0f6b1c7e-9a3d-4e51-8c2a-1b7e5d9f0a42".into());
    maximal.interbank_settlement =
        Some(InterbankSettlement { amount: golden.instructed_amount.clone(), fx_rate: None, quote_id: None });
    maximal.debtor.identification = Some(interlink_connectors::PersonIdentification {
        id: "A1234563".into(),
        scheme: Some("NIDN".into()),
        issuer: Some("HK".into()),
    });
    out.push(("maximal", maximal));
    out
}

#[test]
fn payments_round_trip_through_every_connector() {
    for c in connectors() {
        for (label, p) in payment_variants(c) {
            let bytes = c.encode_payment(&p).unwrap_or_else(|e| panic!("{} {label}: encode: {e}", id(c)));
            let back = c
                .decode_payment(&bytes)
                .unwrap_or_else(|e| panic!("{} {label}: decode: {e}\n{}", id(c), String::from_utf8_lossy(&bytes)));
            let want = c.carried_payment(&p);
            assert_fields(id(c), label, &serde_json::to_value(&back).unwrap(), &serde_json::to_value(&want).unwrap());
            assert_eq!(back, want, "{} {label}", id(c));
            // Encoding depends on the carried fields only, and is deterministic.
            let again = c.encode_payment(&back).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&bytes),
                "{} {label}: re-encoding differs",
                id(c)
            );
        }
    }
}

fn status_variants(c: &dyn Connector) -> Vec<(&'static str, CanonicalStatus)> {
    let p = expected_payment(id(c));
    let base = CanonicalStatus {
        message_id: "STS-0001".into(),
        created_at: p.created_at + 1_250_000,
        original_message_id: p.message_id.clone(),
        original_end_to_end_id: p.end_to_end_id.clone(),
        original_transaction_id: p.transaction_id.clone(),
        original_uetr: Some("8a562c67-ca16-48ba-b074-65581be6f001".into()),
        status: PaymentStatus::ACCC,
        reason: None,
        additional_info: None,
        instructing_agent: Some(p.creditor.agent.clone()),
        instructed_agent: Some(p.debtor.agent.clone()),
        original_amount: None,
    };
    let with = |status, reason: Option<IsoReason>, info: Option<&str>| CanonicalStatus {
        status,
        reason,
        additional_info: info.map(str::to_string),
        ..base.clone()
    };
    let long = "The creditor agent did not answer within the scheme's time-out; the payment was rejected and no funds moved. Retry later.";
    vec![
        ("ACCC", base.clone()),
        (
            "ACCC without agents",
            CanonicalStatus { instructing_agent: None, instructed_agent: None, original_uetr: None, ..base.clone() },
        ),
        ("RJCT AM04", with(PaymentStatus::RJCT, Some(IsoReason::AM04), Some("insufficient funds"))),
        ("RJCT AC03", with(PaymentStatus::RJCT, Some(IsoReason::AC03), None)),
        ("RJCT other code, long info", with(PaymentStatus::RJCT, Some(IsoReason::parse("ZZ01").unwrap()), Some(long))),
        ("RJCT without reason", with(PaymentStatus::RJCT, None, None)),
        ("BLCK FRAD", with(PaymentStatus::BLCK, Some(IsoReason::FRAD), None)),
        ("ACSP", with(PaymentStatus::ACSP, None, None)),
        ("PDNG", with(PaymentStatus::PDNG, None, None)),
        ("golden", expected_status(id(c))),
    ]
}

#[test]
fn statuses_round_trip_through_every_connector() {
    for c in connectors() {
        for (label, s) in status_variants(c) {
            let bytes = c.encode_status(&s).unwrap_or_else(|e| panic!("{} {label}: encode: {e}", id(c)));
            let back = c
                .decode_status(&bytes)
                .unwrap_or_else(|e| panic!("{} {label}: decode: {e}\n{}", id(c), String::from_utf8_lossy(&bytes)));
            assert_eq!(back, c.carried_status(&s), "{} {label}", id(c));
            let again = c.encode_status(&back).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&bytes),
                "{} {label}: re-encoding differs",
                id(c)
            );
        }
    }
}

#[test]
fn iso_networks_carry_every_status_and_reason_exactly_and_upi_the_main_ones() {
    let p = expected_payment("HK_FPS");
    for c in connectors() {
        let iso = c.message_versions().payment.starts_with("pacs.008");
        for status in PaymentStatus::ALL {
            for reason in IsoReason::KNOWN.iter().cloned().map(Some).chain([None]) {
                let s = CanonicalStatus {
                    message_id: "M1".into(),
                    created_at: p.created_at,
                    original_message_id: "M0".into(),
                    original_end_to_end_id: "E0".into(),
                    original_transaction_id: "T0".into(),
                    original_uetr: None,
                    status,
                    reason: reason.clone(),
                    additional_info: None,
                    instructing_agent: None,
                    instructed_agent: None,
                    original_amount: None,
                };
                let back = c.decode_status(&c.encode_status(&s).unwrap()).unwrap();
                // The SPI catalogue names the original by its transaction id alone.
                let spi = c.message_versions().payment.contains(".spi.");
                if iso && !spi {
                    assert_eq!(back, s, "{}", id(c));
                } else {
                    assert_eq!(back, c.carried_status(&s), "{}", id(c));
                }
            }
        }
        if !iso {
            for (status, reason) in [
                (PaymentStatus::ACCC, None),
                (PaymentStatus::RJCT, Some(IsoReason::AM04)),
                (PaymentStatus::RJCT, Some(IsoReason::AC03)),
                (PaymentStatus::RJCT, Some(IsoReason::AB05)),
                (PaymentStatus::RJCT, Some(IsoReason::AM02)),
            ] {
                let s = CanonicalStatus { status, reason: reason.clone(), ..expected_status(id(c)) };
                let back = c.decode_status(&c.encode_status(&s).unwrap()).unwrap();
                assert_eq!((back.status, back.reason), (status, reason), "{}", id(c));
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Malformed input.

fn decode_any(c: &dyn Connector, bytes: &[u8]) -> [Result<(), ConnectorError>; 3] {
    [c.decode_payment(bytes).map(|_| ()), c.decode_status(bytes).map(|_| ()), c.decode_return(bytes).map(|_| ())]
}

/// The return the switch sends for the network's golden payment, accepted too late.
fn late_return(c: &dyn Connector) -> CanonicalReturn {
    let p = expected_payment(id(c));
    CanonicalReturn {
        message_id: format!("RT{}", p.transaction_id).chars().take(35).collect(),
        created_at: p.created_at + 90_000_000,
        return_id: format!("RT{}", p.transaction_id).chars().take(35).collect(),
        original_message_id: p.transaction_id.clone(),
        original_end_to_end_id: p.end_to_end_id.clone(),
        original_transaction_id: p.transaction_id.clone(),
        original_uetr: p.uetr.clone(),
        returned_amount: p.settlement_amount().clone(),
        reason: IsoReason::parse("TM01").unwrap(),
        additional_info: Some("settled after the switch's response deadline".into()),
        instructing_agent: None,
        instructed_agent: None,
    }
}

/// Every network can send back a payment it settled, in its own message, and read such
/// a message back naming the same payment and amount.
#[test]
fn every_connector_builds_and_reads_back_a_return() {
    for c in connectors() {
        let r = late_return(c);
        let bytes = c.encode_return(&r).unwrap_or_else(|e| panic!("{}: {e}", id(c)));
        let back = c.decode_return(&bytes).unwrap_or_else(|e| panic!("{}: {e}", id(c)));
        let named = |r: &CanonicalReturn| {
            (r.return_id.clone(), r.original_transaction_id.clone(), r.original_end_to_end_id.clone())
        };
        assert_eq!(named(&back), named(&r), "{}", id(c));
        assert_eq!(back.returned_amount, r.returned_amount, "{}", id(c));
        assert!(c.decode_payment(&bytes).is_err() && c.decode_status(&bytes).is_err(), "{}: a return only", id(c));
        let payment = golden(id(c), "payment.xml");
        assert!(c.decode_return(&payment).is_err(), "{}: a payment is not a return", id(c));
    }
}

/// Removes the first element whose local name is `name` (with or without a prefix), or the
/// first attribute `name="…"` when there is no such element.
fn remove(xml: &str, name: &str) -> String {
    let open = [format!("<{name}>"), format!("<{name} "), format!(":{name}>"), format!(":{name} ")];
    if let Some(start) = open.iter().filter_map(|o| xml.find(o.as_str())).min() {
        let start = xml[..=start].rfind('<').unwrap();
        let prefix_end = start + 1 + xml[start + 1..].find(['>', ' ']).unwrap();
        let qname = &xml[start + 1..prefix_end];
        let close = format!("</{qname}>");
        let end = match xml[start..].find(&close) {
            Some(i) => start + i + close.len(),
            None => start + xml[start..].find("/>").unwrap() + 2,
        };
        return format!("{}{}", &xml[..start], &xml[end..]);
    }
    let attr = format!(" {name}=\"");
    let start = xml.find(&attr).unwrap_or_else(|| panic!("no {name} in the golden"));
    let end = start + attr.len() + xml[start + attr.len()..].find('"').unwrap() + 1;
    format!("{}{}", &xml[..start], &xml[end..])
}

fn broken_id(scheme: IdScheme, good: &str) -> String {
    match scheme {
        IdScheme::Bic => format!("1{}", &good[1..]),
        _ => format!("{good}9"),
    }
}

#[test]
fn truncated_messages_are_errors() {
    for c in connectors() {
        for file in ["payment.xml", "status.xml"] {
            let bytes = golden(id(c), file);
            let end = bytes.iter().rposition(|b| *b == b'>').unwrap();
            for cut in (0..end).step_by(7) {
                for r in decode_any(c, &bytes[..cut]) {
                    assert!(r.is_err(), "{} {file} cut at {cut} decoded", id(c));
                }
            }
        }
    }
}

#[test]
fn wrong_roots_namespaces_and_message_types_are_rejected() {
    for c in connectors() {
        let payment = golden_text(id(c), "payment.xml");
        let status = golden_text(id(c), "status.xml");
        let iso = c.message_versions().payment.starts_with("pacs.008");
        // A status where a payment is expected, and the other way round.
        assert!(c.decode_payment(status.as_bytes()).is_err(), "{}", id(c));
        assert!(c.decode_status(payment.as_bytes()).is_err(), "{}", id(c));
        if iso {
            assert!(matches!(c.decode_payment(status.as_bytes()), Err(ConnectorError::WrongNamespace { .. })));
            // ISO's namespaces and the BCB's catalogue ones (`…/pi/pacs.008/1.13`).
            let wrong_version =
                payment.replace("pacs.008.001.", "pacs.008.009.").replace("pi/pacs.008/1.", "pi/pacs.008/9.");
            assert!(
                matches!(c.decode_payment(wrong_version.as_bytes()), Err(ConnectorError::WrongNamespace { .. })),
                "{}",
                id(c)
            );
            let wrong_status =
                status.replace("pacs.002.001.", "pacs.002.009.").replace("pi/pacs.002/1.", "pi/pacs.002/9.");
            assert!(matches!(c.decode_status(wrong_status.as_bytes()), Err(ConnectorError::WrongNamespace { .. })));
            let root = format!("<Foo xmlns=\"{}\"><Bar/></Foo>", c.message_versions().payment);
            assert!(
                matches!(c.decode_payment(root.as_bytes()), Err(ConnectorError::UnsupportedMessage(_))),
                "{}",
                id(c)
            );
            let unprefixed_body = payment.replace(
                "xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008",
                "xmlns:x=\"urn:iso:std:iso:20022:tech:xsd:pacs.008",
            );
            if unprefixed_body != payment {
                assert!(
                    c.decode_payment(unprefixed_body.as_bytes()).is_err(),
                    "{}: document outside its namespace",
                    id(c)
                );
            }
        } else {
            let wrong_ns = payment.replace("http://npci.org/upi/schema/", "http://example.com/upi/");
            assert!(matches!(c.decode_payment(wrong_ns.as_bytes()), Err(ConnectorError::WrongNamespace { .. })));
            assert!(matches!(c.decode_payment(status.as_bytes()), Err(ConnectorError::UnsupportedMessage(_))));
            let old = payment.replace("ver=\"2.0\"", "ver=\"9.9\"");
            assert!(matches!(c.decode_payment(old.as_bytes()), Err(ConnectorError::UnsupportedMessage(_))));
            let collect = payment.replace("type=\"PAY\"", "type=\"COLLECT\"");
            assert!(matches!(c.decode_payment(collect.as_bytes()), Err(ConnectorError::UnsupportedMessage(_))));
        }
        for junk in
            [&b""[..], b"   ", b"not xml at all", b"<", b"<a", b"<?xml version=\"1.0\"?>", b"\xff\xfe<\x00a\x00/>"]
        {
            for r in decode_any(c, junk) {
                assert!(r.is_err(), "{}: {junk:?} decoded", id(c));
            }
        }
    }
}

#[test]
fn missing_mandatory_fields_are_named() {
    for c in connectors() {
        let payment = golden_text(id(c), "payment.xml");
        let status = golden_text(id(c), "status.xml");
        let iso = c.message_versions().payment.starts_with("pacs.008");
        let (payment_fields, status_fields): (&[&str], &[&str]) = if iso {
            (
                &["EndToEndId", "IntrBkSttlmAmt", "DbtrAgt", "CdtrAgt", "MsgId", "CreDtTm", "DbtrAcct"],
                &["TxSts", "OrgnlEndToEndId", "OrgnlGrpInf", "MsgId"],
            )
        } else {
            (&["msgId", "Payer", "Amount", "Ac", "ts"], &["Resp", "msgId", "reqMsgId"])
        };
        for f in payment_fields {
            let r = c.decode_payment(remove(&payment, f).as_bytes());
            assert!(matches!(r, Err(ConnectorError::MissingField(_))), "{} without {f}: {r:?}", id(c));
            assert_eq!(r.unwrap_err().iso_reason(), IsoReason::FF01);
        }
        for f in status_fields {
            // A network's form may not have the field at all (the SPI has no OrgnlGrpInf).
            if !status.contains(&format!("<{f}>")) {
                continue;
            }
            let r = c.decode_status(remove(&status, f).as_bytes());
            assert!(matches!(r, Err(ConnectorError::MissingField(_))), "{} without {f}: {r:?}", id(c));
        }
    }
}

#[test]
fn invalid_participant_ids_are_rejected_with_rc01() {
    for c in connectors() {
        let p = expected_payment(id(c));
        let good = &p.debtor.agent.institution_id;
        let bad = broken_id(c.profile().participant_ids, good);
        let xml = golden_text(id(c), "payment.xml").replace(good.as_str(), &bad);
        let r = c.decode_payment(xml.as_bytes());
        assert!(matches!(r, Err(ConnectorError::InvalidParticipantId { .. })), "{}: {r:?}", id(c));
        assert_eq!(r.unwrap_err().iso_reason(), IsoReason::RC01);

        let mut q = p.clone();
        q.creditor.agent.institution_id = broken_id(c.profile().participant_ids, &p.creditor.agent.institution_id);
        let r = c.encode_payment(&q);
        assert!(matches!(r, Err(ConnectorError::InvalidParticipantId { .. })), "{}: {r:?}", id(c));

        let mut q = p.clone();
        q.debtor.agent = Agent::new("XX_NOWHERE", "123");
        assert_eq!(c.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::RC01);

        // Neither agent in this network.
        let foreign = expected_payment(id(other(c)));
        let mut q = p.clone();
        q.debtor = foreign.debtor.clone();
        q.creditor = foreign.creditor.clone();
        q.creditor.account = Some("12345678".into());
        assert!(matches!(c.encode_payment(&q), Err(ConnectorError::UnknownAgent { .. })), "{}", id(c));
    }
}

#[test]
fn participant_ids_follow_each_scheme() {
    for c in connectors() {
        let p = expected_payment(id(c));
        let profile = c.profile();
        for good in [&p.debtor.agent.institution_id, &p.creditor.agent.institution_id] {
            assert!(profile.validate_participant_id(good).is_ok(), "{} {good}", id(c));
            assert!(
                profile.validate_participant_id(&broken_id(profile.participant_ids, good)).is_err(),
                "{} {good}",
                id(c)
            );
        }
        for bad in ["", " ", "0", "ABCDEFGHIJKLMNOP", "12345678901234567890", "ÄÖÜ"] {
            assert!(profile.validate_participant_id(bad).is_err(), "{} accepted {bad:?}", id(c));
        }
    }
}

#[test]
fn oversized_messages_are_rejected_before_parsing() {
    for c in connectors() {
        let mut big = golden(id(c), "payment.xml");
        big.extend(std::iter::repeat_n(b' ', MAX_MESSAGE_BYTES + 1 - big.len()));
        for r in decode_any(c, &big) {
            let e = r.unwrap_err();
            assert_eq!(e, ConnectorError::Oversized { size: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES });
            assert_eq!(e.iso_reason(), IsoReason::FF01);
        }
    }
}

#[test]
fn business_rules_have_their_reasons() {
    for c in connectors() {
        let p = expected_payment(id(c));
        let currency = c.profile().currency;
        let mut q = p.clone();
        q.instructed_amount = Money::new(100, if currency == "USD" { "EUR" } else { "USD" });
        assert_eq!(c.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::AM03, "{}", id(c));
        let mut q = p.clone();
        q.instructed_amount.minor_units = 0;
        assert_eq!(c.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::AM12, "{}", id(c));
        if let Some(limit) = c.amount_limit() {
            let mut q = p.clone();
            q.instructed_amount.minor_units = limit.max_minor_units + 1;
            assert_eq!(c.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::AM02, "{}", id(c));
            assert!(c.check_amount(limit.max_minor_units, currency).is_ok());
            let xml = golden_text(id(c), "payment.xml");
            let text = interlink_connectors::money::format_decimal(p.instructed_amount.minor_units, currency).unwrap();
            let over = interlink_connectors::money::format_decimal(limit.max_minor_units + 1, currency).unwrap();
            let r = c.decode_payment(
                xml.replace(&format!(">{text}<"), &format!(">{over}<"))
                    .replace(&format!("\"{text}\""), &format!("\"{over}\""))
                    .as_bytes(),
            );
            assert_eq!(r.unwrap_err().iso_reason(), IsoReason::AM02, "{}", id(c));
        }
        let mut q = p.clone();
        q.creditor.alias = Some(Alias::new(AliasScheme::Evp, "not-a-key"));
        let e = c.encode_payment(&q).unwrap_err();
        assert_eq!(e.iso_reason(), IsoReason::BE23, "{}: {e}", id(c));
        let mut q = p.clone();
        q.end_to_end_id = "E".repeat(36);
        assert_eq!(c.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::FF01, "{}", id(c));
    }
    // SEPA: accounts of the scheme's own customers are IBANs of SEPA countries.
    let sepa = interlink_connectors::connector("EU_SCTINST").unwrap();
    let mut q = expected_payment("EU_SCTINST");
    q.creditor.account = Some("FR1420041010050500013M02605".into());
    assert_eq!(sepa.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::AC03);
    q.creditor.account = Some("BR1800360305000010009795493C1".into());
    assert_eq!(sepa.encode_payment(&q).unwrap_err().iso_reason(), IsoReason::AC03);
    let xml = golden_text("EU_SCTINST", "payment.xml").replace("DE89370400440532013000", "DE89370400440532013001");
    assert_eq!(sepa.decode_payment(xml.as_bytes()).unwrap_err().iso_reason(), IsoReason::AC02);
    // FedNow: the UETR is mandatory.
    let fednow = interlink_connectors::connector("US_FEDNOW").unwrap();
    let mut q = expected_payment("US_FEDNOW");
    q.uetr = None;
    assert!(matches!(fednow.encode_payment(&q), Err(ConnectorError::MissingField(_))));
    // pacs.008.001.08 needs the creditor account; .10 and later take a proxy alone.
    for (network, ok) in [("HK_FPS", false), ("TH_PROMPTPAY", true), ("MY_DUITNOW", true)] {
        let c = interlink_connectors::connector(network).unwrap();
        let mut q = expected_payment(network);
        q.creditor.account = None;
        q.creditor.alias = Some(Alias::new(
            AliasScheme::Mobile,
            match network {
                "HK_FPS" => "+85291234567",
                "TH_PROMPTPAY" => "+66812345678",
                _ => "+60123456789",
            },
        ));
        assert_eq!(c.encode_payment(&q).is_ok(), ok, "{network}");
    }
}

// ------------------------------------------------------------------------------------------
// Random input: errors, never panics; and whatever is accepted can be re-emitted.

fn all_goldens() -> Vec<(usize, Vec<u8>)> {
    connectors().enumerate().flat_map(|(i, c)| ["payment.xml", "status.xml"].map(|f| (i, golden(id(c), f)))).collect()
}

fn check_reencodes(c: &dyn Connector, bytes: &[u8]) {
    if let Ok(p) = c.decode_payment(bytes) {
        let again =
            c.encode_payment(&p).unwrap_or_else(|e| panic!("{}: accepted payment cannot be re-encoded: {e}", id(c)));
        assert_eq!(c.decode_payment(&again).unwrap(), c.carried_payment(&p));
    }
    if let Ok(s) = c.decode_status(bytes) {
        let again =
            c.encode_status(&s).unwrap_or_else(|e| panic!("{}: accepted status cannot be re-encoded: {e}", id(c)));
        assert_eq!(c.decode_status(&again).unwrap(), c.carried_status(&s));
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = bytes.len().max(1);
    match m {
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                bytes[i % n] ^= b | 1;
            }
        }
        Mutation::Delete(i, len) => {
            let start = i % n;
            let end = (start + len).min(bytes.len());
            bytes.drain(start.min(end)..end);
        }
        Mutation::Insert(i, ins) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, ins.iter().copied());
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"&".to_vec(),
        b"&amp;".to_vec(),
        b"&#0;".to_vec(),
        b"<![CDATA[x]]>".to_vec(),
        b"<!DOCTYPE x>".to_vec(),
        b"<x/>".to_vec(),
        b"</Document>".to_vec(),
        b"\"".to_vec(),
        b"\xc3".to_vec(),
        b"9".to_vec(),
        b"-".to_vec(),
        b".".to_vec(),
        b" ".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), snippets).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        for c in connectors() {
            let _ = decode_any(c, &bytes);
        }
    }

    #[test]
    fn random_text_never_panics(text in "[<>/a-zA-Z0-9:=\" &;#.\\-]{0,400}") {
        for c in connectors() {
            let _ = decode_any(c, text.as_bytes());
        }
    }

    #[test]
    fn mutated_goldens_never_panic_and_stay_consistent(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let goldens = all_goldens();
        let (i, bytes) = which.get(&goldens).clone();
        let c = connectors().nth(i).unwrap();
        let mutated = mutations.iter().fold(bytes, apply);
        let _ = decode_any(c, &mutated);
        check_reencodes(c, &mutated);
    }

    #[test]
    fn mutated_returns_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let c = connectors().nth(which.index(connectors().len())).unwrap();
        let bytes = c.encode_return(&late_return(c)).unwrap();
        let mutated = mutations.iter().fold(bytes, apply);
        if let Ok(r) = c.decode_return(&mutated) {
            // What was read is a return this network could send.
            c.encode_return(&r).map_err(|e| TestCaseError::fail(format!("{}: {e}", id(c))))?;
        }
    }

    #[test]
    fn canonical_payments_with_random_texts_round_trip_or_fail_cleanly(
        which in any::<prop::sample::Index>(),
        name in "\\PC{0,150}",
        info in "\\PC{0,150}",
        minor in 1i64..5_000_000,
    ) {
        let c = connectors().nth(which.index(connectors().len())).unwrap();
        let mut p = expected_payment(id(c));
        p.debtor.name = Some(name);
        p.remittance_info = Some(info);
        p.instructed_amount.minor_units = minor;
        if let Ok(bytes) = c.encode_payment(&p) {
            let back = c.decode_payment(&bytes).map_err(|e| TestCaseError::fail(format!("{}: {e}", id(c))))?;
            prop_assert_eq!(back, c.carried_payment(&p));
        }
    }
}

// ------------------------------------------------------------------------------------------
// Arbitrary Unicode where ids, aliases and accounts go: a clean error or a round trip.

/// Escapes text for an XML attribute or element.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The id-like values of a network's golden payment, as they appear in its XML.
fn golden_ids(c: &dyn Connector) -> Vec<String> {
    let p = expected_payment(id(c));
    let mut ids = vec![
        p.message_id.clone(),
        p.transaction_id.clone(),
        p.end_to_end_id.clone(),
        p.debtor.account.clone(),
        p.debtor.agent.institution_id.clone(),
        p.creditor.agent.institution_id.clone(),
    ];
    ids.extend(p.creditor.account.clone());
    ids.extend(p.uetr.clone());
    ids.extend(p.debtor.alias.iter().chain(&p.creditor.alias).map(|a| a.value.trim_start_matches('+').to_string()));
    ids
}

/// Unicode strategies: printable text of any script, and any `String` at all (control
/// characters included).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,40}", any::<String>(), "[0-9A-Za-z]{0,8}\\PC{1,3}[0-9A-Za-z]{0,8}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every connector's alias check takes any text in any scheme and answers with BE23.
    #[test]
    fn arbitrary_alias_values_are_refused_cleanly_or_accepted(value in any_text()) {
        for c in connectors() {
            for scheme in AliasScheme::ALL {
                if let Err(e) = c.validate_alias(&Alias::new(scheme, value.clone())) {
                    prop_assert!(
                        matches!(e, ConnectorError::InvalidAlias { .. } | ConnectorError::AliasNotSupported { .. }),
                        "{} {scheme} {value:?}: {e:?}", id(c)
                    );
                    prop_assert_eq!(e.iso_reason(), IsoReason::BE23);
                }
            }
        }
    }

    /// Unicode in the canonical ids, accounts, agents and aliases: encoding refuses it with an
    /// error, or the payment round-trips.
    #[test]
    fn canonical_payments_with_unicode_ids_round_trip_or_fail_cleanly(
        which in any::<prop::sample::Index>(),
        field in 0usize..9,
        text in any_text(),
    ) {
        let c = connectors().nth(which.index(connectors().len())).unwrap();
        let mut p = expected_payment(id(c));
        match field {
            0 => p.message_id = text,
            1 => p.end_to_end_id = text,
            2 => p.transaction_id = text,
            3 => p.debtor.account = text,
            4 => p.creditor.account = Some(text),
            5 => p.uetr = Some(text),
            6 => p.creditor.agent.institution_id = text,
            7 => p.creditor.alias = Some(Alias::new(c.alias_schemes().first().copied().unwrap_or(AliasScheme::Mobile), text)),
            _ => p.debtor.alias = Some(Alias::new(AliasScheme::Mobile, text)),
        }
        if let Ok(bytes) = c.encode_payment(&p) {
            let back = c.decode_payment(&bytes).map_err(|e| TestCaseError::fail(format!("{}: {e}", id(c))))?;
            prop_assert_eq!(back, c.carried_payment(&p));
        }
    }

    /// A golden message with one of its ids replaced by any text: decoding never panics, and
    /// whatever it accepts re-encodes.
    #[test]
    fn goldens_with_unicode_ids_never_panic(
        which in any::<prop::sample::Index>(),
        field in any::<prop::sample::Index>(),
        text in any_text(),
    ) {
        let c = connectors().nth(which.index(connectors().len())).unwrap();
        let ids = golden_ids(c);
        let target = field.get(&ids);
        for file in ["payment.xml", "status.xml"] {
            let xml = golden_text(id(c), file).replacen(target.as_str(), &xml_escape(&text), 1);
            let _ = decode_any(c, xml.as_bytes());
            check_reencodes(c, xml.as_bytes());
        }
    }
}

/// Found by `goldens_with_unicode_ids_never_panic`: UPI's status report read an
/// end-to-end id (`Txn/@refId`) longer than the 35 characters it can send back.
#[test]
fn a_upi_status_with_an_overlong_end_to_end_id_is_refused() {
    let c = interlink_connectors::connector("IN_UPI").unwrap();
    let golden = golden_text("IN_UPI", "status.xml");
    assert!(c.decode_status(golden.as_bytes()).is_ok());
    let long = golden.replacen(r#"refId="527512345678""#, &format!(r#"refId="{}""#, "é".repeat(36)), 1);
    assert_ne!(long, golden);
    let err = c.decode_status(long.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("refId"), "{err}");
}
