//! The one list of files a spec names ([`Composition::files`]).

use super::*;

impl Composition {
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
