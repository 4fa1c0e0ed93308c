#![no_main]
// See babeldesk::invariants::glossary for what this target checks beyond "no panic".
libfuzzer_sys::fuzz_target!(|data: &[u8]| babeldesk::invariants::glossary(data));
