//! The plan: a composition fully resolved, ready to render without the spec.
//!
//! Every default is applied, colours and lengths are parsed, times are frame (video) and
//! sample (audio) numbers, files are canonical paths, fonts are loaded. Nothing here reads a
//! file: the plan is plain data, made by [`crate::resolve`] and read by every stage after it,
//! which never see the raw spec. It also answers the questions about time that every stage
//! asks the same way: what each layer looks like at a frame ([`PlanLayer::state`]), which
//! frames show the same picture ([`Plan::spans`]), where segments begin
//! ([`Plan::segment_starts`]).

pub mod captions;
mod ranges;
mod renditions;

pub use renditions::PlanRendition;
pub mod thumbnails;

pub use ranges::{audio_chunks, Span, AAC_FRAME, MIN_SEGMENT_S};

use crate::spec::{
    Anchor, AudioRole, BackgroundFit, Easing, Effect, FontWeight, ImageFit, Quality, RevealUnit,
    TextAlign, TransitionKind, Viewport,
};
use std::path::PathBuf;

/// Largest frame width accepted.
pub const MAX_WIDTH: u32 = 7680;
/// Largest frame height accepted.
pub const MAX_HEIGHT: u32 = 4320;
/// Smallest frame side accepted.
pub const MIN_SIDE: u32 = 16;
/// Longest video accepted, in seconds (4 hours).
pub const MAX_DURATION_S: f64 = 4.0 * 3600.0;
/// Longest text of one layer, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The audio sample rate of every render.
pub const SAMPLE_RATE: u32 = 48_000;

/// An RGBA colour, straight (not premultiplied) alpha.
pub type Rgba = [u8; 4];

/// A frame rate as an exact fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fps {
    /// Numerator (frames).
    pub num: u32,
    /// Denominator (seconds).
    pub den: u32,
}

impl Fps {
    /// Frames per second as a float.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// The frame index nearest to `seconds`.
    pub fn frame_at(self, seconds: f64) -> u64 {
        (seconds * self.as_f64()).round().max(0.0) as u64
    }

    /// Start time of `frame` in seconds.
    pub fn seconds(self, frame: u64) -> f64 {
        frame as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// The audio sample index at which `frame` starts (at [`SAMPLE_RATE`]), exact.
    pub fn sample_at_frame(self, frame: u64) -> u64 {
        let num = u128::from(frame) * u128::from(SAMPLE_RATE) * u128::from(self.den);
        (num / u128::from(self.num)) as u64
    }
}

/// The fully resolved composition.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Frame rate.
    pub fps: Fps,
    /// Number of video frames.
    pub total_frames: u64,
    /// Number of audio samples per channel (at [`SAMPLE_RATE`]).
    pub total_samples: u64,
    /// Encoder quality.
    pub quality: Quality,
    /// AAC bitrate, kbit/s.
    pub audio_bitrate_kbps: u32,
    /// Scenes in order, back to back.
    pub scenes: Vec<PlanScene>,
    /// Audio tracks.
    pub tracks: Vec<PlanTrack>,
    /// Loudness normalisation and true-peak ceiling of the final mix.
    pub loudness: PlanLoudness,
    /// Text layers that were shrunk or cut to fit their box.
    pub text_fits: Vec<TextFit>,
    /// Fonts the spec brought besides the bundled ones.
    pub fonts: UserFonts,
    /// Closed captions of the narration.
    pub captions: PlanCaptions,
    /// MP4 chapters: a title from each scene's start (its transition's first frame) to the
    /// next one's, in order. Empty: none written.
    #[serde(default)]
    pub chapters: Vec<captions::Cue>,
    /// The chapters also go to a WebVTT file beside the video (`<name>.chapters.vtt`).
    #[serde(default)]
    pub chapters_vtt: bool,
    /// A still per scene and a contact sheet, written beside the video with it. `None`:
    /// none.
    #[serde(default)]
    pub thumbnails: Option<thumbnails::PlanThumbnails>,
    /// Encoder settings.
    pub encoding: PlanEncoding,
    /// Where the MP4 goes.
    pub output: PathBuf,
    /// SHA-256 (hex) of every file the plan reads ([`Plan::input_files`]), taken once when
    /// the plan was made. A file that could not be read then has none.
    pub inputs: std::collections::BTreeMap<PathBuf, String>,
    /// The further renditions (`output.renditions`): the same timeline, audio, captions and
    /// chapters as this plan (the main rendition), pictures at other sizes
    /// ([`Plan::rendition_plans`]). Empty: one output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<PlanRendition>,
}

