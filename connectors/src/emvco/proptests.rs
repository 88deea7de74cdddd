//! Properties: every valid code survives encode → decode unchanged, and no input, however
//! mangled, makes the decoder panic.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use super::*;

/// Printable ASCII (the specification's common character set), 1 to `max` characters.
fn ans(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{1,{max}}}")).expect("valid regex")
}

/// Any non-control characters, as the language template allows.
fn unicode(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>().prop_filter("no control characters", |c| !c.is_control()), 1..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

fn amount() -> impl Strategy<Value = String> {
    "[1-9][0-9]{0,9}(\\.[0-9]{0,2})?"
}

fn merchant_account(tag: u8) -> impl Strategy<Value = MerchantAccount> {
    // GUID (≤ 36 with its header) plus up to three sub-fields (≤ 16 each) stay within 99.
    (ans(32), btree_map(1u8..=99, ans(12), 0..=3)).prop_map(move |(guid, fields)| MerchantAccount { tag, guid, fields })
}

fn merchant_accounts() -> impl Strategy<Value = Vec<MerchantAccount>> {
    proptest::sample::subsequence((26u8..=51).collect::<Vec<_>>(), 0..=2)
        .prop_flat_map(|tags| tags.into_iter().map(merchant_account).collect::<Vec<_>>())
}

fn tip() -> impl Strategy<Value = Tip> {
    prop_oneof![
        Just(Tip::Prompt),
        amount().prop_map(Tip::FixedFee),
        "[1-9](\\.[0-9]{1,2})?|[1-9][0-9](\\.[0-9]{1,2})?".prop_map(Tip::PercentageFee),
    ]
}

fn additional_data() -> impl Strategy<Value = AdditionalData> {
    (
        option::of(ans(25)),
        option::of(ans(25)),
        option::of(ans(25)),
        option::of("[AME]{1,3}"),
        option::of(ans(20)),
        btree_map(prop_oneof![Just(0u8), 12u8..=99], ans(8), 0..=2),
    )
        .prop_map(|(bill_number, reference_label, terminal_label, consumer_data_request, merchant_tax_id, other)| {
            AdditionalData {
                bill_number,
                reference_label,
                terminal_label,
                consumer_data_request,
                merchant_tax_id,
                other,
                ..Default::default()
            }
        })
        .prop_filter("the template needs a value", |d| d.iter().next().is_some())
        .prop_filter("the template fits in 99 characters", |d| {
            d.iter().map(|(_, v)| v.chars().count() + 4).sum::<usize>() <= 99
        })
}

fn language_template() -> impl Strategy<Value = LanguageTemplate> {
    ("[a-zA-Z]{2}", unicode(25), option::of(unicode(15)), btree_map(3u8..=99, unicode(5), 0..=2)).prop_map(
        |(language, merchant_name, merchant_city, other)| LanguageTemplate {
            language,
            merchant_name,
            merchant_city,
            other,
        },
    )
}

/// ISO 4217 numeric codes, including ones without minor units and a fund code.
const CURRENCIES: &[&str] = &["360", "764", "702", "344", "458", "156", "392", "840", "978", "048", "990"];

prop_compose! {
    fn merchant_qr()(
        initiation in option::of(prop_oneof![Just(Initiation::Static), Just(Initiation::Dynamic)]),
        scheme_accounts in btree_map(2u8..=25, "[0-9]{8,19}", 0..=2),
        merchant_accounts in merchant_accounts(),
        mcc in "[0-9]{4}",
        currency in proptest::sample::select(CURRENCIES),
        amount in option::of(amount()),
        tip in option::of(tip()),
        country in "[A-Z]{2}",
        merchant_name in ans(25),
        merchant_city in ans(15),
        postal_code in option::of(ans(10)),
        additional_data in option::of(additional_data()),
        language_template in option::of(language_template()),
        other_tags in btree_map(65u8..=99, ans(20), 0..=1),
        scheme in option::of(scheme_relaxation()),
    ) -> MerchantQr {
        let mut qr = MerchantQr {
            profile: QrProfile::Emvco,
            payload_format: "01".to_string(),
            initiation,
            scheme_accounts,
            merchant_accounts,
            mcc: Some(mcc),
            currency: currency.to_string(),
            amount,
            tip,
            country,
            merchant_name: Some(merchant_name),
            merchant_city: Some(merchant_city),
            postal_code,
            additional_data,
            language_template,
            other_tags,
        };
        if qr.scheme_accounts.is_empty() && qr.merchant_accounts.is_empty() {
            qr.merchant_accounts.push(MerchantAccount::new(29, KnownScheme::PromptPay.guid()));
        }
        if qr.is_dynamic() && qr.amount.is_none() {
            qr.amount = Some("1".to_string());
        }
        if let Some(relaxation) = scheme {
            relaxation.apply(&mut qr);
        }
        qr
    }
}

/// A scheme template whose profile relaxes the strict rules, and which relaxations the code
/// uses (none, some or all).
#[derive(Debug, Clone)]
struct SchemeRelaxation {
    profile: QrProfile,
    tag: u8,
    /// For PromptPay: leave out 52, 59, 60. For DuitNow: payload format "02" (first flag).
    relax: [bool; 3],
}

impl SchemeRelaxation {
    fn apply(&self, qr: &mut MerchantQr) {
        let guid = self.profile.guid().expect("a scheme profile");
        // Random GUIDs never select a profile; the PromptPay template added to codes without an
        // account does, so it goes, and this template is the one that selects the profile.
        qr.merchant_accounts.retain(|a| a.tag != self.tag && QrProfile::for_guid(&a.guid).is_none());
        let template = MerchantAccount::new(self.tag, guid).with_field(1, "0066812345678");
        let at = qr.merchant_accounts.partition_point(|a| a.tag < self.tag);
        qr.merchant_accounts.insert(at, template);
        let relaxed = match self.profile {
            QrProfile::DuitNow => {
                if self.relax[0] {
                    qr.payload_format = "02".to_string();
                }
                self.relax[0]
            }
            _ => {
                let [mcc, name, city] = self.relax;
                if mcc {
                    qr.mcc = None;
                }
                if name {
                    qr.merchant_name = None;
                }
                if city {
                    qr.merchant_city = None;
                }
                mcc || name || city
            }
        };
        qr.profile = if relaxed { self.profile } else { QrProfile::Emvco };
    }
}

fn scheme_relaxation() -> impl Strategy<Value = SchemeRelaxation> {
    (
        prop_oneof![
            Just((QrProfile::PromptPayP2p, 29)),
            Just((QrProfile::PromptPayBillPayment, 30)),
            Just((QrProfile::DuitNow, 26)),
        ],
        any::<[bool; 3]>(),
    )
        .prop_map(|((profile, tag), relax)| SchemeRelaxation { profile, tag, relax })
}

/// Small edits a scanner or a careless generator makes: drop, insert, or replace one
/// character, swap two, or cut the tail.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(usize),
    Insert(usize, char),
    Replace(usize, char),
    Swap(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch =
        prop_oneof![4 => proptest::char::range('0', '9'), 2 => proptest::char::range(' ', '~'), 1 => any::<char>()];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Replace(i, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(payload: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = payload.chars().collect();
    for m in mutations {
        let n = chars.len().max(1);
        match *m {
            Mutation::Remove(i) if !chars.is_empty() => {
                chars.remove(i % n);
            }
            Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Mutation::Replace(i, c) if !chars.is_empty() => chars[i % n] = c,
            Mutation::Swap(i, j) if !chars.is_empty() => chars.swap(i % n, j % n),
            Mutation::Truncate(i) => chars.truncate(i % (chars.len() + 1)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Replaces a trailing CRC (or appends one) so that a mutated payload gets past the checksum
/// and exercises the checks behind it.
fn reseal(payload: &str) -> String {
    let body = match payload.char_indices().rev().nth(7) {
        Some((i, _)) if payload[i..].starts_with("6304") => &payload[..i],
        _ => payload,
    };
    seal(body)
}

/// Decoding never panics, and whatever it accepts re-encodes to something that decodes the
/// same.
fn check_decoder(payload: &str) -> Result<(), TestCaseError> {
    if let Ok(qr) = decode(payload) {
        let again = qr.encode();
        prop_assert_eq!(decode(&again), Ok(qr.clone()));
        prop_assert_eq!(qr.validate(), Ok(()));
    }
    Ok(())
}

const SAMPLES: &[&str] = &[super::tests::QRIS_SAMPLE, super::tests::MULTI_SAMPLE];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_gives_back_the_code(qr in merchant_qr()) {
        let payload = qr.encode();
        prop_assume!(payload.chars().count() <= MAX_PAYLOAD_CHARS);
        prop_assert_eq!(qr.validate(), Ok(()));
        prop_assert_eq!(decode(&payload), Ok(qr.clone()));
        // Canonical payloads are reproduced byte for byte.
        prop_assert_eq!(decode(&payload).map(|q| q.encode()), Ok(payload));
    }

    /// Whatever a hand-built value holds, `validate` passing means the round trip holds.
    #[test]
    fn validate_guarantees_the_round_trip(
        qr in merchant_qr(),
        name in any::<String>(),
        city in any::<String>(),
        sub in any::<u8>(),
        value in any::<String>(),
        tag in any::<u8>(),
        swap in any::<bool>(),
    ) {
        let mut qr = qr;
        qr.merchant_name = Some(name);
        qr.merchant_city = Some(city);
        if let Some(first) = qr.merchant_accounts.first_mut() {
            first.fields.insert(sub, value.clone());
        }
        qr.other_tags.insert(tag, value);
        if swap {
            qr.merchant_accounts.reverse();
        }
        if qr.validate().is_ok() {
            prop_assert_eq!(decode(&qr.encode()), Ok(qr));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_decoder(&s)?;
        check_decoder(&reseal(&s))?;
    }

    #[test]
    fn tlv_shaped_strings_never_panic(s in "(([0-9]{2}[0-9]{2})[ -~]{0,12}){0,40}") {
        check_decoder(&s)?;
        check_decoder(&reseal(&s))?;
    }

    /// Values of any Unicode, where the data object's length counts characters, not bytes.
    #[test]
    fn tlv_shaped_unicode_strings_never_panic(s in "(([0-9]{2}[0-9]{2})\\PC{0,12}){0,40}") {
        check_decoder(&s)?;
        check_decoder(&reseal(&s))?;
    }

    /// Any Unicode in the fields that hold ids, codes and numbers (MCC, currency, country,
    /// amount, postal code, scheme account, GUID, bill and mobile number): `validate` refuses
    /// it with an error, or the code round-trips; and the decoder takes what `encode` writes
    /// without panicking either way.
    #[test]
    fn unicode_in_id_and_code_fields_is_refused_or_round_trips(
        qr in merchant_qr(),
        field in 0usize..9,
        text in "\\PC{0,30}",
    ) {
        let mut qr = qr;
        match field {
            0 => qr.mcc = Some(text),
            1 => qr.currency = text,
            2 => qr.country = text,
            3 => qr.amount = Some(text),
            4 => qr.postal_code = Some(text),
            5 => {
                qr.scheme_accounts.insert(2, text);
            }
            6 => qr.merchant_accounts.insert(0, MerchantAccount::new(26, text)),
            7 => qr.additional_data.get_or_insert_with(AdditionalData::default).bill_number = Some(text),
            _ => qr.additional_data.get_or_insert_with(AdditionalData::default).mobile_number = Some(text),
        }
        if qr.validate().is_ok() {
            prop_assert_eq!(decode(&qr.encode()), Ok(qr.clone()));
        }
        check_decoder(&qr.encode())?;
        check_decoder(&reseal(&qr.encode()))?;
    }

    #[test]
    fn mutated_codes_never_panic(
        which in 0..SAMPLES.len(),
        mutations in vec(mutation(), 1..=4),
    ) {
        let mutated = apply(SAMPLES[which], &mutations);
        check_decoder(&mutated)?;
        check_decoder(&reseal(&mutated))?;
    }

    #[test]
    fn mutated_generated_codes_never_panic(qr in merchant_qr(), mutations in vec(mutation(), 1..=3)) {
        let mutated = apply(&qr.encode(), &mutations);
        check_decoder(&mutated)?;
        check_decoder(&reseal(&mutated))?;
    }

    #[test]
    fn json_round_trip(qr in merchant_qr()) {
        let json = serde_json::to_string(&qr).unwrap();
        prop_assert_eq!(serde_json::from_str::<MerchantQr>(&json).unwrap(), qr);
    }
}

#[test]
fn reseal_fixes_the_crc() {
    let broken = super::tests::QRIS_SAMPLE.replace("75000", "75001");
    assert!(matches!(decode(&broken), Err(QrError::BadCrc { .. })));
    assert!(decode(&reseal(&broken)).is_ok());
}
