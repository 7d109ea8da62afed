//! Compose ∥ encode: the pictures of a run of segments composed on a rayon pool, encoded on
//! one thread (the audio on another), joined by bounded ordered channels. The one place
//! where pictures become H.264, for the local render (into an MP4) and for a range
//! rendered on its own (into a segment file).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::progress::Progress;
use crate::audio::master::Master;
use crate::audio::mix::Mixer;
use crate::compose::frame::{self, ComposedSpan, Picture, YuvFrame};
use crate::compose::prepare::Prepared;
use crate::encode::{AudioEncoder, EncodeStats, Encoder, EncoderConfig};
use crate::error::Error;
use crate::plan::{self, Plan};

/// Where a render's audio comes from.
pub(super) enum AudioSource {
    /// Mixed, mastered and encoded now; `store` keeps the packets in the audio cache.
    Fresh {
        mixer: Mixer,
        store: Option<crate::cache::Store>,
    },
    /// Copied from an earlier render's audio cache entry.
    Cached(crate::cache::audio::Entry),
}

/// A span's whole picture, on its way to the encoder.
struct Ready {
    span: plan::Span,
    frame: Arc<YuvFrame>,
}

#[derive(Debug, Default)]
pub(super) struct ComposeStats {
    pub(super) busy: Duration,
    pub(super) loudness: Duration,
    /// Time the audio thread spent mastering and encoding AAC, not waiting (overlaps everything).
    pub(super) aac_busy: Duration,
    pub(super) encode_busy: Duration,
    pub(super) pictures: u64,
    /// Of those, pictures composed as the regions that changed over the picture before.
    pub(super) partial: u64,
    pub(super) bytes: u64,
}

pub(super) struct ComposeEncode<'a> {
    pub(super) plan: &'a Plan,
    pub(super) spans: &'a [plan::Span],
    pub(super) pool: &'a rayon::ThreadPool,
    pub(super) batch: usize,
    pub(super) panic_at: Option<u64>,
}

/// A segment of the video on its way through compose and encode.
pub(super) struct SegmentWork {
    pub(super) start: u64,
    pub(super) end: u64,
    /// Its packets from the scene cache.
    pub(super) entry: Option<crate::cache::scenes::Entry>,
    /// Where its packets go for the scene cache.
    pub(super) store: Option<crate::cache::Store>,
}

/// From the compose thread to the encoder thread, in order.
enum Work {
    /// The next segment begins (its index).
    Segment(usize),
    /// A span's picture.
    Picture(Ready),
}

/// Sets the flag if dropped while unwinding from a panic, so the other threads stop promptly
/// instead of finishing a render that will be thrown away.
struct CancelOnPanic<'a>(&'a AtomicBool);
impl Drop for CancelOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Where the encoded frames go.
pub(super) enum Sink<'a> {
    /// An MP4 at `out`, with the audio muxed under the video.
    Mp4 {
        /// The (partial) output file.
        out: &'a Path,
        /// Where the audio comes from.
        audio: Box<AudioSource>,
    },
    /// Only segment files: each segment's store (no container, no audio).
    Segments,
}

/// The channels between the compose thread and the encoder thread.
struct ComposeEnds {
    tx: SyncSender<Work>,
    back_rx: Receiver<YuvFrame>,
    reuse_rx: Receiver<Vec<bool>>,
    may_reuse: bool,
}

/// The encoder thread's ends.
struct EncodeEnds {
    rx: Receiver<Work>,
    back_tx: Sender<YuvFrame>,
    reuse_tx: SyncSender<Vec<bool>>,
    aac_tx: SyncSender<AudioEncoder>,
}

