//! The loaders on the synthetic files in tests/data.

use interlink_screening::{eu, ofac, EntryId, EntryKind, LoadError, Source};

const SDN: &[u8] = include_bytes!("data/sdn.csv");
const ALT: &[u8] = include_bytes!("data/alt.csv");
const EU: &[u8] = include_bytes!("data/eu.xml");

#[test]
fn ofac_files_load_with_aliases() {
    let list = ofac::parse(SDN, ALT).unwrap();
    assert_eq!(list.len(), 8);
    let e = &list.entries[0];
    assert_eq!(e.id, EntryId { source: Source::Ofac, number: 1001 });
    assert_eq!(e.names, ["TARKAZI, Muhammad Yusuf", "TARKAZI, Mohammed Yousef", "AL-TARKAZI, Mohamed"]);
    assert_eq!(e.programs, ["SYN-A", "SYN-B"]);
    let kinds: Vec<EntryKind> = list.entries.iter().map(|e| e.kind).collect();
    use EntryKind::*;
    assert_eq!(kinds, [Person, Person, Person, Entity, Vessel, Aircraft, Person, Person]);
    assert_eq!(list.entries[2].names, ["KASHANI VIDAL, José Luis"]);
}

#[test]
fn eu_file_loads_every_script() {
    let list = eu::parse(EU).unwrap();
    assert_eq!(list.len(), 3);
    let e = &list.entries[0];
    assert_eq!(e.id.to_string(), "EU-9001");
    assert_eq!(e.kind, EntryKind::Person);
    assert_eq!(e.names, ["Karim Najjari", "كريم نجاري", "Карим Наджари"]);
    assert_eq!(e.programs, ["SYN"]);
    assert_eq!(list.entries[1].kind, EntryKind::Entity);
}

#[test]
fn lists_merge() {
    let mut list = ofac::parse(SDN, ALT).unwrap();
    list.merge(eu::parse(EU).unwrap());
    assert_eq!(list.len(), 11);
}

#[test]
fn mismatched_files_are_refused() {
    // The aliases of one publication against the entries of another.
    let err = ofac::parse(&SDN[..SDN.len() / 2], ALT).unwrap_err();
    assert!(matches!(err, LoadError::OrphanAlias { .. } | LoadError::Csv { .. }), "{err}");
    assert!(eu::parse(SDN).is_err());
}
