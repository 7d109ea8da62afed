//! Folders of files kept under a size: the least recently used go first. The scene, audio
//! and speech caches are such folders.

use std::path::{Path, PathBuf};

/// The files of `dir` whose extension is `ext`: (last modified, bytes, path). Other files are
/// not listed; a folder that cannot be read lists nothing.
pub fn entries(dir: &Path, ext: &str) -> Vec<(std::time::SystemTime, u64, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect()
}

/// Removes the least recently used of `files` (last used, bytes, path) until they hold at
/// most `limit` bytes, never one used at or after `keep_since`.
pub fn prune_lru(
    mut files: Vec<(std::time::SystemTime, u64, PathBuf)>,
    limit: u64,
    keep_since: Option<std::time::SystemTime>,
) {
    let mut total: u64 = files.iter().map(|e| e.1).sum();
    files.sort();
    for (used, len, path) in files {
        if total <= limit || keep_since.is_some_and(|t| used >= t) {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// Removes cache files listed as (last used, bytes, path); one already gone (another process
/// removed it first) is skipped. Returns what was removed.
///
/// # Errors
/// The first file that could not be removed.
pub fn remove_all(
    files: impl IntoIterator<Item = (std::time::SystemTime, u64, PathBuf)>,
) -> std::io::Result<Usage> {
    let mut removed = Usage::default();
    for (_, len, path) in files {
        match std::fs::remove_file(&path) {
            Ok(()) => {
                removed.entries += 1;
                removed.bytes += len;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// Entries in a cache folder and their size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Entries.
    pub entries: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Usage {
    /// Of cache files listed as (last used, bytes, path).
    pub fn of(files: &[(std::time::SystemTime, u64, PathBuf)]) -> Usage {
        Usage {
            entries: files.len() as u64,
            bytes: files.iter().map(|f| f.1).sum(),
        }
    }
}
