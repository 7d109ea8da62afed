//! The error of a render: [`Error`] wraps each layer's own enum ([`SpecError`],
//! [`AssetError`], [`ProbeError`], [`ComposeError`], [`EncodeError`]), every variant naming what
//! failed: the spec path (`scenes[3].layers[1].src`), the file, or the libav operation.

use std::path::PathBuf;

pub use crate::base::env::{is_environmental, EnvError};
pub use crate::compose::ComposeError;
pub use crate::encode::EncodeError;
pub use crate::media::error::{AssetError, ProbeError};
pub use crate::spec::{SpecError, SpecIssue};

/// Any failure of a render.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// An asset could not be loaded.
    #[error(transparent)]
    Asset(#[from] AssetError),
    /// Drawing a frame failed.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// Encoding failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Reading media failed.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// A file operation of the render transaction failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A range of frames that cannot be rendered on its own, or packet files that do not
    /// make up the plan's video.
    #[error("{0}")]
    Range(String),
    /// A file the plan reads changed or vanished since the plan was made.
    #[error("{path}: {why}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The progress callback asked to stop.
    #[error("render cancelled")]
    Cancelled,
    /// A bug: a worker thread panicked.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code the CLI uses for this error (documented in `--help`):
    /// 2 a range that cannot be rendered alone, 3 invalid spec, 4 asset (or a planned input
    /// that changed), 5 encode/IO (including a full, read-only or forbidden folder
    /// while resolving or loading: [`EnvError`]), 130 cancelled, 1 other.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec(SpecError::Env(_)) | Error::Asset(AssetError::Env(_)) => 5,
            Error::Spec(_) => 3,
            Error::Asset(_) => 4,
            Error::Compose(_) | Error::Encode(_) | Error::Io { .. } | Error::Probe(_) => 5,
            Error::Cancelled => 130,
            Error::Range(_) => 2,
            Error::Input { .. } => 4,
            Error::Internal(_) => 1,
        }
    }

    /// The kind of failure, as the job service names it in a failed render's error
    /// (`{"kind": ...}`) and the Python package maps it to an exception: `invalid_spec`,
    /// `asset`, `encode`, `io`, `environment` (a full, read-only or forbidden folder),
    /// `canceled` or `internal`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Spec(SpecError::Env(_)) | Error::Asset(AssetError::Env(_)) => "environment",
            Error::Spec(_) => "invalid_spec",
            Error::Asset(_) => "asset",
            Error::Compose(_) | Error::Encode(_) => "encode",
            Error::Io { .. } | Error::Probe(_) => "io",
            Error::Cancelled => "canceled",
            // Whole plans never fail with a range error: that would be a bug.
            Error::Range(_) => "internal",
            Error::Input { .. } => "asset",
            Error::Internal(_) => "internal",
        }
    }

    /// The problems that have a spec path (a spec's, or the assets' it names), each with its
    /// message; empty for the other errors.
    pub fn issues(&self) -> Vec<SpecIssue> {
        match self {
            Error::Spec(s) => s.issues(),
            Error::Asset(AssetError::Load(v)) => v.clone(),
            Error::Asset(AssetError::Text { path, message }) => vec![SpecIssue {
                path: path.clone(),
                message: message.clone(),
            }],
            _ => Vec::new(),
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_errors_exit_5_and_name_the_folder() {
        let env = || {
            EnvError::new(
                "writing decoded audio to a temporary file",
                "/srv/media/assets/temp",
                std::io::Error::from_raw_os_error(28),
            )
        };
        let spec = Error::Spec(SpecError::Env(env()));
        let asset = Error::Asset(AssetError::Env(env()));
        assert_eq!((spec.exit_code(), asset.exit_code()), (5, 5));
        let m = asset.to_string();
        assert!(
            m.starts_with(
                "writing decoded audio to a temporary file in folder /srv/media/assets/temp: \
                 the file system is full: "
            ),
            "{m}"
        );
        assert_eq!(Error::Asset(AssetError::Load(Vec::new())).exit_code(), 4);
        assert_eq!(Error::Spec(SpecError::Invalid(Vec::new())).exit_code(), 3);
        let permission = EnvError::new("x", "/d", std::io::Error::from_raw_os_error(13));
        assert!(permission
            .to_string()
            .contains("no permission to write there"));
    }
}
