//! What the benches share: the slides and set-ups they measure, so that the table benches and
//! the criterion suite (`stages`) time the same work.
// Each bench uses part of this module.
#![allow(dead_code)]

use std::path::Path;

use reelsmith::audio::master::Master;
use reelsmith::audio::mix::Mixer;
use reelsmith::compose::frame::{Backgrounds, YuvFrame};
use reelsmith::compose::prepare::{self, Prepared};
use reelsmith::encode::{EncodeStats, Encoder, EncoderConfig};
use reelsmith::plan::{Fps, Plan, PlanLoudness, Span};
use reelsmith::{Composition, RenderOptions};

/// The median of `v` (upper middle for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A 12 s bullet slide at 1080p: six items revealed one by one over a gradient, a lower third
/// and a caption typing itself from 8 s to 10 s.
pub const SLIDE: &str = r##"{
  "output": { "width": 1920, "height": 1080, "fps": 30 },
  "scenes": [{
    "duration": 12,
    "background": { "type": "linear_gradient", "colors": ["#10243E", "#1E3A5F"] },
    "layers": [
      { "type": "text", "text": "Before you lift", "size": 72, "weight": "bold",
        "x": "8%", "y": "10%", "anchor": "top-left" },
      { "type": "bullets", "reveal": 1.2, "y": "28%", "items": [
        "Check the load's weight, shape and grip points",
        "Ask for help with anything over 25 kg",
        { "text": "Use a trolley for long distances", "level": 1 },
        "Clear the route before you pick anything up",
        "Bend your knees and keep your back straight",
        "Hold the load close to your waist" ] },
      { "type": "lower_third", "title": "Dana Okafor", "subtitle": "Site safety lead",
        "start": 1, "end": 11 },
      { "type": "text", "text": "Keep the load close to your body at all times.",
        "size": 40, "y": "93%", "start": 8,
        "animate_in": { "effect": "typewriter", "duration": 2 } }
    ]
  }]
}"##;

/// Three 4 s photo slides at 1080p over `photo.jpg` (see [`write_photo`]): a zoom under a lower
/// third, then a pan after a crossfade, then a zoom out after a push.
pub const PHOTO_SLIDES: &str = r##"{
  "output": { "width": 1920, "height": 1080, "fps": 30 },
  "scenes": [
    { "duration": 4, "background": { "type": "image", "src": "photo.jpg", "motion": "zoom_in" },
      "layers": [{ "type": "lower_third", "title": "Plan the route", "subtitle": "Safe lifting" }] },
    { "duration": 4, "transition": "crossfade",
      "background": { "type": "image", "src": "photo.jpg", "motion": "pan_left" } },
    { "duration": 4, "transition": "push_left",
      "background": { "type": "image", "src": "photo.jpg", "motion": "zoom_out" } }
  ]
}"##;

/// Writes a detailed 3000x2000 "photo" as `dir/photo.jpg`.
pub fn write_photo(dir: &Path) {
    let photo = image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    photo.save(dir.join("photo.jpg")).expect("photo");
}

/// Resolves `spec` (assets relative to `base_dir`) and prepares its assets.
pub fn plan_and_prepare(spec: &str, base_dir: &Path) -> (Plan, Prepared) {
    let comp = Composition::from_json(spec).expect("spec");
    let opts = RenderOptions::default().with_base_dir(base_dir);
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    let prepared = prepare::prepare(&plan).expect("prepare");
    (plan, prepared)
}

/// The spans of `plan` and the backgrounds of all its scenes, ready to compose any of them.
pub fn spans_and_backgrounds(plan: &Plan, prepared: &Prepared) -> (Vec<Span>, Backgrounds) {
    let spans = plan.spans();
    let mut backgrounds = Backgrounds::default();
    backgrounds.keep_only(plan, prepared, &spans);
    (spans, backgrounds)
}

/// The plan of `examples/training-module.json`.
pub fn module_plan() -> Plan {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/training-module.json");
    let (comp, base_dir) = reelsmith::load_spec(spec.as_ref()).expect("spec");
    let opts = RenderOptions::default().with_base_dir(base_dir);
    reelsmith::pipeline::plan(&comp, &opts).expect("plan")
}

/// A slide-like 1920x1080 picture (a gradient with stripes of detail) zoomed by `zoom` about
/// its centre.
pub fn zoomed_picture(zoom: f64) -> YuvFrame {
    let (w, h) = (1920usize, 1080usize);
    let mut f = YuvFrame::new(w as u32, h as u32);
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    for r in 0..h {
        for c in 0..w {
            let sx = (c as f64 - cx) / zoom + cx;
            let sy = (r as f64 - cy) / zoom + cy;
            let stripe = if (sx / 37.0).sin() * (sy / 23.0).cos() > 0.6 {
                60.0
            } else {
                0.0
            };
            f.y[r * w + c] = (40.0 + sy / 12.0 + stripe).clamp(16.0, 235.0) as u8;
        }
    }
    f.u.fill(140);
    f.v.fill(110);
    f
}

/// Encodes `frames` at 1080p30, x264 veryfast CRF 23, each shown `repeat` times, with no
/// audio, into a temporary MP4: from opening the encoder to the trailer. `skip_repeats`
/// splices repeats (and patches) as reelsmith does; without it every frame goes to x264.
pub fn encode(frames: &[YuvFrame], repeat: u64, skip_repeats: bool) -> EncodeStats {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = EncoderConfig {
        width: 1920,
        height: 1080,
        fps: Fps { num: 30, den: 1 },
        preset: "veryfast",
        crf: 23,
        audio_bitrate: 128_000,
        audio_chunk: 0,
        skip_repeats,
        patches: skip_repeats,
        lossless: false,
        x264_params: None,
        threads: 0,
        segments: false,
        #[cfg(feature = "fault-injection")]
        fail_at_frame: None,
        captions: None,
        chapters: Vec::new(),
        hold: reelsmith::encode::HOLD_FRAMES,
    };
    let (mut enc, aac) = Encoder::create(&dir.path().join("out.mp4"), &cfg).expect("encoder");
    // No audio: the (empty) audio stream is complete before the first picture.
    let loudness = PlanLoudness {
        normalize: false,
        target_lufs: -16.0,
        ceiling_db: -1.0,
    };
    let _ = aac.run(&mut Master::new(Mixer::silence(0), &loudness), 0, None);
    for f in frames {
        enc.push(f, repeat, |_| {}).expect("push");
    }
    enc.finish().expect("finish")
}
