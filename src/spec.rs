//! The composition spec: the raw, user-facing JSON document (version 1).
//!
//! This module only describes the *shape* of the document (serde + JSON Schema). Values whose
//! syntax is richer than JSON (colours, lengths) stay strings here and are parsed, together with
//! every semantic check, by [`crate::timeline::resolve`], which reports all problems at once with
//! their JSON paths. No stage after `timeline` sees these types.
//!
//! Conventions used throughout:
//! - times and durations are seconds (`f64`);
//! - colours are `#RRGGBB` or `#RRGGBBAA` strings (also `#RGB`, `#RGBA` and a few names:
//!   `white`, `black`, `transparent`);
//! - lengths are a number of pixels (`120`), a pixel string (`"120px"`) or a percentage of the
//!   frame's width (horizontal values) or height (vertical values) (`"50%"`);
//! - relative asset paths are resolved against the spec file's folder.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A whole composition: output settings, the scenes in order, and the audio tracks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Composition {
    /// Spec format version. Only `1` exists. Default: 1.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Output video settings. Default: 1920x1080, 30 fps, `standard` quality.
    #[serde(default)]
    pub output: Output,
    /// Scenes, played one after the other. At least one.
    pub scenes: Vec<Scene>,
    /// Audio tracks mixed under the whole video. Default: none (a silent stereo track is still
    /// written, so players behave the same for every output).
    #[serde(default)]
    pub audio: Audio,
}

fn default_version() -> u32 {
    1
}

/// Output video settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// Frame width in pixels; must be even (yuv420p), at most 7680. Default: 1920.
    #[serde(default = "default_width")]
    pub width: u32,
    /// Frame height in pixels; must be even (yuv420p), at most 4320. Default: 1080.
    #[serde(default = "default_height")]
    pub height: u32,
    /// Frames per second, 1..=120. Integers, or the NTSC rates 23.976, 29.97 and 59.94
    /// (stored exactly as 24000/1001, 30000/1001, 60000/1001). Default: 30.
    #[serde(default = "default_fps")]
    pub fps: f64,
    /// Encoding quality preset. Default: `standard`.
    #[serde(default)]
    pub quality: Quality,
    /// AAC audio bitrate in kbit/s, 32..=512. Default: 128.
    #[serde(default = "default_audio_bitrate")]
    pub audio_bitrate: u32,
    /// Where to write the MP4. Relative paths are resolved against the current working
    /// directory. The command line's `-o` wins over this. Default:
    /// `<media root>/videos/<spec file name>.mp4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn default_width() -> u32 {
    1920
}
fn default_height() -> u32 {
    1080
}
fn default_fps() -> f64 {
    30.0
}
fn default_audio_bitrate() -> u32 {
    128
}

impl Default for Output {
    fn default() -> Self {
        Output {
            width: default_width(),
            height: default_height(),
            fps: default_fps(),
            quality: Quality::default(),
            audio_bitrate: default_audio_bitrate(),
            path: None,
        }
    }
}

/// Encoding quality. Each maps to a documented libx264 preset and CRF (constant rate factor;
/// lower is better quality and larger files). All produce H.264 High profile, yuv420p.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// x264 preset `veryfast`, CRF 23: drafts and the speed target.
    Fast,
    /// x264 preset `faster`, CRF 20: good for publishing slides and photos.
    #[default]
    Standard,
    /// x264 preset `slow`, CRF 18: archival / visually lossless.
    High,
}

impl Quality {
    /// The libx264 preset this quality uses.
    pub fn x264_preset(self) -> &'static str {
        match self {
            Quality::Fast => "veryfast",
            Quality::Standard => "faster",
            Quality::High => "slow",
        }
    }

    /// The libx264 CRF this quality uses.
    pub fn x264_crf(self) -> u32 {
        match self {
            Quality::Fast => 23,
            Quality::Standard => 20,
            Quality::High => 18,
        }
    }

    /// The spec keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Fast => "fast",
            Quality::Standard => "standard",
            Quality::High => "high",
        }
    }
}

