//! Stage "encode": H.264 (libx264) + AAC-LC into MP4 with the moov atom first (faststart),
//! in-process through libav (ffmpeg-next). Follows ffmpeg-next's sequence: open encoders →
//! add streams → `write_header` → send/receive → flush → `write_trailer`.
//!
//! Audio is encoded on a thread of its own ([`AudioEncoder::run`]), which may run up to
//! [`AUDIO_AHEAD_PACKETS`] packets ahead of the video; after each video picture the muxer
//! takes the audio packets up to that picture's end time, so the file stays interleaved.
//!
//! Repeated pictures (static spans) are not sent to x264 again: [`h264::Splicer`] writes each
//! copy as an all-skip P picture, an exact copy that costs ~20 bytes and no encoder time. A
//! picture that differs from the last reference only in a few macroblocks of one row (a
//! progress bar's step) is written as that reference with just those macroblocks intra-coded
//! over it by a tiny second x264 (a *patch*, see [`h264`]).

pub mod aac;
pub mod error;
mod extradata;
pub mod h264;
mod mux;
pub mod packets;
mod patch;
mod segment;
pub mod subtitles;

use aac::{AudioDone, AudioMsg};
pub use aac::{AudioEncoder, AUDIO_AHEAD_PACKETS};
pub use error::EncodeError;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use ff::{codec, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ff;

use crate::audio::master::LoudnessReport;
use crate::compose::frame::YuvFrame;
use crate::encode::packets::Store;
use crate::plan::{Fps, SAMPLE_RATE};
use patch::PatchEncoder;

/// x264 settings while splicing. B-frames are never references (b-pyramid none), and nothing
/// in a B-frame's prediction may depend on picture order distances, which splicing changes:
/// no implicit weighted bi-prediction (weightb 0) and spatial, not temporal, direct mode.
pub const X264_SPLICE_PARAMS: &str = "b-pyramid=none:weightb=0:direct=spatial";

/// While splicing, x264 is told that a picture followed by copies lasts this many frames at
/// most. x264's rate control gives a picture that stays on screen longer more bits (as its
/// macroblock tree does for a picture that later frames copy, when it sees them); the whole
/// duration of a long static span would over-spend, a single frame would under-spend.
/// Chosen by measuring size and SSIM against plain x264 (BENCHMARKS.md).
pub const HOLD_FRAMES: u64 = 1;

/// A picture sent to x264 and the spliced pictures that follow it.
#[derive(Debug, Clone)]
struct Pending {
    /// The timestamp x264 was given.
    clock: i64,
    /// Output frame index.
    index: u64,
    /// Spliced pictures after it, in order: so many frames of an all-skip copy (`None`) or
    /// of a patched picture.
    tail: Vec<(u64, Option<Arc<h264::Patch>>)>,
    received: bool,
}

impl Pending {
    fn spliced(&self) -> bool {
        !self.tail.is_empty()
    }
}

/// The widest patch, in macroblocks, coded on its own instead of sending the picture to x264.
pub const MAX_PATCH_MBS: u32 = 8;

/// The last picture x264 was told to make a reference (I or P) while it is still waiting to
/// be written: later pictures that differ from it in a few macroblocks of one row are
/// written as patches over it.
struct Base {
    index: u64,
    picture: YuvFrame,
}

/// A keyframe at least every 5 s: seekable in browsers, cheap for slides.
fn gop_frames(fps: Fps) -> u32 {
    (fps.as_f64() * 5.0).round().max(1.0) as u32
}

/// Opens libx264 as configured: yuv420p, High profile (High 4:4:4 when lossless), BT.709
/// tagged, the splicing settings when repeats are spliced.
fn open_x264(cfg: &EncoderConfig, global_header: bool) -> Result<encoder::Video, EncodeError> {
    let x264 = encoder::find_by_name("libx264").ok_or(EncodeError::MissingEncoder("libx264"))?;
    let v_tb = Rational(cfg.fps.den as i32, cfg.fps.num as i32);
    let mut v = codec::context::Context::new_with_codec(x264)
        .encoder()
        .video()
        .map_err(EncodeError::ff("video encoder context"))?;
    v.set_width(cfg.width);
    v.set_height(cfg.height);
    v.set_format(format::Pixel::YUV420P);
    v.set_time_base(v_tb);
    v.set_frame_rate(Some(Rational(cfg.fps.num as i32, cfg.fps.den as i32)));
    v.set_gop(gop_frames(cfg.fps));
    v.set_colorspace(ff::color::Space::BT709);
    v.set_color_range(ff::color::Range::MPEG);
    v.set_color_primaries(ff::color::Primaries::BT709);
    v.set_color_transfer_characteristic(ff::color::TransferCharacteristic::BT709);
    if global_header {
        v.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = Dictionary::new();
    opts.set("preset", cfg.preset);
    if cfg.threads > 0 {
        opts.set("threads", &cfg.threads.to_string());
    }
    let mut params: Vec<&str> = Vec::new();
    if cfg.skip_repeats {
        // Splicing needs B-frames that are never references (see `h264`).
        params.push(X264_SPLICE_PARAMS);
    }
    if let Some(extra) = cfg.x264_params.as_deref().filter(|p| !p.is_empty()) {
        params.push(extra);
    }
    if !params.is_empty() {
        opts.set("x264-params", &params.join(":"));
    }
    if cfg.lossless {
        opts.set("qp", "0");
        opts.set("profile", "high444");
    } else {
        opts.set("crf", &cfg.crf.to_string());
        opts.set("profile", "high");
    }
    v.open_as_with(x264, opts)
        .map_err(EncodeError::ff("open libx264"))
}

/// Everything the encoder needs to know up front.
#[derive(Debug, Clone)]
pub struct EncoderConfig {
    /// Frame width (even).
    pub width: u32,
    /// Frame height (even).
    pub height: u32,
    /// Frame rate.
    pub fps: Fps,
    /// libx264 preset.
    pub preset: &'static str,
    /// libx264 CRF.
    pub crf: u32,
    /// AAC bitrate, bit/s.
    pub audio_bitrate: usize,
    /// The AAC stream is encoded in chunks of this many samples (0: in one piece; see
    /// [`crate::plan::PlanEncoding::audio_chunk_samples`]).
    pub audio_chunk: u64,
    /// Write repeated pictures as all-skip P pictures instead of encoding them again (and run
    /// x264 without B-pyramid, which the splicing needs). Default on.
    pub skip_repeats: bool,
    /// Write pictures that differ from the last reference in a few macroblocks of one row
    /// (a progress bar's step) as that reference with the changed macroblocks intra-coded
    /// over it, instead of sending them to x264. Needs `skip_repeats`; off when `lossless`.
    /// Default on.
    pub patches: bool,
    /// Lossless (x264 QP 0, same YUV frames): a reference for quality measurements.
    pub lossless: bool,
    /// Extra libx264 settings (`key=value:key=value`), applied after reelsmith's own.
    pub x264_params: Option<String>,
    /// libx264 threads; 0 lets x264 choose (1.5 per core).
    pub threads: usize,
    /// The video is encoded in segments ([`Encoder::begin_segment`]). x264 keeps its
    /// look-ahead thread: with the look-ahead on the feeding thread (`sync-lookahead=0`) a
    /// segmented 1080p render took 1.15x as long (median of 3), for bytes that repeat from
    /// run to run more often (x264's look-ahead thread decides a fresh x264's first frame
    /// types partly by how fast pictures arrive). A segment copied from the scene cache shows
    /// the same pictures as encoding it again, not always the same bytes.
    pub segments: bool,
    /// Fail on purpose when this frame is reached (tests of the failure path).
    #[cfg(feature = "fault-injection")]
    pub fail_at_frame: Option<u64>,
    /// Closed captions to store as a subtitle track (`mov_text`), if any.
    pub captions: Option<subtitles::Track>,
    /// Chapters (titles and times), in order; none when empty.
    pub chapters: Vec<crate::plan::captions::Cue>,
    /// While splicing, the most frames x264 is told a picture lasts ([`HOLD_FRAMES`]).
    pub hold: u64,
}

impl EncoderConfig {
    /// The encoder settings of `plan` (its size, rate, quality, audio bitrate, encoding and
    /// captions), with `threads` for x264 (0: x264's choice).
    pub fn for_plan(plan: &crate::plan::Plan, threads: usize) -> EncoderConfig {
        let e = &plan.encoding;
        EncoderConfig {
            width: plan.width,
            height: plan.height,
            fps: plan.fps,
            preset: plan.quality.x264_preset(),
            crf: plan.quality.x264_crf(),
            audio_bitrate: plan.audio_bitrate_kbps as usize * 1000,
            audio_chunk: e.audio_chunk_samples,
            skip_repeats: e.skip_repeats,
            patches: e.patches,
            lossless: e.lossless,
            x264_params: e.x264_params.clone(),
            threads,
            segments: e.segments && e.skip_repeats,
            #[cfg(feature = "fault-injection")]
            fail_at_frame: None,
            captions: plan.captions.embed.then(|| subtitles::Track {
                cues: plan.captions.cues.clone(),
                language: plan.captions.language.clone(),
                end_ms: (plan.duration_s() * 1000.0).round() as u64,
            }),
            hold: e.hold_frames.max(1),
            chapters: plan.chapters.clone(),
        }
    }
}

/// Counters of a finished encode.
#[derive(Debug, Clone, Default)]
pub struct EncodeStats {
    /// Video frames written.
    pub frames: u64,
    /// Of those, frames x264 encoded (the rest are spliced all-skip copies and patches).
    pub encoded_frames: u64,
    /// Frames written as a patch over the last reference picture.
    pub patched_frames: u64,
    /// Distinct patches coded.
    pub patches: u64,
    /// Segments the video was encoded in ([`Encoder::begin_segment`]).
    pub segments: u64,
    /// Of those, segments copied from the scene cache.
    pub segments_reused: u64,
    /// Frames in the segments copied from the scene cache.
    pub frames_reused: u64,
    /// Time spent flushing x264 at segment seams (writing the pictures it held).
    pub seam_flush: Duration,
    /// Time spent closing one x264 and opening the next at segment seams.
    pub seam_open: Duration,
    /// Audio samples (per channel) encoded.
    pub samples: u64,
    /// Video bytes written.
    pub video_bytes: u64,
    /// Audio bytes written.
    pub audio_bytes: u64,
    /// Loudness of the delivered audio.
    pub loudness: LoudnessReport,
    /// Why some source audio could not be read back (silence went out in its place).
    pub audio_source_error: Option<String>,
}

/// An open MP4 being written.
pub struct Encoder {
    /// The MP4; `None` when the packets only go to segment files
    /// ([`Encoder::segments_only`]).
    octx: Option<format::context::Output>,
    /// x264; `None` only between two segments' encoders.
    video: Option<encoder::Video>,
    /// Packets from the [`AudioEncoder`]'s thread.
    audio_rx: Receiver<AudioMsg>,
    /// The next audio packet, received but not yet due.
    audio_next: Option<Packet>,
    /// The audio thread's last word, once received.
    audio_done: Option<Result<AudioDone, EncodeError>>,
    v_index: usize,
    a_index: usize,
    v_tb: Rational,
    a_tb: Rational,
    v_stream_tb: Rational,
    a_stream_tb: Rational,
    fps: Fps,
    cfg: EncoderConfig,
    stats: EncodeStats,
    /// Present when repeats are spliced in as skip pictures.
    splicer: Option<h264::Splicer>,
    /// Frames sent to x264 and not yet written, with the copies to write after each.
    pending: VecDeque<Pending>,
    /// Video packets written (decode order position of the next one).
    written: u64,
    /// Timestamp for the next picture sent to x264 while splicing (see [`HOLD_FRAMES`]).
    clock: i64,
    /// [`HOLD_FRAMES`], or its override, read once.
    hold: u64,
    /// Output index of the last keyframe asked for or seen.
    last_key: u64,
    /// Longest run of frames without a keyframe.
    gop: u64,
    /// The x264 input picture, reused.
    picture: Option<frame::Video>,
    /// What patches are coded over, while one can be.
    base: Option<Base>,
    /// Patch encoders by width in macroblocks; `None` once patching failed.
    patchers: Option<HashMap<u32, PatchEncoder>>,
    /// Set by [`Encoder::patches_follow`] for the next picture.
    patches_follow: bool,
    /// The container was opened with global headers (x264 is reopened the same way).
    global_header: bool,
    /// The video stream's extradata (spliced form): every segment's x264 must make the same.
    stream_extradata: Vec<u8>,
    /// The last video packet written was an IDR picture with this `idr_pic_id`.
    last_idr_id: Option<u32>,
    /// First frame of the current segment (see [`Encoder::begin_segment`]).
    segment_start: u64,
    /// A picture was sent to the current x264.
    x264_used: bool,
    /// The scene cache entry the current segment's packets go to.
    record: Option<Record>,
}

/// What [`Encoder::create`] or [`Encoder::segments_only`] opened.
struct Opened {
    octx: Option<format::context::Output>,
    video: encoder::Video,
    splicer: Option<h264::Splicer>,
    stream_extradata: Vec<u8>,
    global_header: bool,
    v_index: usize,
    a_index: usize,
    v_stream_tb: Rational,
    a_stream_tb: Rational,
}

/// A segment being kept for the scene cache.
struct Record {
    store: Store,
    start: u64,
    encoded: u64,
    patched: u64,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Encoder {
    /// Creates `path` (an MP4, whatever its extension) and opens both encoders. The audio
    /// encoder comes back on its own, to be run on another thread ([`AudioEncoder::run`]);
    /// [`Encoder::finish`] waits for it.
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed.
    pub fn create(
        path: &Path,
        cfg: &EncoderConfig,
    ) -> Result<(Encoder, AudioEncoder), EncodeError> {
        crate::media::init().map_err(EncodeError::ff("init"))?;
        let mut octx = format::output_as(path, "mp4").map_err(EncodeError::ff("create output"))?;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);

        let x264 =
            encoder::find_by_name("libx264").ok_or(EncodeError::MissingEncoder("libx264"))?;
        let v_tb = Rational(cfg.fps.den as i32, cfg.fps.num as i32);
        let video = open_x264(cfg, global_header)?;
        let mut splicer = None;
        let mut stream_extradata = extradata::of_context(&video);
        let v_index = {
            let mut st = octx
                .add_stream(x264)
                .map_err(EncodeError::ff("add video stream"))?;
            st.set_parameters(&video);
            st.set_time_base(v_tb);
            if cfg.skip_repeats {
                match h264::Splicer::new(&extradata::of_context(&video)) {
                    Ok((s, avcc)) => {
                        extradata::set_on_stream(&mut st, &avcc)?;
                        stream_extradata = avcc;
                        splicer = Some(s);
                    }
                    Err(why) => {
                        tracing::warn!("repeated frames will be encoded again: {why}");
                    }
                }
            }
            st.index()
        };

        // Audio: native AAC-LC, 48 kHz stereo, float planar.
        let aac = encoder::find(codec::Id::AAC).ok_or(EncodeError::MissingEncoder("aac"))?;
        let a_tb = Rational(1, SAMPLE_RATE as i32);
        let audio = aac::open(cfg.audio_bitrate, global_header)?;
        let a_index = {
            let mut st = octx
                .add_stream(aac)
                .map_err(EncodeError::ff("add audio stream"))?;
            st.set_parameters(&audio);
            st.set_time_base(a_tb);
            st.index()
        };

        let captions = match &cfg.captions {
            Some(track) if !track.cues.is_empty() => {
                let mt = encoder::find(codec::Id::MOV_TEXT)
                    .ok_or(EncodeError::MissingEncoder("mov_text"))?;
                let mut st = octx
                    .add_stream(mt)
                    .map_err(EncodeError::ff("add subtitle stream"))?;
                // Only the codec's type and id: the samples are written as they are.
                let ctx = codec::context::Context::new_with_codec(mt)
                    .encoder()
                    .subtitle()
                    .map_err(EncodeError::ff("subtitle context"))?;
                st.set_parameters(&ctx);
                extradata::set_on_stream(&mut st, &subtitles::mov_text_extradata())?;
                st.set_time_base(Rational(1, 1000));
                let mut meta = Dictionary::new();
                meta.set("language", &track.language);
                meta.set("handler_name", "Captions");
                st.set_metadata(meta);
                Some((st.index(), track))
            }
            _ => None,
        };

        for (i, c) in cfg.chapters.iter().enumerate() {
            octx.add_chapter(
                i as i64 + 1,
                Rational(1, 1000),
                c.start_ms as i64,
                c.end_ms as i64,
                &c.text,
            )
            .map_err(EncodeError::ff("add chapter"))?;
        }
        let mut mux_opts = Dictionary::new();
        mux_opts.set("movflags", "+faststart");
        // Interleave strictly by time however far the audio thread lags (libav's default
        // gives up after 10 s and writes video alone): a browser then has each second's
        // audio next to its video. Holds at most the video packets of the lag.
        mux_opts.set("max_interleave_delta", "0");
        octx.write_header_with(mux_opts)
            .map_err(EncodeError::ff("write_header"))?;
        // The muxer may change stream time bases in write_header: read them back.
        let v_stream_tb = octx.stream(v_index).map_or(v_tb, |s| s.time_base());
        let a_stream_tb = octx.stream(a_index).map_or(a_tb, |s| s.time_base());
        if let Some((index, track)) = captions {
            // The whole track now: the muxer holds its samples and sends each out when the
            // video and audio reach its time (the track runs to the video's end).
            let ms = Rational(1, 1000);
            let tb = octx.stream(index).map_or(ms, |s| s.time_base());
            for (start, duration, data) in subtitles::track_samples(&track.cues, track.end_ms) {
                let mut pkt = Packet::copy(&data);
                pkt.set_stream(index);
                pkt.set_pts(Some(start as i64));
                pkt.set_dts(Some(start as i64));
                pkt.set_duration(duration as i64);
                pkt.set_flags(ff::packet::Flags::KEY);
                pkt.rescale_ts(ms, tb);
                pkt.write_interleaved(&mut octx)
                    .map_err(EncodeError::ff("write caption"))?;
            }
        }
        let (audio, audio_rx) = AudioEncoder::new(
            audio,
            aac::Settings {
                bitrate: cfg.audio_bitrate,
                global_header,
                chunk: cfg.audio_chunk,
            },
        );
        let enc = Encoder::assemble(
            Opened {
                octx: Some(octx),
                video,
                splicer,
                stream_extradata,
                global_header,
                v_index,
                a_index,
                v_stream_tb,
                a_stream_tb,
            },
            audio_rx,
            cfg,
        );
        Ok((enc, audio))
    }

    /// An encoder whose packets go only to segment files, one per [`Encoder::begin_segment`]
    /// given a store (no container, no audio): the same H.264 stream, set up as for an MP4,
    /// whose segments [`Encoder::replay_segment`] copies into one. Needs splicing.
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, [`EncodeError::Splice`] if
    /// x264's parameter sets cannot be spliced.
    pub fn segments_only(cfg: &EncoderConfig) -> Result<Encoder, EncodeError> {
        crate::media::init().map_err(EncodeError::ff("init"))?;
        if !cfg.skip_repeats {
            return Err(EncodeError::Splice("segment files need splicing".into()));
        }
        // As for an MP4, whose muxer asks for global headers.
        let video = open_x264(cfg, true)?;
        let (splicer, avcc) = h264::Splicer::new(&extradata::of_context(&video))
            .map_err(|e| EncodeError::Splice(e.to_string()))?;
        let v_tb = Rational(cfg.fps.den as i32, cfg.fps.num as i32);
        let a_tb = Rational(1, SAMPLE_RATE as i32);
        // Nobody sends audio: the channel is closed.
        let (_, audio_rx) = std::sync::mpsc::sync_channel(1);
        Ok(Encoder::assemble(
            Opened {
                octx: None,
                video,
                splicer: Some(splicer),
                stream_extradata: avcc,
                global_header: true,
                v_index: 0,
                a_index: 1,
                v_stream_tb: v_tb,
                a_stream_tb: a_tb,
            },
            audio_rx,
            cfg,
        ))
    }

    fn assemble(o: Opened, audio_rx: Receiver<AudioMsg>, cfg: &EncoderConfig) -> Encoder {
        Encoder {
            octx: o.octx,
            video: Some(o.video),
            audio_rx,
            audio_next: None,
            audio_done: None,
            v_index: o.v_index,
            a_index: o.a_index,
            v_tb: Rational(cfg.fps.den as i32, cfg.fps.num as i32),
            a_tb: Rational(1, SAMPLE_RATE as i32),
            v_stream_tb: o.v_stream_tb,
            a_stream_tb: o.a_stream_tb,
            fps: cfg.fps,
            cfg: cfg.clone(),
            stats: EncodeStats::default(),
            splicer: o.splicer,
            pending: VecDeque::new(),
            written: 0,
            clock: 0,
            hold: cfg.hold.max(1),
            last_key: 0,
            gop: u64::from(gop_frames(cfg.fps)),
            picture: None,
            base: None,
            // A lossless reference must stay lossless: no patches (they are coded at the CRF).
            patchers: Some(HashMap::new()).filter(|_| cfg.patches && !cfg.lossless),
            patches_follow: false,
            global_header: o.global_header,
            stream_extradata: o.stream_extradata,
            last_idr_id: None,
            segment_start: 0,
            x264_used: false,
            record: None,
        }
    }

    /// Whether repeats are written as skip pictures.
    pub fn splices(&self) -> bool {
        self.splicer.is_some()
    }

    /// Says that the pictures after the next one pushed will likely differ from it only in a
    /// small region (the timeline knows: only progress bars move). The next picture is then
    /// made a reference even when shown for one frame, so that they can be patches over it.
    pub fn patches_follow(&mut self, likely: bool) {
        self.patches_follow = likely && self.patchers.is_some();
    }

    /// Frames encoded so far.
    pub fn frames(&self) -> u64 {
        self.stats.frames
    }

    fn x264(&mut self) -> Result<&mut encoder::Video, EncodeError> {
        self.video
            .as_mut()
            .ok_or_else(|| EncodeError::Splice("no x264 between segments".into()))
    }

    /// Sends x264 the end of its input and writes every picture it still holds.
    fn flush_video(&mut self) -> Result<(), EncodeError> {
        self.x264()?
            .send_eof()
            .map_err(EncodeError::ff("flush video"))?;
        self.drain_video()?;
        if !self.pending.is_empty() {
            return Err(EncodeError::Splice(format!(
                "x264 never returned {} frames",
                self.pending.len()
            )));
        }
        Ok(())
    }

    /// Encodes `pic` as the next `repeat` frames, then muxes the audio packets that belong
    /// under them as far as the audio thread has made them.
    ///
    /// With splicing, x264 sees the picture once (again at each keyframe interval) and the
    /// copies become all-skip pictures; without, every copy is encoded.
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed.
    pub fn push(
        &mut self,
        pic: &YuvFrame,
        repeat: u64,
        mut on_frame: impl FnMut(u64),
    ) -> Result<(), EncodeError> {
        let mut f = match self.picture.take() {
            Some(f) if f.width() == pic.width && f.height() == pic.height => f,
            _ => frame::Video::new(format::Pixel::YUV420P, pic.width, pic.height),
        };
        let result = self.push_frame(&mut f, pic, repeat, &mut on_frame);
        self.picture = Some(f);
        result
    }

    fn push_frame(
        &mut self,
        f: &mut frame::Video,
        pic: &YuvFrame,
        repeat: u64,
        on_frame: &mut impl FnMut(u64),
    ) -> Result<(), EncodeError> {
        if repeat > 0 && self.try_patch(pic, repeat)? {
            self.stats.frames += repeat;
            self.mux_audio(self.fps.sample_at_frame(self.stats.frames))?;
            on_frame(self.stats.frames);
            return Ok(());
        }
        let cw = pic.width.div_ceil(2) as usize;
        let ch = pic.height.div_ceil(2) as usize;
        for (plane, src, pw, ph) in [
            (0, &pic.y, pic.width as usize, pic.height as usize),
            (1, &pic.u, cw, ch),
            (2, &pic.v, cw, ch),
        ] {
            let stride = f.stride(plane);
            let dst = f.data_mut(plane);
            for row in 0..ph {
                dst[row * stride..row * stride + pw]
                    .copy_from_slice(&src[row * pw..(row + 1) * pw]);
            }
        }
        let hold = std::mem::take(&mut self.patches_follow);
        let mut left = repeat;
        while left > 0 {
            let n = self.stats.frames;
            let splicing = self.splicer.is_some();
            // While splicing, x264's keyframe interval counts the pictures it sees, not the
            // frames shown: a keyframe is asked for where a static run would cross the interval
            // (never in motion, where x264's own keyframes and scene cuts would collide with
            // it), and at twice the interval at the latest.
            let key = splicing
                && ((n >= self.last_key + self.gop && left > 1)
                    || n >= self.last_key + 2 * self.gop);
            if key {
                self.last_key = n;
            }
            // Frames this x264 picture stands for: all that are left, up to the next keyframe.
            let run = if splicing {
                let to_key = (self.last_key + self.gop).saturating_sub(n);
                if to_key > 0 {
                    left.min(to_key)
                } else {
                    left
                }
            } else {
                1
            };
            #[cfg(feature = "fault-injection")]
            if let Some(at) = self.cfg.fail_at_frame.filter(|&at| at >= n && at < n + run) {
                return Err(EncodeError::Injected(at));
            }
            let clock = if splicing { self.clock } else { n as i64 };
            self.clock += run.min(self.hold) as i64;
            f.set_pts(Some(clock));
            // A picture that copies will repeat, or patches be coded over, must be a
            // reference: I or P, never B.
            let reference = key || run > 1 || (hold && run == left);
            f.set_kind(if key {
                ff::picture::Type::I
            } else if reference {
                ff::picture::Type::P
            } else {
                ff::picture::Type::None
            });
            self.x264()?
                .send_frame(f)
                .map_err(EncodeError::ff("send video frame"))?;
            self.x264_used = true;
            if self.splicer.is_some() {
                let mut tail = Vec::new();
                if run > 1 {
                    tail.push((run - 1, None));
                }
                self.pending.push_back(Pending {
                    clock,
                    index: n,
                    tail,
                    received: false,
                });
                self.set_base(reference.then_some((n, pic)));
            }
            self.stats.encoded_frames += 1;
            self.drain_video()?;
            self.stats.frames += run;
            left -= run;
            self.mux_audio(self.fps.sample_at_frame(self.stats.frames))?;
            on_frame(self.stats.frames);
        }
        Ok(())
    }

    fn push_tail(&mut self, frames: u64, patch: Option<Arc<h264::Patch>>) {
        if let Some(p) = self.pending.back_mut() {
            match (p.tail.last_mut(), &patch) {
                (Some((k, None)), None) => *k += frames,
                _ => p.tail.push((frames, patch)),
            }
        }
    }
}

fn is_again_or_eof(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Eof)
        || matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}
