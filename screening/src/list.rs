//! The loaded list: one shape for every source, so the screener does not care where an
//! entry came from.

use std::fmt;

/// Who published an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// US Treasury OFAC Specially Designated Nationals list (`sdn.csv` + `alt.csv`).
    Ofac,
    /// EU consolidated list of persons, groups and entities subject to financial sanctions.
    Eu,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Ofac => "OFAC",
            Source::Eu => "EU",
        })
    }
}

/// What kind of party an entry is. Kept for the officer (a person hit on a company name
/// reads differently); the matcher treats all kinds alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Person,
    Entity,
    Vessel,
    Aircraft,
    Unknown,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Person => "person",
            EntryKind::Entity => "entity",
            EntryKind::Vessel => "vessel",
            EntryKind::Aircraft => "aircraft",
            EntryKind::Unknown => "unknown kind",
        })
    }
}

/// An entry's identity: the publisher and its own number for the entry (OFAC `ent_num`,
/// EU `logicalId`), which is what an officer looks the entry up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId {
    pub source: Source,
    pub number: u64,
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.source, self.number)
    }
}

/// One listed party.
#[derive(Debug, Clone, PartialEq)]
pub struct ListEntry {
    pub id: EntryId,
    pub source: Source,
    pub kind: EntryKind,
    /// The primary name first, then the aliases, as the list writes them (OFAC persons as
    /// "LAST, First Middle"). Each is matched on its own.
    pub names: Vec<String>,
    /// Sanctions programmes or regimes (OFAC `Program`, EU `regulation/@programme`).
    pub programs: Vec<String>,
}

/// A loaded list, possibly merged from several sources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SanctionsList {
    pub entries: Vec<ListEntry>,
}

impl SanctionsList {
    /// Appends another list's entries, e.g. the EU list after the OFAC one: operators
    /// screen against all lists they are bound by at once.
    pub fn merge(&mut self, other: SanctionsList) {
        self.entries.extend(other.entries);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Adds `name` to `names` unless it is blank or already there: the EU list repeats a name in
/// every regulation language, and duplicates would only cost index space.
pub(crate) fn push_name(names: &mut Vec<String>, name: &str) {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if !name.is_empty() && !names.contains(&name) {
        names.push(name);
    }
}
