//! Video clips as picture sources for composition: stream facts ([`clip_info`]), the picture
//! for each consecutive output frame ([`ClipReader`]) and the clip's sound ([`clip_audio`]).
//!
//! Any video libav decodes works (H.264, HEVC, VP9, AV1, ProRes, MJPEG, … in MP4, MOV, MKV,
//! WebM, AVI); the decoder path is generic.
//!
//! ## Time mapping
//! Output frame `k` of a clip shows the source frame whose presentation time is the latest at
//! or before `trim_start + k * rate / out_fps`. The target is computed for every `k` from the
//! frame index with integer arithmetic in the stream's time base (no float accumulation, so
//! hours-long clips do not drift). Past `trim_end` or the end of the file the last frame is
//! held, or, when looped, playback wraps to `trim_start`. A target before the first frame
//! shows the first frame.
//!
//! ## Pictures
//! Frames become premultiplied RGBA [`Raster`]s (opaque, alpha 255) at the requested size:
//! swscale scales (bicubic up, area down) in YUV, then the YUV→RGB conversion uses the frame's
//! colour-matrix tag (BT.709 for HD and BT.601 for SD when untagged) and range. RGB sources
//! and sources with alpha go through swscale to RGBA directly (alpha premultiplied; swscale's
//! BT.601 for YUVA). Rotation metadata (the display matrix, or a `rotate` tag) is applied:
//! sizes and pictures are in display orientation. Mirroring display matrices are not applied.
//!
//! ## Threads
//! Each [`ClipReader`] decodes on its own thread (libav frame threads inside) and hands
//! pictures through a bounded channel ([`AHEAD`] pictures). Pictures the caller has dropped
//! are reused, so a reader holds at most `AHEAD + 4` output-sized pictures of its own (about
//! 100 MB at 1080p). Dropping the reader stops the thread (blocking I/O is interrupted) and
//! joins it.
//!
//! ## Damaged files
//! A file libav cannot open, with no video stream or with an unknown codec fails at
//! [`ClipReader::open`] / [`clip_info`]. A file whose container index promises data the file
//! does not hold (a truncated MP4/MOV) or whose packets fail to decode delivers every frame
//! before the damage, then fails at [`ClipReader::next_frame`] with [`VideoError::Read`] or
//! [`VideoError::Decode`] (the time of the damage in the message). A stream that simply ends
//! early (truncated MKV/WebM/AVI without an index) behaves as a shorter clip: its last frame is
//! held. Nothing hangs: every path ends at EOF or an error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use ff::{format, media, Rational};
use ffmpeg_next as ff;

use crate::base::raster::Raster;

use crate::media::yuv::Converter;

/// Pictures a [`ClipReader`] decodes ahead of the caller.
pub const AHEAD: usize = 4;

/// Output audio rate of [`clip_audio`].
pub(super) const AUDIO_RATE: u32 = 48_000;