impl ComposeEncode<'_> {
    /// Composes and encodes `segments` (back to back), the pictures composed on the pool
    /// while one thread encodes them into `sink` (and the audio, for an MP4, on a third).
    pub(super) fn run(
        &self,
        sink: Sink<'_>,
        cfg: &EncoderConfig,
        segments: Vec<SegmentWork>,
        progress: &mut dyn Progress,
    ) -> Result<(ComposeStats, EncodeStats), Error> {
        let first = segments.first().map_or(0, |s| s.start);
        let total = segments.last().map_or(0, |s| s.end) - first;
        let (out, audio) = match sink {
            Sink::Mp4 { out, audio } => (Some(out), Some(*audio)),
            Sink::Segments => (None, None),
        };
        let cancel = AtomicBool::new(false);
        let encoded = AtomicU64::new(0);
        // Pictures composed ahead of the encoder (x264 buffers its own look-ahead), and where
        // segments begin.
        let (tx, rx) = sync_channel::<Work>(4);
        // Which segments the encoder copies from the scene cache (the compose thread skips
        // them), once the encoder has checked the entries against its stream.
        let (reuse_tx, reuse_rx) = sync_channel::<Vec<bool>>(1);
        let bounds: Vec<(u64, u64)> = segments.iter().map(|s| (s.start, s.end)).collect();
        let kept: Vec<_> = segments.into_iter().map(|s| (s.entry, s.store)).collect();
        // Without entries nothing can be copied: composition starts at once.
        let may_reuse = kept.iter().any(|(entry, _)| entry.is_some());
        // The audio encoder, from the encoder thread (which opens the file) to the audio thread.
        let (aac_tx, aac_rx) = sync_channel::<AudioEncoder>(1);
        // Frames the encoder has finished with go back to the compositor for reuse.
        let buffers = frame::Buffers::default();
        let (back_tx, back_rx) = std::sync::mpsc::channel::<frame::YuvFrame>();
        let compose_ends = ComposeEnds {
            tx,
            back_rx,
            reuse_rx,
            may_reuse,
        };
        let encode_ends = EncodeEnds {
            rx,
            back_tx,
            reuse_tx,
            aac_tx,
        };
        std::thread::scope(|s| {
            // Audio: the loudness analysis (passes over the whole mix to set the gain), then
            // the AAC encoding of the delivered mix, on this thread of its own. Composition and
            // the video encoder run meanwhile; the muxer takes the audio packets as the video
            // reaches their time.
            let audio = match audio {
                Some(audio) => Some(
                    std::thread::Builder::new()
                        .name("reelsmith-audio".into())
                        .spawn_scoped(s, move || self.audio(audio, aac_rx))
                        .map_err(|e| Error::Internal(format!("spawn audio thread: {e}")))?,
                ),
                None => None,
            };
            // References, so the `move` closures below share them and take only their own
            // channel ends by value.
            let (cancel, encoded, buffers, bounds) = (&cancel, &encoded, &buffers, &bounds);
            let stop = CancelOnPanic(cancel);
            let producer = std::thread::Builder::new()
                .name("reelsmith-compose".into())
                .spawn_scoped(s, move || {
                    let _stop = CancelOnPanic(cancel);
                    self.compose(compose_ends, bounds, cancel, buffers)
                })
                .map_err(|e| Error::Internal(format!("spawn compose thread: {e}")))?;
            let encoder = std::thread::Builder::new()
                .name("reelsmith-encode".into())
                .spawn_scoped(s, move || {
                    let _stop = CancelOnPanic(cancel);
                    encode(out, cfg, encode_ends, kept, total, cancel, encoded)
                })
                .map_err(|e| Error::Internal(format!("spawn encode thread: {e}")))?;

            let mut cancelled = false;
            loop {
                let done = encoded.load(Ordering::Relaxed);
                if !cancelled && !progress.frames(done, total) {
                    cancelled = true;
                    cancel.store(true, Ordering::SeqCst);
                }
                if producer.is_finished() && encoder.is_finished() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
            let p = producer.join();
            let e = encoder.join();
            let a = audio.map(|a| a.join());
            drop(stop);
            if cancelled {
                return Err(Error::Cancelled);
            }
            // The first real cause wins: a producer error explains an incomplete encode.
            let compose_stats = match p {
                Ok(Ok(stats)) => stats,
                Ok(Err(err)) => return Err(err),
                Err(panic) => {
                    return Err(Error::Internal(format!(
                        "compose panicked: {}",
                        panic_message(&*panic)
                    )))
                }
            };
            let (stats, busy) = match e {
                Ok(Ok((stats, busy))) => (stats, busy),
                Ok(Err(err)) => return Err(err),
                Err(panic) => {
                    return Err(Error::Internal(format!(
                        "encoder panicked: {}",
                        panic_message(&*panic)
                    )))
                }
            };
            let (loudness, aac_busy) = a
                .transpose()
                .map_err(|panic| {
                    Error::Internal(format!("audio thread panicked: {}", panic_message(&*panic)))
                })?
                .unwrap_or_default();
            progress.frames(stats.frames, total);
            Ok((
                ComposeStats {
                    encode_busy: busy,
                    loudness,
                    aac_busy,
                    ..compose_stats
                },
                stats,
            ))
        })
    }

    /// The audio thread: the loudness analysis and AAC encoding of a fresh mix, or the
    /// packets of a cached one. Returns the analysis time and the time busy encoding.
    fn audio(&self, audio: AudioSource, aac_rx: Receiver<AudioEncoder>) -> (Duration, Duration) {
        let total_samples = self.plan.total_samples;
        match audio {
            AudioSource::Fresh { mixer, store } => {
                let t = Instant::now();
                let mut master = Master::new(mixer, &self.plan.loudness);
                let analysis = t.elapsed();
                let t = Instant::now();
                let mut waited = Duration::ZERO;
                if let Ok(aac) = aac_rx.recv() {
                    waited = aac.run(&mut master, total_samples, store);
                }
                (analysis, t.elapsed().saturating_sub(waited))
            }
            AudioSource::Cached(entry) => {
                let t = Instant::now();
                let mut waited = Duration::ZERO;
                if let Ok(aac) = aac_rx.recv() {
                    waited = aac.replay(entry, total_samples);
                }
                (Duration::ZERO, t.elapsed().saturating_sub(waited))
            }
        }
    }

    /// The compose thread: every span of each segment not copied from the scene cache, in
    /// order, composed on the pool in batches and sent to the encoder.
    fn compose(
        &self,
        ends: ComposeEnds,
        bounds: &[(u64, u64)],
        cancel: &AtomicBool,
        buffers: &frame::Buffers,
    ) -> Result<ComposeStats, Error> {
        let ComposeEnds {
            tx,
            back_rx,
            reuse_rx,
            may_reuse,
        } = ends;
        let mut stats = ComposeStats::default();
        let mut backgrounds = frame::Backgrounds::default();
        let mut prepared = Prepared::empty(self.plan);
        let mut last: Option<Arc<frame::YuvFrame>> = None;
        let reuse = if may_reuse {
            let Ok(reuse) = reuse_rx.recv() else {
                // The encoder did not start; its result says why.
                return Ok(stats);
            };
            reuse
        } else {
            Vec::new()
        };
        for (i, &(start, end)) in bounds.iter().enumerate() {
            if tx.send(Work::Segment(i)).is_err() {
                return Ok(stats);
            }
            if reuse.get(i).copied().unwrap_or(false) {
                continue;
            }
            let lo = self.spans.partition_point(|s| s.start < start);
            let hi = self.spans.partition_point(|s| s.start < end);
            for chunk in self.spans[lo..hi].chunks(self.batch.max(1)) {
                if cancel.load(Ordering::SeqCst) {
                    return Err(Error::Cancelled);
                }
                if let (Some(at), Some(last)) = (self.panic_at, chunk.last()) {
                    if last.start + last.len > at {
                        panic!("injected compose panic at frame {at}");
                    }
                }
                for f in back_rx.try_iter() {
                    buffers.recycle(f);
                }
                let t = Instant::now();
                let pics = self.pool.install(|| -> Result<_, Error> {
                    if prepared.window(self.plan, &frame::scenes_of(chunk))? {
                        // A scene was freed or prepared: give its holes back.
                        crate::base::memory::release_free_pages();
                    }
                    backgrounds.keep_only(self.plan, &prepared, chunk);
                    Ok(frame::compose_batch(
                        self.plan,
                        &prepared,
                        &backgrounds,
                        chunk,
                        buffers,
                    )?)
                })?;
                stats.busy += t.elapsed();
                for ComposedSpan { span, picture } in pics {
                    let frame = whole(picture, last.as_deref(), buffers, &mut stats)?;
                    // Keep the picture for a partial one after it; give the one before
                    // back for reuse when the encoder is done with it.
                    if let Some(done) = last.replace(Arc::clone(&frame)) {
                        if let Ok(f) = Arc::try_unwrap(done) {
                            buffers.recycle(f);
                        }
                    }
                    stats.pictures += 1;
                    stats.bytes += (frame.y.len() + frame.u.len() + frame.v.len()) as u64;
                    if tx.send(Work::Picture(Ready { span, frame })).is_err() {
                        // The encoder stopped; its result says why.
                        return Ok(stats);
                    }
                }
            }
        }
        Ok(stats)
    }
}

