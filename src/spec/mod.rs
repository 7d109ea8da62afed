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

pub mod doc;
pub mod error;

pub use error::{SpecError, SpecIssue};

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
    /// Closed captions of the narration: the words of every narration (a text narration's
    /// `text`, or any narration's `caption`) shown in time with the voice. Default: a
    /// subtitle track in the MP4, no WebVTT file.
    #[serde(default)]
    pub captions: Captions,
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

fn half_second() -> f64 {
    0.5
}
fn ease_in_out() -> Easing {
    Easing::EaseInOut
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

fn linear() -> Easing {
    Easing::Linear
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

fn half_f() -> f64 {
    0.5
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
    /// Keep the aspect ratio inside the box, over a blurred, darkened `cover` of the picture.
    ContainBlur,
}

/// A layer drawn over the background.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    /// Text, shaped and wrapped, optionally in a box (background, padding, rounded corners,
    /// border), with an outline and a drop shadow.
    Text(TextLayer),
    /// A picture.
    Image(ImageLayer),
    /// A rectangle (rounded or not) with a fill and a border.
    Shape(ShapeLayer),
    /// A title card block: a title and an optional subtitle below it, placed together.
    Title(TitleLayer),
    /// A bullet list whose items can appear one by one.
    Bullets(BulletsLayer),
    /// A lower third: a bar with one or two lines of text that slides in from the left.
    LowerThird(LowerThirdLayer),
    /// A quotation with an optional attribution.
    Quote(QuoteLayer),
    /// A caption / subtitle line in a translucent box at the bottom of the frame.
    Caption(CaptionLayer),
    /// A bar that fills as the video (or the scene) plays: how far the learner is.
    ProgressBar(ProgressBarLayer),
    /// A video clip (any format libav reads).
    Video(VideoLayer),
}

/// How a clip plays: trim, speed, looping and its sound. Shared by video layers and video
/// backgrounds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClipPlayback {
    /// Seconds skipped at the start of the file. Default: 0.
    #[serde(default)]
    pub trim_start: f64,
    /// Seconds into the file where playing stops (the last frame is held after it, unless
    /// `loop`). Default: the file's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_end: Option<f64>,
    /// Playback speed, 0.25..=4. Default: 1.
    #[serde(default = "one")]
    pub rate: f64,
    /// Start again from `trim_start` at the end. Default: false.
    #[serde(default, rename = "loop")]
    pub looped: bool,
    /// Send the clip's sound to the mix (only at `rate` 1). Default: false (muted).
    #[serde(default)]
    pub audio: bool,
    /// Level of the clip's sound, dB, -60..=24. Default: 0.
    #[serde(default)]
    pub volume_db: f64,
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

/// A video clip layer. Its picture plays from the layer's `start`; frame rates are converted
/// to the output's without drift; rotation metadata is honoured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoLayer {
    /// The clip (H.264, HEVC, VP9, ProRes, MJPEG … in MP4, MOV, MKV, WebM …).
    #[schemars(extend("x-reelsmith-file" = "video_layer.src"))]
    pub src: String,
    /// Box width. Default: the clip's (or from `height` and its aspect ratio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// Box height. Default: see `width`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Length>,
    /// Trim, speed, loop and sound.
    #[serde(default)]
    pub playback: ClipPlayback,
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
    /// Entrance animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
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
    /// Font family name, one of the bundled fonts (see `reelsmith fonts`). Characters the
    /// family lacks (Arabic, Hebrew, Devanagari, Thai, CJK, emoji) fall back to the bundled
    /// Noto fonts. Default: `"Noto Sans"`.
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
    /// How the layer enters: an effect name (`"fade"`, `"slide"`, `"scale"`, `"typewriter"`)
    /// or an object with the details. Default: none (it simply appears; `fade_in` still
    /// applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// How the layer leaves (the effect played backwards, ending at `end`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
    /// The box's fill colour behind the text. Default: none (no box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// Space between the text and the box's edge, pixels: one number for all sides or
    /// `[vertical, horizontal]`. Default: `[0.35 × size, 0.6 × size]` when the layer has a
    /// `background` or `border`, else 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<Padding>,
    /// Radius of the box's corners, pixels, 0..=500. Default: 0.
    #[serde(default)]
    pub corner_radius: f64,
    /// A line around the box. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border: Option<Stroke>,
    /// An outline around every glyph (drawn under the glyphs). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outline: Option<Stroke>,
    /// A soft shadow under the glyphs (and their outline). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Shadow>,
    /// The tallest the text may be (not counting padding). With `max_width` this is the box
    /// the text must fit; see `min_size` and `overflow`. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_height: Option<Length>,
    /// Text that does not fit (a word wider than `max_width`, or lines taller than
    /// `max_height`) is first shrunk, down to this size in pixels. Default: `size` (never
    /// shrink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<f64>,
    /// What happens when the text still does not fit at `min_size`. Default: `fail`.
    #[serde(default)]
    pub overflow: Overflow,
}

