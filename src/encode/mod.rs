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

pub mod error;
mod extradata;
pub mod h264;
pub mod packets;
pub mod subtitles;

pub use error::EncodeError;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ff::{codec, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ff;

use crate::encode::packets::{AudioFooter as Footer, Entry as PacketFile, SegmentFooter};
type Entry = PacketFile<Footer>;
use crate::audio::master::{LoudnessReport, Master};
use crate::compose::frame::YuvFrame;
use crate::encode::packets::{Store, StoredPacket};
use crate::plan::{Fps, SAMPLE_RATE};

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

/// An intra-only libx264 for patches of one width.
struct PatchEncoder {
    enc: encoder::Video,
    frame: frame::Video,
    pts: i64,
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
    /// While splicing, how many frames x264 is told a picture followed by copies lasts at
    /// most (at least 1): [`HOLD_FRAMES`] but for measurements.
    pub hold_frames: u64,
    /// Fail on purpose when this frame is reached (tests of the failure path; only with the
    /// `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    pub fail_at_frame: Option<u64>,
    /// Closed captions to store as a subtitle track (`mov_text`), if any.
    pub captions: Option<subtitles::Track>,
}

/// Audio packets the audio thread may encode ahead of the muxer: about 32 s at 48 kHz
/// (AAC frames of 1024 samples), some 500 KB at 128 kbit/s. Enough for the audio to use
/// cores that composition and x264 leave idle, without holding much.
pub const AUDIO_AHEAD_PACKETS: usize = 1500;

/// From the audio thread to the muxer.
enum AudioMsg {
    Packet(Packet),
    /// The audio is complete (every packet was sent before this) or failed.
    Done(Result<AudioDone, EncodeError>),
}

/// What the audio thread says when it has encoded the whole timeline.
#[derive(Debug)]
struct AudioDone {
    samples: u64,
    loudness: LoudnessReport,
    source_error: Option<String>,
}

/// The AAC encoder, moved to a thread of its own (see [`AudioEncoder::run`]).
pub struct AudioEncoder {
    audio: encoder::Audio,
    frame_size: usize,
    tx: SyncSender<AudioMsg>,
    /// Interleaved audio of one encoder frame, reused.
    scratch: Vec<f32>,
    /// Time spent blocked on a full channel.
    waited: Duration,
}

impl std::fmt::Debug for AudioEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioEncoder")
            .field("frame_size", &self.frame_size)
            .finish()
    }
}

impl AudioEncoder {
    /// Encodes the whole delivered timeline (`total_samples`) from `master` and hands the
    /// packets to the [`Encoder`] this came from, blocking while it is
    /// [`AUDIO_AHEAD_PACKETS`] ahead. Returns early, quietly, if that encoder is gone (its
    /// render failed or was cancelled); an error of its own reaches the encoder's
    /// [`Encoder::finish`].
    ///
    /// Returns the time spent waiting for the muxer to take packets.
    ///
    /// With `store`, every packet is also written to that audio cache entry, which goes into
    /// the cache when the whole timeline is encoded (a failure there only costs the entry).
    pub fn run(
        mut self,
        master: &mut Master,
        total_samples: u64,
        mut store: Option<Store>,
    ) -> Duration {
        let result = match self.encode_all(master, total_samples, &mut store) {
            Ok(true) => Ok(AudioDone {
                samples: total_samples,
                loudness: master.report(),
                source_error: master.source_error(),
            }),
            Ok(false) => return self.waited,
            Err(e) => Err(e),
        };
        if let (Ok(done), Some(store)) = (&result, store) {
            if done.source_error.is_none() {
                let footer = Footer {
                    samples: total_samples,
                    extradata: extradata::of_context(&self.audio),
                    loudness: done.loudness,
                };
                if let Err(e) = store.finish(footer) {
                    tracing::warn!("the encoded audio was not cached: {e}");
                }
            }
        }
        let _ = self.tx.send(AudioMsg::Done(result));
        self.waited
    }