/// A clip that cannot be used, always naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// libav cannot open the file (missing, unreadable, not a media file, truncated header).
    #[error("cannot open video {path}: {source}")]
    Open {
        /// The clip.
        path: PathBuf,
        /// libav's error.
        source: ff::Error,
    },
    /// The file is not a single media file reelsmith opens (a playlist, a concat list, an
    /// image sequence: see [`crate::media::probe::INPUT_FORMATS`]).
    #[error(
        "{path}: refused: reelsmith reads single media files only (playlists, concat lists, \
         image sequences and URLs are not opened)"
    )]
    Refused {
        /// The clip.
        path: PathBuf,
    },
    /// The file ends before the length its container states.
    #[error(
        "{path}: truncated: the container promises {declared_s:.2} s of video, the file holds \
         {held_s:.2} s"
    )]
    Truncated {
        /// The clip.
        path: PathBuf,
        /// The video stream's length as the container states it, seconds.
        declared_s: f64,
        /// The end of the last video packet the file holds, seconds.
        held_s: f64,
    },
    /// The file holds no video stream.
    #[error("{path} has no video stream")]
    NoVideo {
        /// The clip.
        path: PathBuf,
    },
    /// No decoder for the clip's codec in this libavcodec.
    #[error("{path}: no decoder for codec {codec} in this libavcodec")]
    UnsupportedCodec {
        /// The clip.
        path: PathBuf,
        /// libav's codec id, e.g. `hevc`.
        codec: String,
    },
    /// A libav operation failed.
    #[error("{path}: {op} failed: {source}")]
    Ffmpeg {
        /// The clip.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// libav's error.
        source: ff::Error,
    },
    /// Reading packets failed: the file is truncated or damaged at this point.
    #[error(
        "{path}: cannot read the video after {at_s:.3} s (truncated or damaged file): {source}"
    )]
    Read {
        /// The clip.
        path: PathBuf,
        /// Source time of the last good frame, seconds.
        at_s: f64,
        /// libav's error.
        source: ff::Error,
    },
    /// Decoding or converting a picture failed.
    #[error("{path}: cannot decode the video after {at_s:.3} s: {source}")]
    Decode {
        /// The clip.
        path: PathBuf,
        /// Source time of the last good frame, seconds.
        at_s: f64,
        /// libav's error.
        source: ff::Error,
    },
    /// The file decoded to no picture at all.
    #[error("{path}: the video stream holds no decodable frame")]
    NoFrames {
        /// The clip.
        path: PathBuf,
    },
    /// Timing, frame rate or size out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// The clip.
        path: PathBuf,
        /// The value found and what is allowed.
        message: String,
    },
    /// More frames were asked for than the reader was opened for.
    #[error("{path}: output frame {index} asked for, but the reader was opened for {frames}")]
    PastEnd {
        /// The clip.
        path: PathBuf,
        /// The frame asked for.
        index: u64,
        /// Frames the reader was opened for.
        frames: u64,
    },
    /// The decoder thread could not start or stopped unexpectedly.
    #[error("{path}: decoder thread: {message}")]
    Thread {
        /// The clip.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// The clip's audio cannot be decoded or resampled.
    #[error("{path}: audio: {message}")]
    Audio {
        /// The clip.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Facts about a clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipInfo {
    /// Display width (after rotation).
    pub width: u32,
    /// Display height (after rotation).
    pub height: u32,
    /// Average frame rate.
    pub fps: f64,
    /// Duration of the video stream in seconds (the container's when the stream has none).
    pub duration_s: f64,
    /// Clockwise rotation applied for display: 0, 90, 180 or 270.
    pub rotation: i32,
    /// Decoder name, e.g. `h264`, `mjpeg`, `vp9`.
    pub codec: String,
    /// The file has an audio stream.
    pub has_audio: bool,
}

/// What part of a clip plays and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTiming {
    /// Seconds into the source where playback starts. Default: 0.
    pub trim_start: f64,
    /// Seconds into the source where playback ends (exclusive). Default: the clip's end.
    pub trim_end: Option<f64>,
    /// Playback speed, 0.25..=4. Default: 1.
    pub rate: f64,
    /// Wrap to `trim_start` at the end instead of holding the last frame. Default: false.
    pub looped: bool,
}

impl Default for ClipTiming {
    fn default() -> ClipTiming {
        ClipTiming {
            trim_start: 0.0,
            trim_end: None,
            rate: 1.0,
            looped: false,
        }
    }
}

impl ClipTiming {
    pub(super) fn check(&self, path: &Path) -> Result<(), VideoError> {
        let bad = |message: String| {
            Err(VideoError::Invalid {
                path: path.into(),
                message,
            })
        };
        if !(self.rate.is_finite() && (0.25..=4.0).contains(&self.rate)) {
            return bad(format!("invalid rate {} (expected 0.25..=4)", self.rate));
        }
        if !(self.trim_start.is_finite() && self.trim_start >= 0.0) {
            return bad(format!(
                "invalid trim_start {} s (expected >= 0)",
                self.trim_start
            ));
        }
        if let Some(end) = self.trim_end {
            if !(end.is_finite() && end > self.trim_start) {
                return bad(format!(
                    "invalid trim_end {end} s (expected > trim_start {} s)",
                    self.trim_start
                ));
            }
        }
        Ok(())
    }
}

fn ff_err(path: &Path, op: &'static str) -> impl FnOnce(ff::Error) -> VideoError {
    let path = path.to_path_buf();
    move |source| VideoError::Ffmpeg { path, op, source }
}

/// [`VideoError::Refused`] when the whitelists refused the file, else [`VideoError::Open`].
pub(super) fn open_error(path: &Path, source: ff::Error) -> VideoError {
    if crate::media::probe::is_refused(&source) {
        VideoError::Refused { path: path.into() }
    } else {
        VideoError::Open {
            path: path.into(),
            source,
        }
    }
}

/// An open clip: demuxer, video decoder and the facts needed to map time.
struct Source {
    ictx: format::context::Input,
    index: usize,
    tb: Rational,
    dec: ff::decoder::Video,
    info: ClipInfo,
    /// Stream ticks of source time 0 (the video stream's start).
    zero: i64,
    /// Nominal frame duration in stream ticks (>= 1).
    frame_dur: i64,
}