/// What to do with text that does not fit its box even at its minimum size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Validation fails, naming the layer and by how much the text overflows.
    #[default]
    Fail,
    /// Cut the text at a word (or character) and end it with `…`; the render report lists
    /// the layer.
    Ellipsis,
}

/// Padding: one number for all sides, or `[vertical, horizontal]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Padding {
    /// The same on all sides, pixels.
    All(f64),
    /// `[vertical, horizontal]`, pixels.
    Axes([f64; 2]),
}

/// A line: colour and width.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stroke {
    /// Colour. Default: black.
    #[serde(default = "black")]
    pub color: String,
    /// Width in pixels, 0.5..=50. Default: 2.
    #[serde(default = "two")]
    pub width: f64,
}

fn two() -> f64 {
    2.0
}

/// A drop shadow.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shadow {
    /// Colour (its alpha is the shadow's strength). Default: `"#000000A0"`.
    #[serde(default = "shadow_color")]
    pub color: String,
    /// Horizontal offset, pixels, -200..=200. Default: 3.
    #[serde(default = "three")]
    pub x: f64,
    /// Vertical offset, pixels, -200..=200. Default: 3.
    #[serde(default = "three")]
    pub y: f64,
    /// Blur radius, pixels, 0..=50. Default: 4.
    #[serde(default = "four")]
    pub blur: f64,
}

fn shadow_color() -> String {
    "#000000A0".into()
}
fn three() -> f64 {
    3.0
}
fn four() -> f64 {
    4.0
}

/// An entrance or exit animation: an effect name, or an object with the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AnimationSpec {
    /// Just the effect, every other setting at its default.
    Effect(Effect),
    /// The effect with its settings.
    Full(Animation),
}

/// An animation's effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Opacity from 0.
    #[default]
    Fade,
    /// Moves in from (out towards) an edge by `distance`, fading too unless `fade` is false.
    Slide,
    /// Grows from (shrinks to) `scale` times its size around its anchor point, fading too
    /// unless `fade` is false.
    Scale,
    /// Characters (or words) appear one after the other (disappear in reverse on exit).
    Typewriter,
}

/// An animation with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Animation {
    /// The effect.
    pub effect: Effect,
    /// Length in seconds, 0..=60. Entrances start at the layer's `start`; exits end at its
    /// `end`. Default: 0.5 (typewriter: 0.05 s per character or 0.25 s per word).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Easing curve. Default: `ease_out` for entrances, `ease_in` for exits (typewriter:
    /// `linear`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easing: Option<Easing>,
    /// `slide`: the edge it comes from (or leaves towards). Default: `left`.
    #[serde(default)]
    pub from: Edge,
    /// `slide`: how far it moves. Default: 10% of the frame's width (`left`/`right`) or
    /// height (`top`/`bottom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<Length>,
    /// `scale`: the size it starts from (ends at), 0..=4 times. Default: 0.6.
    #[serde(default = "default_anim_scale")]
    pub scale: f64,
    /// `typewriter`: reveal by `char` or by `word`. Default: `char`.
    #[serde(default)]
    pub by: RevealUnit,
    /// `slide` and `scale`: fade at the same time. Default: true.
    #[serde(default = "yes")]
    pub fade: bool,
}

fn default_anim_scale() -> f64 {
    0.6
}

/// An edge of the frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Edge {
    #[default]
    Left,
    Right,
    Top,
    Bottom,
}

/// The unit a typewriter reveals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevealUnit {
    /// One character (grapheme cluster) at a time.
    #[default]
    Char,
    /// One word at a time.
    Word,
}

