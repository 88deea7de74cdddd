//! Writes the generated seeds of every fuzz target into `seeds/TARGET/gen-*` (the
//! hand-written seeds beside them are kept): the repository's real messages (the
//! connectors' golden files and public samples, the sample routing table), each also with
//! its names and free text replaced by Unicode-heavy text (`interlink_fuzz::UNICODE_TEXTS`)
//! and by bytes that are not UTF-8 (`interlink_fuzz::NOT_UTF8`).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from the repository root);
//! the output is deterministic, so a second run changes nothing.

use interlink_connectors::emvco::{self, LanguageTemplate};
use interlink_connectors::{CanonicalReturn, Connector, IsoReason};
use interlink_fuzz::{iso_connectors, iso_selector, request_codec, NOT_UTF8, UNICODE_TEXTS};
use interlink_schemas::{registry, Agent, Alias, Amount, AuthorizationRequest, Channel, PersonId};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository").to_path_buf()
}

struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    /// Starts `seeds/TARGET` afresh: its `gen-*` files are removed.
    fn new(target: &str) -> Self {
        let dir = root().join("fuzz/seeds").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("gen-") {
                std::fs::remove_file(path).unwrap();
            }
        }
        Self { dir, written: 0 }
    }

    fn put(&mut self, name: &str, bytes: &[u8]) {
        let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
        std::fs::write(self.dir.join(format!("gen-{name}")), bytes).unwrap();
        self.written += 1;
    }

    /// `bytes` after the first byte that picks `network` (`interlink_fuzz::pick_iso`).
    fn put_iso(&mut self, network: &str, name: &str, bytes: &[u8]) {
        let mut selected = vec![iso_selector(network)];
        selected.extend_from_slice(bytes);
        self.put(&format!("{network}-{name}"), &selected);
    }
}

fn escaped(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    interlink_connectors::xml::escape_into(&mut out, text);
    out
}

/// `xml` with the text of every `<Nm>` element (any prefix) and every `name="…"`
/// attribute replaced by `with`.
fn replace_names(xml: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len());
    let mut i = 0;
    while i < xml.len() {
        let rest = &xml[i..];
        let opening = (rest.starts_with(b"<Nm>") || (rest.starts_with(b":Nm>") && i > 0 && xml[i - 1] != b'/'))
            .then_some(4)
            .or_else(|| rest.starts_with(b" name=\"").then_some(7));
        match opening {
            Some(len) => {
                out.extend_from_slice(&rest[..len]);
                let end = if len == 4 { b'<' } else { b'"' };
                let text_len = rest[len..].iter().position(|&b| b == end).unwrap_or(0);
                out.extend_from_slice(with);
                i += len + text_len;
            }
            None => {
                out.push(xml[i]);
                i += 1;
            }
        }
    }
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The golden files and public samples of a network: (name, bytes).
fn messages(network: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["connectors/tests/golden", "connectors/tests/corpus"] {
        let dir = root().join(dir).join(network);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "xml")) {
            out.push((f.file_name().unwrap().to_string_lossy().into_owned(), read(&f)));
        }
    }
    out
}

/// Which of the Unicode texts the `k`-th network's seeds get: every fourth, so that the
/// networks between them have all of them and the seeds stay few.
fn share(k: usize) -> impl Iterator<Item = (usize, &'static str)> {
    UNICODE_TEXTS.iter().copied().enumerate().filter(move |(i, _)| i % 4 == k % 4)
}

fn unicode_variants(k: usize, xml: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> =
        share(k).map(|(i, t)| (format!("unicode{i:02}"), replace_names(xml, &escaped(t)))).collect();
    let j = k % NOT_UTF8.len();
    out.push((format!("not_utf8_{j}"), replace_names(xml, NOT_UTF8[j])));
    out.retain(|(_, v)| v != xml);
    out
}

fn golden_payment(c: &dyn Connector) -> interlink_connectors::CanonicalPayment {
    let bytes = read(&root().join("connectors/tests/golden").join(c.profile().id).join("payment.xml"));
    c.decode_payment(&bytes).expect("a golden payment decodes")
}

fn golden_status(c: &dyn Connector) -> interlink_connectors::CanonicalStatus {
    let bytes = read(&root().join("connectors/tests/golden").join(c.profile().id).join("status.xml"));
    c.decode_status(&bytes).expect("a golden status decodes")
}

