//! Validation and resolution: a raw [`Composition`] becomes a [`Plan`].
//!
//! Every problem is collected and reported at once, each with its JSON path. The facts the plan
//! needs from files (a picture's size, a clip's streams, an audio file's length and level, a
//! text's measured size, a narration spoken) come through [`ResolveContext`]; files are found
//! and confined by [`files::FileAccess`], costs bounded by [`limits::Limits`].

use std::path::{Path, PathBuf};

mod audio;
pub mod files;
pub mod fonts;
mod language;
mod layers;
pub mod limits;
mod scene;
mod thumbnails;
mod values;

use crate::plan::*;
use crate::spec::{
    AudioRole, Background, Composition, Easing, Length, MotionPreset, MotionSpec, SceneDuration,
    SpecError, SpecIssue, TransitionSpec, Viewport,
};
use crate::text::TextMeasure;
pub use values::{parse_color, parse_length, ValueError};

/// What resolution needs besides the spec.
#[derive(Clone)]
pub struct ResolveContext<'a> {
    /// Where the files the spec names are looked up, and which may be read.
    pub files: &'a crate::resolve::files::FileAccess,
    /// Font families that can be used (case-insensitive match).
    pub font_families: &'a [String],
    /// An audio file's length (for `"duration": "auto"`) and level (timing the captions).
    pub audio_levels: &'a AudioLevels,
    /// Speaks a text narration to a (cached) audio file.
    pub synthesize: &'a (dyn Fn(&crate::media::tts::Speech) -> Result<PathBuf, crate::media::tts::TtsError>
             + Sync),
    /// Lays out a text (shaping, wrapping) and says how big it is, for placement and fitting.
    pub measure: &'a dyn Fn(&PlanText) -> Result<TextMeasure, String>,
}

/// Validates `comp` and resolves it into a [`Plan`].
///
/// # Errors
/// [`SpecError::Invalid`] listing every problem found, each with its JSON path.
pub fn resolve(comp: &Composition, ctx: &ResolveContext<'_>) -> Result<Plan, SpecError> {
    let mut r = Resolver {
        issues: Vec::new(),
        levels: std::collections::HashMap::new(),
        ctx,
        fits: Vec::new(),
        clip_tracks: Vec::new(),
        scene_index: 0,
        fps_for_clips: 30.0,
        env: None,
        language: None,
    };
    let mut plan = r.plan(comp);
    plan.text_fits = std::mem::take(&mut r.fits);
    if let Some(env) = r.env {
        // The machine's problem (the speech cache cannot be written), not the narrations'.
        Err(SpecError::Env(env))
    } else if r.issues.is_empty() {
        Ok(plan)
    } else {
        Err(SpecError::Invalid(r.issues))
    }
}

/// Decodes an audio file for its length and level (see [`crate::media::sound::levels`]).
pub type AudioLevels = dyn Fn(&Path) -> Result<crate::media::sound::Levels, String> + Sync;

/// An audio file's decoded length and level, or why it could not be read.
type Decoded = Result<std::rc::Rc<crate::media::sound::Levels>, String>;

struct Resolver<'a, 'b> {
    issues: Vec<SpecIssue>,
    /// Audio files decoded for their length and level, by path (each decoded once).
    levels: std::collections::HashMap<PathBuf, Decoded>,
    ctx: &'a ResolveContext<'b>,
    fits: Vec<TextFit>,
    /// Clips whose sound goes to the mix: (scene index, track with a scene-relative start).
    clip_tracks: Vec<(usize, PlanTrack)>,
    /// The scene being resolved.
    scene_index: usize,
    /// The output frame rate (for clip sound timing).
    fps_for_clips: f64,
    /// The first failure of the machine (not of the spec) met while resolving.
    env: Option<crate::base::env::EnvError>,
    /// What the spec's `language` sets.
    language: Option<language::Language>,
}

impl Resolver<'_, '_> {
    /// The length and level of an audio file, decoded once per plan.
    fn levels(&mut self, p: &Path) -> Decoded {
        if let Some(l) = self.levels.get(p) {
            return l.clone();
        }
        let l = (self.ctx.audio_levels)(p).map(std::rc::Rc::new);
        self.levels.insert(p.to_path_buf(), l.clone());
        l
    }

