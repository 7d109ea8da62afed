//! Video clip sources on real media made at test time: frame i of each clip shows the bits of
//! i as a 4x4 grid of black/white cells, so the delivered picture says which source frame it
//! is. Clips are encoded in-process with ffmpeg-next (libx264, MJPEG, libvpx-vp9, AAC).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ffmpeg_next as ff;
use reelsmith::base::raster::Raster;
use reelsmith::media::clip::{clip_info, ClipReader, ClipTiming, VideoError};
use reelsmith::media::clip_audio::clip_audio;

/// How to make a test clip.
#[derive(Clone)]
struct Spec {
    codec: &'static str,
    muxer: &'static str,
    size: (u32, u32),
    /// Frames per second as (num, den).
    fps: (i32, i32),
    frames: u32,
    faststart: bool,
    /// A 1 kHz tone (amplitude 0.5) as 44.1 kHz stereo AAC.
    tone: bool,
    /// Paint the chroma of BT.601 red (Cb 90, Cr 240) and tag the stream with this matrix
    /// (`Unspecified`: leave it untagged); None: neutral grey chroma.
    red: Option<ff::color::Space>,
}

impl Spec {
    fn h264(size: (u32, u32), fps: (i32, i32), frames: u32) -> Spec {
        Spec {
            codec: "libx264",
            muxer: "mp4",
            size,
            fps,
            frames,
            faststart: false,
            tone: false,
            red: None,
        }
    }
}

fn fixture_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("video-fixtures");
    std::fs::create_dir_all(&d).expect("fixture dir");
    d
}

/// The luma picture of frame `i`: cell b of a 4x4 grid (row-major) is white when bit b of i
/// is set.
fn bits_plane(i: u32, w: usize, h: usize, full_range: bool) -> Vec<u8> {
    let (lo, hi) = if full_range { (0, 255) } else { (16, 235) };
    let mut y = vec![lo; w * h];
    for (n, px) in y.iter_mut().enumerate() {
        let (x, row) = (n % w, n / w);
        let cell = (row * 4 / h) * 4 + x * 4 / w;
        if i >> cell & 1 == 1 {
            *px = hi;
        }
    }
    y
}

type Enc = ff::encoder::Encoder;

/// Writes the encoder's packets; `dur`: the duration of one packet in encoder ticks (without
/// it the MP4 edit list leaves the last frame out).
fn drain(
    enc: &mut Enc,
    octx: &mut ff::format::context::Output,
    idx: usize,
    tb: ff::Rational,
    dur: i64,
) {
    let st_tb = octx.stream(idx).expect("stream").time_base();
    let mut p = ff::Packet::empty();
    while enc.receive_packet(&mut p).is_ok() {
        p.set_stream(idx);
        if p.duration() <= 0 {
            p.set_duration(dur);
        }
        p.rescale_ts(tb, st_tb);
        p.write_interleaved(octx).expect("write packet");
    }
}

