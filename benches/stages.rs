//! The per-stage hot paths under criterion, for statistics and before/after comparisons:
//! criterion repeats each case, reports a confidence interval and, against a saved baseline,
//! whether a change is real or noise (this machine's runs spread by ±10%).
//!
//!     cargo bench --bench stages -- --save-baseline before   # on the old build
//!     cargo bench --bench stages -- --baseline before        # on the new one: "change: ..."
//!     cargo bench --bench stages -- compose                  # one group
//!
//! Groups: `prepare` (resolve and rasterize a bullet slide), `compose` (one 1080p picture of
//! each kind, drawn and converted to YUV), `audio` (mixing one second of the training
//! module), `video` (decoding clip frames to RGBA at 1080p), `encode` (x264 on 30 moving
//! frames, and 30 frames of a still picture spliced as skip copies). The other benches
//! (`cargo bench --bench motion|text|audio|video|encode`) print the same costs in the units
//! of their stage (ms per frame, x realtime, frames/s, bytes per frame) in one table.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use reelsmith::assets::{self, Prepared};
use reelsmith::audio::Mixer;
use reelsmith::compose::{self, Backgrounds, YuvFrame};
use reelsmith::encode::{Encoder, EncoderConfig};
use reelsmith::master::Master;
use reelsmith::raster::Raster;
use reelsmith::timeline::{Fps, Plan, PlanLoudness, Span};
use reelsmith::video::{ClipReader, ClipTiming};
use reelsmith::{Composition, RenderOptions};

const SLIDE: &str = r##"{
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
        "start": 1, "end": 11 }
    ]
  }]
}"##;

fn planned(spec: &str, base_dir: &std::path::Path) -> (Plan, Prepared) {
    let comp = Composition::from_json(spec).expect("spec");
    let opts = RenderOptions {
        base_dir: base_dir.into(),
        ..RenderOptions::default()
    };
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    let prepared = assets::prepare(&plan).expect("prepare");
    (plan, prepared)
}

fn prepare(c: &mut Criterion) {
    let comp = Composition::from_json(SLIDE).expect("spec");
    let opts = RenderOptions::default();
    let mut g = c.benchmark_group("prepare");
    g.sample_size(20);
    g.bench_function("resolve a bullet slide (shape, place, fit)", |b| {
        b.iter(|| reelsmith::pipeline::plan(&comp, &opts).expect("plan"))
    });
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    g.bench_function("rasterize a bullet slide's texts", |b| {
        b.iter(|| assets::prepare(&plan).expect("prepare"))
    });
    g.finish();
}

fn compose_group(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let photo = image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    photo.save(dir.path().join("photo.png")).expect("photo");
    let spec = r##"{
      "output": { "width": 1920, "height": 1080, "fps": 30 },
      "scenes": [
        { "duration": 4, "background": { "type": "image", "src": "photo.png", "motion": "zoom_in" },
          "layers": [{ "type": "lower_third", "title": "Plan the route", "subtitle": "Safe lifting" }] },
        { "duration": 4, "transition": "crossfade",
          "background": { "type": "image", "src": "photo.png", "motion": "pan_left" } }
      ]
    }"##;
    let (plan, prepared) = planned(spec, dir.path());
    let spans = plan.spans();
    let mut backgrounds = Backgrounds::default();
    backgrounds.keep_only(&plan, &prepared, &spans);
    let (slide_plan, slide_prepared) = planned(SLIDE, dir.path());
    let slide_spans = slide_plan.spans();
    let mut slide_backgrounds = Backgrounds::default();
    slide_backgrounds.keep_only(&slide_plan, &slide_prepared, &slide_spans);

    let (mut canvas, mut previous) = (
        Raster::new(plan.width, plan.height),
        Raster::new(plan.width, plan.height),
    );
    let mut frame = YuvFrame::new(plan.width, plan.height);
    let mut g = c.benchmark_group("compose");
    g.sample_size(30);
    let mut case = |name: &str, plan: &Plan, prepared: &Prepared, bg: &Backgrounds, s: Span| {
        g.bench_function(name, |b| {
            b.iter(|| {
                compose::compose_span(plan, prepared, bg, &s, &mut canvas, &mut previous)
                    .expect("compose");
                compose::to_yuv_into(&canvas, &mut frame).expect("yuv");
            })
        });
    };
    let pick =
        |spans: &[Span], f: &dyn Fn(&Span) -> bool| *spans.iter().find(|s| f(s)).expect("a span");
    case(
        "Ken Burns frame + lower third, 1080p",
        &plan,
        &prepared,
        &backgrounds,
        pick(&spans, &|s| s.scene == 0 && s.start > 30),
    );
    case(
        "crossfade of two Ken Burns frames, 1080p",
        &plan,
        &prepared,
        &backgrounds,
        pick(&spans, &|s| s.scene == 1 && s.transition),
    );
    case(
        "bullet slide at rest, 1080p",
        &slide_plan,
        &slide_prepared,
        &slide_backgrounds,
        pick(&slide_spans, &|s| s.start >= 300),
    );
    let still = Raster::new(plan.width, plan.height);
    g.bench_function("RGBA to YUV 4:2:0 only, 1080p", |b| {
        b.iter(|| compose::to_yuv_into(&still, &mut frame).expect("yuv"))
    });
    g.finish();
}

