//! The AAC encoder on a thread of its own: it encodes the mastered mix (or copies an audio
//! cache entry) and hands the packets to the [`Encoder`](super::Encoder) that muxes them, or
//! writes them to an AAC packet file alone ([`AudioEncoder::standalone`]).

use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant};

use ff::{codec, encoder, format, frame, Packet, Rational};
use ffmpeg_next as ff;

use super::{extradata, is_again_or_eof, EncodeError};
use crate::audio::master::{LoudnessReport, Master};
use crate::encode::packets::{AudioFooter as Footer, Entry as PacketFile, Store, StoredPacket};
use crate::plan::{AAC_FRAME, SAMPLE_RATE};

type Entry = PacketFile<Footer>;

/// Audio packets the audio thread may encode ahead of the muxer: about 32 s at 48 kHz
/// (AAC frames of 1024 samples), some 500 KB at 128 kbit/s. Enough for the audio to use
/// cores that composition and x264 leave idle, without holding much.
pub const AUDIO_AHEAD_PACKETS: usize = 1500;

/// From the audio thread to the muxer.
pub(super) enum AudioMsg {
    Packet(Packet),
    /// The audio is complete (every packet was sent before this) or failed.
    Done(Result<AudioDone, EncodeError>),
}

/// What the audio thread says when it has encoded the whole timeline.
#[derive(Debug)]
pub(super) struct AudioDone {
    pub(super) samples: u64,
    pub(super) loudness: LoudnessReport,
    pub(super) source_error: Option<String>,
}

/// How the AAC stream is encoded: the encoder's settings and the chunking.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Bit/s.
    pub bitrate: usize,
    /// Global headers (an MP4 wants them).
    pub global_header: bool,
    /// Chunks of this many samples, each by an encoder of its own (0: one encoder).
    pub chunk: u64,
}

/// AAC frames an encoder of a chunk is given before the chunk's first sample: they bring
/// its state (window shapes, the bit allocation) to where the encoder of the chunk before
/// had it, so that the packets on either side of a seam overlap-add as one encoder's would.
/// The packets they make are thrown away. 8 frames: 171 ms, 1.7 % more audio to encode in
/// 10-second chunks.
pub const PRE_ROLL_FRAMES: u64 = 8;
/// AAC frames given after a chunk's last sample: the last packet kept covers the window up
/// to one frame past the chunk, and the encoder looks one frame further ahead to choose its
/// window.
pub const POST_ROLL_FRAMES: u64 = 2;

/// What the encoder of one chunk is given and what of its output is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkFeed {
    /// The timeline's samples it is given (from a multiple of the AAC frame).
    pub feed: Range<u64>,
    /// The presentation times (in samples) of the packets it keeps: the chunk's own. The
    /// first chunk keeps the priming packet before 0, the last everything to the end.
    pub keep: Range<i64>,
}

/// The feed of `chunk` (one of [`crate::plan::audio_chunks`]) of a `total`-sample timeline.
/// One chunk covering everything is fed and kept whole, as one encoder would.
pub fn chunk_feed(chunk: &Range<u64>, total: u64) -> ChunkFeed {
    let pre = PRE_ROLL_FRAMES * AAC_FRAME;
    let post = POST_ROLL_FRAMES * AAC_FRAME;
    let first = chunk.start == 0;
    let last = chunk.end >= total;
    ChunkFeed {
        feed: chunk.start.saturating_sub(pre)..if last {
            total
        } else {
            (chunk.end + post).min(total)
        },
        keep: if first { i64::MIN } else { chunk.start as i64 }..if last {
            i64::MAX
        } else {
            chunk.end as i64
        },
    }
}

