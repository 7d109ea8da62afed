//! Reading media back, in-process through libav: stream facts (`reelsmith probe`), decoded
//! video frames as RGB (`reelsmith frame`, tests) and decoded audio as f32 (tests, levels).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ff::{format, media};
use ffmpeg_next as ff;

use crate::media::error::ProbeError;

/// Initializes libav once (idempotent) and keeps its logging quiet. Every use of libav in
/// reelsmith (reading and encoding) calls this first.
///
/// # Errors
/// libav's own, if it cannot initialise (the same on every later call).
pub fn init() -> Result<(), ff::Error> {
    static INIT: std::sync::OnceLock<Result<(), ff::Error>> = std::sync::OnceLock::new();
    *INIT.get_or_init(|| {
        let result = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Error);
        result
    })
}

/// Facts about a media file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeInfo {
    /// The file.
    pub path: PathBuf,
    /// Container format names, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format: String,
    /// Container duration in seconds.
    pub duration_s: f64,
    /// File size.
    pub size_bytes: u64,
    /// Overall bitrate, bit/s.
    pub bit_rate: i64,
    /// MP4/MOV only: the `moov` atom comes before `mdat`, so playback can start before the
    /// whole file has downloaded.
    pub faststart: Option<bool>,
    /// With more than one stream: the largest distance in time, seconds, between the streams'
    /// packets at any point of the file. A player reading the file from the start must read
    /// this much of one stream ahead to reach the other's data for the same moment; a
    /// well-interleaved web video keeps it around a second or less. Subtitle tracks are left
    /// out (a caption may last seconds).
    pub interleave_s: Option<f64>,
    /// The streams.
    pub streams: Vec<StreamInfo>,
    /// The container's chapters, in order.
    pub chapters: Vec<ChapterInfo>,
}

/// One chapter of a container.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChapterInfo {
    /// Its title (the `title` metadata), empty if none.
    pub title: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// Facts about one stream.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StreamInfo {
    /// Stream index.
    pub index: usize,
    /// `video`, `audio` or another libav media type.
    pub kind: String,
    /// Codec name, e.g. `h264`, `aac`.
    pub codec: String,
    /// Codec profile, e.g. `High`, `LC`.
    pub profile: Option<String>,
    /// Start time in seconds.
    pub start_s: f64,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Packets counted by reading the whole stream (for video: frames).
    pub packets: u64,
    /// Video width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Video height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Pixel format, e.g. `yuv420p`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pix_fmt: Option<String>,
    /// Average frame rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Colour matrix, e.g. `BT709`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_space: Option<String>,
    /// Audio sample rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Audio channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u16>,
    /// Language tag (ISO 639-2), when not `und`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl StreamInfo {
    /// Sound or picture, which run without gaps; subtitles are sparse (a caption may last
    /// seconds), so they are left out of [`ProbeInfo::interleave_s`].
    pub fn continuous(&self) -> bool {
        self.kind == "video" || self.kind == "audio"
    }
}

impl ProbeInfo {
    /// The first stream of `kind` (`"video"`, `"audio"`).
    pub fn stream(&self, kind: &str) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| s.kind == kind)
    }
}

/// The demuxers an input may be opened with: containers of one file holding common audio
/// and video (MP4/MOV/M4A, Matroska/WebM, AVI, MPEG-TS and -PS, FLV, Ogg, WAV, W64, AIFF,
/// CAF, ASF/WMA, WavPack, AMR) and raw audio streams (MP3, FLAC, AAC, AC-3, E-AC-3). Left
/// out on purpose: every demuxer that opens other files or URLs named inside the input
/// (HLS and DASH playlists, concat lists, image sequences, `tee`, ...). The MOV demuxer's
/// external references (`enable_drefs`) stay off, as libav's default.
pub const INPUT_FORMATS: &str =
    "mov,matroska,avi,mpegts,mpeg,flv,ogg,wav,w64,aiff,caf,asf,wv,amr,mp3,flac,aac,ac3,eac3";

