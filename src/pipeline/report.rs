//! The machine-readable render report (`--report FILE`, the service's job record).

use std::path::PathBuf;
use std::time::Instant;

/// The pipeline stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageId {
    /// Spec → plan.
    Validate,
    /// Decode pictures, rasterize text.
    Prepare,
    /// Load, resample and mix audio.
    Mix,
    /// Draw frames, convert to YUV.
    Compose,
    /// H.264 + AAC + MP4.
    Encode,
    /// Sync and rename into place.
    Finalize,
}

impl StageId {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StageId::Validate => "validate",
            StageId::Prepare => "prepare",
            StageId::Mix => "mix",
            StageId::Compose => "compose",
            StageId::Encode => "encode",
            StageId::Finalize => "finalize",
        }
    }
}

/// One stage's cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageReport {
    /// Which stage.
    pub stage: StageId,
    /// Seconds spent in the stage (busy time for the overlapping compose/encode stages).
    pub wall_s: f64,
    /// Items: frames for compose/encode, spans for validate, assets for prepare, samples for mix.
    pub frames: u64,
    /// Bytes produced (pixels held, PCM, YUV, compressed output).
    pub bytes: u64,
    /// What the numbers mean where it is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StageReport {
    pub(crate) fn new(stage: StageId, started: Instant, frames: u64, bytes: u64) -> StageReport {
        StageReport {
            stage,
            wall_s: started.elapsed().as_secs_f64(),
            frames,
            bytes,
            note: None,
        }
    }
}

/// Everything measured about one render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RenderReport {
    /// The output file.
    pub output: PathBuf,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Frame rate.
    pub fps: f64,
    /// Frames in the video.
    pub frames: u64,
    /// Video length, seconds.
    pub duration_s: f64,
    /// Distinct pictures composed (the rest are repeats of them).
    pub unique_frames: u64,
    /// Pictures x264 encoded; the other frames are exact all-skip copies (static spans).
    pub encoded_frames: u64,
    /// Frames written as a few intra-coded macroblocks over the last reference picture (a
    /// progress bar's step in a static span); neither encoded by x264 nor exact copies.
    #[serde(default)]
    pub patched_frames: u64,
    /// Segments the video was encoded in: 1, or one per scene with the scene cache or
    /// `segments` (see [`crate::cache::scenes`]).
    #[serde(default)]
    pub segments: u64,
    /// Of those, segments copied from the scene cache (neither composed nor encoded).
    #[serde(default)]
    pub segments_reused: u64,
    /// Frames in the segments copied from the scene cache.
    #[serde(default)]
    pub frames_reused: u64,
    /// Quality preset used.
    pub quality: String,
    /// Whole render, seconds.
    pub wall_s: f64,
    /// Seconds of video per second of rendering.
    pub realtime_factor: f64,
    /// Output size.
    pub output_bytes: u64,
    /// Peak resident memory of the process (Linux), bytes.
    pub peak_rss_bytes: Option<u64>,
    /// CPU seconds (user + system, all threads) the process spent during the render (Linux).
    pub cpu_s: Option<f64>,
    /// Loudness of the delivered audio: measured before and after normalisation.
    pub audio: crate::audio::master::LoudnessReport,
    /// The audio was the same as an earlier render's and was copied from the audio cache
    /// (nothing mixed, mastered or encoded; `audio` is that render's measurement).
    pub audio_cached: bool,
    /// Worker threads used for compose.
    pub threads: usize,
    /// Per stage.
    pub stages: Vec<StageReport>,
    /// Text layers shrunk or cut to fit their box.
    pub text_fits: Vec<crate::plan::TextFit>,
    /// Closed captions made from the narration (0 when no narration has words).
    #[serde(default)]
    pub captions: usize,
    /// The WebVTT file written beside the video (`output.captions.vtt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captions_file: Option<PathBuf>,
    /// The thumbnails and contact sheet written beside the video (`output.thumbnails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnails: Option<ThumbnailsReport>,
    /// For a render spread over render workers (`--broker`): its units of work, who
    /// rendered them and what they cost. `None` for a local render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub farm: Option<FarmReport>,
    /// With `output.renditions`: every file the render wrote, the main output first (the
    /// report's other fields are the main output's, its stages all renditions' together).
    /// Empty for a render of one output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<RenditionReport>,
}

