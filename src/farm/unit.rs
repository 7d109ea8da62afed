//! Units of work: what a coordinator publishes and a worker renders, and what workers say
//! back. Both travel through the broker as JSON.

use std::ops::Range;

use crate::encode::EncoderConfig;
use crate::plan::Plan;

use super::FarmError;

/// What a unit renders.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    /// The pictures of frames `start..end`, composed and encoded into a segment file
    /// ([`crate::pipeline::render_range`]).
    Video {
        /// First frame.
        start: u64,
        /// First frame after it.
        end: u64,
    },
    /// The whole timeline's audio mixed, mastered and encoded once
    /// ([`crate::pipeline::render_audio`]).
    Audio,
}

/// One unit of work of one render.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Unit {
    /// The render it belongs to.
    pub render: String,
    /// Its place among the render's units.
    pub index: usize,
    /// Store key of the plan (`plans/<sha256>.json`).
    pub plan: String,
    /// What to render.
    pub work: Work,
    /// Store key of the result, named by the content it shows (the scene or audio cache's
    /// key): a unit handed out twice writes the same object.
    pub out: String,
    /// x264's threads (they change its output: every worker uses the coordinator's number).
    pub threads: usize,
    /// Times it may be handed out before the render gives up on it.
    pub max_deliveries: u64,
}

impl Unit {
    /// `frames A..B` or `audio`, for messages.
    pub fn label(&self) -> String {
        self.work.label()
    }
}

impl Work {
    /// `frames A..B` or `audio`.
    pub fn label(&self) -> String {
        match self {
            Work::Video { start, end } => format!("frames {start}..{end}"),
            Work::Audio => "audio".into(),
        }
    }

    /// Frames it shows (0 for the audio).
    pub fn frames(&self) -> u64 {
        match self {
            Work::Video { start, end } => end - start,
            Work::Audio => 0,
        }
    }
}

/// What a worker says about a unit, on the render's event stream.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// The unit's index.
    pub unit: usize,
    /// The worker's name.
    pub worker: String,
    /// Which delivery of the unit this is (1: the first).
    pub delivery: u64,
    /// What happened.
    pub what: What,
}

/// What happened to a unit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum What {
    /// Frames done so far.
    Progress {
        /// Frames encoded.
        done: u64,
    },
    /// The result is in the store.
    Done {
        /// Wall seconds the worker spent.
        wall_s: f64,
        /// CPU seconds the worker spent.
        cpu_s: f64,
        /// The result was in the store already: nothing was rendered.
        cached: bool,
    },
    /// The unit cannot be rendered.
    Failed {
        /// The error, as a local render says it.
        message: String,
        /// The exit code a local render would end with.
        code: i32,
    },
}

/// The units of a plan: one per range ([`Plan::ranges`]: scene segments, cut into chunks
/// with [`crate::plan::PlanEncoding::chunk_frames`]) keyed like the scene cache, and the
/// audio, first (it is the longest single piece of work of a short video). The ranges
/// depend on the plan alone, never on the workers.
///
/// # Errors
/// [`crate::error::Error::Range`] for a plan not encoded in segments,
/// [`crate::error::Error::Input`] naming a file the plan reads that cannot be read now.
pub fn units(
    plan: &Plan,
    render: &str,
    plan_key: &str,
    threads: usize,
    max_deliveries: u64,
) -> Result<Vec<Unit>, FarmError> {
    use crate::error::Error;
    if !(plan.encoding.segments && plan.encoding.skip_repeats) {
        return Err(Error::Range(
            "a render farm renders a plan in segments: --no-segments and --no-skip-repeats \
             render only on one machine"
                .into(),
        )
        .into());
    }
    let cfg = EncoderConfig::for_plan(plan, threads);
    let spans = plan.spans();
    let segments = crate::cache::scenes::segments(plan, &spans, &plan.segment_starts(), Some(&cfg));
    let audio_key = crate::cache::audio::key(plan, plan.audio_bitrate_kbps as usize * 1000)
        .map_err(|e| Error::Internal(format!("the audio's key: {e}")))?;
    let mut out = vec![Unit {
        render: render.into(),
        index: 0,
        plan: plan_key.into(),
        work: Work::Audio,
        out: format!("audio/{audio_key}.aac"),
        threads,
        max_deliveries,
    }];
    for (i, seg) in segments.into_iter().enumerate() {
        let key = seg.key.ok_or_else(|| {
            Error::Range(format!(
                "frames {}..{} read a file that cannot be read now",
                seg.start, seg.end
            ))
        })?;
        out.push(Unit {
            render: render.into(),
            index: i + 1,
            plan: plan_key.into(),
            work: Work::Video {
                start: seg.start,
                end: seg.end,
            },
            out: format!("segments/{key}.seg"),
            threads,
            max_deliveries,
        });
    }
    Ok(out)
}

/// The frames of a video unit.
pub(super) fn frames(work: &Work) -> Option<Range<u64>> {
    match work {
        Work::Video { start, end } => Some(*start..*end),
        Work::Audio => None,
    }
}
