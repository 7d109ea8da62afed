//! The local render: plan, check, mix and compose ∥ encode into one MP4, reusing cached
//! scenes and audio, as a transaction.

use std::path::Path;
use std::time::Instant;

use super::frames::{AudioSource, ComposeEncode, ComposeStats, SegmentWork, Sink};
use super::range::{verify_inputs, with_fonts, write_webvtt};
use super::workspace::{self, Workspace};
use super::{plan, renditions, Progress, RenderOptions};
use crate::audio::mix::Mixer;
use crate::compose::prepare;
use crate::encode::EncoderConfig;
use crate::error::Error;
use crate::pipeline::report::{
    peak_rss_bytes, RenderReport, RenditionReport, StageId, StageReport,
};
use crate::plan::Plan;
use crate::spec::Composition;

/// libav's write errors name no file: a full, read-only or forbidden output folder (where
/// the partial output is written) becomes [`Error::Io`] naming it.
fn name_output_folder(e: Error, output: &Path) -> Error {
    match e {
        Error::Encode(crate::encode::EncodeError::Ffmpeg {
            op,
            source: ffmpeg_next::Error::Other { errno },
        }) if crate::base::env::is_environmental_errno(errno) => {
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

pub(super) fn render_transaction(
    comp: &Composition,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
) -> Result<RenderReport, Error> {
    let (started, t) = Started::validating(opts, progress)?;
    let plan = plan(comp, opts)?;
    render_planned(&plan, opts, progress, started, t)
        .map_err(|e| name_output_folder(e, &plan.output))
}

/// Renders a plan (made by [`super::plan`], or read back from JSON) to its output, as
/// [`super::render_with_progress`] renders a spec: the plan's encoder settings and output
/// path are used; `opts` gives the threads, the caches and the temporary folder's root.
///
/// # Errors
/// See [`super::render_with_progress`]; [`Error::Input`] if a file the plan reads changed
/// since the plan was made (every one is hashed again) or cannot be read.
pub fn render_plan(
    plan: &Plan,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
) -> Result<RenderReport, Error> {
    let (started, t) = Started::validating(opts, progress)?;
    let loaded = with_fonts(plan)?;
    verify_inputs(&loaded, loaded.input_files())?;
    render_planned(&loaded, opts, progress, started, t)
        .map_err(|e| name_output_folder(e, &plan.output))
}

/// When a render began, after the temporary folders of killed renders were swept.
struct Started {
    at: Instant,
    cpu: Option<f64>,
}

impl Started {
    /// The render begins: leftovers swept, then stage "validate" (and when it began).
    fn validating(
        opts: &RenderOptions,
        progress: &mut dyn Progress,
    ) -> Result<(Started, Instant), Error> {
        let started = Started::now(opts)?;
        progress.stage(StageId::Validate);
        Ok((started, Instant::now()))
    }

    fn now(opts: &RenderOptions) -> Result<Started, Error> {
        let started = Started {
            at: Instant::now(),
            cpu: crate::pipeline::report::process_cpu_s(),
        };
        workspace::sweep(&opts.temp_root())?;
        crate::media::tts::sweep_partials(&opts.tts_cache());
        Ok(started)
    }
}

fn render_planned(
    plan: &Plan,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
    started: Started,
    t: Instant,
) -> Result<RenderReport, Error> {
    let Started {
        at: t_start,
        cpu: cpu_start,
    } = started;
    let temp_root = opts.temp_root();
    let mut stages = Vec::new();
    // The main output first, then each further rendition: one timeline, pictures per size.
    let renditions = plan.rendition_plans();
    let all_spans: Vec<Vec<crate::plan::Span>> =
        renditions.iter().map(|(_, p)| p.spans()).collect();
    let unique_frames = all_spans.first().map_or(0, Vec::len) as u64;
    stages.push(StageReport::new(StageId::Validate, t, unique_frames, 0));

    for (_, p) in &renditions {
        if p.output.is_dir() {
            return Err(Error::Io {
                op: "write output",
                path: p.output.clone(),
                source: std::io::Error::other("is a folder"),
            });
        }
    }
    let output = plan.output.clone();
    let mut ws = Workspace::create(&temp_root, opts.keep_temp)?;
    let mut partials = vec![ws.partial_output(&output)?];
    let captions_file = write_webvtt(plan, &output, &mut ws)?;
    for (_, p) in renditions.iter().skip(1) {
        // The further renditions go with the main output: renamed into place just before
        // it, or removed with everything else.
        partials.push(ws.companion(&p.output)?);
        write_webvtt(p, &p.output, &mut ws)?;
    }

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
    let (mut prepared_items, mut prepared_bytes) = (0u64, 0u64);
    for (_, p) in &renditions {
        let prepared = pool.install(|| prepare::check(p))?;
        prepared_items += (prepared.images_decoded + prepared.texts_rasterized) as u64;
        prepared_bytes += prepared.bytes;
    }
    stages.push(StageReport::new(
        StageId::Prepare,
        t,
        prepared_items,
        prepared_bytes,
    ));

    progress.stage(StageId::Mix);
    let (audio, mix_index) = mix_stage(plan, opts, &ws, &pool, &mut stages)?;
    let audio_cached = matches!(audio, AudioSource::Cached(_));
    let (audio, shared_audio) = if renditions.len() > 1 {
        renditions::keep_audio(audio, &ws)?
    } else {
        (audio, None)
    };

    progress.stage(StageId::Compose);
    let all_frames = plan.total_frames * renditions.len() as u64;
    let mut audio = Some(audio);
    let mut made = Vec::with_capacity(renditions.len());
    for (i, ((_, p), spans)) in renditions.iter().zip(&all_spans).enumerate() {
        let source = match audio.take() {
            Some(a) => a,
            // The main rendition's AAC packets, the same in every file.
            None => renditions::shared_audio(&ws)?,
        };
        #[cfg_attr(not(feature = "fault-injection"), allow(unused_mut))]
        let mut cfg = EncoderConfig::for_plan(p, opts.threads);
        #[cfg(feature = "fault-injection")]
        {
            cfg.fail_at_frame = opts.encode_fault();
        }
        let segments = segment_work(p, spans, &cfg, opts, &ws, i);
        let run = ComposeEncode {
            plan: p,
            spans,
            pool: &pool,
            batch: threads * crate::compose::SPANS_PER_THREAD,
            panic_at: opts.panic_fault(),
        };
        let mut counted = renditions::Counted {
            inner: &mut *progress,
            before: i as u64 * plan.total_frames,
            all: all_frames,
        };
        let t = Instant::now();
        let (compose_stats, encode_stats) = run.run(
            Sink::Mp4 {
                out: &partials[i],
                audio: Box::new(source),
            },
            &cfg,
            segments,
            &mut counted,
        )?;
        if i == 0 {
            if let Some(shared) = &shared_audio {
                renditions::settle_audio(shared, &ws)?;
            }
        }
        made.push((cfg, compose_stats, encode_stats, t.elapsed()));
    }
    let Some((cfg, compose_stats, encode_stats, _)) = made.first() else {
        return Err(Error::Internal("no rendition was made".into()));
    };
    if !audio_cached {
        // The loudness analysis (EBU R128 passes over the whole mix) ran beside composition.
        let mix = &mut stages[mix_index];
        mix.wall_s += compose_stats.loudness.as_secs_f64();
        mix.note = Some(format!(
            "includes {:.2} s of loudness analysis, which overlaps compose",
            compose_stats.loudness.as_secs_f64()
        ));
    }
    let mut both = compose_encode_reports(plan, cfg, compose_stats, encode_stats);
    for (_, cs, es, _) in made.iter().skip(1) {
        both[0].wall_s += cs.busy.as_secs_f64();
        both[0].frames += cs.pictures;
        both[0].bytes += cs.bytes;
        both[1].wall_s += cs.encode_busy.as_secs_f64();
        both[1].frames += es.frames;
        both[1].bytes += es.video_bytes + es.audio_bytes;
    }
    if made.len() > 1 {
        for st in &mut both {
            if let Some(note) = &mut st.note {
                note.push_str(&format!(
                    "; {} renditions together, the note is the main one's",
                    made.len()
                ));
            }
        }
    }
    stages.extend(both);
    let mut rendition_reports = Vec::new();
    if renditions.len() > 1 {
        for (((name, p), (_, cs, es, wall)), partial) in renditions.iter().zip(&made).zip(&partials)
        {
            rendition_reports.push(RenditionReport {
                name: name.clone().unwrap_or_else(|| "main".into()),
                output: p.output.clone(),
                width: p.width,
                height: p.height,
                quality: p.quality.as_str().into(),
                output_bytes: std::fs::metadata(partial).map_or(0, |m| m.len()),
                encoded_frames: es.encoded_frames,
                segments_reused: es.segments_reused,
                encode_s: wall.as_secs_f64(),
                compose_busy_s: cs.busy.as_secs_f64(),
                encode_busy_s: cs.encode_busy.as_secs_f64(),
            });
        }
    }

    progress.stage(StageId::Finalize);
    let t = Instant::now();
    let thumbnails = super::thumbnails::write_thumbnails(plan, &output, &mut ws)?;
    let output_bytes = ws.commit(&output)?;
    let mut finalize =
        StageReport::new(StageId::Finalize, t, renditions.len() as u64, output_bytes);
    finalize.note = thumbnails.as_ref().map(|r| {
        format!(
            "includes {} thumbnails{} ({:.2} s)",
            r.files.len(),
            if r.sheet.is_some() {
                " and a contact sheet"
            } else {
                ""
            },
            r.wall_s.unwrap_or(0.0)
        )
    });
    stages.push(finalize);

    let wall = t_start.elapsed().as_secs_f64();
    Ok(RenderReport {
        output,
        width: plan.width,
        height: plan.height,
        fps: plan.fps.as_f64(),
        frames: plan.total_frames,
        duration_s: plan.duration_s(),
        unique_frames,
        encoded_frames: encode_stats.encoded_frames,
        patched_frames: encode_stats.patched_frames,
        segments: encode_stats.segments.max(1),
        segments_reused: encode_stats.segments_reused,
        frames_reused: encode_stats.frames_reused,
        quality: plan.quality.as_str().into(),
        wall_s: wall,
        realtime_factor: crate::pipeline::report::realtime_factor(plan.duration_s(), wall),
        output_bytes,
        peak_rss_bytes: peak_rss_bytes(),
        cpu_s: crate::pipeline::report::cpu_since(cpu_start),
        audio: encode_stats.loudness,
        audio_cached,
        threads,
        stages,
        text_fits: plan.text_fits.clone(),
        captions: plan.captions.cues.len(),
        captions_file,
        thumbnails,
        farm: None,
        renditions: rendition_reports,
    })
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

/// Stage "mix": the audio cache entry of this render's audio, else its sources loaded.
/// Reports the stage into `stages` and returns where its report is.
fn mix_stage(
    plan: &Plan,
    opts: &RenderOptions,
    ws: &Workspace,
    pool: &rayon::ThreadPool,
    stages: &mut Vec<StageReport>,
) -> Result<(AudioSource, usize), Error> {
    let t = Instant::now();
    let audio_bitrate = plan.audio_bitrate_kbps as usize * 1000;
    let audio = audio_source(plan, opts, ws, pool, audio_bitrate)?;
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
    let mix_index = stages.len();
    stages.push(StageReport::new(
        StageId::Mix,
        t,
        plan.total_samples,
        mix_bytes,
    ));
    stages[mix_index].note = mix_note;
    Ok((audio, mix_index))
}

/// The segments of a render: one per scene when encoding in segments, else the whole
/// video; with the scene cache each has a key and maybe an entry from an earlier render (or
/// a store to keep its packets in).
fn segment_work(
    plan: &Plan,
    spans: &[crate::plan::Span],
    cfg: &EncoderConfig,
    opts: &RenderOptions,
    ws: &Workspace,
    rendition: usize,
) -> Vec<SegmentWork> {
    let scene_cache = (opts.scene_cache && cfg.segments && !cfg.lossless)
        .then(|| crate::cache::scenes::cache(opts.scene_cache_dir()));
    let starts = if cfg.segments {
        plan.segment_starts()
    } else {
        Vec::new()
    };
    crate::cache::scenes::segments(plan, spans, &starts, scene_cache.as_ref().map(|_| cfg))
        .into_iter()
        .enumerate()
        .map(|(i, seg)| {
            let (entry, store) = match (&scene_cache, &seg.key) {
                (Some(cache), Some(key)) => match cache.open::<crate::cache::scenes::Footer>(key) {
                    Some(e) if e.meta.frames == seg.end - seg.start => (Some(e), None),
                    _ => (
                        None,
                        cache
                            .store(key, ws.dir().join(format!("segment-{rendition}-{i}.part")))
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
        .collect()
}

/// The reports of stages "compose" and "encode", which overlap.
fn compose_encode_reports(
    plan: &Plan,
    cfg: &EncoderConfig,
    compose_stats: &ComposeStats,
    encode_stats: &crate::encode::EncodeStats,
) -> [StageReport; 2] {
    [
        StageReport {
            stage: StageId::Compose,
            wall_s: compose_stats.busy.as_secs_f64(),
            frames: compose_stats.pictures,
            bytes: compose_stats.bytes,
            note: Some(format!(
                "overlaps encode; frames = distinct pictures composed, {} of them only where \
                 layers changed",
                compose_stats.partial
            )),
        },
        StageReport {
            stage: StageId::Encode,
            wall_s: compose_stats.encode_busy.as_secs_f64(),
            frames: encode_stats.frames,
            bytes: encode_stats.video_bytes + encode_stats.audio_bytes,
            note: Some(encode_note(plan, cfg, compose_stats, encode_stats)),
        },
    ]
}

/// What the encode stage's report says: the settings, what was encoded, spliced, patched
/// and copied.
fn encode_note(
    plan: &Plan,
    cfg: &EncoderConfig,
    compose_stats: &ComposeStats,
    encode_stats: &crate::encode::EncodeStats,
) -> String {
    format!(
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
    )
}