/// One rendition of a render with `output.renditions`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RenditionReport {
    /// Its name (`main` for the main output).
    pub name: String,
    /// Its MP4.
    pub output: PathBuf,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Quality preset used.
    pub quality: String,
    /// Size of its MP4, bytes.
    pub output_bytes: u64,
    /// Pictures x264 encoded (the rest exact copies or patches).
    pub encoded_frames: u64,
    /// Segments copied from the scene cache.
    pub segments_reused: u64,
    /// Seconds composing and encoding it (its pictures composed ∥ encoded, its audio
    /// muxed), from its first picture to its file's trailer.
    pub encode_s: f64,
    /// Seconds of those the compose pool was busy.
    pub compose_busy_s: f64,
    /// Seconds of those x264 and the muxer were busy.
    pub encode_busy_s: f64,
}

/// What a render spread over render workers cost, unit by unit.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FarmReport {
    /// Units of work: the video's ranges and the audio.
    pub units: usize,
    /// Units whose result was already in the store (an earlier render, any machine, made
    /// the same pictures or audio): nothing was rendered for them.
    pub units_cached: usize,
    /// Units handed to another worker after the one holding them died or lost its lease.
    pub redeliveries: u64,
    /// The workers that rendered units, by name.
    pub workers: Vec<String>,
    /// Seconds from publishing the units to the last one done.
    pub wait_s: f64,
    /// Each unit.
    pub unit_reports: Vec<UnitReport>,
}

/// One unit of a render spread over render workers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UnitReport {
    /// What it shows: `frames A..B` or `audio`.
    pub label: String,
    /// Frames (0 for the audio).
    pub frames: u64,
    /// The worker that finished it (empty when it came from the store).
    pub worker: String,
    /// The worker's wall seconds for it.
    pub wall_s: f64,
    /// The worker's CPU seconds for it (all its threads).
    pub cpu_s: f64,
    /// How many times it was handed out (1: once).
    pub deliveries: u64,
    /// Already in the store.
    pub cached: bool,
    /// Size of its result (H.264 or AAC packets), bytes.
    pub bytes: u64,
}

impl RenderReport {
    /// A human-readable table of the stages.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<10} {:>9} {:>9} {:>12}\n",
            "stage", "seconds", "items", "bytes"
        );
        for st in &self.stages {
            s.push_str(&format!(
                "{:<10} {:>9.3} {:>9} {:>12}\n",
                st.stage.as_str(),
                st.wall_s,
                st.frames,
                st.bytes
            ));
        }
        let a = &self.audio;
        let lufs =
            |v: Option<f64>| v.map_or_else(|| "silent".to_string(), |v| format!("{v:.1} LUFS"));
        s.push_str(&format!(
            "audio      {} -> {} ({:+.1} dB), range {}, true peak {}, {} samples limited\n",
            lufs(a.input_lufs),
            lufs(a.output_lufs),
            a.gain_db,
            a.range_lu
                .map_or_else(|| "-".to_string(), |v| format!("{v:.1} LU")),
            a.true_peak_dbtp
                .map_or_else(|| "-".to_string(), |v| format!("{v:.1} dBTP")),
            a.limited_samples
        ));
        for f in &self.text_fits {
            s.push_str(&format!(
                "text fit   {}: {:.1} -> {:.1} px{}\n",
                f.path,
                f.size,
                f.fitted_size,
                f.kept_chars.map_or_else(String::new, |k| format!(
                    ", cut to {k} of {} characters",
                    f.chars
                ))
            ));
        }
        if self.captions > 0 {
            s.push_str(&format!(
                "captions   {} from the narration{}\n",
                self.captions,
                self.captions_file
                    .as_ref()
                    .map_or_else(String::new, |p| format!(", also in {}", p.display()))
            ));
        }
        if let Some(f) = &self.farm {
            s.push_str(&format!(
                "farm       {} units ({} already in the store), {:.1} CPU s on {} workers ({}), \
                 {} redelivered\n",
                f.units,
                f.units_cached,
                f.unit_reports.iter().map(|u| u.cpu_s).sum::<f64>(),
                f.workers.len(),
                f.workers.join(", "),
                f.redeliveries
            ));
        }
        for r in &self.renditions {
            s.push_str(&format!(
                "rendition  {:<10} {}x{} {:>8.3} s, {} encoded, {:.1} MB  {}\n",
                r.name,
                r.width,
                r.height,
                r.encode_s,
                r.encoded_frames,
                r.output_bytes as f64 / 1e6,
                r.output.display()
            ));
        }
        s.push_str(&format!(
            "total      {:>9.3}   {} frames ({} distinct), {:.1}x realtime, {:.1} MB out, peak RSS {}\n",
            self.wall_s,
            self.frames,
            self.unique_frames,
            self.realtime_factor,
            self.output_bytes as f64 / 1e6,
            self.peak_rss_bytes
                .map_or_else(|| "n/a".to_string(), |b| format!("{:.0} MB", b as f64 / 1e6))
        ));
        s
    }
}

