//! The only sequencer: validate → prepare → mix → compose ∥ encode → finalize.
//!
//! Stages are plain functions in their own modules; this driver times them, runs compose and
//! encode concurrently (composition on a rayon pool, one encoder thread, joined by a bounded
//! ordered channel), reports progress, honours cancellation and owns the render transaction.

pub mod bench;
pub mod caches;
pub mod inspect;
pub mod options;
pub mod report;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audio::master::Master;
use crate::audio::mix::Mixer;
use crate::compose::frame::{self, ComposedSpan, Picture, YuvFrame};
use crate::compose::prepare::{self, Prepared};
use crate::encode::{AudioEncoder, EncodeStats, Encoder, EncoderConfig};
use crate::error::Error;
pub use crate::pipeline::caches::{caches, clear_caches, CacheInfo};
#[cfg(feature = "fault-injection")]
pub use crate::pipeline::options::Fault;
pub use crate::pipeline::options::RenderOptions;
use crate::pipeline::report::{peak_rss_bytes, RenderReport, StageId, StageReport};
use crate::plan::{self, Plan};
use crate::resolve::{self, ResolveContext};
use crate::spec::Composition;
use crate::spec::SpecError;
use crate::text;
use workspace::Workspace;

/// Receives progress. Called on the thread that called [`render_with_progress`].
pub trait Progress {
    /// A stage begins.
    fn stage(&mut self, _stage: StageId) {}
    /// `done` of `total` frames are encoded. Return false to cancel the render.
    fn frames(&mut self, _done: u64, _total: u64) -> bool {
        true
    }
}

/// Progress that reports nothing and never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Reads and parses a spec file. Returns the composition and the folder its relative asset
/// paths are resolved against.
///
/// # Errors
/// [`SpecError::Read`] or [`SpecError::Parse`].
pub fn load_spec(path: &Path) -> Result<(Composition, PathBuf), SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.into(),
        source,
    })?;
    let comp = Composition::from_json(&text)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((comp, dir.to_path_buf()))
}

/// Resolves the spec into a plan (all spec problems at once).
///
/// # Errors
/// [`SpecError::Invalid`].
pub fn plan(comp: &Composition, opts: &RenderOptions) -> Result<Plan, SpecError> {
    let files = opts.file_access();
    if let Some(limits) = &opts.limits {
        let over = limits.check(comp);
        if !over.is_empty() {
            return Err(SpecError::Invalid(over));
        }
    }
    let (fonts, font_issues) = crate::resolve::fonts::load(&comp.fonts, &files);
    let families = text::font_families_with(&fonts);
    let engine = std::cell::RefCell::new(None::<text::TextEngine>);
    let measure = |t: &plan::PlanText| {
        let mut e = engine.borrow_mut();
        e.get_or_insert_with(|| text::TextEngine::with_fonts(&fonts))
            .measure(t)
            .map_err(|e| e.to_string())
    };
    let resolved = resolve::resolve(
        comp,
        &ResolveContext {
            files: &files,
            font_families: &families,
            audio_levels: &|p: &Path| crate::media::sound::levels(p).map_err(|e| e.to_string()),
            synthesize: &|speech| crate::media::tts::speak(&opts.tts_cache(), speech),
            measure: &measure,
        },
    );
    let mut plan = match (resolved, font_issues.is_empty()) {
        (Ok(p), true) => p,
        (Ok(_), false) => return Err(SpecError::Invalid(font_issues)),
        (Err(SpecError::Invalid(issues)), _) => {
            let mut all = font_issues;
            all.extend(issues);
            return Err(SpecError::Invalid(all));
        }
        (Err(e), _) => return Err(e),
    };
    plan.fonts = fonts.clone();
    if let Some(q) = opts.quality {
        plan.quality = q;
    }
    if let Some(limits) = &opts.limits {
        let over = limits.check_plan(&plan);
        if !over.is_empty() {
            return Err(SpecError::Invalid(over));
        }
    }
    Ok(plan)
}

