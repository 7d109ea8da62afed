#![no_main]
//! `cargo +nightly fuzz run mp4`: see `reelsmith::fuzzing::mp4`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = reelsmith::fuzzing::mp4(data);
});
