//! `reelsmith._native`: the Rust half of the `reelsmith` Python package.
//!
//! Thin on purpose: every function takes and returns JSON text (the library's serde types
//! on one side, `json.loads` on the other), releases the GIL while the library works, and
//! reports a failure as one exception, `NativeError(json)`, whose JSON is the error the job
//! service records for a failed render (`kind`, `stage`, `path`, `message`, `issues`, plus
//! the CLI's `exit_code`). The pure-Python modules turn that into the package's exception
//! classes and typed objects.
#![deny(unsafe_code)]

use std::path::{Path, PathBuf};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use reelsmith::{Composition, Error, Progress, RenderOptions, StageId};
use serde_json::json;

pyo3::create_exception!(
    _native,
    NativeError,
    PyException,
    "A failure of the library, as JSON: kind, stage, path, message, issues, exit_code."
);

/// The exception for `e`, raised during `stage` (when one had begun).
fn native_error(e: &Error, stage: Option<StageId>) -> PyErr {
    let issues = e.issues();
    let value = json!({
        "kind": e.kind(),
        "stage": stage.map(StageId::as_str),
        "path": issues.first().map(|i| i.path.clone()),
        "message": e.to_string(),
        "issues": issues,
        "exit_code": e.exit_code(),
    });
    NativeError::new_err(value.to_string())
}

fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| NativeError::new_err(internal(e.to_string())))
}

/// An `internal` error's JSON.
fn internal(message: String) -> String {
    json!({"kind": "internal", "message": message, "issues": [], "exit_code": 1}).to_string()
}

/// The spec, from its JSON text or its file, and the options for it: relative asset paths
/// are looked up beside the file (else in `base_dir`, the current folder by default), then
/// under the media root, as the command line does.
fn load(
    spec_json: Option<&str>,
    spec_path: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    media_root: Option<PathBuf>,
) -> Result<(Composition, RenderOptions), Error> {
    let (comp, opts) = match spec_path {
        Some(path) => {
            let (comp, _) = reelsmith::load_spec(&path)?;
            (comp, RenderOptions::for_spec_file(&path))
        }
        None => (
            Composition::from_json(spec_json.unwrap_or_default())?,
            RenderOptions::default(),
        ),
    };
    let opts = match base_dir {
        Some(dir) => opts.with_base_dir(dir),
        None => opts,
    };
    let opts = match media_root {
        Some(root) => opts.with_media_root(root),
        None => opts,
    };
    Ok((comp, opts))
}

/// Progress for a render called from Python: checks for Ctrl-C (Python's signal handlers)
/// and calls the callback, each time with the GIL held again; the first exception (a
/// `KeyboardInterrupt` included) or a `False` from the callback cancels the render.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    stage: Option<StageId>,
    last_done: Option<u64>,
    /// Why the render was cancelled, when Python raised.
    raised: Option<PyErr>,
    /// The callback returned a false value.
    declined: bool,
}

impl PyProgress {
    fn poll(&mut self, done: u64, total: u64) -> bool {
        if self.raised.is_some() || self.declined {
            return false;
        }
        let changed = self.last_done != Some(done);
        self.last_done = Some(done);
        let outcome = Python::attach(|py| -> PyResult<bool> {
            py.check_signals()?;
            match &self.callback {
                Some(cb) if changed => {
                    let answer = cb.call1(py, (done, total))?;
                    // `None` (a callback that returns nothing) goes on; anything else is
                    // taken for its truth.
                    Ok(answer.is_none(py) || answer.is_truthy(py)?)
                }
                _ => Ok(true),
            }
        });
        match outcome {
            Ok(go_on) => {
                self.declined = !go_on;
                go_on
            }
            Err(e) => {
                self.raised = Some(e);
                false
            }
        }
    }
}

impl Progress for PyProgress {
    fn stage(&mut self, stage: StageId) {
        self.stage = Some(stage);
        // Ctrl-C before the first frame (while assets are prepared) is seen at the next poll.
        if self.raised.is_none() {
            if let Err(e) = Python::attach(|py| py.check_signals()) {
                self.raised = Some(e);
            }
        }
    }

    fn frames(&mut self, done: u64, total: u64) -> bool {
        self.poll(done, total)
    }
}

/// Renders a spec (JSON text, or the file at `spec_path`) and returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (spec_json=None, spec_path=None, *, output=None, base_dir=None,
    media_root=None, quality=None, progress=None, scene_cache=true, audio_cache=true,
    threads=0))]
#[allow(clippy::too_many_arguments)]
fn render(
    py: Python<'_>,
    spec_json: Option<String>,
    spec_path: Option<PathBuf>,
    output: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    media_root: Option<PathBuf>,
    quality: Option<String>,
    progress: Option<Py<PyAny>>,
    scene_cache: bool,
    audio_cache: bool,
    threads: usize,
) -> PyResult<String> {
    let quality = match quality {
        None => None,
        Some(q) => Some(
            serde_json::from_value::<reelsmith::spec::Quality>(json!(q)).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "quality `{q}` is not one of fast, standard, high"
                ))
            })?,
        ),
    };
    let mut watch = PyProgress {
        callback: progress,
        stage: None,
        last_done: None,
        raised: None,
        declined: false,
    };
    let result = py.detach(|| {
        let (comp, mut opts) = load(spec_json.as_deref(), spec_path, base_dir, media_root)?;
        opts = opts
            .with_scene_cache(scene_cache)
            .with_audio_cache(audio_cache)
            .with_threads(threads);
        opts.output = output;
        opts.quality = quality.or(opts.quality);
        reelsmith::render_with_progress(&comp, &opts, &mut watch)
    });
    match (result, watch.raised) {
        (Ok(report), _) => to_json(&report),
        // Ctrl-C (and any other exception that is not an `Exception`, like `SystemExit`)
        // goes on as itself once the render has cleaned up.
        (Err(Error::Cancelled), Some(raised))
            if !raised.is_instance_of::<pyo3::exceptions::PyException>(py) =>
        {
            Err(raised)
        }
        (Err(e), raised) => {
            let err = native_error(&e, watch.stage);
            err.set_cause(py, raised);
            Err(err)
        }
    }
}

/// Checks a spec as a render would, without drawing or encoding; the summary as JSON.
#[pyfunction]
#[pyo3(signature = (spec_json=None, spec_path=None, *, base_dir=None, media_root=None))]
fn validate(
    py: Python<'_>,
    spec_json: Option<String>,
    spec_path: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    media_root: Option<PathBuf>,
) -> PyResult<String> {
    let summary = py.detach(|| {
        let (comp, opts) = load(spec_json.as_deref(), spec_path, base_dir, media_root)?;
        // Long audio is decoded into the system's temporary folder, as the CLI does.
        reelsmith::validate(&comp, &opts.with_spill_dir(std::env::temp_dir()))
    });
    match summary {
        Ok(summary) => to_json(&summary),
        Err(e) => Err(native_error(&e, Some(StageId::Validate))),
    }
}

/// Streams, codecs, frames and faststart of a media file, as JSON.
#[pyfunction]
fn probe(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    match py.detach(|| reelsmith::media::probe::probe(Path::new(&path))) {
        Ok(info) => to_json(&info),
        Err(e) => Err(native_error(&Error::Probe(e), None)),
    }
}

/// The JSON Schema of the spec, as `reelsmith schema` prints it.
#[pyfunction]
fn schema() -> PyResult<String> {
    to_json(&Composition::json_schema())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(probe, m)?)?;
    m.add_function(wrap_pyfunction!(schema, m)?)?;
    Ok(())
}