/// Opens a media file for reading, confined: only the `file` protocol, and only the
/// demuxers of [`INPUT_FORMATS`], so a playlist or concat list cannot make libav read
/// another file or a URL. Every input reelsmith reads through libav is opened here.
/// `interrupt`, when given, aborts blocking I/O once it is set.
///
/// # Errors
/// libav's error; [`is_refused`] tells a refusal by the whitelists apart.
pub fn open_input(
    path: &Path,
    interrupt: Option<Arc<AtomicBool>>,
) -> Result<format::context::Input, ff::Error> {
    init()?;
    let mut opts = ff::Dictionary::new();
    opts.set("protocol_whitelist", "file");
    opts.set("format_whitelist", INPUT_FORMATS);
    match interrupt {
        Some(stop) => format::input_with_interrupt_and_dictionary(
            path,
            move || stop.load(Ordering::Relaxed),
            opts,
        ),
        None => format::input_with_dictionary(path, opts),
    }
}

/// Whether [`open_input`] failed because the file needs a demuxer or protocol outside the
/// whitelists (libav answers `EINVAL`).
pub fn is_refused(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EINVAL)
}

fn open(path: &Path) -> Result<format::context::Input, ProbeError> {
    open_input(path, None).map_err(|source| {
        if is_refused(&source) {
            ProbeError::Refused { path: path.into() }
        } else {
            ProbeError::Ffmpeg {
                path: path.into(),
                op: "open",
                source,
            }
        }
    })
}

fn seconds(ts: i64, tb: ff::Rational) -> f64 {
    if ts == ff::ffi::AV_NOPTS_VALUE {
        return 0.0;
    }
    ts as f64 * f64::from(tb)
}

/// libav's profile names: `H264(High)` → `High`, `AAC(Low)` → `LC`.
fn profile_name(p: ff::codec::Profile) -> Option<String> {
    let s = format!("{p:?}");
    if s == "Unknown" || s == "Reserved" {
        return None;
    }
    let inner = match (s.find('('), s.rfind(')')) {
        (Some(a), Some(b)) if b > a => &s[a + 1..b],
        _ => s.as_str(),
    };
    Some(
        match (s.starts_with("AAC"), inner) {
            (true, "Low") => "LC",
            (true, "HE") => "HE-AAC",
            (true, "HEv2") => "HE-AACv2",
            _ => inner,
        }
        .to_string(),
    )
}

