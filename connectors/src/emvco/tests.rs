//! Golden codes for each national scheme, built by hand from the published data-object
//! layout with a CRC from an independent bitwise implementation, and one test per error.

use std::collections::BTreeMap;

use super::*;

/// CRC-16/CCITT-FALSE the slow way, independent of the `crc` crate used by the library.
fn reference_crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// `body` followed by `6304` and the reference CRC.
fn sealed(body: &str) -> String {
    let with_header = format!("{body}6304");
    format!("{with_header}{:04X}", reference_crc(with_header.as_bytes()))
}

fn fields(pairs: &[(u8, &str)]) -> BTreeMap<u8, String> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn account(tag: u8, guid: &str, pairs: &[(u8, &str)]) -> MerchantAccount {
    MerchantAccount { tag, guid: guid.to_string(), fields: fields(pairs) }
}

/// Decodes a golden payload, compares it with the expected model, and checks that encoding
/// gives the payload back byte for byte.
fn check_golden(payload: &str, expected: &MerchantQr) {
    let decoded = decode(payload).unwrap_or_else(|e| panic!("{e}: {payload}"));
    assert_eq!(&decoded, expected);
    assert_eq!(decoded.encode(), payload);
    assert_eq!(decoded.try_encode().as_deref(), Ok(payload));
}

#[test]
fn reference_crc_matches_the_catalogue_and_the_library() {
    assert_eq!(reference_crc(b"123456789"), 0x29B1);
    assert_eq!(crc16(b"123456789"), 0x29B1);
    assert_eq!(seal("000201"), sealed("000201"));
}

// Indonesia: a QRIS code at a Jakarta merchant, as a Chinese wallet scans it. The acquirer's
// template (26, ID.DANA.WWW: merchant PAN, merchant id, criteria) comes with the national
// QRIS template (51: NMID, criteria).
pub(super) const QRIS_SAMPLE: &str = QRIS;
const QRIS: &str = "00020101021226640011ID.DANA.WWW011993600915300000123450215ID10200123456780303UMI51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204581253033605405750005802ID5922WARUNG MAKAN SEDERHANA6013JAKARTA PUSAT61051011062070703A016304E310";

#[test]
fn golden_qris() {
    let body = concat!(
        "000201",
        "010212",
        "2664",
        "0011ID.DANA.WWW",
        "01199360091530000012345",
        "0215ID1020012345678",
        "0303UMI",
        "5144",
        "0014ID.CO.QRIS.WWW",
        "0215ID1020012345678",
        "0303UMI",
        "52045812",
        "5303360",
        "540575000",
        "5802ID",
        "5922WARUNG MAKAN SEDERHANA",
        "6013JAKARTA PUSAT",
        "610510110",
        "6207",
        "0703A01",
    );
    assert_eq!(sealed(body), QRIS);
    let mut expected = MerchantQr::new("5812", "360", "ID", "WARUNG MAKAN SEDERHANA", "JAKARTA PUSAT");
    expected.initiation = Some(Initiation::Dynamic);
    expected.merchant_accounts = vec![
        account(26, "ID.DANA.WWW", &[(1, "9360091530000012345"), (2, "ID1020012345678"), (3, "UMI")]),
        account(51, "ID.CO.QRIS.WWW", &[(2, "ID1020012345678"), (3, "UMI")]),
    ];
    expected.amount = Some("75000".into());
    expected.postal_code = Some("10110".into());
    expected.additional_data = Some(AdditionalData { terminal_label: Some("A01".into()), ..Default::default() });
    check_golden(QRIS, &expected);

    let qr = decode(QRIS).unwrap();
    assert_eq!(qr.guids().collect::<Vec<_>>(), [(26, "ID.DANA.WWW"), (51, "ID.CO.QRIS.WWW")]);
    assert_eq!(qr.account_for(KnownScheme::Qris).map(|a| a.tag), Some(51));
    assert_eq!(qr.merchant_accounts[0].scheme(), None);
    assert_eq!(qr.currency_exponent(), Some(2));
    assert_eq!(qr.amount_minor_units(0), Some(Ok(75_000)));
    assert_eq!(qr.amount_minor_units(2), Some(Ok(7_500_000)));
}

// Thailand: a static PromptPay code for a mobile-number proxy, with the name in Thai.
const PROMPTPAY: &str = "00020101021129370016A000000677010111011300668123456785204581253037645802TH5910SOMTAM NUA6007BANGKOK64290002th0108ส้มตำนัว0207กรุงเทพ63046CED";

