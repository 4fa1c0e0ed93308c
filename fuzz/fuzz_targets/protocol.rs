#![no_main]
// See babeldesk::invariants::protocol for what this target checks beyond "no panic".
libfuzzer_sys::fuzz_target!(|data: &[u8]| babeldesk::invariants::protocol(data));