/// Reads a file's container and stream facts (counting every packet).
///
/// # Errors
/// [`ProbeError`] if libav cannot open or read it.
pub fn probe(path: &Path) -> Result<ProbeInfo, ProbeError> {
    let mut ictx = open(path)?;
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut streams = Vec::new();
    for st in ictx.streams() {
        let params = st.parameters();
        let kind = match params.medium() {
            media::Type::Video => "video".to_string(),
            media::Type::Audio => "audio".to_string(),
            other => format!("{other:?}").to_lowercase(),
        };
        let ctx =
            ff::codec::context::Context::from_parameters(params.clone()).map_err(|source| {
                ProbeError::Ffmpeg {
                    path: path.into(),
                    op: "read stream parameters",
                    source,
                }
            })?;
        let codec = ff::codec::decoder::find(params.id())
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| format!("{:?}", params.id()).to_lowercase());
        let tb = st.time_base();
        let mut info = StreamInfo {
            index: st.index(),
            kind: kind.clone(),
            codec,
            start_s: seconds(st.start_time(), tb),
            duration_s: seconds(st.duration(), tb),
            language: st
                .metadata()
                .get("language")
                .filter(|l| *l != "und")
                .map(str::to_string),
            ..StreamInfo::default()
        };
        if let Ok(dec) = ctx.decoder().open_as(ff::codec::decoder::find(params.id())) {
            info.profile = profile_name(dec.profile());
            match params.medium() {
                media::Type::Video => {
                    if let Ok(v) = dec.video() {
                        info.width = Some(v.width());
                        info.height = Some(v.height());
                        info.pix_fmt = v.format().descriptor().map(|d| d.name().to_string());
                        info.color_space = Some(format!("{:?}", v.color_space()));
                        let r = st.avg_frame_rate();
                        if r.denominator() != 0 {
                            info.fps = Some(f64::from(r));
                        }
                    }
                }
                media::Type::Audio => {
                    if let Ok(a) = dec.audio() {
                        info.sample_rate = Some(a.rate());
                        info.channels = Some(a.channels());
                    }
                }
                _ => {}
            }
        }
        streams.push(info);
    }
    // (file position, stream, decode time in seconds) of every packet.
    let mut placed: Vec<(i64, usize, f64)> = Vec::new();
    for (st, packet) in ictx.packets() {
        if let Some(s) = streams.get_mut(st.index()) {
            s.packets += 1;
        }
        let continuous = streams.get(st.index()).is_some_and(StreamInfo::continuous);
        if let Some(t) = packet.dts().or(packet.pts()).filter(|_| continuous) {
            placed.push((
                packet.position() as i64,
                st.index(),
                seconds(t, st.time_base()),
            ));
        }
    }
    let continuous = streams.iter().filter(|s| s.continuous()).count();
    let interleave_s = (continuous > 1).then(|| interleave(placed, streams.len()));
    let faststart = if ictx.format().name().contains("mp4") {
        Some(moov_before_mdat(path))
    } else {
        None
    };
    Ok(ProbeInfo {
        path: path.into(),
        format: ictx.format().name().to_string(),
        duration_s: ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE),
        size_bytes,
        bit_rate: ictx.bit_rate(),
        faststart,
        interleave_s,
        streams,
        chapters: ictx
            .chapters()
            .map(|c| {
                let tb = f64::from(c.time_base());
                ChapterInfo {
                    title: c.metadata().get("title").unwrap_or_default().to_string(),
                    start_s: c.start() as f64 * tb,
                    end_s: c.end() as f64 * tb,
                }
            })
            .collect(),
    })
}

/// The largest time distance between streams along the file (see [`ProbeInfo::interleave_s`]).
fn interleave(mut placed: Vec<(i64, usize, f64)>, streams: usize) -> f64 {
    placed.sort_by_key(|p| p.0);
    let mut last: Vec<Option<f64>> = vec![None; streams];
    let mut worst = 0f64;
    for (_, s, t) in placed {
        last[s] = Some(t);
        let (mut lo, mut hi, mut seen) = (f64::MAX, f64::MIN, 0);
        for &t in last.iter().flatten() {
            (lo, hi, seen) = (lo.min(t), hi.max(t), seen + 1);
        }
        if seen > 1 {
            worst = worst.max(hi - lo);
        }
    }
    worst
}

/// Walks the top-level MP4 boxes: true if `moov` comes before `mdat`.
fn moov_before_mdat(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut pos = 0u64;
    while pos + 8 <= len {
        let mut h = [0u8; 16];
        if f.seek(SeekFrom::Start(pos)).is_err() || f.read_exact(&mut h[..8]).is_err() {
            return false;
        }
        let mut size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        match &h[4..8] {
            b"moov" => return true,
            b"mdat" => return false,
            _ => {}
        }
        if size == 1 {
            if f.read_exact(&mut h[8..16]).is_err() {
                return false;
            }
            size = u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
        }
        if size < 8 {
            return false;
        }
        pos += size;
    }
    false
}

fn ff_err(path: &Path, op: &'static str) -> impl FnOnce(ff::Error) -> ProbeError {
    let path = path.to_path_buf();
    move |source| ProbeError::Ffmpeg { path, op, source }
}

/// Opens `path` and a decoder for its best stream of `kind`: (input, stream index, stream
/// time base, decoder).
fn open_best(
    path: &Path,
    kind: media::Type,
) -> Result<
    (
        format::context::Input,
        usize,
        ff::Rational,
        ff::decoder::Decoder,
    ),
    ProbeError,