/// The return of a network's golden payment, as the switch sends one for a late acceptance.
fn golden_return(c: &dyn Connector, info: Option<&str>) -> CanonicalReturn {
    let p = golden_payment(c);
    CanonicalReturn {
        message_id: format!("RT{}", p.transaction_id).chars().take(35).collect(),
        created_at: p.created_at + 90_000_000,
        return_id: format!("RT{}", p.transaction_id).chars().take(35).collect(),
        original_message_id: p.message_id.clone(),
        original_end_to_end_id: p.end_to_end_id.clone(),
        original_transaction_id: p.transaction_id.clone(),
        original_uetr: p.uetr.clone(),
        returned_amount: p.settlement_amount().clone(),
        reason: IsoReason::parse("AC04").unwrap(),
        additional_info: info.map(|i| i.chars().take(105).collect()),
        instructing_agent: None,
        instructed_agent: None,
    }
}

/// A message of each kind, structured, with Unicode in its names and texts where the
/// connector writes them.
fn structured(k: usize, c: &dyn Connector) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, text) in share(k) {
        let name: String = text.chars().take(70).collect();
        let mut p = golden_payment(c);
        p.debtor.name = Some(name.clone());
        p.creditor.name = Some(name.clone());
        p.remittance_info = Some(name.clone());
        if let Ok(bytes) = c.encode_payment(&p) {
            out.push((format!("pacs008-unicode{i:02}"), bytes));
        }
        let mut s = golden_status(c);
        s.additional_info = Some(name.clone());
        if let Ok(bytes) = c.encode_status(&s) {
            out.push((format!("pacs002-unicode{i:02}"), bytes));
        }
        if let Ok(bytes) = c.encode_return(&golden_return(c, Some(&name))) {
            out.push((format!("pacs004-unicode{i:02}"), bytes));
        }
    }
    out
}

fn iso_seeds() {
    let mut pacs008 = Seeds::new("iso_pacs008");
    let mut pacs002 = Seeds::new("iso_pacs002");
    let mut pacs004 = Seeds::new("iso_pacs004");
    let mut envelope = Seeds::new("iso_envelope");
    for (k, &c) in iso_connectors().iter().enumerate() {
        let network = c.profile().id;
        for (name, bytes) in messages(network) {
            let kind = if name.contains("status") || name.contains("pacs.002") || name.contains("002") {
                &mut pacs002
            } else {
                &mut pacs008
            };
            kind.put_iso(network, &name, &bytes);
            envelope.put_iso(network, &name, &bytes);
            if name.starts_with("payment") || name.starts_with("status") {
                for (variant, v) in unicode_variants(k, &bytes) {
                    kind.put_iso(network, &format!("{name}-{variant}"), &v);
                }
                // The other envelope roots read the same way, and a header naming another
                // message than its document.
                let text = String::from_utf8(bytes.clone()).unwrap();
                for root in ["Envelope", "Message"] {
                    envelope.put_iso(network, &format!("{name}-{root}"), text.replace("BizMsgEnvlp", root).as_bytes());
                }
                for (from, to) in [("pacs.008.001.08", "pacs.002.001.10"), ("pacs.002.001.10", "pacs.008.001.08")] {
                    if let Some(i) = text.find(&format!("MsgDefIdr>{from}")) {
                        let swapped = format!("{}MsgDefIdr>{to}{}", &text[..i], &text[i + 10 + from.len()..]);
                        envelope.put_iso(network, &format!("{name}-header-{to}"), swapped.as_bytes());
                    }
                }
            }
        }
        let r = c.encode_return(&golden_return(c, None)).expect("a return encodes");
        pacs004.put_iso(network, "return.xml", &r);
        envelope.put_iso(network, "return.xml", &r);
        let text = String::from_utf8(r.clone()).unwrap();
        let proprietary = text.replacen("Cd>AC04</", "Prtry>NOT-AN-ISO-REASON</", 1).replacen(
            "<Cd>AC04",
            "<Prtry>NOT-AN-ISO-REASON",
            1,
        );
        pacs004.put_iso(
            network,
            "return-proprietary.xml",
            proprietary.replace(":Cd>AC04", ":Prtry>NOT-AN-ISO-REASON").as_bytes(),
        );
        for (name, bytes) in structured(k, c) {
            let kind = match &name[..7] {
                "pacs008" => &mut pacs008,
                "pacs002" => &mut pacs002,
                _ => &mut pacs004,
            };
            kind.put_iso(network, &name, &bytes);
        }
    }
    for s in [&pacs008, &pacs002, &pacs004, &envelope] {
        println!("{}: {}", s.dir.display(), s.written);
    }
}