#[test]
fn golden_promptpay() {
    let body = concat!(
        "000201",
        "010211",
        "2937",
        "0016A000000677010111",
        "01130066812345678",
        "52045812",
        "5303764",
        "5802TH",
        "5910SOMTAM NUA",
        "6007BANGKOK",
        // Lengths count characters: the Thai name is 8 (with its combining marks), 24 bytes.
        "6429",
        "0002th",
        "0108ส้มตำนัว",
        "0207กรุงเทพ",
    );
    assert_eq!(sealed(body), PROMPTPAY);
    let mut expected = MerchantQr::new("5812", "764", "TH", "SOMTAM NUA", "BANGKOK");
    expected.merchant_accounts = vec![account(29, "A000000677010111", &[(1, "0066812345678")])];
    expected.language_template = Some(LanguageTemplate {
        language: "th".into(),
        merchant_name: "ส้มตำนัว".into(),
        merchant_city: Some("กรุงเทพ".into()),
        other: BTreeMap::new(),
    });
    check_golden(PROMPTPAY, &expected);
    let qr = decode(PROMPTPAY).unwrap();
    assert_eq!(qr.merchant_accounts[0].scheme(), Some(KnownScheme::PromptPay));
    assert_eq!(qr.amount_minor_units(2), None);
    assert!(!qr.is_dynamic());
}

// Singapore: a dynamic PayNow code to a UEN proxy, amount not editable, with an expiry date.
const PAYNOW: &str = "00020101021226490009SG.PAYNOW010120210201234567X03010040820301231520400005303702540510.505802SG5914ACME PTE. LTD.6009Singapore62170113INV-2026-004263042F78";

#[test]
fn golden_paynow() {
    let body = concat!(
        "000201",
        "010212",
        "2649",
        "0009SG.PAYNOW",
        "01012",
        "0210201234567X",
        "03010",
        "040820301231",
        "52040000",
        "5303702",
        "540510.50",
        "5802SG",
        "5914ACME PTE. LTD.",
        "6009Singapore",
        "6217",
        "0113INV-2026-0042",
    );
    assert_eq!(sealed(body), PAYNOW);
    let mut expected = MerchantQr::new("0000", "702", "SG", "ACME PTE. LTD.", "Singapore");
    expected.initiation = Some(Initiation::Dynamic);
    expected.merchant_accounts =
        vec![account(26, "SG.PAYNOW", &[(1, "2"), (2, "201234567X"), (3, "0"), (4, "20301231")])];
    expected.amount = Some("10.50".into());
    expected.additional_data = Some(AdditionalData { bill_number: Some("INV-2026-0042".into()), ..Default::default() });
    check_golden(PAYNOW, &expected);
    assert_eq!(decode(PAYNOW).unwrap().amount_minor_units(2), Some(Ok(1050)));
}

// Hong Kong: a static FPS code by FPS id, prompting for a tip, with the name in Chinese.
const FPS: &str = "00020101021126360012hk.com.hkicl010300402091234567895204541153033445502015802HK5914CHAN KEE STORE6009HONG KONG64200002ZH0104陳記士多0202香港63042F8B";

#[test]
fn golden_hk_fps() {
    let body = concat!(
        "000201",
        "010211",
        "2636",
        "0012hk.com.hkicl",
        "0103004",
        "0209123456789",
        "52045411",
        "5303344",
        "550201",
        "5802HK",
        "5914CHAN KEE STORE",
        "6009HONG KONG",
        "6420",
        "0002ZH",
        "0104陳記士多",
        "0202香港",
    );
    assert_eq!(sealed(body), FPS);
    let mut expected = MerchantQr::new("5411", "344", "HK", "CHAN KEE STORE", "HONG KONG");
    expected.merchant_accounts = vec![account(26, "hk.com.hkicl", &[(1, "004"), (2, "123456789")])];
    expected.tip = Some(Tip::Prompt);
    expected.language_template = Some(LanguageTemplate {
        language: "ZH".into(),
        merchant_name: "陳記士多".into(),
        merchant_city: Some("香港".into()),
        other: BTreeMap::new(),
    });
    check_golden(FPS, &expected);
    assert_eq!(decode(FPS).unwrap().merchant_accounts[0].scheme(), Some(KnownScheme::HkFps));
}

// Malaysia: a dynamic DuitNow code with a fixed convenience fee.
const DUITNOW: &str = "00020101021226480014A000000615000101068900530216MBB0000000012345520458125303458540528.9055020256040.505802MY5910NASI LEMAK6012KUALA LUMPUR61055045062100506ORD123630481B9";

#[test]
fn golden_duitnow() {
    let body = concat!(
        "000201",
        "010212",
        "2648",
        "0014A0000006150001",
        "0106890053",
        "0216MBB0000000012345",
        "52045812",
        "5303458",
        "540528.90",
        "550202",
        "56040.50",
        "5802MY",
        "5910NASI LEMAK",
        "6012KUALA LUMPUR",
        "610550450",
        "6210",
        "0506ORD123",
    );
    assert_eq!(sealed(body), DUITNOW);
    let mut expected = MerchantQr::new("5812", "458", "MY", "NASI LEMAK", "KUALA LUMPUR");
    expected.initiation = Some(Initiation::Dynamic);
    expected.merchant_accounts = vec![account(26, "A0000006150001", &[(1, "890053"), (2, "MBB0000000012345")])];
    expected.amount = Some("28.90".into());
    expected.tip = Some(Tip::FixedFee("0.50".into()));
    expected.postal_code = Some("50450".into());
    expected.additional_data = Some(AdditionalData { reference_label: Some("ORD123".into()), ..Default::default() });
    check_golden(DUITNOW, &expected);
    assert_eq!(decode(DUITNOW).unwrap().account_for(KnownScheme::DuitNow).map(|a| a.tag), Some(26));
}

