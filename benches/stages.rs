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
use reelsmith::audio::mix::Mixer;
use reelsmith::base::raster::Raster;
use reelsmith::compose::frame::{self, Backgrounds, YuvFrame};
use reelsmith::compose::prepare::{self, Prepared};
use reelsmith::media::clip::{ClipReader, ClipTiming};
use reelsmith::plan::{Plan, Span};
use reelsmith::{Composition, RenderOptions};

mod common;

fn prepare(c: &mut Criterion) {
    let comp = Composition::from_json(common::SLIDE).expect("spec");
    let opts = RenderOptions::default();
    let mut g = c.benchmark_group("prepare");
    g.sample_size(20);
    g.bench_function("resolve a bullet slide (shape, place, fit)", |b| {
        b.iter(|| reelsmith::pipeline::plan(&comp, &opts).expect("plan"))
    });
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    g.bench_function("rasterize a bullet slide's texts", |b| {
        b.iter(|| prepare::prepare(&plan).expect("prepare"))
    });
    g.finish();
}

fn compose_group(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_photo(dir.path());
    let (plan, prepared) = common::plan_and_prepare(common::PHOTO_SLIDES, dir.path());
    let (spans, backgrounds) = common::spans_and_backgrounds(&plan, &prepared);
    let (slide_plan, slide_prepared) = common::plan_and_prepare(common::SLIDE, dir.path());
    let (slide_spans, slide_backgrounds) =
        common::spans_and_backgrounds(&slide_plan, &slide_prepared);

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
                frame::compose_span(plan, prepared, bg, &s, &mut canvas, &mut previous)
                    .expect("compose");
                frame::to_yuv_into(&canvas, &mut frame).expect("yuv");
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
        b.iter(|| frame::to_yuv_into(&still, &mut frame).expect("yuv"))
    });
    g.finish();
}

fn audio(c: &mut Criterion) {
    let plan = common::module_plan();
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

fn encode(c: &mut Criterion) {
    let moving: Vec<YuvFrame> = (0..30)
        .map(|i| common::zoomed_picture(1.0 + f64::from(i) * 0.0007))
        .collect();
    let still = common::zoomed_picture(1.0);
    let mut g = c.benchmark_group("encode");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("x264, 30 moving 1080p frames (open to trailer)", |b| {
        b.iter(|| common::encode(&moving, 1, true))
    });
    g.bench_function(
        "30 frames of a still 1080p picture, spliced (open to trailer)",
        |b| b.iter(|| common::encode(std::slice::from_ref(&still), 30, true)),
    );
    g.finish();
}

criterion_group!(benches, prepare, compose_group, audio, video, encode);
criterion_main!(benches);
