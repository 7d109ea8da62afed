//! The house rules, read from the source: the library's layers import only downwards, and no
//! files import each other in a circle.
//!
//! `LAYERS` is the declared order, lowest first. A file belongs to the layer of its top folder
//! under `src/` (or is one, like `error.rs`). Every `crate::name` path in code (comments are
//! skipped) must name a layer at or below its own; inside a layer, the files' references to each
//! other (`crate::layer::file`, `super::file`) must not form a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. Each may import only from itself and those before it.
const LAYERS: &[(&str, &str)] = &[
    (
        "base",
        "the machine's errors, memory, pixel buffers, size-kept folders",
    ),
    (
        "spec",
        "the JSON document, its schema, the one list of files it names",
    ),
    ("plan", "the resolved model: frames, samples, paths; no I/O"),
    (
        "media",
        "everything read from files through libav, pictures, speech",
    ),
    ("text", "fonts, shaping, drawing text"),
    (
        "resolve",
        "spec + media facts -> plan; file confinement; limits",
    ),
    ("compose", "prepare, draw, motion -> YUV frames"),
    ("audio", "mix and master"),
    ("encode", "H.264, AAC, subtitles, MP4 mux, packet files"),
    ("cache", "scene and audio caches"),
    ("error", "the render's error, wrapping each layer's"),
    (
        "pipeline",
        "the one sequencer: options, progress, transaction, report",
    ),
    ("batch", "one template, a table of rows, a video per row"),
    (
        "farm",
        "one render over many machines: broker, store, workers, coordinator",
    ),
    ("service", "the HTTP job service"),
    ("fuzzing", "fuzz harnesses over the public layers"),
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|(l, _)| *l == layer)
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/` (`compose::frame`, `plan` for `plan/mod.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file with comments and string literals' contents left out, as lines.
fn code_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") {
                return String::new();
            }
            // Drop a trailing comment; paths never contain "//".
            let l = l.split("//").next().unwrap_or("");
            // Drop the insides of simple string literals (messages may say "crate::x").
            let mut out = String::new();
            let mut in_str = false;
            let mut prev = ' ';
            for c in l.chars() {
                if c == '"' && prev != '\\' {
                    in_str = !in_str;
                    out.push(c);
                } else if !in_str {
                    out.push(c);
                }
                prev = c;
            }
            out
        })
        .collect()
}

/// The paths after `prefix` (`crate::`, `super::`) in `code`: `a::b::c` for `crate::a::b::c`,
/// and for a group `crate::a::{b, c::d}` the paths `a::b`, `a::c::d`.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut segs = Vec::new();
        let mut s = rest;
        loop {
            let name: String = s
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                break;
            }
            s = &s[name.len()..];
            segs.push(name);
            if let Some(t) = s.strip_prefix("::") {
                s = t;
                if let Some(group) = s.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let mut p = segs.clone();
                        p.extend(
                            item.trim()
                                .split("::")
                                .map(|x| x.split_whitespace().next().unwrap_or("").to_string())
                                .filter(|x| !x.is_empty() && x != "self" && x != "*"),
                        );
                        found.push(p);
                    }
                    segs.clear();
                    break;
                }
            } else {
                break;
            }
        }
        if !segs.is_empty() {
            found.push(segs);
        }
    }
    found
}

struct Source {
    module: String,
    file: PathBuf,
    is_mod: bool,
    lines: Vec<String>,
    /// Line index where `#[cfg(test)] mod tests` begins (its `super::` means this file).
    tests_at: usize,
}

fn read_sources() -> (PathBuf, Vec<Source>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let out = files
        .into_iter()
        // The command line (main.rs and its modules in src/cli/) is the binary, above every
        // layer: it uses the library as `reelsmith::`.
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n != "main.rs" && n != "lib.rs")
                && !f.starts_with(src.join("cli"))
        })
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("read");
            let lines = code_lines(&text);
            let tests_at = lines
                .windows(2)
                .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim().starts_with("mod "))
                .unwrap_or(lines.len());
            Source {
                module: module_of(&src, &f),
                is_mod: f.file_name().is_some_and(|n| n == "mod.rs"),
                file: f,
                lines,
                tests_at,
            }
        })
        .collect();
    (src, out)
}