/// Fonts a spec brings (its `fonts` entries). The plan names them by path and content hash;
/// their bytes are loaded once (by the resolver, or by [`crate::resolve::fonts::load_plan`]
/// for a plan read back from JSON) and shared by every text engine, never serialised.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct UserFonts {
    /// The font files.
    pub files: Vec<FontFile>,
}

/// One font file a spec brings.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct FontFile {
    /// Absolute path.
    pub path: PathBuf,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its bytes, once loaded (`None` in a plan read back until it is loaded).
    #[serde(skip)]
    pub bytes: Option<std::sync::Arc<Vec<u8>>>,
}

impl UserFonts {
    /// Whether every font's bytes are loaded.
    pub fn loaded(&self) -> bool {
        self.files.iter().all(|f| f.bytes.is_some())
    }
}

impl std::fmt::Debug for UserFonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.files.iter().map(|f| &f.path))
            .finish()
    }
}

/// How the video and audio are encoded: everything the encoder needs besides the frame
/// size, rate, quality and audio bitrate (which the plan holds beside it), so that any
/// range of the plan is encoded the same way by whichever process renders it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanEncoding {
    /// Write repeated pictures as all-skip P pictures. Default: true.
    pub skip_repeats: bool,
    /// Write small changes over the last reference as patches (needs `skip_repeats`).
    /// Default: true.
    pub patches: bool,
    /// Encode losslessly (x264 QP 0). Default: false.
    pub lossless: bool,
    /// Extra libx264 settings, `key=value:key=value`. Default: none.
    pub x264_params: Option<String>,
    /// Encode in segments, one per [`Plan::segment_starts`] (needs `skip_repeats`: false
    /// when it is off). Default: true.
    pub segments: bool,
    /// While splicing, the most frames x264 is told a picture lasts (see
    /// `encode::HOLD_FRAMES`, ≥ 1). Default: 1.
    pub hold_frames: u64,
    /// Long segments are cut into chunks of this many frames, counted from the segment's
    /// first frame (0: not cut), so that one long scene can be rendered by many processes.
    /// The cuts depend on the plan alone, never on how many processes render it. Default: 0.
    #[serde(default)]
    pub chunk_frames: u64,
    /// The AAC stream is encoded in chunks of this many samples (a multiple of the AAC
    /// frame, 1024; 0: in one piece), each by an encoder of its own that starts a little
    /// before the chunk and ends a little after it, keeping only the chunk's packets
    /// ([`Plan::audio_chunks`]), so that the audio too can be encoded by many processes and
    /// joined without a seam. Default: 0.
    #[serde(default)]
    pub audio_chunk_samples: u64,
}

impl Default for PlanEncoding {
    fn default() -> Self {
        PlanEncoding {
            skip_repeats: true,
            patches: true,
            lossless: false,
            x264_params: None,
            segments: true,
            hold_frames: 1,
            chunk_frames: 0,
            audio_chunk_samples: 0,
        }
    }
}

/// Resolved closed captions: the captions in time order (never overlapping) and where they
/// go.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanCaptions {
    /// The captions, ms from the start of the video, in order, none overlapping the next.
    pub cues: Vec<crate::plan::captions::Cue>,
    /// As a subtitle track in the MP4.
    pub embed: bool,
    /// As WebVTT beside the MP4.
    pub vtt: bool,
    /// ISO 639-2 language code.
    pub language: String,
}

/// A text layer whose size or text was changed to make it fit its box.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TextFit {
    /// Spec path of the layer.
    pub path: String,
    /// Size asked for, pixels.
    pub size: f64,
    /// Size used, pixels.
    pub fitted_size: f64,
    /// Characters kept of the text, when it was cut (`None`: not cut).
    pub kept_chars: Option<usize>,
    /// Characters in the text asked for.
    pub chars: usize,
}

