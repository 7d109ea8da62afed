//! Validation and resolution: a raw [`Composition`] becomes a [`Plan`].
//!
//! Every problem is collected and reported at once, each with its JSON path. The facts the plan
//! needs from files (a picture's size, a clip's streams, an audio file's length and level, a
//! text's measured size, a narration spoken) come through [`ResolveContext`]; files are found
//! and confined by [`files::FileAccess`], costs bounded by [`limits::Limits`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub mod files;
pub mod fonts;
mod layers;
pub mod limits;

use crate::plan::*;
use crate::spec::{
    AudioRole, Background, Composition, Easing, Length, MotionPreset, MotionSpec, SceneDuration,
    SpecError, SpecIssue, TransitionSpec, Viewport,
};
use crate::text::TextMeasure;

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
        let o = &comp.output;
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
        let (w, h) = (f64::from(o.width), f64::from(o.height));

        if comp.scenes.is_empty() {
            self.issue("scenes", "no scenes (expected at least one)");
        }
        let mut ids = HashSet::new();
        let mut scenes = Vec::with_capacity(comp.scenes.len());
        let mut elapsed = 0.0f64;
        let mut prev_dur = 0.0f64;
        for (si, s) in comp.scenes.iter().enumerate() {
            self.scene_index = si;
            let path = format!("scenes[{si}]");
            let id = s.id.clone().unwrap_or_else(|| format!("{si}"));
            if let Some(given) = &s.id {
                if !ids.insert(given.clone()) {
                    self.issue(
                        format!("{path}.id"),
                        format!("duplicate scene id {given:?}"),
                    );
                }
            }
            let dur = match s.duration {
                SceneDuration::Seconds(d) => {
                    if !(d.is_finite() && d > 0.0) {
                        self.issue(
                            format!("{path}.duration"),
                            format!(
                                "duration {d} must be a positive number of seconds or \"auto\""
                            ),
                        );
                    }
                    if d.is_finite() {
                        d.max(0.0)
                    } else {
                        0.0
                    }
                }
                SceneDuration::Auto(_) => self.auto_duration(s, &path),
            };
            // A transition makes this scene start before the previous one ends.
            let prev = scenes
                .last()
                .map(|p: &PlanScene| (p.frames, p.transition.map_or(0, |t| t.frames)));
            let transition = s.transition.as_ref().and_then(|t| {
                self.transition(t, &format!("{path}.transition"), si, dur, prev_dur, fps)
            });
            let overlap = transition.map_or(0.0, |t| t.1);
            let start_frame = fps.frame_at(elapsed - overlap);
            elapsed += dur - overlap;
            let end_frame = fps.frame_at(elapsed);
            let frames = end_frame.saturating_sub(start_frame);
            let transition = transition.map(|(t, _)| PlanTransition {
                frames: (scenes
                    .last()
                    .map_or(start_frame, |p: &PlanScene| p.start_frame + p.frames)
                    .saturating_sub(start_frame))
                .max(1),
                ..t
            });
            if let (Some(t), Some((pf, ptf))) = (&transition, prev) {
                if t.frames + ptf > pf {
                    self.issue(
                        format!("{path}.transition.duration"),
                        "this transition overlaps the previous scene's own transition: \
                         shorten one of them or lengthen the previous scene",
                    );
                }
            }
            prev_dur = dur;
            if frames == 0 && dur > 0.0 {
                self.issue(
                    format!("{path}.duration"),
                    format!(
                        "duration {dur} s is shorter than one frame at {} fps",
                        fps.as_f64()
                    ),
                );
            }
            let background = match &s.background {
                None => PlanBackground::Solid([0, 0, 0, 255]),
                Some(b) => self.background(b, &format!("{path}.background"), w, h, frames, fps),
            };
            let sc = layers::SceneCtx {
                dur,
                fps,
                frames,
                w,
                h,
            };
            let mut layers = Vec::new();
            for (li, l) in s.layers.iter().enumerate() {
                self.layer(l, &format!("{path}.layers[{li}]"), &sc, &mut layers);
            }
            scenes.push(PlanScene {
                id,
                path,
                start_frame,
                frames,
                background,
                layers,
                transition,
            });
        }
        // Progress bars measure against the final length.
        let total = scenes.last().map_or(0, |s| s.start_frame + s.frames);
        for sc in &mut scenes {
            let start = sc.start_frame;
            for l in &mut sc.layers {
                if let PlanLayerKind::Progress(p) = &mut l.kind {
                    if p.total == 0 {
                        p.offset = start;
                        p.total = total;
                    }
                }
            }
        }
        if elapsed > MAX_DURATION_S {
            self.issue(
                "scenes",
                format!("total duration {elapsed:.1} s exceeds the limit of {MAX_DURATION_S} s (4 hours)"),
            );
        }
        let total_frames = scenes.last().map_or(0, |s| s.start_frame + s.frames);
        let total_samples = fps.sample_at_frame(total_frames);
        let mut tracks: Vec<PlanTrack> = comp
            .audio
            .tracks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| self.track(t, &format!("audio.tracks[{i}]"), 0.0, None))
            .collect();
        let max_chars = self.caption_settings(&o.captions);
        let mut cues = Vec::new();
        for (i, t) in comp.audio.tracks.iter().enumerate() {
            // Tracks that failed their checks are missing from `tracks`: found by path.
            let path = format!("audio.tracks[{i}]");
            if let Some(plan) = tracks.iter().find(|p| p.path == path) {
                cues.extend(self.captions(t, plan, max_chars));
            }
        }
        for (si, mut t) in std::mem::take(&mut self.clip_tracks) {
            if let Some(sc) = scenes.get(si) {
                t.start += fps.sample_at_frame(sc.start_frame);
                tracks.push(t);
            }
        }
        for (i, (scene, plan_scene)) in comp.scenes.iter().zip(&scenes).enumerate() {
            let Some(n) = &scene.narration else { continue };
            let path = format!("scenes[{i}].narration");
            let scene_dur = plan_scene.frames as f64 / fps.as_f64();
            if n.start.is_finite() && n.start >= scene_dur && scene_dur > 0.0 {
                self.issue(
                    format!("{path}.start"),
                    format!(
                        "start {} s is at or after the scene's end ({scene_dur} s)",
                        n.start
                    ),
                );
            }
            let offset = fps.seconds(plan_scene.start_frame);
            let mut track = self.track(n, &path, offset, Some(AudioRole::Narration));
            // Followed by a transition: the voice ends with its scene, fading over it.
            if let (Some(t), Some(next)) = (&mut track, scenes.get(i + 1)) {
                if let Some(tr) = next.transition {
                    let end = plan_scene.start_frame + plan_scene.frames;
                    t.cut = Some((
                        fps.sample_at_frame(end),
                        fps.sample_at_frame(end) - fps.sample_at_frame(end - tr.frames),
                    ));
                }
            }
            if let Some(t) = &track {
                cues.extend(self.captions(n, t, max_chars));
            }
            tracks.extend(track);
        }
        let captions = PlanCaptions {
            cues: crate::plan::captions::in_order(cues),
            embed: o.captions.embed,
            vtt: o.captions.vtt,
            language: o.captions.language.clone(),
        };
        let au = &comp.audio;
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
        Plan {
            loudness: PlanLoudness {
                normalize: au.normalize,
                target_lufs: au.target_lufs,
                ceiling_db: au.true_peak_db,
            },
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
            encoding: crate::plan::PlanEncoding::default(),
            output: PathBuf::new(),
            inputs: Default::default(),
        }
    }

    /// Checks `output.captions`; returns the line length.
    fn caption_settings(&mut self, c: &crate::spec::Captions) -> usize {
        let lang = &c.language;
        if !(lang.len() == 3 && lang.bytes().all(|b| b.is_ascii_lowercase())) {
            self.issue(
                "output.captions.language",
                format!("language {lang:?} is not an ISO 639-2 code (three lowercase letters, e.g. eng)"),
            );
        }
        if !(20..=80).contains(&c.max_chars) {
            self.issue(
                "output.captions.max_chars",
                format!(
                    "max_chars {} is out of range (expected 20..=80 characters)",
                    c.max_chars
                ),
            );
        }
        c.max_chars.clamp(20, 80) as usize
    }

    /// The captions of track `t` (planned as `plan`): its words spread over the time it is
    /// heard (to its end, its `duration`, or its scene's end, whichever comes first).
    fn captions(
        &mut self,
        t: &crate::spec::AudioTrack,
        plan: &PlanTrack,
        max_chars: usize,
    ) -> Vec<crate::plan::captions::Cue> {
        let path = &plan.path;
        if let Some(c) = &t.caption {
            let chars = c.chars().count();
            if chars > 5000 {
                self.issue(
                    format!("{path}.caption"),
                    format!("caption has {chars} characters (expected at most 5000)"),
                );
                return Vec::new();
            }
            if plan.role != AudioRole::Narration {
                self.issue(
                    format!("{path}.caption"),
                    "only a narration has captions (give the track \"role\": \"narration\")",
                );
                return Vec::new();
            }
        }
        if plan.role != AudioRole::Narration {
            return Vec::new();
        }
        let Some(words) = t.caption.as_deref().or(t.text.as_deref()) else {
            return Vec::new();
        };
        if words.trim().is_empty() {
            return Vec::new();
        }
        let sr = u64::from(SAMPLE_RATE);
        // The track's own checks report an unreadable file.
        let Ok(levels) = self.levels(&plan.src) else {
            return Vec::new();
        };
        let env = &levels.db;
        let length = plan.duration.unwrap_or_else(|| {
            ((levels.seconds * sr as f64).round() as u64).saturating_sub(plan.trim)
        });
        let mut end = plan.start + length;
        if let Some((cut, _)) = plan.cut {
            end = end.min(cut);
        }
        let (start_ms, end_ms) = (plan.start * 1000 / sr, end * 1000 / sr);
        // The envelope of what is heard: from `trim`, 10 ms a value.
        let from = ((plan.trim * 100 / sr) as usize).min(env.len());
        let to = (from + (length * 100 / sr) as usize).min(env.len());
        let speech = crate::plan::captions::Speech::from_envelope(&env[from..to], start_ms);
        crate::plan::captions::cues(words, start_ms, end_ms, max_chars, speech.as_ref())
    }

    /// The audio file of a track: its `src`, or its `text` spoken (and cached). Reports
    /// problems only when `report` (so a second look does not report them twice).
    fn audio_source(
        &mut self,
        t: &crate::spec::AudioTrack,
        path: &str,
        report: bool,
    ) -> Option<PathBuf> {
        let before = self.issues.len();
        let found = match (&t.src, &t.text) {
            (Some(src), None) => {
                let p = self.asset(src, &format!("{path}.src"));
                p.is_file().then_some(p)
            }
            (None, Some(text)) => self.speak(t, text, path),
            (Some(_), Some(_)) => {
                self.issue(format!("{path}.text"), "give either src or text, not both");
                None
            }
            (None, None) => {
                self.issue(
                    path.to_string(),
                    "an audio track needs src (a file) or text (to speak)",
                );
                None
            }
        };
        if !report {
            self.issues.truncate(before);
        }
        found
    }

    /// Checks a text narration's settings and speaks it (cached).
    fn speak(&mut self, t: &crate::spec::AudioTrack, text: &str, path: &str) -> Option<PathBuf> {
        let before = self.issues.len();
        let voice = t.voice.clone().unwrap_or_else(|| "en-us".into());
        let (rate, pitch) = (t.rate.unwrap_or(160), t.pitch.unwrap_or(50));
        let chars = text.chars().count();
        if text.trim().is_empty() || chars > 5000 {
            self.issue(
                format!("{path}.text"),
                format!("text has {chars} characters (expected 1..=5000)"),
            );
        }
        if !crate::media::tts::valid_voice(&voice) {
            self.issue(
                format!("{path}.voice"),
                format!("invalid voice {voice:?} (expected a name like en-us)"),
            );
        }
        if !(80..=450).contains(&rate) {
            self.issue(
                format!("{path}.rate"),
                format!("rate {rate} is out of range (expected 80..=450 words per minute)"),
            );
        }
        if pitch > 99 {
            self.issue(
                format!("{path}.pitch"),
                format!("pitch {pitch} is out of range (expected 0..=99)"),
            );
        }
        if self.issues.len() != before {
            return None;
        }
        let speech = crate::media::tts::Speech {
            text: text.to_string(),
            voice,
            rate,
            pitch,
        };
        match (self.ctx.synthesize)(&speech) {
            Ok(p) => Some(p),
            Err(crate::media::tts::TtsError::Env(e)) => {
                self.env.get_or_insert(e);
                None
            }
            Err(e) => {
                self.issue(format!("{path}.text"), e.to_string());
                None
            }
        }
    }

    /// `"duration": "auto"`: narration start + its length (after trim, or its `duration`)
    /// + padding.
    fn auto_duration(&mut self, s: &crate::spec::Scene, path: &str) -> f64 {
        if !(s.padding.is_finite() && (0.0..=60.0).contains(&s.padding)) {
            self.issue(
                format!("{path}.padding"),
                format!(
                    "padding {} is out of range (expected 0..=60 seconds)",
                    s.padding
                ),
            );
            return 0.0;
        }
        let Some(n) = &s.narration else {
            self.issue(
                format!("{path}.duration"),
                "duration \"auto\" needs a narration to measure (add scenes[i].narration or give seconds)",
            );
            return 0.0;
        };
        let length = match n.duration {
            Some(d) => Ok(d),
            None => {
                // Problems with the source are reported by the narration's own check.
                let Some(file) = self.audio_source(n, &format!("{path}.narration"), false) else {
                    return 0.0;
                };
                self.levels(&file)
                    .map(|l| (l.seconds - n.trim.max(0.0)).max(0.0))
            }
        };
        match length {
            Ok(l) => n.start.max(0.0) + l + s.padding,
            Err(e) => {
                self.issue(format!("{path}.narration.src"), e);
                0.0
            }
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
            self.issue(path, e);
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
            self.issue(path, e);
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

    fn background(
        &mut self,
        b: &Background,
        path: &str,
        w: f64,
        h: f64,
        frames: u64,
        fps: Fps,
    ) -> PlanBackground {
        match b {
            Background::Solid { color } => {
                let mut c = self.color(color, &format!("{path}.color"));
                c[3] = 255;
                PlanBackground::Solid(c)
            }
            Background::LinearGradient { angle, colors } => {
                if !angle.is_finite() {
                    self.issue(
                        format!("{path}.angle"),
                        "angle must be a finite number of degrees",
                    );
                }
                PlanBackground::Linear {
                    angle: *angle,
                    colors: self.colors(colors, &format!("{path}.colors")),
                }
            }
            Background::RadialGradient {
                cx,
                cy,
                radius,
                colors,
            } => {
                let r = match radius {
                    Some(r) => self.length(r, &format!("{path}.radius"), w),
                    None => (w * w + h * h).sqrt() / 2.0,
                };
                if r <= 0.0 {
                    self.issue(
                        format!("{path}.radius"),
                        format!("radius {r} must be positive"),
                    );
                }
                PlanBackground::Radial {
                    cx: self.length(cx, &format!("{path}.cx"), w),
                    cy: self.length(cy, &format!("{path}.cy"), h),
                    radius: r.max(1.0),
                    colors: self.colors(colors, &format!("{path}.colors")),
                }
            }
            Background::Image {
                src,
                fit,
                color,
                motion,
            } => {
                let mut c = self.color(color, &format!("{path}.color"));
                c[3] = 255;
                let _ = fps;
                PlanBackground::Image {
                    src: self.asset(src, &format!("{path}.src")),
                    fit: *fit,
                    color: c,
                    motion: motion
                        .as_ref()
                        .and_then(|m| self.motion(m, &format!("{path}.motion"), 0, frames)),
                }
            }
            Background::Video { src, playback } => {
                let src_path = self.asset(src, &format!("{path}.src"));
                match self.clip(&src_path, playback, path, (w, h), None, 0, frames) {
                    Some(c) => PlanBackground::Video(c),
                    None => PlanBackground::Solid([0, 0, 0, 255]),
                }
            }
        }
    }

    /// Checks a scene's transition; returns it (frames filled in by the caller) and its
    /// overlap in seconds.
    fn transition(
        &mut self,
        t: &TransitionSpec,
        path: &str,
        scene: usize,
        dur: f64,
        prev_dur: f64,
        fps: Fps,
    ) -> Option<(PlanTransition, f64)> {
        let t = match t {
            TransitionSpec::Kind(k) => crate::spec::Transition {
                kind: *k,
                duration: 0.5,
                easing: Easing::EaseInOut,
                color: "#000000".into(),
            },
            TransitionSpec::Full(f) => f.clone(),
        };
        if scene == 0 {
            self.issue(
                path,
                "the first scene has no scene before it to transition from",
            );
            return None;
        }
        let limit = dur.min(prev_dur);
        if !(t.duration.is_finite() && t.duration > 0.0 && t.duration <= limit + 1e-9) {
            self.issue(
                format!("{path}.duration"),
                format!(
                    "duration {} s is out of range (expected more than 0 and at most {limit} s, \
                     the shorter of the two scenes)",
                    t.duration
                ),
            );
            return None;
        }
        if fps.frame_at(t.duration) == 0 {
            self.issue(
                format!("{path}.duration"),
                format!("duration {} s is shorter than one frame", t.duration),
            );
            return None;
        }
        let color = self.color(&t.color, &format!("{path}.color"));
        Some((
            PlanTransition {
                kind: t.kind,
                frames: 1,
                easing: t.easing,
                color,
            },
            t.duration,
        ))
    }

    /// Checks a clip and how it plays. `fill`: the frame size it covers (backgrounds) and
    /// `boxed`: the layer's box (width, height) if given; `start`/`frames`: scene-relative
    /// frames it shows. Queues its sound for the mix when asked.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn clip(
        &mut self,
        src: &Path,
        pb: &crate::spec::ClipPlayback,
        path: &str,
        fill: (f64, f64),
        boxed: Option<(Option<f64>, Option<f64>)>,
        start: u64,
        frames: u64,
    ) -> Option<PlanClip> {
        let before = self.issues.len();
        let pp = format!("{path}.playback");
        self.in_range(&format!("{pp}.rate"), "rate", pb.rate, 0.25, 4.0, "");
        self.in_range(
            &format!("{pp}.trim_start"),
            "trim_start",
            pb.trim_start,
            0.0,
            MAX_DURATION_S,
            "seconds",
        );
        if let Some(e) = pb.trim_end {
            if !(e.is_finite() && e > pb.trim_start) {
                self.issue(
                    format!("{pp}.trim_end"),
                    format!("trim_end {e} must be after trim_start ({})", pb.trim_start),
                );
            }
        }
        self.in_range(
            &format!("{pp}.volume_db"),
            "volume_db",
            pb.volume_db,
            -60.0,
            24.0,
            "dB",
        );
        if pb.audio && (pb.rate - 1.0).abs() > 1e-9 {
            self.issue(
                format!("{pp}.audio"),
                "a clip's sound can only be mixed at rate 1 (set \"audio\": false to mute it)",
            );
        }
        if self.issues.len() != before || !src.is_file() {
            return None;
        }
        let info = match crate::media::clip::clip_info(src) {
            Ok(i) => i,
            Err(e) => {
                self.issue(format!("{path}.src"), e.to_string());
                return None;
            }
        };
        if pb.trim_start >= info.duration_s && info.duration_s > 0.0 {
            self.issue(
                format!("{pp}.trim_start"),
                format!(
                    "trim_start {} s is at or past the clip's end ({:.3} s)",
                    pb.trim_start, info.duration_s
                ),
            );
            return None;
        }
        if pb.audio && !info.has_audio {
            self.issue(
                format!("{pp}.audio"),
                format!("{} has no sound to mix", src.display()),
            );
            return None;
        }
        let (iw, ih) = (f64::from(info.width.max(1)), f64::from(info.height.max(1)));
        let even = |v: f64| ((v / 2.0).round() * 2.0).max(2.0) as u32;
        let (width, height) = match boxed {
            // A background covers the frame.
            None => {
                let s = (fill.0 / iw).max(fill.1 / ih);
                (even(iw * s), even(ih * s))
            }
            Some((None, None)) => (info.width, info.height),
            Some((Some(bw), None)) => (even(bw), even(bw * ih / iw)),
            Some((None, Some(bh))) => (even(bh * iw / ih), even(bh)),
            // Both: fit inside the box, keeping the aspect ratio.
            Some((Some(bw), Some(bh))) => {
                let s = (bw / iw).min(bh / ih);
                (even(iw * s), even(ih * s))
            }
        };
        if pb.audio {
            let sr = f64::from(SAMPLE_RATE);
            let samples = |s: f64| (s * sr).round() as u64;
            let secs = frames as f64 / self.fps_for_clips;
            let play = pb.trim_end.map_or(secs, |e| {
                if pb.looped {
                    secs
                } else {
                    secs.min(e - pb.trim_start)
                }
            });
            self.clip_tracks.push((
                self.scene_index,
                PlanTrack {
                    path: format!("{path}.playback.audio"),
                    src: src.to_path_buf(),
                    start: samples(start as f64 / self.fps_for_clips),
                    trim: samples(pb.trim_start),
                    role: AudioRole::Effect,
                    duck: None,
                    pan: [1.0, 1.0],
                    duration: Some(samples(play)),
                    gain: 10f64.powf(pb.volume_db / 20.0) as f32,
                    fade_in: 0,
                    fade_out: samples(0.05),
                    looped: pb.looped,
                    loop_crossfade: 0,
                    fade_curve: crate::spec::FadeCurve::Linear,
                    cut: None,
                },
            ));
        }
        Some(PlanClip {
            path: path.to_string(),
            src: src.to_path_buf(),
            width,
            height,
            trim_start: pb.trim_start,
            trim_end: pb.trim_end,
            rate: pb.rate,
            looped: pb.looped,
            start,
            frames: frames.max(1),
        })
    }

    /// Checks a Ken Burns move running from scene-relative `start` for `frames` frames.
    pub(crate) fn motion(
        &mut self,
        m: &MotionSpec,
        path: &str,
        start: u64,
        frames: u64,
    ) -> Option<PlanMotion> {
        let v = |zoom: f64, x: f64, y: f64| Viewport { zoom, x, y };
        let (from, to, easing) = match m {
            MotionSpec::Preset(p) => {
                let (a, b) = match p {
                    MotionPreset::ZoomIn => (v(1.0, 0.5, 0.5), v(1.2, 0.5, 0.5)),
                    MotionPreset::ZoomOut => (v(1.2, 0.5, 0.5), v(1.0, 0.5, 0.5)),
                    MotionPreset::PanLeft => (v(1.15, 0.65, 0.5), v(1.15, 0.35, 0.5)),
                    MotionPreset::PanRight => (v(1.15, 0.35, 0.5), v(1.15, 0.65, 0.5)),
                    MotionPreset::PanUp => (v(1.15, 0.5, 0.65), v(1.15, 0.5, 0.35)),
                    MotionPreset::PanDown => (v(1.15, 0.5, 0.35), v(1.15, 0.5, 0.65)),
                };
                (a, b, Easing::Linear)
            }
            MotionSpec::Full(f) => (f.from, f.to, f.easing),
        };
        let before = self.issues.len();
        for (name, vp) in [("from", from), ("to", to)] {
            self.in_range(
                &format!("{path}.{name}.zoom"),
                "zoom",
                vp.zoom,
                1.0,
                8.0,
                "",
            );
            self.in_range(&format!("{path}.{name}.x"), "x", vp.x, 0.0, 1.0, "");
            self.in_range(&format!("{path}.{name}.y"), "y", vp.y, 0.0, 1.0, "");
        }
        if self.issues.len() != before {
            return None;
        }
        Some(PlanMotion {
            from,
            to,
            easing,
            start,
            frames: frames.saturating_sub(1).max(1),
        })
    }

    /// `offset`: seconds added to `start` (a scene's start for its narration). `role`: forced
    /// role (narration) or `None` for the track's own.
    fn track(
        &mut self,
        t: &crate::spec::AudioTrack,
        path: &str,
        offset: f64,
        forced_role: Option<AudioRole>,
    ) -> Option<PlanTrack> {
        let before = self.issues.len();
        if let (Some(AudioRole::Narration), Some(r)) = (forced_role, t.role) {
            if r != AudioRole::Narration {
                self.issue(
                    format!("{path}.role"),
                    "a scene's narration has the role narration",
                );
            }
        }
        self.in_range(
            &format!("{path}.loop_crossfade"),
            "loop_crossfade",
            t.loop_crossfade,
            0.0,
            10.0,
            "seconds",
        );
        if !(t.trim.is_finite() && t.trim >= 0.0) {
            self.issue(
                format!("{path}.trim"),
                format!("trim {} must be >= 0 seconds", t.trim),
            );
        }
        self.in_range(&format!("{path}.pan"), "pan", t.pan, -1.0, 1.0, "");
        if let Some(d) = &t.duck {
            self.in_range(
                &format!("{path}.duck.by_db"),
                "by_db",
                d.by_db,
                0.0,
                60.0,
                "",
            );
            self.in_range(
                &format!("{path}.duck.threshold_db"),
                "threshold_db",
                d.threshold_db,
                -80.0,
                0.0,
                "",
            );
            for (name, v) in [("attack", d.attack), ("release", d.release)] {
                if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                    self.issue(
                        format!("{path}.duck.{name}"),
                        format!("{name} {v} is out of range (expected 0..=10 seconds)"),
                    );
                }
            }
        }
        let src = self.audio_source(t, path, true).unwrap_or_default();
        if !(t.start.is_finite() && t.start >= 0.0) {
            self.issue(
                format!("{path}.start"),
                format!("start {} must be >= 0 seconds", t.start),
            );
        }
        if let Some(d) = t.duration {
            if !(d.is_finite() && d > 0.0) {
                self.issue(
                    format!("{path}.duration"),
                    format!("duration {d} must be > 0 seconds"),
                );
            }
        }
        self.in_range(
            &format!("{path}.volume_db"),
            "volume_db",
            t.volume_db,
            -60.0,
            24.0,
            "dB",
        );
        for (name, v) in [("fade_in", t.fade_in), ("fade_out", t.fade_out)] {
            if !(v.is_finite() && v >= 0.0) {
                self.issue(
                    format!("{path}.{name}"),
                    format!("{name} {v} must be >= 0 seconds"),
                );
            }
        }
        if self.issues.len() != before {
            return None;
        }
        let sr = f64::from(SAMPLE_RATE);
        let samples = |s: f64| (s * sr).round() as u64;
        // Constant-power pan: equal gains of cos(pi/4) at the centre would lower a centred
        // source by 3 dB, so the law is normalised to unity at the centre.
        let angle = (t.pan + 1.0) * std::f64::consts::FRAC_PI_4;
        let norm = std::f64::consts::SQRT_2;
        let pan = [(angle.cos() * norm) as f32, (angle.sin() * norm) as f32];
        Some(PlanTrack {
            path: path.to_string(),
            src,
            start: samples(t.start + offset),
            trim: samples(t.trim),
            role: forced_role.or(t.role).unwrap_or_default(),
            duck: t.duck.as_ref().map(|d| PlanDuck {
                by_db: d.by_db as f32,
                attack: samples(d.attack),
                release: samples(d.release),
                source: d.source,
                threshold: 10f64.powf(d.threshold_db / 20.0) as f32,
            }),
            pan,
            duration: t.duration.map(samples),
            gain: 10f64.powf(t.volume_db / 20.0) as f32,
            fade_in: samples(t.fade_in),
            fade_out: samples(t.fade_out),
            looped: t.looped,
            loop_crossfade: samples(t.loop_crossfade),
            fade_curve: t.fade_curve,
            cut: None,
        })
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Timing {
    opacity: f64,
    start: f64,
    end: Option<f64>,
    fade_in: f64,
    fade_out: f64,
}

impl Timing {
    fn of(opacity: f64, start: f64, end: Option<f64>, fade_in: f64, fade_out: f64) -> Timing {
        Timing {
            opacity,
            start,
            end,
            fade_in,
            fade_out,
        }
    }
}

/// Parses `#RGB`, `#RGBA`, `#RRGGBB`, `#RRGGBBAA` or one of `white`, `black`, `transparent`.
///
/// # Errors
/// A message naming the value and the accepted forms.
pub fn parse_color(s: &str) -> Result<Rgba, String> {
    let bad = || format!("invalid colour {s:?} (expected #RRGGBB or #RRGGBBAA)");
    match s.to_ascii_lowercase().as_str() {
        "white" => return Ok([255, 255, 255, 255]),
        "black" => return Ok([0, 0, 0, 255]),
        "transparent" => return Ok([0, 0, 0, 0]),
        _ => {}
    }
    let hex = s.strip_prefix('#').ok_or_else(bad)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).unwrap_or(0);
    let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    match hex.len() {
        3 | 4 => {
            let mut c = [255u8; 4];
            for (i, v) in c.iter_mut().enumerate().take(hex.len()) {
                *v = digit(i) * 17;
            }
            Ok(c)
        }
        6 | 8 => {
            let mut c = [255u8; 4];
            for (i, v) in c.iter_mut().enumerate().take(hex.len() / 2) {
                *v = pair(i * 2);
            }
            Ok(c)
        }
        _ => Err(bad()),
    }
}