/// Encodes a clip per `spec` at `path`.
fn encode(path: &Path, spec: &Spec) {
    ff::init().expect("libav");
    ff::util::log::set_level(ff::util::log::Level::Error);
    let mut octx = ff::format::output_as(path, spec.muxer).expect("output");
    let global = octx
        .format()
        .flags()
        .contains(ff::format::Flags::GLOBAL_HEADER);
    let codec = ff::encoder::find_by_name(spec.codec).expect("encoder");
    let mjpeg = spec.codec == "mjpeg";
    let pix = match spec.codec {
        "mjpeg" => ff::format::Pixel::YUVJ420P,
        "prores_ks" => ff::format::Pixel::YUV422P10LE,
        _ => ff::format::Pixel::YUV420P,
    };
    let tb = ff::Rational(spec.fps.1, spec.fps.0);
    let mut v = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .expect("video ctx");
    v.set_width(spec.size.0);
    v.set_height(spec.size.1);
    v.set_format(pix);
    v.set_time_base(tb);
    v.set_frame_rate(Some(ff::Rational(spec.fps.0, spec.fps.1)));
    v.set_gop(12);
    if let Some(space) = spec.red {
        v.set_colorspace(space);
    }
    if mjpeg {
        v.set_color_range(ff::color::Range::JPEG);
        v.set_bit_rate(20_000_000);
    }
    if global {
        v.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = ff::Dictionary::new();
    match spec.codec {
        "libx264" => {
            opts.set("preset", "veryfast");
            opts.set("crf", "16");
        }
        "libvpx-vp9" => {
            opts.set("deadline", "realtime");
            opts.set("cpu-used", "8");
            opts.set("crf", "20");
            opts.set("b", "0");
        }
        _ => {}
    }
    let mut venc = v.open_as_with(codec, opts).expect("open video encoder");
    let vi = {
        let mut st = octx.add_stream(codec).expect("video stream");
        st.set_parameters(&venc);
        st.set_time_base(tb);
        st.index()
    };
    let rate = 44_100;
    let a_tb = ff::Rational(1, rate);
    let mut audio = spec.tone.then(|| {
        let aac = ff::encoder::find(ff::codec::Id::AAC).expect("aac");
        let mut a = ff::codec::context::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .expect("audio ctx");
        a.set_rate(rate);
        a.set_channel_layout(ff::ChannelLayout::STEREO);
        a.set_channels(2);
        a.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
        a.set_bit_rate(128_000);
        a.set_time_base(a_tb);
        if global {
            a.set_flags(ff::codec::Flags::GLOBAL_HEADER);
        }
        let enc = a.open_as(aac).expect("open aac");
        let mut st = octx.add_stream(aac).expect("audio stream");
        st.set_parameters(&enc);
        st.set_time_base(a_tb);
        (enc, st.index(), 0i64)
    });
    let mut mux = ff::Dictionary::new();
    if spec.faststart {
        mux.set("movflags", "+faststart");
    }
    octx.write_header_with(mux).expect("header");
    let (w, h) = (spec.size.0 as usize, spec.size.1 as usize);
    for i in 0..spec.frames {
        let mut f = ff::frame::Video::new(pix, spec.size.0, spec.size.1);
        let y = bits_plane(i, w, h, mjpeg);
        let stride = f.stride(0);
        if pix == ff::format::Pixel::YUV422P10LE {
            // 10 bits in 16-bit little-endian words: 16/235 → 64/940, grey chroma 512.
            for (row, line) in y.chunks_exact(w).enumerate() {
                for (x, &v) in line.iter().enumerate() {
                    let word = (u16::from(v) << 2).to_le_bytes();
                    let at = row * stride + x * 2;
                    f.data_mut(0)[at..at + 2].copy_from_slice(&word);
                }
            }
            for plane in 1..3 {
                for pair in f.data_mut(plane).chunks_exact_mut(2) {
                    pair.copy_from_slice(&512u16.to_le_bytes());
                }
            }
        } else {
            for (row, line) in y.chunks_exact(w).enumerate() {
                f.data_mut(0)[row * stride..row * stride + w].copy_from_slice(line);
            }
            let (cb, cr) = if spec.red.is_some() {
                (90, 240)
            } else {
                (128, 128)
            };
            f.data_mut(1).fill(cb);
            f.data_mut(2).fill(cr);
        }
        f.set_pts(Some(i64::from(i)));
        venc.send_frame(&f).expect("send frame");
        drain(&mut venc, &mut octx, vi, tb, 1);
        if let Some((enc, ai, sent)) = &mut audio {
            // Audio up to the end of this video frame.
            let until =
                i64::from(i + 1) * i64::from(rate) * i64::from(spec.fps.1) / i64::from(spec.fps.0);
            while *sent < until {
                let n = enc.frame_size() as usize;
                let mut af = ff::frame::Audio::new(
                    ff::format::Sample::F32(ff::format::sample::Type::Planar),
                    n,
                    ff::ChannelLayout::STEREO,
                );
                af.set_rate(rate as u32);
                for ch in 0..2 {
                    for (j, s) in af.plane_mut::<f32>(ch).iter_mut().enumerate() {
                        let t = (*sent + j as i64) as f64 / f64::from(rate);
                        *s = 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin() as f32;
                    }
                }
                af.set_pts(Some(*sent));
                enc.send_frame(&af).expect("send audio");
                *sent += n as i64;
                drain(enc, &mut octx, *ai, a_tb, 1024);
            }
        }
    }
    venc.send_eof().expect("eof");
    drain(&mut venc, &mut octx, vi, tb, 1);
    if let Some((enc, ai, _)) = &mut audio {
        enc.send_eof().expect("audio eof");
        drain(enc, &mut octx, *ai, a_tb, 1024);
    }
    octx.write_trailer().expect("trailer");
}

/// Sets the video track's display matrix in an MP4 (the tkhd box) to a clockwise rotation of
/// 90 degrees, as `ffmpeg -display_rotation` / a phone would. ffmpeg-next 9 has no safe way
/// to attach display-matrix side data to an output stream, and FFmpeg 5.1's MP4 muxer ignores
/// the `rotate` tag, so the test edits the box.
fn set_rotation_90(path: &Path, height: u32) {
    let mut b = std::fs::read(path).expect("read mp4");
    let pos = b.windows(4).position(|w| w == b"tkhd").expect("tkhd");
    let version = b[pos + 4];
    let at = pos + 4 + if version == 1 { 52 } else { 40 };
    let m: [i32; 9] = [
        0,
        0x10000,
        0,
        -0x10000,
        0,
        0,
        (height as i32) << 16,
        0,
        0x4000_0000,
    ];
    for (i, v) in m.iter().enumerate() {
        b[at + i * 4..at + i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, b).expect("write mp4");
}

fn make(name: &str, spec: &Spec) -> PathBuf {
    let path = fixture_dir().join(name);
    encode(&path, spec);
    path
}

macro_rules! fixture {
    ($fn_name:ident, $file:expr, $spec:expr) => {
        fn $fn_name() -> &'static Path {
            static P: OnceLock<PathBuf> = OnceLock::new();
            P.get_or_init(|| make($file, &$spec))
        }
    };
}

// 5 s of 160x90 at 29.97 fps.
fixture!(
    h264_ntsc,
    "ntsc.mp4",
    Spec::h264((160, 90), (30000, 1001), 150)
);
// 1 s of 160x90 at 25 fps.
fixture!(
    h264_1s,
    "one-second.mp4",
    Spec::h264((160, 90), (25, 1), 25)
);
// 60 s of 64x36 at 29.97 fps.
fixture!(
    h264_60s,
    "sixty.mp4",
    Spec::h264((64, 36), (30000, 1001), 1798)
);
// 2 s of MJPEG in AVI at 25 fps.
fixture!(
    mjpeg_avi,
    "mjpeg.avi",
    Spec {
        codec: "mjpeg",
        muxer: "avi",
        ..Spec::h264((160, 90), (25, 1), 50)
    }
);
// 2 s of H.264 + a 1 kHz AAC tone, 25 fps.
fixture!(
    tone_mp4,
    "tone.mp4",
    Spec {
        tone: true,
        ..Spec::h264((160, 90), (25, 1), 50)
    }
);
// 4 s at 25 fps, moov first (for truncation).
fixture!(
    faststart_mp4,
    "faststart.mp4",
    Spec {
        faststart: true,
        ..Spec::h264((160, 90), (25, 1), 100)
    }
);

fn rotated_mp4() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let p = make("rotated.mp4", &Spec::h264((160, 90), (25, 1), 25));
        set_rotation_90(&p, 90);
        p
    })
}