/// Mastering settings of the final mix.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanLoudness {
    /// Normalise to `target_lufs`.
    pub normalize: bool,
    /// Target integrated loudness, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_db: f64,
}

/// A resolved scene.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanScene {
    /// The scene's id (its index when the spec gives none).
    pub id: String,
    /// Spec path, `scenes[i]`.
    pub path: String,
    /// First frame, global.
    pub start_frame: u64,
    /// Number of frames.
    pub frames: u64,
    /// Background.
    pub background: PlanBackground,
    /// Layers, bottom to top.
    pub layers: Vec<PlanLayer>,
    /// The transition from the previous scene, over this scene's first frames (which overlap
    /// the previous scene's last ones).
    pub transition: Option<PlanTransition>,
}

impl PlanScene {
    /// The files the scene reads pictures from (its background's and its layers').
    pub fn input_files(&self) -> Vec<&std::path::Path> {
        let mut out: Vec<&std::path::Path> = Vec::new();
        match &self.background {
            PlanBackground::Image { src, .. } => out.push(src.as_path()),
            PlanBackground::Video(c) => out.push(c.src.as_path()),
            _ => {}
        }
        for l in &self.layers {
            match &l.kind {
                PlanLayerKind::Image(i) => out.push(i.src.as_path()),
                PlanLayerKind::Video(c) => out.push(c.src.as_path()),
                _ => {}
            }
        }
        out
    }
}

/// A resolved transition.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanTransition {
    /// Kind.
    pub kind: TransitionKind,
    /// Overlap in frames (≥ 1).
    pub frames: u64,
    /// Easing of the progress.
    pub easing: Easing,
    /// `fade`: the colour.
    pub color: Rgba,
}

impl PlanTransition {
    /// Eased progress at transition frame `i` (0-based), strictly between 0 and 1.
    pub fn progress(&self, i: u64) -> f64 {
        self.easing.apply((i + 1) as f64 / (self.frames + 1) as f64)
    }
}

/// A resolved Ken Burns move. Frames are relative to the scene.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanMotion {
    /// Viewport at `start`.
    pub from: Viewport,
    /// Viewport at `start + frames`.
    pub to: Viewport,
    /// Easing.
    pub easing: Easing,
    /// First frame of the move.
    pub start: u64,
    /// Length of the move in frames (≥ 1).
    pub frames: u64,
}

impl PlanMotion {
    /// The viewport at scene-relative `frame` (held before and after the move).
    pub fn viewport(&self, frame: u64) -> Viewport {
        let t = (frame.saturating_sub(self.start) as f64 / self.frames as f64).clamp(0.0, 1.0);
        let e = self.easing.apply(t);
        let lerp = |a: f64, b: f64| a + (b - a) * e;
        Viewport {
            zoom: lerp(self.from.zoom, self.to.zoom),
            x: lerp(self.from.x, self.to.x),
            y: lerp(self.from.y, self.to.y),
        }
    }

    /// The largest zoom of the move.
    pub fn max_zoom(&self) -> f64 {
        self.from.zoom.max(self.to.zoom)
    }

    /// The frame index within the move that `frame` shows (for change detection).
    pub fn step(&self, frame: u64) -> u64 {
        frame.saturating_sub(self.start).min(self.frames)
    }
}

/// A resolved background.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum PlanBackground {
    /// One colour (opaque).
    Solid(Rgba),
    /// Linear gradient, angle in degrees (CSS convention).
    Linear {
        /// Degrees.
        angle: f64,
        /// Evenly spaced colours.
        colors: Vec<Rgba>,
    },
    /// Radial gradient; pixel units.
    Radial {
        /// Centre x.
        cx: f64,
        /// Centre y.
        cy: f64,
        /// Radius of the last colour.
        radius: f64,
        /// Evenly spaced colours.
        colors: Vec<Rgba>,
    },
    /// A picture.
    Image {
        /// Absolute path.
        src: PathBuf,
        /// Fit mode.
        fit: BackgroundFit,
        /// Colour behind `contain`.
        color: Rgba,
        /// Ken Burns move over the scene.
        motion: Option<PlanMotion>,
    },
    /// A video clip covering the frame (delivered at a size that covers it; centred).
    Video(PlanClip),
}

