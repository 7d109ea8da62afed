//! What one spec may cost: caps checked before any file is decoded or any narration spoken,
//! and the frame and pixel budgets checked again once the plan knows every length.
//!
//! The command line renders the user's own specs and sets none of these (the engine's own
//! limits still hold: 4 hours, 7680x4320, 120 fps, 5000 characters a narration). The service
//! sets them all (`reelsmith serve --max-…`), so that one request cannot make it speak for an
//! hour or encode for a day.

use crate::plan::Plan;
use crate::spec::SpecIssue;
use crate::spec::{Composition, SceneDuration, TransitionSpec};

/// Caps on one spec. Plain data; see [`Limits::default`] for the defaults, and the consuming
/// setters (`with_*`) to build one outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Scenes. Default: 1000.
    pub max_scenes: usize,
    /// Layers, all scenes together. Default: 10 000.
    pub max_layers: usize,
    /// Characters of text to speak (text narrations and text tracks together). Default:
    /// 200 000 (a 30-minute module speaks about 30 000).
    pub max_narration_chars: usize,
    /// Frames of video. Default: 108 000 (an hour at 30 fps).
    pub max_frames: u64,
    /// Pixels to compose and encode: frames x width x height. Default: an hour of 1080p at
    /// 30 fps (about 2.2 x 10^11).
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_scenes: 1000,
            max_layers: 10_000,
            max_narration_chars: 200_000,
            max_frames: 108_000,
            max_pixels: 108_000 * 1920 * 1080,
        }
    }
}

impl Limits {
    /// Sets [`Self::max_scenes`].
    #[must_use]
    pub fn with_max_scenes(mut self, max_scenes: usize) -> Self {
        self.max_scenes = max_scenes;
        self
    }

    /// Sets [`Self::max_layers`].
    #[must_use]
    pub fn with_max_layers(mut self, max_layers: usize) -> Self {
        self.max_layers = max_layers;
        self
    }

    /// Sets [`Self::max_narration_chars`].
    #[must_use]
    pub fn with_max_narration_chars(mut self, max_narration_chars: usize) -> Self {
        self.max_narration_chars = max_narration_chars;
        self
    }

    /// Sets [`Self::max_frames`].
    #[must_use]
    pub fn with_max_frames(mut self, max_frames: u64) -> Self {
        self.max_frames = max_frames;
        self
    }

    /// Sets [`Self::max_pixels`].
    #[must_use]
    pub fn with_max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }
}

fn issue(path: impl Into<String>, message: String) -> SpecIssue {
    SpecIssue {
        path: path.into(),
        message,
    }
}

impl Limits {
    /// What `comp` exceeds, judged from the spec alone (no file is read): scenes, layers,
    /// characters to speak, and frames and pixels as far as the spec's own numbers show them
    /// (scenes timed by their narration count as nothing here; [`Limits::check_plan`] checks
    /// the full length).
    pub fn check(&self, comp: &Composition) -> Vec<SpecIssue> {
        let mut out = Vec::new();
        if comp.scenes.len() > self.max_scenes {
            out.push(issue(
                "scenes",
                format!(
                    "{} scenes (this service renders at most {})",
                    comp.scenes.len(),
                    self.max_scenes
                ),
            ));
        }
        let mut layers = 0usize;
        for (i, scene) in comp.scenes.iter().enumerate() {
            layers += scene.layers.len();
            if layers > self.max_layers {
                out.push(issue(
                    format!("scenes[{i}].layers"),
                    format!(
                        "more than {} layers in all by this scene (this service renders at most {})",
                        self.max_layers, self.max_layers
                    ),
                ));
                break;
            }
        }
        let spoken = comp
            .scenes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let t = s.narration.as_ref()?.text.as_deref()?;
                Some((format!("scenes[{i}].narration.text"), t))
            })
            .chain(comp.audio.tracks.iter().enumerate().filter_map(|(k, t)| {
                Some((format!("audio.tracks[{k}].text"), t.text.as_deref()?))
            }));
        let mut chars = 0usize;
        for (path, text) in spoken {
            chars += text.chars().count();
            if chars > self.max_narration_chars {
                out.push(issue(
                    path,
                    format!(
                        "more than {} characters to speak by this narration (this service speaks \
                         at most {} per spec)",
                        self.max_narration_chars, self.max_narration_chars
                    ),
                ));
                break;
            }
        }
        // The spec's own seconds, less what transitions overlap: a lower bound of the length.
        let fixed: f64 = comp
            .scenes
            .iter()
            .map(|s| match s.duration {
                SceneDuration::Seconds(d) if d.is_finite() && d > 0.0 => d,
                _ => 0.0,
            })
            .sum();
        let overlap: f64 = comp
            .scenes
            .iter()
            .filter_map(|s| match &s.transition {
                Some(TransitionSpec::Kind(_)) => Some(0.5),
                Some(TransitionSpec::Full(t)) if t.duration.is_finite() => {
                    Some(t.duration.max(0.0))
                }
                Some(TransitionSpec::Full(_)) => Some(f64::INFINITY),
                None => None,
            })
            .sum();
        let fps = comp.output.fps;
        if fps.is_finite() && fps > 0.0 && fixed - overlap > 0.0 {
            let frames = ((fixed - overlap) * fps).floor();
            let (w, h) = (comp.output.width, comp.output.height);
            out.extend(self.budget(frames as u64, w, h, "scenes"));
        }
        out
    }

    /// The frame and pixel budgets against the plan's real length.
    pub fn check_plan(&self, plan: &Plan) -> Vec<SpecIssue> {
        self.budget(plan.total_frames, plan.width, plan.height, "scenes")
    }

    fn budget(&self, frames: u64, w: u32, h: u32, path: &str) -> Vec<SpecIssue> {
        let mut out = Vec::new();
        if frames > self.max_frames {
            out.push(issue(
                path,
                format!(
                    "{frames} frames (this service renders at most {} a video)",
                    self.max_frames
                ),
            ));
        }
        let pixels = frames
            .saturating_mul(u64::from(w))
            .saturating_mul(u64::from(h));
        if pixels > self.max_pixels {
            out.push(issue(
                "output",
                format!(
                    "{frames} frames of {w}x{h} are {pixels} pixels (this service renders at most \
                     {} a video: fewer frames or a smaller size)",
                    self.max_pixels
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(v: serde_json::Value) -> Composition {
        Composition::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn caps_name_where_they_are_crossed() {
        let small = Limits {
            max_scenes: 2,
            max_layers: 3,
            max_narration_chars: 10,
            max_frames: 100,
            max_pixels: 100 * 64 * 64,
        };
        let c = comp(serde_json::json!({
            "output": {"width": 64, "height": 64, "fps": 10},
            "scenes": [
                {"duration": 1, "layers": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                 "narration": {"text": "hello"}},
                {"duration": 1, "layers": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}],
                 "narration": {"text": "hello again"}, "transition": "fade"},
                {"duration": 1}
            ]
        }));
        let issues = small.check(&c);
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            ["scenes", "scenes[1].layers", "scenes[1].narration.text"],
            "{issues:?}"
        );
        // 11.5 s at 10 fps = 115 frames: over 100 frames and 100 frames' pixels.
        let long = comp(serde_json::json!({
            "output": {"width": 64, "height": 64, "fps": 10},
            "scenes": [{"duration": 11.5}, {"duration": "auto", "narration": {"src": "x.wav"}}]
        }));
        let issues = small.check(&long);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues[0].message.contains("115 frames"), "{issues:?}");
        assert!(Limits::default().check(&long).is_empty());
    }
}
