//! Loads arbitrary bytes as an EU consolidated-list XML export. The loader must never panic,
//! and whatever it accepts must be screenable.
//!
//! `cargo fuzz run eu_xml fuzz/corpus/eu_xml fuzz/seeds/eu_xml` (from screening/)

#![no_main]

use interlink_screening::eu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = eu::parse(data) {
        interlink_screening::assert_screenable(&list);
    }
});