fn open_source(path: &Path, stop: Option<Arc<AtomicBool>>) -> Result<Source, VideoError> {
    let ictx =
        crate::media::probe::open_input(path, stop).map_err(|source| open_error(path, source))?;
    let st = ictx
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| VideoError::NoVideo { path: path.into() })?;
    let params = st.parameters();
    let Some(codec) = ff::codec::decoder::find(params.id()) else {
        return Err(VideoError::UnsupportedCodec {
            path: path.into(),
            codec: format!("{:?}", params.id()).to_lowercase(),
        });
    };
    let mut ctx = ff::codec::context::Context::from_parameters(params)
        .map_err(ff_err(path, "read stream parameters"))?;
    // Frame threads, as many as libav sees cores: decoding keeps up with 1080p on 2 cores.
    ctx.set_threading(ff::threading::Config {
        kind: ff::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let mut dec = ctx.decoder();
    // Errors the decoder would conceal (filling damaged macroblocks) are errors.
    dec.check(ff::codec::decoder::Check::CRC | ff::codec::decoder::Check::EXPLODE);
    let dec = dec
        .open_as(codec)
        .and_then(|d| d.video())
        .map_err(ff_err(path, "open video decoder"))?;
    if dec.width() == 0 || dec.height() == 0 {
        return Err(VideoError::Invalid {
            path: path.into(),
            message: "the video stream has no picture size".into(),
        });
    }
    let tb = st.time_base();
    if tb.numerator() <= 0 || tb.denominator() <= 0 {
        return Err(VideoError::Invalid {
            path: path.into(),
            message: format!("invalid stream time base {tb}"),
        });
    }
    let mut rate = st.avg_frame_rate();
    if rate.numerator() <= 0 || rate.denominator() <= 0 {
        rate = st.rate();
    }
    let fps = if rate.numerator() > 0 && rate.denominator() > 0 {
        f64::from(rate)
    } else {
        0.0
    };
    let frame_dur = if fps > 0.0 {
        let t = i128::from(tb.denominator()) * i128::from(rate.denominator());
        let n = i128::from(tb.numerator()) * i128::from(rate.numerator());
        ((t + n / 2) / n).max(1) as i64
    } else {
        1
    };
    let zero = if st.start_time() == ff::ffi::AV_NOPTS_VALUE {
        0
    } else {
        st.start_time()
    };
    let duration_s = if st.duration() != ff::ffi::AV_NOPTS_VALUE && st.duration() > 0 {
        st.duration() as f64 * f64::from(tb)
    } else if ictx.duration() > 0 {
        ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    } else {
        0.0
    };
    let rotation = stream_rotation(&st);
    let (width, height) = if rotation % 180 == 90 {
        (dec.height(), dec.width())
    } else {
        (dec.width(), dec.height())
    };
    let info = ClipInfo {
        width,
        height,
        fps,
        duration_s,
        rotation,
        codec: codec.name().to_string(),
        has_audio: ictx.streams().best(media::Type::Audio).is_some(),
    };
    let index = st.index();
    Ok(Source {
        ictx,
        index,
        tb,
        dec,
        info,
        zero,
        frame_dur,
    })
}

/// Clockwise display rotation from the stream's display matrix (as the ffmpeg tool reads it)
/// or its `rotate` tag, snapped to 0/90/180/270.
fn stream_rotation(st: &format::stream::Stream) -> i32 {
    for sd in st.side_data() {
        if sd.kind() != ff::codec::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let m: Vec<f64> = sd
            .data()
            .chunks_exact(4)
            .take(9)
            .map(|b| f64::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]])))
            .collect();
        if m.len() == 9 {
            let (s0, s1) = (m[0].hypot(m[3]), m[1].hypot(m[4]));
            if s0 > 0.0 && s1 > 0.0 {
                return snap_rotation((m[1] / s1).atan2(m[0] / s0).to_degrees());
            }
        }
    }
    st.metadata()
        .get("rotate")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, snap_rotation)
}

fn snap_rotation(degrees: f64) -> i32 {
    if !degrees.is_finite() {
        return 0;
    }
    ((degrees / 90.0).round() as i64).rem_euclid(4) as i32 * 90
}

/// Reads a clip's facts: display size, frame rate, duration, rotation, codec, audio; and
/// checks, cheaply, that the file is whole: its first picture decodes without damage, and
/// the packets near its end can be read up to the length the container states (a seek and
/// a few seconds of demuxing; nothing else is decoded). Damage in the middle of a file is
/// found when it is read ([`ClipReader::next_frame`]).
///
/// # Errors
/// [`VideoError`] naming the file when libav cannot open it, it has no video stream, its
/// codec cannot be decoded, its first picture is damaged or the file ends early.
pub fn clip_info(path: &Path) -> Result<ClipInfo, VideoError> {
    let mut src = open_source(path, None)?;
    first_picture(&mut src, path)?;
    check_tail(&src, path)?;
    Ok(src.info)
}

