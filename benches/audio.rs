//! Audio stage costs on the example training module: decode + resample (Mixer::load),
//! mastering analysis (Master::new: measure, rehearse), and streaming the delivered
//! audio the way the encoder pulls it (1024-sample chunks). Prints medians of 5 runs.
//!
//! cargo bench --bench audio

use std::time::Instant;

use reelsmith::audio::master::Master;
use reelsmith::audio::mix::Mixer;

mod common;
use common::median;

fn main() {
    let plan = common::module_plan();
    let (mut load, mut analyse, mut stream) = (vec![], vec![], vec![]);
    for _ in 0..5 {
        let t = Instant::now();
        let mixer = Mixer::load(&plan, Some(&std::env::temp_dir())).expect("load");
        load.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut master = Master::new(mixer, &plan.loudness);
        analyse.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut buf = vec![0f32; 2048];
        let total = master.total_samples();
        let mut done = 0;
        while done < total {
            let n = 1024.min(total - done) as usize;
            master.fill_next(&mut buf[..n * 2]);
            done += n as u64;
        }
        stream.push(t.elapsed().as_secs_f64());
    }
    let secs = plan.duration_s();
    println!(
        "audio of examples/training-module.json ({secs:.0} s of timeline, {} tracks), median of 5:",
        plan.tracks.len()
    );
    println!("{:<28} {:>9} {:>12}", "step", "seconds", "x realtime");
    for (name, v) in [
        ("decode + resample (load)", load),
        ("master analysis (new)", analyse),
        ("stream to encoder", stream),
    ] {
        let m = median(v);
        println!("{name:<28} {m:>9.3} {:>12.0}", secs / m);
    }
}