/// One scene: a background and layers drawn over it, for `duration` seconds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Optional identifier, unique within the composition; used in reports and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Length in seconds (> 0), or `"auto"`: the scene lasts until its narration ends, plus
    /// `padding`. Scene boundaries are rounded to the nearest frame of the cumulative
    /// timeline, so the total length never drifts.
    pub duration: SceneDuration,
    /// With `"duration": "auto"`: seconds the scene goes on after its narration ends, 0..=60.
    /// Default: 1.
    #[serde(default = "default_padding")]
    pub padding: f64,
    /// What fills the frame behind the layers. Default: solid black.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Background>,
    /// Layers, drawn in order (later layers on top).
    #[serde(default)]
    pub layers: Vec<Layer>,
    /// The scene's voice-over. Its `start` is from the start of the scene; it drives the
    /// ducking of tracks with `duck`. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narration: Option<AudioTrack>,
}

/// A scene's length: seconds, or `"auto"` (from its narration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SceneDuration {
    /// Seconds.
    Seconds(f64),
    /// `"auto"`: the narration's start and length plus `padding`.
    Auto(AutoKeyword),
}

/// The keyword `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AutoKeyword {
    /// Derived from the narration.
    Auto,
}

fn default_padding() -> f64 {
    1.0
}

/// A scene background.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Background {
    /// One colour.
    Solid {
        /// Colour, e.g. `"#1E3A5F"`.
        color: String,
    },
    /// A linear gradient across the frame.
    LinearGradient {
        /// Direction in degrees, CSS style: 0 = bottom to top, 90 = left to right,
        /// 180 = top to bottom. Default: 180.
        #[serde(default = "default_angle")]
        angle: f64,
        /// Two or more colours, evenly spaced, first at the start.
        colors: Vec<String>,
    },
    /// A radial gradient from a centre outwards.
    RadialGradient {
        /// Centre x. Default: `"50%"`.
        #[serde(default = "half")]
        cx: Length,
        /// Centre y. Default: `"50%"`.
        #[serde(default = "half")]
        cy: Length,
        /// Radius at which the last colour is reached, as a horizontal length.
        /// Default: half the frame diagonal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        radius: Option<Length>,
        /// Two or more colours, evenly spaced from the centre outwards.
        colors: Vec<String>,
    },
    /// A picture (PNG or JPEG) scaled to the frame.
    Image {
        /// Image file.
        src: String,
        /// `cover` fills the frame and crops; `contain` shows the whole picture over `color`.
        /// Default: `cover`.
        #[serde(default)]
        fit: BackgroundFit,
        /// Colour behind a `contain`ed picture. Default: black.
        #[serde(default = "black")]
        color: String,
    },
}

fn default_angle() -> f64 {
    180.0
}
fn half() -> Length {
    Length::Str("50%".into())
}
fn black() -> String {
    "#000000".into()
}

/// How a background picture fills the frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundFit {
    /// Scale to fill the frame, cropping the overflow (centred).
    #[default]
    Cover,
    /// Scale to fit inside the frame, letterboxed.
    Contain,
}

/// A length: pixels (`120`, `"120px"`) or a percentage of the frame (`"50%"`: of the width for
/// horizontal values, of the height for vertical ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Length {
    /// Pixels.
    Px(f64),
    /// `"<number>px"` or `"<number>%"`.
    Str(String),
}

/// Which point of a layer's box is placed at its (`x`, `y`) position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Anchor {
    TopLeft,
    Top,
    TopRight,
    Left,
    #[default]
    Center,
    Right,
    BottomLeft,
    Bottom,
    BottomRight,
}

