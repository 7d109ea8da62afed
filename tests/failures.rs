//! Every failure path: the documented error, no temp folder, no file at the output path, and
//! an existing output left untouched.

mod common;

use common::Sandbox;
use reelsmith::error::AssetError;
#[cfg(feature = "fault-injection")]
use reelsmith::pipeline::Fault;
use reelsmith::{Error, Progress, SpecError};
use serde_json::json;

fn spec_with_layer(layer: serde_json::Value) -> serde_json::Value {
    json!({
        "output": { "width": 128, "height": 72, "fps": 30, "quality": "fast" },
        "scenes": [{ "duration": 1, "layers": [layer] }]
    })
}

fn two_second_spec() -> serde_json::Value {
    json!({
        "output": { "width": 128, "height": 72, "fps": 30, "quality": "fast" },
        "scenes": [
            { "duration": 1, "layers": [{ "type": "text", "text": "a", "fade_in": 1 }] },
            { "duration": 1, "layers": [{ "type": "text", "text": "b", "fade_in": 1 }] }
        ]
    })
}

/// Renders, expecting failure; checks the transaction guarantees and returns the error.
fn fails(sb: &Sandbox, spec: serde_json::Value, opts: reelsmith::RenderOptions) -> Error {
    let comp = common::comp(spec);
    let out = opts.output.clone().expect("test output");
    std::fs::write(&out, b"previous video").expect("seed output");
    let err = reelsmith::render(&comp, &opts).expect_err("render should have failed");
    assert_eq!(
        std::fs::read(&out).expect("output kept"),
        b"previous video",
        "existing output changed"
    );
    assert!(
        sb.leftovers().is_empty(),
        "leftovers after {err}: {:?}",
        sb.leftovers()
    );
    err
}

#[test]
fn missing_asset_names_its_path() {
    let sb = Sandbox::new();
    let err = fails(
        &sb,
        spec_with_layer(json!({ "type": "image", "src": "nope.png" })),
        sb.options(),
    );
    let Error::Spec(SpecError::Invalid(issues)) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].path, "scenes[0].layers[0].src");
    assert!(issues[0].message.contains("nope.png") && issues[0].message.contains("does not exist"));
    assert_eq!(err.exit_code(), 3);
}

#[test]
fn corrupt_image_is_an_asset_error() {
    let sb = Sandbox::new();
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0x13; 200]);
    std::fs::write(sb.path("broken.png"), bytes).expect("write");
    let err = fails(
        &sb,
        spec_with_layer(json!({ "type": "image", "src": "broken.png" })),
        sb.options(),
    );
    let Error::Asset(AssetError::Load(issues)) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert_eq!(issues[0].path, "scenes[0].layers[0].src");
    assert!(
        issues[0].message.contains("broken.png"),
        "{}",
        issues[0].message
    );
    assert_eq!(err.exit_code(), 4);
}

#[test]
fn corrupt_wav_is_an_asset_error() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("bad.wav"), b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").expect("write");
    let mut spec = spec_with_layer(json!({ "type": "text", "text": "x" }));
    spec["audio"] = json!({ "tracks": [{ "src": "bad.wav" }] });
    let err = fails(&sb, spec, sb.options());
    let Error::Asset(AssetError::Load(issues)) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert_eq!(issues[0].path, "audio.tracks[0].src");
    assert!(
        issues[0].message.contains("bad.wav"),
        "{}",
        issues[0].message
    );
}

struct CancelHalfway {
    seen: u64,
}
impl Progress for CancelHalfway {
    fn frames(&mut self, done: u64, total: u64) -> bool {
        self.seen = self.seen.max(done);
        done < total / 2
    }
}

#[test]
fn cancelled_halfway_leaves_nothing() {
    let sb = Sandbox::new();
    let comp = common::comp(two_second_spec());
    let opts = sb.options();
    std::fs::write(sb.path("out.mp4"), b"previous video").expect("seed");
    let mut p = CancelHalfway { seen: 0 };
    let err = reelsmith::render_with_progress(&comp, &opts, &mut p).expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(err.exit_code(), 130);
    assert!(p.seen >= 30, "cancelled before halfway: {}", p.seen);
    assert_eq!(
        std::fs::read(sb.path("out.mp4")).expect("kept"),
        b"previous video"
    );
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

// Needs `--features fault-injection` (scripts/test.sh passes it).
#[cfg(feature = "fault-injection")]
#[test]
fn injected_encoder_failure_leaves_nothing() {
    let sb = Sandbox::new();
    let mut opts = sb.options();
    opts.fault = Some(Fault::EncodeAtFrame(40));
    let err = fails(&sb, two_second_spec(), opts);
    assert!(
        matches!(
            err,
            Error::Encode(reelsmith::error::EncodeError::Injected(40))
        ),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), 5);
}

// Needs `--features fault-injection` (scripts/test.sh passes it).
#[cfg(feature = "fault-injection")]
#[test]
fn compose_panic_becomes_an_error_and_leaves_nothing() {
    let sb = Sandbox::new();
    let mut opts = sb.options();
    opts.fault = Some(Fault::PanicAtFrame(35));
    let err = fails(&sb, two_second_spec(), opts);
    assert!(
        matches!(&err, Error::Internal(m) if m.contains("injected compose panic")),
        "{err:?}"
    );
}

struct PanicAt(u64);
impl Progress for PanicAt {
    fn frames(&mut self, done: u64, _total: u64) -> bool {
        assert!(done < self.0, "progress callback panics on purpose");
        true
    }
}

#[test]
fn panic_in_the_callers_callback_unwinds_cleanly() {
    let sb = Sandbox::new();
    let comp = common::comp(two_second_spec());
    let opts = sb.options();
    let r = std::panic::catch_unwind(move || {
        let _ = reelsmith::render_with_progress(&comp, &opts, &mut PanicAt(10));
    });
    assert!(r.is_err(), "the panic should propagate to the caller");
    assert!(!sb.path("out.mp4").exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn unwritable_output_is_an_io_error() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("afile"), b"x").expect("write");
    let mut opts = sb.options();
    // A folder that cannot exist: its parent is a regular file.
    opts.output = Some(sb.path("afile/out.mp4"));
    let comp = common::comp(two_second_spec());
    let err = reelsmith::render(&comp, &opts).expect_err("must fail");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn leftovers_of_a_killed_render_are_swept_at_the_next_start() {
    let sb = Sandbox::new();
    let temp = sb.path("media/assets/temp/render-killed");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let partial = sb.path(".out.mp4.killed.partial");
    std::fs::write(&partial, b"half").expect("write");
    std::fs::write(
        temp.join("owner"),
        format!("4000000000 1\npartial {}\n", partial.display()),
    )
    .expect("owner");
    std::fs::write(temp.join("frame.bin"), b"junk").expect("junk");
    sb.render(two_second_spec());
    assert!(!temp.exists(), "stale temp folder not swept");
    assert!(!partial.exists(), "stale partial output not swept");
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn oversized_text_is_refused_with_its_path_not_an_out_of_memory() {
    let sb = Sandbox::new();
    let layer =
        json!({ "type": "text", "text": "lift ".repeat(3000), "size": 200, "max_width": 300 });
    let err = fails(&sb, spec_with_layer(layer), sb.options());
    // Text is laid out while the spec is resolved, so validation already catches it.
    let Error::Spec(SpecError::Invalid(issues)) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert_eq!(issues[0].path, "scenes[0].layers[0].text");
    assert!(
        issues[0].message.contains("over the limit"),
        "{}",
        issues[0].message
    );
}