/// Decodes the clip's first picture: a damaged one (or a read error before it) is an error.
fn first_picture(src: &mut Source, path: &Path) -> Result<(), VideoError> {
    let mut frame = ff::frame::Video::empty();
    let mut sent_eof = false;
    loop {
        match src.dec.receive_frame(&mut frame) {
            Ok(()) if frame.is_corrupt() || frame.has_decode_errors() => {
                return Err(VideoError::Decode {
                    path: path.into(),
                    at_s: 0.0,
                    source: ff::Error::InvalidData,
                })
            }
            Ok(()) => return Ok(()),
            Err(ff::Error::Eof) => return Err(VideoError::NoFrames { path: path.into() }),
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                if sent_eof {
                    return Err(VideoError::NoFrames { path: path.into() });
                }
            }
            Err(source) => {
                return Err(VideoError::Decode {
                    path: path.into(),
                    at_s: 0.0,
                    source,
                })
            }
        }
        let mut packet = ff::Packet::empty();
        match packet.read(&mut src.ictx) {
            Ok(()) if packet.stream() == src.index => {
                src.dec
                    .send_packet(&packet)
                    .map_err(|source| VideoError::Decode {
                        path: path.into(),
                        at_s: 0.0,
                        source,
                    })?;
            }
            Ok(()) => {}
            Err(ff::Error::Eof) => {
                sent_eof = true;
                src.dec
                    .send_eof()
                    .map_err(ff_err(path, "flush the video decoder"))?;
            }
            Err(source) => {
                return Err(VideoError::Read {
                    path: path.into(),
                    at_s: 0.0,
                    source,
                })
            }
        }
    }
}

/// Seconds of the file's end that [`check_tail`] reads.
const TAIL_S: f64 = 3.0;

/// Reads the packets of the last [`TAIL_S`] seconds (demuxing only). For containers that
/// state the stream's length in their header (MP4/MOV, Matroska/WebM, AVI), the video
/// packets must reach it; in every container, each packet must read whole.
fn check_tail(src: &Source, path: &Path) -> Result<(), VideoError> {
    let name = src.ictx.format().name().to_string();
    let states_length = name
        .split(',')
        .any(|n| ["mov", "matroska", "avi"].contains(&n));
    let declared_s = src.info.duration_s;
    let (index, zero, frame_dur, tb) = (src.index, src.zero, src.frame_dur, src.tb);
    let open =
        || crate::media::probe::open_input(path, None).map_err(|source| open_error(path, source));
    let mut ictx = open()?;
    let from_us = (i128::from(zero) * i128::from(tb.numerator()) * 1_000_000
        / i128::from(tb.denominator().max(1))) as i64
        + ((declared_s - TAIL_S).max(0.0) * 1e6) as i64;
    // Where seeking fails, the whole file is read.
    let seeked = declared_s > TAIL_S && ictx.seek(from_us, ..from_us).is_ok();
    let (mut last_end, failure) = last_video_end(&mut ictx, index, frame_dur);
    if last_end.is_none() && seeked {
        // Nothing readable after the seek: how far does the file reach from its start?
        last_end = last_video_end(&mut open()?, index, frame_dur).0;
    }
    let held_s = last_end.map_or(0.0, |t| (t - zero) as f64 * f64::from(tb));
    // A missing last frame duration, rounding: two frames and a tenth of a second.
    let slack = 2.0 * frame_dur as f64 * f64::from(tb) + 0.1;
    let short = declared_s > 0.0 && held_s + slack < declared_s;
    match failure {
        // The index points past the end of the file, or the last packet is cut.
        Some(_) if short || states_length => Err(VideoError::Truncated {
            path: path.into(),
            declared_s,
            held_s,
        }),
        Some(source) => Err(VideoError::Read {
            path: path.into(),
            at_s: held_s,
            source,
        }),
        None if short && states_length => Err(VideoError::Truncated {
            path: path.into(),
            declared_s,
            held_s,
        }),
        None => Ok(()),
    }
}

/// Demuxes `ictx` from where it stands to the end: the end (stream ticks) of the last packet
/// of stream `index`, and the error that stopped reading before the end of the file, if
/// one did (a packet the demuxer marks as corrupt counts).
fn last_video_end(
    ictx: &mut format::context::Input,
    index: usize,
    frame_dur: i64,
) -> (Option<i64>, Option<ff::Error>) {
    let mut last_end: Option<i64> = None;
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(ictx) {
            Ok(()) if packet.is_corrupt() => return (last_end, Some(ff::Error::InvalidData)),
            Ok(()) if packet.stream() == index => {
                if let Some(t) = packet.pts().or(packet.dts()) {
                    let dur = if packet.duration() > 0 {
                        packet.duration()
                    } else {
                        frame_dur
                    };
                    last_end = Some(last_end.map_or(t + dur, |e| e.max(t + dur)));
                }
            }
            Ok(()) => {}
            Err(ff::Error::Eof) => return (last_end, None),
            Err(source) => return (last_end, Some(source)),
        }
    }
}