#[test]
fn the_declared_layers_are_the_library_s_modules() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let layers: Vec<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        declared, layers,
        "src/lib.rs must declare the layers in this test's order, lowest first"
    );
}

#[test]
fn layers_import_only_downwards() {
    let (src, files) = read_sources();
    let mut climbs = Vec::new();
    let mut edges: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in &files {
        let own = f.module.split("::").next().unwrap_or_default().to_string();
        let own_rank = rank(&own).unwrap_or_else(|| panic!("{} is in no layer", f.file.display()));
        for (n, line) in f.lines.iter().enumerate() {
            for path in paths_after(line, "crate::") {
                let Some(first) = path.first() else { continue };
                let Some(r) = rank(first) else { continue };
                if r > own_rank {
                    climbs.push(format!(
                        "{}:{}: layer `{own}` imports `crate::{}` from layer `{first}` above it",
                        f.file.strip_prefix(&src).unwrap_or(&f.file).display(),
                        n + 1,
                        path.join("::")
                    ));
                }
                if r != own_rank {
                    edges
                        .entry((own.clone(), first.clone()))
                        .or_insert_with(|| format!("{}:{}", f.file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        climbs.is_empty(),
        "imports that climb (the order is in tests/layers.rs):\n  {}",
        climbs.join("\n  ")
    );
    // The test reads what it should: the upper layers do reach the lower ones.
    for (from, to) in [
        ("pipeline", "encode"),
        ("resolve", "media"),
        ("encode", "compose"),
    ] {
        assert!(
            edges.contains_key(&(from.to_string(), to.to_string())),
            "expected {from} to import {to}: is the reader broken?"
        );
    }
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let (src, files) = read_sources();
    let modules: BTreeSet<&str> = files.iter().map(|f| f.module.as_str()).collect();
    let prefix_module = |segs: &[String]| -> Option<(usize, String)> {
        (1..=segs.len())
            .rev()
            .map(|k| (k, segs[..k].join("::")))
            .find(|(_, c)| modules.contains(c.as_str()))
    };
    // Names a module re-exports (`pub use child::Name;`, `pub use crate::a::b::Name;`): a
    // use of `module::Name` is a use of the file that defines it.
    let mut reexports: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in &files {
        for line in f.lines.iter().take(f.tests_at) {
            let t = line.trim_start();
            if !t.starts_with("pub use ") && !t.starts_with("pub(crate) use ") {
                continue;
            }
            let here: Vec<String> = f.module.split("::").map(String::from).collect();
            for path in paths_after(t, "use ") {
                let Some(name) = path.last() else { continue };
                let full: Vec<String> = if path.first().is_some_and(|p| p == "crate") {
                    path[1..].to_vec()
                } else {
                    let mut v = here.clone();
                    v.extend(path.iter().cloned());
                    v
                };
                if let Some((_, m)) = prefix_module(&full[..full.len().saturating_sub(1)]) {
                    let name = name.split(" as ").next().unwrap_or(name).to_string();
                    reexports.insert((f.module.clone(), name), m);
                }
            }
        }
    }
    let longest = |segs: &[String]| -> Option<String> {
        let (k, m) = prefix_module(segs)?;
        match segs.get(k) {
            Some(next) => Some(
                reexports
                    .get(&(m.clone(), next.clone()))
                    .cloned()
                    .unwrap_or(m),
            ),
            None => Some(m),
        }
    };
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let deps = graph.entry(&f.module).or_default();
        // `super::` of a file names its folder's module; of a `mod.rs`, the folder's parent.
        let folder: Vec<String> = {
            let mut v: Vec<String> = f.module.split("::").map(String::from).collect();
            v.pop();
            if f.is_mod {
                v.pop();
            }
            v
        };
        // A `mod.rs` names its own files by their bare names (`use patch::Patcher;`).
        let children: Vec<String> = f
            .lines
            .iter()
            .filter_map(|l| {
                let t = l.trim();
                let t = t.strip_prefix("pub ").unwrap_or(t);
                let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
                t.strip_prefix("mod ")?.strip_suffix(';').map(String::from)
            })
            .collect();
        for (n, line) in f.lines.iter().enumerate() {
            let mut targets: Vec<Vec<String>> = paths_after(line, "crate::");
            // Re-exports make a folder's facade, not a use of the file.
            let reexport = f.is_mod && line.trim_start().starts_with("pub use ");
            for child in children.iter().filter(|_| !reexport) {
                let bare = paths_after(line, &format!("{child}::"));
                let own = paths_after(line, &format!("self::{child}::"));
                if !bare.is_empty() || !own.is_empty() {
                    let mut full: Vec<String> = f.module.split("::").map(String::from).collect();
                    full.push(child.clone());
                    targets.push(full);
                }
            }
            if n < f.tests_at {
                for p in paths_after(line, "super::") {
                    let mut full = folder.clone();
                    full.extend(p);
                    targets.push(full);
                }
            }
            for t in targets {
                if let Some(m) = longest(&t) {
                    if m != f.module {
                        deps.insert(m);
                    }
                }
            }
        }
    }
    // A circle is a strongly connected set of more than one file (Tarjan).
    struct Walk<'a> {
        graph: &'a BTreeMap<&'a str, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        circles: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &str) {
            self.index.insert(v.into(), self.next);
            self.low.insert(v.into(), self.next);
            self.next += 1;
            self.stack.push(v.into());
            self.on.insert(v.into());
            let deps: Vec<String> = self
                .graph
                .get(v)
                .map(|d| d.iter().cloned().collect())
                .unwrap_or_default();
            for w in deps {
                if !self.graph.contains_key(w.as_str()) {
                    continue;
                }
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let lw = self.low[&w];
                    let lv = self.low[v].min(lw);
                    self.low.insert(v.into(), lv);
                } else if self.on.contains(&w) {
                    let lv = self.low[v].min(self.index[&w]);
                    self.low.insert(v.into(), lv);
                }
            }
            if self.low[v] == self.index[v] {
                let mut circle = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = w == v;
                    circle.push(w);
                    if done {
                        break;
                    }
                }
                if circle.len() > 1 {
                    circle.sort();
                    self.circles.push(circle);
                }
            }
        }
    }
    let mut walk = Walk {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        circles: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(*v) {
            walk.visit(v);
        }
    }
    let shown: Vec<String> = walk
        .circles
        .iter()
        .map(|c| {
            let inside: Vec<String> = c
                .iter()
                .flat_map(|m| {
                    graph[m.as_str()]
                        .iter()
                        .filter(|d| c.contains(d))
                        .map(move |d| format!("{m} -> {d}"))
                })
                .collect();
            format!("{:?}: {}", c, inside.join(", "))
        })
        .collect();
    assert!(
        walk.circles.is_empty(),
        "files under {} that import each other in a circle:\n  {}",
        src.display(),
        shown.join("\n  ")
    );
    assert!(graph.len() > 30, "read {} files only", graph.len());
}

#[test]
fn paths_are_read_from_code_only() {
    assert_eq!(
        paths_after("use crate::a::{b, c::d as e};", "crate::"),
        vec![vec!["a", "b"], vec!["a", "c", "d"]]
    );
    assert_eq!(
        paths_after("x(crate::plan::Plan::new())", "crate::"),
        vec![vec!["plan", "Plan", "new"]]
    );
    assert!(paths_after("reelsmith_crate::x", "crate::").is_empty());
    assert_eq!(code_lines("a // crate::b\n// crate::c")[0].trim(), "a");
    assert_eq!(code_lines("f(\"crate::x\")")[0], "f(\"\")");
}

#[test]
fn no_source_file_is_above_40_kb() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let big: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let len = std::fs::metadata(f).ok()?.len();
            (len > 40 * 1024).then(|| format!("{} ({len} bytes)", f.display()))
        })
        .collect();
    assert!(
        big.is_empty(),
        "split these at their seams (one job per module): {big:?}"
    );
}