// A Singapore hawker stall accepting everything at once: Mastercard (04) and UnionPay (15)
// primitives, PayNow (26), NETS (27), DuitNow (28) and the SGQR registry template (51); a
// percentage convenience fee; additional data with a nested payment-system template (62.50);
// a Chinese name; and an unreserved template (80).
pub(super) const MULTI_SAMPLE: &str = MULTI;
const MULTI: &str = "0002010102110416541234567890123415176227001234567890126370009SG.PAYNOW010120210201234567X0301127360011SG.COM.NETS01091234567890204111128280014A0000006150001010689005351380007SG.SGQR0112SGQR12345678020701.000152045812530370255020357033.55802SG5915HAWKER STALL 126009Singapore610606912062440308STALL-120702T10902ME50160007SG.NETS0101X64150002zh0105小贩摊1280260011COM.EXAMPLE0107LOYALTY6304ED61";

#[test]
fn golden_multi_scheme() {
    let body = concat!(
        "000201",
        "010211",
        "04165412345678901234",
        "151762270012345678901",
        "2637",
        "0009SG.PAYNOW",
        "01012",
        "0210201234567X",
        "03011",
        "2736",
        "0011SG.COM.NETS",
        "0109123456789",
        "02041111",
        "2828",
        "0014A0000006150001",
        "0106890053",
        "5138",
        "0007SG.SGQR",
        "0112SGQR12345678",
        "020701.0001",
        "52045812",
        "5303702",
        "550203",
        "57033.5",
        "5802SG",
        "5915HAWKER STALL 12",
        "6009Singapore",
        "6106069120",
        "6244",
        "0308STALL-12",
        "0702T1",
        "0902ME",
        "5016",
        "0007SG.NETS",
        "0101X",
        "6415",
        "0002zh",
        "0105小贩摊12",
        "8026",
        "0011COM.EXAMPLE",
        "0107LOYALTY",
    );
    assert_eq!(sealed(body), MULTI);
    let mut expected = MerchantQr::new("5812", "702", "SG", "HAWKER STALL 12", "Singapore");
    expected.scheme_accounts = fields(&[(4, "5412345678901234"), (15, "62270012345678901")]);
    expected.merchant_accounts = vec![
        account(26, "SG.PAYNOW", &[(1, "2"), (2, "201234567X"), (3, "1")]),
        account(27, "SG.COM.NETS", &[(1, "123456789"), (2, "1111")]),
        account(28, "A0000006150001", &[(1, "890053")]),
        account(51, "SG.SGQR", &[(1, "SGQR12345678"), (2, "01.0001")]),
    ];
    expected.tip = Some(Tip::PercentageFee("3.5".into()));
    expected.postal_code = Some("069120".into());
    expected.additional_data = Some(AdditionalData {
        store_label: Some("STALL-12".into()),
        terminal_label: Some("T1".into()),
        consumer_data_request: Some("ME".into()),
        other: fields(&[(50, "0007SG.NETS0101X")]),
        ..Default::default()
    });
    expected.language_template = Some(LanguageTemplate {
        language: "zh".into(),
        merchant_name: "小贩摊12".into(),
        merchant_city: None,
        other: BTreeMap::new(),
    });
    expected.other_tags = fields(&[(80, "0011COM.EXAMPLE0107LOYALTY")]);
    check_golden(MULTI, &expected);

    let qr = decode(MULTI).unwrap();
    assert_eq!(
        qr.guids().collect::<Vec<_>>(),
        [(26, "SG.PAYNOW"), (27, "SG.COM.NETS"), (28, "A0000006150001"), (51, "SG.SGQR")]
    );
    let schemes: Vec<_> = qr.merchant_accounts.iter().filter_map(MerchantAccount::scheme).collect();
    assert_eq!(schemes, [KnownScheme::PayNow, KnownScheme::DuitNow]);
    assert_eq!(qr.account_by_guid("sg.paynow").map(|a| a.tag), Some(26));
    let data = qr.additional_data.as_ref().unwrap();
    assert_eq!(data.iter().collect::<Vec<_>>(), [(3, "STALL-12"), (7, "T1"), (9, "ME"), (50, "0007SG.NETS0101X")]);
}

#[test]
fn known_schemes_map_to_registered_networks() {
    for scheme in KnownScheme::ALL {
        assert_eq!(KnownScheme::from_guid(scheme.guid()), Some(scheme));
        assert!(crate::network(scheme.network_id()).is_some(), "{scheme:?}");
    }
    assert_eq!(KnownScheme::from_guid("HK.COM.HKICL"), Some(KnownScheme::HkFps));
    assert_eq!(KnownScheme::from_guid("ID.DANA.WWW"), None);
}

