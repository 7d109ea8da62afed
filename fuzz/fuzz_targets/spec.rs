#![no_main]
//! `cargo +nightly fuzz run spec`: see `reelsmith::fuzzing::spec`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = reelsmith::fuzzing::spec(data);
});