/// A resolved layer. Frame numbers are relative to the scene's first frame.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanLayer {
    /// Spec path, `scenes[i].layers[j]`.
    pub path: String,
    /// First visible frame.
    pub start: u64,
    /// First frame no longer visible.
    pub end: u64,
    /// Fade-in length in frames.
    pub fade_in: u64,
    /// Fade-out length in frames.
    pub fade_out: u64,
    /// Base opacity.
    pub opacity: f32,
    /// Anchor point x, pixels.
    pub x: f64,
    /// Anchor point y, pixels.
    pub y: f64,
    /// Which point of the box is at (x, y).
    pub anchor: Anchor,
    /// What to draw.
    pub kind: PlanLayerKind,
    /// The point a `scale` animation scales around (the block's anchor point for the
    /// parts of a slide block), pixels.
    pub pivot: (f64, f64),
    /// Entrance animation.
    pub anim_in: Option<PlanAnim>,
    /// Exit animation.
    pub anim_out: Option<PlanAnim>,
}

/// A resolved animation. Progress `e` (0..=1, eased) goes from 0 at the first frame of an
/// entrance to 1 at its end; an exit runs the same from its end backwards.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanAnim {
    /// The effect.
    pub effect: Effect,
    /// Length in frames (≥ 1).
    pub frames: u64,
    /// Easing, applied to time as it runs (for exits: from the start of the exit).
    pub easing: Easing,
    /// `slide`: offset in pixels at progress 0.
    pub offset: (f64, f64),
    /// `scale`: scale at progress 0.
    pub scale: f64,
    /// `slide`/`scale`: fade too. Always true for `fade`.
    pub fade: bool,
    /// `typewriter`: units in the text (characters or words).
    pub units: u32,
}

impl PlanAnim {
    fn apply(&self, e: f64, st: &mut LayerState) {
        let e = e.clamp(0.0, 1.0);
        match self.effect {
            Effect::Fade => st.alpha *= e as f32,
            Effect::Slide => {
                st.dx += (1.0 - e) * self.offset.0;
                st.dy += (1.0 - e) * self.offset.1;
                if self.fade {
                    st.alpha *= e as f32;
                }
            }
            Effect::Scale => {
                st.scale *= self.scale + (1.0 - self.scale) * e;
                if self.fade {
                    st.alpha *= e as f32;
                }
            }
            Effect::Typewriter => {
                let shown = (e * f64::from(self.units)).round() as u32;
                st.reveal = Some(st.reveal.map_or(shown, |r| r.min(shown)));
            }
        }
    }
}

/// How a layer looks at one frame, relative to its resting state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerState {
    /// Opacity (0 = not drawn).
    pub alpha: f32,
    /// Offset, pixels (whole pixels once returned by [`PlanLayer::state`]).
    pub dx: f64,
    /// Offset, pixels.
    pub dy: f64,
    /// Scale around the anchor point.
    pub scale: f64,
    /// Typewriter: units shown (`None`: all).
    pub reveal: Option<u32>,
    /// Ken Burns: the step of the move shown.
    pub motion: Option<u64>,
    /// Progress bar: filled pixels.
    pub progress: Option<u32>,
}

impl LayerState {
    /// Not drawn.
    pub const HIDDEN: LayerState = LayerState {
        alpha: 0.0,
        dx: 0.0,
        dy: 0.0,
        scale: 1.0,
        reveal: None,
        motion: None,
        progress: None,
    };
}

/// What a layer draws.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum PlanLayerKind {
    /// Text.
    Text(PlanText),
    /// A picture.
    Image(PlanImage),
    /// A rectangle.
    Shape(PlanShape),
    /// A progress bar.
    Progress(PlanProgress),
    /// A video clip.
    Video(PlanClip),
}

/// A resolved video clip: its file, the size its pictures are delivered at, and how it plays.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanClip {
    /// Spec path of the layer or background (for errors while composing).
    pub path: String,
    /// Absolute path.
    pub src: PathBuf,
    /// Picture width delivered by the reader.
    pub width: u32,
    /// Picture height delivered by the reader.
    pub height: u32,
    /// Seconds skipped at the start.
    pub trim_start: f64,
    /// Where playing stops, seconds into the file.
    pub trim_end: Option<f64>,
    /// Speed.
    pub rate: f64,
    /// Loop.
    pub looped: bool,
    /// Scene-relative frame showing the clip's first picture.
    pub start: u64,
    /// Frames it is shown for.
    pub frames: u64,
}

