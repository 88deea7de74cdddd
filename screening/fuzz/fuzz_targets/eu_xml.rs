//! Loads arbitrary bytes as an EU consolidated-list XML export. The loader must never panic,
//! and whatever it accepts must be screenable.
//!
//! `cargo fuzz run eu_xml fuzz/corpus/eu_xml fuzz/seeds/eu_xml` (from screening/)

#![no_main]

use interlink_screening::{eu, Screener};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = eu::parse(data) {
        for entry in &list.entries {
            assert!(!entry.names.is_empty(), "{entry:?}");
        }
        let screener = Screener::new(&list);
        if let Some(name) = list.entries.first().map(|e| e.names[0].clone()) {
            for hit in screener.screen(&name) {
                assert!(hit.score >= hit.threshold && hit.score <= 1.0 + 1e-9, "{hit}");
            }
        }
    }
});
