//! Renditions: more sizes of the same composition, made in the same render
//! ([`Output::renditions`]), and the composition each one is resolved from.

use super::*;

/// The most renditions a spec may ask for besides the main output.
pub const MAX_RENDITIONS: usize = 8;

/// Another size of the same video: the same scenes, timing, audio, captions and chapters,
/// composed at `width`x`height` and encoded by an x264 of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rendition {
    /// Its name, unique among the renditions: 1..=32 characters of `A-Z a-z 0-9 . _ -`,
    /// not starting with `.`, and not `main` (the report's name for the main output). It
    /// names the file (`lesson.mp4` → `lesson.<name>.mp4`) and the report's entry.
    pub name: String,
    /// Frame width in pixels; must be even, at most 7680.
    pub width: u32,
    /// Frame height in pixels; must be even, at most 4320.
    pub height: u32,
    /// Where to write this rendition's MP4. Relative paths are resolved against the current
    /// working directory. Default: beside the main output, its file name with `.<name>`
    /// before the extension (`lesson.mp4` → `lesson.720p.mp4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Encoding quality of this rendition. Default: `output.quality`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// Changes to the spec for this rendition only, applied in order before it is resolved:
    /// layout that percentages cannot express (a vertical 9:16 layout). Overrides change
    /// pictures, never timing or sound: they may not reach into `output`, `audio`, `fonts`
    /// or a scene's `duration`, `padding`, `transition` or `narration`, and a rendition
    /// whose scenes, audio, captions or chapters come out timed differently from the main
    /// output's is refused. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// One change to the spec for one rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Where: a JSON Pointer (RFC 6901) into the spec, e.g. `/scenes/0/layers/1/x`. Its
    /// parent must exist (a field may be added to an object; an array item must exist).
    pub path: String,
    /// The value put there: whatever JSON that field accepts (`"50%"`, `120`, an object).
    pub value: serde_json::Value,
}

/// Parts of the spec overrides may not reach, with why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("version", "the spec's version"),
    (
        "output",
        "the output settings (each rendition has its own size and quality)",
    ),
    (
        "audio",
        "the audio (every rendition carries the same audio)",
    ),
    ("fonts", "the fonts"),
];

/// Scene fields overrides may not reach: they time the video.
const SCENE_TIMING: &[&str] = &["duration", "padding", "transition", "narration"];

/// The JSON path (`scenes[0].layers[1].x`) of a JSON Pointer (`/scenes/0/layers/1/x`), as
/// spec issues name places.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer_tokens(pointer) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// The unescaped tokens of a JSON Pointer (`~1` is `/`, `~0` is `~`).
fn pointer_tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Why an override's pointer cannot be used, before looking into the spec.
fn pointer_problem(pointer: &str) -> Option<String> {
    if !pointer.starts_with('/') {
        return Some(format!(
            "`{pointer}` is not a JSON Pointer (expected one starting with `/`, like \
             `/scenes/0/layers/1/x`)"
        ));
    }
    let tokens = pointer_tokens(pointer);
    let first = tokens.first().map(String::as_str).unwrap_or_default();
    if let Some((_, what)) = FORBIDDEN.iter().find(|(k, _)| *k == first) {
        return Some(format!(
            "`{pointer}` reaches {what}: overrides change pictures, not timing or sound"
        ));
    }
    if first == "scenes" {
        if let Some(field) = tokens.get(2).filter(|f| SCENE_TIMING.contains(&f.as_str())) {
            return Some(format!(
                "`{pointer}` reaches a scene's `{field}`, which times the video: overrides \
                 change pictures, not timing or sound"
            ));
        }
    }
    None
}

/// Whether `name` may name a rendition (and a file).
fn name_problem(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.chars().count() > 32 || !ok_chars || name.starts_with('.') {
        Some(format!(
            "name {name:?} cannot name a file (expected 1..=32 characters of A-Z a-z 0-9 . _ -, \
             not starting with `.`)"
        ))
    } else if name == "main" {
        Some("name \"main\" is the main output's (choose another)".into())
    } else {
        None
    }
}

