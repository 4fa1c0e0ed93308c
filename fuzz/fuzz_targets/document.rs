#![no_main]
// See babeldesk::invariants::document for what this target checks beyond "no panic".
libfuzzer_sys::fuzz_target!(|data: &[u8]| babeldesk::invariants::document(data));