/// An easing curve: how an animation's progress follows time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Easing {
    /// Constant speed.
    Linear,
    /// Starts slow (quadratic).
    EaseIn,
    /// Ends slow (quadratic).
    #[default]
    EaseOut,
    /// Slow at both ends (quadratic).
    EaseInOut,
    /// Starts slow (cubic, stronger).
    CubicIn,
    /// Ends slow (cubic, stronger).
    CubicOut,
    /// Slow at both ends (cubic).
    CubicInOut,
}

impl Easing {
    /// Progress at time fraction `t` (0..=1); 0 at 0, 1 at 1, monotonic.
    pub fn apply(self, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Easing::Linear => t,
            Easing::EaseIn => t * t,
            Easing::EaseOut => 1.0 - (1.0 - t) * (1.0 - t),
            Easing::EaseInOut => {
                if t < 0.5 {
                    2.0 * t * t
                } else {
                    1.0 - 2.0 * (1.0 - t) * (1.0 - t)
                }
            }
            Easing::CubicIn => t * t * t,
            Easing::CubicOut => 1.0 - (1.0 - t).powi(3),
            Easing::CubicInOut => {
                if t < 0.5 {
                    4.0 * t * t * t
                } else {
                    1.0 - 4.0 * (1.0 - t).powi(3)
                }
            }
        }
    }
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

/// An image layer (PNG with transparency, or JPEG).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageLayer {
    /// Image file.
    #[schemars(extend("x-reelsmith-file" = "image_layer.src"))]
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
    /// Ken Burns motion inside the box over the layer's time (zoom and pan with sub-pixel
    /// precision; implies `cover` and needs `width` and `height`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motion: Option<MotionSpec>,
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
    /// Entrance animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

/// A rectangle, optionally with rounded corners and a border.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShapeLayer {
    /// Width.
    pub width: Length,
    /// Height.
    pub height: Length,
    /// Fill colour. Default: white.
    #[serde(default = "white")]
    pub fill: String,
    /// Radius of the corners, pixels. Default: 0.
    #[serde(default)]
    pub corner_radius: f64,
    /// A line along the inside of the edge. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border: Option<Stroke>,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub y: Length,
    /// Which point of the box sits at (`x`, `y`). Default: `center`.
    #[serde(default = "anchor_center")]
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
    /// Entrance animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

/// Typography shared by the slide blocks: font, colour, weight. The blocks' default sizes
/// are for a 1080-line frame and scale with the frame's height.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextStyle {
    /// Font family. Default: `"Noto Sans"`.
    #[serde(default = "default_font")]
    pub font: String,
    /// Size in pixels. Default: depends on the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
    /// Weight. Default: depends on the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<FontWeight>,
    /// Italic. Default: depends on the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub italic: Option<bool>,
    /// Colour. Default: depends on the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// An outline around the glyphs. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outline: Option<Stroke>,
    /// A drop shadow. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Shadow>,
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

/// A title card block: a large title and an optional subtitle under it, centred as one block.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleLayer {
    /// The title.
    pub title: String,
    /// The line(s) under the title. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The title's typography. Default: 96 px, bold, white.
    #[serde(default)]
    pub title_style: TextStyle,
    /// The subtitle's typography. Default: 44 px, normal, white at 85%.
    #[serde(default)]
    pub subtitle_style: TextStyle,
    /// Alignment of the lines. Default: `center`.
    #[serde(default)]
    pub align: TextAlign,
    /// Gap between title and subtitle, pixels. Default: 0.35 × the title size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
    /// Wrap width. Default: 80% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// The subtitle enters this many seconds after the title. Default: 0.3.
    #[serde(default = "default_subtitle_delay")]
    pub subtitle_delay: f64,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub y: Length,
    /// Which point of the block sits at (`x`, `y`). Default: `center`.
    #[serde(default = "anchor_center")]
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
    /// Entrance animation (see the text layer). Default: `fade` (0.6 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

fn default_subtitle_delay() -> f64 {
    0.3
}

/// One bullet: its text, or an object with its level and reveal time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BulletItem {
    /// Just the text (level 0, revealed per the list's `reveal`).
    Text(String),
    /// The text with settings.
    Full(BulletItemFull),
}

/// A bullet with settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletItemFull {
    /// The text.
    pub text: String,
    /// Indentation level, 0..=4. Default: 0.
    #[serde(default)]
    pub level: u32,
    /// Seconds after the scene starts when the item appears. Default: from the list's
    /// `reveal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
}