/// A composed picture whole: a partial one (only what changed was drawn) pasted over the
/// picture before.
fn whole(
    picture: Picture,
    prev: Option<&YuvFrame>,
    buffers: &frame::Buffers,
    stats: &mut ComposeStats,
) -> Result<Arc<YuvFrame>, Error> {
    match picture {
        Picture::Whole(f) => Ok(Arc::new(f)),
        Picture::Parts(parts) => {
            stats.partial += 1;
            let t = Instant::now();
            let Some(prev) = prev else {
                return Err(Error::Internal("a partial picture came first".into()));
            };
            let mut full = buffers.frame(prev.width, prev.height);
            full.y.copy_from_slice(&prev.y);
            full.u.copy_from_slice(&prev.u);
            full.v.copy_from_slice(&prev.v);
            for (region, part) in &parts {
                frame::paste(&mut full, part, *region);
            }
            stats.busy += t.elapsed();
            Ok(Arc::new(full))
        }
    }
}

/// The encoder thread: opens the MP4 (or the segment files' encoder), copies the kept
/// segments that fit its stream, encodes the pictures as they come and finishes. Returns its
/// counters and the time it was busy.
fn encode(
    out: Option<&Path>,
    cfg: &EncoderConfig,
    ends: EncodeEnds,
    mut kept: Vec<(
        Option<crate::cache::scenes::Entry>,
        Option<crate::cache::Store>,
    )>,
    total: u64,
    cancel: &AtomicBool,
    encoded: &AtomicU64,
) -> Result<(EncodeStats, Duration), Error> {
    let EncodeEnds {
        rx,
        back_tx,
        reuse_tx,
        aac_tx,
    } = ends;
    let t = Instant::now();
    let mut busy = Duration::ZERO;
    let mut enc = match out {
        Some(out) => {
            let (enc, aac) = Encoder::create(out, cfg)?;
            // If the audio thread is gone, `finish` says so.
            let _ = aac_tx.send(aac);
            enc
        }
        None => Encoder::segments_only(cfg)?,
    };
    // Kept segments are used only if they fit this stream.
    let splices = enc.splices();
    let reuse = kept
        .iter_mut()
        .map(|(entry, _)| {
            if entry.as_ref().is_some_and(|e| !enc.can_replay(e)) {
                *entry = None;
            }
            entry.is_some()
        })
        .collect();
    let _ = reuse_tx.send(reuse);
    busy += t.elapsed();
    let mut rx = rx.into_iter().peekable();
    while let Some(work) = rx.next() {
        if cancel.load(Ordering::SeqCst) {
            return Err(Error::Cancelled);
        }
        let pic = match work {
            Work::Picture(pic) => pic,
            Work::Segment(_) if !splices => continue,
            Work::Segment(i) => {
                let t = Instant::now();
                let (entry, store) = kept
                    .get_mut(i)
                    .map_or((None, None), |k| (k.0.take(), k.1.take()));
                enc.begin_segment(store)?;
                if let Some(entry) = entry {
                    enc.replay_segment(entry, |n| encoded.store(n, Ordering::Relaxed))?;
                }
                busy += t.elapsed();
                continue;
            }
        };
        enc.patches_follow(
            rx.peek()
                .is_some_and(|n| matches!(n, Work::Picture(p) if p.span.bars_only)),
        );
        let t = Instant::now();
        enc.push(&pic.frame, pic.span.len, |n| {
            encoded.store(n, Ordering::Relaxed)
        })?;
        busy += t.elapsed();
        if let Ok(frame) = Arc::try_unwrap(pic.frame) {
            let _ = back_tx.send(frame);
        }
    }
    if enc.frames() != total {
        // The producer stopped early (error, cancel): no trailer, no output.
        return Err(Error::Cancelled);
    }
    let t = Instant::now();
    let stats = enc.finish()?;
    busy += t.elapsed();
    if let Some(e) = &stats.audio_source_error {
        // Silence went out where a source could not be read: no output.
        return Err(Error::Internal(e.clone()));
    }
    Ok((stats, busy))
}
