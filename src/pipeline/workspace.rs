//! The render transaction.
//!
//! Each render owns a folder `<temp root>/render-<id>/` and a partial output file
//! `.<name>.<id>.partial` beside the final output (same filesystem, so the final rename is
//! atomic). Both are listed in the folder's `owner` file. The [`Workspace`] guard removes them
//! when dropped (error, cancellation, panic), unless [`Workspace::commit`] succeeded, which
//! syncs the partial file and renames it over the output path. A folder whose owning process
//! is gone (killed, crashed) is swept by [`sweep`], which every render calls first.
//!
//! After any failure there is no file at the output path, and a file that was already there
//! is left untouched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

const OWNER_FILE: &str = "owner";
const KEEP_FILE: &str = "keep";
const DIR_PREFIX: &str = "render-";

/// A render's temporary files. Removed on drop unless committed (or kept with `keep_temp`).
#[derive(Debug)]
pub struct Workspace {
    id: String,
    dir: PathBuf,
    partial: Option<PathBuf>,
    /// Files (captions) and folders (thumbnails) that go with the output: (partial, final
    /// path).
    companions: Vec<(PathBuf, PathBuf)>,
    /// Where a folder already at a companion folder's path is moved while the new one takes
    /// its place (removed once the output is in place, moved back if it cannot be).
    asides: Vec<PathBuf>,
    keep_temp: bool,
    done: bool,
}

/// What [`sweep`] removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SweepReport {
    /// Folders and partial outputs removed.
    pub removed: Vec<PathBuf>,
}

/// This process's identity: pid and kernel start time (so a reused pid is not mistaken for us).
fn self_identity() -> String {
    let pid = std::process::id();
    format!("{pid} {}", start_time(pid).unwrap_or_default())
}

/// Field 22 of /proc/<pid>/stat: the process start time in clock ticks since boot.
fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: parse after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// Whether the process recorded as `identity` ("pid starttime") is still running.
fn is_alive(identity: &str) -> bool {
    let mut it = identity.split_whitespace();
    let Some(pid) = it.next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    let recorded = it.next().unwrap_or("");
    if !Path::new("/proc/self/stat").exists() {
        // No procfs: only our own pid is known to be alive.
        return pid == std::process::id();
    }
    match start_time(pid) {
        Some(now) => recorded.is_empty() || now == recorded,
        None => false,
    }
}

fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{:x}-{n}", std::process::id(), nanos & 0xffff_ffff_ffff)
}

/// Removes the folders (and the partial outputs they list) of renders whose process is gone.
///
/// # Errors
/// Only if `temp_root` exists but cannot be listed; individual removals are best effort.
pub fn sweep(temp_root: &Path) -> Result<SweepReport, Error> {
    let mut report = SweepReport::default();
    let entries = match fs::read_dir(temp_root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(Error::io("list temp folder", temp_root)(e)),
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(DIR_PREFIX) || !dir.is_dir() {
            continue;
        }
        if dir.join(KEEP_FILE).exists() {
            continue;
        }
        let owner = fs::read_to_string(dir.join(OWNER_FILE)).unwrap_or_default();
        let mut lines = owner.lines();
        let identity = lines.next().unwrap_or("");
        let alive = if identity.is_empty() {
            // The owner file is not written yet (the folder was just made) or is being
            // rewritten: another render of a live process may be in that instant. The folder
            // name starts with its creator's pid; only a dead creator's folder goes.
            name.to_string_lossy()
                .strip_prefix(DIR_PREFIX)
                .and_then(|id| id.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| {
                    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
                })
        } else {
            is_alive(identity)
        };
        if alive {
            continue;
        }
        for line in lines {
            if let Some(p) = line.strip_prefix("partial ") {
                let p = PathBuf::from(p);
                if fs::symlink_metadata(&p).is_ok() {
                    remove_any(&p);
                    report.removed.push(p);
                }
            }
        }
        if fs::remove_dir_all(&dir).is_ok() {
            report.removed.push(dir);
        }
    }
    Ok(report)
}

impl Workspace {
    /// Creates a fresh workspace under `temp_root` (created if missing).
    ///
    /// # Errors
    /// [`Error::Io`] if the folder cannot be made.
    pub fn create(temp_root: &Path, keep_temp: bool) -> Result<Workspace, Error> {
        fs::create_dir_all(temp_root).map_err(Error::io("create temp folder", temp_root))?;
        let id = unique_id();
        let dir = temp_root.join(format!("{DIR_PREFIX}{id}"));
        fs::create_dir(&dir).map_err(Error::io("create temp folder", &dir))?;
        let ws = Workspace {
            id,
            dir,
            partial: None,
            companions: Vec::new(),
            asides: Vec::new(),
            keep_temp,
            done: false,
        };
        ws.write_owner()?;
        if keep_temp {
            fs::write(ws.dir.join(KEEP_FILE), b"kept by --keep-temp\n")
                .map_err(Error::io("write", ws.dir.join(KEEP_FILE)))?;
        }
        Ok(ws)
    }

