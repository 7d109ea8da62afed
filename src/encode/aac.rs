//! The AAC encoder on a thread of its own: it encodes the mastered mix (or copies an audio
//! cache entry) and hands the packets to the [`Encoder`](super::Encoder) that muxes them, or
//! writes them to an AAC packet file alone ([`AudioEncoder::standalone`]).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant};

use ff::{codec, encoder, format, frame, Packet, Rational};
use ffmpeg_next as ff;

use super::{extradata, is_again_or_eof, EncodeError};
use crate::audio::master::{LoudnessReport, Master};
use crate::encode::packets::{AudioFooter as Footer, Entry as PacketFile, Store, StoredPacket};
use crate::plan::SAMPLE_RATE;

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

/// The AAC encoder, moved to a thread of its own (see [`AudioEncoder::run`]).
pub struct AudioEncoder {
    audio: encoder::Audio,
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
    pub(super) fn new(audio: encoder::Audio) -> (AudioEncoder, Receiver<AudioMsg>) {
        let (tx, rx) = sync_channel(AUDIO_AHEAD_PACKETS);
        let frame_size = (audio.frame_size() as usize).max(1);
        let enc = AudioEncoder {
            audio,
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
    pub fn standalone(bitrate: usize) -> Result<AudioEncoder, EncodeError> {
        crate::media::init().map_err(EncodeError::ff("init"))?;
        let (mut enc, _) = AudioEncoder::new(open(bitrate, true)?);
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
        if let Some(tx) = &self.tx {
            let _ = tx.send(AudioMsg::Done(result));
        }
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
            if !self.send(pkt) {
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