    /// Whether the spec's language is written right to left.
    fn rtl(&self) -> bool {
        self.language.is_some_and(|l| l.rtl)
    }

    fn issue(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(SpecIssue {
            path: path.into(),
            message: message.into(),
        });
    }

    fn plan(&mut self, comp: &Composition) -> Plan {
        if comp.version != 1 {
            self.issue(
                "version",
                format!("unsupported version {} (expected 1)", comp.version),
            );
        }
        if let Some(tag) = &comp.language {
            self.language = language::lookup(tag);
            if self.language.is_none() {
                self.issue(
                    "language",
                    format!(
                        "unknown language {tag:?} (expected a BCP 47 tag whose language is one \
                         of {})",
                        language::known()
                    ),
                );
            }
        }
        let o = &comp.output;
        let fps = self.output(o);
        let (scenes, elapsed) = self.scenes(comp, fps);
        if elapsed > MAX_DURATION_S {
            self.issue(
                "scenes",
                format!("total duration {elapsed:.1} s exceeds the limit of {MAX_DURATION_S} s (4 hours)"),
            );
        }
        let total_frames = scenes.last().map_or(0, |s| s.start_frame + s.frames);
        let total_samples = fps.sample_at_frame(total_frames);
        let (tracks, captions) = self.audio(comp, &scenes, fps);
        let loudness = self.loudness(&comp.audio);
        let chapters = self.chapters(comp, &scenes, fps, total_frames);
        let thumbnails = self.thumbnails(comp, &scenes, fps);
        Plan {
            loudness,
            width: o.width,
            height: o.height,
            fps,
            total_frames,
            total_samples,
            quality: o.quality,
            audio_bitrate_kbps: o.audio_bitrate,
            scenes,
            tracks,
            text_fits: Vec::new(),
            fonts: crate::plan::UserFonts::default(),
            captions,
            chapters,
            chapters_vtt: o.chapters_vtt,
            thumbnails,
            encoding: crate::plan::PlanEncoding::default(),
            output: PathBuf::new(),
            inputs: Default::default(),
            renditions: Vec::new(),
        }
    }

    /// The chapters: one per scene when `output.chapters` is on (by default with more than
    /// one scene), from the scene's first frame to the next scene's.
    fn chapters(
        &mut self,
        comp: &Composition,
        scenes: &[crate::plan::PlanScene],
        fps: Fps,
        total_frames: u64,
    ) -> Vec<crate::plan::captions::Cue> {
        let ms = |frame: u64| {
            (u128::from(frame) * 1000 * u128::from(fps.den) / u128::from(fps.num.max(1))) as u64
        };
        for (i, s) in comp.scenes.iter().enumerate() {
            if let Some(title) = &s.chapter {
                let n = title.trim().chars().count();
                if !(1..=200).contains(&n) {
                    self.issue(
                        format!("scenes[{i}].chapter"),
                        format!("a chapter title of {n} characters (expected 1..=200)"),
                    );
                }
            }
        }
        let on = comp.output.chapters.unwrap_or(comp.scenes.len() > 1);
        if !on || scenes.len() != comp.scenes.len() {
            return Vec::new();
        }
        let ends = scenes
            .iter()
            .skip(1)
            .map(|s| s.start_frame)
            .chain(std::iter::once(total_frames));
        comp.scenes
            .iter()
            .zip(scenes)
            .zip(ends)
            .enumerate()
            .map(|(i, ((spec, planned), end))| crate::plan::captions::Cue {
                start_ms: ms(planned.start_frame),
                end_ms: ms(end.max(planned.start_frame + 1)),
                text: spec
                    .chapter
                    .as_deref()
                    .or(spec.id.as_deref())
                    .map_or_else(|| format!("Scene {}", i + 1), |t| t.trim().to_string()),
            })
            .collect()
    }

