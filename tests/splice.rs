//! Static spans are written as all-skip copies spliced into x264's stream. These tests decode
//! the result strictly and check every frame: the count, that every copy is bit-identical to
//! the picture it repeats, that every frame is close to a lossless render of the same frames
//! (a copy referring to the wrong picture would be far off), and that keyframes still come at
//! least every 10 s.

mod common;

use std::path::Path;

use common::{comp, decode_strict, mean_abs_diff, Sandbox};
use reelsmith::media::probe::RgbFrame;
use serde_json::json;

fn spec(photo: &Path) -> serde_json::Value {
    spec_at(photo, "fast")
}

fn spec_at(photo: &Path, quality: &str) -> serde_json::Value {
    json!({
        "output": { "width": 640, "height": 360, "fps": 30, "quality": quality },
        "scenes": [
            {
                // 8 s: a fade, then a static title for 7.5 s (longer than a keyframe interval),
                // with a box that appears at 3 s.
                "duration": 8,
                "background": { "type": "solid", "color": "#203A43" },
                "layers": [
                    { "type": "text", "text": "Static spans", "size": 48, "y": "40%",
                      "fade_in": 0.5 },
                    { "type": "shape", "width": 120, "height": 40, "fill": "#FFC83D",
                      "x": "50%", "y": "70%", "start": 3 }
                ]
            },
            {
                // Motion: a crossfade in, an item sliding in, a progress bar.
                "duration": 3,
                "transition": { "type": "crossfade", "duration": 0.5 },
                "background": { "type": "linear_gradient", "colors": ["#0B1F3A", "#1B4F72"] },
                "layers": [
                    { "type": "text", "text": "Moving", "size": 40, "y": "30%",
                      "animate_in": { "effect": "slide", "from": "left", "duration": 0.8 } },
                    { "type": "progress_bar", "color": "#FFC83D" }
                ]
            },
            {
                // Every frame differs: a Ken Burns zoom.
                "duration": 2,
                "transition": { "type": "fade", "duration": 0.5 },
                "background": { "type": "image", "src": photo.to_str().unwrap(),
                                "motion": "zoom_in" }
            }
        ]
    })
}

#[test]
fn static_spans_are_exact_copies_and_every_frame_is_right() {
    check_spliced("fast");
}

/// The "high" preset (x264 slow: more references, adaptive B-frames, weighted prediction) is
/// where picture-order-dependent prediction would show: implicit bi-prediction weights and
/// temporal direct must stay off while splicing.
#[test]
fn splicing_is_exact_with_the_slow_preset_too() {
    check_spliced("high");
}

fn check_spliced(quality: &str) {
    let sb = Sandbox::new();
    let photo = sb.png("photo.png", 960, 540, |x, y| {
        [
            (x * 255 / 960) as u8,
            (y * 255 / 540) as u8,
            ((x ^ y) & 0xff) as u8,
            255,
        ]
    });
    let c = comp(spec_at(&photo, quality));

    let mut opts = sb.options();
    opts.output = Some(sb.path("spliced.mp4"));
    let report = reelsmith::render(&c, &opts).unwrap();
    let plan = reelsmith::pipeline::plan(&c, &opts).unwrap();
    let spans = plan.spans();
    assert_eq!(
        report.frames, 360,
        "8 + 3 + 2 s minus two 0.5 s transitions"
    );
    assert!(
        report.encoded_frames < report.frames / 2,
        "x264 encoded {} of {} frames",
        report.encoded_frames,
        report.frames
    );
    assert!(report.encoded_frames + report.patched_frames >= spans.len() as u64);

    let mut lossless = sb.options();
    lossless.output = Some(sb.path("lossless.mp4"));
    lossless.lossless = true;
    reelsmith::render(&c, &lossless).unwrap();

    let (frames, keys) = decode_strict(&sb.path("spliced.mp4"));
    let (reference, _) = decode_strict(&sb.path("lossless.mp4"));
    assert_eq!(frames.len() as u64, report.frames, "decoded frame count");
    assert_eq!(reference.len(), frames.len());

    // Every copy is bit-identical to the picture it repeats (a keyframe inside a span is the
    // same picture encoded again, so it starts a new run).
    let mut copies = 0;
    for s in &spans {
        for i in s.start + 1..s.start + s.len {
            if keys.contains(&(i as i64)) {
                continue;
            }
            let (a, b) = (&frames[i as usize - 1], &frames[i as usize]);
            assert!(a == b, "frame {i} differs from frame {}", i - 1);
            copies += 1;
        }
    }
    assert!(copies > 200, "{copies} copies");

    // Every frame is close to the lossless render: a copy of the wrong picture, or a picture
    // predicted from the wrong reference, would be far off.
    let mut worst = (0.0, 0);
    for (i, (f, r)) in frames.iter().zip(&reference).enumerate() {
        let d = mean_abs_diff(f, r);
        if d > worst.0 {
            worst = (d, i);
        }
    }
    assert!(
        worst.0 < 4.0,
        "frame {} is {:.2} (mean abs RGB) from the lossless render",
        worst.1,
        worst.0
    );

    // Keyframes at least every 10 s (300 frames: x264 keeps 5 s between the pictures it sees,
    // reelsmith adds one where a static run crosses that, and never lets 10 s pass).
    assert_eq!(keys.first(), Some(&0));
    let mut last = 0;
    for &k in keys.iter().chain(std::iter::once(&(report.frames as i64))) {
        assert!(k - last <= 300, "no keyframe between {last} and {k}");
        last = k;
    }
}