> {
    let ictx = open(path)?;
    let st = ictx.streams().best(kind).ok_or(ProbeError::NoStream {
        path: path.into(),
        kind: if kind == media::Type::Video {
            "video"
        } else {
            "audio"
        },
    })?;
    let (index, tb) = (st.index(), st.time_base());
    let dec = ff::codec::context::Context::from_parameters(st.parameters())
        .map_err(ff_err(path, "read stream parameters"))?
        .decoder();
    Ok((ictx, index, tb, dec))
}

/// An RGB picture decoded from a video.
pub type RgbFrame = image::RgbImage;

/// Decodes every video frame in order and hands it to `f` as RGB (BT.709 for HD and BT.601
/// for SD unless tagged otherwise), converted as clips are ([`crate::media::yuv`]), unrotated.
/// `f` returns false to stop. Returns the number of frames
/// decoded.
///
/// # Errors
/// [`ProbeError`] if the file cannot be opened or decoded.
pub fn decode_video(
    path: &Path,
    mut f: impl FnMut(u64, &RgbFrame) -> bool,
) -> Result<u64, ProbeError> {
    let (mut ictx, index, _, dec) = open_best(path, media::Type::Video)?;
    let err = |op| ff_err(path, op);
    let mut dec = dec.video().map_err(err("open video decoder"))?;
    let mut n = 0u64;
    let mut frame = ff::frame::Video::empty();
    let mut conv = crate::media::yuv::Converter::default();
    let mut go_on = true;
    let mut handle =
        |dec: &mut ff::decoder::Video, n: &mut u64, go_on: &mut bool| -> Result<(), ProbeError> {
            while *go_on && dec.receive_frame(&mut frame).is_ok() {
                let rgb = conv.rgb(&frame).map_err(err("convert frame"))?;
                *go_on = f(*n, &rgb);
                *n += 1;
            }
            Ok(())
        };
    for (s, packet) in ictx.packets() {
        if !go_on {
            break;
        }
        if s.index() != index {
            continue;
        }
        dec.send_packet(&packet)
            .map_err(err("decode video packet"))?;
        handle(&mut dec, &mut n, &mut go_on)?;
    }
    if go_on {
        dec.send_eof().map_err(err("flush video decoder"))?;
        handle(&mut dec, &mut n, &mut go_on)?;
    }
    Ok(n)
}

/// Decoded audio: interleaved f32, mono or stereo, at the file's own rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// Sample rate.
    pub rate: u32,
    /// Channels: 1 for mono files, else 2 (more channels are downmixed by libswresample).
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<f32>,
    /// Presentation time of the first decoded sample, seconds (after edit lists).
    pub start_s: f64,
}

/// What [`decode_audio_stream`] tells about a stream before its samples.
#[derive(Debug, Clone, Copy)]
pub struct AudioHead {
    /// Sample rate.
    pub rate: u32,
    /// Channels of the samples delivered: 1 for mono files, else 2.
    pub channels: u16,
}

