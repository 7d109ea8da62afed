//! Text and slide-block costs at 1080p: a bullet slide with six items revealed one by one,
//! over a gradient, with a lower third and a typewriter caption. Prints medians of 7 runs of:
//! resolving (shaping for placement and fit), preparing (rasterizing each text once), and
//! composing one frame (draw + RGBA→YUV) at rest, while an item slides in, and while the
//! caption types itself. Also prints how many text rasters were made and how many distinct
//! pictures the 12 s slide needs (static text is rasterized once per scene, not per frame).
//!
//! cargo bench --bench text

use std::time::Instant;

use reelsmith::base::raster::Raster;
use reelsmith::compose::frame::{self, Backgrounds};
use reelsmith::compose::prepare;
use reelsmith::plan::Span;
use reelsmith::{Composition, RenderOptions};

mod common;
use common::median;

fn main() {
    let comp = Composition::from_json(common::SLIDE).expect("spec");
    let opts = RenderOptions::default();
    let (mut resolve, mut prepare) = (vec![], vec![]);
    let mut plan = None;
    let mut prepared = None;
    for _ in 0..7 {
        let t = Instant::now();
        let p = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
        resolve.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let pr = prepare::prepare(&p).expect("prepare");
        prepare.push(t.elapsed().as_secs_f64());
        plan = Some(p);
        prepared = Some(pr);
    }
    let (plan, prepared) = (plan.expect("plan"), prepared.expect("prepared"));
    let spans = plan.spans();
    let mut backgrounds = Backgrounds::default();
    backgrounds.keep_only(&plan, &prepared, &spans[..1]);
    let mut canvas = Raster::new(plan.width, plan.height);
    let mut frame_cost = |frame: u64| {
        let mut v = vec![];
        for _ in 0..15 {
            let t = Instant::now();
            frame::draw(&plan, &prepared, 0, frame, backgrounds.get(0), &mut canvas).expect("draw");
            let yuv = frame::to_yuv(&canvas).expect("yuv");
            std::hint::black_box(yuv);
            v.push(t.elapsed().as_secs_f64());
        }
        median(v) * 1e3
    };
    // 7 s: everything at rest; 3.7 s: item 4 slides in (it appears at 3.6 s); 9 s: typing.
    let rest = frame_cost(210);
    let sliding = frame_cost(111);
    let typing = frame_cost(270);
    let single: Vec<&Span> = spans.iter().filter(|s| s.len > 1).collect();
    println!(
        "bullet slide, 1920x1080, 12 s at 30 fps ({} frames)",
        plan.total_frames
    );
    println!("{:<44} {:>10}", "stage", "median");
    println!(
        "{:<44} {:>8.1} ms",
        "resolve (shape to place and fit)",
        median(resolve) * 1e3
    );
    println!(
        "{:<44} {:>8.1} ms",
        "prepare (rasterize every text once)",
        median(prepare) * 1e3
    );
    println!(
        "{:<44} {:>8.2} ms",
        "compose one frame at rest (draw + YUV)", rest
    );
    println!(
        "{:<44} {:>8.2} ms",
        "compose one frame, an item sliding in", sliding
    );
    println!(
        "{:<44} {:>8.2} ms",
        "compose one frame, caption typing", typing
    );
    println!(
        "text rasters made: {} for {} text layers; distinct pictures: {} of {} frames ({} spans repeat)",
        prepared.texts_rasterized,
        plan.scenes[0].layers.len(),
        spans.len(),
        plan.total_frames,
        single.len()
    );
}
