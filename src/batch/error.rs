//! Why a batch cannot start.

use std::path::PathBuf;

use crate::spec::{SpecError, SpecIssue};

/// Why a batch cannot start (a row's own failure is in its [`RowResult`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The table could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The table file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The table is malformed.
    #[error("{what} line {line}: {message}")]
    Table {
        /// The table (a file name, or `rows`).
        what: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The template itself is unusable.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Problems found before rendering: unknown columns, bad values, clashing outputs.
    #[error("{} problem{} in the batch:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid(Vec<SpecIssue>),
}
