//! Errors of the loaders and of the screener's configuration.

use crate::list::Source;

/// Why a list file could not be loaded. Loading is all-or-nothing: a list with one bad row
/// is refused whole, because screening against a silently shortened list would let a
/// listed party through without anyone noticing.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The CSV layer could not read a record (bad quoting, I/O error of the reader).
    #[error("{file}: unreadable CSV near line {line}: {source}")]
    Csv {
        file: &'static str,
        line: u64,
        #[source]
        source: csv::Error,
    },
    /// The XML layer could not read the document (not well-formed, bad attribute or escape).
    #[error("EU list: malformed XML at byte {position}: {source}")]
    Xml {
        position: u64,
        #[source]
        source: quick_xml::Error,
    },
    /// The EU document ends inside a `<sanctionEntity>`: a truncated download.
    #[error("EU list: the document ends inside entry {number}")]
    Truncated { number: u64 },
    /// An EU entry's `logicalId` is missing or not a number.
    #[error("EU list: entry at byte {position} has logicalId {value:?}, not a number")]
    BadEuId { position: u64, value: String },
    /// A CSV record's id is missing or not a number.
    #[error("{file}: line {line}: id {value:?} is not a number")]
    BadId { file: &'static str, line: u64, value: String },
    /// A record has fewer fields than its format requires.
    #[error("{file}: line {line}: {found} fields, at least {expected} expected")]
    MissingFields { file: &'static str, line: u64, found: usize, expected: usize },
    /// An entry has no usable name, so it could never be matched.
    #[error("{list} entry {number} has no name")]
    NoName { list: Source, number: u64 },
    /// An alias row names an entry the main file does not have: the two OFAC files are
    /// from different publications.
    #[error("alt.csv: line {line}: alias of entry {number}, which sdn.csv does not list")]
    OrphanAlias { line: u64, number: u64 },
    /// The same id appears twice in one file.
    #[error("{list} entry {number} is listed twice")]
    DuplicateId { list: Source, number: u64 },
    /// The document is not an EU consolidated-list export.
    #[error("EU list: root element is <{found}>, expected <export>")]
    NotAnExport { found: String },
}

/// A screener configuration outside its meaningful range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A score or similarity threshold outside 0..=1 (or NaN).
    #[error("{name} must be within 0..=1, got {value}")]
    OutOfRange { name: &'static str, value: f64 },
    /// `max_hits` of 0 would make every screening come back empty.
    #[error("max_hits must be at least 1")]
    NoHits,
}