impl Output {
    /// The problems of `renditions` that need nothing but the spec: names, the number of
    /// renditions and each override's pointer. Sizes are checked when each is resolved.
    pub fn rendition_issues(&self) -> Vec<SpecIssue> {
        let mut issues = Vec::new();
        let mut issue = |path: String, message: String| issues.push(SpecIssue { path, message });
        if self.renditions.len() > MAX_RENDITIONS {
            issue(
                "output.renditions".into(),
                format!(
                    "{} renditions (at most {MAX_RENDITIONS})",
                    self.renditions.len()
                ),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.renditions.iter().enumerate() {
            if let Some(p) = name_problem(&r.name) {
                issue(format!("output.renditions[{i}].name"), p);
            } else if !seen.insert(r.name.as_str()) {
                issue(
                    format!("output.renditions[{i}].name"),
                    format!("name {:?} is used by an earlier rendition", r.name),
                );
            }
            for (j, o) in r.overrides.iter().enumerate() {
                if let Some(p) = pointer_problem(&o.path) {
                    issue(format!("output.renditions[{i}].overrides[{j}].path"), p);
                }
            }
        }
        issues
    }
}

impl Composition {
    /// The composition rendition `index` is resolved from: this one at the rendition's size
    /// and quality, with its overrides applied in order, without renditions of its own.
    ///
    /// # Errors
    /// Every override that does not point into the spec or whose value the field does not
    /// accept, at `output.renditions[i].overrides[j]`, naming the place it targets.
    pub fn rendition(&self, index: usize) -> Result<Composition, Vec<SpecIssue>> {
        let Some(r) = self.output.renditions.get(index) else {
            return Err(vec![SpecIssue {
                path: "output.renditions".into(),
                message: format!("no rendition {index}"),
            }]);
        };
        let mut base = self.clone();
        base.output.renditions.clear();
        let mut issues = Vec::new();
        if !r.overrides.is_empty() {
            let mut doc = serde_json::to_value(&base).map_err(|e| {
                vec![SpecIssue {
                    path: format!("output.renditions[{index}]"),
                    message: format!("the spec cannot be copied: {e}"),
                }]
            })?;
            for (j, o) in r.overrides.iter().enumerate() {
                let at = format!("output.renditions[{index}].overrides[{j}]");
                if pointer_problem(&o.path).is_some() {
                    continue; // reported by `Output::rendition_issues`
                }
                let mut next = doc.clone();
                if let Err(why) = set_pointer(&mut next, &o.path, o.value.clone()) {
                    issues.push(SpecIssue {
                        path: at,
                        message: why,
                    });
                    continue;
                }
                match serde_path_to_error::deserialize::<_, Composition>(&next) {
                    Ok(_) => doc = next,
                    Err(e) => {
                        let inner = e.path().to_string();
                        issues.push(SpecIssue {
                            path: at,
                            message: format!(
                                "`{}` ({}): the value does not fit: {}{}",
                                o.path,
                                pointer_to_path(&o.path),
                                e.into_inner(),
                                if inner == "." {
                                    String::new()
                                } else {
                                    format!(" (at {inner})")
                                }
                            ),
                        });
                    }
                }
            }
            if issues.is_empty() {
                base = serde_json::from_value(doc).map_err(|e| {
                    vec![SpecIssue {
                        path: format!("output.renditions[{index}]"),
                        message: e.to_string(),
                    }]
                })?;
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        base.output.width = r.width;
        base.output.height = r.height;
        if let Some(q) = r.quality {
            base.output.quality = q;
        }
        base.output.path = None;
        Ok(base)
    }
}

/// Puts `value` at `pointer` in `doc`: into an existing array item or an object's field
/// (which may be new).
fn set_pointer(
    doc: &mut serde_json::Value,
    pointer: &str,
    value: serde_json::Value,
) -> Result<(), String> {
    let cut = pointer.rfind('/').unwrap_or(0);
    let (parent, last) = (&pointer[..cut], &pointer[cut + 1..]);
    let last = last.replace("~1", "/").replace("~0", "~");
    let missing = || {
        format!(
            "`{pointer}` ({}) is not in the spec: `{}` does not exist",
            pointer_to_path(pointer),
            if parent.is_empty() { "/" } else { parent }
        )
    };
    match doc.pointer_mut(parent) {
        Some(serde_json::Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(serde_json::Value::Array(items)) => {
            let len = items.len();
            let slot = last
                .parse::<usize>()
                .ok()
                .filter(|_| !last.starts_with('+'))
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| {
                    format!(
                        "`{pointer}` ({}) is not in the spec: `{parent}` has {len} items",
                        pointer_to_path(pointer)
                    )
                })?;
            *slot = value;
            Ok(())
        }
        Some(_) => Err(format!(
            "`{pointer}` ({}) is not in the spec: `{parent}` is not an object or array",
            pointer_to_path(pointer)
        )),
        None => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_json_paths() {
        assert_eq!(
            pointer_to_path("/scenes/0/layers/12/x"),
            "scenes[0].layers[12].x"
        );
        assert_eq!(pointer_to_path("/a~1b/c~0d"), "a/b.c~d");
    }

    #[test]
    fn timing_and_output_are_out_of_reach() {
        assert!(pointer_problem("/scenes/0/layers/0/x").is_none());
        assert!(pointer_problem("/output/width").is_some());
        assert!(pointer_problem("/audio/tracks/0/volume_db").is_some());
        assert!(pointer_problem("/scenes/1/duration").is_some());
        assert!(pointer_problem("scenes/1").is_some());
    }

    #[test]
    fn names_are_file_safe() {
        assert!(name_problem("720p").is_none());
        assert!(name_problem("vertical_9-16.v2").is_none());
        for bad in ["", ".hidden", "a/b", "main", "x y", &"n".repeat(33)] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
    }
}
