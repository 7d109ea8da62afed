//! Encoder costs at 1080p30 (x264 veryfast CRF 23, the "fast" quality): 150 frames of a
//! static slide, encoded plainly (every repeat sent to x264, B-frames as x264 likes) and with
//! repeats spliced in as all-skip copies; and 150 frames of a slow zoom (every frame differs),
//! plainly and with the splicing settings (B-frames never references). Prints ms per frame of
//! the encoder thread (x264 uses its own threads too, so the CPU time is also shown), bytes per
//! frame. Medians of 3 runs.
//!
//! cargo bench --bench encode

use std::time::Instant;

use reelsmith::audio::Mixer;
use reelsmith::compose::YuvFrame;
use reelsmith::encode::{Encoder, EncoderConfig};
use reelsmith::master::Master;
use reelsmith::timeline::{Fps, PlanLoudness};

const W: u32 = 1920;
const H: u32 = 1080;
const N: u64 = 150;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn cpu_s() -> f64 {
    reelsmith::report::process_cpu_s().unwrap_or(0.0)
}

/// A slide-like picture: a gradient with some text-like detail; `shift` moves a zoom.
fn picture(zoom: f64) -> YuvFrame {
    let (cw, ch) = ((W / 2) as usize, (H / 2) as usize);
    let mut y = vec![0u8; (W * H) as usize];
    let (cx, cy) = (f64::from(W) / 2.0, f64::from(H) / 2.0);
    for r in 0..H as usize {
        for c in 0..W as usize {
            let sx = (c as f64 - cx) / zoom + cx;
            let sy = (r as f64 - cy) / zoom + cy;
            let stripe = if ((sx / 37.0).sin() * (sy / 23.0).cos()) > 0.6 {
                60.0
            } else {
                0.0
            };
            y[r * W as usize + c] = (40.0 + sy / 12.0 + stripe).clamp(16.0, 235.0) as u8;
        }
    }
    YuvFrame {
        width: W,
        height: H,
        y,
        u: vec![140; cw * ch],
        v: vec![110; cw * ch],
    }
}

fn run(frames: &[YuvFrame], repeat: u64, skip_repeats: bool) -> (f64, f64, u64) {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = EncoderConfig {
        width: W,
        height: H,
        fps: Fps { num: 30, den: 1 },
        preset: "veryfast",
        crf: 23,
        audio_bitrate: 128_000,
        skip_repeats,
        patches: skip_repeats,
        lossless: false,
        x264_params: None,
        threads: 0,
        fail_at_frame: None,
    };
    let (t, c) = (Instant::now(), cpu_s());
    let (mut enc, aac) = Encoder::create(&dir.path().join("out.mp4"), &cfg).expect("encoder");
    // No audio: the (empty) audio stream is complete before the first picture.
    let loudness = PlanLoudness {
        normalize: false,
        target_lufs: -16.0,
        ceiling_db: -1.0,
    };
    let _ = aac.run(&mut Master::new(Mixer::silence(0), &loudness), 0);
    for f in frames {
        enc.push(f, repeat, |_| {}).expect("push");
    }
    let stats = enc.finish().expect("finish");
    (t.elapsed().as_secs_f64(), cpu_s() - c, stats.video_bytes)
}

fn main() {
    let slide = vec![picture(1.0)];
    let zoom: Vec<YuvFrame> = (0..N).map(|i| picture(1.0 + i as f64 * 0.0007)).collect();
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
