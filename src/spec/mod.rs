//! The composition spec: the raw, user-facing JSON document (version 1).
//!
//! This module only describes the *shape* of the document (serde + JSON Schema). Values whose
//! syntax is richer than JSON (colours, lengths) stay strings here and are parsed, together with
//! every semantic check, by [`crate::resolve::resolve`], which reports all problems at once with
//! their JSON paths. No stage after `resolve` sees these types.
//!
//! Conventions used throughout:
//! - times and durations are seconds (`f64`);
//! - colours are `#RRGGBB` or `#RRGGBBAA` strings (also `#RGB`, `#RGBA` and a few names:
//!   `white`, `black`, `transparent`);
//! - lengths are a number of pixels (`120`), a pixel string (`"120px"`) or a percentage of the
//!   frame's width (horizontal values) or height (vertical values) (`"50%"`);
//! - relative asset paths are looked up beside the spec file, then under the media root
//!   (`stock/…`); in the service, under its storage root only (see [`crate::resolve::files`]).

mod audio;
pub mod doc;
pub mod error;
mod files;
mod layers;
mod renditions;
mod style;
pub mod template;
mod thumbnails;

pub use audio::*;
pub use error::{SpecError, SpecIssue};
pub use files::{FileKind, FileRef};
pub use layers::*;
pub use renditions::{pointer_to_path, Override, Rendition, MAX_RENDITIONS};
pub use style::*;
pub use template::{Values, Variable, VariableType};
pub use thumbnails::{ThumbnailFormat, Thumbnails};

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
    /// Extra fonts: font files (`.ttf`, `.otf`, `.ttc`) or folders of them, found like every
    /// asset path (beside the spec, then under the media root). Their family names can then
    /// be used in `font` (see `reelsmith fonts --spec`); the bundled fonts stay available for
    /// fallback. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-reelsmith-file" = "fonts"))]
    pub fonts: Vec<String>,
    /// The module's language, a BCP 47 tag (`en`, `en-GB`, `de`, `fr`, `es`, `ar`, `he`,
    /// `hi`, `ja`, `zh`, …; usually `"{{language}}"` in a template). It sets the defaults that
    /// depend on it: a text narration's voice (the espeak-ng voice of that language), the
    /// captions' language (`output.captions.language`, stored in the MP4's subtitle track),
    /// and the text direction: for a right-to-left language (Arabic, Hebrew, Persian, Urdu) bullet
    /// lists run from the right, markers on the right and lines aligned right. What a spec
    /// sets itself wins. Default: none (voice `en-us`, captions `und`, left to right).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Template variables: names used as `{{name}}` in any string of the spec (texts, paths,
    /// colours, narration text, captions), given by `reelsmith render --var name=value`,
    /// `--vars FILE.json`, a row of `reelsmith batch` or the service's `variables`. A string
    /// that is only a placeholder takes the value's type (`"duration": "{{seconds}}"`). A
    /// value is checked where it lands, as if written there. Default: none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub variables: std::collections::BTreeMap<String, Variable>,
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
    /// Closed captions of the narration: the words of every narration (a text narration's
    /// `text`, or any narration's `caption`) shown in time with the voice. Default: a
    /// subtitle track in the MP4, no WebVTT file.
    #[serde(default)]
    pub captions: Captions,
    /// MP4 chapters, one per scene (its `chapter`, else its `id`, else `Scene N`), starting
    /// where the scene starts (at its transition), shown by players with a chapter menu
    /// (QuickTime, Safari, VLC, mpv) and by `ffprobe -show_chapters`. Default: on when the
    /// video has more than one scene.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapters: Option<bool>,
    /// Also write the chapters as WebVTT chapters beside the video (`lesson.mp4` →
    /// `lesson.chapters.vtt`), for an HTML `<track kind="chapters">`. Written with the
    /// video, atomically. Default: false.
    #[serde(default)]
    pub chapters_vtt: bool,
    /// More sizes of the same video, made in the same render from the same timeline and the
    /// same audio (mastered and encoded once, the same AAC packets in every file): each a
    /// complete MP4 beside the main one (this object's `width`, `height` and `path`, which
    /// stays the first rendition), with the same captions and chapters. Lengths in percent
    /// adapt by themselves; per-rendition `overrides` change what percentages cannot (a
    /// vertical layout). All files appear together when the render completes, or none.
    /// Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<Rendition>,
    /// A picture of each scene and a contact sheet of them, written beside the video with
    /// it (`lesson.thumbs/`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnails: Option<Thumbnails>,
}