/// What `validate` found: the spec is renderable.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValidationSummary {
    /// Scenes.
    pub scenes: usize,
    /// Video frames.
    pub frames: u64,
    /// Seconds.
    pub duration_s: f64,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
    /// Frame rate.
    pub fps: f64,
    /// Audio tracks.
    pub tracks: usize,
    /// Distinct pictures (frames that must be composed; the rest repeat them).
    pub unique_frames: usize,
    /// Text layers that were shrunk or cut to fit their box.
    pub text_fits: Vec<crate::plan::TextFit>,
    /// Closed captions the narration makes.
    pub captions: usize,
}

/// Checks everything a render would, without drawing or encoding: the spec, then every asset
/// (pictures decoded, text laid out, audio loaded).
///
/// # Errors
/// [`Error::Spec`] or [`Error::Asset`] listing every problem.
pub fn validate(comp: &Composition, opts: &RenderOptions) -> Result<ValidationSummary, Error> {
    let plan = plan(comp, opts)?;
    prepare::check(&plan)?;
    // Long sources go to unnamed temporary files in the spill folder when one is given, else
    // under the temp root as in a render, in memory when it does not exist (validating
    // creates nothing).
    let temp_root = opts.temp_root();
    let spill = match &opts.spill_dir {
        Some(dir) => Some(dir.as_path()),
        None => temp_root.is_dir().then_some(temp_root.as_path()),
    };
    Mixer::load(&plan, spill)?;
    Ok(ValidationSummary {
        scenes: plan.scenes.len(),
        frames: plan.total_frames,
        duration_s: plan.duration_s(),
        width: plan.width,
        height: plan.height,
        fps: plan.fps.as_f64(),
        tracks: plan.tracks.len(),
        unique_frames: plan.spans().len(),
        text_fits: plan.text_fits.clone(),
        captions: plan.captions.cues.len(),
    })
}

/// Renders `comp` to an MP4. See [`render_with_progress`].
///
/// # Errors
/// See [`render_with_progress`].
pub fn render(comp: &Composition, opts: &RenderOptions) -> Result<RenderReport, Error> {
    render_with_progress(comp, opts, &mut NoProgress)
}

/// Where the output goes: options, else the spec, else the media root.
pub fn output_path(comp: &Composition, opts: &RenderOptions) -> PathBuf {
    opts.output
        .clone()
        .or_else(|| comp.output.path.as_ref().map(PathBuf::from))
        .unwrap_or_else(|| {
            opts.media_root
                .join("videos")
                .join(format!("{}.mp4", opts.output_name))
        })
}

/// Renders `comp` to an MP4, reporting progress to `progress` (which can cancel).
///
/// The render is a transaction: on any error, cancellation or panic no file appears at the
/// output path (an existing one is left as it was) and every temporary file is removed.
///
/// # Errors
/// [`Error::Spec`] / [`Error::Asset`] for bad input (before any frame is drawn),
/// [`Error::Encode`] / [`Error::Io`] for output problems, [`Error::Cancelled`].
pub fn render_with_progress(
    comp: &Composition,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
) -> Result<RenderReport, Error> {
    render_transaction(comp, opts, progress).map_err(|e| name_output_folder(e, comp, opts))
}

/// libav's write errors name no file: a full, read-only or forbidden output folder (where
/// the partial output is written) becomes [`Error::Io`] naming it.
fn name_output_folder(e: Error, comp: &Composition, opts: &RenderOptions) -> Error {
    match e {
        Error::Encode(crate::encode::EncodeError::Ffmpeg {
            op,
            source: ffmpeg_next::Error::Other { errno },
        }) if crate::base::env::is_environmental_errno(errno) => {
            let output = output_path(comp, opts);
            let folder = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            tracing::debug!("libav {op} failed writing the output");
            Error::Io {
                op: "write the video in output folder",
                path: folder,
                source: std::io::Error::from_raw_os_error(errno),
            }
        }
        other => other,
    }
}