/// Seconds of video per second of rendering (0 for no time).
pub(crate) fn realtime_factor(duration_s: f64, wall_s: f64) -> f64 {
    if wall_s > 0.0 {
        duration_s / wall_s
    } else {
        0.0
    }
}

/// CPU seconds this process spent since `start` (a [`process_cpu_s`] reading), Linux only.
pub(crate) fn cpu_since(start: Option<f64>) -> Option<f64> {
    process_cpu_s().zip(start).map(|(end, start)| end - start)
}

/// Peak resident set size of this process (VmHWM), Linux only.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time (user + system) this process has used so far, seconds (Linux; `None` elsewhere).
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command (which may hold spaces) start after its closing parenthesis:
    // state is the first, utime the 12th and stime the 13th; clock ticks are 100 per second.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// What was written: where, and which picture shows which scene.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThumbnailsReport {
    /// The folder (`<name>.thumbs` beside the video).
    pub dir: PathBuf,
    /// The contact sheet's file name in it, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Width and height of each thumbnail.
    pub width: u32,
    /// Height of each thumbnail.
    pub height: u32,
    /// The media type of every file (`image/jpeg`, `image/png`).
    pub media_type: &'static str,
    /// One per scene, in order.
    pub files: Vec<ThumbnailFile>,
    /// Seconds spent composing, scaling and writing them (part of stage "finalize"); absent
    /// when not measured here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_s: Option<f64>,
}

/// One scene's thumbnail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThumbnailFile {
    /// The scene's id.
    pub scene: String,
    /// The frame shown (of the whole video).
    pub frame: u64,
    /// That frame's time in the video, seconds.
    pub time_s: f64,
    /// File name in the folder.
    pub file: String,
}

impl ThumbnailsReport {
    /// What a render of `plan` to `output` writes, if it writes thumbnails.
    pub fn planned(plan: &crate::plan::Plan, output: &std::path::Path) -> Option<ThumbnailsReport> {
        let t = plan.thumbnails.as_ref()?;
        Some(ThumbnailsReport {
            dir: crate::plan::thumbnails::PlanThumbnails::dir(output),
            sheet: t.sheet_file(),
            width: t.width,
            height: t.height,
            media_type: t.format.media_type(),
            files: t
                .shots
                .iter()
                .map(|s| ThumbnailFile {
                    scene: plan
                        .scenes
                        .get(s.scene)
                        .map_or_else(String::new, |p| p.id.clone()),
                    frame: s.frame,
                    time_s: plan.fps.seconds(s.frame),
                    file: s.file.clone(),
                })
                .collect(),
            wall_s: None,
        })
    }
}