/// What marks each bullet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// `•` (level 0), `◦` (level 1), `▪` (deeper).
    #[default]
    Disc,
    /// `–`.
    Dash,
    /// `✓`.
    Check,
    /// `→`.
    Arrow,
    /// `1.`, `2.` … counted per level.
    Number,
    /// No marker.
    None,
}

/// A bullet list. Items are stacked from the top of the block; each can appear at its own
/// time with the list's entrance animation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletsLayer {
    /// The items, at least one.
    pub items: Vec<BulletItem>,
    /// The marker. Default: `disc`.
    #[serde(default)]
    pub marker: Marker,
    /// Marker colour. Default: the text colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker_color: Option<String>,
    /// Typography. Default: 48 px, normal, white.
    #[serde(default)]
    pub style: TextStyle,
    /// Distance between baselines within an item, multiple of the size. Default: 1.25.
    #[serde(default = "default_line_height")]
    pub line_height: f64,
    /// Extra space between items, multiple of the size. Default: 0.5.
    #[serde(default = "default_item_spacing")]
    pub spacing: f64,
    /// Indentation per level, pixels. Default: 1.6 × the size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indent: Option<f64>,
    /// Width of the block (items wrap within it). Default: 80% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// Height the list must fit; the whole list shrinks evenly, down to `min_size`, and
    /// validation fails if it still does not fit. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_height: Option<Length>,
    /// Smallest size the list may shrink to. Default: the size (never shrink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<f64>,
    /// Seconds between the appearance of consecutive items (the first appears at `start`).
    /// Default: 0 (all at once). An item's own `at` wins.
    #[serde(default)]
    pub reveal: f64,
    /// Horizontal position of the anchor point. Default: `"10%"`.
    #[serde(default = "pct_10")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"25%"`.
    #[serde(default = "pct_25")]
    pub y: Length,
    /// Which point of the block sits at (`x`, `y`). Default: `top-left`.
    #[serde(default = "anchor_top_left")]
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
    /// Entrance animation (see the text layer). Default: `slide` from the left by 40 px (at 1080 lines), 0.4 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

fn default_item_spacing() -> f64 {
    0.5
}

/// A lower third: a bar near the bottom-left with a name/title line and an optional second
/// line, sliding in from the left edge and out again.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LowerThirdLayer {
    /// The first (larger) line.
    pub title: String,
    /// The second line. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The first line's typography. Default: 44 px, bold, white.
    #[serde(default)]
    pub title_style: TextStyle,
    /// The second line's typography. Default: 30 px, normal, white at 85%.
    #[serde(default)]
    pub subtitle_style: TextStyle,
    /// The bar's colour. Default: `"#10243ECC"`.
    #[serde(default = "default_bar_color")]
    pub bar_color: String,
    /// A stripe on the bar's left edge. Default: `"#F2A900"`.
    #[serde(default = "default_accent")]
    pub accent_color: String,
    /// Padding inside the bar, pixels `[vertical, horizontal]`. Default: `[0.4 × title
    /// size, 0.6 × title size]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<Padding>,
    /// Widest the text may be before it wraps. Default: 60% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// Horizontal position of the anchor point. Default: `"0%"`.
    #[serde(default = "pct_0")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"85%"`.
    #[serde(default = "pct_85")]
    pub y: Length,
    /// Which point of the bar sits at (`x`, `y`). Default: `bottom-left`.
    #[serde(default = "anchor_bottom_left")]
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
    /// Entrance animation (see the text layer). Default: `slide` in from beyond the left edge, 0.6 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: `slide` out to the left, 0.5 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

fn default_bar_color() -> String {
    "#10243ECC".into()
}
fn default_accent() -> String {
    "#F2A900".into()
}

/// A quotation, with curly quotes added, and an optional attribution under it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLayer {
    /// The quoted words (without quote marks).
    pub text: String,
    /// Who said it (shown as `— name`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// The quote's typography. Default: `"DejaVu Serif"`, 56 px, italic, white.
    #[serde(default)]
    pub style: TextStyle,
    /// The attribution's typography. Default: 34 px, normal, white at 80%.
    #[serde(default)]
    pub attribution_style: TextStyle,
    /// Add `“ ”` around the text. Default: true.
    #[serde(default = "yes")]
    pub marks: bool,
    /// Wrap width. Default: 70% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub y: Length,
    /// Which point of the block sits at (`x`, `y`). Default: `center`.
    #[serde(default = "anchor_center")]
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
    /// Entrance animation (see the text layer). Default: `fade` (0.8 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

