//! Batches: one template, a table of rows, one video per row (`reelsmith batch`).
//!
//! A row's cells are the template's variables (a column `id` names the row; it is a variable
//! too when the template declares one). Everything that can be checked before rendering is:
//! the table's columns against the template's variables, every row's values, and the outputs
//! (one file per row, no two rows writing the same file). Rows are then rendered `jobs` at a
//! time; a row that fails is reported and the others go on. Each finished output is recorded
//! with a key of everything that made it (the plan: the spec after substitution, the content
//! hashes of its files, the encoder settings) in `.reelsmith-batch.json` beside it, so a
//! re-run skips the rows whose output is there with the same key. Variants that share scenes
//! are cheap anyway: the scene and audio caches serve what an earlier row already encoded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::pipeline::{self, Progress, RenderOptions};
use crate::spec::template::{declared, Values};
use crate::spec::{Composition, SpecIssue};

mod error;
mod table;

pub use error::BatchError;
pub use table::{read_rows, rows_from_json, rows_from_text, Row, TableFormat};

/// The file beside a batch's outputs recording what made each one.
pub const MANIFEST: &str = ".reelsmith-batch.json";

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Rendered now.
    Done,
    /// Its output is there, made from the same inputs: not rendered again.
    Skipped,
    /// Failed; the error says why. Nothing was written for it.
    Failed,
    /// Not rendered: the batch was cancelled first.
    Cancelled,
}

/// One row's outcome: the summary table's line.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// 1-based row number (data rows, the header not counted).
    pub row: usize,
    /// The row's id (its `id` cell, else its number).
    pub id: String,
    /// The row's output file.
    pub output: PathBuf,
    /// How it ended.
    pub status: RowStatus,
    /// Wall seconds spent on the row (planning and rendering).
    pub seconds: f64,
    /// Frames rendered (0 when skipped or failed).
    pub frames: u64,
    /// Why it failed, with the spec path of the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A batch's outcome, row by row.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// Every row, in table order.
    pub rows: Vec<RowResult>,
    /// Wall seconds of the whole batch.
    pub seconds: f64,
}

impl BatchReport {
    /// Rows that ended with `status`.
    pub fn count(&self, status: RowStatus) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }

    /// The summary table: row, id, status, seconds, output or error.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:>4}  {:<16} {:<9} {:>8}  {}\n",
            "row", "id", "status", "seconds", "output / error"
        );
        for r in &self.rows {
            let status = match r.status {
                RowStatus::Done => "done",
                RowStatus::Skipped => "skipped",
                RowStatus::Failed => "FAILED",
                RowStatus::Cancelled => "cancelled",
            };
            let detail = match &r.error {
                Some(e) => e.replace('\n', " "),
                None => r.output.display().to_string(),
            };
            out += &format!(
                "{:>4}  {:<16} {:<9} {:>8.2}  {}\n",
                r.row,
                truncate(&r.id, 16),
                status,
                r.seconds,
                detail
            );
        }
        out += &format!(
            "{} rows: {} done, {} skipped, {} failed{} in {:.1} s\n",
            self.rows.len(),
            self.count(RowStatus::Done),
            self.count(RowStatus::Skipped),
            self.count(RowStatus::Failed),
            match self.count(RowStatus::Cancelled) {
                0 => String::new(),
                n => format!(", {n} cancelled"),
            },
            self.seconds
        );
        out
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// What a batch reports while it runs; called from the rows' threads.
pub trait BatchProgress: Sync {
    /// A row starts (planning, then rendering).
    fn row_started(&self, _row: &Row) {}
    /// `done` of `total` frames of `row` are encoded. Return false to cancel the batch.
    fn frames(&self, _row: &Row, _done: u64, _total: u64) -> bool {
        true
    }
    /// A row ended.
    fn row_finished(&self, _result: &RowResult) {}
}