#[test]
fn tags_out_of_order_decode_and_encode_in_ascending_order() {
    // Same objects as PayNow, with 59/58 and the template's sub-tags swapped; only 00 first and
    // 63 last are fixed by the specification.
    let shuffled = sealed(concat!(
        "000201",
        "010212",
        "2649",
        "0210201234567X",
        "0009SG.PAYNOW",
        "01012",
        "03010",
        "040820301231",
        "52040000",
        "5303702",
        "540510.50",
        "5914ACME PTE. LTD.",
        "5802SG",
        "6009Singapore",
        "6217",
        "0113INV-2026-0042",
    ));
    let qr = decode(&shuffled).unwrap();
    assert_eq!(qr, decode(PAYNOW).unwrap());
    assert_eq!(qr.encode(), PAYNOW);
}

#[test]
fn json_round_trip() {
    let qr = decode(MULTI).unwrap();
    let json = serde_json::to_string(&qr).unwrap();
    let back: MerchantQr = serde_json::from_str(&json).unwrap();
    assert_eq!(back, qr);

    // What an operator writes for `interlinkctl qr encode`: optional fields omitted.
    let minimal = r#"{
        "merchant_accounts": [{"tag": 29, "guid": "A000000677010111", "fields": {"1": "0066812345678"}}],
        "mcc": "5812", "currency": "764", "country": "TH",
        "merchant_name": "SOMTAM NUA", "merchant_city": "BANGKOK",
        "initiation": "dynamic", "amount": "120.00", "tip": {"fixed_fee": "5"}
    }"#;
    let qr: MerchantQr = serde_json::from_str(minimal).unwrap();
    assert_eq!(qr.payload_format, "01");
    let payload = qr.try_encode().unwrap();
    assert_eq!(decode(&payload), Ok(qr));
    assert!(serde_json::from_str::<MerchantQr>(&minimal.replace("\"mcc\"", "\"mcc_code\"")).is_err());
}

#[test]
fn builders_keep_templates_in_order() {
    let qr = MerchantQr::new("5812", "702", "SG", "A", "B")
        .with_account(MerchantAccount::new(51, "SG.SGQR").with_field(1, "X"))
        .with_account(MerchantAccount::new(26, "SG.PAYNOW").with_field(1, "0").with_field(2, "+6591234567"))
        .with_account(MerchantAccount::new(51, "SG.SGQR").with_field(1, "Y"))
        .with_amount("1")
        .with_additional_data(AdditionalData { purpose: Some("lunch".into()), ..Default::default() });
    assert_eq!(qr.guids().collect::<Vec<_>>(), [(26, "SG.PAYNOW"), (51, "SG.SGQR")]);
    assert_eq!(qr.merchant_accounts[1].field(1), Some("Y"));
    assert_eq!(decode(&qr.try_encode().unwrap()), Ok(qr));
}

// ---------------------------------------------------------------------------------------
// One test per error. Codes are written with `obj`, a test-local TLV writer, from a minimal
// valid static code that tests alter one data object at a time.

/// One data object; the length counts characters.
fn obj(tag: u8, value: &str) -> String {
    format!("{tag:02}{:02}{value}", value.chars().count())
}

/// A minimal valid static code, as (tag, value) pairs in order.
fn minimal() -> Vec<(u8, String)> {
    [
        (0, "01".to_string()),
        (1, "11".to_string()),
        (26, obj(0, "SG.PAYNOW") + &obj(1, "2") + &obj(2, "201234567X")),
        (52, "5812".to_string()),
        (53, "702".to_string()),
        (58, "SG".to_string()),
        (59, "ACME".to_string()),
        (60, "Singapore".to_string()),
    ]
    .into()
}

/// The minimal code with `tag` set to `value` (`None` removes it), sealed.
fn with(tag: u8, value: Option<&str>) -> String {
    with_all(&[(tag, value)])
}

fn with_all(changes: &[(u8, Option<&str>)]) -> String {
    let mut objects = minimal();
    for (tag, value) in changes {
        match (objects.iter().position(|(t, _)| t == tag), value) {
            (Some(i), Some(v)) => objects[i].1 = v.to_string(),
            (Some(i), None) => {
                objects.remove(i);
            }
            (None, Some(v)) => objects.push((*tag, v.to_string())),
            (None, None) => {}
        }
    }
    objects.sort_by_key(|(t, _)| if *t == 0 { -1 } else { i32::from(*t) });
    sealed(&objects.iter().map(|(t, v)| obj(*t, v)).collect::<String>())
}

fn err(payload: &str) -> QrError {
    decode(payload).expect_err(payload)
}

#[test]
fn the_minimal_code_is_valid() {
    assert!(decode(&with(1, Some("11"))).is_ok());
}

#[test]
fn error_empty() {
    assert_eq!(err(""), QrError::Empty);
}

#[test]
fn error_payload_too_long() {
    let long = format!("{}{}", obj(0, "01"), obj(99, &"X".repeat(99)).repeat(5));
    assert_eq!(err(&sealed(&long)), QrError::PayloadTooLong { len: 6 + 5 * 103 + 8, max: 512 });
}

#[test]
fn error_control_character() {
    let good = with(1, Some("11"));
    assert_eq!(err(&format!("{good}\n")), QrError::ControlCharacter { at: good.len() });
    assert_eq!(err("0002\u{0}1"), QrError::ControlCharacter { at: 4 });
}

