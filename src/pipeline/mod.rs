//! The only sequencer: validate → prepare → mix → compose ∥ encode → finalize.
//!
//! Stages are plain functions in their own modules; this driver times them, runs compose and
//! encode concurrently (composition on a rayon pool, one encoder thread, joined by a bounded
//! ordered channel), reports progress, honours cancellation and owns the render transaction.

mod frames;
pub mod range;
pub mod render;
pub mod report;
pub mod workspace;

pub use range::{join, render_audio, render_range};
pub use render::render_plan;

use std::path::{Path, PathBuf};

use crate::audio::mix::Mixer;
use crate::compose::prepare;
use crate::error::Error;
use crate::pipeline::report::{RenderReport, StageId};
use crate::plan::{self, Plan};
use crate::resolve::files::FileAccess;
use crate::resolve::{self, ResolveContext};
use crate::spec::SpecError;
use crate::spec::{Composition, Quality};
use crate::text;

/// How to render. Plain data; every field has a default.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Output file. Wins over the spec's `output.path`. Default: none (spec path, else
    /// `<media_root>/videos/<output_name>.mp4`).
    pub output: Option<PathBuf>,
    /// File stem used for the default output path. Default: `"composition"`.
    pub output_name: String,
    /// Folder that relative asset paths in the spec are resolved against. Default: `.`.
    pub base_dir: PathBuf,
    /// Storage root: temp files go to `<media_root>/assets/temp/`, default outputs to
    /// `<media_root>/videos/`. Default: `media`.
    pub media_root: PathBuf,
    /// Overrides the spec's `output.quality`. Default: none.
    pub quality: Option<Quality>,
    /// Keep the render's temp folder after it ends (for debugging). Default: false.
    pub keep_temp: bool,
    /// Worker threads for preparing and composing, and x264's threads; 0 = one compose worker
    /// per core and x264's own choice (1.5 per core). Default: 0.
    pub threads: usize,
    /// Write each repeated picture (a static span) as an all-skip P picture instead of
    /// encoding it again; x264 then runs without B-pyramid. Default: true.
    pub skip_repeats: bool,
    /// Write a picture that differs from the last reference in a few macroblocks of one row
    /// (a progress bar's step during a static span) as that reference with only those
    /// macroblocks coded, instead of a full x264 pass. Needs `skip_repeats`. Default: true.
    pub patches: bool,
    /// Encode losslessly (x264 QP 0 on the same YUV frames): a reference for quality checks,
    /// large files. Wins over the quality. Default: false.
    pub lossless: bool,
    /// Extra libx264 settings, `key=value:key=value` as in x264's CLI (e.g. `subme=1`),
    /// applied after reelsmith's. For experiments; a setting that breaks splicing (B-pyramid)
    /// makes the render fail. Default: none.
    pub x264_params: Option<String>,
    /// Copy the audio of an earlier render whose audio was exactly the same (same tracks,
    /// source bytes, loudness settings and bitrate) from `<media_root>/assets/audio/encoded`,
    /// and keep this render's encoded audio there for later ones. Default: true.
    pub audio_cache: bool,
    /// Encode each scene as a segment of its own: x264 is flushed and opened again at every
    /// scene's first frame (see [`Plan::segment_starts`]), so that no picture refers to one of
    /// another scene, and every scene starts with a keyframe. Needs `skip_repeats`. Default:
    /// true (measured: 1.03-1.05x the wall time of one x264 for the whole video at 1080p, no
    /// slower at 720p). False: one x264 for the whole video, and no scene cache.
    pub segments: bool,
    /// Keep each segment's packets in `<media_root>/assets/video/segments`; a segment an
    /// earlier render encoded from exactly the same pictures is copied from there instead of
    /// being composed and encoded (see [`crate::cache::scenes`]). A re-render after changing
    /// some scenes then costs only what changed, and a render that failed or was cancelled
    /// copies the scenes it had finished. Needs `segments` and `skip_repeats`; not used for
    /// lossless renders (references for measurements, too large to keep). Default: true.
    pub scene_cache: bool,
    /// When set, the spec may read only files under these folders (after following symbolic
    /// links; never under `<media_root>/assets/temp`), relative names are looked up in
    /// `base_dir` alone, and problems name files as written, never the folders: for specs that
    /// are not the user's own (the service). Default: none (any file the process can read;
    /// relative names are looked up in `base_dir`, then `media_root`).
    pub asset_roots: Option<Vec<PathBuf>>,
    /// What one spec may cost, checked before anything is decoded or spoken (and the frame
    /// and pixel budgets again once the plan is made). Default: none (only the engine's own
    /// limits: see the crate's documentation).
    pub limits: Option<crate::resolve::limits::Limits>,
    /// Fault injection for tests of the failure paths. Default: none.
    #[doc(hidden)]
    pub fault: Option<Fault>,
}

impl RenderOptions {
    /// Where the spec's files are looked up and which may be read: see [`Self::asset_roots`].
    pub fn file_access(&self) -> FileAccess {
        match &self.asset_roots {
            None => FileAccess::open(&self.base_dir, &self.media_root),
            Some(roots) => FileAccess::confined(
                &self.base_dir,
                roots,
                &[self.media_root.join("assets").join("temp")],
            ),
        }
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            output: None,
            output_name: "composition".into(),
            base_dir: PathBuf::from("."),
            media_root: PathBuf::from("media"),
            quality: None,
            keep_temp: false,
            threads: 0,
            skip_repeats: true,
            patches: true,
            lossless: false,
            x264_params: None,
            audio_cache: true,
            segments: true,
            scene_cache: true,
            asset_roots: None,
            limits: None,
            fault: None,
        }
    }
}