fn render_transaction(
    comp: &Composition,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
) -> Result<RenderReport, Error> {
    let t_start = Instant::now();
    let cpu_start = crate::pipeline::report::process_cpu_s();
    let mut stages = Vec::new();
    let temp_root = opts.temp_root();
    workspace::sweep(&temp_root)?;
    crate::media::tts::sweep_partials(&opts.tts_cache());

    progress.stage(StageId::Validate);
    let t = Instant::now();
    let plan = plan(comp, opts)?;
    let spans = plan.spans();
    stages.push(StageReport::new(
        StageId::Validate,
        t,
        spans.len() as u64,
        0,
    ));

    let output = output_path(comp, opts);
    if output.is_dir() {
        return Err(Error::Io {
            op: "write output",
            path: output,
            source: std::io::Error::other("is a folder"),
        });
    }
    let mut ws = Workspace::create(&temp_root, opts.keep_temp)?;
    let partial = ws.partial_output(&output)?;
    let captions_file = write_captions(&plan, &output, &mut ws)?;

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("reelsmith-compose-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;

    progress.stage(StageId::Prepare);
    let t = Instant::now();
    // Every asset is checked now (no frame is drawn if one is bad); each scene is prepared
    // again just before it is composed and freed after, so memory does not grow with length.
    let prepared = pool.install(|| prepare::check(&plan))?;
    stages.push(StageReport::new(
        StageId::Prepare,
        t,
        (prepared.images_decoded + prepared.texts_rasterized) as u64,
        prepared.bytes,
    ));

    progress.stage(StageId::Mix);
    let t = Instant::now();
    let audio_bitrate = plan.audio_bitrate_kbps as usize * 1000;
    let audio = audio_source(&plan, opts, &ws, &pool, audio_bitrate)?;
    let (mix_bytes, mix_note) = match &audio {
        AudioSource::Fresh { mixer, .. } => (mixer.source_bytes(), None),
        AudioSource::Cached(entry) => (
            std::fs::metadata(entry.path()).map_or(0, |m| m.len()),
            Some(format!(
                "the same audio as an earlier render: its AAC packets copied from the audio \
                 cache ({}), nothing mixed or encoded",
                entry.path().display()
            )),
        ),
    };
    let audio_cached = mix_note.is_some();
    let mix_index = stages.len();
    stages.push(StageReport::new(
        StageId::Mix,
        t,
        plan.total_samples,
        mix_bytes,
    ));
    stages[mix_index].note = mix_note;

    progress.stage(StageId::Compose);
    let cfg = EncoderConfig {
        width: plan.width,
        height: plan.height,
        fps: plan.fps,
        preset: plan.quality.x264_preset(),
        crf: plan.quality.x264_crf(),
        audio_bitrate,
        skip_repeats: opts.skip_repeats,
        patches: opts.patches,
        lossless: opts.lossless,
        x264_params: opts.x264_params.clone(),
        threads: opts.threads,
        segments: opts.segments && opts.skip_repeats,
        hold_frames: opts.splice_hold,
        #[cfg(feature = "fault-injection")]
        fail_at_frame: opts.encode_fault(),
        captions: plan
            .captions
            .embed
            .then(|| crate::encode::subtitles::Track {
                cues: plan.captions.cues.clone(),
                language: plan.captions.language.clone(),
                end_ms: (plan.duration_s() * 1000.0).round() as u64,
            }),
    };
    // Segments: one per scene when encoding in segments, else the whole video; with the
    // scene cache each has a key and maybe an entry from an earlier render.
    let scene_cache = (opts.scene_cache && cfg.segments && !opts.lossless)
        .then(|| crate::cache::scenes::cache(opts.scene_cache_dir()));
    let starts = if cfg.segments {
        plan.segment_starts()
    } else {
        Vec::new()
    };
    let segments: Vec<SegmentWork> =
        crate::cache::scenes::segments(&plan, &spans, &starts, scene_cache.as_ref().map(|_| &cfg))
            .into_iter()
            .enumerate()
            .map(|(i, seg)| {
                let (entry, store) = match (&scene_cache, &seg.key) {
                    (Some(cache), Some(key)) => match cache
                        .open::<crate::cache::scenes::Footer>(key)
                    {
                        Some(e) if e.meta.frames == seg.end - seg.start => (Some(e), None),
                        _ => (
                            None,
                            cache
                                .store(key, ws.dir().join(format!("segment-{i}.part")))
                                .map_err(|e| tracing::warn!("a segment will not be cached: {e}"))
                                .ok(),
                        ),
                    },
                    _ => (None, None),
                };
                SegmentWork {
                    start: seg.start,
                    end: seg.end,
                    entry,
                    store,
                }
            })
            .collect();
    let run = ComposeEncode {
        plan: &plan,
        spans: &spans,
        pool: &pool,
        batch: threads * crate::compose::SPANS_PER_THREAD,
        panic_at: opts.panic_fault(),
    };
    let (compose_stats, encode_stats) = run.run(&partial, &cfg, audio, segments, progress)?;
    if !audio_cached {
        // The loudness analysis (EBU R128 passes over the whole mix) ran beside composition.
        let mix = &mut stages[mix_index];
        mix.wall_s += compose_stats.loudness.as_secs_f64();
        mix.note = Some(format!(
            "includes {:.2} s of loudness analysis, which overlaps compose",
            compose_stats.loudness.as_secs_f64()
        ));
    }
    stages.push(StageReport {
        stage: StageId::Compose,
        wall_s: compose_stats.busy.as_secs_f64(),
        frames: compose_stats.pictures,
        bytes: compose_stats.bytes,
        note: Some(format!(
            "overlaps encode; frames = distinct pictures composed, {} of them only where \
             layers changed",
            compose_stats.partial
        )),
    });
    stages.push(StageReport {
        stage: StageId::Encode,
        wall_s: compose_stats.encode_busy.as_secs_f64(),
        frames: encode_stats.frames,
        bytes: encode_stats.video_bytes + encode_stats.audio_bytes,
        note: Some(format!(
            "libx264 {} {} + aac {} kbit/s (mastering and AAC busy {:.2} s on their own \
             thread); {} of {} frames encoded, {}{}{}; overlaps compose",
            cfg.preset,
            if cfg.lossless {
                "lossless".to_string()
            } else {
                format!("crf {}", cfg.crf)
            },
            plan.audio_bitrate_kbps,
            compose_stats.aac_busy.as_secs_f64(),
            encode_stats.encoded_frames,
            encode_stats.frames,
            if encode_stats.encoded_frames < encode_stats.frames {
                "the rest exact skip copies"
            } else {
                "repeats encoded again"
            },
            if encode_stats.patched_frames > 0 {
                format!(
                    " or patches ({} frames, {} patches)",
                    encode_stats.patched_frames, encode_stats.patches
                )
            } else {
                String::new()
            },
            if encode_stats.segments > 1 {
                format!(
                    "; {} segments, {} of them ({} frames) copied from the scene cache, \
                     seams {:.2} s flushing x264 + {:.2} s reopening it",
                    encode_stats.segments,
                    encode_stats.segments_reused,
                    encode_stats.frames_reused,
                    encode_stats.seam_flush.as_secs_f64(),
                    encode_stats.seam_open.as_secs_f64()
                )
            } else {
                String::new()
            }
        )),
    });

    progress.stage(StageId::Finalize);
    let t = Instant::now();
    let output_bytes = ws.commit(&output)?;
    stages.push(StageReport::new(StageId::Finalize, t, 1, output_bytes));

    let wall = t_start.elapsed().as_secs_f64();
    Ok(RenderReport {
        output,
        width: plan.width,
        height: plan.height,
        fps: plan.fps.as_f64(),
        frames: plan.total_frames,
        duration_s: plan.duration_s(),
        unique_frames: spans.len() as u64,
        encoded_frames: encode_stats.encoded_frames,
        patched_frames: encode_stats.patched_frames,
        segments: encode_stats.segments.max(1),
        segments_reused: encode_stats.segments_reused,
        frames_reused: encode_stats.frames_reused,
        quality: plan.quality.as_str().into(),
        wall_s: wall,
        realtime_factor: if wall > 0.0 {
            plan.duration_s() / wall
        } else {
            0.0
        },
        output_bytes,
        peak_rss_bytes: peak_rss_bytes(),
        cpu_s: crate::pipeline::report::process_cpu_s()
            .zip(cpu_start)
            .map(|(end, start)| end - start),
        audio: encode_stats.loudness,
        audio_cached,
        threads,
        stages,
        text_fits: plan.text_fits.clone(),
        captions: plan.captions.cues.len(),
        captions_file,
    })
}

/// With `output.captions.vtt` and captions to write: the WebVTT file beside `output`
/// (`.vtt` for its extension), written now into a partial file that the workspace renames
/// into place with the video. Returns the final path.
fn write_captions(
    plan: &Plan,
    output: &Path,
    ws: &mut Workspace,
) -> Result<Option<PathBuf>, Error> {
    if !plan.captions.vtt || plan.captions.cues.is_empty() {
        return Ok(None);
    }
    let mut path = output.with_extension("vtt");
    if path == output {
        path = PathBuf::from(format!("{}.vtt", output.display()));
    }
    let partial = ws.companion(&path)?;
    std::fs::write(
        &partial,
        crate::encode::subtitles::to_vtt(&plan.captions.cues),
    )
    .map_err(Error::io("write captions", &partial))?;
    Ok(Some(path))
}

/// Where a render's audio comes from.
enum AudioSource {
    /// Mixed, mastered and encoded now; `store` keeps the packets in the audio cache.
    Fresh {
        mixer: Mixer,
        store: Option<crate::cache::Store>,
    },
    /// Copied from an earlier render's audio cache entry.
    Cached(crate::cache::audio::Entry),
}

/// The audio cache entry of this render's audio if there is one, else the loaded sources
/// (and, with the cache on, an entry to fill).
fn audio_source(
    plan: &Plan,
    opts: &RenderOptions,
    ws: &Workspace,
    pool: &rayon::ThreadPool,
    bitrate: usize,
) -> Result<AudioSource, Error> {
    let cache = opts
        .audio_cache
        .then(|| crate::cache::audio::cache(opts.audio_cache_dir()));
    // A source that cannot be read gives no key: loading it below says what is wrong.
    let key = cache
        .as_ref()
        .and_then(|_| crate::cache::audio::key(plan, bitrate).ok());
    if let (Some(cache), Some(key)) = (&cache, &key) {
        if let Some(entry) = cache.open::<crate::cache::audio::Footer>(key) {
            return Ok(AudioSource::Cached(entry));
        }
    }
    let mixer = pool.install(|| Mixer::load(plan, Some(ws.dir())))?;
    let store = match (&cache, &key) {
        (Some(cache), Some(key)) => cache
            .store(key, ws.dir().join("audio.aac.part"))
            .map_err(|e| tracing::warn!("the encoded audio will not be cached: {e}"))
            .ok(),
        _ => None,
    };
    Ok(AudioSource::Fresh { mixer, store })
}

/// A span's whole picture, on its way to the encoder.
struct Ready {
    span: plan::Span,
    frame: Arc<YuvFrame>,
}

#[derive(Debug, Default)]
struct ComposeStats {
    busy: Duration,
    loudness: Duration,
    /// Time the audio thread spent mastering and encoding AAC, not waiting (overlaps everything).
    aac_busy: Duration,
    encode_busy: Duration,
    pictures: u64,
    /// Of those, pictures composed as the regions that changed over the picture before.
    partial: u64,
    bytes: u64,
}

struct ComposeEncode<'a> {
    plan: &'a Plan,
    spans: &'a [plan::Span],
    pool: &'a rayon::ThreadPool,
    batch: usize,
    panic_at: Option<u64>,
}