    fn write_owner(&self) -> Result<(), Error> {
        let mut text = self_identity();
        text.push('\n');
        for p in self
            .partial
            .iter()
            .chain(self.companions.iter().map(|(p, _)| p))
            .chain(&self.asides)
        {
            text.push_str(&format!("partial {}\n", p.display()));
        }
        let path = self.dir.join(OWNER_FILE);
        let mut f = fs::File::create(&path).map_err(Error::io("write", &path))?;
        f.write_all(text.as_bytes())
            .map_err(Error::io("write", &path))?;
        f.sync_all().map_err(Error::io("sync", &path))
    }

    /// The render's private temporary folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The render id (also part of the folder name).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Reserves the partial file for `output` (beside it) and records it for cleanup. The
    /// output's folder is created if missing.
    ///
    /// # Errors
    /// [`Error::Io`] if the folder cannot be created or the record written.
    pub fn partial_output(&mut self, output: &Path) -> Result<PathBuf, Error> {
        let p = self.beside(output)?;
        self.partial = Some(p.clone());
        self.write_owner()?;
        Ok(p)
    }

    /// Reserves a partial file for `path`, a file that goes with the output (its captions):
    /// renamed into place by [`Workspace::commit`] just before the output, removed with the
    /// rest if the render fails.
    ///
    /// # Errors
    /// [`Error::Io`] if the folder cannot be created or the record written.
    pub fn companion(&mut self, path: &Path) -> Result<PathBuf, Error> {
        let p = self.beside(path)?;
        self.companions.push((p.clone(), path.to_path_buf()));
        self.write_owner()?;
        Ok(p)
    }

    /// Reserves a partial folder for `path`, a folder of files that goes with the output (its
    /// thumbnails), and creates it: renamed into place by [`Workspace::commit`] just before
    /// the output (a folder already there is replaced whole), removed with the rest if the
    /// render fails.
    ///
    /// # Errors
    /// [`Error::Io`] if the folder cannot be created or the record written.
    pub fn companion_dir(&mut self, path: &Path) -> Result<PathBuf, Error> {
        let p = self.beside(path)?;
        let aside = p.with_extension("old");
        self.companions.push((p.clone(), path.to_path_buf()));
        self.asides.push(aside);
        self.write_owner()?;
        fs::create_dir(&p).map_err(Error::io("create folder", &p))?;
        Ok(p)
    }

    /// `.<name>.<id>.partial` in `output`'s folder (created if missing).
    fn beside(&self, output: &Path) -> Result<PathBuf, Error> {
        let parent = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(Error::io("create output folder", parent))?;
        let name = output
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let parent =
            fs::canonicalize(parent).map_err(Error::io("resolve output folder", parent))?;
        Ok(parent.join(format!(".{name}.{}.partial", self.id)))
    }

    /// Makes the partial output durable and renames it to `output`, replacing any file there,
    /// then removes the workspace. Returns the output's size.
    ///
    /// # Errors
    /// [`Error::Io`]; the workspace is then still cleaned up by drop.
    pub fn commit(mut self, output: &Path) -> Result<u64, Error> {
        let partial = self
            .partial
            .clone()
            .ok_or_else(|| Error::Internal("commit without a partial output".into()))?;
        let f = fs::File::open(&partial).map_err(Error::io("open", &partial))?;
        f.sync_all().map_err(Error::io("sync", &partial))?;
        let size = f.metadata().map_err(Error::io("stat", &partial))?.len();
        drop(f);
        let companions = std::mem::take(&mut self.companions);
        // Placed companions: (final path, where the folder it replaced was moved).
        let mut placed: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        let undo = |placed: Vec<(PathBuf, Option<PathBuf>)>| {
            for (p, aside) in placed.into_iter().rev() {
                remove_any(&p);
                if let Some(a) = aside {
                    let _ = fs::rename(a, p);
                }
            }
        };
        for (part, path) in &companions {
            let done = place(part, path);
            match done {
                Ok(aside) => placed.push((path.clone(), aside)),
                Err(e) => {
                    // The rest (this partial included) goes with the workspace.
                    self.companions = companions.clone();
                    undo(placed);
                    return Err(Error::io("rename into place", path)(e));
                }
            }
        }
        if let Err(e) = fs::rename(&partial, output) {
            self.companions = companions.clone();
            undo(placed);
            return Err(Error::io("rename into place", output)(e));
        }
        for (_, aside) in placed {
            if let Some(a) = aside {
                remove_any(&a);
            }
        }
        if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Persist the rename itself. Best effort: some filesystems refuse to sync folders.
            if let Ok(d) = fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        self.partial = None;
        self.done = true;
        self.cleanup();
        Ok(size)
    }

