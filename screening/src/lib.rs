//! Sanctions name screening for Interlink: loaders for the lists operators receive (OFAC SDN
//! CSV, EU consolidated list XML) and a fuzzy matcher that says why it matched.
//!
//! Pure: no Kafka, no async, no network; the caller hands in the files' bytes.
//!
//! # Approach
//!
//! Names are written differently on a list and in a payment: another script, other
//! transliteration ("Muhammad"/"Mohammed"), another order ("LAST, First"), a missing middle
//! name. So both sides are [normalised](normalize) into ASCII tokens and compared token by
//! token, not as strings:
//!
//! 1. **Blocking.** Each distinct list token is indexed under its consonant skeleton and the
//!    skeleton's one-letter deletions. A query token looks up its own keys and is compared
//!    only with the tokens found there, then only names containing those tokens are scored:
//!    a screening touches a few dozen tokens and names, not the whole list.
//! 2. **Token similarity.** Jaro–Winkler on the tokens and on their spelling folds (the
//!    better of the two); unvocalised transliterations ("mhmd") compare by skeleton. Pairs
//!    below the token threshold do not count.
//! 3. **Name score.** Tokens are paired one to one, most similar first, regardless of order.
//!    Each listed token weighs ln(1 + names / names containing it), so a rare surname says
//!    more than "Muhammad" or "Trading". The score is the weighted similarity of the pairs
//!    over the weight of all tokens, unmatched tokens counting 0.3 (tolerates a missing
//!    middle name, penalises a half-matching name). At least two pairs are needed unless a
//!    side has only one token.
//! 4. **Explanation.** A [`Hit`] names the entry, the listed name or alias that matched, the
//!    score and threshold, each token pair with its similarity and weight, and the tokens
//!    left unmatched on either side.
//!
//! ```
//! use interlink_screening::{ofac, Screener};
//!
//! let sdn = "7,\"ZAHIR, Kamal Ahmad\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
//! let list = ofac::parse_sdn(sdn.as_bytes()).unwrap();
//! let screener = Screener::new(&list);
//! let hit = screener.best("Kemal Ahmad Zahir").expect("a hit");
//! assert_eq!(hit.entry_id.to_string(), "OFAC-7");
//! println!("{hit}");
//! assert!(screener.best("John Smith").is_none());
//! ```

pub mod error;
pub mod eu;
pub mod list;
pub mod normalize;
pub mod ofac;
mod screener;

pub use error::{ConfigError, LoadError};
pub use list::{EntryId, EntryKind, ListEntry, SanctionsList, Source};
pub use screener::{Config, Hit, Screener, TokenPair, MAX_TOKENS, UNMATCHED_WEIGHT};

/// For fuzz targets and property tests: what every list a loader accepts must satisfy
/// (each entry has a name, and screening its first name scores within bounds). Panics
/// otherwise, which is what a fuzzer looks for.
#[doc(hidden)]
pub fn assert_screenable(list: &SanctionsList) {
    for entry in &list.entries {
        assert!(!entry.names.is_empty(), "{entry:?}");
    }
    let screener = Screener::new(list);
    if let Some(name) = list.entries.first().map(|e| e.names[0].clone()) {
        for hit in screener.screen(&name) {
            assert!(hit.score >= hit.threshold && hit.score <= 1.0 + 1e-9, "{hit}");
        }
    }
}