/// A batch progress that reports nothing and never cancels.
#[derive(Debug, Default)]
pub struct Quiet;
impl BatchProgress for Quiet {}

/// How to run a batch.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The outputs: a path with `{{column}}` placeholders (and `{{row}}`, the row number),
    /// relative to the current directory. Cell values are made file-name safe. Default:
    /// `<media root>/videos/<template name>/{{id}}.mp4`.
    pub output: Option<String>,
    /// Rows rendered at once; the cores are shared out between them. Default: 1.
    pub jobs: usize,
    /// Render every row, even those whose output was made from the same inputs. Default:
    /// false.
    pub force: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            output: None,
            jobs: 1,
            force: false,
        }
    }
}

/// A row made ready: its values checked, its output chosen.
struct Prepared<'a> {
    row: &'a Row,
    output: PathBuf,
}

/// Checks the table against the template's variables and chooses each row's output; every
/// problem at once. Returns the rows and the template's variable names.
fn prepare<'a>(
    template: &str,
    rows: &'a [Row],
    opts: &RenderOptions,
    batch: &BatchOptions,
) -> Result<(Vec<Prepared<'a>>, BTreeSet<String>), BatchError> {
    let decls = declared(template)?;
    let mut issues = Vec::new();
    let columns: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.values.keys().map(String::as_str))
        .collect();
    for c in &columns {
        if !decls.contains_key(*c) && *c != "id" {
            issues.push(SpecIssue {
                path: format!("rows.{c}"),
                message: format!(
                    "column {c:?} is not a variable of the template (declared: {})",
                    decls.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    if !issues.is_empty() {
        return Err(BatchError::Invalid(issues));
    }
    let pattern = batch.output.clone().unwrap_or_else(|| {
        opts.media_root
            .join("videos")
            .join(&opts.output_name)
            .join("{{id}}.mp4")
            .to_string_lossy()
            .into_owned()
    });
    let mut seen: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for row in rows {
        let output = PathBuf::from(table::output_name(&pattern, row));
        if let Some(first) = seen.insert(output.clone(), row.number) {
            issues.push(SpecIssue {
                path: format!("rows[{}]", row.number),
                message: format!(
                    "writes {} like row {first}: put a column that differs in the output \
                     pattern (-o 'out/{{{{id}}}}.mp4')",
                    output.display()
                ),
            });
        }
        out.push(Prepared { row, output });
    }
    if issues.is_empty() {
        Ok((out, decls.into_keys().collect()))
    } else {
        Err(BatchError::Invalid(issues))
    }
}

/// The values a row gives the template: its cells, less an `id` the template does not
/// declare.
fn row_values(template_vars: &BTreeSet<String>, row: &Row) -> Values {
    row.values
        .iter()
        .filter(|(k, _)| template_vars.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The key of everything that makes a row's output: the plan, which holds the spec after
/// substitution, the content hash of every file it reads and the encoder settings.
fn inputs_key(plan: &crate::plan::Plan) -> String {
    let json = serde_json::to_vec(plan).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The recorded keys of the outputs in `dir`.
fn read_manifest(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice::<BTreeMap<String, String>>(&b).ok())
        .unwrap_or_default()
}

/// Records `key` for `output` (replacing the manifest atomically).
fn record(output: &Path, key: &str, lock: &Mutex<()>) -> std::io::Result<()> {
    let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let mut m = read_manifest(dir);
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    m.insert(name, key.to_string());
    let text = serde_json::to_vec_pretty(&m).map_err(std::io::Error::other)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &text)?;
    // Readable like the videos beside it (a temporary file is private).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(dir.join(MANIFEST)).map_err(|e| e.error)?;
    Ok(())
}

fn recorded(output: &Path) -> Option<String> {
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty());
    let name = output.file_name()?.to_string_lossy().into_owned();
    read_manifest(dir.unwrap_or(Path::new("."))).remove(&name)
}

/// Forwards one row's render progress to the batch's.
struct RowProgress<'a> {
    row: &'a Row,
    batch: &'a dyn BatchProgress,
    cancel: &'a AtomicBool,
    frames: u64,
}

impl Progress for RowProgress<'_> {
    fn frames(&mut self, done: u64, total: u64) -> bool {
        self.frames = total;
        if !self.batch.frames(self.row, done, total) {
            self.cancel.store(true, Ordering::SeqCst);
        }
        !self.cancel.load(Ordering::SeqCst)
    }
}

/// One row: substitute, plan, skip if made from the same inputs, render.
fn run_row(
    template: &str,
    vars: &BTreeSet<String>,
    p: &Prepared<'_>,
    opts: &RenderOptions,
    force: bool,
    progress: &mut RowProgress<'_>,
    lock: &Mutex<()>,
) -> Result<RowStatus, Error> {
    let comp = Composition::from_template(template, &row_values(vars, p.row))?;
    let mut opts = opts.clone();
    opts.output = Some(p.output.clone());
    let plan = pipeline::plan(&comp, &opts)?;
    let key = inputs_key(&plan);
    if !force && p.output.is_file() && recorded(&p.output).as_deref() == Some(key.as_str()) {
        return Ok(RowStatus::Skipped);
    }
    if let Some(dir) = p.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create the output folder",
            path: dir.into(),
            source,
        })?;
    }
    pipeline::render_plan(&plan, &opts, progress)?;
    record(&p.output, &key, lock).map_err(|source| Error::Io {
        op: "record the batch's inputs",
        path: p.output.with_file_name(MANIFEST),
        source,
    })?;
    Ok(RowStatus::Done)
}