/// A decoded picture and its presentation time in stream ticks.
struct Decoded {
    pts: i64,
    frame: ff::frame::Video,
}

/// Output frame → source time, exactly: output frame `k` targets
/// `start + floor(k * num / den)` stream ticks (before looping/holding).
#[derive(Debug, Clone, Copy)]
struct Mapping {
    start: i64,
    end: Option<i64>,
    num: i128,
    den: i128,
    looped: bool,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

impl Mapping {
    fn new(timing: &ClipTiming, out_fps: (u32, u32), tb: Rational, zero: i64) -> Mapping {
        let ticks = |s: f64| {
            zero + (s * f64::from(tb.denominator()) / f64::from(tb.numerator())).round() as i64
        };
        // The speed as a fraction with a micro-unit denominator (exact for 2, 0.5, 1.5, …).
        let (rn, rd) = ((timing.rate * 1e6).round() as i128, 1_000_000i128);
        let num = rn * i128::from(out_fps.1) * i128::from(tb.denominator());
        let den = rd * i128::from(out_fps.0) * i128::from(tb.numerator());
        let g = gcd(num, den);
        Mapping {
            start: ticks(timing.trim_start),
            end: timing.trim_end.map(ticks),
            num: num / g,
            den: den / g,
            looped: timing.looped,
        }
    }

    /// The loop period in ticks, when known: to `trim_end`, or to the end of the stream once
    /// it has been seen (`eof_end`), whichever comes first.
    fn period(&self, eof_end: Option<i64>) -> Option<i64> {
        let end = match (self.end, eof_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        end.map(|e| e - self.start).filter(|&p| p > 0)
    }

    /// (loop cycle, target ticks) of output frame `k`.
    fn target(&self, k: u64, eof_end: Option<i64>) -> (u64, i64) {
        let n = i128::from(k) * self.num;
        if self.looped {
            if let Some(p) = self.period(eof_end) {
                let span = i128::from(p) * self.den;
                return (
                    (n / span) as u64,
                    self.start + ((n % span) / self.den) as i64,
                );
            }
        }
        let t = self
            .start
            .saturating_add((n / self.den).min(i128::from(i64::MAX)) as i64);
        match self.end {
            // Past trim_end: the last frame before it.
            Some(end) if t >= end => (0, end - 1),
            _ => (0, t),
        }
    }
}

/// The decoder thread's state.
struct Worker {
    path: PathBuf,
    src: Source,
    stop: Arc<AtomicBool>,
    map: Mapping,
    /// Pre-rotation output size.
    size: (u32, u32),
    rotation: i32,
    cycle: u64,
    sent_eof: bool,
    eof: bool,
    /// End of the stream in ticks (last pts + its duration), once seen.
    eof_end: Option<i64>,
    /// Pts and duration of the last decoded frame.
    last: Option<(i64, i64)>,
    /// First read (true) or decode error, reported once the decoder is drained.
    damage: Option<(bool, ff::Error)>,
    /// That error and the end (ticks) of the last good frame: reported when a target passes it.
    fault: Option<(VideoError, i64)>,
    current: Option<Decoded>,
    pending: Option<Decoded>,
    /// `current` converted, shared by every output frame that shows it.
    picture: Option<Arc<Raster>>,
    /// Pictures handed out earlier, recycled once the caller has dropped them.
    recycled: Vec<Arc<Raster>>,
}

/// Why decoding stopped without a picture.
enum Halt {
    Stopped,
    Failed(VideoError),
}

impl From<VideoError> for Halt {
    fn from(e: VideoError) -> Halt {
        Halt::Failed(e)
    }
}

impl Worker {
    fn seconds(&self, ticks: i64) -> f64 {
        (ticks - self.src.zero) as f64 * f64::from(self.src.tb)
    }

    fn last_good_s(&self) -> f64 {
        self.last.map_or(0.0, |(pts, _)| self.seconds(pts).max(0.0))
    }

    /// Remembers the first damage (a read or decode error) and drains the decoder, so every
    /// frame before the damage still comes out; [`Worker::decode_next`] reports it after them.
    fn note_damage(&mut self, read: bool, source: ff::Error) {
        if self.damage.is_none() {
            self.damage = Some((read, source));
        }
        if !self.sent_eof {
            self.sent_eof = true;
            let _ = self.src.dec.send_eof();
        }
    }