fn upi_seeds() {
    let upi = interlink_connectors::connector("IN_UPI").unwrap();
    let mut seeds = Seeds::new("upi_xml");
    for (name, bytes) in messages("IN_UPI") {
        seeds.put(&name, &bytes);
        if name.starts_with("payment") || name.starts_with("status") {
            for k in 0..4 {
                for (variant, v) in unicode_variants(k, &bytes) {
                    seeds.put(&format!("{name}-{variant}"), &v);
                }
            }
        }
    }
    seeds.put("reversal.xml", &upi.encode_return(&golden_return(upi, None)).expect("a UPI reversal encodes"));
    for (name, bytes) in (0..4).flat_map(|k| structured(k, upi)) {
        seeds.put(&name, &bytes);
    }
    println!("{}: {}", seeds.dir.display(), seeds.written);
}

fn request(i: usize, text: &str) -> AuthorizationRequest {
    let name: String = text.chars().take(60).collect();
    let base = AuthorizationRequest {
        transaction_id: format!("tx-{i}"),
        end_to_end_id: format!("E2E-{i}"),
        created_at: 1_780_502_400_000_000,
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222020200112233445".into(),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some("004-123456-001".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(10_000, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: Some(name.clone()),
        debtor_id: None,
        creditor_name: Some(name.clone()),
        device_id: None,
    };
    match i % 4 {
        0 => base,
        1 => AuthorizationRequest {
            debtor_agent: Agent::new("HK_FPS", "004"),
            creditor_agent: Some(Agent::new("CN_IBPS", "102100099996")),
            amount: Amount::new(500_000, "HKD"),
            debtor_id: Some(PersonId::new("NIDN", "HK", format!("A12345{i:02}"))),
            purpose: Some(name),
            ..base
        },
        2 => AuthorizationRequest {
            creditor_agent: None,
            creditor_account: None,
            qr_payload: Some(include_str!("../seeds/emvco_decode/qris").to_string()),
            amount: Amount::new(7_500_000, "IDR"),
            channel: Channel::Qr,
            ..base
        },
        _ => AuthorizationRequest {
            creditor_agent: None,
            creditor_alias: Some(Alias { scheme: "MOBILE".into(), value: "+85291234567".into() }),
            ..base
        },
    }
}

fn avro_seeds() {
    let codec = request_codec();
    let mut seeds = Seeds::new("avro_request");
    let mut variants: Vec<(String, AuthorizationRequest)> =
        UNICODE_TEXTS.iter().enumerate().map(|(i, t)| (format!("unicode{i:02}"), request(i, t))).collect();
    variants.push(("ascii".into(), request(0, "Chan Tai Man")));
    for (name, r) in &variants {
        let v2 = codec.encode(r).unwrap();
        let v1 = codec.encode_as(r, &registry::AUTHORIZATION_REQUEST_V1).unwrap();
        seeds.put(&format!("{name}-v2"), &v2);
        seeds.put(&format!("{name}-v1"), &v1);
        // The plain datums after the first byte that names their version.
        seeds.put(&format!("{name}-datum-v2"), &[&[0u8][..], &v2[5..]].concat());
        seeds.put(&format!("{name}-datum-v1"), &[&[1u8][..], &v1[5..]].concat());
    }
    // Names that are not UTF-8: a placeholder of the same length, swapped in the bytes.
    for (i, bad) in NOT_UTF8.iter().enumerate() {
        let placeholder = "Q".repeat(bad.len());
        let v2 = codec.encode(&request(i, &placeholder)).unwrap();
        let at = v2.windows(bad.len()).position(|w| w == placeholder.as_bytes()).unwrap();
        let mut broken = v2.clone();
        broken[at..at + bad.len()].copy_from_slice(bad);
        seeds.put(&format!("not_utf8_{i}-v2"), &broken);
    }
    println!("{}: {}", seeds.dir.display(), seeds.written);
}