/// Renders one video per row of `rows` from `template` (the spec's JSON text; relative paths
/// in it resolve against `opts.base_dir`). Checks everything it can first ([`BatchError`]);
/// then every row ends in the report, a failed one with its error.
///
/// # Errors
/// [`BatchError`] when the batch cannot start: a bad template, an unknown column, two rows
/// writing one file.
pub fn run(
    template: &str,
    rows: &[Row],
    opts: &RenderOptions,
    batch: &BatchOptions,
    progress: &dyn BatchProgress,
) -> Result<BatchReport, BatchError> {
    let started = Instant::now();
    let (prepared, vars) = prepare(template, rows, opts, batch)?;
    let jobs = batch.jobs.clamp(1, prepared.len().max(1));
    let mut opts = opts.clone();
    if jobs > 1 && opts.threads == 0 {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        opts = opts.with_threads((cores / jobs).max(1));
    }
    let cancel = AtomicBool::new(false);
    let lock = Mutex::new(());
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<RowResult>>> = Mutex::new(vec![None; prepared.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(p) = prepared.get(i) else { break };
                let t = Instant::now();
                let (status, frames, error) = if cancel.load(Ordering::SeqCst) {
                    (RowStatus::Cancelled, 0, None)
                } else {
                    progress.row_started(p.row);
                    let mut rp = RowProgress {
                        row: p.row,
                        batch: progress,
                        cancel: &cancel,
                        frames: 0,
                    };
                    match run_row(template, &vars, p, &opts, batch.force, &mut rp, &lock) {
                        Ok(RowStatus::Skipped) => (RowStatus::Skipped, 0, None),
                        Ok(status) => (status, rp.frames, None),
                        Err(Error::Cancelled) => (RowStatus::Cancelled, 0, None),
                        Err(e) => (RowStatus::Failed, 0, Some(e.to_string())),
                    }
                };
                let result = RowResult {
                    row: p.row.number,
                    id: p.row.id.clone(),
                    output: p.output.clone(),
                    status,
                    seconds: t.elapsed().as_secs_f64(),
                    frames,
                    error,
                };
                progress.row_finished(&result);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            });
        }
    });
    let rows = results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect();
    Ok(BatchReport {
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}
