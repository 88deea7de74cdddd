//! EU consolidated financial sanctions list, XML export (`<export>` root in the
//! `http://eu.europa.ec/fpi/fsd/export` namespace). Per entry:
//!
//! ```xml
//! <sanctionEntity logicalId="13" euReferenceNumber="EU.27.28" ...>
//!   <regulation programme="IRQ" .../>
//!   <subjectType code="person" classificationCode="P"/>
//!   <nameAlias firstName="..." middleName="..." lastName="..." wholeName="..." .../>
//!   <citizenship .../> <birthdate .../> <address .../> <identification .../>
//! </sanctionEntity>
//! ```
//!
//! Elements are matched by local name, so a prefixed namespace reads the same as the default
//! one. Only what screening needs is kept: id, kind, names, programmes. quick-xml does not
//! expand DTD entities, so an entity-expansion bomb is just a malformed attribute here.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;
use rustc_hash::FxHashSet;

use crate::error::LoadError;
use crate::list::{push_name, EntryId, EntryKind, ListEntry, SanctionsList, Source};

/// Loads an EU consolidated-list XML export. Each `nameAlias` (the regulation's own name
/// and every alias or spelling) becomes one name; `wholeName` is used when present, else
/// first, middle and last name joined.
pub fn parse(input: impl BufRead) -> Result<SanctionsList, LoadError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut entries = Vec::new();
    let mut seen = FxHashSet::default();
    let mut current: Option<ListEntry> = None;
    let mut saw_root = false;
    loop {
        let position = reader.buffer_position();
        let xml = |source: quick_xml::Error| LoadError::Xml { position, source };
        let event = reader.read_event_into(&mut buf).map_err(xml)?;
        let (start, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.local_name().as_ref() == b"sanctionEntity" {
                    if let Some(entry) = current.take() {
                        finish(entry, &mut entries, &mut seen)?;
                    }
                }
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        if !saw_root {
            saw_root = true;
            if start.local_name().as_ref() != b"export" {
                let found = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                return Err(LoadError::NotAnExport { found });
            }
        }
        match start.local_name().as_ref() {
            b"sanctionEntity" => {
                let id = attr(start, b"logicalId").map_err(xml)?;
                let number = id.parse().map_err(|_| LoadError::BadEuId { position, value: id })?;
                let entry = ListEntry {
                    id: EntryId { source: Source::Eu, number },
                    source: Source::Eu,
                    kind: EntryKind::Unknown,
                    names: Vec::new(),
                    programs: Vec::new(),
                };
                if empty {
                    finish(entry, &mut entries, &mut seen)?;
                } else if let Some(open) = current.replace(entry) {
                    // A nested <sanctionEntity> is not in the schema; refuse rather than guess.
                    return Err(LoadError::Truncated { number: open.id.number });
                }
            }
            b"subjectType" => {
                if let Some(entry) = current.as_mut() {
                    let code = attr(start, b"code").map_err(xml)?.to_ascii_lowercase();
                    let class = attr(start, b"classificationCode").map_err(xml)?.to_ascii_uppercase();
                    entry.kind = match (code.as_str(), class.as_str()) {
                        ("person", _) | (_, "P") => EntryKind::Person,
                        ("enterprise", _) | (_, "E") => EntryKind::Entity,
                        ("vessel", _) => EntryKind::Vessel,
                        ("aircraft", _) => EntryKind::Aircraft,
                        _ => EntryKind::Unknown,
                    };
                }
            }
            b"nameAlias" => {
                if let Some(entry) = current.as_mut() {
                    let whole = attr(start, b"wholeName").map_err(xml)?;
                    if whole.trim().is_empty() {
                        let parts = [b"firstName".as_slice(), b"middleName", b"lastName"]
                            .iter()
                            .map(|k| attr(start, k))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(xml)?;
                        push_name(&mut entry.names, &parts.join(" "));
                    } else {
                        push_name(&mut entry.names, &whole);
                    }
                }
            }
            b"regulation" => {
                if let Some(entry) = current.as_mut() {
                    let programme = attr(start, b"programme").map_err(xml)?;
                    let programme = programme.trim();
                    if !programme.is_empty() && !entry.programs.iter().any(|p| p == programme) {
                        entry.programs.push(programme.to_string());
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if let Some(open) = current {
        return Err(LoadError::Truncated { number: open.id.number });
    }
    if !saw_root {
        return Err(LoadError::NotAnExport { found: String::new() });
    }
    Ok(SanctionsList { entries })
}

fn finish(entry: ListEntry, entries: &mut Vec<ListEntry>, seen: &mut FxHashSet<u64>) -> Result<(), LoadError> {
    let number = entry.id.number;
    if entry.names.is_empty() {
        return Err(LoadError::NoName { list: Source::Eu, number });
    }
    if !seen.insert(number) {
        return Err(LoadError::DuplicateId { list: Source::Eu, number });
    }
    entries.push(entry);
    Ok(())
}

/// An attribute's unescaped value, or "" when absent.
fn attr(e: &BytesStart<'_>, key: &[u8]) -> Result<String, quick_xml::Error> {
    for a in e.attributes() {
        let a = a?;
        if a.key.local_name().as_ref() == key {
            return Ok(a.normalized_value(XmlVersion::Implicit1_0)?.into_owned());
        }
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-01-01T00:00:00.000+01:00" globalFileId="1">
  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.1.1" logicalId="101">
    <remark>Synthetic</remark>
    <regulation regulationType="regulation" programme="XYZ" logicalId="7"><publicationUrl>http://x.invalid/</publicationUrl></regulation>
    <regulation regulationType="amendment" programme="XYZ" logicalId="8"/>
    <subjectType code="person" classificationCode="P"/>
    <nameAlias firstName="Ivor" middleName="" lastName="Kastelan" wholeName="Ivor Kastelan" strong="true" logicalId="1">
      <regulationSummary regulationType="regulation" numberTitle="1/2026"/>
    </nameAlias>
    <nameAlias firstName="Ivor" middleName="P." lastName="Kaštelan" wholeName="" logicalId="2"/>
    <nameAlias wholeName="Ivor Kastelan" nameLanguage="FR" logicalId="3"/>
  </sanctionEntity>
  <sanctionEntity logicalId="102">
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias wholeName="Blue &amp; Gold Holdings" logicalId="4"/>
  </sanctionEntity>
</export>"#;

    #[test]
    fn reads_entries_names_kinds_programmes() {
        let list = parse(DOC.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        let p = &list.entries[0];
        assert_eq!(p.id, EntryId { source: Source::Eu, number: 101 });
        assert_eq!(p.kind, EntryKind::Person);
        assert_eq!(p.names, ["Ivor Kastelan", "Ivor P. Kaštelan"]);
        assert_eq!(p.programs, ["XYZ"]);
        assert_eq!(list.entries[1].kind, EntryKind::Entity);
        assert_eq!(list.entries[1].names, ["Blue & Gold Holdings"]);
    }

    #[test]
    fn prefixed_namespace_reads_the_same() {
        let prefixed = DOC
            .replace("<export xmlns=", "<fsd:export xmlns:fsd=")
            .replace("</export>", "</fsd:export>")
            .replace("<sanctionEntity", "<fsd:sanctionEntity")
            .replace("</sanctionEntity>", "</fsd:sanctionEntity>")
            .replace("<nameAlias", "<fsd:nameAlias")
            .replace("</nameAlias>", "</fsd:nameAlias>")
            .replace("<subjectType", "<fsd:subjectType");
        assert_eq!(parse(prefixed.as_bytes()).unwrap(), parse(DOC.as_bytes()).unwrap());
    }

    #[test]
    fn refuses_broken_documents() {
        assert!(matches!(parse(&b"<other/>"[..]), Err(LoadError::NotAnExport { .. })));
        assert!(matches!(parse(&b""[..]), Err(LoadError::NotAnExport { .. })));
        let cut = &DOC[..DOC.find("</sanctionEntity>").unwrap()];
        assert!(parse(cut.as_bytes()).is_err());
        let nameless =
            r#"<export><sanctionEntity logicalId="5"><subjectType code="person"/></sanctionEntity></export>"#;
        assert!(matches!(parse(nameless.as_bytes()), Err(LoadError::NoName { number: 5, .. })));
        let twice = r#"<export><sanctionEntity logicalId="5"><nameAlias wholeName="A B"/></sanctionEntity><sanctionEntity logicalId="5"><nameAlias wholeName="C D"/></sanctionEntity></export>"#;
        assert!(matches!(parse(twice.as_bytes()), Err(LoadError::DuplicateId { number: 5, .. })));
        let bad_escape =
            r#"<export><sanctionEntity logicalId="5"><nameAlias wholeName="A &bogus; B"/></sanctionEntity></export>"#;
        assert!(matches!(parse(bad_escape.as_bytes()), Err(LoadError::Xml { .. })));
    }
}
