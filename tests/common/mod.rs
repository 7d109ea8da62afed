//! Shared helpers: tiny generated fixtures and render-and-decode utilities.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use reelsmith::media::probe::RgbFrame;
use reelsmith::{Composition, RenderOptions, RenderReport};

/// A scratch folder with its own media root, removed at the end of the test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn options(&self) -> RenderOptions {
        RenderOptions::default()
            .with_base_dir(self.dir.path().to_path_buf())
            .with_media_root(self.path("media"))
            .with_output(self.path("out.mp4"))
    }

    pub fn render(&self, spec: serde_json::Value) -> RenderReport {
        let comp = comp(spec);
        reelsmith::render(&comp, &self.options()).unwrap_or_else(|e| panic!("render failed: {e}"))
    }

    /// Temp folders and partial files left behind anywhere in the sandbox.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(self.dir.path(), &mut found);
        found
            .into_iter()
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                name.starts_with("render-") || name.ends_with(".partial")
            })
            .collect()
    }

    /// Writes a PNG from a closure giving each pixel's RGBA.
    pub fn png(&self, name: &str, w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> PathBuf {
        let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba(f(x, y)));
        let p = self.path(name);
        img.save(&p).expect("save png");
        p
    }

    /// Writes a 16-bit mono WAV of `samples` (f64, full scale = 1) at `rate`.
    pub fn wav(&self, name: &str, rate: u32, samples: impl IntoIterator<Item = f64>) -> PathBuf {
        let p = self.path(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&p, spec).expect("wav");
        for s in samples {
            w.write_sample((s * 32767.0).round() as i16)
                .expect("sample");
        }
        w.finalize().expect("finalize");
        p
    }

    /// Writes a 16-bit mono WAV sine tone.
    pub fn tone_wav(
        &self,
        name: &str,
        rate: u32,
        seconds: f64,
        hz: f64,
        amplitude: f64,
    ) -> PathBuf {
        let n = (seconds * f64::from(rate)) as u64;
        self.wav(name, rate, (0..n).map(|i| sine(i, rate, hz) * amplitude))
    }
}

/// The samples of a mastered-audio file (`pipeline::render_pcm`: interleaved f32, LE).
pub fn mastered_samples(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .expect("read the mastered samples")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Sample `i` of a unit sine at `hz` and `rate`.
pub fn sine(i: u64, rate: u32, hz: f64) -> f64 {
    (i as f64 / f64::from(rate) * hz * std::f64::consts::TAU).sin()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                walk(&p, out);
            }
        }
    }
}

pub fn comp(spec: serde_json::Value) -> Composition {
    Composition::from_json(&spec.to_string()).unwrap_or_else(|e| panic!("bad test spec: {e}"))
}

/// Decodes every frame of a video.
pub fn frames(path: &Path) -> Vec<RgbFrame> {
    let mut v = Vec::new();
    reelsmith::media::probe::decode_video(path, |_, f| {
        v.push(f.clone());
        true
    })
    .unwrap_or_else(|e| panic!("decode failed: {e}"));
    v
}

pub fn px(f: &RgbFrame, x: u32, y: u32) -> [u8; 3] {
    f.get_pixel(x, y).0
}

/// Asserts each channel is within `tol` of `want`.
pub fn assert_close(got: [u8; 3], want: [u8; 3], tol: u8, what: &str) {
    for c in 0..3 {
        let d = (i16::from(got[c]) - i16::from(want[c])).unsigned_abs();
        assert!(
            d <= u16::from(tol),
            "{what}: got {got:?}, want {want:?} ±{tol}"
        );
    }
}

/// BT.709 luma of an RGB pixel (0..255).
pub fn luma(p: [u8; 3]) -> f64 {
    0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
}

/// Decodes every frame with libav's strictest error detection: any bitstream problem fails.
/// Returns the frames and the presentation indices (at 30 fps) of the keyframe packets.
pub fn decode_strict(path: &Path) -> (Vec<RgbFrame>, Vec<i64>) {
    ff::init().unwrap();
    let mut ictx = ff::format::input(&path).unwrap();
    let st = ictx.streams().best(ff::media::Type::Video).unwrap();
    let index = st.index();
    let tb = st.time_base();
    let ctx = ff::codec::context::Context::from_parameters(st.parameters()).unwrap();
    let mut opts = ff::Dictionary::new();
    opts.set("err_detect", "crccheck+bitstream+buffer+explode");
    let codec = ff::decoder::find(ff::codec::Id::H264).unwrap();
    let mut dec = ctx
        .decoder()
        .open_as_with(codec, opts)
        .unwrap()
        .video()
        .unwrap();
    let mut keys = Vec::new();
    let mut yuv = Vec::new();
    let mut frame = ff::frame::Video::empty();
    let mut take = |dec: &mut ff::decoder::Video, yuv: &mut Vec<ff::frame::Video>| {
        while dec.receive_frame(&mut frame).is_ok() {
            yuv.push(frame.clone());
        }
    };
    for (s, packet) in ictx.packets() {
        if s.index() != index {
            continue;
        }
        if packet.is_key() {
            let pts = packet.pts().unwrap();
            keys.push((pts as f64 * f64::from(tb) * 30.0).round() as i64);
        }
        dec.send_packet(&packet)
            .unwrap_or_else(|e| panic!("decode error: {e}"));
        take(&mut dec, &mut yuv);
    }
    dec.send_eof().unwrap();
    take(&mut dec, &mut yuv);
    let mut scaler = ff::software::scaling::Context::get(
        dec.format(),
        dec.width(),
        dec.height(),
        ff::format::Pixel::RGB24,
        dec.width(),
        dec.height(),
        ff::software::scaling::Flags::POINT,
    )
    .unwrap();
    let frames = yuv
        .iter()
        .map(|f| {
            let mut rgb = ff::frame::Video::empty();
            scaler.run(f, &mut rgb).unwrap();
            let (w, h) = (rgb.width(), rgb.height());
            let stride = rgb.stride(0);
            let mut img = RgbFrame::new(w, h);
            for y in 0..h as usize {
                let row = &rgb.data(0)[y * stride..y * stride + w as usize * 3];
                img.as_mut()[y * w as usize * 3..(y + 1) * w as usize * 3].copy_from_slice(row);
            }
            img
        })
        .collect();
    keys.sort_unstable();
    (frames, keys)
}

pub fn mean_abs_diff(a: &RgbFrame, b: &RgbFrame) -> f64 {
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// Starts the real `reelsmith serve --addr 127.0.0.1:0 --media MEDIA ARGS…` (its log appended
/// to `MEDIA.log`) and returns the process and its base URL, read from its first line.
pub fn spawn_serve(media: &Path, args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(media.with_extension("log"))
        .expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .args(["serve", "--addr", "127.0.0.1:0", "--media"])
        .arg(media)
        .args(args)
        .env("REELSMITH_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start reelsmith serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the address");
    let base = line
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, base)
}
