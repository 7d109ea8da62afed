//! How text and layers look and move: alignment, weight, boxes, strokes, shadows, animations
//! and easing curves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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

fn two() -> f64 {
    2.0
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

fn default_anim_scale() -> f64 {
    0.6
}
