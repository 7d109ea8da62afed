//! Where the files a spec names are found, and which of them may be read.
//!
//! [`crate::spec::Composition::files`] lists every file a spec names; this module turns each
//! name into a path, and, for untrusted specs, confines it:
//!
//! - A relative name is looked up in the search folders in order: the spec's folder, then the
//!   media root (so `stock/images/logo.png` works from the command line beside `media/` and in
//!   the service, whose specs are relative to its storage root). An absolute name is used as is.
//! - With a [`Confinement`] (the service), a name may only reach files under its roots, after
//!   every symbolic link is followed; `..` is refused outright, and a refused name is not looked
//!   at further: the answer is the same whether the file exists, is a folder or is unreadable,
//!   so errors cannot be used to explore the server. The path a render then opens is the
//!   resolved (canonical) one, so a link changed after the check cannot lead out either.
//!
//! Messages never show where the search folders are when confined: they name the value as
//! written.

use std::path::{Component, Path, PathBuf};

use crate::spec::SpecIssue;
use crate::spec::{Composition, FileKind};

/// The folders an untrusted spec may read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confinement {
    /// Allowed roots, absolute, as given (names are checked against these).
    roots: Vec<PathBuf>,
    /// Never allowed, even under a root (render transactions), as given.
    denied: Vec<PathBuf>,
    /// The same folders resolved once (resolved files are checked against these); a folder
    /// that does not exist yet stays as given.
    real_roots: Vec<PathBuf>,
    real_denied: Vec<PathBuf>,
}

impl Confinement {
    /// Files under `roots` (made absolute), except under `denied`.
    pub fn new(roots: &[PathBuf], denied: &[PathBuf]) -> Confinement {
        let given = |v: &[PathBuf]| v.iter().map(|p| absolute(p)).collect::<Vec<_>>();
        let real = |v: &[PathBuf]| v.iter().map(|p| canonical(p)).collect::<Vec<_>>();
        let (roots, denied) = (given(roots), given(denied));
        Confinement {
            real_roots: real(&roots),
            real_denied: real(&denied),
            roots,
            denied,
        }
    }

    /// The allowed roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Whether the name `p` (not resolved) is under the roots.
    fn names_inside(&self, p: &Path) -> bool {
        self.roots.iter().any(|r| p.starts_with(r)) && !self.denied.iter().any(|d| p.starts_with(d))
    }

    /// `p` with every link followed, if that is under the roots.
    fn resolved_inside(&self, p: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(p).ok().filter(|real| {
            self.real_roots.iter().any(|r| real.starts_with(r))
                && !self.real_denied.iter().any(|d| real.starts_with(d))
        })
    }
}