    /// Checks the output's size, frame rate and audio bit rate; returns the frame rate.
    fn output(&mut self, o: &crate::spec::Output) -> Fps {
        for (name, v, max) in [
            ("width", o.width, MAX_WIDTH),
            ("height", o.height, MAX_HEIGHT),
        ] {
            let path = format!("output.{name}");
            if !(MIN_SIDE..=max).contains(&v) {
                self.issue(
                    path,
                    format!("{name} {v} is out of range (expected {MIN_SIDE}..={max})"),
                );
            } else if v % 2 != 0 {
                self.issue(
                    path,
                    format!(
                        "{name} {v} is odd (H.264 yuv420p needs even sizes; use {})",
                        v + 1
                    ),
                );
            }
        }
        let fps = self.fps(o.fps);
        self.fps_for_clips = fps.as_f64();
        if !(32..=512).contains(&o.audio_bitrate) {
            self.issue(
                "output.audio_bitrate",
                format!(
                    "audio_bitrate {} is out of range (expected 32..=512 kbit/s)",
                    o.audio_bitrate
                ),
            );
        }
        fps
    }

    /// Checks `audio`'s loudness target.
    fn loudness(&mut self, au: &crate::spec::Audio) -> PlanLoudness {
        self.in_range(
            "audio.target_lufs",
            "target_lufs",
            au.target_lufs,
            -40.0,
            -5.0,
            "LUFS",
        );
        self.in_range(
            "audio.true_peak_db",
            "true_peak_db",
            au.true_peak_db,
            -9.0,
            0.0,
            "dBTP",
        );
        PlanLoudness {
            normalize: au.normalize,
            target_lufs: au.target_lufs,
            ceiling_db: au.true_peak_db,
        }
    }

    fn fps(&mut self, fps: f64) -> Fps {
        let fallback = Fps { num: 30, den: 1 };
        if !(fps.is_finite() && (1.0..=120.0).contains(&fps)) {
            self.issue(
                "output.fps",
                format!("fps {fps} is out of range (expected 1..=120)"),
            );
            return fallback;
        }
        if (fps - fps.round()).abs() < 1e-9 {
            return Fps {
                num: fps.round() as u32,
                den: 1,
            };
        }
        for base in [24u32, 30, 60] {
            let ntsc = f64::from(base * 1000) / 1001.0;
            if (fps - ntsc).abs() < 0.005 {
                return Fps {
                    num: base * 1000,
                    den: 1001,
                };
            }
        }
        self.issue(
            "output.fps",
            format!("fps {fps} is not supported (expected an integer, 23.976, 29.97 or 59.94)"),
        );
        fallback
    }

    /// Reports `name` at `path` unless `v` is finite and within `lo..=hi`; `unit` follows
    /// the range in the message. Returns whether it was acceptable.
    #[allow(clippy::too_many_arguments)]
    fn in_range(&mut self, path: &str, name: &str, v: f64, lo: f64, hi: f64, unit: &str) -> bool {
        let ok = v.is_finite() && (lo..=hi).contains(&v);
        if !ok {
            let unit = if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            };
            self.issue(
                path,
                format!("{name} {v} is out of range (expected {lo}..={hi}{unit})"),
            );
        }
        ok
    }

    fn color(&mut self, s: &str, path: &str) -> Rgba {
        parse_color(s).unwrap_or_else(|e| {
            self.issue(path, e.to_string());
            [0, 0, 0, 255]
        })
    }

    fn colors(&mut self, list: &[String], path: &str) -> Vec<Rgba> {
        if list.len() < 2 {
            self.issue(
                path,
                format!(
                    "{} colour(s) given (a gradient needs at least 2)",
                    list.len()
                ),
            );
        }
        list.iter()
            .enumerate()
            .map(|(i, c)| self.color(c, &format!("{path}[{i}]")))
            .collect()
    }

    fn length(&mut self, l: &Length, path: &str, frame_side: f64) -> f64 {
        parse_length(l, frame_side).unwrap_or_else(|e| {
            self.issue(path, e.to_string());
            0.0
        })
    }

    /// The file to read for `src` (see [`crate::resolve::files::FileAccess::resolve`]), or an empty
    /// path after reporting why there is none: nothing later looks at a refused name.
    fn asset(&mut self, src: &str, path: &str) -> PathBuf {
        match self.ctx.files.resolve(src, false) {
            Ok(p) => p,
            Err(e) => {
                self.issue(path, e.to_string());
                PathBuf::new()
            }
        }
    }
}