#[test]
fn error_truncated() {
    let good = with(1, Some("11"));
    assert_eq!(err(&good[..good.len() - 1]), QrError::Truncated { at: good.len() - 8 });
    assert_eq!(err("00020"), QrError::Truncated { at: 0 });
    assert_eq!(err("0002010"), QrError::Truncated { at: 6 });
    // A template whose last sub-object runs past the template's end.
    assert_eq!(err(&with(26, Some("0009SG.PAYNOW0105ab"))), QrError::Truncated { at: 6 + 6 + 4 + 13 });
}

#[test]
fn error_bad_tag_id() {
    assert_eq!(err("0002016X04ABCD"), QrError::BadTagId { at: 6, found: "6X".into() });
    assert_eq!(err(&with(26, Some("0009SG.PAYNOWAB01"))), QrError::BadTagId { at: 12 + 4 + 13, found: "AB".into() });
}

#[test]
fn error_bad_length_digits() {
    assert_eq!(err("00020163 4ABCD"), QrError::BadLengthDigits { tag: 63.into(), at: 8, found: " 4".into() });
    assert_eq!(
        err(&with(26, Some("00x9SG.PAYNOW"))),
        QrError::BadLengthDigits { tag: TagPath::nested(26, 0), at: 12 + 4 + 2, found: "x9".into() }
    );
}

#[test]
fn error_empty_value() {
    assert_eq!(err(&sealed("0002010100")), QrError::EmptyValue { tag: 1.into() });
    assert_eq!(err(&with(26, Some("0009SG.PAYNOW0100"))), QrError::EmptyValue { tag: TagPath::nested(26, 1) });
}

#[test]
fn error_missing_crc() {
    let good = with(1, Some("11"));
    assert_eq!(err(&good[..good.len() - 8]), QrError::MissingCrc);
}

#[test]
fn error_crc_not_last() {
    let good = with(1, Some("11"));
    assert_eq!(err(&format!("{good}6105ABCDE")), QrError::CrcNotLast);
}

#[test]
fn error_bad_crc_format() {
    let good = with(1, Some("11"));
    let lower = format!("{}{}", &good[..good.len() - 4], good[good.len() - 4..].to_ascii_lowercase());
    if lower != good {
        assert_eq!(err(&lower), QrError::BadCrcFormat { found: good[good.len() - 4..].to_ascii_lowercase() });
    }
    assert_eq!(err("0002016303ABC"), QrError::BadCrcFormat { found: "ABC".into() });
    assert_eq!(err("0002016304G000"), QrError::BadCrcFormat { found: "G000".into() });
}

#[test]
fn error_bad_crc() {
    // A published sample with its amount edited after the CRC was computed.
    let tampered = QRIS.replace("540575000", "540595000");
    let expected = reference_crc(&tampered.as_bytes()[..tampered.len() - 4]);
    assert_eq!(err(&tampered), QrError::BadCrc { expected, found: 0xE310 });
}

#[test]
fn error_payload_format_not_first() {
    let body = obj(1, "11") + &obj(0, "01");
    assert_eq!(err(&sealed(&body)), QrError::PayloadFormatNotFirst);
    assert_eq!(err(&sealed(&obj(1, "11"))), QrError::PayloadFormatNotFirst);
}

#[test]
fn error_bad_payload_format() {
    assert_eq!(err(&with(0, Some("02"))), QrError::BadPayloadFormat { found: "02".into() });
}

#[test]
fn error_duplicate_tag() {
    let good = with(1, Some("11"));
    let doubled = sealed(&format!("{}{}", &good[..good.len() - 8], obj(59, "AGAIN")));
    assert_eq!(err(&doubled), QrError::DuplicateTag { tag: 59.into() });
    let nested = with(26, Some("0009SG.PAYNOW0101201012")); // sub-tag 01 twice
    assert_eq!(err(&nested), QrError::DuplicateTag { tag: TagPath::nested(26, 1) });
}

#[test]
fn error_missing_tag() {
    for tag in [52, 53, 58, 59, 60] {
        assert_eq!(err(&with(tag, None)), QrError::MissingTag { tag: tag.into() }, "tag {tag}");
    }
    assert_eq!(err(&with(55, Some("02"))), QrError::MissingTag { tag: 56.into() });
    assert_eq!(err(&with(55, Some("03"))), QrError::MissingTag { tag: 57.into() });
    assert_eq!(err(&with(64, Some("0101X"))), QrError::MissingTag { tag: TagPath::nested(64, 0) });
    assert_eq!(err(&with(64, Some("0002th"))), QrError::MissingTag { tag: TagPath::nested(64, 1) });
}

#[test]
fn error_no_merchant_account() {
    assert_eq!(err(&with(26, None)), QrError::NoMerchantAccount);
    // A card-scheme primitive alone is enough.
    assert!(decode(&with_all(&[(26, None), (4, Some("5412345678901234"))])).is_ok());
}

