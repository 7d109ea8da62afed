//! Renditions (`output.renditions`): planned with the main output (one timeline, one audio
//! plan, every size's layers resolved), rendered in the same run into the same transaction.
//!
//! Shared by all renditions of a render: planning's fonts, text engine, decoded audio levels
//! and spoken narration; the audio, mixed, mastered and AAC-encoded once (every file muxes
//! the same packets); the captions and chapters; the render transaction (all files appear
//! together, or none). Made once per rendition: its pictures (each picture decoded and
//! scaled to its size on screen, composition, YUV) and its x264 encode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::frames::AudioSource;
use super::progress::Progress;
use super::range::{captions_path, chapters_path};
use super::report::StageId;
use super::workspace::Workspace;
use crate::cache::audio::{Entry, Store, LAYOUT};
use crate::error::Error;
use crate::plan::{Plan, PlanRendition};
use crate::spec::{pointer_to_path, Composition, Rendition, SpecError, SpecIssue};

/// Where a rendition's MP4 goes: its `path`, else beside the main output with `.<name>`
/// before the extension (`lesson.mp4` → `lesson.720p.mp4`).
pub fn rendition_output(main: &Path, r: &Rendition) -> PathBuf {
    if let Some(p) = &r.path {
        return PathBuf::from(p);
    }
    let stem = main
        .file_stem()
        .map_or_else(|| "output".into(), |s| s.to_string_lossy().into_owned());
    let ext = main
        .extension()
        .map_or_else(|| "mp4".into(), |e| e.to_string_lossy().into_owned());
    main.with_file_name(format!("{stem}.{}.{ext}", r.name))
}