    fn cleanup(&mut self) {
        if let Some(p) = self.partial.take() {
            let _ = fs::remove_file(p);
        }
        for (p, _) in self.companions.drain(..) {
            remove_any(&p);
        }
        if !self.keep_temp {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes a file, or a folder with what it holds. Best effort.
fn remove_any(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Syncs the partial `part` (a file, or a folder and its files) and renames it to `path`. A
/// folder already at `path` is first moved aside; returns where.
fn place(part: &Path, path: &Path) -> std::io::Result<Option<PathBuf>> {
    if !fs::symlink_metadata(part)?.is_dir() {
        fs::File::open(part)?.sync_all()?;
        fs::rename(part, path)?;
        return Ok(None);
    }
    for e in fs::read_dir(part)? {
        fs::File::open(e?.path())?.sync_all()?;
    }
    fs::File::open(part)?.sync_all()?;
    let aside = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let a = part.with_extension("old");
            fs::rename(path, &a)?;
            Some(a)
        }
        _ => None,
    };
    if let Err(e) = fs::rename(part, path) {
        if let Some(a) = &aside {
            let _ = fs::rename(a, path);
        }
        return Err(e);
    }
    Ok(aside)
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.done {
            self.cleanup();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_removes_everything() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = root.path().join("videos/out.mp4");
        let (dir, partial) = {
            let mut ws = Workspace::create(&root.path().join("temp"), false)
                .unwrap_or_else(|e| panic!("{e}"));
            let p = ws.partial_output(&out).unwrap_or_else(|e| panic!("{e}"));
            fs::write(&p, b"half a video").unwrap_or_else(|e| panic!("{e}"));
            (ws.dir().to_path_buf(), p)
        };
        assert!(!dir.exists());
        assert!(!partial.exists());
        assert!(!out.exists());
    }

    #[test]
    fn commit_renames_over_existing() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = root.path().join("out.mp4");
        fs::write(&out, b"old").unwrap_or_else(|e| panic!("{e}"));
        let mut ws =
            Workspace::create(&root.path().join("temp"), false).unwrap_or_else(|e| panic!("{e}"));
        let dir = ws.dir().to_path_buf();
        let p = ws.partial_output(&out).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&p, b"new video").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ws.commit(&out).unwrap_or_else(|e| panic!("{e}")), 9);
        assert_eq!(fs::read(&out).unwrap_or_default(), b"new video");
        assert!(!p.exists());
        assert!(!dir.exists());
    }

    #[test]
    fn a_companion_folder_replaces_the_old_one_or_goes() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = root.path().join("out.mp4");
        let thumbs = root.path().join("out.thumbs");
        fs::create_dir(&thumbs).unwrap_or_else(|e| panic!("{e}"));
        fs::write(thumbs.join("old.jpg"), b"old").unwrap_or_else(|e| panic!("{e}"));
        let temp = root.path().join("temp");
        // A failed render: the old folder stays as it was, the partial one goes.
        let partial_dir = {
            let mut ws = Workspace::create(&temp, false).unwrap_or_else(|e| panic!("{e}"));
            let d = ws.companion_dir(&thumbs).unwrap_or_else(|e| panic!("{e}"));
            fs::write(d.join("new.jpg"), b"new").unwrap_or_else(|e| panic!("{e}"));
            d
        };
        assert!(!partial_dir.exists());
        assert!(thumbs.join("old.jpg").exists());
        // A committed one: the new folder replaces the old one whole.
        let mut ws = Workspace::create(&temp, false).unwrap_or_else(|e| panic!("{e}"));
        let p = ws.partial_output(&out).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&p, b"video").unwrap_or_else(|e| panic!("{e}"));
        let d = ws.companion_dir(&thumbs).unwrap_or_else(|e| panic!("{e}"));
        fs::write(d.join("new.jpg"), b"new").unwrap_or_else(|e| panic!("{e}"));
        ws.commit(&out).unwrap_or_else(|e| panic!("{e}"));
        assert!(thumbs.join("new.jpg").exists());
        assert!(!thumbs.join("old.jpg").exists());
        let names: Vec<_> = fs::read_dir(root.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}"); // out.mp4, out.thumbs, temp
    }

    #[test]
    fn sweep_spares_a_folder_whose_owner_file_is_not_written_yet() {
        // Two renders in one process (the job service): one sweeps while the other has made
        // its folder but not yet written the owner file.
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let temp = root.path().join("temp");
        let ours = temp.join(format!("render-{}-abc-7", std::process::id()));
        let dead = temp.join("render-999999999-abc-7");
        for d in [&ours, &dead] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
        }
        sweep(&temp).unwrap_or_else(|e| panic!("{e}"));
        assert!(ours.exists());
        assert!(!dead.exists());
    }

    #[test]
    fn sweep_removes_dead_owners_only() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let temp = root.path().join("temp");
        // A live one (ours).
        let live = Workspace::create(&temp, false).unwrap_or_else(|e| panic!("{e}"));
        // A dead one: pid 0 never owns a render; with a partial output beside a video.
        let dead = temp.join("render-dead");
        fs::create_dir_all(&dead).unwrap_or_else(|e| panic!("{e}"));
        let partial = root.path().join(".x.mp4.dead.partial");
        fs::write(&partial, b"x").unwrap_or_else(|e| panic!("{e}"));
        fs::write(
            dead.join(OWNER_FILE),
            format!("999999999 1\npartial {}\n", partial.display()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let r = sweep(&temp).unwrap_or_else(|e| panic!("{e}"));
        assert!(!dead.exists());
        assert!(!partial.exists());
        assert!(live.dir().exists());
        assert_eq!(r.removed.len(), 2);
    }
}
