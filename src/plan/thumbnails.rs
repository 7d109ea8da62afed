//! Thumbnails and the contact sheet as planned: which frame of each scene, at what size, in
//! what format, under which names.

use std::path::{Path, PathBuf};

use crate::spec::ThumbnailFormat;

/// The thumbnails a render writes beside its video, in the folder [`PlanThumbnails::dir`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanThumbnails {
    /// Width of each thumbnail, pixels.
    pub width: u32,
    /// Height of each thumbnail, pixels (the video's aspect ratio).
    pub height: u32,
    /// Picture format.
    pub format: ThumbnailFormat,
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// Pictures per row of the contact sheet; `None`: no sheet.
    pub sheet_columns: Option<u32>,
    /// One per scene, in order.
    pub shots: Vec<PlanShot>,
}

/// One scene's thumbnail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanShot {
    /// The scene's index.
    pub scene: usize,
    /// The global frame shown.
    pub frame: u64,
    /// File name inside the thumbnails folder (`01-intro.jpg`).
    pub file: String,
    /// Its title on the contact sheet: the scene's chapter, else its id, else `Scene N`.
    pub title: String,
    /// When the scene starts in the video, seconds (shown on the contact sheet).
    pub start_s: f64,
}

impl PlanThumbnails {
    /// The folder of the thumbnails of a video at `output` (`lesson.mp4` → `lesson.thumbs`).
    pub fn dir(output: &Path) -> PathBuf {
        let dir = output.with_extension("thumbs");
        if dir == output {
            PathBuf::from(format!("{}.thumbs", output.display()))
        } else {
            dir
        }
    }

    /// The contact sheet's file name inside the folder, when there is one (`sheet.jpg`).
    pub fn sheet_file(&self) -> Option<String> {
        self.sheet_columns
            .map(|_| format!("sheet.{}", self.format.extension()))
    }

    /// The gap between the contact sheet's pictures (and around them), pixels.
    pub fn gap(&self) -> u32 {
        (self.width / 24).clamp(4, 24)
    }

    /// Height of the label row under each picture of the contact sheet, pixels.
    pub fn label_height(&self) -> u32 {
        (self.width / 12).clamp(14, 40) + 12
    }

    /// The contact sheet's width and height for `n` pictures.
    pub fn sheet_size(&self, n: usize) -> (u32, u32) {
        let (rows, columns) = self.grid(n);
        let gap = self.gap();
        (
            columns * (self.width + gap) + gap,
            rows * (self.height + self.label_height() + gap) + gap,
        )
    }

    /// The contact sheet's rows and columns for `n` pictures.
    pub fn grid(&self, n: usize) -> (u32, u32) {
        let n = n.max(1) as u32;
        let columns = self.sheet_columns.unwrap_or(1).clamp(1, n);
        (n.div_ceil(columns), columns)
    }
}

/// A scene id made safe for a file name: ASCII letters, digits, `-` and `_` kept, anything
/// else `-`, at most 40 characters.
pub fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "scene".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            PlanThumbnails::dir(Path::new("/v/lesson.mp4")),
            PathBuf::from("/v/lesson.thumbs")
        );
        assert_eq!(
            PlanThumbnails::dir(Path::new("/v/x.thumbs")),
            PathBuf::from("/v/x.thumbs.thumbs")
        );
        assert_eq!(file_stem("Intro: part 1/2"), "Intro--part-1-2");
        assert_eq!(file_stem("../.."), "scene");
        assert_eq!(file_stem("ü"), "scene");
    }
}