impl Anchor {
    /// The anchor as fractions of the box: (0,0) top-left … (1,1) bottom-right.
    pub fn fractions(self) -> (f64, f64) {
        match self {
            Anchor::TopLeft => (0.0, 0.0),
            Anchor::Top => (0.5, 0.0),
            Anchor::TopRight => (1.0, 0.0),
            Anchor::Left => (0.0, 0.5),
            Anchor::Center => (0.5, 0.5),
            Anchor::Right => (1.0, 0.5),
            Anchor::BottomLeft => (0.0, 1.0),
            Anchor::Bottom => (0.5, 1.0),
            Anchor::BottomRight => (1.0, 1.0),
        }
    }
}

/// Horizontal alignment of text lines within the text box.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum TextAlign {
    Left,
    #[default]
    Center,
    Right,
}

/// Font weight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum FontWeight {
    #[default]
    Normal,
    Bold,
}

/// How an image layer fills its box (`width` x `height`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageFit {
    /// Keep the aspect ratio, fit inside the box (the box shrinks to the picture).
    #[default]
    Contain,
    /// Keep the aspect ratio, fill the box and crop the overflow (centred).
    Cover,
    /// Fill the box exactly, distorting the aspect ratio.
    Stretch,
}

/// A layer drawn over the background.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    /// Text, shaped and wrapped.
    Text(TextLayer),
    /// A picture.
    Image(ImageLayer),
}

/// A text layer. Its box is as wide as its longest line (at most `max_width`) and as tall as
/// its lines; `x`/`y`/`anchor` place that box.
///
/// The placement and timing fields (`x` … `fade_out`) repeat in [`ImageLayer`] on purpose:
/// serde's `flatten` cannot be combined with `deny_unknown_fields`, and rejecting unknown
/// fields (a misspelt `fade_ot` must be an error, not a silent default) matters more.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextLayer {
    /// The text, at most 20000 characters. `\n` starts a new line. The laid-out block may
    /// be at most 16384 px on a side.
    pub text: String,
    /// Font family name, one of the bundled fonts (see `reelsmith fonts`). Default:
    /// `"DejaVu Sans"`.
    #[serde(default = "default_font")]
    pub font: String,
    /// Font size in pixels (em size), 1..=1000. Default: 48.
    #[serde(default = "default_font_size")]
    pub size: f64,
    /// Weight. Default: `normal`.
    #[serde(default)]
    pub weight: FontWeight,
    /// Italic (oblique) style. Default: false.
    #[serde(default)]
    pub italic: bool,
    /// Text colour. Default: `"#FFFFFF"`.
    #[serde(default = "white")]
    pub color: String,
    /// Alignment of lines within the box. Default: `center`.
    #[serde(default)]
    pub align: TextAlign,
    /// Wrap words onto new lines beyond this width. Default: 90% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// Distance between baselines as a multiple of `size`, 0.5..=4. Default: 1.25.
    #[serde(default = "default_line_height")]
    pub line_height: f64,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "half")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"50%"`.
    #[serde(default = "half")]
    pub y: Length,
    /// Which point of the box sits at (`x`, `y`). Default: `center`.
    #[serde(default)]
    pub anchor: Anchor,
    /// Opacity 0..=1. Default: 1.
    #[serde(default = "one")]
    pub opacity: f64,
    /// Appears this many seconds after the scene starts. Default: 0.
    #[serde(default)]
    pub start: f64,
    /// Disappears this many seconds after the scene starts. Default: the scene's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Fade-in length in seconds from `start`. Default: 0.
    #[serde(default)]
    pub fade_in: f64,
    /// Fade-out length in seconds before `end`. Default: 0.
    #[serde(default)]
    pub fade_out: f64,
}

fn default_font() -> String {
    "DejaVu Sans".into()
}
fn default_font_size() -> f64 {
    48.0
}
fn white() -> String {
    "#FFFFFF".into()
}
fn default_line_height() -> f64 {
    1.25
}
fn one() -> f64 {
    1.0
}

/// An image layer (PNG with transparency, or JPEG).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageLayer {
    /// Image file.
    pub src: String,
    /// Box width, at most four frame widths. If only one of `width`/`height` is given, the
    /// other follows the picture's aspect ratio. Default: the picture's own size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// Box height, at most four frame heights. Default: see `width`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Length>,
    /// How the picture fills a box given with both `width` and `height`. Default: `contain`.
    #[serde(default)]
    pub fit: ImageFit,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "half")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"50%"`.
    #[serde(default = "half")]
    pub y: Length,
    /// Which point of the box sits at (`x`, `y`). Default: `center`.
    #[serde(default)]
    pub anchor: Anchor,
    /// Opacity 0..=1. Default: 1.
    #[serde(default = "one")]
    pub opacity: f64,
    /// Appears this many seconds after the scene starts. Default: 0.
    #[serde(default)]
    pub start: f64,
    /// Disappears this many seconds after the scene starts. Default: the scene's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Fade-in length in seconds from `start`. Default: 0.
    #[serde(default)]
    pub fade_in: f64,
    /// Fade-out length in seconds before `end`. Default: 0.
    #[serde(default)]
    pub fade_out: f64,
}

