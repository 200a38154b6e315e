//! Fuzz target: `agents_format::fuzzing::lockfile` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agents_format::fuzzing::lockfile(data));
