//! Motion costs at 1080p, one thread: composing one frame of a Ken Burns photo slide (a 3000 px
//! photo drifting under a lower third, drawn and converted to YUV), one frame of a 0.5 s
//! crossfade between two such slides, and one frame of a push. Medians of 15 frames each.
//!
//! cargo bench --bench motion

use std::time::Instant;

use reelsmith::base::raster::Raster;
use reelsmith::compose::frame;

mod common;
use common::median;

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_photo(dir.path());
    let t = Instant::now();
    let (plan, prepared) = common::plan_and_prepare(common::PHOTO_SLIDES, dir.path());
    let prepare_s = t.elapsed().as_secs_f64();
    let (spans, backgrounds) = common::spans_and_backgrounds(&plan, &prepared);
    let (mut canvas, mut prev) = (
        Raster::new(plan.width, plan.height),
        Raster::new(plan.width, plan.height),
    );
    let mut cost = |pick: &dyn Fn(&reelsmith::plan::Span) -> bool| {
        let mut v = vec![];
        for s in spans.iter().filter(|s| pick(s)).take(15) {
            let t = Instant::now();
            frame::compose_span(&plan, &prepared, &backgrounds, s, &mut canvas, &mut prev)
                .expect("compose");
            std::hint::black_box(frame::to_yuv(&canvas).expect("yuv"));
            v.push(t.elapsed().as_secs_f64());
        }
        median(v) * 1e3
    };
    let kb = cost(&|s| s.scene == 0 && s.start > 30);
    let xfade = cost(&|s| s.scene == 1 && s.transition);
    let push = cost(&|s| s.scene == 2 && s.transition);
    let mut still = Raster::new(1920, 1080);
    let static_ms = {
        let mut v = vec![];
        for _ in 0..15 {
            let t = Instant::now();
            still.fill([10, 20, 30, 255]);
            std::hint::black_box(frame::to_yuv(&still).expect("yuv"));
            v.push(t.elapsed().as_secs_f64());
        }
        median(v) * 1e3
    };
    println!("1920x1080, one thread, median of 15 frames");
    println!(
        "{:<52} {:>8.2} ms",
        "prepare (decode 3000x2000 photo, downscale once)",
        prepare_s * 1e3
    );
    println!(
        "{:<52} {:>8.2} ms",
        "Ken Burns frame + lower third (draw + YUV)", kb
    );
    println!(
        "{:<52} {:>8.2} ms",
        "crossfade frame (two Ken Burns frames, mix, YUV)", xfade
    );
    println!(
        "{:<52} {:>8.2} ms",
        "push frame (two Ken Burns frames, mix, YUV)", push
    );
    println!("{:<52} {:>8.2} ms", "reference: fill + YUV only", static_ms);
}
