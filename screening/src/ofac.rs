//! OFAC SDN list in its CSV form: `sdn.csv` (one row per entry) and `alt.csv` (one row per
//! alias). Both are headerless RFC 4180 files; `-0-` (often padded to `-0- `) marks an empty
//! field, and the files end with a lone SUB (0x1A) character, a relic of DOS.
//!
//! `sdn.csv` columns: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
//! Tonnage, GRT, Vess_flag, Vess_owner, Remarks. An empty SDN_Type means an entity.
//! `alt.csv` columns: ent_num, alt_num, alt_type, alt_name, alt_remarks.

use std::io::Read;

use rustc_hash::FxHashMap;

use crate::error::LoadError;
use crate::list::{push_name, EntryId, EntryKind, ListEntry, SanctionsList, Source};

const SDN: &str = "sdn.csv";
const ALT: &str = "alt.csv";

/// Loads `sdn.csv` and its aliases from `alt.csv`. Aliases follow the primary name in the
/// order `alt.csv` gives them.
pub fn parse(sdn: impl Read, alt: impl Read) -> Result<SanctionsList, LoadError> {
    let mut list = parse_sdn(sdn)?;
    add_aliases(&mut list, alt)?;
    Ok(list)
}

/// Loads `sdn.csv` alone (primary names only).
pub fn parse_sdn(sdn: impl Read) -> Result<SanctionsList, LoadError> {
    let mut entries = Vec::new();
    let mut seen = FxHashMap::default();
    for row in rows(sdn, SDN) {
        let (line, fields) = row?;
        if fields.len() < 2 {
            return Err(LoadError::MissingFields { file: SDN, line, found: fields.len(), expected: 2 });
        }
        let number = id(&fields[0], SDN, line)?;
        let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let kind = match field(2).to_ascii_lowercase().as_str() {
            "individual" => EntryKind::Person,
            "vessel" => EntryKind::Vessel,
            "aircraft" => EntryKind::Aircraft,
            "" | "entity" => EntryKind::Entity,
            _ => EntryKind::Unknown,
        };
        // Several programmes are written "IRAN] [SDGT".
        let programs =
            field(3).split(['[', ']']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
        let mut names = Vec::new();
        push_name(&mut names, field(1));
        if names.is_empty() {
            return Err(LoadError::NoName { list: Source::Ofac, number });
        }
        if seen.insert(number, entries.len()).is_some() {
            return Err(LoadError::DuplicateId { list: Source::Ofac, number });
        }
        entries.push(ListEntry {
            id: EntryId { source: Source::Ofac, number },
            source: Source::Ofac,
            kind,
            names,
            programs,
        });
    }
    Ok(SanctionsList { entries })
}

/// Adds the aliases of `alt.csv` to a list loaded from the matching `sdn.csv`.
pub fn add_aliases(list: &mut SanctionsList, alt: impl Read) -> Result<(), LoadError> {
    let index: FxHashMap<u64, usize> = list
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.source == Source::Ofac)
        .map(|(i, e)| (e.id.number, i))
        .collect();
    for row in rows(alt, ALT) {
        let (line, fields) = row?;
        if fields.len() < 4 {
            return Err(LoadError::MissingFields { file: ALT, line, found: fields.len(), expected: 4 });
        }
        let number = id(&fields[0], ALT, line)?;
        let Some(&i) = index.get(&number) else {
            return Err(LoadError::OrphanAlias { line, number });
        };
        push_name(&mut list.entries[i].names, &fields[3]);
    }
    Ok(())
}

fn id(field: &str, file: &'static str, line: u64) -> Result<u64, LoadError> {
    field.parse().map_err(|_| LoadError::BadId { file, line, value: field.to_string() })
}

/// The non-blank records of a file as (line, fields), fields trimmed and `-0-` emptied.
fn rows(input: impl Read, file: &'static str) -> impl Iterator<Item = Result<(u64, Vec<String>), LoadError>> {
    let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    reader.into_byte_records().filter_map(move |record| {
        let record = match record {
            Ok(record) => record,
            Err(source) => {
                let line = source.position().map_or(0, |p| p.line());
                return Some(Err(LoadError::Csv { file, line, source }));
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<String> = record.iter().map(field).collect();
        // Blank lines and the trailing SUB character carry nothing.
        if fields.iter().all(String::is_empty) {
            return None;
        }
        Some(Ok((line, fields)))
    })
}

/// A field as text: UTF-8 when it is, Latin-1 otherwise (older OFAC files were not UTF-8, and
/// every byte sequence is valid Latin-1, so nothing is lost).
fn field(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}');
    if text == "-0-" {
        String::new()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDN_ROWS: &str = "36,\"AEROCARIBBEAN AIRWAYS\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
        173,\"ZAHIR, Kamal Ahmad\",\"individual\",\"SDGT] [IRGC\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1960.\"\n\
        9001,\"SEA BREEZE ONE\",\"vessel\",\"IRAN\",-0- ,\"9XYZ\",\"Tanker\",-0- ,-0- ,\"Panama\",-0- ,-0- \n\
        \u{1a}\n";
    const ALT_ROWS: &str = "173,501,\"aka\",\"ZAHIR, Kemal\",-0- \n173,502,\"fka\",\"AL-ZAHIR, Kamal\",-0- \n";

    #[test]
    fn reads_entries_kinds_programs_and_aliases() {
        let list = parse(SDN_ROWS.as_bytes(), ALT_ROWS.as_bytes()).unwrap();
        assert_eq!(list.len(), 3);
        let e = &list.entries[1];
        assert_eq!(e.id, EntryId { source: Source::Ofac, number: 173 });
        assert_eq!(e.kind, EntryKind::Person);
        assert_eq!(e.names, ["ZAHIR, Kamal Ahmad", "ZAHIR, Kemal", "AL-ZAHIR, Kamal"]);
        assert_eq!(e.programs, ["SDGT", "IRGC"]);
        assert_eq!(list.entries[0].kind, EntryKind::Entity);
        assert_eq!(list.entries[2].kind, EntryKind::Vessel);
    }

    #[test]
    fn latin1_is_read_as_latin1() {
        let list = parse_sdn(&b"7,\"P\xc9REZ, Jos\xe9\",\"individual\",\"CUBA\"\n"[..]).unwrap();
        assert_eq!(list.entries[0].names, ["PÉREZ, José"]);
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        assert!(matches!(parse_sdn(&b"x,\"A\"\n"[..]), Err(LoadError::BadId { line: 1, .. })));
        assert!(matches!(parse_sdn(&b"1,-0- \n"[..]), Err(LoadError::NoName { number: 1, .. })));
        assert!(matches!(parse_sdn(&b"1,\"A\"\n1,\"B\"\n"[..]), Err(LoadError::DuplicateId { number: 1, .. })));
        assert!(matches!(parse_sdn(&b"1\n"[..]), Err(LoadError::MissingFields { .. })));
        assert!(matches!(
            parse(&b"1,\"A\"\n"[..], &b"2,9,\"aka\",\"B\",-0-\n"[..]),
            Err(LoadError::OrphanAlias { number: 2, .. })
        ));
    }
}