fn routing_seeds() {
    let mut seeds = Seeds::new("routing_file");
    let sample = String::from_utf8(read(&root().join("routes/sample.toml"))).unwrap();
    seeds.put("sample.toml", sample.as_bytes());
    seeds.put("test.toml", interlink_routing::TEST_ROUTES_TOML.as_bytes());
    seeds.put("sample-risk.toml", format!("{sample}\n{}", interlink_fuzz::RISK_RULES).as_bytes());
    for (i, text) in UNICODE_TEXTS.iter().enumerate() {
        let quoted = toml_string(text);
        let named = interlink_routing::TEST_ROUTES_TOML.replace("\"ICBC\"", &quoted).replace("\"HSBC\"", &quoted);
        let blocked = format!(
            "{named}\n[[blocks]]\ntarget = \"alias\"\nnetwork = \"HK_FPS\"\nvalue = \"MOBILE:+85291234567\"\nreason = {quoted}\n\n[[limits]]\nid = \"north\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\nperiod = \"day\"\ntime_zone = \"Asia/Hong_Kong\"\ncurrency = \"CNY\"\nmax_amount = \"100.00\"\n"
        );
        seeds.put(&format!("unicode{i:02}.toml"), blocked.as_bytes());
    }
    for (i, bad) in NOT_UTF8.iter().enumerate() {
        let mut bytes = interlink_routing::TEST_ROUTES_TOML.as_bytes().to_vec();
        let at = bytes.windows(4).position(|w| w == b"ICBC").unwrap();
        bytes.splice(at..at + 4, bad.iter().copied());
        seeds.put(&format!("not_utf8_{i}.toml"), &bytes);
    }
    println!("{}: {}", seeds.dir.display(), seeds.written);
}

/// A TOML basic string holding `text`, control characters escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn emvco_seeds() {
    let mut seeds = Seeds::new("emvco_decode");
    let base = emvco::decode(include_str!("../seeds/emvco_decode/qris")).expect("the QRIS seed decodes");
    for (i, text) in UNICODE_TEXTS.iter().enumerate() {
        let mut qr = base.clone();
        qr.language_template = Some(LanguageTemplate {
            language: "zh".into(),
            merchant_name: text.chars().take(25).collect(),
            merchant_city: Some(text.chars().take(15).collect()),
            other: Default::default(),
        });
        seeds.put(&format!("qris-unicode{i:02}"), qr.encode().as_bytes());
        let mut named = base.clone();
        named.merchant_name = Some(text.chars().take(25).collect());
        seeds.put(&format!("qris-name-unicode{i:02}"), named.encode().as_bytes());
    }
    println!("{}: {}", seeds.dir.display(), seeds.written);
}

fn screening_seeds() {
    let mut ofac = Seeds::new("ofac_csv");
    let mut eu = Seeds::new("eu_xml");
    let synthetic = String::from_utf8(read(&root().join("fuzz/seeds/eu_xml/synthetic.xml"))).unwrap();
    for (i, text) in UNICODE_TEXTS.iter().enumerate() {
        let csv = text.replace('"', "\"\"");
        let sdn = format!(
            "3001,\"{csv}\",\"individual\",\"SYN-U\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"{csv}\"\r\n3002,\"ZHANG, {csv}\",-0- ,\"SYN-U\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n"
        );
        let alt = format!("3001,4001,\"aka\",\"{csv}\",-0- \r\n3002,4002,\"fka\",\"{csv} {csv}\",-0- \r\n");
        ofac.put(&format!("unicode{i:02}"), format!("{sdn}\u{1a}\0{alt}").as_bytes());
        let attr = String::from_utf8(escaped(text)).unwrap();
        eu.put(
            &format!("unicode{i:02}.xml"),
            synthetic.replace("Karim Najjari", &attr).replace("Jérôme", &attr).as_bytes(),
        );
    }
    for (i, bad) in NOT_UTF8.iter().enumerate() {
        let mut sdn = b"3001,\"".to_vec();
        sdn.extend_from_slice(bad);
        sdn.extend_from_slice(b"\",\"individual\",\"SYN-U\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n");
        ofac.put(&format!("not_utf8_{i}"), &sdn);
        let mut xml = synthetic.as_bytes().to_vec();
        let at = xml.windows(5).position(|w| w == b"Karim").unwrap();
        xml.splice(at..at + 5, bad.iter().copied());
        eu.put(&format!("not_utf8_{i}.xml"), &xml);
    }
    println!("{}: {}", ofac.dir.display(), ofac.written);
    println!("{}: {}", eu.dir.display(), eu.written);
}

/// The structured target reads its input as choices, so its seeds are bytes: runs that
/// pick the first choices (a request on the first corridor, then its forward, then its
/// network's answer), for every setup byte, and a few pseudo-random ones.
fn core_seeds() {
    let mut seeds = Seeds::new("core_decision");
    for setup in 0..24u8 {
        seeds.put(&format!("zeros-setup{setup:02}"), &[&[setup][..], &[0u8; 256]].concat());
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..16 {
        let len = 200 + 150 * i;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        seeds.put(&format!("random{i:02}"), &bytes);
    }
    println!("{}: {}", seeds.dir.display(), seeds.written);
}

fn main() {
    avro_seeds();
    iso_seeds();
    upi_seeds();
    routing_seeds();
    emvco_seeds();
    screening_seeds();
    core_seeds();
}
