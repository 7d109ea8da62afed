//! The scene cache: each scene encoded as a closed segment of its own, kept, and copied into
//! a later render that shows exactly the same pictures there.

mod common;

use std::path::{Path, PathBuf};

use common::{comp, decode_strict, mean_abs_diff, Sandbox};
use reelsmith::RenderOptions;
use serde_json::json;

/// Four scenes of 2 s at 320x180: a static title, a bullet slide with a progress bar, a
/// Ken Burns photo (a crossfade in) and a closing card (a fade through black).
fn spec(photo: &Path, bullet: &str) -> serde_json::Value {
    json!({
        "output": { "width": 320, "height": 180, "fps": 30, "quality": "fast" },
        "scenes": [
            { "duration": 2, "background": { "type": "solid", "color": "#203A43" },
              "layers": [ { "type": "text", "text": "Title", "size": 40, "fade_in": 0.3 } ] },
            { "duration": 2, "transition": { "type": "crossfade", "duration": 0.3 },
              "background": { "type": "linear_gradient", "colors": ["#0B1F3A", "#1B4F72"] },
              "layers": [
                  { "type": "text", "text": bullet, "size": 24, "y": "40%",
                    "animate_in": { "effect": "slide", "from": "left", "duration": 0.5 } },
                  { "type": "progress_bar", "color": "#FFC83D" } ] },
            { "duration": 2, "transition": { "type": "crossfade", "duration": 0.3 },
              "background": { "type": "image", "src": photo.to_str().unwrap(),
                              "motion": "zoom_in" } },
            { "duration": 2, "transition": { "type": "fade", "duration": 0.4 },
              "background": { "type": "solid", "color": "#F0F0F0" },
              "layers": [ { "type": "text", "text": "The end", "size": 32, "color": "#102030" } ] }
        ]
    })
}

/// 4 x 60 frames less the transitions' overlaps (9, 9 and 12 frames).
const FRAMES: u64 = 210;

fn photo(sb: &Sandbox) -> PathBuf {
    sb.png("photo.png", 640, 360, |x, y| {
        [
            (x % 256) as u8,
            (y % 256) as u8,
            ((x + y) / 4 % 256) as u8,
            255,
        ]
    })
}

/// A sandbox with the photo, and render options with the scene cache on.
fn setup() -> (Sandbox, PathBuf, RenderOptions) {
    let sb = Sandbox::new();
    let photo = photo(&sb);
    let cached = sb.options().with_scene_cache(true);
    (sb, photo, cached)
}

