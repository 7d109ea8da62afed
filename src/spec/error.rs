//! The spec layer's errors: a spec that cannot be read, parsed or resolved, with the JSON path
//! of each problem.

use std::fmt;
use std::path::PathBuf;

use crate::base::env::EnvError;

/// One problem found in a spec, with the JSON path of the offending value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpecIssue {
    /// JSON path, e.g. `scenes[3].layers[1].src`.
    pub path: String,
    /// What is wrong: the value found and what is allowed.
    pub message: String,
}

impl fmt::Display for SpecIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A spec that cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec {path}: {source}")]
    Read {
        /// The spec file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is malformed or does not match the spec's shape.
    #[error("{path}: {message}")]
    Parse {
        /// JSON path where parsing stopped.
        path: String,
        /// serde's description.
        message: String,
    },
    /// Resolving the spec needed to write a file (speaking a narration into the speech
    /// cache) and the machine would not let it: not a problem of the spec.
    #[error(transparent)]
    Env(EnvError),
    /// The spec parsed but has problems; all of them are listed.
    #[error("{} problem{} in spec:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid(Vec<SpecIssue>),
}

impl SpecError {
    /// The individual problems (one for `Read`/`Parse`).
    pub fn issues(&self) -> Vec<SpecIssue> {
        match self {
            SpecError::Read { path, source } => vec![SpecIssue {
                path: "$".into(),
                message: format!("cannot read {}: {source}", path.display()),
            }],
            SpecError::Parse { path, message } => vec![SpecIssue {
                path: path.clone(),
                message: message.clone(),
            }],
            SpecError::Invalid(v) => v.clone(),
            SpecError::Env(e) => vec![SpecIssue {
                path: "$".into(),
                message: e.to_string(),
            }],
        }
    }
}