    /// Sends the packets of an audio cache entry (see [`crate::cache::audio`]) as if they had
    /// just been encoded: the same stream, byte for byte, without mixing or encoding.
    ///
    /// Returns the time spent waiting for the muxer to take packets.
    pub fn replay(mut self, mut entry: Entry, total_samples: u64) -> Duration {
        let result = self.replay_all(&mut entry, total_samples);
        let result = match result {
            Ok(true) => Ok(AudioDone {
                samples: total_samples,
                loudness: entry.meta.loudness,
                source_error: None,
            }),
            Ok(false) => return self.waited,
            Err(e) => {
                // A damaged entry must not fail the next render too.
                let _ = std::fs::remove_file(entry.path());
                Err(e)
            }
        };
        let _ = self.tx.send(AudioMsg::Done(result));
        self.waited
    }

    fn replay_all(&mut self, entry: &mut Entry, total: u64) -> Result<bool, EncodeError> {
        let path = entry.path().to_path_buf();
        let bad = |why: String| EncodeError::AudioCache {
            path: path.clone(),
            why,
        };
        if entry.meta.samples != total {
            return Err(bad(format!(
                "holds {} samples, the timeline {total}",
                entry.meta.samples
            )));
        }
        if entry.meta.extradata != extradata::of_context(&self.audio) {
            return Err(bad("made with another AAC configuration".into()));
        }
        loop {
            let p = match entry.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(true),
                Err(why) => return Err(bad(why.to_string())),
            };
            let mut pkt = Packet::copy(&p.data);
            pkt.set_pts(Some(p.pts));
            pkt.set_dts(Some(p.dts));
            pkt.set_duration(p.duration);
            if p.key {
                pkt.set_flags(ff::packet::Flags::KEY);
            }
            let t = Instant::now();
            let sent = self.tx.send(AudioMsg::Packet(pkt));
            self.waited += t.elapsed();
            if sent.is_err() {
                return Ok(false);
            }
        }
    }

    /// `Ok(false)` when the receiving encoder is gone.
    fn encode_all(
        &mut self,
        master: &mut Master,
        total: u64,
        store: &mut Option<Store>,
    ) -> Result<bool, EncodeError> {
        let n = self.frame_size as u64;
        let mut at = 0;
        while at < total {
            let len = n.min(total - at) as usize;
            let mut af = frame::Audio::new(
                format::Sample::F32(format::sample::Type::Planar),
                len,
                ff::ChannelLayout::STEREO,
            );
            af.set_rate(SAMPLE_RATE);
            af.set_pts(Some(at as i64));
            self.scratch.resize(len * 2, 0.0);
            let from = master.fill_next(&mut self.scratch);
            debug_assert_eq!(from, at, "audio is delivered in order");
            for ch in 0..2 {
                let plane = af.plane_mut::<f32>(ch);
                for (i, s) in plane.iter_mut().enumerate().take(len) {
                    *s = self.scratch[i * 2 + ch];
                }
            }
            self.audio
                .send_frame(&af)
                .map_err(EncodeError::ff("send audio frame"))?;
            if !self.forward(store)? {
                return Ok(false);
            }
            at += len as u64;
        }
        self.audio
            .send_eof()
            .map_err(EncodeError::ff("flush audio"))?;
        self.forward(store)
    }

    /// Sends every packet the AAC encoder has ready (and writes it to `store`, which is
    /// dropped if that fails); `Ok(false)` when nobody receives.
    fn forward(&mut self, store: &mut Option<Store>) -> Result<bool, EncodeError> {
        loop {
            let mut pkt = Packet::empty();
            match self.audio.receive_packet(&mut pkt) {
                Ok(()) => {
                    if let Some(s) = store.as_mut() {
                        let p = StoredPacket {
                            pts: pkt.pts().unwrap_or(0),
                            dts: pkt.dts().unwrap_or(0),
                            duration: pkt.duration(),
                            key: pkt.is_key(),
                            data: pkt.data().unwrap_or_default().to_vec(),
                        };
                        if let Err(e) = s.add(&p) {
                            tracing::warn!("the encoded audio will not be cached: {e}");
                            *store = None;
                        }
                    }
                    let t = Instant::now();
                    let sent = self.tx.send(AudioMsg::Packet(pkt));
                    self.waited += t.elapsed();
                    if sent.is_err() {
                        return Ok(false);
                    }
                }
                Err(e) if is_again_or_eof(&e) => return Ok(true),
                Err(source) => return Err(EncodeError::ff("receive audio packet")(source)),
            }
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
    octx: format::context::Output,
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
    /// [`EncoderConfig::hold_frames`], at least 1.
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
        let gop = gop_frames(cfg.fps);
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
        let mut a = codec::context::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .map_err(EncodeError::ff("audio encoder context"))?;
        a.set_rate(SAMPLE_RATE as i32);
        a.set_channel_layout(ff::ChannelLayout::STEREO);
        a.set_channels(2);
        a.set_format(format::Sample::F32(format::sample::Type::Planar));
        a.set_bit_rate(cfg.audio_bitrate);
        a.set_time_base(a_tb);
        if global_header {
            a.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let audio = a.open_as(aac).map_err(EncodeError::ff("open aac"))?;
        let audio_frame_size = (audio.frame_size() as usize).max(1);
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
        let (tx, audio_rx) = sync_channel(AUDIO_AHEAD_PACKETS);
        let audio = AudioEncoder {
            audio,
            frame_size: audio_frame_size,
            tx,
            scratch: Vec::new(),
            waited: Duration::ZERO,
        };
        let enc = Encoder {
            octx,
            video: Some(video),
            audio_rx,
            audio_next: None,
            audio_done: None,
            v_index,
            a_index,
            v_tb,
            a_tb,
            v_stream_tb,
            a_stream_tb,
            fps: cfg.fps,
            cfg: cfg.clone(),
            stats: EncodeStats::default(),
            splicer,
            pending: VecDeque::new(),
            written: 0,
            clock: 0,
            hold: cfg.hold_frames.max(1),
            last_key: 0,
            gop: u64::from(gop),
            picture: None,
            base: None,
            // A lossless reference must stay lossless: no patches (they are coded at the CRF).
            patchers: Some(HashMap::new()).filter(|_| cfg.patches && !cfg.lossless),
            patches_follow: false,
            global_header,
            stream_extradata,
            last_idr_id: None,
            segment_start: 0,
            x264_used: false,
            record: None,
        };
        Ok((enc, audio))
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

    /// Starts a segment at the next frame. If x264 has been given pictures since it was
    /// opened, it is flushed (every picture it holds is written) and a fresh x264 with the
    /// same settings encodes what follows, starting with an IDR picture. Nothing after the
    /// seam refers to anything before it, so a segment's packets depend only on its own
    /// pictures: they can be kept (`store`, finished when the next segment begins or the
    /// video ends) and copied into a later render ([`Encoder::replay_segment`]). Needs
    /// splicing ([`Encoder::splices`]).
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, or [`EncodeError::Splice`] if
    /// the new x264's parameter sets differ from the stream's.
    pub fn begin_segment(&mut self, store: Option<Store>) -> Result<(), EncodeError> {
        if self.x264_used {
            let t = Instant::now();
            self.flush_video()?;
            self.stats.seam_flush += t.elapsed();
            let t = Instant::now();
            // The old x264 goes first, its memory back to the system, so that two never
            // hold their buffers at once.
            self.video = None;
            crate::base::memory::release_free_pages();
            let video = open_x264(&self.cfg, self.global_header)?;
            self.stats.seam_open += t.elapsed();
            let (splicer, avcc) = h264::Splicer::new(&extradata::of_context(&video))
                .map_err(|e| EncodeError::Splice(e.to_string()))?;
            if avcc != self.stream_extradata {
                return Err(EncodeError::Splice(
                    "a new segment's x264 made other parameter sets than the first".into(),
                ));
            }
            self.video = Some(video);
            self.splicer = Some(splicer);
            self.x264_used = false;
            self.clock = 0;
            self.base = None;
            self.patches_follow = false;
        }
        self.finish_record();
        self.stats.segments += 1;
        self.segment_start = self.stats.frames;
        self.last_key = self.stats.frames;
        self.record = store.map(|store| Record {
            store,
            start: self.stats.frames,
            encoded: self.stats.encoded_frames,
            patched: self.stats.patched_frames,
        });
        Ok(())
    }

    /// Moves the finished segment's entry into the scene cache.
    fn finish_record(&mut self) {
        let Some(r) = self.record.take() else {
            return;
        };
        let footer = SegmentFooter {
            frames: self.stats.frames - r.start,
            extradata: self.stream_extradata.clone(),
            encoded_frames: self.stats.encoded_frames - r.encoded,
            patched_frames: self.stats.patched_frames - r.patched,
        };
        if let Err(e) = r.store.finish(footer) {
            tracing::warn!("a segment will not be kept in the scene cache: {e}");
        }
    }

    /// Whether a scene cache entry fits this stream (made with the same parameter sets).
    pub fn can_replay(&self, entry: &PacketFile<SegmentFooter>) -> bool {
        self.splicer.is_some() && entry.meta.extradata == self.stream_extradata
    }

    /// Writes a kept segment's packets as the next frames, right after
    /// [`Encoder::begin_segment`] (with no store), then muxes the audio under them.
    ///
    /// # Errors
    /// [`EncodeError::SceneCache`] if the entry does not fit or cannot be read (it is then
    /// removed), or a libav error.
    pub fn replay_segment(
        &mut self,
        mut entry: PacketFile<SegmentFooter>,
        mut on_frame: impl FnMut(u64),
    ) -> Result<(), EncodeError> {
        let path = entry.path().to_path_buf();
        let bad = |why: String| {
            let _ = std::fs::remove_file(&path);
            EncodeError::SceneCache {
                path: path.clone(),
                why,
            }
        };
        if !self.can_replay(&entry) {
            return Err(bad("made for other H.264 parameter sets".into()));
        }
        if self.x264_used || self.stats.frames != self.segment_start || self.record.is_some() {
            return Err(EncodeError::Splice(
                "a kept segment can only start a segment".into(),
            ));
        }
        let start = self.stats.frames;
        let frames = entry.meta.frames;
        if entry.packets() != frames {
            return Err(bad(format!(
                "{} packets for {frames} frames",
                entry.packets()
            )));
        }
        let mut n = 0;
        while let Some(p) = entry.next_packet().map_err(|e| bad(e.to_string()))? {
            if p.pts < 0 || p.pts as u64 >= frames {
                return Err(bad(format!(
                    "a packet shown at frame {} of {frames}",
                    p.pts
                )));
            }
            let mut flags = codec::packet::Flags::empty();
            flags.set(codec::packet::Flags::KEY, p.key);
            self.write_video(&p.data, flags, (start + p.pts as u64) as i64)?;
            n += 1;
            self.mux_audio(self.fps.sample_at_frame(start + n))?;
            on_frame(start + n);
        }
        self.stats.frames = start + frames;
        self.stats.segments_reused += 1;
        self.stats.frames_reused += frames;
        self.segment_start = self.stats.frames;
        self.last_key = self.stats.frames;
        on_frame(self.stats.frames);
        Ok(())
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

    /// Remembers the picture later ones may be patched over (or forgets it).
    fn set_base(&mut self, base: Option<(u64, &YuvFrame)>) {
        match base.filter(|_| self.patchers.is_some()) {
            Some((index, pic)) => match self.base.as_mut() {
                Some(b) if b.picture.width == pic.width && b.picture.height == pic.height => {
                    b.index = index;
                    b.picture.y.copy_from_slice(&pic.y);
                    b.picture.u.copy_from_slice(&pic.u);
                    b.picture.v.copy_from_slice(&pic.v);
                }
                _ => {
                    self.base = Some(Base {
                        index,
                        picture: pic.clone(),
                    })
                }
            },
            None => {
                if let Some(b) = self.base.as_mut() {
                    b.index = u64::MAX;
                }
            }
        }
    }

    /// Whether an injected failure ([`EncoderConfig::fail_at_frame`]) falls in the `repeat`
    /// frames from `n` (never without the `fault-injection` feature).
    fn injects_failure(&self, n: u64, repeat: u64) -> bool {
        #[cfg(feature = "fault-injection")]
        if let Some(at) = self.cfg.fail_at_frame {
            return at >= n && at < n + repeat;
        }
        let _ = (n, repeat);
        false
    }

    /// Writes `pic` for `repeat` frames as a patch over the base picture when it differs from
    /// it only in a few macroblocks of one row, the base is still waiting to be written, and
    /// no keyframe is due. Returns whether it did.
    fn try_patch(&mut self, pic: &YuvFrame, repeat: u64) -> Result<bool, EncodeError> {
        let n = self.stats.frames;
        let (Some(splicer), Some(base)) = (self.splicer.as_ref(), self.base.as_ref()) else {
            return Ok(false);
        };
        let waiting = self.pending.back().is_some_and(|p| p.index == base.index);
        if !waiting
            || !splicer.can_patch()
            || n + repeat > self.last_key + self.gop
            || self.injects_failure(n, repeat)
            || base.picture.width != pic.width
            || base.picture.height != pic.height
        {
            return Ok(false);
        }
        let (mbw, mbh) = splicer.mb_size();
        let Some((row, cols)) = changed_mbs(&base.picture, pic) else {
            // The same picture: more copies.
            self.push_tail(repeat, None);
            return Ok(true);
        };
        let width = cols.end - cols.start;
        if width > MAX_PATCH_MBS || row >= mbh || cols.end > mbw {
            return Ok(false);
        }
        let slice = match self.code_patch(pic, row, cols.clone()) {
            Ok(slice) => slice,
            Err(why) => {
                tracing::warn!("changed pictures will all be sent to x264: {why}");
                self.patchers = None;
                return Ok(false);
            }
        };
        let Some(splicer) = self.splicer.as_ref() else {
            return Ok(false);
        };
        let patch = splicer
            .patch(row * mbw + cols.start, slice)
            .map_err(|e| EncodeError::Splice(e.to_string()))?;
        self.stats.patches += 1;
        self.stats.patched_frames += repeat;
        self.push_tail(repeat, Some(Arc::new(patch)));
        Ok(true)
    }

    fn push_tail(&mut self, frames: u64, patch: Option<Arc<h264::Patch>>) {
        if let Some(p) = self.pending.back_mut() {
            match (p.tail.last_mut(), &patch) {
                (Some((k, None)), None) => *k += frames,
                _ => p.tail.push((frames, patch)),
            }
        }
    }

    /// Codes macroblocks `cols` of macroblock row `row` of `pic` as one intra slice.
    fn code_patch(
        &mut self,
        pic: &YuvFrame,
        row: u32,
        cols: std::ops::Range<u32>,
    ) -> Result<h264::IntraSlice, EncodeError> {
        let width = cols.end - cols.start;
        let cfg = &self.cfg;
        let patchers = self.patchers.get_or_insert_with(HashMap::new);
        let pe = match patchers.entry(width) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(open_patch_encoder(width, cfg)?)
            }
        };
        // The patch's pixels; rows and columns past the picture repeat its edge.
        let (pw, ph) = (pic.width as usize, pic.height as usize);
        let (cw, ch) = (pw.div_ceil(2), ph.div_ceil(2));
        for (plane, src, sw, sh, mb) in [
            (0, &pic.y, pw, ph, 16usize),
            (1, &pic.u, cw, ch, 8),
            (2, &pic.v, cw, ch, 8),
        ] {
            let stride = pe.frame.stride(plane);
            let dst = pe.frame.data_mut(plane);
            let x0 = cols.start as usize * mb;
            for r in 0..mb {
                let sy = (row as usize * mb + r).min(sh - 1);
                let line = &src[sy * sw..(sy + 1) * sw];
                for c in 0..width as usize * mb {
                    dst[r * stride + c] = line[(x0 + c).min(sw - 1)];
                }
            }
        }
        pe.frame.set_pts(Some(pe.pts));
        pe.pts += 1;
        pe.enc
            .send_frame(&pe.frame)
            .map_err(EncodeError::ff("send_frame (patch)"))?;
        let mut pkt = Packet::empty();
        pe.enc
            .receive_packet(&mut pkt)
            .map_err(EncodeError::ff("receive_packet (patch, at once)"))?;
        let splicer = self
            .splicer
            .as_ref()
            .ok_or_else(|| EncodeError::Splice("not splicing".into()))?;
        splicer
            .intra_slice(pkt.data().unwrap_or_default())
            .map_err(|e| EncodeError::Splice(e.to_string()))
    }

    /// Muxes the audio packets that start before sample `until`, as far as the audio thread
    /// has made them (it never waits for it).
    fn mux_audio(&mut self, until: u64) -> Result<(), EncodeError> {
        loop {
            let pkt = match self.audio_next.take() {
                Some(p) => p,
                None if self.audio_done.is_some() => return Ok(()),
                None => match self.audio_rx.try_recv() {
                    Ok(AudioMsg::Packet(p)) => p,
                    Ok(AudioMsg::Done(r)) => {
                        self.audio_done = Some(r);
                        return Ok(());
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
                },
            };
            if pkt.pts().unwrap_or(0) >= until as i64 {
                self.audio_next = Some(pkt);
                return Ok(());
            }
            self.write_audio(pkt)?;
        }
    }

    fn write_audio(&mut self, mut pkt: Packet) -> Result<(), EncodeError> {
        pkt.set_stream(self.a_index);
        pkt.rescale_ts(self.a_tb, self.a_stream_tb);
        self.stats.audio_bytes += pkt.size() as u64;
        pkt.write_interleaved(&mut self.octx)
            .map_err(EncodeError::ff("write audio packet"))
    }

    fn drain_video(&mut self) -> Result<(), EncodeError> {
        let route = Route {
            index: self.v_index,
            from: self.v_tb,
            to: self.v_stream_tb,
            // One packet per frame; libav 5.1's x264 wrapper leaves the duration unset, which
            // would make the muxer drop the last frame's display time.
            default_duration: 1,
            ops: ("receive video packet", "write video packet"),
        };
        if self.splicer.is_none() {
            let Some(video) = self.video.as_mut() else {
                return Ok(());
            };
            self.stats.video_bytes += drain(video, &mut self.octx, &route)?;
            return Ok(());
        }
        let mut pkt = Packet::empty();
        loop {
            match self.x264()?.receive_packet(&mut pkt) {
                Ok(()) => {}
                Err(e) if is_again_or_eof(&e) => return Ok(()),
                Err(source) => return Err(EncodeError::ff(route.ops.0)(source)),
            }
            let clock = pkt.pts().unwrap_or(-1);
            let Some(pos) = self.pending.iter().position(|p| p.clock == clock) else {
                return Err(EncodeError::Splice(format!(
                    "x264 returned a picture (timestamp {clock}) that was not sent or was already written"
                )));
            };
            let index = self.pending[pos].index as i64;
            if self.pending.iter().take(pos).any(Pending::spliced) {
                return Err(EncodeError::Splice(format!(
                    "x264 returned frame {index} before a picture shown earlier that is repeated"
                )));
            }
            let Some(splicer) = self.splicer.as_mut() else {
                return Ok(());
            };
            self.pending[pos].received = true;
            let data = splicer
                .rewrite(pkt.data().unwrap_or_default(), index as u64)
                .map_err(|e| EncodeError::Splice(e.to_string()))?;
            if pkt.is_key() {
                self.last_key = self.last_key.max(index as u64);
            }
            let mut ready = vec![(data, pkt.flags(), index)];
            while self.pending.front().is_some_and(|p| p.received) {
                let Some(p) = self.pending.pop_front() else {
                    break;
                };
                let mut at = p.index;
                for (frames, patch) in &p.tail {
                    for _ in 0..*frames {
                        at += 1;
                        let data = match patch {
                            None => splicer.skip(at),
                            Some(patch) => splicer.patched(patch, at),
                        };
                        ready.push((data, codec::packet::Flags::empty(), at as i64));
                    }
                }
            }
            for (data, flags, at) in ready {
                self.write_video(&data, flags, at)?;
            }
        }
    }

    /// Writes one video packet in spliced form, shown at frame `at`: into the current
    /// segment's scene cache entry as it is, and into the file with its decode time and, for
    /// a segment's first IDR picture, an `idr_pic_id` other than that of an IDR picture
    /// right before it (the last picture of the segment before).
    fn write_video(
        &mut self,
        data: &[u8],
        flags: codec::packet::Flags,
        at: i64,
    ) -> Result<(), EncodeError> {
        if let Some(r) = self.record.as_mut() {
            let stored = StoredPacket {
                pts: at - r.start as i64,
                dts: 0,
                duration: 1,
                key: flags.contains(codec::packet::Flags::KEY),
                data: data.to_vec(),
            };
            if let Err(e) = r.store.add(&stored) {
                tracing::warn!("a segment will not be kept in the scene cache: {e}");
                self.record = None;
            }
        }
        let splicer = self
            .splicer
            .as_ref()
            .ok_or_else(|| EncodeError::Splice("not splicing".into()))?;
        let splice_err = |e: h264::Unsupported| EncodeError::Splice(e.to_string());
        let idr = splicer.idr_pic_id(data).map_err(splice_err)?;
        let renamed;
        let data = match (idr, self.last_idr_id) {
            (Some(id), Some(last)) if id == last => {
                renamed = splicer.with_idr_pic_id(data, id).map_err(splice_err)?;
                self.last_idr_id = Some(h264::other_idr_pic_id(id));
                &renamed[..]
            }
            (idr, _) => {
                self.last_idr_id = idr;
                data
            }
        };
        let dts = self.written as i64 - splicer.reorder_delay();
        if dts > at {
            return Err(EncodeError::Splice(format!(
                "frame {at} would be decoded after it is shown"
            )));
        }
        let mut p = Packet::copy(data);
        p.set_flags(flags);
        p.set_stream(self.v_index);
        p.set_pts(Some(at));
        p.set_dts(Some(dts));
        p.set_duration(1);
        p.rescale_ts(self.v_tb, self.v_stream_tb);
        self.stats.video_bytes += p.size() as u64;
        self.written += 1;
        p.write_interleaved(&mut self.octx)
            .map_err(EncodeError::ff("write video packet"))
    }

    /// Flushes x264, waits for the audio thread to finish (muxing the rest of its packets)
    /// and writes the trailer (which moves the moov atom to the front).
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, or the audio thread's error.
    pub fn finish(mut self) -> Result<EncodeStats, EncodeError> {
        self.flush_video()?;
        self.finish_record();
        if let Some(p) = self.audio_next.take() {
            self.write_audio(p)?;
        }
        while self.audio_done.is_none() {
            match self.audio_rx.recv() {
                Ok(AudioMsg::Packet(p)) => self.write_audio(p)?,
                Ok(AudioMsg::Done(r)) => self.audio_done = Some(r),
                Err(_) => return Err(EncodeError::AudioStopped),
            }
        }
        match self.audio_done.take() {
            Some(Ok(done)) => {
                self.stats.samples = done.samples;
                self.stats.loudness = done.loudness;
                self.stats.audio_source_error = done.source_error;
            }
            Some(Err(e)) => return Err(e),
            None => return Err(EncodeError::AudioStopped),
        }
        self.octx
            .write_trailer()
            .map_err(EncodeError::ff("write_trailer"))?;
        Ok(self.stats)
    }
}

/// The macroblocks in which `b` differs from `a`, when they all lie in one macroblock row:
/// that row and the range of columns from the first to the last changed one. `None` when
/// the pictures are the same; a row past the picture when more than one row changed.
fn changed_mbs(a: &YuvFrame, b: &YuvFrame) -> Option<(u32, std::ops::Range<u32>)> {
    let mut rows: Option<(usize, usize)> = None;
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    let (w, h) = (a.width as usize, a.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    for (pa, pb, pw, ph, mb) in [
        (&a.y, &b.y, w, h, 16usize),
        (&a.u, &b.u, cw, ch, 8),
        (&a.v, &b.v, cw, ch, 8),
    ] {
        for y in 0..ph {
            let (la, lb) = (&pa[y * pw..(y + 1) * pw], &pb[y * pw..(y + 1) * pw]);
            if la == lb {
                continue;
            }
            let first = la.iter().zip(lb).position(|(p, q)| p != q).unwrap_or(0);
            let last = la.iter().zip(lb).rposition(|(p, q)| p != q).unwrap_or(0);
            lo = lo.min(first / mb);
            hi = hi.max(last / mb);
            let r = y / mb;
            rows = Some(rows.map_or((r, r), |(r0, r1)| (r0.min(r), r1.max(r))));
        }
    }
    let (r0, r1) = rows?;
    let row = if r0 == r1 { r0 as u32 } else { u32::MAX };
    Some((row, lo as u32..hi as u32 + 1))
}

/// An intra-only libx264 for patches `width_mbs` macroblocks wide and one high: every
/// picture an IDR picture with its SPS and PPS, at the main encoder's preset (so that its
/// PPS codes intra macroblocks the same way) and a constant QP equal to the main CRF,
/// without deblocking (the patch is shown as decoded, never used as a reference), and no
/// delay: each picture's packet is ready as soon as it is sent.
fn open_patch_encoder(width_mbs: u32, cfg: &EncoderConfig) -> Result<PatchEncoder, EncodeError> {
    let x264 = encoder::find_by_name("libx264").ok_or(EncodeError::MissingEncoder("libx264"))?;
    let mut v = codec::context::Context::new_with_codec(x264)
        .encoder()
        .video()
        .map_err(EncodeError::ff("patch encoder context"))?;
    let (w, h) = (width_mbs * 16, 16);
    v.set_width(w);
    v.set_height(h);
    v.set_format(format::Pixel::YUV420P);
    v.set_time_base(Rational(cfg.fps.den as i32, cfg.fps.num as i32));
    v.set_gop(1);
    v.set_colorspace(ff::color::Space::BT709);
    v.set_color_range(ff::color::Range::MPEG);
    let mut opts = Dictionary::new();
    opts.set("preset", cfg.preset);
    opts.set("profile", "high");
    opts.set("threads", "1");
    opts.set("qp", &cfg.crf.to_string());
    opts.set(
        "x264-params",
        "keyint=1:min-keyint=1:scenecut=0:bframes=0:rc-lookahead=0:sync-lookahead=0:\
         threads=1:sliced-threads=0:force-cfr=1:no-deblock=1",
    );
    let enc = v
        .open_as_with(x264, opts)
        .map_err(EncodeError::ff("open patch encoder"))?;
    Ok(PatchEncoder {
        enc,
        frame: frame::Video::new(format::Pixel::YUV420P, w, h),
        pts: 0,
    })
}

/// Where one encoder's packets go.
struct Route {
    index: usize,
    from: Rational,
    to: Rational,
    /// Duration (in `from` units) for packets that come without one; 0 leaves them as they are.
    default_duration: i64,
    /// libav operation names for errors: (receive, write).
    ops: (&'static str, &'static str),
}

/// Moves every packet the encoder has ready into the muxer. Returns the bytes written.
fn drain(
    enc: &mut encoder::Encoder,
    octx: &mut format::context::Output,
    route: &Route,
) -> Result<u64, EncodeError> {
    let mut pkt = Packet::empty();
    let mut bytes = 0;
    loop {
        match enc.receive_packet(&mut pkt) {
            Ok(()) => {
                pkt.set_stream(route.index);
                if pkt.duration() == 0 && route.default_duration > 0 {
                    pkt.set_duration(route.default_duration);
                }
                pkt.rescale_ts(route.from, route.to);
                bytes += pkt.size() as u64;
                pkt.write_interleaved(octx)
                    .map_err(EncodeError::ff(route.ops.1))?;
            }
            Err(e) if is_again_or_eof(&e) => return Ok(bytes),
            Err(source) => return Err(EncodeError::ff(route.ops.0)(source)),
        }
    }
}

fn is_again_or_eof(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Eof)
        || matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_macroblocks_are_found_by_row_and_column() {
        let a = YuvFrame::new(1920, 1080);
        assert_eq!(changed_mbs(&a, &a.clone()), None);
        // One luma pixel in the last, partial macroblock row.
        let mut b = a.clone();
        b.y[1075 * 1920 + 37] = 9;
        assert_eq!(changed_mbs(&a, &b), Some((67, 2..3)));
        // A chroma sample two macroblocks further right widens the range.
        b.u[(1074 / 2) * 960 + 40] = 9;
        assert_eq!(changed_mbs(&a, &b), Some((67, 2..6)));
        // Another row: not one row any more.
        b.v[10 * 960] = 9;
        assert_eq!(changed_mbs(&a, &b).map(|c| c.0), Some(u32::MAX));
    }
}