/// A resolved progress bar.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanProgress {
    /// Width, pixels.
    pub width: f64,
    /// Height, pixels.
    pub height: f64,
    /// Fill colour.
    pub fill: Rgba,
    /// Track colour.
    pub track: Rgba,
    /// Corner radius.
    pub radius: f64,
    /// Frames elapsed before the scene's first frame (0 for scene scope).
    pub offset: u64,
    /// Frames the bar spans (the video's or the scene's).
    pub total: u64,
}

impl PlanProgress {
    /// Filled width in whole pixels at scene-relative `frame`: 0 on the first frame of its
    /// scope, the full width on the last.
    pub fn filled(&self, frame: u64) -> u32 {
        let done = (self.offset + frame) as f64 / (self.total.max(2) - 1) as f64;
        (done.clamp(0.0, 1.0) * self.width).round() as u32
    }
}

/// A resolved rectangle.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanShape {
    /// Width, pixels.
    pub width: f64,
    /// Height, pixels.
    pub height: f64,
    /// Fill.
    pub fill: Rgba,
    /// Corner radius, pixels.
    pub radius: f64,
    /// Border colour and width.
    pub border: Option<(Rgba, f64)>,
}

/// A resolved line (outline or border).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanStroke {
    /// Colour.
    pub color: Rgba,
    /// Width, pixels.
    pub width: f32,
}

/// A resolved drop shadow.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanShadow {
    /// Colour.
    pub color: Rgba,
    /// Offset, pixels.
    pub x: f32,
    /// Offset, pixels.
    pub y: f32,
    /// Blur radius, pixels.
    pub blur: f32,
}

/// A resolved text layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanText {
    /// The text.
    pub text: String,
    /// Font family (as bundled).
    pub family: String,
    /// Em size in pixels.
    pub size: f32,
    /// Weight.
    pub weight: FontWeight,
    /// Italic.
    pub italic: bool,
    /// Colour.
    pub color: Rgba,
    /// Line alignment.
    pub align: TextAlign,
    /// Wrap width in pixels.
    pub max_width: f32,
    /// Baseline distance in pixels.
    pub line_height: f32,
    /// Break words longer than a line (true) or let them overflow (false, so that fitting
    /// can notice and shrink them).
    pub break_words: bool,
    /// Box fill behind the text.
    pub background: Option<Rgba>,
    /// Padding `[vertical, horizontal]`, pixels.
    pub padding: [f32; 2],
    /// Corner radius of the box.
    pub radius: f32,
    /// Box border.
    pub border: Option<PlanStroke>,
    /// Glyph outline.
    pub outline: Option<PlanStroke>,
    /// Drop shadow.
    pub shadow: Option<PlanShadow>,
    /// Smallest box width (text is placed per `align` inside it), pixels.
    pub min_box_width: f32,
    /// Typewriter unit, when the layer types itself in or out.
    pub reveal: Option<RevealUnit>,
}

impl PlanText {
    /// Plain text with default styling (no box, no effects).
    pub fn plain(text: &str, family: &str, size: f32, color: Rgba, max_width: f32) -> PlanText {
        PlanText {
            text: text.into(),
            family: family.into(),
            size,
            weight: FontWeight::Normal,
            italic: false,
            color,
            align: TextAlign::Left,
            max_width,
            line_height: size * 1.25,
            break_words: true,
            background: None,
            padding: [0.0, 0.0],
            radius: 0.0,
            border: None,
            outline: None,
            shadow: None,
            min_box_width: 0.0,
            reveal: None,
        }
    }
}

/// A resolved image layer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanImage {
    /// Absolute path.
    pub src: PathBuf,
    /// Box width in pixels, if given.
    pub width: Option<f64>,
    /// Box height in pixels, if given.
    pub height: Option<f64>,
    /// Fit mode.
    pub fit: ImageFit,
    /// Ken Burns move inside the box.
    pub motion: Option<PlanMotion>,
}

