//! A plan rendered in pieces, by processes that did not plan it: the pictures of a range of
//! frames into a segment file ([`render_range`]), the audio into an AAC packet file
//! ([`render_audio`]), and the pieces muxed into the MP4 ([`join`]). The files are those the
//! scene and audio caches keep (closed-GOP H.264 segments and AAC packets, with footers); the
//! local render makes the same segments through the same compose ∥ encode run.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::frames::{ComposeEncode, SegmentWork, Sink};
use super::progress::{NoProgress, Progress};
use super::workspace::Workspace;
use super::RenderOptions;
use crate::audio::master::{LoudnessReport, Master};
use crate::audio::mix::Mixer;
use crate::encode::packets::{AudioFooter, Entry, SegmentFooter, Store, AUDIO_FILES, SCENE_FILES};
use crate::encode::{AudioEncoder, EncodeError, EncodeStats, Encoder, EncoderConfig};
use crate::error::Error;
use crate::plan::Plan;

/// The plan with its fonts loaded (a plan read back from JSON names them by path and hash).
///
/// # Errors
/// [`Error::Input`] naming a font that cannot be read or changed since the plan was made.
pub(super) fn with_fonts(plan: &Plan) -> Result<Cow<'_, Plan>, Error> {
    if plan.fonts.loaded() {
        return Ok(Cow::Borrowed(plan));
    }
    let mut plan = plan.clone();
    crate::resolve::fonts::load_plan(&mut plan)
        .map_err(|(path, why)| Error::Input { path, why })?;
    Ok(Cow::Owned(plan))
}

/// Checks that `files` still hold what they held when the plan was made (their SHA-256 is
/// the one in `plan.inputs`): a render from a plan made earlier, perhaps elsewhere, must
/// not show other pictures or sounds, nor keep them in a cache under the planned content.
///
/// # Errors
/// [`Error::Input`] naming the first file that changed or cannot be read.
pub(super) fn verify_inputs<'a>(
    plan: &Plan,
    files: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for path in files {
        if !seen.insert(path) {
            continue;
        }
        let Some(planned) = plan.inputs.get(path) else {
            // Not readable when planned: reading it for the render says what is wrong.
            continue;
        };
        let input = |why: String| Error::Input {
            path: path.to_path_buf(),
            why,
        };
        let now = crate::base::hash::sha256_file(path).map_err(|e| input(e.to_string()))?;
        if crate::base::hash::hex(&now) != *planned {
            return Err(input("changed since the plan was made".into()));
        }
    }
    Ok(())
}

/// `frames` is a range that can be rendered on its own: it starts at one of
/// [`Plan::range_starts`] and ends at another or at the video's end.
fn check_range(plan: &Plan, frames: &Range<u64>) -> Result<(), Error> {
    let starts = plan.range_starts();
    let ok_start = starts.contains(&frames.start);
    let ok_end = frames.end == plan.total_frames || starts.contains(&frames.end);
    if frames.start < frames.end && ok_start && ok_end {
        return Ok(());
    }
    Err(Error::Range(format!(
        "frames {}..{} cannot be rendered on their own (expected a range between two of {:?} \
         or the end, {})",
        frames.start, frames.end, starts, plan.total_frames
    )))
}

/// `<path>.part`, where a packet file is written before it is renamed into place.
fn part_of(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.part", path.display()))
}

/// Composes and encodes the pictures of `frames` from the plan alone into `out`, a
/// closed-GOP H.264 segment file (the format of a scene cache entry: it starts with an IDR
/// picture and refers to nothing before it). `frames` must start at one of
/// [`Plan::range_starts`] and end at another or at the video's end ([`Plan::ranges`] cuts the
/// whole video so). Of `opts`, only `threads` counts (compose workers and x264 threads, 0
/// for one per core): everything else comes from the plan. Needs a plan encoded in segments
/// (`plan.encoding.segments`).
///
/// # Errors
/// [`Error::Range`] for a range that cannot stand alone, [`Error::Input`] for a file (a
/// font, a picture or clip the range shows) that changed since the plan was made, [`Error::Asset`] / [`Error::Compose`] / [`Error::Encode`] as a render.
pub fn render_range(
    plan: &Plan,
    frames: Range<u64>,
    out: &Path,
    opts: &RenderOptions,
) -> Result<EncodeStats, Error> {
    render_range_with_progress(plan, frames, out, opts, &mut NoProgress)
}