/// Closed captions made from the narration: lines of at most `max_chars` characters, at most
/// two lines a caption, cut at sentence ends. Timed by the voice: the first caption appears
/// when the voice starts, each sentence's when the voice resumes after the pause before it;
/// inside a sentence each caption stays for its share of the characters. They are not drawn
/// on the picture: players show them when the viewer turns captions on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Captions {
    /// A subtitle track (MPEG-4 timed text, `mov_text`) in the MP4, which QuickTime, Safari,
    /// VLC and most players offer under their captions menu. Default: true (no track is
    /// added when no narration has words).
    #[serde(default = "yes")]
    pub embed: bool,
    /// Also write the captions as WebVTT beside the video (`lesson.mp4` → `lesson.vtt`), for
    /// an HTML `<track>` (browsers do not show an MP4's own subtitle track). Written with
    /// the video, atomically: on a failed render neither appears. Default: false.
    #[serde(default)]
    pub vtt: bool,
    /// The captions' language: an ISO 639-2 code of three lowercase letters (`eng`, `deu`,
    /// `fra`), stored in the MP4 track. Default: `und` (undetermined).
    #[serde(default = "default_caption_language")]
    pub language: String,
    /// Longest caption line in characters, 20..=80 (broadcast practice is 32–42). Default: 42.
    #[serde(default = "default_caption_chars")]
    pub max_chars: u32,
}

impl Default for Captions {
    fn default() -> Self {
        Captions {
            embed: true,
            vtt: false,
            language: default_caption_language(),
            max_chars: default_caption_chars(),
        }
    }
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
            captions: Captions::default(),
            chapters: None,
            chapters_vtt: false,
            renditions: Vec::new(),
            thumbnails: None,
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
    /// How this scene replaces the previous one. The two overlap for the transition's
    /// duration: this scene starts that much before the previous one ends, so the video is
    /// shorter than the sum of the scene durations by the sum of the transitions. Not allowed
    /// on the first scene. Default: a cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<TransitionSpec>,
    /// The title of the scene's chapter (see `output.chapters`), 1..=200 characters.
    /// Default: the scene's `id`, else `Scene N` (N from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapter: Option<String>,
    /// When this scene's thumbnail is taken (see `output.thumbnails`), in seconds from the
    /// scene's start, 0..=its duration; a time inside the next scene's transition is moved
    /// to the last frame before it. Default: `output.thumbnails.at` of the scene's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_at: Option<f64>,
}

/// A transition: its kind, or an object with the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TransitionSpec {
    /// Just the kind (0.5 s, `ease_in_out`).
    Kind(TransitionKind),
    /// The kind with its settings.
    Full(Transition),
}

/// A transition with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: TransitionKind,
    /// Seconds, > 0, at most the shorter of the two scenes. Default: 0.5.
    #[serde(default = "half_second")]
    pub duration: f64,
    /// Easing of the transition's progress. Default: `ease_in_out`.
    #[serde(default = "ease_in_out")]
    pub easing: Easing,
    /// `fade`: the colour faded through. Default: black.
    #[serde(default = "black")]
    pub color: String,
}

/// How one scene gives way to the next. Directions name where the motion goes: `wipe_left`
/// sweeps an edge from right to left, `slide_left` moves the new scene in leftwards over the
/// old one, `push_left` moves both leftwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum TransitionKind {
    /// The new scene fades in over the old one.
    Crossfade,
    /// Out to a colour, then in from it.
    Fade,
    WipeLeft,
    WipeRight,
    WipeUp,
    WipeDown,
    SlideLeft,
    SlideRight,
    SlideUp,
    SlideDown,
    PushLeft,
    PushRight,
    PushUp,
    PushDown,
    /// The new scene grows from the centre while fading in.
    Zoom,
    /// The new scene shows through a growing circle.
    Circle,
    /// The new scene appears pixel by pixel in a fixed random order.
    Dissolve,
}

/// Ken Burns motion: a named move, or a start and end viewport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MotionSpec {
    /// A named move over the layer's (or scene's) whole time.
    Preset(MotionPreset),
    /// From one viewport to another.
    Full(Motion),
}