impl RenderOptions {
    /// `<media_root>/assets/temp`.
    pub fn temp_root(&self) -> PathBuf {
        self.media_root.join("assets").join("temp")
    }

    /// `<media_root>/assets/audio/encoded`: encoded audio of earlier renders, by content
    /// (see [`crate::cache::audio`]).
    pub fn audio_cache_dir(&self) -> PathBuf {
        self.media_root.join("assets").join("audio").join("encoded")
    }

    /// `<media_root>/assets/video/segments`: encoded scenes of earlier renders, by content
    /// (see [`crate::cache::scenes`]).
    pub fn scene_cache_dir(&self) -> PathBuf {
        self.media_root
            .join("assets")
            .join("video")
            .join("segments")
    }

    /// `<media_root>/assets/audio/tts`: spoken narrations, cached by content.
    pub fn tts_cache(&self) -> PathBuf {
        self.media_root.join("assets").join("audio").join("tts")
    }
}

/// One of the caches a render keeps under the media root (see [`caches`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheInfo {
    /// `scenes`, `audio` or `speech`.
    pub name: &'static str,
    /// What it keeps.
    pub what: &'static str,
    /// Its folder.
    pub dir: PathBuf,
    /// Entries in it.
    pub entries: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The size it is kept under (least recently used entries go first).
    pub limit_bytes: u64,
}

/// The caches under the media root.
#[derive(Debug, Clone, Copy)]
enum CacheKind {
    Scenes,
    Audio,
    Speech,
}

impl CacheKind {
    const ALL: [CacheKind; 3] = [CacheKind::Scenes, CacheKind::Audio, CacheKind::Speech];

    /// Its entries and bytes (`clear`: after removing every entry, what was removed).
    fn info(self, opts: &RenderOptions, clear: bool) -> Result<CacheInfo, Error> {
        let packets = |cache: crate::cache::PacketCache| {
            let limit = cache.limit_bytes();
            let usage = if clear {
                cache.clear()
            } else {
                Ok(cache.usage())
            };
            usage.map(|u| (u, limit))
        };
        let (name, what, dir) = match self {
            CacheKind::Scenes => ("scenes", "H.264 of encoded scenes", opts.scene_cache_dir()),
            CacheKind::Audio => ("audio", "AAC of mastered audio", opts.audio_cache_dir()),
            CacheKind::Speech => ("speech", "WAV of spoken narrations", opts.tts_cache()),
        };
        let result = match self {
            CacheKind::Scenes => packets(crate::cache::scenes::cache(dir.clone())),
            CacheKind::Audio => packets(crate::cache::audio::cache(dir.clone())),
            CacheKind::Speech if clear => crate::media::tts::clear_cache(&dir)
                .map(|u| (u, crate::media::tts::CACHE_LIMIT_BYTES)),
            CacheKind::Speech => Ok((
                crate::media::tts::cache_usage(&dir),
                crate::media::tts::CACHE_LIMIT_BYTES,
            )),
        };
        let (usage, limit_bytes) = result.map_err(|source| Error::Io {
            op: "clear cache",
            path: dir.clone(),
            source,
        })?;
        Ok(CacheInfo {
            name,
            what,
            dir,
            entries: usage.entries,
            bytes: usage.bytes,
            limit_bytes,
        })
    }
}

/// The caches under `opts.media_root`: encoded scenes, encoded audio and spoken narrations,
/// with what each holds.
///
/// # Errors
/// None in practice (a missing or unreadable folder counts as empty); the `Result` is
/// shared with [`clear_caches`].
pub fn caches(opts: &RenderOptions) -> Result<Vec<CacheInfo>, Error> {
    CacheKind::ALL.iter().map(|k| k.info(opts, false)).collect()
}

/// Empties the caches under `opts.media_root` (only their entries: other files in those
/// folders stay). Renders then make everything again the first time. Returns what was
/// removed from each.
///
/// # Errors
/// [`Error::Io`] naming the folder of the first entry that could not be removed.
pub fn clear_caches(opts: &RenderOptions) -> Result<Vec<CacheInfo>, Error> {
    CacheKind::ALL.iter().map(|k| k.info(opts, true)).collect()
}

/// Failures injected on purpose by tests.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The encoder fails when it reaches this frame.
    EncodeAtFrame(u64),
    /// Composition panics when it reaches the span starting at or after this frame.
    PanicAtFrame(u64),
}

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
    };
    let resolved = resolve::resolve(
        comp,
        &ResolveContext {
            files: &files,
            font_families: &families,
            audio_levels: &|p: &Path| crate::media::sound::levels(p),
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
    plan.fonts = fonts;
    plan.output = output_path(comp, opts);
    plan.encoding = crate::plan::PlanEncoding {
        skip_repeats: opts.skip_repeats,
        patches: opts.patches,
        lossless: opts.lossless,
        x264_params: opts.x264_params.clone(),
        segments: opts.segments && opts.skip_repeats,
        hold_frames: crate::encode::HOLD_FRAMES,
    };
    crate::resolve::fonts::hash_inputs(&mut plan);
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
    Mixer::load(&plan, Some(&std::env::temp_dir()))?;
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
    render::render_transaction(comp, opts, progress)
}