/// [`render_range`], reporting the range's frames to `progress` (`done` of the range's
/// length), which can cancel ([`Error::Cancelled`]; nothing is left at `out`).
///
/// # Errors
/// See [`render_range`].
pub fn render_range_with_progress(
    plan: &Plan,
    frames: Range<u64>,
    out: &Path,
    opts: &RenderOptions,
    progress: &mut dyn Progress,
) -> Result<EncodeStats, Error> {
    let threads = opts.threads;
    if !(plan.encoding.segments && plan.encoding.skip_repeats) {
        return Err(Error::Range(
            "the plan is not encoded in segments: it renders only whole".into(),
        ));
    }
    check_range(plan, &frames)?;
    let plan = with_fonts(plan)?;
    let shown = plan
        .scenes
        .iter()
        .filter(|s| s.start_frame < frames.end && s.start_frame + s.frames > frames.start);
    verify_inputs(&plan, shown.flat_map(|s| s.input_files()))?;
    let workers = if threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("reelsmith-compose-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let spans = plan.spans();
    let cfg = EncoderConfig::for_plan(&plan, threads);
    let temp = part_of(out);
    let store = Store::file(temp.clone(), out.to_path_buf(), &SCENE_FILES)
        .map_err(Error::io("create segment file", &temp))?;
    let run = ComposeEncode {
        plan: &plan,
        spans: &spans,
        pool: &pool,
        batch: workers * crate::compose::SPANS_PER_THREAD,
        panic_at: None,
    };
    let segments = vec![SegmentWork {
        start: frames.start,
        end: frames.end,
        entry: None,
        store: Some(store),
    }];
    let result = run.run(Sink::Segments, &cfg, segments, progress);
    let _ = std::fs::remove_file(&temp);
    result.map(|(_, stats)| stats)
}

/// Mixes, masters and encodes the plan's whole audio from the plan alone into `out`, an AAC
/// packet file (the format of an audio cache entry). Returns the loudness of the delivered
/// audio. Of `opts`, only where long sources are decoded counts ([`RenderOptions::spill`]).
///
/// # Errors
/// [`Error::Input`] for a source that changed since the plan was made, [`Error::Asset`] for
/// one that cannot be loaded, [`Error::Encode`] if encoding or writing fails.
pub fn render_audio(
    plan: &Plan,
    out: &Path,
    opts: &RenderOptions,
) -> Result<LoudnessReport, Error> {
    verify_inputs(plan, plan.tracks.iter().map(|t| t.src.as_path()))?;
    let mixer = Mixer::load(plan, opts.spill().as_deref())?;
    let mut master = Master::new(mixer, &plan.loudness);
    let temp = part_of(out);
    let store = Store::file(temp.clone(), out.to_path_buf(), &AUDIO_FILES)
        .map_err(Error::io("create audio file", &temp))?;
    let aac = AudioEncoder::standalone(
        plan.audio_bitrate_kbps as usize * 1000,
        plan.encoding.audio_chunk_samples,
    )?;
    let result = aac.encode_to(&mut master, plan.total_samples, store);
    let _ = std::fs::remove_file(&temp);
    Ok(result?)
}

/// Mixes and masters the plan's whole audio from the plan alone into `out`: the delivered
/// timeline as the AAC encoder of a render is given it, interleaved stereo 32-bit floats,
/// little-endian, nothing else (`plan.total_samples` × 8 bytes). Written as `out.part`,
/// then renamed. Returns the loudness of the delivered audio. The first half of an audio
/// encoded in chunks by many processes ([`render_audio_chunk`]): the loudness belongs to
/// the whole timeline and the limiter runs through it once, so the seams cannot change a
/// sample. Of `opts`, only where long sources are decoded counts.
///
/// # Errors
/// As [`render_audio`]; [`Error::Io`] if `out` cannot be written.
pub fn render_pcm(plan: &Plan, out: &Path, opts: &RenderOptions) -> Result<LoudnessReport, Error> {
    use std::io::Write;
    verify_inputs(plan, plan.tracks.iter().map(|t| t.src.as_path()))?;
    let mixer = Mixer::load(plan, opts.spill().as_deref())?;
    let mut master = Master::new(mixer, &plan.loudness);
    let temp = part_of(out);
    let written = (|| -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        let total = plan.total_samples;
        let mut buf = vec![0f32; crate::plan::SAMPLE_RATE as usize * 2];
        let mut at = 0;
        while at < total {
            let n = (total - at).min(u64::from(crate::plan::SAMPLE_RATE)) as usize;
            master.fill_next(&mut buf[..n * 2]);
            file.write_all(bytemuck::cast_slice(&buf[..n * 2]))?;
            at += n as u64;
        }
        file.into_inner().map_err(std::io::Error::other)?.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, out)) {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io("write the mastered audio", out)(e));
    }
    if let Some(why) = master.source_error() {
        let _ = std::fs::remove_file(out);
        return Err(Error::Encode(EncodeError::AudioCache {
            path: out.to_path_buf(),
            why,
        }));
    }
    Ok(master.report())
}

