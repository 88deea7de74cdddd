//! Loads arbitrary bytes as an EU consolidated-list XML export. The loader must never panic,
//! and whatever it accepts must be screenable.
//!
//! `scripts/fuzz run eu_xml` (docs/reliability.md, "Fuzzing and property tests").

#![no_main]

use interlink_screening::eu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = eu::parse(data) {
        interlink_screening::assert_screenable(&list);
    }
});
