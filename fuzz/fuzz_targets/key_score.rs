#![no_main]
// See babeldesk::invariants::key_and_score for what this target checks beyond "no panic".
libfuzzer_sys::fuzz_target!(|data: &[u8]| babeldesk::invariants::key_and_score(data));