/// Encodes chunk `index` of [`Plan::audio_chunks`] into `out`, an AAC packet file of that
/// chunk's packets, from `samples`: the mastered timeline of [`render_pcm`] over the chunk's
/// feed ([`crate::encode::aac::chunk_feed`]: the chunk and a little of either side).
/// `loudness` goes into the file's footer ([`join`] reports the first chunk's). The chunks,
/// joined in order, are the stream a one-process render of the plan writes.
///
/// # Errors
/// [`Error::Range`] for a chunk the plan does not have; [`Error::Encode`] if `samples` do
/// not cover the feed, or encoding or writing fails.
pub fn render_audio_chunk(
    plan: &Plan,
    index: usize,
    samples: &[f32],
    loudness: LoudnessReport,
    out: &Path,
) -> Result<(), Error> {
    let chunks = plan.audio_chunks();
    let chunk = chunks.get(index).ok_or_else(|| {
        Error::Range(format!(
            "audio chunk {index}: the plan has {} chunks",
            chunks.len()
        ))
    })?;
    let temp = part_of(out);
    let store = Store::file(temp.clone(), out.to_path_buf(), &AUDIO_FILES)
        .map_err(Error::io("create audio file", &temp))?;
    let aac = AudioEncoder::standalone(
        plan.audio_bitrate_kbps as usize * 1000,
        plan.encoding.audio_chunk_samples,
    )?;
    let result = aac.encode_chunk_to(chunk, plan.total_samples, samples, loudness, store);
    let _ = std::fs::remove_file(&temp);
    Ok(result?)
}

