//! What the matcher finds and what it does not, on the synthetic files in tests/data.

use interlink_screening::{eu, ofac, Config, SanctionsList, Screener};

fn list() -> SanctionsList {
    let mut list = ofac::parse(&include_bytes!("data/sdn.csv")[..], &include_bytes!("data/alt.csv")[..]).unwrap();
    list.merge(eu::parse(&include_bytes!("data/eu.xml")[..]).unwrap());
    list
}

fn found(screener: &Screener, name: &str) -> String {
    match screener.best(name) {
        Some(hit) => hit.entry_id.to_string(),
        None => panic!("{name:?} not found"),
    }
}

#[test]
fn spelling_variants_are_found() {
    let s = Screener::new(&list());
    for name in [
        "Muhammad Yusuf Tarkazi",
        "Mohammed Yusuf Tarkazi",
        "Mohamed Yousef Tarkazi",
        "Muhamad Yusef Tarkazy",
        "Mohammad Youssef Al Tarkazi",
    ] {
        assert_eq!(found(&s, name), "OFAC-1001", "{name}");
    }
    assert_eq!(found(&s, "Umar Hamid Qirmani"), "OFAC-1007");
    assert_eq!(found(&s, "Omar Hameed Kirmani"), "OFAC-1007");
    assert_eq!(found(&s, "Elena Dubovskaya"), "OFAC-1008");
    assert_eq!(found(&s, "Kareem Najjary"), "EU-9001");
}

#[test]
fn reordered_names_are_found() {
    let s = Screener::new(&list());
    assert_eq!(found(&s, "Tarkazi Muhammad Yusuf"), "OFAC-1001");
    assert_eq!(found(&s, "Yusuf Tarkazi Muhammad"), "OFAC-1001");
    assert_eq!(found(&s, "Najjari Karim"), "EU-9001");
    assert_eq!(found(&s, "Kestrel Northern"), "OFAC-1005");
}

#[test]
fn missing_middle_names_are_found() {
    let s = Screener::new(&list());
    assert_eq!(found(&s, "Muhammad Tarkazi"), "OFAC-1001");
    assert_eq!(found(&s, "Arkady Beldarov"), "OFAC-1002");
    assert_eq!(found(&s, "Jerome Falquie-Brenard"), "EU-9003");
    assert_eq!(found(&s, "Jose Kashani Vidal"), "OFAC-1003");
}

#[test]
fn diacritics_do_not_matter() {
    let s = Screener::new(&list());
    assert_eq!(found(&s, "Jose Luis Kashani Vidal"), "OFAC-1003");
    assert_eq!(found(&s, "José Luis Kashani Vidal"), "OFAC-1003");
    assert_eq!(found(&s, "JÉRÔME THÉODORE FALQUIÉ BRÉNARD"), "EU-9003");
    assert_eq!(found(&s, "Jerome Theodore Falquie Brenard"), "EU-9003");
}

#[test]
fn other_scripts_are_transliterated() {
    let s = Screener::new(&list());
    // Cyrillic query against a Latin-only entry.
    assert_eq!(found(&s, "Аркадий Павлович Бельдаров"), "OFAC-1002");
    assert_eq!(found(&s, "Мухаммед Тарказі"), "OFAC-1001");
    // Arabic script (no short vowels) against a Latin-only entry.
    assert_eq!(found(&s, "محمد يوسف طرقازي"), "OFAC-1001");
    // Latin query against the EU entry's Arabic and Cyrillic aliases, and the other way.
    assert_eq!(found(&s, "كريم نجاري"), "EU-9001");
    assert_eq!(found(&s, "Карим Наджари"), "EU-9001");
    assert_eq!(found(&s, "Голубая Пустельга Холдинг"), "EU-9002");
}

#[test]
fn entities_vessels_and_honorifics() {
    let s = Screener::new(&list());
    assert_eq!(found(&s, "Zorinek Trading"), "OFAC-1004");
    assert_eq!(found(&s, "ZORINEK IMPORT-EXPORT CO."), "OFAC-1004");
    assert_eq!(found(&s, "Blue Kestrel Maritime Holdings"), "EU-9002");
    assert_eq!(found(&s, "Mr. Arkady Beldarov"), "OFAC-1002");
    assert_eq!(found(&s, "Dr Karim Najjari"), "EU-9001");
}

#[test]
fn clean_names_are_not_found() {
    let s = Screener::new(&list());
    for name in [
        "John Smith",
        "Maria Garcia",
        "Wei Zhang",
        "Jose Garcia",
        "Muhammad Smith",
        "Omar Khan",
        "Karim Benzema",
        "Arkady Volkov",
        "Elena Petrova",
        "Blue Ocean Shipping",
        "Northern Trust",
        "Luis Vidal",
        "Priya Sharma",
        "",
        "   ",
        "Mr.",
    ] {
        assert!(s.screen(name).is_empty(), "{name:?} matched {:?}", s.best(name).map(|h| h.to_string()));
    }
}

#[test]
fn the_explanation_names_every_pair() {
    let s = Screener::new(&list());
    let hit = s.best("Mohamed Tarkazy").unwrap();
    assert_eq!(hit.entry_id.to_string(), "OFAC-1001");
    assert!(hit.score >= hit.threshold);
    let pairs: Vec<(&str, &str)> = hit.token_pairs.iter().map(|p| (p.query.as_str(), p.listed.as_str())).collect();
    assert!(pairs.contains(&("tarkazy", "tarkazi")), "{hit}");
    let text = hit.to_string();
    assert!(text.starts_with("OFAC-1001 (person) matched as \""), "{text}");
    assert!(text.contains("\"tarkazy\" ~ \"tarkazi\""), "{text}");
    println!("{text}");
}

#[test]
fn the_threshold_is_configurable() {
    let list = list();
    let strict = Screener::with_config(&list, Config { threshold: 0.99, ..Config::default() }).unwrap();
    assert!(strict.best("Mohamed Yousef Tarkazi").is_none());
    assert!(strict.best("Tarkazi, Muhammad Yusuf").is_some());
    let lax = Screener::with_config(&list, Config { threshold: 0.0, max_hits: 3, ..Config::default() }).unwrap();
    assert!(lax.screen("Muhammad Yusuf Tarkazi").len() <= 3);
}
