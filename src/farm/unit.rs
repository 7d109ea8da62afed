//! Units of work: what a coordinator publishes and a worker renders, and what workers say
//! back. Both travel through the broker as JSON.

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
    /// ([`crate::pipeline::render_audio`]): a plan whose audio is encoded in one piece.
    Audio,
    /// The whole timeline's audio mixed and mastered once ([`crate::pipeline::render_pcm`])
    /// into the samples `<out>.f32` and their loudness, `out` (JSON, written last): for the
    /// [`Work::AudioChunk`]s of a plan whose audio is encoded in chunks.
    Pcm,
    /// Chunk `index` of [`Plan::audio_chunks`] encoded from the mastered samples of the
    /// [`Work::Pcm`] whose result is `pcm` ([`crate::pipeline::render_audio_chunk`]).
    AudioChunk {
        /// Which chunk.
        index: usize,
        /// Store key of the mastered audio's loudness (its samples beside it, `.f32`).
        pcm: String,
    },
}

/// The loudness and length of mastered audio in the store (`pcm/<key>.json`, beside the
/// samples in `pcm/<key>.f32`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PcmInfo {
    /// Samples per channel.
    pub samples: u64,
    /// The delivered audio's loudness.
    pub loudness: crate::audio::master::LoudnessReport,
}

/// Store key of the samples of the mastered audio whose loudness is at `info_key`.
pub fn pcm_samples_key(info_key: &str) -> String {
    format!("{}.f32", info_key.strip_suffix(".json").unwrap_or(info_key))
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
    /// The unit whose result it reads (published once that one is done).
    #[serde(default)]
    pub after: Option<usize>,
}

impl Unit {
    /// `frames A..B` or `audio`, for messages.
    pub fn label(&self) -> String {
        self.work.label()
    }
}

impl Work {
    /// `frames A..B`, `audio`, `audio mastering` or `audio chunk N`.
    pub fn label(&self) -> String {
        match self {
            Work::Video { start, end } => format!("frames {start}..{end}"),
            Work::Audio => "audio".into(),
            Work::Pcm => "audio mastering".into(),
            Work::AudioChunk { index, .. } => format!("audio chunk {index}"),
        }
    }

    /// Frames it shows (0 for the audio).
    pub fn frames(&self) -> u64 {
        match self {
            Work::Video { start, end } => end - start,
            Work::Audio | Work::Pcm | Work::AudioChunk { .. } => 0,
        }
    }

    /// Its result is (a piece of) the encoded audio stream.
    pub fn is_encoded_audio(&self) -> bool {
        matches!(self, Work::Audio | Work::AudioChunk { .. })
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
/// audio, first (it is the longest single piece of work of a short video). A plan whose
/// audio is encoded in chunks ([`crate::plan::PlanEncoding::audio_chunk_samples`]) has the
/// mastering first and a unit per audio chunk last, each after the mastering. The ranges
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
    let unit = |index: usize, work: Work, out: String, after: Option<usize>| Unit {
        render: render.into(),
        index,
        plan: plan_key.into(),
        work,
        out,
        threads,
        max_deliveries,
        after,
    };
    let chunks = plan.audio_chunks();
    let chunked = plan.encoding.audio_chunk_samples > 0;
    let pcm = format!("pcm/{audio_key}.json");
    let mut out = vec![if chunked {
        unit(0, Work::Pcm, pcm.clone(), None)
    } else {
        unit(0, Work::Audio, format!("audio/{audio_key}.aac"), None)
    }];
    for (i, seg) in segments.into_iter().enumerate() {
        let key = seg.key.ok_or_else(|| {
            Error::Range(format!(
                "frames {}..{} read a file that cannot be read now",
                seg.start, seg.end
            ))
        })?;
        out.push(unit(
            i + 1,
            Work::Video {
                start: seg.start,
                end: seg.end,
            },
            format!("segments/{key}.seg"),
            None,
        ));
    }
    if chunked {
        for (index, range) in chunks.iter().enumerate() {
            let key = crate::base::hash::sha256_hex(
                format!("{audio_key} chunk {}..{}", range.start, range.end).as_bytes(),
            );
            let work = Work::AudioChunk {
                index,
                pcm: pcm.clone(),
            };
            out.push(unit(out.len(), work, format!("audio/{key}.aac"), Some(0)));
        }
    }
    Ok(out)
}
