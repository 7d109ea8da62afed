//! The only sequencer: validate → prepare → mix → compose ∥ encode → finalize.
//!
//! Stages are plain functions in their own modules; this driver times them, runs compose and
//! encode concurrently (composition on a rayon pool, one encoder thread, joined by a bounded
//! ordered channel), reports progress, honours cancellation and owns the render transaction.

pub mod bench;
pub mod caches;
mod frames;
pub mod inspect;
pub mod options;
pub mod progress;
pub mod range;
pub mod render;
pub mod renditions;
pub mod report;
pub mod thumbnails;
pub mod workspace;

pub use caches::{caches, clear_caches, CacheInfo};
#[cfg(feature = "fault-injection")]
pub use options::Fault;
pub use options::RenderOptions;
pub use progress::{NoProgress, Progress};
pub use range::{
    join, render_audio, render_audio_chunk, render_pcm, render_range, render_range_with_progress,
};
pub use render::render_plan;

use std::path::{Path, PathBuf};

use crate::audio::mix::Mixer;
use crate::compose::prepare;
use crate::error::Error;
use crate::pipeline::report::RenderReport;
use crate::plan::{self, Plan};
use crate::resolve::{self, ResolveContext};
use crate::spec::Composition;
use crate::spec::SpecError;
use crate::text;

/// Reads and parses a spec file. Returns the composition and the folder its relative asset
/// paths are resolved against.
///
/// # Errors
/// [`SpecError::Read`] or [`SpecError::Parse`].
pub fn load_spec(path: &Path) -> Result<(Composition, PathBuf), SpecError> {
    load_template(path, &crate::spec::Values::new())
}

/// Reads a spec file that may be a template, giving its variables `values` (see
/// [`Composition::from_template`]). Returns the composition and the folder its relative asset
/// paths are resolved against.
///
/// # Errors
/// [`SpecError::Read`], [`SpecError::Parse`] or [`SpecError::Invalid`] (the variables').
pub fn load_template(
    path: &Path,
    values: &crate::spec::Values,
) -> Result<(Composition, PathBuf), SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.into(),
        source,
    })?;
    let comp = Composition::from_template(&text, values)?;
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
    // Audio files are decoded once for every rendition's resolve.
    let levels = std::sync::Mutex::new(std::collections::HashMap::new());
    let audio_levels = move |p: &Path| {
        let known = levels.lock().ok().and_then(|m| m.get(p).cloned());
        known.unwrap_or_else(|| {
            let l = crate::media::sound::levels(p).map_err(|e| e.to_string());
            if let Ok(mut m) = levels.lock() {
                m.insert(p.to_path_buf(), l.clone());
            }
            l
        })
    };
    let ctx = ResolveContext {
        files: &files,
        font_families: &families,
        audio_levels: &audio_levels,
        synthesize: &|speech| crate::media::tts::speak(&opts.tts_cache(), speech),
        measure: &measure,
    };
    let resolved = resolve::resolve(comp, &ctx);
    let rendition_issues = comp.output.rendition_issues();
    let mut plan = match (resolved, font_issues.is_empty()) {
        (Ok(p), true) => p,
        (Ok(_), false) => return Err(SpecError::Invalid(font_issues)),
        (Err(SpecError::Invalid(issues)), _) => {
            let mut all = font_issues;
            all.extend(issues);
            all.extend(rendition_issues);
            return Err(SpecError::Invalid(all));
        }
        (Err(e), _) => return Err(e),
    };
    plan.output = output_path(comp, opts);
    let extra = renditions::plan_all(comp, &plan, &|c: &Composition| resolve::resolve(c, &ctx));
    plan.renditions = match (extra, rendition_issues.is_empty()) {
        (Ok(r), true) => r,
        (Ok(_), false) => return Err(SpecError::Invalid(rendition_issues)),
        (Err(SpecError::Invalid(issues)), _) => {
            let mut all = rendition_issues;
            all.extend(issues);
            return Err(SpecError::Invalid(all));
        }
        (Err(e), _) => return Err(e),
    };
    plan.fonts = fonts;
    plan.encoding = crate::plan::PlanEncoding {
        skip_repeats: opts.skip_repeats,
        patches: opts.patches,
        lossless: opts.lossless,
        x264_params: opts.x264_params.clone(),
        segments: opts.segments && opts.skip_repeats,
        hold_frames: opts.splice_hold.max(1),
        chunk_frames: if opts.chunk_s > 0.0 {
            plan.fps.frame_at(opts.chunk_s).max(1)
        } else {
            0
        },
        audio_chunk_samples: if opts.chunk_s > 0.0 {
            let frames = (opts.chunk_s * f64::from(crate::plan::SAMPLE_RATE)
                / crate::plan::AAC_FRAME as f64)
                .round() as u64;
            frames.max(1) * crate::plan::AAC_FRAME
        } else {
            0
        },
    };
    crate::resolve::fonts::hash_inputs(&mut plan);
    if let Some(q) = opts.quality {
        plan.quality = q;
        for r in &mut plan.renditions {
            r.quality = q;
        }
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
    /// The further renditions (`output.renditions`), each checked as the main output is:
    /// `name WxH`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<String>,
}

/// Checks everything a render would, without drawing or encoding: the spec, then every asset
/// (pictures decoded, text laid out, audio loaded).
///
/// # Errors
/// [`Error::Spec`] or [`Error::Asset`] listing every problem.
pub fn validate(comp: &Composition, opts: &RenderOptions) -> Result<ValidationSummary, Error> {
    let plan = plan(comp, opts)?;
    for (_, p) in plan.rendition_plans() {
        prepare::check(&p)?;
    }
    // Long sources go to unnamed temporary files (validating creates nothing).
    Mixer::load(&plan, opts.spill().as_deref())?;
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
        renditions: plan
            .renditions
            .iter()
            .map(|r| format!("{} {}x{}", r.name, r.width, r.height))
            .collect(),
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