/// Audio mixed under the video.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Audio {
    /// Tracks, summed. The mix is 48 kHz stereo; mono sources play on both channels.
    #[serde(default)]
    pub tracks: Vec<AudioTrack>,
    /// Normalise the final mix to `target_lufs` (EBU R128 integrated loudness). Default: true.
    #[serde(default = "yes")]
    pub normalize: bool,
    /// Target integrated loudness, LUFS, -40..=-5. Default: -16 (web and mobile; broadcast
    /// uses -23).
    #[serde(default = "default_target_lufs")]
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP, -9..=0: a look-ahead limiter keeps the audio under it (with
    /// 2 dB of room for inter-sample peaks and the AAC encoder), whether or not it is normalised. Default: -1.
    #[serde(default = "default_true_peak")]
    pub true_peak_db: f64,
}

impl Default for Audio {
    fn default() -> Self {
        Audio {
            tracks: Vec::new(),
            normalize: true,
            target_lufs: default_target_lufs(),
            true_peak_db: default_true_peak(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_target_lufs() -> f64 {
    -16.0
}
fn default_true_peak() -> f64 {
    -1.0
}

/// Shape of an audio fade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FadeCurve {
    /// Gain proportional to time.
    #[default]
    Linear,
    /// Equal power (sine): sounds even when fading one sound into another.
    EqualPower,
    /// Linear in decibels over 60 dB: sounds like a steady fade to the ear.
    Exponential,
}

impl FadeCurve {
    /// Gains (incoming, outgoing) at fraction `w` of a crossfade.
    pub fn crossfade(self, w: f32) -> (f32, f32) {
        (self.gain(w), self.gain(1.0 - w))
    }

    /// Gain at fraction `x` (0..=1) of the fade.
    pub fn gain(self, x: f32) -> f32 {
        let x = x.clamp(0.0, 1.0);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::EqualPower => (x * std::f32::consts::FRAC_PI_2).sin(),
            FadeCurve::Exponential if x == 0.0 => 0.0,
            FadeCurve::Exponential => 10f32.powf(3.0 * (x - 1.0)),
        }
    }
}

/// What an audio track is, for the mix: narration drives the ducking of tracks that ask for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudioRole {
    /// Background music (the default for `audio.tracks`).
    #[default]
    Music,
    /// Voice: while any narration plays, tracks with `duck` are lowered.
    Narration,
    /// Sound effects.
    Effect,
}

/// Lowering a track while narration plays, driven by the narration timeline (scene
/// narrations and tracks with `"role": "narration"`), not guessed from levels.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Duck {
    /// How far the track drops, in dB, 0..=60. Default: 12.
    #[serde(default = "default_duck_db")]
    pub by_db: f64,
    /// Seconds over which it drops; the drop ends as the narration starts. Default: 0.3.
    #[serde(default = "default_attack")]
    pub attack: f64,
    /// Seconds over which it recovers after the narration ends. Default: 0.6.
    #[serde(default = "default_release")]
    pub release: f64,
    /// What drives it: `narration` (the narration timeline) or `level` (the measured level
    /// of the other tracks that are neither music nor ducked: for voices that are not marked
    /// as narration). Default: `narration`.
    #[serde(default)]
    pub source: DuckSource,
    /// With `"source": "level"`: the level (dBFS RMS over 10 ms) above which the other tracks
    /// count as speaking, -80..=0. Default: -40.
    #[serde(default = "default_threshold")]
    pub threshold_db: f64,
}