/// Reads the frame number back. `rotated`: the picture was turned 90° clockwise for display.
fn read_bits(r: &Raster, rotated: bool) -> u32 {
    let mut n = 0;
    for cell in 0..16 {
        let (u, v) = (
            ((cell % 4) as f64 + 0.5) / 4.0,
            ((cell / 4) as f64 + 0.5) / 4.0,
        );
        // Clockwise: source (u, v) shows at (1 - v, u).
        let (du, dv) = if rotated { (1.0 - v, u) } else { (u, v) };
        let (x, y) = (
            (du * f64::from(r.width)) as u32,
            (dv * f64::from(r.height)) as u32,
        );
        let px = r.pixel(x, y);
        assert_eq!(px[3], 255, "opaque");
        if px[0] > 128 {
            n |= 1 << cell;
        }
    }
    n
}

fn read_all(reader: &mut ClipReader, frames: u64, rotated: bool) -> Vec<u32> {
    (0..frames)
        .map(|_| read_bits(&reader.next_frame().expect("frame"), rotated))
        .collect()
}

#[test]
fn info_of_h264_mp4() {
    let info = clip_info(h264_ntsc()).expect("info");
    assert_eq!((info.width, info.height), (160, 90));
    assert!((info.fps - 30000.0 / 1001.0).abs() < 1e-6, "{}", info.fps);
    assert!((info.duration_s - 150.0 * 1001.0 / 30000.0).abs() < 0.01);
    assert_eq!(info.codec, "h264");
    assert_eq!(info.rotation, 0);
    assert!(!info.has_audio);
    assert!(clip_info(tone_mp4()).expect("info").has_audio);
}

