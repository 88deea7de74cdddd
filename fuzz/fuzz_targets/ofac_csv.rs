//! Loads arbitrary bytes as OFAC `sdn.csv` and `alt.csv`. The loader must never panic, and
//! whatever it accepts must be screenable.
//!
//! The input is split at its first 0x00 byte: before it `sdn.csv`, after it `alt.csv`, so
//! the fuzzer can reach the alias join.
//!
//! `scripts/fuzz run ofac_csv` (docs/reliability.md, "Fuzzing and property tests").

#![no_main]

use interlink_screening::ofac;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sdn, alt) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(list) = ofac::parse(sdn, alt) {
        interlink_screening::assert_screenable(&list);
    }
});