    fn damage_error(&mut self) -> Option<VideoError> {
        let (read, source) = self.damage.take()?;
        let (path, at_s) = (self.path.clone(), self.last_good_s());
        Some(if read {
            VideoError::Read { path, at_s, source }
        } else {
            VideoError::Decode { path, at_s, source }
        })
    }

    /// The next decoded frame, or None at the end of the stream.
    fn decode_next(&mut self) -> Result<Option<Decoded>, Halt> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Halt::Stopped);
            }
            let mut frame = ff::frame::Video::empty();
            match self.src.dec.receive_frame(&mut frame) {
                // A picture the decoder patched over damage is damage, not a picture.
                Ok(()) if frame.is_corrupt() || frame.has_decode_errors() => {
                    self.note_damage(false, ff::Error::InvalidData);
                }
                Ok(()) => {
                    let dur = match frame.packet().duration {
                        d if d > 0 => d,
                        _ => self.src.frame_dur,
                    };
                    let pts = frame
                        .timestamp()
                        .or(frame.pts())
                        .or_else(|| self.last.map(|(p, d)| p + d))
                        .unwrap_or(self.src.zero);
                    self.last = Some((pts, dur));
                    return Ok(Some(Decoded { pts, frame }));
                }
                Err(ff::Error::Eof) => {
                    return self.damage_error().map_or(Ok(None), |e| Err(e.into()))
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    if self.sent_eof {
                        // A drained decoder that still wants input: nothing more will come.
                        return self.damage_error().map_or(Ok(None), |e| Err(e.into()));
                    }
                }
                Err(source) if self.damage.is_none() => self.note_damage(false, source),
                Err(_) => return Err(self.damage_error().map_or(Halt::Stopped, Halt::Failed)),
            }
            if self.sent_eof {
                continue;
            }
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.src.ictx) {
                Ok(()) if packet.stream() == self.src.index => {
                    if let Err(source) = self.src.dec.send_packet(&packet) {
                        self.note_damage(false, source);
                    }
                }
                Ok(()) => {}
                Err(ff::Error::Eof) => {
                    self.sent_eof = true;
                    self.src
                        .dec
                        .send_eof()
                        .map_err(ff_err(&self.path, "flush the video decoder"))?;
                }
                Err(ff::Error::Exit) if self.stop.load(Ordering::Relaxed) => {
                    return Err(Halt::Stopped)
                }
                Err(source) => self.note_damage(true, source),
            }
        }
    }

    /// Goes back to `trim_start`: seeks to the keyframe at or before it (reopening the file if
    /// the format cannot seek); frames before the target are then decoded and passed over.
    fn rewind(&mut self) -> Result<(), Halt> {
        self.current = None;
        self.pending = None;
        self.picture = None;
        self.eof = false;
        self.sent_eof = false;
        self.last = None;
        self.damage = None;
        self.fault = None;
        let tb = self.src.tb;
        let ticks = i128::from(self.map.start.max(self.src.zero));
        let us = ticks * i128::from(tb.numerator()) * i128::from(ff::ffi::AV_TIME_BASE)
            / i128::from(tb.denominator());
        // One microsecond earlier: libav rounds to the nearest tick, never past the target.
        let us = (us - 1).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        if self.src.ictx.seek(us, ..us).is_ok() {
            self.src.dec.flush();
        } else {
            self.src = open_source(&self.path, Some(self.stop.clone()))?;
        }
        Ok(())
    }

    /// Makes `current` the latest frame with pts <= `target` (or the first frame).
    fn advance(&mut self, target: i64) -> Result<(), Halt> {
        loop {
            if self.pending.is_none() {
                if self.eof {
                    return Ok(());
                }
                match self.decode_next() {
                    Ok(Some(d)) => self.pending = Some(d),
                    Ok(None) => {
                        self.eof = true;
                        self.eof_end = self.last.map(|(p, d)| p + d).or(self.eof_end);
                        return Ok(());
                    }
                    Err(Halt::Failed(e)) => {
                        // Shown frames stay good until the last one's end; then `frame` fails.
                        self.eof = true;
                        let end = self.last.map_or(i64::MIN, |(p, d)| p + d);
                        self.fault = Some((e, end));
                        return Ok(());
                    }
                    Err(stop) => return Err(stop),
                }
            }
            match &self.pending {
                Some(p) if p.pts <= target || self.current.is_none() => {
                    self.current = self.pending.take();
                    self.picture = None;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The picture for output frame `k` (called for k = 0, 1, 2, … in order).
    fn frame(&mut self, k: u64, conv: &mut Converter) -> Result<Arc<Raster>, Halt> {
        if k == 0 && self.map.start > self.src.zero {
            self.rewind()?;
        }
        let target = loop {
            let before = self.map.period(self.eof_end);
            let (cycle, target) = self.map.target(k, self.eof_end);
            if cycle != self.cycle {
                self.cycle = cycle;
                self.rewind()?;
            }
            self.advance(target)?;
            if !self.map.looped || self.map.period(self.eof_end) == before {
                break target;
            }
        };
        if let Some((_, end)) = &self.fault {
            if target >= *end || self.current.is_none() {
                if let Some((e, _)) = self.fault.take() {
                    return Err(Halt::Failed(e));
                }
            }
        }
        if let Some(p) = &self.picture {
            return Ok(p.clone());
        }
        let Some(cur) = &self.current else {
            return Err(Halt::Failed(VideoError::NoFrames {
                path: self.path.clone(),
            }));
        };
        let at_s = self.seconds(cur.pts);
        let fail = |source| VideoError::Decode {
            path: self.path.clone(),
            at_s,
            source,
        };
        // Reuse a picture the caller has dropped; else allocate (and keep it for reuse).
        let free = self
            .recycled
            .iter_mut()
            .position(|a| Arc::get_mut(a).is_some());
        let pic = match free.and_then(|i| Arc::get_mut(&mut self.recycled[i]).map(|r| (i, r))) {
            Some((i, r)) => {
                conv.convert(&cur.frame, self.size, self.rotation, r)
                    .map_err(fail)?;
                self.recycled[i].clone()
            }
            None => {
                let mut r = Raster::new(0, 0);
                conv.convert(&cur.frame, self.size, self.rotation, &mut r)
                    .map_err(fail)?;
                let a = Arc::new(r);
                if self.recycled.len() < AHEAD + 4 {
                    self.recycled.push(a.clone());
                }
                a
            }
        };
        self.picture = Some(pic.clone());
        Ok(pic)
    }
}

/// Streams a clip's pictures for consecutive output frames, decoding ahead on its own thread.
pub struct ClipReader {
    path: PathBuf,
    info: ClipInfo,
    size: (u32, u32),
    frames: u64,
    next: u64,
    rx: Option<Receiver<Result<Arc<Raster>, VideoError>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ClipReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipReader")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("next", &self.next)
            .field("frames", &self.frames)
            .finish()
    }
}

impl ClipReader {
    /// Opens `path` to deliver `frames` output frames at `out_fps` (numerator, denominator),
    /// scaled to `size` (display orientation) or at the clip's display size when `None`.
    /// The decoder thread starts at once.
    ///
    /// # Errors
    /// [`VideoError`] naming the file when it cannot be opened or decoded (see the module
    /// docs), when `timing` or `out_fps` is out of range (rate 0.25..=4, trim_start >= 0 and
    /// before the clip's end, trim_end > trim_start, fps 1..=1000 frames/s), or when `size` is
    /// not 1..=16384 per side.
    pub fn open(
        path: &Path,
        timing: &ClipTiming,
        out_fps: (u32, u32),
        size: Option<(u32, u32)>,
        frames: u64,
    ) -> Result<ClipReader, VideoError> {
        timing.check(path)?;
        let invalid = |message: String| VideoError::Invalid {
            path: path.into(),
            message,
        };
        let (fnum, fden) = out_fps;
        if fnum == 0 || fden == 0 || !(1.0..=1000.0).contains(&(f64::from(fnum) / f64::from(fden)))
        {
            return Err(invalid(format!(
                "invalid output fps {fnum}/{fden} (expected 1..=1000 frames/s)"
            )));
        }
        if let Some((w, h)) = size {
            if !(1..=16384).contains(&w) || !(1..=16384).contains(&h) {
                return Err(invalid(format!(
                    "invalid size {w}x{h} (expected 1..=16384 per side)"
                )));
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let src = open_source(path, Some(stop.clone()))?;
        let info = src.info.clone();
        if info.duration_s > 0.0 && timing.trim_start >= info.duration_s {
            return Err(invalid(format!(
                "trim_start {} s is at or past the clip's end ({:.3} s)",
                timing.trim_start, info.duration_s
            )));
        }
        let size = size.unwrap_or((info.width, info.height));
        let pre_rotation = if info.rotation % 180 == 90 {
            (size.1, size.0)
        } else {
            size
        };
        let worker = Worker {
            path: path.into(),
            map: Mapping::new(timing, out_fps, src.tb, src.zero),
            rotation: info.rotation,
            src,
            stop: stop.clone(),
            size: pre_rotation,
            cycle: 0,
            sent_eof: false,
            eof: false,
            eof_end: None,
            last: None,
            damage: None,
            fault: None,
            current: None,
            pending: None,
            picture: None,
            recycled: Vec::new(),
        };
        let (tx, rx) = sync_channel(AHEAD);
        let thread = std::thread::Builder::new()
            .name("reelsmith-clip".into())
            .spawn(move || run_worker(worker, tx, frames))
            .map_err(|e| VideoError::Thread {
                path: path.into(),
                message: format!("cannot start: {e}"),
            })?;
        Ok(ClipReader {
            path: path.into(),
            info,
            size,
            frames,
            next: 0,
            rx: Some(rx),
            stop,
            thread: Some(thread),
        })
    }

    /// The clip's facts.
    pub fn info(&self) -> &ClipInfo {
        &self.info
    }

    /// Size of the delivered pictures (display orientation).
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The picture for the next output frame (0, 1, 2, …); consecutive frames showing the same
    /// source frame share one `Arc`.
    ///
    /// # Errors
    /// [`VideoError::Read`] / [`VideoError::Decode`] at damage in the file (every earlier frame
    /// is delivered first), [`VideoError::PastEnd`] beyond the `frames` given to
    /// [`ClipReader::open`], [`VideoError::Thread`] after an earlier error or a crash of the
    /// decoder thread.
    pub fn next_frame(&mut self) -> Result<Arc<Raster>, VideoError> {
        if self.next >= self.frames {
            return Err(VideoError::PastEnd {
                path: self.path.clone(),
                index: self.next,
                frames: self.frames,
            });
        }
        let got = self.rx.as_ref().map(|rx| rx.recv());
        match got {
            Some(Ok(item)) => {
                self.next += 1;
                item
            }
            _ => Err(VideoError::Thread {
                path: self.path.clone(),
                message: "stopped after an earlier error".into(),
            }),
        }
    }
}

impl Drop for ClipReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver unblocks a thread waiting to send.
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_worker(mut w: Worker, tx: SyncSender<Result<Arc<Raster>, VideoError>>, frames: u64) {
    // swscale contexts are not Send: the converter lives on this thread only.
    let mut conv = Converter::default();
    for k in 0..frames {
        match w.frame(k, &mut conv) {
            Ok(pic) => {
                if tx.send(Ok(pic)).is_err() {
                    return;
                }
            }
            Err(Halt::Stopped) => return,
            Err(Halt::Failed(e)) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::yuv::rotate;

    fn mapping(rate: f64, fps: (u32, u32), tb: (i32, i32), trim: f64, looped: bool) -> Mapping {
        let timing = ClipTiming {
            trim_start: trim,
            rate,
            looped,
            ..ClipTiming::default()
        };
        Mapping::new(&timing, fps, Rational(tb.0, tb.1), 0)
    }

    #[test]
    fn targets_are_exact_over_hours() {
        // 29.97 source (tb 1/30000) read at 30 fps: frame k targets floor(k * 1000) ticks.
        let m = mapping(1.0, (30, 1), (1, 30000), 0.0, false);
        for k in [0u64, 1, 1799, 432_000, 4 * 3600 * 30] {
            assert_eq!(m.target(k, None).1, (k * 1000) as i64);
        }
        // Rate 2 at 25 fps after a 1 s trim, tb 1/12800: 1 s + 2k/25 s.
        let m = mapping(2.0, (25, 1), (1, 12800), 1.0, false);
        assert_eq!(m.target(0, None).1, 12800);
        assert_eq!(m.target(7, None).1, 12800 + 7 * 1024);
    }

    #[test]
    fn loops_and_holds() {
        let m = mapping(1.0, (25, 1), (1, 25), 0.0, true);
        assert_eq!(m.target(30, None), (0, 30));
        assert_eq!(m.target(37, Some(25)), (1, 12));
        let mut m = mapping(1.0, (25, 1), (1, 25), 0.0, false);
        m.end = Some(10);
        assert_eq!(m.target(12, Some(25)), (0, 9));
    }

    #[test]
    fn rotation_snaps() {
        assert_eq!(snap_rotation(-90.0), 270);
        assert_eq!(snap_rotation(89.6), 90);
        assert_eq!(snap_rotation(180.0), 180);
        assert_eq!(snap_rotation(f64::NAN), 0);
    }

    #[test]
    fn rotate_clockwise() {
        // 2x1: A B → rotated 90° clockwise is 1x2: A over B.
        let src = [1, 1, 1, 255, 2, 2, 2, 255];
        let mut out = Raster::new(0, 0);
        rotate(&src, 2, 1, 90, &mut out);
        assert_eq!((out.width, out.height), (1, 2));
        assert_eq!((out.pixel(0, 0)[0], out.pixel(0, 1)[0]), (1, 2));
        rotate(&src, 2, 1, 270, &mut out);
        assert_eq!((out.pixel(0, 0)[0], out.pixel(0, 1)[0]), (2, 1));
        rotate(&src, 2, 1, 180, &mut out);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!((out.pixel(0, 0)[0], out.pixel(1, 0)[0]), (2, 1));
    }
}