#[test]
fn error_empty_template_guid() {
    assert_eq!(err(&with(26, Some("01012"))), QrError::EmptyTemplateGuid { tag: 26 });
    assert_eq!(err(&with(40, Some("0105ABCDE"))), QrError::EmptyTemplateGuid { tag: 40 });
}

#[test]
fn error_invalid_character() {
    // Non-ASCII is only allowed in the language template.
    assert_eq!(err(&with(59, Some("CAFÉ"))), QrError::InvalidCharacter { tag: 59.into() });
    assert_eq!(err(&with(26, Some("0009SG.PAYNOW0102é1"))), QrError::InvalidCharacter { tag: TagPath::nested(26, 1) });
    assert_eq!(err(&with(62, Some("0102ü1"))), QrError::InvalidCharacter { tag: TagPath::nested(62, 1) });
    assert_eq!(err(&with(4, Some("54·1"))), QrError::InvalidCharacter { tag: 4.into() });
    assert_eq!(err(&with(80, Some("ñ"))), QrError::InvalidCharacter { tag: 80.into() });
}

#[test]
fn error_non_numeric() {
    assert_eq!(err(&with(52, Some("58A2"))), QrError::NonNumeric { tag: 52.into() });
    assert_eq!(err(&with(53, Some("SGD"))), QrError::NonNumeric { tag: 53.into() });
}

#[test]
fn error_length_mismatch() {
    assert_eq!(err(&with(52, Some("581"))), QrError::LengthMismatch { tag: 52.into(), expected: 4, found: 3 });
    assert_eq!(err(&with(53, Some("0702"))), QrError::LengthMismatch { tag: 53.into(), expected: 3, found: 4 });
}

#[test]
fn error_too_long() {
    let cases: [(u8, &str, TagPath, usize); 5] = [
        (59, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", TagPath::top(59), 25),
        (60, "ABCDEFGHIJKLMNOP", TagPath::top(60), 15),
        (61, "12345678901", TagPath::top(61), 10),
        (54, "12345678901234", TagPath::top(54), 13),
        (62, "0126ABCDEFGHIJKLMNOPQRSTUVWXYZ", TagPath::nested(62, 1), 25),
    ];
    for (tag, value, path, max) in cases {
        let payload = if tag == 54 { with_all(&[(1, Some("12")), (54, Some(value))]) } else { with(tag, Some(value)) };
        assert_eq!(err(&payload), QrError::TooLong { tag: path, max }, "tag {tag}");
    }
    assert_eq!(
        err(&with(26, Some(&obj(0, &"G".repeat(33))))),
        QrError::TooLong { tag: TagPath::nested(26, 0), max: 32 }
    );
    let long_name = obj(0, "th") + &obj(1, &"ก".repeat(26));
    assert_eq!(err(&with(64, Some(&long_name))), QrError::TooLong { tag: TagPath::nested(64, 1), max: 25 });
    assert_eq!(err(&with_all(&[(55, Some("03")), (57, Some("10.125"))])), QrError::TooLong { tag: 57.into(), max: 5 });
}

#[test]
fn error_invalid_initiation() {
    assert_eq!(err(&with(1, Some("13"))), QrError::InvalidInitiation { found: "13".into() });
}

#[test]
fn error_invalid_amount() {
    for bad in ["1,000", "0", "0.00", "1.2.3", "-5", "."] {
        assert_eq!(err(&with(54, Some(bad))), QrError::InvalidAmount { tag: 54.into(), found: bad.into() }, "{bad}");
    }
    assert_eq!(
        err(&with_all(&[(55, Some("02")), (56, Some("1e2"))])),
        QrError::InvalidAmount { tag: 56.into(), found: "1e2".into() }
    );
    assert_eq!(
        err(&with_all(&[(55, Some("03")), (57, Some("100"))])),
        QrError::InvalidAmount { tag: 57.into(), found: "100".into() }
    );
}

#[test]
fn error_dynamic_without_amount() {
    assert_eq!(err(&with(1, Some("12"))), QrError::DynamicWithoutAmount);
    assert!(decode(&with_all(&[(1, Some("12")), (54, Some("1"))])).is_ok());
}

#[test]
fn error_invalid_tip_indicator() {
    assert_eq!(err(&with(55, Some("04"))), QrError::InvalidTipIndicator { found: "04".into() });
}

#[test]
fn error_unexpected_tag() {
    assert_eq!(err(&with(56, Some("1.00"))), QrError::UnexpectedTag { tag: 56.into() });
    assert_eq!(err(&with_all(&[(55, Some("01")), (57, Some("3"))])), QrError::UnexpectedTag { tag: 57.into() });
    assert_eq!(
        err(&with_all(&[(55, Some("03")), (56, Some("1")), (57, Some("3"))])),
        QrError::UnexpectedTag { tag: 56.into() }
    );
}

#[test]
fn error_invalid_currency() {
    assert_eq!(err(&with(53, Some("000"))), QrError::InvalidCurrency { found: "000".into() });
}

#[test]
fn error_invalid_country() {
    for bad in ["sg", "S", "SGP", "S1"] {
        assert_eq!(err(&with(58, Some(bad))), QrError::InvalidCountry { found: bad.into() }, "{bad}");
    }
}

#[test]
fn error_invalid_language() {
    let lang = obj(0, "tha") + &obj(1, "X");
    assert_eq!(err(&with(64, Some(&lang))), QrError::InvalidLanguage { found: "tha".into() });
}

// Errors only a hand-built MerchantQr can have.

#[test]
fn error_misplaced_tag() {
    let qr = decode(MULTI).unwrap();
    let mut bad = qr.clone();
    bad.scheme_accounts.insert(26, "X".into());
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: 26.into() }));
    let mut bad = qr.clone();
    bad.merchant_accounts[0].tag = 52;
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: 52.into() }));
    let mut bad = qr.clone();
    bad.merchant_accounts[0].fields.insert(0, "GUID".into());
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: TagPath::nested(26, 0) }));
    let mut bad = qr.clone();
    bad.additional_data.as_mut().unwrap().other.insert(1, "bill".into());
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: TagPath::nested(62, 1) }));
    assert!(bad.encode().contains("0104bill"), "encode drops nothing");
    let mut bad = qr.clone();
    bad.language_template.as_mut().unwrap().other.insert(2, "city".into());
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: TagPath::nested(64, 2) }));
    let mut bad = qr;
    bad.other_tags.insert(63, "ABCD".into());
    assert_eq!(bad.validate(), Err(QrError::MisplacedTag { tag: 63.into() }));
}

