#![no_main]
//! `cargo +nightly fuzz run clip`: see `reelsmith::fuzzing::clip`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = reelsmith::fuzzing::clip(data);
});
