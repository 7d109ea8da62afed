//! The fonts a spec brings (its `fonts` entries): found and confined like every other file,
//! each checked to be a font, and loaded once for every text engine.

use crate::plan::{FontFile, Plan, UserFonts};
use crate::resolve::files::FileAccess;
use crate::spec::SpecIssue;

/// Loads the spec's `fonts` entries (files or folders of `.ttf`/`.otf`/`.ttc`, found and
/// confined by `files`). Problems are returned with the entry's spec path, `fonts[i]`, and
/// name the entry as written.
pub fn load(entries: &[String], files: &FileAccess) -> (UserFonts, Vec<SpecIssue>) {
    let mut fonts = UserFonts::default();
    let mut issues = Vec::new();
    let is_font = |p: &std::path::Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc"))
    };
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("fonts[{i}]");
        let p = match files.resolve(entry, true) {
            Ok(p) => p,
            Err(e) => {
                issues.push(SpecIssue {
                    path,
                    message: e.to_string(),
                });
                continue;
            }
        };
        // A file of the folder is shown by its name under the entry as written.
        let shown = |f: &std::path::Path| {
            if f == p {
                format!("`{entry}`")
            } else {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
                format!("`{entry}/{}`", name.unwrap_or_default())
            }
        };
        let found: Vec<std::path::PathBuf> = if p.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(&p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|f| is_font(f) && files.may_read(f))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            if v.is_empty() {
                issues.push(SpecIssue {
                    path: path.clone(),
                    message: format!("`{entry}` has no .ttf, .otf or .ttc files"),
                });
            }
            v
        } else {
            vec![p.clone()]
        };
        for f in found {
            match std::fs::read(&f) {
                Ok(bytes) => {
                    let mut probe = cosmic_text::fontdb::Database::new();
                    probe.load_font_data(bytes.clone());
                    if probe.is_empty() {
                        issues.push(SpecIssue {
                            path: path.clone(),
                            message: format!(
                                "{} is not a font (TrueType, OpenType or a collection of them)",
                                shown(&f)
                            ),
                        });
                    } else {
                        fonts.files.push(FontFile {
                            sha256: crate::base::hash::sha256_hex(&bytes),
                            path: f,
                            bytes: Some(std::sync::Arc::new(bytes)),
                        });
                    }
                }
                Err(e) => issues.push(SpecIssue {
                    path: path.clone(),
                    message: format!("cannot read {}: {e}", shown(&f)),
                }),
            }
        }
    }
    (fonts, issues)
}

/// Loads the bytes of a plan's fonts that are not loaded yet (a plan read back from JSON
/// names them by path and hash), checking each against its hash.
///
/// # Errors
/// A font that cannot be read or whose bytes changed since the plan was made: its path and
/// what is wrong.
pub fn load_plan(plan: &mut Plan) -> Result<(), (std::path::PathBuf, String)> {
    for f in &mut plan.fonts.files {
        if f.bytes.is_some() {
            continue;
        }
        let bytes = std::fs::read(&f.path).map_err(|e| (f.path.clone(), e.to_string()))?;
        let sha = crate::base::hash::sha256_hex(&bytes);
        if sha != f.sha256 {
            return Err((
                f.path.clone(),
                format!(
                    "changed since the plan was made (SHA-256 {sha}, planned {})",
                    f.sha256
                ),
            ));
        }
        f.bytes = Some(std::sync::Arc::new(bytes));
    }
    Ok(())
}

/// SHA-256 of every file the plan reads ([`Plan::input_files`]), into `plan.inputs`. A file
/// that cannot be read gets none (reading it for the render says what is wrong).
pub fn hash_inputs(plan: &mut Plan) {
    let mut inputs = std::collections::BTreeMap::new();
    for f in &plan.fonts.files {
        inputs.insert(f.path.clone(), f.sha256.clone());
    }
    for p in plan.input_files() {
        if inputs.contains_key(p) {
            continue;
        }
        if let Ok(h) = crate::base::hash::sha256_file(p) {
            inputs.insert(p.to_path_buf(), crate::base::hash::hex(&h));
        }
    }
    plan.inputs = inputs;
}