/// A caption (subtitle) line: centred at the bottom in a translucent rounded box; long text
/// shrinks, then is cut with `…` (at most `max_lines` lines).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptionLayer {
    /// The words.
    pub text: String,
    /// Typography. Default: 40 px, normal, white.
    #[serde(default)]
    pub style: TextStyle,
    /// Box colour. Default: `"#000000B0"`.
    #[serde(default = "default_caption_box")]
    pub background: String,
    /// Most lines shown, 1..=6. Default: 2.
    #[serde(default = "two_lines")]
    pub max_lines: u32,
    /// Wrap width. Default: 80% of the frame width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<Length>,
    /// Horizontal position of the anchor point. Default: `"50%"`.
    #[serde(default = "pct_50")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"94%"`.
    #[serde(default = "pct_94")]
    pub y: Length,
    /// Which point of the box sits at (`x`, `y`). Default: `bottom`.
    #[serde(default = "anchor_bottom")]
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
    /// Entrance animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_in: Option<AnimationSpec>,
    /// Exit animation (see the text layer). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animate_out: Option<AnimationSpec>,
}

/// A progress bar: a track and a fill that grows with the time elapsed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressBarLayer {
    /// Width. Default: `"100%"`.
    #[serde(default = "pct_100")]
    pub width: Length,
    /// Height. Default: 8 px at 1080 lines (scaled with the frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Length>,
    /// Fill colour. Default: `"#F2A900"`.
    #[serde(default = "default_accent")]
    pub color: String,
    /// Track colour (the unfilled part). Default: `"#FFFFFF33"`.
    #[serde(default = "default_track")]
    pub track_color: String,
    /// Corner radius, pixels. Default: 0.
    #[serde(default)]
    pub corner_radius: f64,
    /// Progress through the whole `video` or through this `scene`. Default: `video`.
    #[serde(default)]
    pub scope: ProgressScope,
    /// Horizontal position of the anchor point. Default: `"0%"`.
    #[serde(default = "pct_0")]
    pub x: Length,
    /// Vertical position of the anchor point. Default: `"100%"`.
    #[serde(default = "pct_100")]
    pub y: Length,
    /// Which point of the bar sits at (`x`, `y`). Default: `bottom-left`.
    #[serde(default = "anchor_bottom_left")]
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

/// What a progress bar measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressScope {
    /// The whole video.
    #[default]
    Video,
    /// The scene the bar is in.
    Scene,
}

fn pct_100() -> Length {
    Length::Str("100%".into())
}
fn default_track() -> String {
    "#FFFFFF33".into()
}