/// Resolves every rendition of `comp` (whose main plan is `main`, its output set) with
/// `resolve`, and checks that each is timed as the main one and writes files of its own.
///
/// # Errors
/// [`SpecError::Invalid`] with every problem, each at its rendition's path
/// (`output.renditions[i]…`); [`SpecError::Env`] as resolving says it.
pub(super) fn plan_all(
    comp: &Composition,
    main: &Plan,
    resolve: &dyn Fn(&Composition) -> Result<Plan, SpecError>,
) -> Result<Vec<PlanRendition>, SpecError> {
    let mut issues = Vec::new();
    let mut out = Vec::new();
    // Every file a rendition writes, and who writes it.
    let mut written: HashMap<PathBuf, String> = HashMap::new();
    for f in files_of(main, &main.output) {
        written.insert(f, "the main output".into());
    }
    for (i, r) in comp.output.renditions.iter().enumerate() {
        let at = format!("output.renditions[{i}]");
        let derived = match comp.rendition(i) {
            Ok(c) => c,
            Err(v) => {
                issues.extend(v);
                continue;
            }
        };
        let mut plan = match resolve(&derived) {
            Ok(p) => p,
            Err(SpecError::Invalid(v)) => {
                issues.extend(v.into_iter().map(|iss| locate(i, r, iss)));
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(d) = main.timing_difference(&plan) {
            issues.push(SpecIssue {
                path: format!("{at}.overrides"),
                message: format!(
                    "rendition {:?} would be timed differently from the main output ({d}): \
                     overrides may change pictures, not timing or sound",
                    r.name
                ),
            });
            continue;
        }
        plan.output = rendition_output(&main.output, r);
        let mut clash = false;
        for f in files_of(&plan, &plan.output) {
            if let Some(other) = written.get(&f) {
                issues.push(SpecIssue {
                    path: format!("{at}.{}", if r.path.is_some() { "path" } else { "name" }),
                    message: format!("{} is also written by {other}", f.display()),
                });
                clash = true;
            } else {
                written.insert(f, format!("rendition {:?}", r.name));
            }
        }
        if !clash {
            out.push(PlanRendition::from_plan(&r.name, plan));
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(SpecError::Invalid(issues))
    }
}

/// The files a render of `plan` to `output` writes: the video and its WebVTT files.
fn files_of(plan: &Plan, output: &Path) -> Vec<PathBuf> {
    let mut files = vec![output.to_path_buf()];
    files.extend(captions_path(plan, output));
    files.extend(chapters_path(plan, output));
    files
}

/// A problem found resolving rendition `i`, put where it was written: the rendition's
/// size, the override that put the value there, else the rendition itself (naming the
/// place in the spec).
fn locate(i: usize, r: &Rendition, iss: SpecIssue) -> SpecIssue {
    let at = format!("output.renditions[{i}]");
    for field in ["width", "height"] {
        if iss.path == format!("output.{field}") {
            return SpecIssue {
                path: format!("{at}.{field}"),
                message: iss.message,
            };
        }
    }
    let by = r.overrides.iter().enumerate().rev().find(|(_, o)| {
        let target = pointer_to_path(&o.path);
        iss.path == target
            || iss.path.starts_with(&format!("{target}."))
            || iss.path.starts_with(&format!("{target}["))
    });
    match by {
        Some((j, _)) => SpecIssue {
            path: format!("{at}.overrides[{j}]"),
            message: format!("{}: {}", iss.path, iss.message),
        },
        None => SpecIssue {
            path: at,
            message: format!(
                "at {}x{} ({:?}): {}: {}",
                r.width, r.height, r.name, iss.path, iss.message
            ),
        },
    }
}

/// The progress of one rendition as part of the whole render: its frames counted after
/// the renditions before it, out of every rendition's frames.
pub(super) struct Counted<'a> {
    pub(super) inner: &'a mut dyn Progress,
    /// Frames of the renditions already made.
    pub(super) before: u64,
    /// Frames of all renditions.
    pub(super) all: u64,
}

impl Progress for Counted<'_> {
    fn stage(&mut self, stage: StageId) {
        self.inner.stage(stage);
    }
    fn frames(&mut self, done: u64, _total: u64) -> bool {
        self.inner.frames(self.before + done, self.all)
    }
}

/// The file in the render's folder that holds the main rendition's AAC packets for the
/// others.
const SHARED_AUDIO: &str = "renditions-audio.aac";

/// The main rendition's audio source, made to leave its AAC packets in a file for the
/// other renditions, and where that file will be once the main rendition is made (the
/// audio cache's entry, or a file in the render's folder).
///
/// # Errors
/// [`Error::Io`] if the file cannot be created.
pub(super) fn keep_audio(
    audio: AudioSource,
    ws: &Workspace,
) -> Result<(AudioSource, Option<PathBuf>), Error> {
    Ok(match audio {
        AudioSource::Fresh {
            mixer,
            store: Some(store),
        } => {
            let at = store.dest().to_path_buf();
            (
                AudioSource::Fresh {
                    mixer,
                    store: Some(store),
                },
                Some(at),
            )
        }
        AudioSource::Fresh { mixer, store: None } => {
            let temp = ws.dir().join("renditions-audio.part");
            let at = ws.dir().join(SHARED_AUDIO);
            let store = Store::file(temp.clone(), at.clone(), &LAYOUT)
                .map_err(Error::io("write the audio packets", &temp))?;
            (
                AudioSource::Fresh {
                    mixer,
                    store: Some(store),
                },
                Some(at),
            )
        }
        AudioSource::Cached(entry) => {
            let at = entry.path().to_path_buf();
            (AudioSource::Cached(entry), Some(at))
        }
    })
}

/// Once the main rendition is made: its AAC packets copied into the render's folder (from
/// the audio cache, which other renders may prune), where [`shared_audio`] reads them.
///
/// # Errors
/// [`Error::Io`] if they cannot be copied.
pub(super) fn settle_audio(at: &Path, ws: &Workspace) -> Result<(), Error> {
    let dest = ws.dir().join(SHARED_AUDIO);
    if at != dest {
        std::fs::copy(at, &dest).map_err(Error::io("copy the audio packets", at))?;
    }
    Ok(())
}

/// The audio of a further rendition: the main rendition's AAC packets, muxed again.
///
/// # Errors
/// [`Error::Io`] if they cannot be read back.
pub(super) fn shared_audio(ws: &Workspace) -> Result<AudioSource, Error> {
    let at = ws.dir().join(SHARED_AUDIO);
    Entry::open(&at, &LAYOUT)
        .map(AudioSource::Cached)
        .map_err(|e| Error::Io {
            op: "read the audio packets",
            path: at.clone(),
            source: std::io::Error::other(e.to_string()),
        })
}

/// The composition that renders only the renditions named in `names` (`main` for the main
/// output), each to the file a render of all of them writes (`main_output` is the main
/// output's path), and the output path to render it to. With `main`, any of the others
/// go with it; without it, one rendition only, rendered as the main output of its own
/// render (its overrides applied). Empty `names`: everything.
///
/// # Errors
/// [`SpecError::Invalid`] at `output.renditions` for a name the spec does not have, or for
/// more than one rendition without `main`; the rendition's override problems.
pub fn select(
    comp: &Composition,
    names: &[String],
    main_output: &Path,
) -> Result<(Composition, PathBuf), SpecError> {
    let refuse = |message: String| {
        SpecError::Invalid(vec![SpecIssue {
            path: "output.renditions".into(),
            message,
        }])
    };
    let known: Vec<&str> = std::iter::once("main")
        .chain(comp.output.renditions.iter().map(|r| r.name.as_str()))
        .collect();
    if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(refuse(format!(
            "no rendition named {bad:?} (the spec has {})",
            known.join(", ")
        )));
    }
    if names.is_empty() {
        return Ok((comp.clone(), main_output.to_path_buf()));
    }
    if names.iter().any(|n| n == "main") {
        let mut c = comp.clone();
        c.output.renditions.retain(|r| names.contains(&r.name));
        return Ok((c, main_output.to_path_buf()));
    }
    let picked: Vec<usize> = (0..comp.output.renditions.len())
        .filter(|&i| names.contains(&comp.output.renditions[i].name))
        .collect();
    let [i] = picked[..] else {
        return Err(refuse(
            "more than one rendition without `main`: choose one, or add `main`".into(),
        ));
    };
    let r = &comp.output.renditions[i];
    let out = rendition_output(main_output, r);
    let mut c = comp.rendition(i).map_err(SpecError::Invalid)?;
    c.output.path = Some(out.display().to_string());
    Ok((c, out))
}