fn entries(sb: &Sandbox) -> Vec<PathBuf> {
    let dir = sb.path("media/assets/video/segments");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn render(sb: &Sandbox, spec: serde_json::Value, out: &str, opts: RenderOptions) -> Vec<u8> {
    let opts = opts.with_output(sb.path(out));
    let report = reelsmith::render(&comp(spec), &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.frames, FRAMES);
    std::fs::read(sb.path(out)).expect("output")
}

#[test]
fn scenes_encoded_as_closed_segments_decode_cleanly_and_look_the_same() {
    let sb = Sandbox::new();
    let photo = photo(&sb);
    let plain = render(
        &sb,
        spec(&photo, "Lift with your legs"),
        "plain.mp4",
        sb.options().with_segments(false),
    );
    // Segments are the default; the cache off, so that this render encodes every one.
    let opts = sb.options().with_scene_cache(false);
    render(&sb, spec(&photo, "Lift with your legs"), "seg.mp4", opts);
    let (a, _) = decode_strict(&sb.path("plain.mp4"));
    let (b, keys) = decode_strict(&sb.path("seg.mp4"));
    assert_eq!(a.len() as u64, FRAMES);
    assert_eq!(b.len() as u64, FRAMES);
    // Every scene starts a segment with a keyframe: at its transition's first frame.
    let plan = reelsmith::pipeline::plan(&comp(spec(&photo, "x")), &sb.options()).expect("plan");
    assert_eq!(plan.segment_starts(), vec![51, 102, 150]);
    for at in [0, 51, 102, 150] {
        assert!(keys.contains(&at), "no keyframe at {at}: {keys:?}");
    }
    // The same pictures at the same quality: against a lossless render of them, the
    // segmented file is as close as the plain one (over all frames, and frame by frame).
    render(
        &sb,
        spec(&photo, "Lift with your legs"),
        "lossless.mp4",
        sb.options().with_lossless(true),
    );
    let (reference, _) = decode_strict(&sb.path("lossless.mp4"));
    let error = |frames: &[reelsmith::media::probe::RgbFrame]| -> Vec<f64> {
        frames
            .iter()
            .zip(&reference)
            .map(|(f, r)| mean_abs_diff(f, r))
            .collect()
    };
    let (ea, eb) = (error(&a), error(&b));
    let mean = |e: &[f64]| e.iter().sum::<f64>() / e.len() as f64;
    eprintln!(
        "mean error: plain {:.3}, segments {:.3}",
        mean(&ea),
        mean(&eb)
    );
    assert!(
        mean(&eb) <= mean(&ea) * 1.1,
        "{} vs {}",
        mean(&eb),
        mean(&ea)
    );
    for (i, (x, y)) in ea.iter().zip(&eb).enumerate() {
        assert!(
            *y <= x * 1.5 + 0.5,
            "frame {i}: error {y:.2} with segments, {x:.2} without"
        );
    }
    assert!(!plain.is_empty());
}

/// The frames of two encodes of the same pictures agree within x264's run-to-run jitter (its
/// frame threads make slightly different decisions now and then; the same bytes are not
/// promised when a segment is encoded again).
fn assert_same_pictures(a: &Path, b: &Path) {
    let (fa, _) = decode_strict(a);
    let (fb, _) = decode_strict(b);
    assert_eq!(fa.len(), fb.len());
    for (i, (x, y)) in fa.iter().zip(&fb).enumerate() {
        let d = mean_abs_diff(x, y);
        assert!(d < 1.0, "frame {i} differs by {d:.2} on average");
    }
}

#[test]
fn unchanged_scenes_are_copied_from_the_scene_cache_and_changed_ones_encoded_again() {
    let (sb, photo, cached) = setup();
    let run = |s: serde_json::Value, o: &RenderOptions, out: &str| {
        let o = o.clone().with_output(sb.path(out));
        reelsmith::render(&comp(s), &o).unwrap_or_else(|e| panic!("{e}"))
    };

    // A first render encodes four segments and keeps them.
    let first = run(spec(&photo, "Lift with your legs"), &cached, "first.mp4");
    assert_eq!((first.segments, first.segments_reused), (4, 0));
    assert_eq!(entries(&sb).len(), 4);
    let first_bytes = std::fs::read(sb.path("first.mp4")).expect("out");

    // The same spec again: every segment copied, nothing composed or encoded: the same file.
    let again = run(spec(&photo, "Lift with your legs"), &cached, "again.mp4");
    assert_eq!((again.segments, again.segments_reused), (4, 4));
    assert_eq!(again.frames_reused, FRAMES);
    assert_eq!(again.encoded_frames, 0);
    let compose = again
        .stages
        .iter()
        .find(|s| s.stage == reelsmith::StageId::Compose)
        .expect("compose stage");
    assert_eq!(compose.frames, 0, "nothing composed");
    assert!(
        std::fs::read(sb.path("again.mp4")).expect("out") == first_bytes,
        "a render of copied segments differs from the first"
    );

    // The bullet text changed: its scene (segment 1) is made again, and the photo scene,
    // whose crossfade shows the bullet slide's last frames. The others are copied. The
    // result decodes cleanly to what a render from scratch shows.
    let changed = run(
        spec(&photo, "Keep your back straight"),
        &cached,
        "changed.mp4",
    );
    assert_eq!((changed.segments, changed.segments_reused), (4, 2));
    assert_eq!(changed.frames_reused, 51 + (FRAMES - 150));
    let scratch = sb.options().with_scene_cache(false);
    run(
        spec(&photo, "Keep your back straight"),
        &scratch,
        "scratch.mp4",
    );
    assert_same_pictures(&sb.path("changed.mp4"), &sb.path("scratch.mp4"));
    // And the new text is there: the bullet slide's last frame is not the first render's.
    let (f1, _) = decode_strict(&sb.path("first.mp4"));
    let (f2, _) = decode_strict(&sb.path("changed.mp4"));
    assert!(
        mean_abs_diff(&f1[95], &f2[95]) > 1.0,
        "the bullet slide did not change"
    );
    assert!(
        mean_abs_diff(&f1[20], &f2[20]) < 0.01,
        "the title was not copied"
    );
    assert_eq!(entries(&sb).len(), 6);

    // The photo rewritten under the same name: its segment is encoded again.
    sb.png("photo.png", 640, 360, |x, y| {
        [(y % 256) as u8, (x % 256) as u8, 90, 255]
    });
    let rewritten = run(spec(&photo, "Keep your back straight"), &cached, "out.mp4");
    assert_eq!(rewritten.segments_reused, 2);

    // Off: still four segments, nothing read or written.
    let before = entries(&sb);
    let off = run(
        spec(&photo, "Keep your back straight"),
        &sb.options().with_scene_cache(false),
        "out.mp4",
    );
    assert_eq!((off.segments, off.segments_reused), (4, 0));
    assert_eq!(entries(&sb), before);
    // One x264 for the whole video: one segment, nothing read or written either.
    let whole = run(
        spec(&photo, "Keep your back straight"),
        &sb.options().with_segments(false),
        "out.mp4",
    );
    assert_eq!((whole.segments, whole.segments_reused), (1, 0));
    assert_eq!(entries(&sb), before);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

// Needs `--features fault-injection` (scripts/test.sh passes it).
#[cfg(feature = "fault-injection")]
#[test]
fn a_failed_render_keeps_the_scenes_it_finished_and_the_next_one_copies_them() {
    let (sb, photo, cached) = setup();
    // The encoder fails in the third scene (frames 102..150): the first two were finished.
    let failing = cached
        .clone()
        .with_output(sb.path("out.mp4"))
        .with_fault(reelsmith::pipeline::Fault::EncodeAtFrame(120));
    let err = reelsmith::render(&comp(spec(&photo, "Lift with your legs")), &failing)
        .expect_err("the injected failure");
    assert!(err.to_string().contains("120"), "{err}");
    assert!(!sb.path("out.mp4").exists(), "no output after a failure");
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
    assert_eq!(entries(&sb).len(), 2, "the finished scenes are kept");

    // Rendering again copies them and makes the rest: the same pictures as from scratch.
    let again = cached.with_output(sb.path("again.mp4"));
    let report = reelsmith::render(&comp(spec(&photo, "Lift with your legs")), &again)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((report.segments, report.segments_reused), (4, 2));
    assert_eq!(report.frames_reused, 102);
    assert_eq!(entries(&sb).len(), 4);
    render(
        &sb,
        spec(&photo, "Lift with your legs"),
        "scratch.mp4",
        sb.options().with_scene_cache(false),
    );
    assert_same_pictures(&sb.path("again.mp4"), &sb.path("scratch.mp4"));
}

#[test]
fn a_damaged_scene_cache_entry_is_thrown_away_and_the_scene_encoded_again() {
    let (sb, photo, cached) = setup();
    render(&sb, spec(&photo, "Lift"), "a.mp4", cached.clone());
    let kept = entries(&sb);
    assert_eq!(kept.len(), 4);
    let entry = std::fs::read(&kept[0]).expect("entry");
    // Cut short (as by a full disk), and another one's middle overwritten.
    std::fs::write(&kept[0], &entry[..entry.len() / 2]).expect("write");
    let mut other = std::fs::read(&kept[1]).expect("entry");
    let mid = other.len() / 2;
    other[mid..mid + 8].copy_from_slice(b"garbage!");
    std::fs::write(&kept[1], &other).expect("write");
    let opts = cached.with_output(sb.path("b.mp4"));
    let again = reelsmith::render(&comp(spec(&photo, "Lift")), &opts).expect("render");
    assert_eq!((again.segments, again.segments_reused), (4, 2));
    assert_same_pictures(&sb.path("a.mp4"), &sb.path("b.mp4"));
    // Both entries were made again, whole: usable by the next render.
    let cache = reelsmith::cache::scenes::cache(sb.path("media/assets/video/segments"));
    for path in &kept[..2] {
        let key = path.file_stem().and_then(|k| k.to_str()).expect("key");
        assert!(
            cache
                .open::<reelsmith::cache::scenes::Footer>(key)
                .is_some(),
            "{} was not made again",
            path.display()
        );
    }
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}