/// What drives ducking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuckSource {
    /// The declared narration timeline (scene narrations, narration tracks).
    #[default]
    Narration,
    /// The measured level of the other non-music, non-ducked tracks (a sidechain).
    Level,
}

fn default_threshold() -> f64 {
    -40.0
}

fn default_duck_db() -> f64 {
    12.0
}
fn default_attack() -> f64 {
    0.3
}
fn default_release() -> f64 {
    0.6
}

/// One audio source placed on the timeline. In `audio.tracks` times are from the start of
/// the video; as a scene's `narration` they are from the start of that scene, so moving a
/// scene moves its voice.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioTrack {
    /// Audio file: WAV, MP3, AAC/M4A, FLAC, Ogg Vorbis/Opus or anything else libav decodes,
    /// any rate (resampled to 48 kHz) and channel count (mono plays in the centre; more than
    /// two channels are downmixed to stereo). Give either `src` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Words to speak instead of a file (at most 5000 characters): synthesised locally with
    /// espeak-ng and cached by content under `<media root>/assets/audio/tts/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// With `text`: the espeak-ng voice, e.g. `en-us`, `en-gb`, `de`, `en-us+f3`.
    /// Default: `en-us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// With `text`: speaking rate in words per minute, 80..=450. Default: 160.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// With `text`: pitch, 0..=99. Default: 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch: Option<u32>,
    /// When the track starts, in seconds (from the start of the video, or of the scene for a
    /// scene's narration). Default: 0.
    #[serde(default)]
    pub start: f64,
    /// Seconds to skip at the beginning of the file. Default: 0.
    #[serde(default)]
    pub trim: f64,
    /// What the track is. Default: `music` in `audio.tracks`; a scene's `narration` is always
    /// narration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AudioRole>,
    /// Lower this track while narration plays. Default: not ducked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duck: Option<Duck>,
    /// Stereo position, -1 (left) ..= 1 (right), constant-power. Default: 0.
    #[serde(default)]
    pub pan: f64,
    /// How long it plays, in seconds. Default: the file's length, or with `loop` until the end
    /// of the video. Everything is cut at the end of the video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Gain in dB, -60..=+24. Default: 0.
    #[serde(default)]
    pub volume_db: f64,
    /// Fade-in length in seconds. Default: 0.
    #[serde(default)]
    pub fade_in: f64,
    /// Fade-out length in seconds, ending where the track ends. Default: 0.
    #[serde(default)]
    pub fade_out: f64,
    /// Repeat the file to fill `duration` (or the rest of the video). Default: false.
    #[serde(default, rename = "loop")]
    pub looped: bool,
    /// With `loop`: seconds over which the end of the file crossfades (equal power) into
    /// its start at each repeat, for files that do not loop seamlessly, 0..=10 (at most half
    /// the file). Default: 0.
    #[serde(default)]
    pub loop_crossfade: f64,
    /// Shape of `fade_in` and `fade_out`. Default: `linear`.
    #[serde(default)]
    pub fade_curve: FadeCurve,
}

impl Composition {
    /// Parses a spec from JSON text. Structural errors (wrong types, unknown fields) carry the
    /// JSON path of the offending value.
    ///
    /// # Errors
    /// [`crate::error::SpecError`] with the path and serde's message.
    pub fn from_json(text: &str) -> Result<Composition, crate::error::SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            crate::error::SpecError::Parse {
                path: if path == "." { "$".into() } else { path },
                message: e.into_inner().to_string(),
            }
        })
    }

    /// The JSON Schema of the spec (draft 2020-12), as printed by `reelsmith schema`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Composition)).unwrap_or_default()
    }
}
