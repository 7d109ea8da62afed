//! Which files a submitted spec may read.
//!
//! Renders run with the storage root as the base folder, so a relative `src` such as
//! `stock/images/logo.png` or `assets/uploads/…` means a file under the storage root. Every
//! asset path in the spec must stay under an allowed root: `<media>/assets` (without its
//! `temp/`), `<media>/stock`, and each `--asset-root`. Refused: `..` components, absolute paths
//! outside the roots, and paths that a symbolic link leads out of the roots. Each refusal is a
//! [`SpecIssue`] with the JSON path of the field.

use std::path::{Component, Path, PathBuf};

use crate::error::SpecIssue;
use crate::spec::{Background, Composition, Layer};

/// The folders a spec may read from.
#[derive(Debug, Clone)]
pub struct AssetRoots {
    /// The storage root: relative paths are resolved against it.
    base: PathBuf,
    /// Allowed roots as given (absolute).
    roots: Vec<PathBuf>,
    /// Never allowed, even under a root (the renders' temp folders).
    denied: Vec<PathBuf>,
}

/// Every asset path of a spec with its JSON path.
pub fn asset_paths(comp: &Composition) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (i, scene) in comp.scenes.iter().enumerate() {
        if let Some(Background::Image { src, .. }) = &scene.background {
            out.push((format!("scenes[{i}].background.src"), src.as_str()));
        }
        for (j, layer) in scene.layers.iter().enumerate() {
            if let Layer::Image(img) = layer {
                out.push((format!("scenes[{i}].layers[{j}].src"), img.src.as_str()));
            }
        }
        if let Some(src) = scene.narration.as_ref().and_then(|n| n.src.as_deref()) {
            out.push((format!("scenes[{i}].narration.src"), src));
        }
    }
    for (k, track) in comp.audio.tracks.iter().enumerate() {
        if let Some(src) = track.src.as_deref() {
            out.push((format!("audio.tracks[{k}].src"), src));
        }
    }
    out
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_path_buf(), |d| d.join(p))
    }
}

/// Folders that `canonicalize` can resolve are compared resolved, others as given.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl AssetRoots {
    /// The default roots under `media` plus `extra`.
    pub fn new(media: &Path, extra: &[PathBuf]) -> AssetRoots {
        let base = absolute(media);
        let mut roots = vec![base.join("assets"), base.join("stock")];
        roots.extend(extra.iter().map(|p| absolute(p)));
        AssetRoots {
            denied: vec![base.join("assets").join("temp")],
            base,
            roots,
        }
    }

    /// The allowed roots, for messages and the API.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    fn inside(&self, p: &Path, resolve: fn(&Path) -> PathBuf) -> bool {
        self.roots.iter().any(|r| p.starts_with(resolve(r)))
            && !self.denied.iter().any(|d| p.starts_with(resolve(d)))
    }

    /// Why `src` may not be read, or `None` if it may.
    pub fn refusal(&self, src: &str) -> Option<String> {
        let p = Path::new(src);
        if p.components().any(|c| c == Component::ParentDir) {
            return Some(format!(
                "`{src}`: `..` is not allowed; paths are relative to the storage root and must \
                 stay under the asset roots"
            ));
        }
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        };
        if !self.inside(&full, Path::to_path_buf) {
            return Some(format!(
                "`{src}` is outside the asset roots ({}); use a path under one of them or upload \
                 the file (POST /v1/assets)",
                self.roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // A missing file is the resolver's to report ("not found"); an existing one must still
        // be inside once every symbolic link is followed.
        if let Ok(real) = std::fs::canonicalize(&full) {
            if !self.inside(&real, canonical) {
                return Some(format!(
                    "`{src}` leads outside the asset roots through a symbolic link"
                ));
            }
        }
        None
    }

    /// Every asset path of `comp` that may not be read, with its JSON path.
    pub fn check(&self, comp: &Composition) -> Vec<SpecIssue> {
        asset_paths(comp)
            .into_iter()
            .filter_map(|(path, src)| self.refusal(src).map(|message| SpecIssue { path, message }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused_and_roots_allowed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let media = dir.path().join("media");
        let extra = dir.path().join("library");
        for d in [
            media.join("assets/images"),
            media.join("stock"),
            extra.clone(),
        ] {
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(dir.path().join("secret.png"), b"x").unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            dir.path().join("secret.png"),
            media.join("assets/images/link.png"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let roots = AssetRoots::new(&media, std::slice::from_ref(&extra));
        assert!(roots.refusal("stock/logo.png").is_none());
        assert!(roots.refusal("assets/images/a.png").is_none());
        assert!(roots
            .refusal(&extra.join("x.wav").display().to_string())
            .is_none());
        assert!(roots.refusal("../secret.png").is_some());
        assert!(roots.refusal("stock/../../secret.png").is_some());
        assert!(roots.refusal("/etc/passwd").is_some());
        assert!(roots.refusal("videos/other.mp4").is_some());
        assert!(roots.refusal("reelsmith.db").is_some());
        assert!(roots.refusal("assets/temp/render-x/owner").is_some());
        #[cfg(unix)]
        assert!(roots.refusal("assets/images/link.png").is_some());
    }
}