/// A segment of the video on its way through compose and encode.
struct SegmentWork {
    start: u64,
    end: u64,
    /// Its packets from the scene cache.
    entry: Option<crate::cache::scenes::Entry>,
    /// Where its packets go for the scene cache.
    store: Option<crate::cache::Store>,
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

impl ComposeEncode<'_> {
    fn run(
        &self,
        out: &Path,
        cfg: &EncoderConfig,
        audio: AudioSource,
        segments: Vec<SegmentWork>,
        progress: &mut dyn Progress,
    ) -> Result<(ComposeStats, EncodeStats), Error> {
        let total = self.plan.total_frames;
        let cancel = AtomicBool::new(false);
        let encoded = AtomicU64::new(0);
        // Pictures composed ahead of the encoder (x264 buffers its own look-ahead), and where
        // segments begin.
        let (tx, rx) = sync_channel::<Work>(4);
        // Which segments the encoder copies from the scene cache (the compose thread skips
        // them), once the encoder has checked the entries against its stream.
        let (reuse_tx, reuse_rx) = sync_channel::<Vec<bool>>(1);
        let bounds: Vec<(u64, u64)> = segments.iter().map(|s| (s.start, s.end)).collect();
        let mut kept: Vec<_> = segments.into_iter().map(|s| (s.entry, s.store)).collect();
        // Without entries nothing can be copied: composition starts at once.
        let may_reuse = kept.iter().any(|(entry, _)| entry.is_some());
        // The audio encoder, from the encoder thread (which opens the file) to the audio thread.
        let (aac_tx, aac_rx) = sync_channel::<AudioEncoder>(1);
        // Frames the encoder has finished with go back to the compositor for reuse.
        let buffers = frame::Buffers::default();
        let (back_tx, back_rx) = std::sync::mpsc::channel::<frame::YuvFrame>();
        std::thread::scope(|s| {
            // Audio: the loudness analysis (passes over the whole mix to set the gain), then
            // the AAC encoding of the delivered mix, on this thread of its own. Composition and
            // the video encoder run meanwhile; the muxer takes the audio packets as the video
            // reaches their time.
            let total_samples = self.plan.total_samples;
            let audio = std::thread::Builder::new()
                .name("reelsmith-audio".into())
                .spawn_scoped(s, move || -> (Duration, Duration) {
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
                })
                .map_err(|e| Error::Internal(format!("spawn audio thread: {e}")))?;
            // References, so the `move` closures below share them and take only their own
            // channel ends by value.
            let (cancel, encoded, buffers) = (&cancel, &encoded, &buffers);
            let stop = CancelOnPanic(cancel);
            let producer = std::thread::Builder::new()
                .name("reelsmith-compose".into())
                .spawn_scoped(s, move || -> Result<ComposeStats, Error> {
                    let _stop = CancelOnPanic(cancel);
                    let (tx, back_rx) = (tx, back_rx);
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
                                let frame = match picture {
                                    Picture::Whole(f) => Arc::new(f),
                                    Picture::Parts(parts) => {
                                        // Only what changed was drawn: the rest is the picture
                                        // before.
                                        stats.partial += 1;
                                        let t = Instant::now();
                                        let Some(prev) = last.as_deref() else {
                                            return Err(Error::Internal(
                                                "a partial picture came first".into(),
                                            ));
                                        };
                                        let mut full = buffers.frame(prev.width, prev.height);
                                        full.y.copy_from_slice(&prev.y);
                                        full.u.copy_from_slice(&prev.u);
                                        full.v.copy_from_slice(&prev.v);
                                        for (region, part) in &parts {
                                            frame::paste(&mut full, part, *region);
                                        }
                                        stats.busy += t.elapsed();
                                        Arc::new(full)
                                    }
                                };
                                // Keep the picture for a partial one after it; give the one before
                                // back for reuse when the encoder is done with it.
                                if let Some(done) = last.replace(Arc::clone(&frame)) {
                                    if let Ok(f) = Arc::try_unwrap(done) {
                                        buffers.recycle(f);
                                    }
                                }
                                stats.pictures += 1;
                                stats.bytes +=
                                    (frame.y.len() + frame.u.len() + frame.v.len()) as u64;
                                if tx.send(Work::Picture(Ready { span, frame })).is_err() {
                                    // The encoder stopped; its result says why.
                                    return Ok(stats);
                                }
                            }
                        }
                    }
                    Ok(stats)
                })
                .map_err(|e| Error::Internal(format!("spawn compose thread: {e}")))?;
            let encoder = std::thread::Builder::new()
                .name("reelsmith-encode".into())
                .spawn_scoped(s, move || -> Result<(EncodeStats, Duration), Error> {
                    let _stop = CancelOnPanic(cancel);
                    let t = Instant::now();
                    let mut busy = Duration::ZERO;
                    let (mut enc, aac) = Encoder::create(out, cfg)?;
                    // If the audio thread is gone, `finish` says so.
                    let _ = aac_tx.send(aac);
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
                                    enc.replay_segment(entry, |n| {
                                        encoded.store(n, Ordering::Relaxed)
                                    })?;
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
            let a = audio.join();
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
            let stats = match e {
                Ok(Ok((stats, busy))) => (stats, busy),
                Ok(Err(err)) => return Err(err),
                Err(panic) => {
                    return Err(Error::Internal(format!(
                        "encoder panicked: {}",
                        panic_message(&*panic)
                    )))
                }
            };
            let (loudness, aac_busy) = a.map_err(|panic| {
                Error::Internal(format!("audio thread panicked: {}", panic_message(&*panic)))
            })?;
            let (stats, busy) = stats;
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
}