#[test]
fn error_out_of_order() {
    let mut qr = decode(MULTI).unwrap();
    qr.merchant_accounts.swap(0, 1);
    assert_eq!(qr.validate(), Err(QrError::OutOfOrder { tag: 26 }));
    // encode still writes ascending tags, so the payload is valid.
    assert_eq!(qr.encode(), MULTI);
    qr.merchant_accounts[0].tag = 26;
    assert_eq!(qr.validate(), Err(QrError::DuplicateTag { tag: 26.into() }));
}

#[test]
fn validate_reports_what_decode_would() {
    let mut qr = decode(PAYNOW).unwrap();
    qr.amount = None;
    assert_eq!(qr.validate(), Err(QrError::DynamicWithoutAmount));
    let mut qr = decode(PAYNOW).unwrap();
    qr.merchant_name = Some("N".repeat(100));
    assert_eq!(qr.try_encode(), Err(QrError::TooLong { tag: 59.into(), max: 99 }));
    qr.merchant_name = Some("N".repeat(26));
    assert_eq!(qr.validate(), Err(QrError::TooLong { tag: 59.into(), max: 25 }));
    qr.merchant_name = Some(String::new());
    assert_eq!(qr.validate(), Err(QrError::EmptyValue { tag: 59.into() }));
}

#[test]
fn error_amount_precision_and_overflow() {
    let qr = decode(PAYNOW).unwrap();
    assert_eq!(qr.amount_minor_units(1), Some(Err(QrError::AmountPrecision { decimals: 2, exponent: 1 })));
    assert_eq!(qr.amount_minor_units(18), Some(Err(QrError::AmountOverflow)));
}

// --- CRC first, and the scheme profiles ---

#[test]
fn a_corrupted_code_is_refused_as_corrupted_before_its_tlv_is_read() {
    // One character lost from the merchant name: the TLV is broken from there on (tag 59 now
    // swallows the "6" of tag 60), but the checksum is what says so.
    let corrupted = PROMPTPAY.replacen("SOMTAM NUA", "SOMTAMNUA", 1);
    assert!(tlv::parse(&corrupted, 0, None).is_err());
    let expected = reference_crc(&corrupted.as_bytes()[..corrupted.len() - 4]);
    assert_eq!(err(&corrupted), QrError::BadCrc { expected, found: 0x6CED });
    assert!(err(&corrupted).to_string().starts_with("CRC mismatch"));
}

const PROMPTPAY_P2P_TEMPLATE: &str = "0016A00000067701011101130066812345678";

#[test]
fn promptpay_transfers_without_merchant_fields_match_the_p2p_profile() {
    let payload =
        sealed(&(obj(0, "01") + &obj(1, "11") + &obj(29, PROMPTPAY_P2P_TEMPLATE) + &obj(53, "764") + &obj(58, "TH")));
    let qr = decode(&payload).unwrap();
    assert_eq!(qr.profile, QrProfile::PromptPayP2p);
    assert_eq!((qr.mcc.as_deref(), qr.merchant_name.as_deref(), qr.merchant_city.as_deref()), (None, None, None));
    assert_eq!(qr.account_for(KnownScheme::PromptPay).and_then(|a| a.field(1)), Some("0066812345678"));
    assert_eq!(qr.encode(), payload);
    assert_eq!(qr.validate(), Ok(()));
    // The JSON names the profile and can be encoded back.
    let json = serde_json::to_value(&qr).unwrap();
    assert_eq!(json["profile"], "promptpay_p2p");
    assert_eq!(serde_json::from_value::<MerchantQr>(json).unwrap(), qr);

    // With a merchant name and city but no MCC: still the profile.
    let named = with_all(&[(26, None), (29, Some(PROMPTPAY_P2P_TEMPLATE)), (52, None)]);
    assert_eq!(decode(&named).map(|q| q.profile), Ok(QrProfile::PromptPayP2p));
    // With every merchant field, a PromptPay code is a plain EMVCo code.
    assert_eq!(decode(PROMPTPAY).map(|q| q.profile), Ok(QrProfile::Emvco));
}