/// Decodes the best audio stream of any format libav reads (WAV, MP3, AAC/M4A, FLAC, Ogg
/// Vorbis/Opus, ...) to interleaved f32: mono stays mono, anything else becomes stereo.
///
/// # Errors
/// [`ProbeError`] if the file cannot be opened or decoded.
pub fn decode_audio(path: &Path) -> Result<DecodedAudio, ProbeError> {
    let mut samples = Vec::new();
    let (head, start_s) = decode_audio_stream(path, &mut |_, chunk| {
        samples.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(DecodedAudio {
        rate: head.rate,
        channels: head.channels,
        samples,
        start_s,
    })
}

/// Receives decoded samples: see [`decode_audio_stream`].
pub type AudioSink<'a> = dyn FnMut(AudioHead, &[f32]) -> Result<(), ProbeError> + 'a;

/// [`decode_audio`] without holding the samples: each decoded frame's interleaved f32 samples
/// go to `sink` as they come, so memory does not grow with the file's length. Returns the
/// stream's head and the presentation time of its first sample, seconds.
///
/// Strict: a read error, a packet the demuxer marks as corrupt, a decoder error (CRC checks
/// on, minor errors fatal) or a frame the decoder marks as damaged is an error; so is a file
/// that ends before the length its header states (WAV: the `data` chunk's size; MP4/MOV,
/// FLAC, AIFF, CAF, W64: the stream's stated duration).
///
/// # Errors
/// [`ProbeError`] if the file cannot be opened or decoded, is damaged or truncated, or what
/// `sink` returns.
pub fn decode_audio_stream(
    path: &Path,
    sink: &mut AudioSink<'_>,
) -> Result<(AudioHead, f64), ProbeError> {
    use format::sample::Type;
    let (mut ictx, index, tb, mut dec) = open_best(path, media::Type::Audio)?;
    let declared_s = declared_audio_s(path, &ictx, index);
    let err = |op| ff_err(path, op);
    dec.check(ff::codec::decoder::Check::CRC | ff::codec::decoder::Check::EXPLODE);
    let mut dec = dec.audio().map_err(err("open audio decoder"))?;
    let channels: u16 = if dec.channels() == 1 { 1 } else { 2 };
    let out_layout = if channels == 1 {
        ff::ChannelLayout::MONO
    } else {
        ff::ChannelLayout::STEREO
    };
    let head = AudioHead {
        rate: dec.rate(),
        channels,
    };
    let mut start_s = f64::NAN;
    // Samples per channel decoded so far (for the time of damage and the length check).
    let mut decoded = 0u64;
    let mut frame = ff::frame::Audio::empty();
    let mut samples: Vec<f32> = Vec::new();
    let mut converter: Option<ff::software::resampling::Context> = None;
    let at = |decoded: u64| decoded as f64 / f64::from(head.rate.max(1));
    let damaged = |decoded: u64, message: String| ProbeError::Damaged {
        path: path.into(),
        at_s: at(decoded),
        message,
    };
    let mut collect = |dec: &mut ff::decoder::Audio,
                       start_s: &mut f64,
                       decoded: &mut u64|
     -> Result<(), ProbeError> {
        loop {
            match dec.receive_frame(&mut frame) {
                Ok(()) => {}
                Err(ff::Error::Eof) => return Ok(()),
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(damaged(*decoded, format!("the decoder failed: {e}"))),
            }
            if frame.is_corrupt() || frame.has_decode_errors() {
                return Err(damaged(
                    *decoded,
                    "the decoder found damaged data (it would conceal it)".into(),
                ));
            }
            if start_s.is_nan() {
                *start_s = frame.pts().map_or(0.0, |p| seconds(p, tb));
            }
            *decoded += frame.samples() as u64;
            if frame.channel_layout().is_empty() {
                frame.set_channel_layout(ff::ChannelLayout::default(i32::from(frame.channels())));
            }
            let conv = match &mut converter {
                Some(c) => c,
                None => converter.insert(
                    ff::software::resampling::Context::get(
                        frame.format(),
                        frame.channel_layout(),
                        frame.rate(),
                        format::Sample::F32(Type::Packed),
                        out_layout,
                        frame.rate(),
                    )
                    .map_err(err("set up sample conversion"))?,
                ),
            };
            // A fresh frame each time: swresample sizes it for this frame's samples.
            let mut packed = ff::frame::Audio::empty();
            conv.run(&frame, &mut packed)
                .map_err(err("convert samples"))?;
            let n = packed.samples() * usize::from(head.channels);
            let bytes = &packed.data(0)[..n * 4];
            samples.clear();
            samples.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            );
            sink(head, &samples)?;
        }
    };
    // Reading stops at the first damage; what comes before it is decoded, so that a file
    // cut short is reported by its length when its header states one.
    let mut damage = None;
    let mut step = |dec: &mut ff::decoder::Audio,
                    packet: Option<&ff::Packet>,
                    start_s: &mut f64,
                    decoded: &mut u64|
     -> Result<(), ProbeError> {
        let sent = match packet {
            Some(p) => dec.send_packet(p),
            None => dec.send_eof(),
        };
        if let Err(e) = sent {
            return Err(damaged(
                *decoded,
                format!("the decoder refused a packet: {e}"),
            ));
        }
        collect(dec, start_s, decoded)
    };
    loop {
        let mut packet = ff::Packet::empty();
        let last = match packet.read(&mut ictx) {
            Ok(()) if packet.stream() != index => continue,
            Ok(()) if packet.is_corrupt() => {
                // A packet cut by the end of the file: its samples count, then reading stops.
                damage = Some(
                    "the file ends inside a packet, or the demuxer found a damaged one".into(),
                );
                true
            }
            Ok(()) => false,
            Err(ff::Error::Eof) => break,
            Err(e) => {
                damage = Some(format!("cannot read the file: {e}"));
                break;
            }
        };
        match step(&mut dec, Some(&packet), &mut start_s, &mut decoded) {
            Ok(()) => {}
            Err(ProbeError::Damaged { message, .. }) => {
                damage.get_or_insert(message);
                break;
            }
            Err(e) => return Err(e),
        }
        if last {
            break;
        }
    }
    match step(&mut dec, None, &mut start_s, &mut decoded) {
        Ok(()) => {}
        Err(ProbeError::Damaged { message, .. }) => {
            damage.get_or_insert(message);
        }
        Err(e) => return Err(e),
    }
    if start_s.is_nan() {
        start_s = 0.0;
    }
    if let Some((declared_s, exact)) = declared_s {
        let held_s = at(decoded);
        // PCM in WAV: every sample counts. Coded audio: encoder delay and padding (AAC
        // priming, up to two frames) are not a cut.
        let slack = if exact {
            0.001
        } else {
            (4096.0 / f64::from(head.rate.max(1))).max(0.1)
        };
        if held_s + slack < declared_s {
            return Err(ProbeError::Truncated {
                path: path.into(),
                declared_s,
                held_s,
            });
        }
    }
    match damage {
        Some(message) => Err(damaged(decoded, message)),
        None => Ok((head, start_s)),
    }
}

/// The length, seconds, that the header of `path` states for stream `index`, where the
/// container states one exactly: WAV by its `data` chunk (read with hound: libav sizes the
/// stream by what the file holds), MP4/MOV, FLAC, AIFF, CAF and W64 by the stream's duration.
/// `None` for other containers (MP3 without a frame count, Ogg, ADTS, ...: their length is
/// measured, not stated) and for sizes that mean "unknown" (a WAV written to a pipe). The
/// flag is true where the length is exact to the sample (PCM in WAV).
fn declared_audio_s(
    path: &Path,
    ictx: &format::context::Input,
    index: usize,
) -> Option<(f64, bool)> {
    let name = ictx.format().name().to_string();
    let is = |n: &str| name.split(',').any(|x| x == n);
    if is("wav") {
        let r = hound::WavReader::open(path).ok()?;
        let spec = r.spec();
        let frames = u64::from(r.duration());
        let bytes = frames * u64::from(spec.channels) * u64::from(spec.bits_per_sample.div_ceil(8));
        // 0xFFFFFFFF, 0x7FFFF000 and the like: written before the length was known.
        if spec.sample_rate == 0 || bytes >= 0x7FFF_0000 {
            return None;
        }
        return Some((frames as f64 / f64::from(spec.sample_rate), true));
    }
    if !["mov", "flac", "aiff", "caf", "w64"].iter().any(|n| is(n)) {
        return None;
    }
    let st = ictx.stream(index)?;
    (st.duration() != ff::ffi::AV_NOPTS_VALUE && st.duration() > 0)
        .then(|| (seconds(st.duration(), st.time_base()), false))
}
