//! Renditions: one timeline and one audio plan, pictures at several sizes.

use std::path::PathBuf;

use super::{Plan, PlanScene, TextFit};
use crate::spec::Quality;

/// A further rendition of a plan: what differs from the main one (its size, its scenes'
/// layers resolved at that size, its quality and file). Its timeline, audio, captions and
/// chapters are the main plan's (checked when it was planned, [`Plan::timing_difference`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanRendition {
    /// Its name (`output.renditions[i].name`).
    pub name: String,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Encoder quality.
    pub quality: Quality,
    /// Where its MP4 goes.
    pub output: PathBuf,
    /// Its scenes: the main plan's timing, layers resolved at this size.
    pub scenes: Vec<PlanScene>,
    /// Its text layers that were shrunk or cut to fit their box.
    #[serde(default)]
    pub text_fits: Vec<TextFit>,
}

impl PlanRendition {
    /// A rendition of the main plan made from `plan`, the same composition resolved at the
    /// rendition's size (its timeline and audio are left out: the main plan's are used).
    pub fn from_plan(name: &str, plan: Plan) -> PlanRendition {
        PlanRendition {
            name: name.to_string(),
            width: plan.width,
            height: plan.height,
            quality: plan.quality,
            output: plan.output,
            scenes: plan.scenes,
            text_fits: plan.text_fits,
        }
    }
}

impl Plan {
    /// The plan of each rendition, the main one first (`None` for its name): each a whole
    /// plan of one output, sharing this plan's timeline, audio, captions, chapters, fonts,
    /// encoder settings and input hashes, without renditions of its own.
    pub fn rendition_plans(&self) -> Vec<(Option<String>, Plan)> {
        let mut main = self.clone();
        let extra = std::mem::take(&mut main.renditions);
        let mut all = Vec::with_capacity(extra.len() + 1);
        for r in extra {
            let p = Plan {
                width: r.width,
                height: r.height,
                quality: r.quality,
                output: r.output,
                scenes: r.scenes,
                text_fits: r.text_fits,
                renditions: Vec::new(),
                ..main.clone()
            };
            all.push((Some(r.name), p));
        }
        all.insert(0, (None, main));
        all
    }

    /// How `other` (the same composition planned at another size) is timed differently
    /// from this plan, if it is: frames, scenes and their transitions, audio tracks,
    /// loudness, captions and chapters must all be the same for the renditions of one
    /// render to play in sync.
    pub fn timing_difference(&self, other: &Plan) -> Option<String> {
        if self.fps != other.fps {
            return Some("another frame rate".into());
        }
        if self.total_frames != other.total_frames {
            return Some(format!(
                "{} frames instead of {}",
                other.total_frames, self.total_frames
            ));
        }
        if self.scenes.len() != other.scenes.len() {
            return Some(format!(
                "{} scenes instead of {}",
                other.scenes.len(),
                self.scenes.len()
            ));
        }
        for (i, (a, b)) in self.scenes.iter().zip(&other.scenes).enumerate() {
            let timing = |s: &PlanScene| (s.start_frame, s.frames, s.transition.map(|t| t.frames));
            if timing(a) != timing(b) || a.transition != b.transition {
                return Some(format!("scene {i} is timed differently"));
            }
        }
        let same = |a: serde_json::Result<serde_json::Value>,
                    b: serde_json::Result<serde_json::Value>| {
            matches!((a, b), (Ok(a), Ok(b)) if a == b)
        };
        if self.total_samples != other.total_samples
            || self.audio_bitrate_kbps != other.audio_bitrate_kbps
            || self.loudness != other.loudness
            || !same(
                serde_json::to_value(&self.tracks),
                serde_json::to_value(&other.tracks),
            )
        {
            return Some("other audio".into());
        }
        if self.captions != other.captions {
            return Some("other captions".into());
        }
        if self.chapters != other.chapters {
            return Some("other chapters".into());
        }
        None
    }
}