/// The AAC encoder, moved to a thread of its own (see [`AudioEncoder::run`]).
pub struct AudioEncoder {
    audio: encoder::Audio,
    settings: Settings,
    frame_size: usize,
    /// To the muxer; `None` when the packets only go to a file.
    tx: Option<SyncSender<AudioMsg>>,
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

/// Opens the AAC-LC encoder: 48 kHz stereo, float planar, `bitrate` bit/s (global headers
/// when the container wants them, as MP4 does).
pub(super) fn open(bitrate: usize, global_header: bool) -> Result<encoder::Audio, EncodeError> {
    let aac = encoder::find(codec::Id::AAC).ok_or(EncodeError::MissingEncoder("aac"))?;
    let mut a = codec::context::Context::new_with_codec(aac)
        .encoder()
        .audio()
        .map_err(EncodeError::ff("audio encoder context"))?;
    a.set_rate(SAMPLE_RATE as i32);
    a.set_channel_layout(ff::ChannelLayout::STEREO);
    a.set_channels(2);
    a.set_format(format::Sample::F32(format::sample::Type::Planar));
    a.set_bit_rate(bitrate);
    a.set_time_base(Rational(1, SAMPLE_RATE as i32));
    if global_header {
        a.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    a.open_as(aac).map_err(EncodeError::ff("open aac"))
}

impl AudioEncoder {
    /// The encoder and the receiving end of its packets (for the muxer).
    pub(super) fn new(
        audio: encoder::Audio,
        settings: Settings,
    ) -> (AudioEncoder, Receiver<AudioMsg>) {
        let (tx, rx) = sync_channel(AUDIO_AHEAD_PACKETS);
        let frame_size = (audio.frame_size() as usize).max(1);
        let enc = AudioEncoder {
            audio,
            settings,
            frame_size,
            tx: Some(tx),
            scratch: Vec::new(),
            waited: Duration::ZERO,
        };
        (enc, rx)
    }

    /// An AAC encoder whose packets go only to a packet file ([`AudioEncoder::encode_to`]),
    /// set up as for an MP4 (the same packets and configuration).
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed.
    pub fn standalone(bitrate: usize, chunk: u64) -> Result<AudioEncoder, EncodeError> {
        crate::media::init().map_err(EncodeError::ff("init"))?;
        let settings = Settings {
            bitrate,
            global_header: true,
            chunk,
        };
        let (mut enc, _) = AudioEncoder::new(open(bitrate, true)?, settings);
        enc.tx = None;
        Ok(enc)
    }

    /// Encodes the whole timeline (`total_samples`) from `master` into `store`, an AAC packet
    /// file (the format of an audio cache entry), and finishes it. Returns the loudness of
    /// the delivered audio.
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, [`EncodeError::AudioCache`]
    /// if the file cannot be written or a source could not be read back.
    pub fn encode_to(
        mut self,
        master: &mut Master,
        total_samples: u64,
        store: Store,
    ) -> Result<LoudnessReport, EncodeError> {
        let dest = store.dest().to_path_buf();
        let bad = |why: String| EncodeError::AudioCache {
            path: dest.clone(),
            why,
        };
        let mut store = Some(store);
        self.encode_all(master, total_samples, &mut store)?;
        let store = store.ok_or_else(|| bad("could not be written".into()))?;
        if let Some(e) = master.source_error() {
            return Err(bad(e));
        }
        let loudness = master.report();
        store
            .finish(Footer {
                samples: total_samples,
                extradata: extradata::of_context(&self.audio),
                loudness,
            })
            .map_err(|e| bad(e.to_string()))?;
        Ok(loudness)
    }

    /// Hands one packet to the muxer; false when it is gone.
    fn send(&mut self, pkt: Packet) -> bool {
        let Some(tx) = &self.tx else {
            return true;
        };
        let t = Instant::now();
        let sent = tx.send(AudioMsg::Packet(pkt));
        self.waited += t.elapsed();
        sent.is_ok()
    }
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
        if let Some(tx) = &self.tx {
            let _ = tx.send(AudioMsg::Done(result));
        }
        self.waited
    }

    /// Sends the packets of an audio cache entry (see [`crate::cache::audio`]) as if they had
    /// just been encoded: the same stream, byte for byte, without mixing or encoding.
    ///
    /// Returns the time spent waiting for the muxer to take packets.
    pub fn replay(self, entry: Entry, total_samples: u64) -> Duration {
        self.replay_chunks(vec![entry], total_samples)
    }

    /// [`AudioEncoder::replay`] for a stream in chunks ([`AudioEncoder::encode_chunk_to`]),
    /// in order: their samples add up to the timeline's. The loudness reported is the
    /// first chunk's (every chunk carries the whole timeline's).
    pub fn replay_chunks(mut self, mut entries: Vec<Entry>, total_samples: u64) -> Duration {
        let result = self.replay_all(&mut entries, total_samples);
        let result = match result {
            Ok(true) => Ok(AudioDone {
                samples: total_samples,
                loudness: entries.first().map(|e| e.meta.loudness).unwrap_or_default(),
                source_error: None,
            }),
            Ok(false) => return self.waited,
            Err((i, e)) => {
                // A damaged entry must not fail the next render too.
                if let Some(entry) = entries.get(i) {
                    let _ = std::fs::remove_file(entry.path());
                }
                Err(e)
            }
        };
        if let Some(tx) = &self.tx {
            let _ = tx.send(AudioMsg::Done(result));
        }
        self.waited
    }

    /// `Err((index of the entry at fault, error))`.
    fn replay_all(
        &mut self,
        entries: &mut [Entry],
        total: u64,
    ) -> Result<bool, (usize, EncodeError)> {
        let held: u64 = entries.iter().map(|e| e.meta.samples).sum();
        let extradata = extradata::of_context(&self.audio);
        for (i, entry) in entries.iter_mut().enumerate() {
            let path = entry.path().to_path_buf();
            let bad = |why: String| {
                (
                    i,
                    EncodeError::AudioCache {
                        path: path.clone(),
                        why,
                    },
                )
            };
            if held != total {
                return Err(bad(format!("holds {held} samples, the timeline {total}")));
            }
            if entry.meta.extradata != extradata {
                return Err(bad("made with another AAC configuration".into()));
            }
            loop {
                let p = match entry.next_packet() {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(why) => return Err(bad(why.to_string())),
                };
                let mut pkt = Packet::copy(&p.data);
                pkt.set_pts(Some(p.pts));
                pkt.set_dts(Some(p.dts));
                pkt.set_duration(p.duration);
                if p.key {
                    pkt.set_flags(ff::packet::Flags::KEY);
                }
                if !self.send(pkt) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// `Ok(false)` when the receiving encoder is gone.
    fn encode_all(
        &mut self,
        master: &mut Master,
        total: u64,
        store: &mut Option<Store>,
    ) -> Result<bool, EncodeError> {
        let mut tape = Tape {
            master,
            held: Vec::new(),
            from: 0,
        };
        for (k, chunk) in crate::plan::audio_chunks(total, self.settings.chunk)
            .iter()
            .enumerate()
        {
            let feed = chunk_feed(chunk, total);
            if k > 0 {
                self.audio = open(self.settings.bitrate, self.settings.global_header)?;
            }
            tape.forget_before(feed.feed.start);
            if !self.encode_feed(&feed, &mut |at, out| tape.read(at, out), store)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Encodes one chunk's feed with the encoder as it is (fresh), its samples from `source`
    /// (`source(at, out)` writes the interleaved samples from timeline sample `at`), and
    /// passes on the packets it keeps. `Ok(false)` when the receiving encoder is gone.
    fn encode_feed(
        &mut self,
        feed: &ChunkFeed,
        source: &mut dyn FnMut(u64, &mut [f32]),
        store: &mut Option<Store>,
    ) -> Result<bool, EncodeError> {
        let n = self.frame_size as u64;
        let mut at = feed.feed.start;
        while at < feed.feed.end {
            let len = n.min(feed.feed.end - at) as usize;
            let mut af = frame::Audio::new(
                format::Sample::F32(format::sample::Type::Planar),
                len,
                ff::ChannelLayout::STEREO,
            );
            af.set_rate(SAMPLE_RATE);
            af.set_pts(Some(at as i64));
            self.scratch.resize(len * 2, 0.0);
            source(at, &mut self.scratch);
            for ch in 0..2 {
                let plane = af.plane_mut::<f32>(ch);
                for (i, s) in plane.iter_mut().enumerate().take(len) {
                    *s = self.scratch[i * 2 + ch];
                }
            }
            self.audio
                .send_frame(&af)
                .map_err(EncodeError::ff("send audio frame"))?;
            if !self.forward(store, &feed.keep)? {
                return Ok(false);
            }
            at += len as u64;
        }
        self.audio
            .send_eof()
            .map_err(EncodeError::ff("flush audio"))?;
        self.forward(store, &feed.keep)
    }

    /// Encodes one chunk of the timeline ([`crate::plan::audio_chunks`]) into `store`, an
    /// AAC packet file holding that chunk's packets, from `samples`: the mastered timeline
    /// (interleaved) from the start of the chunk's [`chunk_feed`] to its end. The footer
    /// gives the chunk's samples and `loudness` (the whole timeline's, measured where it was
    /// mastered). Joined in order, the chunks' packets are those one process encoding the
    /// timeline in these chunks writes.
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, [`EncodeError::AudioCache`]
    /// if the samples do not cover the feed or the file cannot be written.
    pub fn encode_chunk_to(
        mut self,
        chunk: &Range<u64>,
        total: u64,
        samples: &[f32],
        loudness: LoudnessReport,
        store: Store,
    ) -> Result<(), EncodeError> {
        let dest = store.dest().to_path_buf();
        let bad = |why: String| EncodeError::AudioCache {
            path: dest.clone(),
            why,
        };
        let feed = chunk_feed(chunk, total);
        let len = feed.feed.end - feed.feed.start;
        if samples.len() as u64 != len * 2 {
            return Err(bad(format!(
                "{} samples given for a feed of {len}",
                samples.len() / 2
            )));
        }
        let from = feed.feed.start;
        let mut store = Some(store);
        let mut source = |at: u64, out: &mut [f32]| {
            let i = ((at - from) * 2) as usize;
            out.copy_from_slice(&samples[i..i + out.len()]);
        };
        self.encode_feed(&feed, &mut source, &mut store)?;
        let store = store.ok_or_else(|| bad("could not be written".into()))?;
        store
            .finish(Footer {
                samples: chunk.end.min(total) - chunk.start,
                extradata: extradata::of_context(&self.audio),
                loudness,
            })
            .map(|_| ())
            .map_err(|e| bad(e.to_string()))
    }

    /// Sends every packet the AAC encoder has ready (and writes it to `store`, which is
    /// dropped if that fails); `Ok(false)` when nobody receives.
    fn forward(
        &mut self,
        store: &mut Option<Store>,
        keep: &Range<i64>,
    ) -> Result<bool, EncodeError> {
        loop {
            let mut pkt = Packet::empty();
            match self.audio.receive_packet(&mut pkt) {
                Ok(()) if !keep.contains(&pkt.pts().unwrap_or(0)) => {}
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
                    if !self.send(pkt) {
                        return Ok(false);
                    }
                }
                Err(e) if is_again_or_eof(&e) => return Ok(true),
                Err(source) => return Err(EncodeError::ff("receive audio packet")(source)),
            }
        }
    }
}

/// The mastered timeline, taken from the master in order and held from the start of the
/// next chunk's feed (which overlaps the one before).
struct Tape<'a> {
    master: &'a mut Master,
    /// Interleaved samples from `from`.
    held: Vec<f32>,
    from: u64,
}

impl Tape<'_> {
    /// Writes the samples from `at` (at or after the oldest held) into `out`.
    fn read(&mut self, at: u64, out: &mut [f32]) {
        let end = at + (out.len() / 2) as u64;
        let held_end = self.from + (self.held.len() / 2) as u64;
        if end > held_end {
            let old = self.held.len();
            self.held.resize(old + ((end - held_end) * 2) as usize, 0.0);
            let got = self.master.fill_next(&mut self.held[old..]);
            debug_assert_eq!(got, held_end, "audio is delivered in order");
        }
        let i = ((at - self.from) * 2) as usize;
        out.copy_from_slice(&self.held[i..i + out.len()]);
    }

    /// Lets go of the samples before `at`.
    fn forget_before(&mut self, at: u64) {
        if at > self.from {
            let n = (((at - self.from) * 2) as usize).min(self.held.len());
            self.held.drain(..n);
            self.from = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_feeds_overlap_their_neighbours_and_keep_their_own_packets() {
        let total = 30_000;
        let chunks = crate::plan::audio_chunks(total, 10_240);
        assert_eq!(chunks, [0..10_240, 10_240..20_480, 20_480..30_000]);
        let feeds: Vec<ChunkFeed> = chunks.iter().map(|c| chunk_feed(c, total)).collect();
        // 8 frames before, 2 after; the first keeps the priming packet, the last
        // everything to the end.
        assert_eq!(feeds[0].feed, 0..12_288);
        assert_eq!(feeds[0].keep, i64::MIN..10_240);
        assert_eq!(feeds[1].feed, 2_048..22_528);
        assert_eq!(feeds[1].keep, 10_240..20_480);
        assert_eq!(feeds[2].feed, 12_288..30_000);
        assert_eq!(feeds[2].keep, 20_480..i64::MAX);
        // Every feed starts on the one-piece encoder's frame grid.
        assert!(feeds.iter().all(|f| f.feed.start % AAC_FRAME == 0));
        // One chunk is the one-piece encoding.
        let one = chunk_feed(&(0..total), total);
        assert_eq!((one.feed, one.keep), (0..total, i64::MIN..i64::MAX));
        let one = |total: u64, chunk: u64| {
            let c = crate::plan::audio_chunks(total, chunk);
            (c.len(), c[0].start, c[0].end)
        };
        assert_eq!(one(total, 0), (1, 0, total));
        assert_eq!(one(0, 4096), (1, 0, 0));
    }
}
