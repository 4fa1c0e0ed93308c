#![no_main]
// See babeldesk::invariants::tmx for what this target checks beyond "no panic".
libfuzzer_sys::fuzz_target!(|data: &[u8]| babeldesk::invariants::tmx(data));