fn audio(c: &mut Criterion) {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/training-module.json");
    let (comp, base_dir) = reelsmith::load_spec(spec.as_ref()).expect("spec");
    let opts = RenderOptions {
        base_dir,
        ..RenderOptions::default()
    };
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    let mixer = Mixer::load(&plan, Some(&std::env::temp_dir())).expect("load");
    let mut buf = vec![0f32; 2 * 48_000];
    let mut g = c.benchmark_group("audio");
    g.sample_size(30);
    g.bench_function("mix one second of the training module", |b| {
        b.iter(|| mixer.fill(60 * 48_000, &mut buf))
    });
    g.finish();
}

fn video(c: &mut Criterion) {
    let clip = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/media/stock/video/warehouse-walk.mp4"
    );
    let mut g = c.benchmark_group("video");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("open a 720p clip, decode 30 frames to RGBA at 1080p", |b| {
        b.iter(|| {
            let mut r = ClipReader::open(
                clip.as_ref(),
                &ClipTiming::default(),
                (30, 1),
                Some((1920, 1080)),
                30,
            )
            .expect("open");
            for _ in 0..30 {
                std::hint::black_box(r.next_frame().expect("frame"));
            }
        })
    });
    g.finish();
}

/// A 1080p picture with detail, zoomed by `zoom` about the centre.
fn picture(zoom: f64) -> YuvFrame {
    let (w, h) = (1920usize, 1080usize);
    let mut f = YuvFrame::new(w as u32, h as u32);
    for r in 0..h {
        for c in 0..w {
            let sx = (c as f64 - 960.0) / zoom + 960.0;
            let sy = (r as f64 - 540.0) / zoom + 540.0;
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

fn encode(c: &mut Criterion) {
    let moving: Vec<YuvFrame> = (0..30)
        .map(|i| picture(1.0 + f64::from(i) * 0.0007))
        .collect();
    let still = picture(1.0);
    let run = |frames: &[YuvFrame], repeat: u64| {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = EncoderConfig {
            width: 1920,
            height: 1080,
            fps: Fps { num: 30, den: 1 },
            preset: "veryfast",
            crf: 23,
            audio_bitrate: 128_000,
            skip_repeats: true,
            patches: true,
            lossless: false,
            x264_params: None,
            threads: 0,
            fail_at_frame: None,
        };
        let (mut enc, aac) = Encoder::create(&dir.path().join("out.mp4"), &cfg).expect("encoder");
        let loudness = PlanLoudness {
            normalize: false,
            target_lufs: -16.0,
            ceiling_db: -1.0,
        };
        let _ = aac.run(&mut Master::new(Mixer::silence(0), &loudness), 0);
        for f in frames {
            enc.push(f, repeat, |_| {}).expect("push");
        }
        enc.finish().expect("finish")
    };
    let mut g = c.benchmark_group("encode");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("x264, 30 moving 1080p frames (open to trailer)", |b| {
        b.iter(|| run(&moving, 1))
    });
    g.bench_function(
        "30 frames of a still 1080p picture, spliced (open to trailer)",
        |b| b.iter(|| run(std::slice::from_ref(&still), 30)),
    );
    g.finish();
}

criterion_group!(benches, prepare, compose_group, audio, video, encode);
criterion_main!(benches);
