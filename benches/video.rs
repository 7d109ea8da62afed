//! Video clip decode throughput: a 10 s 1920x1080 H.264 clip with motion (made on the first
//! run with libx264 veryfast CRF 23 and kept under target/tmp), delivered through
//! `ClipReader` as premultiplied RGBA. Prints frames/s, median of 3 runs, per configuration,
//! next to libav's bare decode of the same file (no conversion) for reference.
//!
//! cargo bench --bench video

use std::path::{Path, PathBuf};
use std::time::Instant;

use ffmpeg_next as ff;
use reelsmith::media::clip::{ClipReader, ClipTiming};

const W: u32 = 1920;
const H: u32 = 1080;
const FRAMES: u32 = 300;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Moving diagonal gradient, a bright square crossing the frame, chroma drift and a little
/// per-pixel noise, so the encoder (and decoder) have real work.
fn make_clip(path: &Path) {
    ff::init().expect("libav");
    ff::util::log::set_level(ff::util::log::Level::Error);
    let mut octx = ff::format::output_as(path, "mp4").expect("output");
    let x264 = ff::encoder::find_by_name("libx264").expect("libx264");
    let tb = ff::Rational(1, 30);
    let mut v = ff::codec::context::Context::new_with_codec(x264)
        .encoder()
        .video()
        .expect("ctx");
    v.set_width(W);
    v.set_height(H);
    v.set_format(ff::format::Pixel::YUV420P);
    v.set_time_base(tb);
    v.set_frame_rate(Some(ff::Rational(30, 1)));
    v.set_colorspace(ff::color::Space::BT709);
    v.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    let mut opts = ff::Dictionary::new();
    opts.set("preset", "veryfast");
    opts.set("crf", "23");
    let mut enc = v.open_as_with(x264, opts).expect("open");
    {
        let mut st = octx.add_stream(x264).expect("stream");
        st.set_parameters(&enc);
        st.set_time_base(tb);
    }
    let mut mux = ff::Dictionary::new();
    mux.set("movflags", "+faststart");
    octx.write_header_with(mux).expect("header");
    let st_tb = octx.stream(0).expect("stream").time_base();
    let drain = |enc: &mut ff::encoder::Video, octx: &mut ff::format::context::Output| {
        let mut p = ff::Packet::empty();
        while enc.receive_packet(&mut p).is_ok() {
            p.set_stream(0);
            p.rescale_ts(tb, st_tb);
            p.write_interleaved(octx).expect("write");
        }
    };
    let mut seed = 0x9e37_79b9u32;
    for i in 0..FRAMES {
        let mut f = ff::frame::Video::new(ff::format::Pixel::YUV420P, W, H);
        let stride = f.stride(0);
        let sq = (i * 6) % (W - 200);
        let y = f.data_mut(0);
        for row in 0..H {
            for x in 0..W {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let base = ((x + row + 4 * i) % 220 + 16) as i32;
                let inside = x >= sq && x < sq + 200 && (440..640).contains(&row);
                let v = if inside { 230 } else { base } + (seed % 7) as i32 - 3;
                y[row as usize * stride + x as usize] = v.clamp(16, 235) as u8;
            }
        }
        for plane in 1..3 {
            let stride = f.stride(plane);
            let d = f.data_mut(plane);
            for row in 0..(H / 2) as usize {
                for x in 0..(W / 2) as usize {
                    d[row * stride + x] =
                        (96 + (x / 8 + row / 16 + i as usize + plane * 40) % 64) as u8;
                }
            }
        }
        f.set_pts(Some(i64::from(i)));
        enc.send_frame(&f).expect("send");
        drain(&mut enc, &mut octx);
    }
    enc.send_eof().expect("eof");
    drain(&mut enc, &mut octx);
    octx.write_trailer().expect("trailer");
}

fn clip() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join("bench-1080p-10s.mp4");
    if !p.exists() {
        let t = Instant::now();
        let part = dir.join("bench-1080p-10s.partial.mp4");
        make_clip(&part);
        std::fs::rename(&part, &p).expect("rename");
        eprintln!("made {} in {:.1} s", p.display(), t.elapsed().as_secs_f64());
    }
    p
}

/// libav alone: demux + decode every frame (auto frame threads), no conversion.
fn bare_decode(path: &Path) -> u64 {
    let mut ictx = ff::format::input(path).expect("input");
    let st = ictx.streams().best(ff::media::Type::Video).expect("video");
    let idx = st.index();
    let mut ctx = ff::codec::context::Context::from_parameters(st.parameters()).expect("ctx");
    ctx.set_threading(ff::threading::Config {
        kind: ff::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let mut dec = ctx.decoder().video().expect("decoder");
    let mut frame = ff::frame::Video::empty();
    let mut n = 0;
    for (s, p) in ictx.packets() {
        if s.index() == idx {
            dec.send_packet(&p).expect("packet");
            while dec.receive_frame(&mut frame).is_ok() {
                n += 1;
            }
        }
    }
    dec.send_eof().expect("eof");
    while dec.receive_frame(&mut frame).is_ok() {
        n += 1;
    }
    n
}

fn main() {
    let path = clip();
    println!(
        "{:<44} {:>8} {:>10} {:>10}",
        "configuration (10 s 1080p30 H.264)", "frames", "median s", "frames/s"
    );
    let row = |name: &str, run: &mut dyn FnMut() -> u64| {
        let mut times = Vec::new();
        let mut frames = 0;
        for _ in 0..3 {
            let t = Instant::now();
            frames = run();
            times.push(t.elapsed().as_secs_f64());
        }
        let m = median(times);
        println!(
            "{name:<44} {frames:>8} {m:>10.3} {:>10.1}",
            frames as f64 / m
        );
    };
    row("libav decode only (no conversion)", &mut || {
        bare_decode(&path)
    });
    for (name, size, rate) in [
        ("ClipReader -> RGBA 1920x1080", None, 1.0),
        ("ClipReader -> RGBA 960x540 (area)", Some((960, 540)), 1.0),
        ("ClipReader -> RGBA 1920x1080, rate 2", None, 2.0),
    ] {
        row(name, &mut || {
            let timing = ClipTiming {
                rate,
                ..ClipTiming::default()
            };
            let n = (f64::from(FRAMES) / rate) as u64;
            let mut r = ClipReader::open(&path, &timing, (30, 1), size, n).expect("open");
            let mut sum = 0u64;
            for _ in 0..n {
                let pic = r.next_frame().expect("frame");
                sum += u64::from(pic.data[pic.data.len() / 2]);
            }
            std::hint::black_box(sum);
            n
        });
    }
}
