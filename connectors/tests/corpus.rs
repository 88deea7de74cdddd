//! The real-world corpus (`tests/corpus/manifest.json`): every sample gets exactly the
//! decision its manifest entry records, and what decodes re-encodes under the network's
//! own profile and decodes again to what that profile carries.

use interlink_connectors::{connector, CanonicalPayment, CanonicalStatus, Connector, ConnectorError};
use interlink_vocab::Finality;
use serde_json::Value;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn samples() -> Vec<Value> {
    let text = std::fs::read_to_string(corpus_dir().join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    manifest["samples"].as_array().unwrap().clone()
}

fn field<'v>(v: &'v Value, name: &str) -> &'v str {
    v[name].as_str().unwrap_or_else(|| panic!("{name} missing in {v}"))
}

fn is_status(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).contains("FIToFIPmtStsRpt")
}

fn variant(e: &ConnectorError) -> String {
    let debug = format!("{e:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or_default().to_string()
}

fn check_payment(c: &dyn Connector, p: &CanonicalPayment, want: &Value, label: &str) {
    assert_eq!(p.message_id, field(want, "message_id"), "{label}");
    assert_eq!(p.transaction_id, field(want, "transaction_id"), "{label}");
    assert_eq!(p.end_to_end_id, field(want, "end_to_end_id"), "{label}");
    let amount = p.settlement_amount();
    assert_eq!(format!("{} {}", amount.minor_units, amount.currency), field(want, "amount"), "{label}");
    let agent = |a: &interlink_connectors::Agent| format!("{}/{}", a.network, a.institution_id);
    assert_eq!(agent(&p.debtor.agent), field(want, "debtor_agent"), "{label}");
    assert_eq!(agent(&p.creditor.agent), field(want, "creditor_agent"), "{label}");
    // Outbound: the network's own form, read back under the same profile.
    let out = c.encode_payment(p).unwrap_or_else(|e| panic!("{label}: re-encode: {e}"));
    assert_eq!(c.decode_payment(&out).unwrap(), c.carried_payment(p), "{label}: re-decoded");
    let form = c.message_form(&out).unwrap();
    assert_eq!(form.message, c.message_versions().payment, "{label}");
}

fn check_status(c: &dyn Connector, s: &CanonicalStatus, want: &Value, label: &str) {
    assert_eq!(s.status.code(), field(want, "status"), "{label}");
    let finality = match s.status.finality() {
        Finality::Settled => "Settled",
        Finality::Refused => "Refused",
        Finality::NotFinal => "NotFinal",
    };
    assert_eq!(finality, field(want, "finality"), "{label}");
    assert_eq!(s.original_message_id, field(want, "original_message_id"), "{label}");
    assert_eq!(s.original_transaction_id, field(want, "original_transaction_id"), "{label}");
    assert_eq!(s.original_end_to_end_id, field(want, "original_end_to_end_id"), "{label}");
    assert_eq!(s.reason.as_ref().map(|r| r.code().to_string()), want["reason"].as_str().map(str::to_string), "{label}");
    let out = c.encode_status(s).unwrap_or_else(|e| panic!("{label}: re-encode: {e}"));
    assert_eq!(c.decode_status(&out).unwrap(), c.carried_status(s), "{label}: re-decoded");
    assert_eq!(c.message_form(&out).unwrap().message, c.message_versions().status, "{label}");
}

#[test]
fn every_corpus_sample_gets_its_recorded_decision() {
    let samples = samples();
    assert!(!samples.is_empty());
    for sample in &samples {
        let network = field(sample, "network");
        let file = field(sample, "file");
        let label = format!("{network} {file}");
        assert!(matches!(field(sample, "origin"), "published" | "written_here"), "{label}");
        assert!(!field(sample, "source").is_empty() && !field(sample, "licence").is_empty(), "{label}");
        let c = connector(network).unwrap_or_else(|| panic!("{label}: no connector"));
        let bytes = std::fs::read(corpus_dir().join(file)).unwrap();
        let decision = &sample["decision"];
        if let Some(want) = decision.get("decoded") {
            assert!(c.message_form(&bytes).is_some(), "{label}: no form recognised");
            match field(want, "kind") {
                "payment" => {
                    let p = c.decode_payment(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
                    check_payment(c, &p, want, &label);
                }
                "status" => {
                    let s = c.decode_status(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
                    check_status(c, &s, want, &label);
                }
                other => panic!("{label}: unknown kind {other}"),
            }
        } else {
            let want = &decision["refused"];
            let r = if is_status(&bytes) {
                c.decode_status(&bytes).map(|_| ())
            } else {
                c.decode_payment(&bytes).map(|_| ())
            };
            let e = r.expect_err(&label);
            assert_eq!(variant(&e), field(want, "error"), "{label}: {e}");
            assert_eq!(e.iso_reason().code(), field(want, "reason"), "{label}: {e}");
        }
    }
}

/// The FedNow samples come in FedNow's own envelope and the profile says which one.
#[test]
fn fednow_envelopes_are_recognised_and_emitted() {
    let fednow = connector("US_FEDNOW").unwrap();
    let bytes = std::fs::read(corpus_dir().join("US_FEDNOW/fednow-sample-message-outgoing-pacs002.xml")).unwrap();
    let form = fednow.message_form(&bytes).unwrap();
    assert_eq!(form.envelope, "FedNowOutgoing/FedNowOutgoingMessage/FedNowPaymentStatus");
    assert_eq!(form.message, "pacs.002.001.10");
    // With a valid instructed agent the same ACSC report settles.
    let fixed = String::from_utf8(bytes).unwrap().replace("<MmbId>111111111</MmbId>", "<MmbId>011104238</MmbId>");
    let s = fednow.decode_status(fixed.as_bytes()).unwrap();
    assert_eq!((s.status.code(), s.status.finality()), ("ACSC", Finality::Settled));
    let out = String::from_utf8(fednow.encode_status(&s).unwrap()).unwrap();
    assert!(
        out.contains("<FedNowIncoming xmlns=\"urn:fednow:incoming:v001\"><FedNowIncomingMessage><FedNowPaymentStatus>"),
        "{out}"
    );
    assert!(out.contains("<Id>frb.fednow.01</Id>"), "{out}");
}

/// HK FPS messages come and go in HKICL's own envelope, with the versions it carries.
#[test]
fn fps_envelopes_are_recognised_and_emitted() {
    let fps = connector("HK_FPS").unwrap();
    let bytes = std::fs::read(corpus_dir().join("HK_FPS/fps.envelope.01_pacs.008.001.06.xml")).unwrap();
    let form = fps.message_form(&bytes).unwrap();
    assert_eq!(form.envelope, "FpsMsg/FpsPylds/BizData");
    assert_eq!(form.message, "pacs.008.001.06");
    assert_eq!(form.header.as_deref(), Some("AppHdr in urn:iso:std:iso:20022:tech:xsd:head.001.001.01"));
    let p = fps.decode_payment(&bytes).unwrap();
    assert_eq!((p.uetr.as_deref(), p.creditor.account.as_deref()), (None, Some("004987654321")));
    let out = String::from_utf8(fps.encode_payment(&p).unwrap()).unwrap();
    for part in [
        "<fps:FpsMsg xmlns:fps=\"urn:hkicl:fps:xsd:fps.envelope.01\"><fps:NbOfMsgs>1</fps:NbOfMsgs><fps:FpsPylds><fps:BizData>",
        "<ah:AppHdr xmlns:ah=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.01\">",
        "<ah:MsgDefIdr>pacs.008.001.06</ah:MsgDefIdr>",
        "<doc:Document xmlns:doc=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.06\"><doc:FIToFICstmrCdtTrf>",
        "</doc:Document></fps:BizData></fps:FpsPylds></fps:FpsMsg>",
    ] {
        assert!(out.contains(part), "missing {part} in {out}");
    }
    // The status report goes out in the same envelope, as pacs.002.001.08 (no OrgnlUETR).
    let status = std::fs::read(corpus_dir().join("HK_FPS/fps.envelope.01_pacs.002.001.08_acsc.xml")).unwrap();
    let s = fps.decode_status(&status).unwrap();
    let mut with_uetr = s.clone();
    with_uetr.original_uetr = Some("8a562c67-ca16-48ba-b074-65581be6f001".into());
    let out = String::from_utf8(fps.encode_status(&with_uetr).unwrap()).unwrap();
    assert!(out.contains("<doc:Document xmlns:doc=\"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.08\">"), "{out}");
    assert!(!out.contains("UETR"), "{out}");
    assert_eq!(fps.decode_status(out.as_bytes()).unwrap(), s);
    // The ISO form HK_FPS read before (pacs.008.001.08 in a BizMsgEnvlp) is still read.
    let iso = std::fs::read(corpus_dir().join("HK_FPS/pacs.008.001.08_fps_profile.xml")).unwrap();
    assert_eq!(fps.message_form(&iso).unwrap().envelope, "BizMsgEnvlp");
    // Another network refuses the FPS envelope by name.
    let e = connector("SG_PAYNOW").unwrap().decode_payment(&bytes).unwrap_err();
    assert!(matches!(e, ConnectorError::UnsupportedMessage(ref m) if m.contains("HKICL FPS")), "{e}");
}

/// Pix messages go out in the SPI catalogue form.
#[test]
fn pix_messages_are_emitted_in_the_spi_catalogue_form() {
    let pix = connector("BR_PIX").unwrap();
    let bytes = std::fs::read(corpus_dir().join("BR_PIX/pacs.008.spi.1.13_manu.xml")).unwrap();
    let p = pix.decode_payment(&bytes).unwrap();
    let out = String::from_utf8(pix.encode_payment(&p).unwrap()).unwrap();
    for part in [
        "<Envelope xmlns=\"https://www.bcb.gov.br/pi/pacs.008/1.13\"><AppHdr>",
        "<MsgDefIdr>pacs.008.spi.1.13</MsgDefIdr>",
        "<To><FIId><FinInstnId><Othr><Id>00038166</Id></Othr></FinInstnId></FIId></To>",
        "<PmtTpInf><InstrPrty>HIGH</InstrPrty><SvcLvl><Prtry>PAGPRI</Prtry></SvcLvl></PmtTpInf></GrpHdr>",
        "<MndtRltdInf><Tp><LclInstrm><Prtry>MANU</Prtry></LclInstrm></Tp></MndtRltdInf>",
        "<Dbtr><Nm>Fulano de Tal</Nm><Id><PrvtId><Othr><Id>52998224725</Id></Othr></PrvtId></Id></Dbtr>",
        "<Document><FIToFICstmrCdtTrf>",
    ] {
        assert!(out.contains(part), "missing {part} in {out}");
    }
    assert!(!out.contains("urn:iso:std:iso:20022"), "{out}");
    // A wrong CPF in the payer's id is refused, not passed on.
    let bad = String::from_utf8(bytes).unwrap().replace("52998224725", "52998224724");
    assert!(matches!(pix.decode_payment(bad.as_bytes()), Err(ConnectorError::InvalidField { .. })));
}