/// A named Ken Burns move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MotionPreset {
    /// Zoom from 1.0 to 1.2 on the centre.
    ZoomIn,
    /// Zoom from 1.2 to 1.0 on the centre.
    ZoomOut,
    /// At zoom 1.15, the view moves left (x 0.65 → 0.35).
    PanLeft,
    /// At zoom 1.15, the view moves right.
    PanRight,
    /// At zoom 1.15, the view moves up.
    PanUp,
    /// At zoom 1.15, the view moves down.
    PanDown,
}

/// A Ken Burns move between two viewports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Motion {
    /// The viewport at the start.
    pub from: Viewport,
    /// The viewport at the end.
    pub to: Viewport,
    /// Easing. Default: `linear` (a steady drift; easing in and out suits short moves).
    #[serde(default = "linear")]
    pub easing: Easing,
}

/// What part of a picture fills the box: a zoom on a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Viewport {
    /// Magnification over `cover`, 1..=8. Default: 1.
    #[serde(default = "one")]
    pub zoom: f64,
    /// Point of the picture at the centre of the view, 0 (left) ..= 1 (right); the view is
    /// kept inside the picture. Default: 0.5.
    #[serde(default = "half_f")]
    pub x: f64,
    /// Point at the centre, 0 (top) ..= 1 (bottom). Default: 0.5.
    #[serde(default = "half_f")]
    pub y: f64,
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
        #[schemars(extend("x-reelsmith-file" = "background.image.src"))]
        src: String,
        /// `cover` fills the frame and crops; `contain` shows the whole picture over `color`;
        /// `contain_blur` over a blurred, darkened cover of itself; `stretch` distorts.
        /// Default: `cover`.
        #[serde(default)]
        fit: BackgroundFit,
        /// Colour behind a `contain`ed picture. Default: black.
        #[serde(default = "black")]
        color: String,
        /// Ken Burns motion over the scene (zoom and pan with sub-pixel precision; implies
        /// `cover`). Default: none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        motion: Option<MotionSpec>,
    },
    /// A video clip filling the frame (`cover`: cropped to fill).
    Video {
        /// The clip.
        #[schemars(extend("x-reelsmith-file" = "background.video.src"))]
        src: String,
        /// Trim, speed, loop and sound.
        #[serde(default)]
        playback: ClipPlayback,
    },
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
    /// Fit inside the frame over a blurred, darkened `cover` of the same picture.
    ContainBlur,
    /// Fill the frame exactly, distorting the aspect ratio.
    Stretch,
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

    /// The top-left corner of a box of `size` whose anchor point sits at `at`: where every
    /// layer and block is placed, in resolving and in composing.
    pub fn top_left(self, at: (f64, f64), size: (f64, f64)) -> (f64, f64) {
        let (ax, ay) = self.fractions();
        (at.0 - ax * size.0, at.1 - ay * size.1)
    }
}

impl Default for ClipPlayback {
    fn default() -> Self {
        ClipPlayback {
            trim_start: 0.0,
            trim_end: None,
            rate: 1.0,
            looped: false,
            audio: false,
            volume_db: 0.0,
        }
    }
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            font: default_font(),
            size: None,
            weight: None,
            italic: None,
            color: None,
            outline: None,
            shadow: None,
        }
    }
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

impl Composition {
    /// Parses a spec from JSON text. Structural errors (wrong types, unknown fields) carry the
    /// JSON path of the offending value. A template's placeholders take their declared
    /// defaults ([`Composition::from_template`] gives values).
    ///
    /// # Errors
    /// [`crate::spec::SpecError`] with the path and serde's message.
    pub fn from_json(text: &str) -> Result<Composition, crate::spec::SpecError> {
        Composition::from_template(text, &Values::new())
    }

    /// Reads the JSON text as it is, without substituting variables.
    fn from_json_plain(text: &str) -> Result<Composition, crate::spec::SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            crate::spec::SpecError::Parse {
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

fn default_version() -> u32 {
    1
}

fn default_caption_language() -> String {
    "und".into()
}
fn default_caption_chars() -> u32 {
    42
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

fn half_second() -> f64 {
    0.5
}
fn ease_in_out() -> Easing {
    Easing::EaseInOut
}

fn linear() -> Easing {
    Easing::Linear
}

fn half_f() -> f64 {
    0.5
}

fn default_padding() -> f64 {
    1.0
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

fn default_font() -> String {
    "Noto Sans".into()
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

fn pct_100() -> Length {
    Length::Str("100%".into())
}
fn default_track() -> String {
    "#FFFFFF33".into()
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