/// Resolved ducking: sample counts at [`SAMPLE_RATE`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanDuck {
    /// Drop in dB (positive).
    pub by_db: f32,
    /// Ramp down, samples, ending at the narration's start.
    pub attack: u64,
    /// Ramp up, samples, starting at the narration's end.
    pub release: u64,
    /// Driven by the narration timeline or by measured levels.
    pub source: crate::spec::DuckSource,
    /// Level threshold (linear RMS) for `source: level`.
    pub threshold: f32,
}

/// A resolved audio track. Sample numbers are at [`SAMPLE_RATE`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanTrack {
    /// Spec path, `audio.tracks[i]` or `scenes[i].narration`.
    pub path: String,
    /// Absolute path of the audio file.
    pub src: PathBuf,
    /// First sample on the timeline.
    pub start: u64,
    /// Samples skipped at the start of the source.
    pub trim: u64,
    /// Music, narration or effect.
    pub role: AudioRole,
    /// Ducking while narration plays.
    pub duck: Option<PlanDuck>,
    /// Gains of the left and right channel (constant-power pan).
    pub pan: [f32; 2],
    /// Samples to play; `None` = the file's length (or to the end of the video when looped).
    pub duration: Option<u64>,
    /// Linear gain.
    pub gain: f32,
    /// Fade-in samples.
    pub fade_in: u64,
    /// Fade-out samples.
    pub fade_out: u64,
    /// Repeat the file.
    pub looped: bool,
    /// Crossfade at each repeat, samples.
    pub loop_crossfade: u64,
    /// Shape of the fades.
    pub fade_curve: crate::spec::FadeCurve,
    /// A hard end on the timeline (sample) with a fade of this many samples before it, if the
    /// track is still sounding then: a scene's narration ends with its scene, crossfading
    /// over the transition into the next.
    pub cut: Option<(u64, u64)>,
}

impl PlanLayer {
    /// The layer's opacity at scene-relative `frame`: 0 outside [start, end), ramps during the
    /// fades and fading animations (never exactly 0 on a visible frame unless an animation
    /// makes it so, never above `opacity`).
    pub fn alpha(&self, frame: u64) -> f32 {
        self.state(frame).alpha
    }

