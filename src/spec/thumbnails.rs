//! `output.thumbnails`: a still per scene and a contact sheet of them, written with the video.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A picture of each scene and a contact sheet of all of them, written beside the video
/// (`lesson.mp4` → `lesson.thumbs/01-<scene id>.jpg` …, and `lesson.thumbs/sheet.jpg`), as
/// part of the render's transaction: they appear with the video or not at all. Each is the
/// scene's picture at the chosen time, drawn as the video's frame there is drawn (not
/// decoded back from the video).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thumbnails {
    /// When in each scene, as a fraction of the scene's length, 0..=1 (0 its first frame, 1
    /// its last). The frame is kept out of transitions (where two scenes are mixed) when the
    /// scene has frames of its own. A scene's `thumbnail_at` wins. Default: 0.5.
    #[serde(default = "default_at")]
    pub at: f64,
    /// Width of each picture in pixels, 16..=1920 and at most the video's width; the height
    /// keeps the video's aspect ratio. Default: 480, or the video's width when smaller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Picture format of the thumbnails and the sheet. Default: `jpeg`.
    #[serde(default)]
    pub format: ThumbnailFormat,
    /// JPEG quality, 1..=100 (ignored for PNG). Default: 85.
    #[serde(default = "default_quality")]
    pub quality: u8,
    /// Also write a contact sheet: every scene's picture in a grid on a neutral background,
    /// each labelled with its number, chapter (else id) and start time. Default: true.
    #[serde(default = "yes")]
    pub sheet: bool,
    /// Pictures per row of the contact sheet, 1..=16 (fewer when there are fewer scenes).
    /// Default: 4.
    #[serde(default = "default_columns")]
    pub columns: u32,
}

/// The picture format of thumbnails and the contact sheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThumbnailFormat {
    /// Baseline JPEG (`.jpg`), at `quality`.
    #[default]
    Jpeg,
    /// PNG (`.png`), lossless.
    Png,
}

impl ThumbnailFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ThumbnailFormat::Jpeg => "jpg",
            ThumbnailFormat::Png => "png",
        }
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ThumbnailFormat::Jpeg => "image/jpeg",
            ThumbnailFormat::Png => "image/png",
        }
    }
}

impl Default for Thumbnails {
    fn default() -> Self {
        Thumbnails {
            at: default_at(),
            width: None,
            format: ThumbnailFormat::default(),
            quality: default_quality(),
            sheet: true,
            columns: default_columns(),
        }
    }
}

fn default_at() -> f64 {
    0.5
}
fn default_quality() -> u8 {
    85
}
fn default_columns() -> u32 {
    4
}
fn yes() -> bool {
    true
}
