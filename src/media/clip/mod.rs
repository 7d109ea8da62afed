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
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ff::{format, media, Rational};
use ffmpeg_next as ff;

mod reader;
mod timing;

pub use reader::ClipReader;
pub use timing::ClipTiming;

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
    #[error("{}: {}", path.display(), crate::media::error::REFUSED)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::raster::Raster;
    use crate::media::yuv::rotate;

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
