#![no_main]
//! `cargo +nightly fuzz run audio`: see `reelsmith::fuzzing::audio`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = reelsmith::fuzzing::audio(data);
});
