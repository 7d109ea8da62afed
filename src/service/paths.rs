//! Which files a submitted spec may read, and what it may cost.
//!
//! Renders run with the storage root as the base folder, so a relative `src` such as
//! `stock/images/logo.png` or `assets/uploads/…` means a file under the storage root. Every
//! file the spec names ([`crate::spec::Composition::files`]: pictures, clips as layers and
//! backgrounds, audio, narration, fonts) must stay under an allowed root: `<media>/assets`
//! (without its `temp/`), `<media>/stock`, and each `--asset-root`, after symbolic links are
//! followed, both when the spec is submitted and when it is rendered (the render opens the
//! resolved path). See [`crate::resolve::files`].

use std::path::{Path, PathBuf};

use crate::pipeline::RenderOptions;
use crate::resolve::files::FileAccess;
use crate::resolve::limits::Limits;
use crate::spec::Composition;
use crate::spec::SpecIssue;

/// The service's policy for specs: where their files may come from, and their caps.
#[derive(Debug, Clone)]
pub struct SpecPolicy {
    media: PathBuf,
    roots: Vec<PathBuf>,
    /// Caps on one spec.
    pub limits: Limits,
    /// Chunks of long scenes (a render farm's: [`RenderOptions::chunk_s`]).
    pub chunk_s: f64,
}

impl SpecPolicy {
    /// The default roots under `media` plus `extra`, and `limits`.
    pub fn new(media: &Path, extra: &[PathBuf], limits: Limits) -> SpecPolicy {
        // Absolute, so that the confinement compares like with like: a relative storage root
        // means one under the working folder (as for any relative path), and std resolves it so.
        let media = std::path::absolute(media).unwrap_or_else(|_| media.to_path_buf());
        let mut roots = vec![media.join("assets"), media.join("stock")];
        roots.extend(extra.iter().cloned());
        SpecPolicy {
            media,
            roots,
            limits,
            chunk_s: 0.0,
        }
    }

    /// The roots as a client may see them: relative to the storage root where they are under
    /// it (`assets`, `stock`); `--asset-root` folders as the operator gave them.
    pub fn public_roots(&self) -> Vec<String> {
        self.roots
            .iter()
            .map(|r| match r.strip_prefix(&self.media) {
                Ok(rel) => rel.display().to_string(),
                Err(_) => r.display().to_string(),
            })
            .collect()
    }

    /// Render options confined to the roots with the caps: the base of every plan and render
    /// of a submitted spec.
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            base_dir: self.media.clone(),
            media_root: self.media.clone(),
            asset_roots: Some(self.roots.clone()),
            limits: Some(self.limits),
            chunk_s: self.chunk_s,
            ..RenderOptions::default()
        }
    }

    /// The cheap checks, before the spec is admitted: its caps, and every file it names
    /// (names and file metadata only; refused names are not looked at further).
    pub fn check(&self, comp: &Composition) -> Vec<SpecIssue> {
        let mut issues = self.limits.check(comp);
        let files: FileAccess = self.options().file_access();
        issues.extend(files.check(comp));
        issues
    }

    /// `text` with the storage root's absolute path taken out (messages from deeper layers
    /// may name the files they read: a client sees them relative to the storage root).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let canonical = std::fs::canonicalize(&self.media).ok();
        for root in canonical.iter().chain(std::iter::once(&self.media)) {
            let prefix = format!("{}/", root.display());
            out = out.replace(&prefix, "");
            out = out.replace(&root.display().to_string(), ".");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_file_is_confined() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let media = dir.path().join("media");
        std::fs::create_dir_all(media.join("stock")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("secret.png"), b"x").unwrap_or_else(|e| panic!("{e}"));
        let policy = SpecPolicy::new(&media, &[], Limits::default());
        let secret = dir.path().join("secret.png").display().to_string();
        let comp = Composition::from_json(
            &serde_json::json!({
                "fonts": ["/etc"],
                "scenes": [{
                    "duration": 1,
                    "background": {"type": "video", "src": "../../secret.png"},
                    "layers": [
                        {"type": "image", "src": secret},
                        {"type": "video", "src": secret}
                    ],
                    "narration": {"src": "/etc/passwd"}
                }, {
                    "duration": 1,
                    "background": {"type": "image", "src": "videos/x.mp4"}
                }],
                "audio": {"tracks": [{"src": "reelsmith.db"}]}
            })
            .to_string(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let issues = policy.check(&comp);
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "fonts[0]",
                "scenes[0].background.src",
                "scenes[0].layers[0].src",
                "scenes[0].layers[1].src",
                "scenes[0].narration.src",
                "scenes[1].background.src",
                "audio.tracks[0].src"
            ]
        );
        for i in &issues {
            assert!(i.message.contains("outside the folders"), "{i:?}");
            assert!(!i.message.contains(&media.display().to_string()), "{i:?}");
        }
        assert_eq!(policy.public_roots(), ["assets", "stock"]);
        let shown = policy.redact(&format!("cannot open {}/stock/a.wav", media.display()));
        assert_eq!(shown, "cannot open stock/a.wav");
    }
}