/// Converts a [`Length`] to pixels; percentages are of `frame_side`.
///
/// # Errors
/// A message naming the value and the accepted forms.
pub fn parse_length(l: &Length, frame_side: f64) -> Result<f64, String> {
    let v = match l {
        Length::Px(v) => *v,
        Length::Str(s) => {
            let t = s.trim();
            let bad = || {
                format!("invalid length {s:?} (expected pixels like 120 or \"120px\", or a percentage like \"50%\")")
            };
            if let Some(p) = t.strip_suffix('%') {
                p.trim().parse::<f64>().map_err(|_| bad())? / 100.0 * frame_side
            } else if let Some(p) = t.strip_suffix("px") {
                p.trim().parse::<f64>().map_err(|_| bad())?
            } else {
                t.parse::<f64>().map_err(|_| bad())?
            }
        }
    };
    if !v.is_finite() || v.abs() > 100_000.0 {
        return Err(format!(
            "length {v} is out of range (expected -100000..=100000 px)"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_parse() {
        assert_eq!(parse_color("#FF8000"), Ok([255, 128, 0, 255]));
        assert_eq!(parse_color("#ff800080"), Ok([255, 128, 0, 128]));
        assert_eq!(parse_color("#fff"), Ok([255, 255, 255, 255]));
        assert_eq!(parse_color("#0008"), Ok([0, 0, 0, 136]));
        assert_eq!(parse_color("white"), Ok([255, 255, 255, 255]));
        assert!(parse_color("FF8000").is_err());
        assert!(parse_color("#GG0000").is_err());
        assert!(parse_color("#12345").is_err());
    }

    #[test]
    fn lengths_parse() {
        assert_eq!(parse_length(&Length::Px(12.0), 100.0), Ok(12.0));
        assert_eq!(parse_length(&Length::Str("25%".into()), 1920.0), Ok(480.0));
        assert_eq!(parse_length(&Length::Str("30px".into()), 1920.0), Ok(30.0));
        assert!(parse_length(&Length::Str("30em".into()), 1920.0).is_err());
    }
}
