//! Encoder costs at 1080p30 (x264 veryfast CRF 23, the "fast" quality): 150 frames of a
//! static slide, encoded plainly (every repeat sent to x264, B-frames as x264 likes) and with
//! repeats spliced in as all-skip copies; and 150 frames of a slow zoom (every frame differs),
//! plainly and with the splicing settings (B-frames never references). Prints ms per frame of
//! the encoder thread (x264 uses its own threads too, so the CPU time is also shown), bytes per
//! frame. Medians of 3 runs.
//!
//! cargo bench --bench encode

use std::time::Instant;

use reelsmith::compose::frame::YuvFrame;

mod common;
use common::median;

const N: u64 = 150;

fn cpu_s() -> f64 {
    reelsmith::pipeline::report::process_cpu_s().unwrap_or(0.0)
}

fn run(frames: &[YuvFrame], repeat: u64, skip_repeats: bool) -> (f64, f64, u64) {
    let (t, c) = (Instant::now(), cpu_s());
    let stats = common::encode(frames, repeat, skip_repeats);
    (t.elapsed().as_secs_f64(), cpu_s() - c, stats.video_bytes)
}

fn main() {
    let slide = vec![common::zoomed_picture(1.0)];
    let zoom: Vec<YuvFrame> = (0..N)
        .map(|i| common::zoomed_picture(1.0 + i as f64 * 0.0007))
        .collect();
    println!("encoder, 1920x1080, x264 veryfast CRF 23, {N} frames, medians of 3 runs");
    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "case", "ms/frame", "CPU ms/fr", "bytes/frame"
    );
    for (name, frames, repeat, skip) in [
        ("static slide, every repeat encoded", &slide, N, false),
        (
            "static slide, repeats spliced as skip copies",
            &slide,
            N,
            true,
        ),
        ("slow zoom, plain x264 (B-pyramid)", &zoom, 1, false),
        ("slow zoom, splice settings (no B-pyramid)", &zoom, 1, true),
    ] {
        let runs: Vec<(f64, f64, u64)> = (0..3).map(|_| run(frames, repeat, skip)).collect();
        let n = N as f64;
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>12.0}",
            name,
            median(runs.iter().map(|r| r.0 * 1e3 / n).collect()),
            median(runs.iter().map(|r| r.1 * 1e3 / n).collect()),
            median(runs.iter().map(|r| r.2 as f64 / n).collect()),
        );
    }
}
