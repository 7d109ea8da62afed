//! The layers drawn over a scene's background: one struct per `"type"`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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

/// Declares a layer struct: its own fields, then the placement and timing fields every layer
/// has (`x`, `y`, `anchor`, `opacity`, `start`, `end`, `fade_in`, `fade_out` and, for layers
/// that animate, `animate_in` and `animate_out`), then (`then`) any fields of its own that
/// follow them.
///
/// A macro, not a shared struct under `#[serde(flatten)]`: flatten cannot be combined with
/// `deny_unknown_fields`, and rejecting unknown fields (a misspelt `fade_ot` must be an error,
/// not a silent default) matters more. Each layer names its own defaults for the placement
/// (`place`) and the docs of its animations (`animate`); the rest is the same everywhere.
macro_rules! layer {
    (@skip $($t:tt)*) => {};
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)*
        }
        place {
            x: $xdef:literal, $($xdoc:literal)+;
            y: $ydef:literal, $($ydoc:literal)+;
            anchor: $adef:literal, $($adoc:literal)+;
        }
        $(animate {
            in: $($indoc:literal)+;
            out: $($outdoc:literal)+;
        })?
        $(then {
            $($(#[$tmeta:meta])* pub $tfield:ident: $tty:ty,)*
        })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            $(#[doc = $xdoc])+
            #[serde(default = $xdef)]
            pub x: Length,
            $(#[doc = $ydoc])+
            #[serde(default = $ydef)]
            pub y: Length,
            $(#[doc = $adoc])+
            #[serde(default = $adef)]
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
            $(
                $(#[doc = $indoc])+
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub animate_in: Option<AnimationSpec>,
                $(#[doc = $outdoc])+
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub animate_out: Option<AnimationSpec>,
            )?
            $($($(#[$tmeta])* pub $tfield: $tty,)*)?
        }

        impl $name {
            /// The placement and timing fields every layer has.
            pub fn base(&self) -> LayerBase<'_> {
                #[allow(unused_mut)]
                let mut base = LayerBase {
                    x: &self.x,
                    y: &self.y,
                    anchor: self.anchor,
                    opacity: self.opacity,
                    start: self.start,
                    end: self.end,
                    fade_in: self.fade_in,
                    fade_out: self.fade_out,
                    animate_in: None,
                    animate_out: None,
                };
                $(
                    layer!(@skip $($indoc)+);
                    base.animate_in = self.animate_in.as_ref();
                    base.animate_out = self.animate_out.as_ref();
                )?
                base
            }
        }
    };
}

/// The placement and timing fields every layer has (declared by `layer!`), borrowed: what
/// resolving any layer starts from.
#[derive(Debug, Clone, Copy)]
pub struct LayerBase<'a> {
    /// Horizontal position of the anchor point.
    pub x: &'a Length,
    /// Vertical position of the anchor point.
    pub y: &'a Length,
    /// Which point of the layer's box sits at (`x`, `y`).
    pub anchor: Anchor,
    /// Opacity 0..=1.
    pub opacity: f64,
    /// Seconds after the scene starts.
    pub start: f64,
    /// Seconds after the scene starts; `None`: the scene's end.
    pub end: Option<f64>,
    /// Fade-in length, seconds.
    pub fade_in: f64,
    /// Fade-out length, seconds.
    pub fade_out: f64,
    /// Entrance animation (`None` also for layers that have none).
    pub animate_in: Option<&'a AnimationSpec>,
    /// Exit animation.
    pub animate_out: Option<&'a AnimationSpec>,
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

layer! {
    /// A video clip layer. Its picture plays from the layer's `start`; frame rates are converted
    /// to the output's without drift; rotation metadata is honoured.
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
    }
    place {
        x: "half", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "half", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the box sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: none.";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A text layer. Its box is as wide as its longest line (at most `max_width`) and as tall as
    /// its lines; `x`/`y`/`anchor` place that box.
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
    }
    place {
        x: "half", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "half", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the box sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " How the layer enters: an effect name (`\"fade\"`, `\"slide\"`, `\"scale\"`, `\"typewriter\"`)"
            " or an object with the details. Default: none (it simply appears; `fade_in` still"
            " applies).";
        out: " How the layer leaves (the effect played backwards, ending at `end`). Default: none.";
    }
    then {
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
}

layer! {
    /// An image layer (PNG with transparency, or JPEG).
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
    }
    place {
        x: "half", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "half", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the box sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: none.";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A rectangle, optionally with rounded corners and a border.
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
    }
    place {
        x: "pct_50", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "pct_50", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the box sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: none.";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A title card block: a large title and an optional subtitle under it, centred as one block.
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
    }
    place {
        x: "pct_50", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "pct_50", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the block sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: `fade` (0.6 s).";
        out: " Exit animation (see the text layer). Default: none.";
    }
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

layer! {
    /// A bullet list. Items are stacked from the top of the block; each can appear at its own
    /// time with the list's entrance animation.
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
    }
    place {
        x: "pct_10", " Horizontal position of the anchor point. Default: `\"10%\"`.";
        y: "pct_25", " Vertical position of the anchor point. Default: `\"25%\"`.";
        anchor: "anchor_top_left",
            " Which point of the block sits at (`x`, `y`). Default: `top-left`.";
    }
    animate {
        in:
            " Entrance animation (see the text layer). Default: `slide` from the left by 40 px (at 1080 lines), 0.4 s.";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A lower third: a bar near the bottom-left with a name/title line and an optional second
    /// line, sliding in from the left edge and out again.
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
    }
    place {
        x: "pct_0", " Horizontal position of the anchor point. Default: `\"0%\"`.";
        y: "pct_85", " Vertical position of the anchor point. Default: `\"85%\"`.";
        anchor: "anchor_bottom_left",
            " Which point of the bar sits at (`x`, `y`). Default: `bottom-left`.";
    }
    animate {
        in:
            " Entrance animation (see the text layer). Default: `slide` in from beyond the left edge, 0.6 s.";
        out: " Exit animation (see the text layer). Default: `slide` out to the left, 0.5 s.";
    }
}

layer! {
    /// A quotation, with curly quotes added, and an optional attribution under it.
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
    }
    place {
        x: "pct_50", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "pct_50", " Vertical position of the anchor point. Default: `\"50%\"`.";
        anchor: "anchor_center", " Which point of the block sits at (`x`, `y`). Default: `center`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: `fade` (0.8 s).";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A caption (subtitle) line: centred at the bottom in a translucent rounded box; long text
    /// shrinks, then is cut with `…` (at most `max_lines` lines).
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
    }
    place {
        x: "pct_50", " Horizontal position of the anchor point. Default: `\"50%\"`.";
        y: "pct_94", " Vertical position of the anchor point. Default: `\"94%\"`.";
        anchor: "anchor_bottom", " Which point of the box sits at (`x`, `y`). Default: `bottom`.";
    }
    animate {
        in: " Entrance animation (see the text layer). Default: none.";
        out: " Exit animation (see the text layer). Default: none.";
    }
}

layer! {
    /// A progress bar: a track and a fill that grows with the time elapsed.
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
    }
    place {
        x: "pct_0", " Horizontal position of the anchor point. Default: `\"0%\"`.";
        y: "pct_100", " Vertical position of the anchor point. Default: `\"100%\"`.";
        anchor: "anchor_bottom_left",
            " Which point of the bar sits at (`x`, `y`). Default: `bottom-left`.";
    }
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

fn default_subtitle_delay() -> f64 {
    0.3
}

fn default_item_spacing() -> f64 {
    0.5
}

fn default_bar_color() -> String {
    "#10243ECC".into()
}
fn default_accent() -> String {
    "#F2A900".into()
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
