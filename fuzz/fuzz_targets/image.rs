#![no_main]
//! `cargo +nightly fuzz run image`: see `reelsmith::fuzzing::image`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = reelsmith::fuzzing::image(data);
});