/// Muxes segment files (from [`render_range`], in order, covering the whole video) and the
/// audio files (from [`render_audio`], or the chunks of [`render_audio_chunk`] in order) into the MP4 at `output`, with the plan's captions
/// (a subtitle track, a WebVTT file beside it) and thumbnails (composed here from the plan)
/// as a one-process render writes them. Nothing
/// is composed or encoded. Written as a transaction: on any error no file appears at
/// `output`. Of `opts`, only the temp root counts (where the render's temporary folder goes;
/// folders of killed processes there are swept first).
///
/// A segment or audio file that turns out damaged while it is copied is removed (as a cache
/// entry would be).
///
/// # Errors
/// [`Error::Range`] if the segments do not make up the plan's video, [`Error::Encode`] if a
/// file is damaged or made with other encoder settings, [`Error::Io`].
pub fn join(
    plan: &Plan,
    segments: &[PathBuf],
    audio: &[PathBuf],
    output: &Path,
    opts: &RenderOptions,
) -> Result<EncodeStats, Error> {
    let entries: Vec<Entry<SegmentFooter>> = open_all(segments, &SCENE_FILES, |path, why| {
        EncodeError::SceneCache { path, why }
    })?;
    let frames: u64 = entries.iter().map(|e| e.meta.frames).sum();
    if frames != plan.total_frames {
        return Err(Error::Range(format!(
            "the segments hold {frames} frames, the plan {}",
            plan.total_frames
        )));
    }
    let audio: Vec<Entry<AudioFooter>> = open_all(audio, &AUDIO_FILES, |path, why| {
        EncodeError::AudioCache { path, why }
    })?;
    let temp_root = opts.temp_root();
    super::workspace::sweep(&temp_root)?;
    let mut ws = Workspace::create(&temp_root, opts.keep_temp)?;
    let partial = ws.partial_output(output)?;
    write_webvtt(plan, output, &mut ws)?;
    let cfg = EncoderConfig::for_plan(plan, 0);
    let (mut enc, aac) = Encoder::create(&partial, &cfg)?;
    let total_samples = plan.total_samples;
    let stats = std::thread::scope(|s| -> Result<EncodeStats, Error> {
        let sound = s.spawn(move || aac.replay_chunks(audio, total_samples));
        let copied = (|| -> Result<(), Error> {
            for entry in entries {
                enc.begin_segment(None)?;
                enc.replay_segment(entry, |_| {})?;
            }
            Ok(())
        })();
        let stats = copied.and_then(|()| Ok(enc.finish()?));
        // On an error the encoder is gone (and the audio thread with it).
        let _ = sound.join();
        stats
    })?;
    // The thumbnails are composed here from the plan and its files, as a local render
    // composes them.
    super::thumbnails::write_thumbnails(plan, output, &mut ws)?;
    ws.commit(output)?;
    Ok(stats)
}

/// Opens packet files of `layout`; a damaged one is the error `bad(path, why)` makes.
fn open_all<M: serde::de::DeserializeOwned>(
    paths: &[PathBuf],
    layout: &crate::encode::packets::Layout,
    bad: impl Fn(PathBuf, String) -> EncodeError,
) -> Result<Vec<Entry<M>>, Error> {
    paths
        .iter()
        .map(|p| {
            Entry::open(p, layout).map_err(|why| Error::Encode(bad(p.clone(), why.to_string())))
        })
        .collect()
}

/// Where the WebVTT file of a render to `output` goes (`.vtt` for its extension), when the
/// plan asks for one and has captions.
pub fn captions_path(plan: &Plan, output: &Path) -> Option<PathBuf> {
    if !plan.captions.vtt || plan.captions.cues.is_empty() {
        return None;
    }
    let path = output.with_extension("vtt");
    Some(if path == output {
        PathBuf::from(format!("{}.vtt", output.display()))
    } else {
        path
    })
}

/// Where the WebVTT chapters of a render to `output` go (`<stem>.chapters.vtt`), when the
/// plan asks for them and has chapters.
pub fn chapters_path(plan: &Plan, output: &Path) -> Option<PathBuf> {
    if !plan.chapters_vtt || plan.chapters.is_empty() {
        return None;
    }
    Some(output.with_extension("chapters.vtt"))
}

/// The WebVTT files beside `output` the plan asks for (the captions, the chapters), written
/// now into partial files that the workspace renames into place with the video. Returns
/// the captions' final path, if written.
pub(super) fn write_webvtt(
    plan: &Plan,
    output: &Path,
    ws: &mut Workspace,
) -> Result<Option<PathBuf>, Error> {
    use crate::encode::subtitles::to_vtt;
    let captions = captions_path(plan, output);
    let files = [
        (captions.clone(), &plan.captions.cues, "write captions"),
        (
            chapters_path(plan, output),
            &plan.chapters,
            "write chapters",
        ),
    ];
    for (path, cues, what) in files {
        if let Some(path) = path {
            let partial = ws.companion(&path)?;
            std::fs::write(&partial, to_vtt(cues)).map_err(Error::io(what, &partial))?;
        }
    }
    Ok(captions)
}
