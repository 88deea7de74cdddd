//! Parsers and the matcher never panic, whatever they are given.

use interlink_screening::{eu, ofac, Screener};
use proptest::prelude::*;

fn screener() -> &'static Screener {
    static S: std::sync::OnceLock<Screener> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let list = ofac::parse(&include_bytes!("data/sdn.csv")[..], &include_bytes!("data/alt.csv")[..]).unwrap();
        Screener::new(&list)
    })
}

/// Text made of the pieces the parsers care about, so random input reaches past the first
/// byte of each format.
fn csv_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just(",".to_string()),
            Just("\"".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("-0- ".to_string()),
            Just("\u{1a}".to_string()),
            "[0-9]{1,4}",
            "[A-Za-zé ,\\]\\[]{0,12}",
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

fn xml_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("<export>".to_string()),
            Just("</export>".to_string()),
            Just("<sanctionEntity logicalId=\"1\">".to_string()),
            Just("<sanctionEntity logicalId=\"2\">".to_string()),
            Just("</sanctionEntity>".to_string()),
            Just("<nameAlias wholeName=\"A B\"/>".to_string()),
            Just("<nameAlias firstName=\"&amp;\" lastName=\"&bad;\"/>".to_string()),
            Just("<subjectType code=\"person\"/>".to_string()),
            Just("<regulation programme=\"X\"/>".to_string()),
            Just("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>".to_string()),
            "[<>/=\"a-z &;]{0,10}",
        ],
        0..30,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn ofac_parsers_never_panic(sdn in csv_like(), alt in csv_like(), raw in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = ofac::parse(sdn.as_bytes(), alt.as_bytes());
        let _ = ofac::parse(&raw[..], sdn.as_bytes());
    }

    #[test]
    fn eu_parser_never_panics(doc in xml_like(), raw in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = eu::parse(doc.as_bytes());
        let _ = eu::parse(&raw[..]);
    }

    #[test]
    fn screening_never_panics(name in any::<String>(), ascii in "[A-Za-z ,.'-]{0,60}") {
        for hit in screener().screen(&name).into_iter().chain(screener().screen(&ascii)) {
            prop_assert!(hit.score >= hit.threshold && hit.score <= 1.0 + 1e-9);
            let _ = hit.to_string();
        }
    }

    #[test]
    fn parsed_lists_can_be_screened(sdn in csv_like(), name in "[A-Za-z ]{0,30}") {
        if let Ok(list) = ofac::parse_sdn(sdn.as_bytes()) {
            let _ = Screener::new(&list).screen(&name);
        }
    }
}
