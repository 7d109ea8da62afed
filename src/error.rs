//! Error types. One enum per layer; [`Error`] wraps them. Every variant names what failed:
//! the spec path (`scenes[3].layers[1].src`), the file, or the libav operation.

use std::fmt;
use std::path::PathBuf;

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

/// The machine, not the input: a folder reelsmith writes to (temporary files, a cache, the
/// output) is full, read-only, not permitted or otherwise unwritable. Names the folder and
/// the operating system's cause.
#[derive(Debug, thiserror::Error)]
#[error("{what} in folder {}: {}{source}", .dir.display(), hint(.source))]
pub struct EnvError {
    /// What was being written, e.g. `writing decoded audio to a temporary file`.
    pub what: &'static str,
    /// The folder written to.
    pub dir: PathBuf,
    /// The operating system's error.
    pub source: std::io::Error,
}

impl EnvError {
    /// `source` met while doing `what` in `dir`.
    pub fn new(what: &'static str, dir: impl Into<PathBuf>, source: std::io::Error) -> EnvError {
        EnvError {
            what,
            dir: dir.into(),
            source,
        }
    }
}

/// A plain-words cause for the kinds of I/O error the environment causes (empty for others,
/// whose own message says it).
fn hint(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull => "the file system is full: ",
        K::QuotaExceeded => "the disk quota is used up: ",
        K::ReadOnlyFilesystem => "the file system is read-only: ",
        K::PermissionDenied => "no permission to write there: ",
        K::FileTooLarge => "the file grew past the size limit: ",
        K::NotADirectory => "a part of the path is a file, not a folder: ",
        _ => "",
    }
}

/// True for the I/O errors that come from the machine rather than from a file's content: no
/// space, quota, read-only file system, no permission, file size limit, a file where a folder
/// should be.
pub fn is_environmental(e: &std::io::Error) -> bool {
    !hint(e).is_empty()
}

/// [`is_environmental`] for a libav errno.
pub(crate) fn is_environmental_errno(errno: i32) -> bool {
    is_environmental(&std::io::Error::from_raw_os_error(errno))
}

/// An input file (image, audio) that exists in the spec but cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssetError {
    /// One or more assets failed to load; each names its spec path and file.
    #[error("{} asset{} failed to load:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n  "))]
    Load(Vec<SpecIssue>),
    /// Loading needed to write a temporary file (decoded audio) and the machine would not
    /// let it: not a problem of the assets.
    #[error(transparent)]
    Env(EnvError),
    /// Text could not be laid out.
    #[error("{path}: {message}")]
    Text {
        /// Spec path of the layer.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Encoding or muxing through libav failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A libav call failed.
    #[error("libav {op} failed: {source}")]
    Ffmpeg {
        /// The operation (`open libx264`, `write_header`, `send_frame`, ...).
        op: &'static str,
        /// libav's error.
        source: ffmpeg_next::Error,
    },
    /// A required encoder is not available in this libav build.
    #[error("encoder {0} is not available in this FFmpeg build (install libavcodec with {0})")]
    MissingEncoder(&'static str),
    /// Colour conversion failed.
    #[error("colour conversion failed: {0}")]
    Convert(String),
    /// A failure injected by a test (see `RenderOptions::fault`).
    #[error("injected encoder failure at frame {0}")]
    Injected(u64),
    /// libav could not allocate memory.
    #[error("libav could not allocate the {0}")]
    Alloc(&'static str),
    /// x264 produced a packet the static-span splicer could not read.
    #[error("cannot splice repeated frames into the H.264 stream: {0}")]
    Splice(String),
    /// The audio encoder's thread ended without finishing the audio.
    #[error("the audio encoder stopped before the end of the audio")]
    AudioStopped,
    /// An audio cache entry could not be used after all (it has been removed: render again).
    #[error("audio cache entry {path}: {why} (removed; render again)")]
    AudioCache {
        /// The entry.
        path: std::path::PathBuf,
        /// What was wrong with it.
        why: String,
    },
    /// A scene cache entry could not be used after all (it has been removed: render again).
    #[error("scene cache entry {path}: {why} (removed; render again)")]
    SceneCache {
        /// The entry.
        path: std::path::PathBuf,
        /// What was wrong with it.
        why: String,
    },
    /// A video clip could not be read while composing.
    #[error("{path}: {message}")]
    Clip {
        /// Spec path of the layer or background.
        path: String,
        /// What went wrong (names the file).
        message: String,
    },
}

impl EncodeError {
    pub(crate) fn ff(op: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> EncodeError {
        move |source| EncodeError::Ffmpeg { op, source }
    }
}

/// Reading a media file back (probe, frame extraction) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// libav could not open or decode the file.
    #[error("{path}: libav {op} failed: {source}")]
    Ffmpeg {
        /// The file.
        path: PathBuf,
        /// The operation.
        op: &'static str,
        /// libav's error.
        source: ffmpeg_next::Error,
    },
    /// The file has no stream of the kind asked for.
    #[error("{path}: no {kind} stream")]
    NoStream {
        /// The file.
        path: PathBuf,
        /// `video` or `audio`.
        kind: &'static str,
    },
    /// The file is not a single media file reelsmith opens (see
    /// [`crate::probe::INPUT_FORMATS`]): a playlist, a concat list, an image sequence, a URL.
    #[error(
        "{path}: refused: reelsmith reads single media files only (playlists, concat lists, \
         image sequences and URLs are not opened)"
    )]
    Refused {
        /// The file.
        path: PathBuf,
    },
    /// The file ends before the length its header promises.
    #[error(
        "{path}: truncated: the header promises {declared_s:.2} s, the file holds {held_s:.2} s"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The length the container's header states, seconds.
        declared_s: f64,
        /// The length actually decoded, seconds.
        held_s: f64,
    },
    /// The data is damaged: a read error, a packet the demuxer marks as corrupt, or an error
    /// the decoder reports (its warnings count: a decoder that conceals damage has found some).
    #[error("{path}: damaged after {at_s:.3} s: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Time of the last good sample, seconds.
        at_s: f64,
        /// What libav reported.
        message: String,
    },
    /// Other I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

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
    /// The progress callback asked to stop.
    #[error("render cancelled")]
    Cancelled,
    /// A bug: a worker thread panicked.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code the CLI uses for this error (documented in `--help`):
    /// 3 invalid spec, 4 asset, 5 encode/IO (including a full, read-only or forbidden folder
    /// while resolving or loading: [`EnvError`]), 130 cancelled, 1 other.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec(SpecError::Env(_)) | Error::Asset(AssetError::Env(_)) => 5,
            Error::Spec(_) => 3,
            Error::Asset(_) => 4,
            Error::Encode(_) | Error::Io { .. } | Error::Probe(_) => 5,
            Error::Cancelled => 130,
            Error::Internal(_) => 1,
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
    fn the_machine_s_errors_are_told_from_the_input_s() {
        // ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EFBIG, ENOTDIR.
        for errno in [28, 122, 30, 13, 1, 27, 20] {
            let e = std::io::Error::from_raw_os_error(errno);
            assert!(is_environmental(&e), "errno {errno}: {e}");
            assert!(is_environmental_errno(errno));
        }
        // ENOENT, EIO, EINVAL, and a short read: about the file, not the machine.
        for errno in [2, 5, 22] {
            assert!(!is_environmental_errno(errno), "errno {errno}");
        }
        assert!(!is_environmental(&std::io::Error::from(
            std::io::ErrorKind::UnexpectedEof
        )));
    }

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