fn default_caption_box() -> String {
    "#000000B0".into()
}
fn two_lines() -> u32 {
    2
}
fn pct_10() -> Length {
    Length::Str("10%".into())
}
fn pct_25() -> Length {
    Length::Str("25%".into())
}
fn pct_0() -> Length {
    Length::Str("0%".into())
}
fn pct_85() -> Length {
    Length::Str("85%".into())
}
fn pct_94() -> Length {
    Length::Str("94%".into())
}
fn pct_50() -> Length {
    half()
}
fn anchor_center() -> Anchor {
    Anchor::Center
}
fn anchor_top_left() -> Anchor {
    Anchor::TopLeft
}
fn anchor_bottom_left() -> Anchor {
    Anchor::BottomLeft
}
fn anchor_bottom() -> Anchor {
    Anchor::Bottom
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
    #[schemars(extend("x-reelsmith-file" = "audio_track.src"))]
    pub src: Option<String>,
    /// Words to speak instead of a file (at most 5000 characters): synthesised locally with
    /// espeak-ng and cached by content under `<media root>/assets/audio/tts/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Narrations only: the words spoken, for the closed captions (see `output.captions`).
    /// A narration from a file is captioned only with this; a text narration is captioned
    /// with its `text` unless this gives other words (or `""` for none). At most 5000
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
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
    /// [`crate::spec::SpecError`] with the path and serde's message.
    pub fn from_json(text: &str) -> Result<Composition, crate::spec::SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            crate::spec::SpecError::Parse {
                path: if path == "." { "$".into() } else { path },
                message: e.into_inner().to_string(),
            }
        })
    }

    /// Every file the spec names, in document order: the one list that validation, the
    /// service's path policy, caching and distribution use. Each entry carries the JSON path
    /// of its field, so a problem with the file is reported where it was written.
    ///
    /// The schema marks each of these fields with `x-reelsmith-file` (the entry's
    /// [`FileRef::field`]); a test walks the schema and fails when a field that names a file
    /// is not in this list.
    pub fn files(&self) -> Vec<FileRef<'_>> {
        let mut out = Vec::new();
        for (i, font) in self.fonts.iter().enumerate() {
            out.push(FileRef::new(
                format!("fonts[{i}]"),
                font,
                FileKind::Font,
                "fonts",
            ));
        }
        for (i, scene) in self.scenes.iter().enumerate() {
            match &scene.background {
                Some(Background::Image { src, .. }) => out.push(FileRef::new(
                    format!("scenes[{i}].background.src"),
                    src,
                    FileKind::Picture,
                    "background.image.src",
                )),
                Some(Background::Video { src, .. }) => out.push(FileRef::new(
                    format!("scenes[{i}].background.src"),
                    src,
                    FileKind::Clip,
                    "background.video.src",
                )),
                Some(
                    Background::Solid { .. }
                    | Background::LinearGradient { .. }
                    | Background::RadialGradient { .. },
                )
                | None => {}
            }
            for (j, layer) in scene.layers.iter().enumerate() {
                let path = || format!("scenes[{i}].layers[{j}].src");
                match layer {
                    Layer::Image(l) => out.push(FileRef::new(
                        path(),
                        &l.src,
                        FileKind::Picture,
                        "image_layer.src",
                    )),
                    Layer::Video(l) => {
                        out.push(FileRef::new(
                            path(),
                            &l.src,
                            FileKind::Clip,
                            "video_layer.src",
                        ));
                    }
                    // Listed one by one (no `_`): a new layer type must be looked at here.
                    Layer::Text(_)
                    | Layer::Shape(_)
                    | Layer::Title(_)
                    | Layer::Bullets(_)
                    | Layer::LowerThird(_)
                    | Layer::Quote(_)
                    | Layer::Caption(_)
                    | Layer::ProgressBar(_) => {}
                }
            }
            if let Some(src) = scene.narration.as_ref().and_then(|n| n.src.as_deref()) {
                out.push(FileRef::new(
                    format!("scenes[{i}].narration.src"),
                    src,
                    FileKind::Audio,
                    "audio_track.src",
                ));
            }
        }
        for (k, track) in self.audio.tracks.iter().enumerate() {
            if let Some(src) = track.src.as_deref() {
                out.push(FileRef::new(
                    format!("audio.tracks[{k}].src"),
                    src,
                    FileKind::Audio,
                    "audio_track.src",
                ));
            }
        }
        out
    }

    /// The JSON Schema of the spec (draft 2020-12), as printed by `reelsmith schema`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Composition)).unwrap_or_default()
    }
}

/// What a file named by a spec is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A PNG or JPEG picture.
    Picture,
    /// A video clip (its picture, and its sound when asked for).
    Clip,
    /// An audio file (music, effect, narration).
    Audio,
    /// A font file, or a folder of font files.
    Font,
}

impl FileKind {
    /// Lower-case name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Picture => "picture",
            FileKind::Clip => "clip",
            FileKind::Audio => "audio file",
            FileKind::Font => "font",
        }
    }
}

/// One file (or, for fonts, folder) named by a spec: see [`Composition::files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef<'a> {
    /// The JSON path of the field, e.g. `scenes[0].layers[2].src`.
    pub path: String,
    /// The value as written in the spec.
    pub src: &'a str,
    /// What it is read as.
    pub kind: FileKind,
    /// The field's mark in the JSON Schema (`x-reelsmith-file`), e.g. `video_layer.src`.
    pub field: &'static str,
}

impl<'a> FileRef<'a> {
    fn new(path: String, src: &'a str, kind: FileKind, field: &'static str) -> FileRef<'a> {
        FileRef {
            path,
            src,
            kind,
            field,
        }
    }
}