/// Where relative names are looked up, and the confinement if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAccess {
    /// Folders a relative name is looked up in, first match wins.
    pub search: Vec<PathBuf>,
    /// When set, only files under its roots may be read. `None`: any file the process can
    /// read (the command line, where the spec is the user's own).
    pub confinement: Option<Confinement>,
}

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// Empty or blank.
    #[error("empty file name")]
    Empty,
    /// Outside the allowed roots (or through `..`, or leads out through a link). One message
    /// whatever is or is not there.
    #[error(
        "`{0}` is outside the folders this service may read: use a path under one of its asset \
         roots (`stock/…`, `assets/…`) or upload the file (POST /v1/assets)"
    )]
    Outside(String),
    /// Not found in any search folder.
    #[error("`{name}` does not exist{where_}")]
    Missing {
        /// The name as written.
        name: String,
        /// ` (looked in …)`, or empty when confined.
        where_: String,
    },
    /// Found, but a folder (or not a regular file) where a file is needed.
    #[error("`{0}` is not a file")]
    NotAFile(String),
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Folders that `canonicalize` can resolve are compared resolved, others as given.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl FileAccess {
    /// Unconfined: relative names from `spec_dir`, then `media_root`.
    pub fn open(spec_dir: &Path, media_root: &Path) -> FileAccess {
        let mut search = vec![spec_dir.to_path_buf()];
        if media_root != spec_dir {
            search.push(media_root.to_path_buf());
        }
        FileAccess {
            search,
            confinement: None,
        }
    }

    /// Confined to `roots` (and never `denied`); relative names from `base`.
    pub fn confined(base: &Path, roots: &[PathBuf], denied: &[PathBuf]) -> FileAccess {
        FileAccess {
            search: vec![absolute(base)],
            confinement: Some(Confinement::new(roots, denied)),
        }
    }

    /// The path to read for `name`: the first search folder that has it (a folder counts only
    /// with `folder_ok`), canonical when confined.
    ///
    /// # Errors
    /// [`FileProblem`]: empty, outside the roots, missing, or a folder where a file is needed.
    pub fn resolve(&self, name: &str, folder_ok: bool) -> Result<PathBuf, FileProblem> {
        if name.trim().is_empty() {
            return Err(FileProblem::Empty);
        }
        let p = Path::new(name);
        let outside = || FileProblem::Outside(name.to_string());
        if self.confinement.is_some() && p.components().any(|c| c == Component::ParentDir) {
            return Err(outside());
        }
        let candidates: Vec<PathBuf> = if p.is_absolute() || self.search.is_empty() {
            vec![p.to_path_buf()]
        } else {
            self.search.iter().map(|d| d.join(p)).collect()
        };
        let allowed: Vec<&PathBuf> = candidates
            .iter()
            .filter(|f| self.confinement.as_ref().is_none_or(|c| c.names_inside(f)))
            .collect();
        if allowed.is_empty() {
            // Refused by name alone, before anything is looked at.
            return Err(outside());
        }
        let found = allowed
            .iter()
            .find(|f| f.is_file() || (folder_ok && f.is_dir()));
        let Some(found) = found else {
            if allowed.iter().any(|f| f.exists()) {
                return Err(FileProblem::NotAFile(name.to_string()));
            }
            let where_ = if self.confinement.is_some() || p.is_absolute() {
                String::new()
            } else {
                format!(
                    " (looked in {})",
                    self.search
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            };
            return Err(FileProblem::Missing {
                name: name.to_string(),
                where_,
            });
        };
        match &self.confinement {
            None => Ok((*found).clone()),
            Some(c) => c.resolved_inside(found).ok_or_else(outside),
        }
    }

    /// Whether a file found inside a resolved folder (a font folder's entries) may be read:
    /// always when unconfined; when confined, only if it is inside the roots once resolved.
    pub fn may_read(&self, path: &Path) -> bool {
        match &self.confinement {
            None => true,
            Some(c) => c.resolved_inside(path).is_some(),
        }
    }

    /// Every file `comp` names that cannot be used, each with its JSON path (cheap: names and
    /// file metadata only, nothing is decoded).
    pub fn check(&self, comp: &Composition) -> Vec<SpecIssue> {
        comp.files()
            .into_iter()
            .filter_map(|f| {
                self.resolve(f.src, f.kind == FileKind::Font)
                    .err()
                    .map(|e| SpecIssue {
                        path: f.path,
                        message: e.to_string(),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, FileAccess, PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let media = dir.path().join("media");
        let extra = dir.path().join("library");
        for d in [
            media.join("assets/images"),
            media.join("assets/temp/render-x"),
            media.join("stock/images"),
            media.join("videos"),
            extra.clone(),
        ] {
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        }
        for f in [
            dir.path().join("secret.png"),
            media.join("stock/images/logo.png"),
            media.join("assets/images/a.png"),
            media.join("assets/temp/render-x/owner"),
            media.join("videos/other.mp4"),
            media.join("reelsmith.db"),
            extra.join("x.wav"),
        ] {
            std::fs::write(&f, b"x").unwrap_or_else(|e| panic!("{e}"));
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            dir.path().join("secret.png"),
            media.join("assets/images/link.png"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let access = FileAccess::confined(
            &media,
            &[media.join("assets"), media.join("stock"), extra.clone()],
            &[media.join("assets/temp")],
        );
        (dir, access, extra)
    }

    #[test]
    fn confined_names_stay_under_the_roots() {
        let (dir, access, extra) = tree();
        assert!(access.resolve("stock/images/logo.png", false).is_ok());
        assert!(access.resolve("assets/images/a.png", false).is_ok());
        let x = extra.join("x.wav").display().to_string();
        assert!(access.resolve(&x, false).is_ok());
        let outside = |name: &str| {
            assert_eq!(
                access.resolve(name, false),
                Err(FileProblem::Outside(name.to_string())),
                "{name}"
            );
        };
        outside("../secret.png");
        outside("stock/../../secret.png");
        outside("/etc/passwd");
        outside("/etc/shadow");
        outside("/nope");
        outside("/root");
        outside(&dir.path().join("secret.png").display().to_string());
        outside("videos/other.mp4");
        outside("reelsmith.db");
        outside("assets/temp/render-x/owner");
        #[cfg(unix)]
        outside("assets/images/link.png");
        // Inside the roots, what is there may be told.
        assert!(matches!(
            access.resolve("stock/nope.png", false),
            Err(FileProblem::Missing { where_, .. }) if where_.is_empty()
        ));
        assert_eq!(
            access.resolve("stock/images", false),
            Err(FileProblem::NotAFile("stock/images".into()))
        );
        assert!(access.resolve("stock/images", true).is_ok());
        // Messages name the value as written, never the server's folders.
        let msg = FileProblem::Outside("/etc/passwd".into()).to_string();
        assert!(!msg.contains(&dir.path().display().to_string()), "{msg}");
    }

    #[test]
    fn open_access_searches_the_spec_folder_then_the_media_root() {
        let (dir, _, _) = tree();
        let spec_dir = dir.path().join("examples");
        std::fs::create_dir_all(&spec_dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(spec_dir.join("own.png"), b"x").unwrap_or_else(|e| panic!("{e}"));
        let access = FileAccess::open(&spec_dir, &dir.path().join("media"));
        assert_eq!(
            access.resolve("own.png", false),
            Ok(spec_dir.join("own.png"))
        );
        assert_eq!(
            access.resolve("stock/images/logo.png", false),
            Ok(dir.path().join("media/stock/images/logo.png"))
        );
        assert_eq!(
            access.resolve("../secret.png", false),
            Ok(spec_dir.join("../secret.png"))
        );
        let Err(FileProblem::Missing { where_, .. }) = access.resolve("nope.png", false) else {
            panic!("expected missing")
        };
        assert!(where_.contains("examples"), "{where_}");
    }
}