#[test]
fn trim_and_rate_map_exactly() {
    // trim 1 s, rate 2, 25 fps out from 29.97 fps: frame k shows source
    // floor((1 + 2k/25) * 30000/1001), then the last frame (149) is held.
    let timing = ClipTiming {
        trim_start: 1.0,
        rate: 2.0,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(h264_ntsc(), &timing, (25, 1), None, 60).expect("open");
    assert_eq!(r.size(), (160, 90));
    let got = read_all(&mut r, 60, false);
    let want: Vec<u32> = (0..60u64)
        .map(|k| ((25 + 2 * k) * 30000 / (25 * 1001)).min(149) as u32)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn slow_motion_shares_pictures() {
    // Rate 0.5 at the source rate: each source frame shows twice, as one shared picture.
    let timing = ClipTiming {
        rate: 0.5,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(h264_1s(), &timing, (25, 1), None, 10).expect("open");
    let pics: Vec<Arc<Raster>> = (0..10).map(|_| r.next_frame().expect("frame")).collect();
    for (k, p) in pics.iter().enumerate() {
        assert_eq!(read_bits(p, false), k as u32 / 2);
    }
    assert!(Arc::ptr_eq(&pics[2], &pics[3]));
    assert!(!Arc::ptr_eq(&pics[3], &pics[4]));
}

#[test]
fn sixty_seconds_do_not_drift() {
    // 29.97 fps source read at 30 fps: frame k shows floor(k * 1000/1001), all 1800 frames.
    let mut r =
        ClipReader::open(h264_60s(), &ClipTiming::default(), (30, 1), None, 1800).expect("open");
    let mut worst = 0i64;
    for k in 0..1800u64 {
        let got = i64::from(read_bits(&r.next_frame().expect("frame"), false));
        let want = (k * 1000 / 1001) as i64;
        worst = worst.max((got - want).abs());
    }
    assert_eq!(worst, 0, "largest deviation from the exact source frame");
}

#[test]
fn loop_wraps_to_trim_start() {
    // A 1 s clip looped, read at 10 fps: 1.5 s shows the frame at 0.5 s (12 at 25 fps).
    let timing = ClipTiming {
        looped: true,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(h264_1s(), &timing, (10, 1), None, 35).expect("open");
    let got = read_all(&mut r, 35, false);
    assert_eq!(got[15], 12);
    let want: Vec<u32> = (0..35u32).map(|k| (k % 10) * 25 / 10).collect();
    assert_eq!(got, want);

    // Looping a trimmed part: 0.2 s ..< 0.6 s at 25 fps out = source frames 5..=14, repeated.
    let timing = ClipTiming {
        trim_start: 0.2,
        trim_end: Some(0.6),
        looped: true,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(h264_1s(), &timing, (25, 1), None, 25).expect("open");
    let got = read_all(&mut r, 25, false);
    let want: Vec<u32> = (0..25u32).map(|k| 5 + k % 10).collect();
    assert_eq!(got, want);
}

#[test]
fn holds_the_last_frame_after_trim_end_and_eof() {
    let timing = ClipTiming {
        trim_end: Some(0.4),
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(h264_1s(), &timing, (25, 1), None, 15).expect("open");
    let got = read_all(&mut r, 15, false);
    let want: Vec<u32> = (0..15u32).map(|k| k.min(9)).collect();
    assert_eq!(got, want);

    let mut r =
        ClipReader::open(h264_1s(), &ClipTiming::default(), (25, 1), None, 40).expect("open");
    let got = read_all(&mut r, 40, false);
    assert_eq!(got[24..], [24; 16]);
    assert!(matches!(
        r.next_frame(),
        Err(VideoError::PastEnd { index: 40, .. })
    ));
}

#[test]
fn scales_down_and_up() {
    for size in [(80, 45), (320, 180), (64, 64)] {
        let mut r = ClipReader::open(h264_1s(), &ClipTiming::default(), (25, 1), Some(size), 25)
            .expect("open");
        let pic = r.next_frame().expect("frame");
        assert_eq!((pic.width, pic.height), size);
        assert_eq!(pic.data.len(), (size.0 * size.1 * 4) as usize);
        let got: Vec<u32> = std::iter::once(read_bits(&pic, false))
            .chain((1..25).map(|_| read_bits(&r.next_frame().expect("frame"), false)))
            .collect();
        assert_eq!(got, (0..25).collect::<Vec<u32>>(), "size {size:?}");
    }
}

#[test]
fn rotation_metadata_turns_the_picture() {
    let info = clip_info(rotated_mp4()).expect("info");
    assert_eq!(info.rotation, 90);
    assert_eq!((info.width, info.height), (90, 160));
    let mut r =
        ClipReader::open(rotated_mp4(), &ClipTiming::default(), (25, 1), None, 25).expect("open");
    assert_eq!(r.size(), (90, 160));
    let pic = r.next_frame().expect("frame");
    assert_eq!((pic.width, pic.height), (90, 160));
    let mut got = vec![read_bits(&pic, true)];
    got.extend(read_all(&mut r, 24, true));
    assert_eq!(got, (0..25).collect::<Vec<u32>>());
    // Scaled to a display-oriented size.
    let mut r = ClipReader::open(
        rotated_mp4(),
        &ClipTiming::default(),
        (25, 1),
        Some((45, 80)),
        3,
    )
    .expect("open");
    let pics = read_all(&mut r, 3, true);
    assert_eq!(pics, [0, 1, 2]);
}

#[test]
fn mjpeg_in_avi() {
    let info = clip_info(mjpeg_avi()).expect("info");
    assert_eq!(info.codec, "mjpeg");
    assert_eq!((info.width, info.height), (160, 90));
    let timing = ClipTiming {
        trim_start: 0.4,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(mjpeg_avi(), &timing, (25, 1), None, 20).expect("open");
    let got = read_all(&mut r, 20, false);
    assert_eq!(got, (10..30).collect::<Vec<u32>>());
}

#[test]
fn prores_in_mov() {
    // 10-bit 4:2:2: the swscale path to 8-bit planar YUV, then the matrix conversion.
    ff::init().expect("libav");
    if ff::encoder::find_by_name("prores_ks").is_none() {
        eprintln!("prores_ks not in this libavcodec: skipped");
        return;
    }
    let p = make(
        "prores.mov",
        &Spec {
            codec: "prores_ks",
            muxer: "mov",
            ..Spec::h264((160, 90), (25, 1), 20)
        },
    );
    let info = clip_info(&p).expect("info");
    assert_eq!(
        (info.codec.as_str(), info.width, info.height),
        ("prores", 160, 90)
    );
    let timing = ClipTiming {
        trim_start: 0.2,
        rate: 0.5,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(&p, &timing, (25, 1), Some((80, 46)), 10).expect("open");
    let got = read_all(&mut r, 10, false);
    let want: Vec<u32> = (0..10u32).map(|k| 5 + k / 2).collect();
    assert_eq!(got, want);
}

#[test]
fn vp9_in_webm_when_libvpx_is_there() {
    ff::init().expect("libav");
    if ff::encoder::find_by_name("libvpx-vp9").is_none() {
        eprintln!("libvpx-vp9 not in this libavcodec: skipped");
        return;
    }
    let p = make(
        "vp9.webm",
        &Spec {
            codec: "libvpx-vp9",
            muxer: "webm",
            ..Spec::h264((160, 90), (25, 1), 50)
        },
    );
    assert_eq!(clip_info(&p).expect("info").codec, "vp9");
    let timing = ClipTiming {
        trim_start: 1.0,
        rate: 1.5,
        ..ClipTiming::default()
    };
    let mut r = ClipReader::open(&p, &timing, (25, 1), None, 20).expect("open");
    let got = read_all(&mut r, 20, false);
    let want: Vec<u32> = (0..20u32).map(|k| (25 + k * 3 / 2).min(49)).collect();
    assert_eq!(got, want);
}

#[test]
fn colour_matrix_follows_the_tag() {
    // Frame 0 is Y 16, Cb 90, Cr 240 everywhere: red 1.596 * 112 = 179 through BT.601
    // (untagged SD), 1.793 * 112 = 201 through BT.709 (tagged).
    let red = |space| {
        let name = format!("red-{space:?}.mp4");
        let p = make(
            &name,
            &Spec {
                red: Some(space),
                ..Spec::h264((160, 90), (25, 1), 2)
            },
        );
        let mut r = ClipReader::open(&p, &ClipTiming::default(), (25, 1), None, 1).expect("open");
        r.next_frame().expect("frame").pixel(80, 45)
    };
    let sd = red(ff::color::Space::Unspecified);
    let hd = red(ff::color::Space::BT709);
    assert!(
        (i32::from(sd[0]) - 179).abs() <= 6,
        "untagged SD as BT.601: {sd:?}"
    );
    assert!((i32::from(hd[0]) - 201).abs() <= 6, "tagged BT.709: {hd:?}");
    assert!(sd[1] < 6 && hd[1] < 6 && sd[3] == 255);
}

fn assert_names(e: &VideoError, p: &Path) {
    let msg = e.to_string();
    let name = p.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(msg.contains(name), "error does not name the file: {msg}");
}

#[test]
fn corrupt_file_fails_clearly() {
    let p = fixture_dir().join("corrupt.mp4");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&p, bytes).expect("write");
    let t = Instant::now();
    let e = ClipReader::open(&p, &ClipTiming::default(), (25, 1), None, 10).expect_err("corrupt");
    assert_names(&e, &p);
    assert_names(&clip_info(&p).expect_err("corrupt"), &p);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn truncated_files_fail_clearly() {
    // moov at the end: the first 30 % has no index at all.
    let full = std::fs::read(h264_ntsc()).expect("read");
    let p = fixture_dir().join("truncated.mp4");
    std::fs::write(&p, &full[..full.len() * 3 / 10]).expect("write");
    let t = Instant::now();
    let e = ClipReader::open(&p, &ClipTiming::default(), (25, 1), None, 10).expect_err("cut");
    assert_names(&e, &p);
    assert!(matches!(e, VideoError::Open { .. }), "{e}");

    // moov first: the index promises 100 frames; cut the media data in half. Every frame
    // before the cut is delivered, then an error naming the file and the time.
    let full = std::fs::read(faststart_mp4()).expect("read");
    let mdat = full.windows(4).position(|w| w == b"mdat").expect("mdat");
    let p = fixture_dir().join("truncated-faststart.mp4");
    std::fs::write(&p, &full[..mdat + (full.len() - mdat) / 2]).expect("write");
    let mut r = ClipReader::open(&p, &ClipTiming::default(), (25, 1), None, 100).expect("open");
    let mut good = 0u32;
    let err = loop {
        match r.next_frame() {
            Ok(pic) => {
                assert_eq!(read_bits(&pic, false), good);
                good += 1;
                assert!(good < 100, "a truncated file played to the end");
            }
            Err(e) => break e,
        }
    };
    assert!(good > 5, "only {good} frames before the cut");
    assert_names(&err, &p);
    assert!(
        matches!(err, VideoError::Read { .. } | VideoError::Decode { .. }),
        "{err}"
    );
    eprintln!("{good} frames, then: {err}");
    // After the error the reader says so at once, without waiting on anything.
    assert!(matches!(r.next_frame(), Err(VideoError::Thread { .. })));
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn clip_info_finds_every_cut_of_a_container_that_states_its_length() {
    // H.264 in Matroska (Cues at the end), MJPEG in AVI (idx1 at the end), H.264 in MP4 with
    // the index first: 4 s each, cut at several points. Whole files pass.
    for (name, muxer, codec) in [
        ("cut.mkv", "matroska", "libx264"),
        ("cut.avi", "avi", "mjpeg"),
        ("cut-faststart.mp4", "mp4", "libx264"),
    ] {
        let whole = make(
            &format!("whole-{name}"),
            &Spec {
                codec,
                muxer,
                faststart: true,
                ..Spec::h264((160, 90), (25, 1), 100)
            },
        );
        let info = clip_info(&whole).unwrap_or_else(|e| panic!("{name} whole: {e}"));
        assert!((info.duration_s - 4.0).abs() < 0.05, "{name}: {info:?}");
        let bytes = std::fs::read(&whole).expect("read");
        // Cutting only a trailing index (Matroska Cues, AVI idx1) loses no picture: such a
        // file plays whole and passes. The MP4 here keeps its index first, so its last 200
        // bytes are pictures.
        let mut cuts = vec![bytes.len() / 3, bytes.len() * 2 / 3];
        if muxer == "mp4" {
            cuts.push(bytes.len() - 200);
        }
        for keep in cuts {
            let p = fixture_dir().join(format!("{keep}-{name}"));
            std::fs::write(&p, &bytes[..keep]).expect("write");
            let e = clip_info(&p).expect_err(&format!("{name} cut to {keep} bytes"));
            assert_names(&e, &p);
            assert!(
                matches!(e, VideoError::Truncated { .. } | VideoError::Read { .. }),
                "{name} cut to {keep}: {e}"
            );
            eprintln!("{name} cut to {keep} of {}: {e}", bytes.len());
        }
    }
}

#[test]
fn dropping_mid_stream_stops_the_thread() {
    let mut r =
        ClipReader::open(h264_60s(), &ClipTiming::default(), (30, 1), None, 1800).expect("open");
    r.next_frame().expect("frame");
    r.next_frame().expect("frame");
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    drop(r);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn bad_arguments_are_rejected() {
    let p = h264_1s();
    let bad = |timing: ClipTiming, fps: (u32, u32)| {
        ClipReader::open(p, &timing, fps, None, 1).expect_err("invalid")
    };
    for e in [
        bad(
            ClipTiming {
                rate: 5.0,
                ..ClipTiming::default()
            },
            (25, 1),
        ),
        bad(
            ClipTiming {
                trim_start: 1.5,
                ..ClipTiming::default()
            },
            (25, 1),
        ),
        bad(
            ClipTiming {
                trim_start: 0.5,
                trim_end: Some(0.2),
                ..ClipTiming::default()
            },
            (25, 1),
        ),
        bad(ClipTiming::default(), (25, 0)),
    ] {
        assert!(matches!(e, VideoError::Invalid { .. }), "{e}");
        assert_names(&e, p);
    }
    let missing = fixture_dir().join("missing.mp4");
    assert_names(&clip_info(&missing).expect_err("missing"), &missing);
    // A WAV file has no video stream.
    let wav = fixture_dir().join("sound.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).expect("wav");
    for _ in 0..800 {
        w.write_sample(0i16).expect("sample");
    }
    w.finalize().expect("wav");
    let e = clip_info(&wav).expect_err("no video");
    assert!(matches!(e, VideoError::NoVideo { .. }), "{e}");
}

fn rms(s: &[f32]) -> f64 {
    (s.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / s.len() as f64).sqrt()
}

/// Rising zero crossings per second of the left channel at 48 kHz.
fn frequency(stereo: &[f32]) -> f64 {
    let left: Vec<f32> = stereo.iter().step_by(2).copied().collect();
    let ups = left
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    ups as f64 / (left.len() as f64 / 48_000.0)
}

#[test]
fn audio_is_trimmed_sped_up_and_looped() {
    let p = tone_mp4();
    let full = clip_audio(p, &ClipTiming::default(), 10.0)
        .expect("audio")
        .expect("has audio");
    assert_eq!(full.len(), 2 * 96_000, "2 s of stereo at 48 kHz");
    let level = rms(&full[9600..full.len() - 9600]);
    assert!((level - 0.5 / 2f64.sqrt()).abs() < 0.02, "rms {level}");
    assert!((frequency(&full) - 1000.0).abs() < 10.0);

    // 0.5 s ..< 1.5 s at double speed: 0.5 s long, an octave up.
    let timing = ClipTiming {
        trim_start: 0.5,
        trim_end: Some(1.5),
        rate: 2.0,
        looped: false,
    };
    let fast = clip_audio(p, &timing, 10.0).expect("audio").expect("some");
    assert_eq!(fast.len(), 2 * 24_000);
    let inner = &fast[2400..fast.len() - 2400];
    assert!(
        (rms(inner) - 0.5 / 2f64.sqrt()).abs() < 0.02,
        "{}",
        rms(inner)
    );
    assert!(
        (frequency(inner) - 2000.0).abs() < 25.0,
        "{}",
        frequency(inner)
    );

    // Looped from 0.5 s (a 1.5 s period) to 4 s.
    let timing = ClipTiming {
        trim_start: 0.5,
        looped: true,
        ..ClipTiming::default()
    };
    let looped = clip_audio(p, &timing, 4.0).expect("audio").expect("some");
    assert_eq!(looped.len(), 2 * 192_000);
    // The second period starts where the first did.
    let period = 72_000 * 2;
    assert_eq!(looped[..4800], looped[period..period + 4800]);
    assert!((rms(&looped[4800..]) - 0.5 / 2f64.sqrt()).abs() < 0.03);

    // Not looped: cut to the asked length.
    let short = clip_audio(p, &ClipTiming::default(), 0.25)
        .expect("audio")
        .expect("some");
    assert_eq!(short.len(), 2 * 12_000);

    assert!(clip_audio(h264_1s(), &ClipTiming::default(), 1.0)
        .expect("no audio is fine")
        .is_none());
}

// ---- Clips in compositions: the whole pipeline, decoded back. ----

fn render_spec(spec: serde_json::Value) -> (tempfile::TempDir, Result<PathBuf, reelsmith::Error>) {
    let dir = tempfile::tempdir().expect("tmp");
    let comp = reelsmith::Composition::from_json(&spec.to_string()).expect("spec parses");
    let out = dir.path().join("out.mp4");
    let opts = reelsmith::RenderOptions::default()
        .with_base_dir(dir.path())
        .with_media_root(dir.path().join("media"))
        .with_output(out.clone());
    let r = reelsmith::render(&comp, &opts).map(|_| out);
    (dir, r)
}

#[test]
fn a_clip_layer_shows_the_right_source_frame_at_each_output_frame() {
    let src = h264_ntsc();
    let (_dir, out) = render_spec(serde_json::json!({
        "output": { "width": 160, "height": 90, "fps": 30, "quality": "high" },
        "scenes": [{ "duration": 2, "layers": [{
            "type": "video", "src": src.to_str().expect("utf-8 path"),
            "width": 160, "height": 90, "playback": { "trim_start": 1.0 }
        }] }]
    }));
    let out = out.unwrap_or_else(|e| panic!("render: {e}"));
    let mut seen = Vec::new();
    reelsmith::media::probe::decode_video(&out, |_, f| {
        let r = Raster::from_straight(
            f.width(),
            f.height(),
            image::DynamicImage::ImageRgb8(f.clone())
                .into_rgba8()
                .into_raw(),
        );
        seen.push(read_bits(&r, false));
        true
    })
    .expect("decode");
    assert_eq!(seen.len(), 60);
    for (k, &n) in seen.iter().enumerate() {
        // Output frame k (30 fps) after a 1 s trim: the latest 29.97 fps source frame.
        let want = ((30 + k as u64) * 30000 / (30 * 1001)) as u32;
        assert!(
            n.abs_diff(want) <= 1 && n <= want,
            "output frame {k} shows source {n}, expected {want}"
        );
    }
}

#[test]
fn a_clip_background_sends_its_sound_to_the_mix() {
    let src = tone_mp4();
    let (_dir, out) = render_spec(serde_json::json!({
        "output": { "width": 320, "height": 180, "fps": 25 },
        "audio": { "normalize": false },
        "scenes": [{ "duration": 1.5, "background": {
            "type": "video", "src": src.to_str().expect("utf-8 path"),
            "playback": { "audio": true, "volume_db": -6 }
        } }]
    }));
    let out = out.unwrap_or_else(|e| panic!("render: {e}"));
    let audio = reelsmith::media::probe::decode_audio(&out).expect("audio");
    let mid = &audio.samples[audio.samples.len() / 4..audio.samples.len() / 2];
    let level = rms(mid);
    // The tone is 0.5 amplitude (RMS 0.354) at -6 dB: about 0.177.
    assert!((level - 0.177).abs() < 0.03, "RMS {level}");
}

#[test]
fn a_corrupt_clip_fails_validation_naming_the_layer_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("bad.mp4"), vec![7u8; 50_000]).expect("write");
    let comp = reelsmith::Composition::from_json(
        &serde_json::json!({
            "scenes": [{ "duration": 1, "layers": [{ "type": "video", "src": "bad.mp4" }] }]
        })
        .to_string(),
    )
    .expect("parses");
    let opts = reelsmith::RenderOptions::default()
        .with_base_dir(dir.path())
        .with_media_root(dir.path().join("media"))
        .with_output(dir.path().join("out.mp4"));
    let err = reelsmith::render(&comp, &opts).expect_err("corrupt clip");
    let reelsmith::Error::Spec(reelsmith::SpecError::Invalid(issues)) = &err else {
        panic!("wrong error: {err}")
    };
    assert_eq!(issues[0].path, "scenes[0].layers[0].src");
    assert!(
        issues[0].message.contains("bad.mp4"),
        "{}",
        issues[0].message
    );
    assert!(!dir.path().join("out.mp4").exists());
    let temp = dir.path().join("media/assets/temp");
    let left: Vec<_> = std::fs::read_dir(&temp)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