#[test]
fn without_splicing_every_frame_is_encoded_and_looks_the_same() {
    let sb = Sandbox::new();
    let photo = sb.png("photo.png", 960, 540, |x, y| {
        [(y * 255 / 540) as u8, (x * 255 / 960) as u8, 128, 255]
    });
    let c = comp(spec(&photo));
    let mut spliced = sb.options();
    spliced.output = Some(sb.path("a.mp4"));
    let a = reelsmith::render(&c, &spliced).unwrap();
    let mut plain = sb.options();
    plain.output = Some(sb.path("b.mp4"));
    plain.skip_repeats = false;
    let b = reelsmith::render(&c, &plain).unwrap();
    assert_eq!(b.encoded_frames, b.frames);
    assert!(a.encoded_frames < b.encoded_frames);
    let (fa, _) = decode_strict(&sb.path("a.mp4"));
    let (fb, _) = decode_strict(&sb.path("b.mp4"));
    assert_eq!(fa.len(), fb.len());
    let mean = fa
        .iter()
        .zip(&fb)
        .map(|(x, y)| mean_abs_diff(x, y))
        .sum::<f64>()
        / fa.len() as f64;
    assert!(
        mean < 2.0,
        "spliced and plain encodes differ by {mean:.2} on average"
    );
}

/// A progress bar creeping over a static slide: each step changes a macroblock or two of one
/// row, and is written as those macroblocks intra-coded over the last x264 picture. Every
/// frame must decode strictly, stay close to a lossless render (in the bar's rows too), and
/// the bar must reach where the timeline says.
#[test]
fn progress_bar_steps_are_patched_and_every_frame_is_right() {
    // 854 wide is not whole macroblocks: the last column's patch repeats the picture's edge.
    for (quality, w, h) in [
        ("fast", 640u32, 360u32),
        ("high", 640, 360),
        ("fast", 854, 480),
    ] {
        let sb = Sandbox::new();
        let c = comp(json!({
            "output": { "width": w, "height": h, "fps": 30, "quality": quality },
            "scenes": [{
                "duration": 10,
                "background": { "type": "linear_gradient", "colors": ["#0B1F3A", "#1B4F72"] },
                "layers": [
                    { "type": "text", "text": "Patched", "size": 48, "y": "40%", "fade_in": 0.5 },
                    { "type": "shape", "width": 120, "height": 40, "fill": "#FFC83D",
                      "x": "50%", "y": "70%", "start": 4 },
                    { "type": "progress_bar", "color": "#FFC83D", "track_color": "#FFFFFF33",
                      "height": 8 }
                ]
            }]
        }));
        let mut opts = sb.options();
        opts.output = Some(sb.path("patched.mp4"));
        let report = reelsmith::render(&c, &opts).unwrap();
        assert_eq!(report.frames, 300);
        assert!(
            report.patched_frames > 100,
            "{quality}: {} of {} frames patched, {} encoded",
            report.patched_frames,
            report.frames,
            report.encoded_frames
        );
        let mut lossless = sb.options();
        lossless.output = Some(sb.path("lossless.mp4"));
        lossless.lossless = true;
        let reference_report = reelsmith::render(&c, &lossless).unwrap();
        assert_eq!(
            reference_report.patched_frames, 0,
            "a lossless reference has no patches (they are coded at the CRF)"
        );
        let (frames, _) = decode_strict(&sb.path("patched.mp4"));
        let (reference, _) = decode_strict(&sb.path("lossless.mp4"));
        assert_eq!(frames.len(), 300, "decoded frame count");

        let (wu, hu) = (w as usize, h as usize);
        let bar_rows = |f: &RgbFrame| -> Vec<u8> { f.as_raw()[(hu - 8) * wu * 3..].to_vec() };
        for (i, (f, r)) in frames.iter().zip(&reference).enumerate() {
            let d = mean_abs_diff(f, r);
            assert!(
                d < 4.0,
                "{quality}: frame {i} is {d:.2} from the lossless render"
            );
            let (bf, br) = (bar_rows(f), bar_rows(r));
            let bd = bf
                .iter()
                .zip(&br)
                .map(|(&x, &y)| f64::from(x.abs_diff(y)))
                .sum::<f64>()
                / bf.len() as f64;
            assert!(bd < 4.0, "{quality}: the bar of frame {i} is {bd:.2} off");
            // The fill ends where the timeline puts it: the width over 300 frames.
            let want = (i as f64 / 299.0 * f64::from(w)).round() as i64;
            let row = (hu - 4) * wu * 3;
            let filled = (0..wu)
                .filter(|&x| {
                    let p = &f.as_raw()[row + x * 3..row + x * 3 + 3];
                    p[0] > 200 && p[1] > 150 && p[2] < 120
                })
                .count() as i64;
            assert!(
                (filled - want).abs() <= 3,
                "{quality}: frame {i} shows {filled} px of bar, want {want}"
            );
        }
    }
}