#[test]
fn the_profile_relaxes_nothing_else() {
    let p2p = |changes: &[(u8, Option<&str>)]| {
        let mut all = vec![(26, None), (29, Some(PROMPTPAY_P2P_TEMPLATE)), (52, None), (59, None), (60, None)];
        all.extend_from_slice(changes);
        err(&with_all(&all))
    };
    assert_eq!(p2p(&[(53, None)]), QrError::MissingTag { tag: 53.into() });
    assert_eq!(p2p(&[(58, Some("th"))]), QrError::InvalidCountry { found: "th".into() });
    assert_eq!(p2p(&[(1, Some("12"))]), QrError::DynamicWithoutAmount);
    assert_eq!(p2p(&[(0, Some("02"))]), QrError::BadPayloadFormat { found: "02".into() });
    // Present merchant fields keep their rules.
    assert_eq!(p2p(&[(52, Some("58"))]), QrError::LengthMismatch { tag: 52.into(), expected: 4, found: 2 });
}

#[test]
fn codes_of_other_schemes_keep_the_strict_rules() {
    assert_eq!(err(&with(52, None)), QrError::MissingTag { tag: 52.into() });
    assert_eq!(err(&with(59, None)), QrError::MissingTag { tag: 59.into() });
    assert_eq!(err(&with(60, None)), QrError::MissingTag { tag: 60.into() });
    // The PromptPay GUID only selects the profile as the GUID (sub-tag 00) of a template.
    let elsewhere = with_all(&[(26, Some("0009SG.PAYNOW0216A000000677010111")), (52, None)]);
    assert_eq!(err(&elsewhere), QrError::MissingTag { tag: 52.into() });
}

#[test]
fn duitnow_codes_with_payload_format_02_match_the_duitnow_profile() {
    let duitnow = "0014A000000615000101068900530212110292837332";
    let qr = decode(&with_all(&[(0, Some("02")), (26, Some(duitnow))])).unwrap();
    assert_eq!((qr.profile, qr.payload_format.as_str()), (QrProfile::DuitNow, "02"));
    assert_eq!(qr.validate(), Ok(()));
    assert_eq!(decode(&with(26, Some(duitnow))).map(|q| q.profile), Ok(QrProfile::Emvco));
    assert_eq!(
        err(&with_all(&[(0, Some("03")), (26, Some(duitnow))])),
        QrError::BadPayloadFormat { found: "03".into() }
    );
    // The profile lets "02" in, not missing merchant fields.
    assert_eq!(
        err(&with_all(&[(0, Some("02")), (26, Some(duitnow)), (59, None)])),
        QrError::MissingTag { tag: 59.into() }
    );
}

#[test]
fn the_first_template_with_a_profile_guid_chooses_the_profile() {
    // DuitNow at 26 comes before PromptPay at 29: the DuitNow profile, which does not let 52 out.
    let both = with_all(&[(26, Some("0014A0000006150001")), (29, Some(PROMPTPAY_P2P_TEMPLATE)), (52, None)]);
    assert_eq!(err(&both), QrError::MissingTag { tag: 52.into() });
    // PayNow at 26 has no profile, so PromptPay at 29 chooses.
    let paynow_first = with_all(&[(29, Some(PROMPTPAY_P2P_TEMPLATE)), (52, None)]);
    assert_eq!(decode(&paynow_first).map(|q| q.profile), Ok(QrProfile::PromptPayP2p));
}

#[test]
fn validate_checks_the_declared_profile() {
    let mut qr = decode(&with(26, Some("0014A0000006150001"))).unwrap();
    qr.payload_format = "02".into();
    assert_eq!(
        qr.validate(),
        Err(QrError::ProfileMismatch { declared: QrProfile::Emvco, matched: QrProfile::DuitNow })
    );
    qr.profile = QrProfile::DuitNow;
    assert_eq!(qr.validate(), Ok(()));
    qr.profile = QrProfile::PromptPayP2p;
    assert_eq!(
        qr.validate(),
        Err(QrError::ProfileMismatch { declared: QrProfile::PromptPayP2p, matched: QrProfile::DuitNow })
    );
    // A hand-built transfer without merchant fields must say it is one.
    let mut p2p = MerchantQr::new("0000", "764", "TH", "X", "Y")
        .with_account(MerchantAccount::new(29, KnownScheme::PromptPay.guid()).with_field(1, "0066812345678"));
    p2p.merchant_name = None;
    assert_eq!(
        p2p.validate(),
        Err(QrError::ProfileMismatch { declared: QrProfile::Emvco, matched: QrProfile::PromptPayP2p })
    );
    p2p.profile = QrProfile::PromptPayP2p;
    assert_eq!(p2p.validate(), Ok(()));
}