    /// How the layer looks at scene-relative `frame`: opacity, offset (whole pixels), scale
    /// and how much of a typewriter text shows.
    pub fn state(&self, frame: u64) -> LayerState {
        if frame < self.start || frame >= self.end {
            return LayerState::HIDDEN;
        }
        let mut a = 1.0f32;
        let since = frame - self.start;
        if since < self.fade_in {
            a = a.min((since + 1) as f32 / (self.fade_in + 1) as f32);
        }
        let until = self.end - frame; // >= 1
        if until <= self.fade_out {
            a = a.min(until as f32 / (self.fade_out + 1) as f32);
        }
        let mut st = LayerState {
            alpha: a * self.opacity,
            ..LayerState::HIDDEN
        };
        if let Some(an) = &self.anim_in {
            if since < an.frames {
                let t = (since + 1) as f64 / (an.frames + 1) as f64;
                an.apply(an.easing.apply(t), &mut st);
            }
        }
        if let Some(an) = &self.anim_out {
            if until <= an.frames {
                // Time since the exit began, as a fraction.
                let t = 1.0 - until as f64 / (an.frames + 1) as f64;
                an.apply(1.0 - an.easing.apply(t), &mut st);
            }
        }
        if st.alpha <= 0.0 {
            return LayerState::HIDDEN;
        }
        st.dx = st.dx.round();
        st.dy = st.dy.round();
        // Quantise the scale so that frames that would look the same compare equal.
        st.scale = (st.scale * 4096.0).round() / 4096.0;
        let units = self
            .anim_in
            .iter()
            .chain(&self.anim_out)
            .find_map(|a| (a.effect == Effect::Typewriter).then_some(a.units));
        if st.reveal.is_some() && st.reveal >= units {
            st.reveal = None;
        }
        match &self.kind {
            PlanLayerKind::Image(PlanImage {
                motion: Some(m), ..
            }) => st.motion = Some(m.step(frame)),
            PlanLayerKind::Progress(p) => st.progress = Some(p.filled(frame)),
            PlanLayerKind::Video(c) => st.motion = Some(frame.saturating_sub(c.start)),
            _ => {}
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntsc_sample_positions_are_exact() {
        let fps = Fps {
            num: 30000,
            den: 1001,
        };
        // 30000 frames at 29.97 fps = 1001 s exactly.
        assert_eq!(fps.sample_at_frame(30000), 1001 * 48_000);
        assert_eq!(Fps { num: 30, den: 1 }.sample_at_frame(30), 48_000);
    }

    #[test]
    fn fades_ramp_and_stay_in_range() {
        let l = PlanLayer {
            path: String::new(),
            start: 10,
            end: 20,
            fade_in: 4,
            fade_out: 4,
            opacity: 1.0,
            x: 0.0,
            y: 0.0,
            anchor: Anchor::Center,
            kind: PlanLayerKind::Image(PlanImage {
                src: PathBuf::new(),
                width: None,
                height: None,
                fit: ImageFit::Contain,
                motion: None,
            }),
            pivot: (0.0, 0.0),
            anim_in: None,
            anim_out: None,
        };
        assert_eq!(l.alpha(9), 0.0);
        assert!(l.alpha(10) > 0.0 && l.alpha(10) < l.alpha(11));
        assert_eq!(l.alpha(14), 1.0);
        assert_eq!(l.alpha(15), 1.0);
        assert!(l.alpha(19) > 0.0 && l.alpha(19) < l.alpha(18));
        assert_eq!(l.alpha(20), 0.0);
    }

    fn anim(effect: Effect, easing: Easing) -> PlanAnim {
        PlanAnim {
            effect,
            frames: 9,
            easing,
            offset: (-100.0, 0.0),
            scale: 0.5,
            fade: false,
            units: 20,
        }
    }

    fn animated(anim_in: Option<PlanAnim>, anim_out: Option<PlanAnim>) -> PlanLayer {
        PlanLayer {
            path: String::new(),
            start: 0,
            end: 30,
            fade_in: 0,
            fade_out: 0,
            opacity: 1.0,
            x: 0.0,
            y: 0.0,
            anchor: Anchor::Center,
            kind: PlanLayerKind::Text(PlanText::plain("x", "Noto Sans", 10.0, [0; 4], 100.0)),
            pivot: (0.0, 0.0),
            anim_in,
            anim_out,
        }
    }

    #[test]
    fn entrances_reach_rest_and_exits_leave_it_monotonically() {
        for easing in [Easing::Linear, Easing::EaseOut, Easing::CubicInOut] {
            let l = animated(
                Some(anim(Effect::Slide, easing)),
                Some(PlanAnim {
                    offset: (100.0, 0.0),
                    ..anim(Effect::Slide, easing)
                }),
            );
            let dx: Vec<f64> = (0..30).map(|f| l.state(f).dx).collect();
            assert!(dx[0] < -50.0, "{dx:?}");
            assert!(dx.windows(2).take(9).all(|w| w[1] >= w[0]), "{dx:?}");
            assert!(dx[9..21].iter().all(|&d| d == 0.0), "{dx:?}");
            assert!(dx[29] > 50.0, "{dx:?}");
            assert!(dx.windows(2).skip(20).all(|w| w[1] >= w[0]), "{dx:?}");
        }
        // Midpoint of a linear entrance: half way (frame 4 of 9 is t = 5/10).
        let l = animated(Some(anim(Effect::Scale, Easing::Linear)), None);
        assert!((l.state(4).scale - 0.75).abs() < 1e-3, "{:?}", l.state(4));
        assert_eq!(l.state(9).scale, 1.0);
    }

    #[test]
    fn typewriter_reveals_units_then_settles() {
        let l = animated(Some(anim(Effect::Typewriter, Easing::Linear)), None);
        let shown: Vec<Option<u32>> = (0..12).map(|f| l.state(f).reveal).collect();
        assert_eq!(shown[0], Some(2));
        assert_eq!(shown[4], Some(10));
        assert_eq!(shown[9], None);
        assert!(shown[..9].windows(2).all(|w| w[1] >= w[0]));
        // Identical frames after the reveal form one span.
        assert_eq!(l.state(10), l.state(20));
    }
}
