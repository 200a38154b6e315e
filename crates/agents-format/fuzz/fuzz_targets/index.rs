//! Fuzz target: `agents_format::fuzzing::index` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agents_format::fuzzing::index(data));
