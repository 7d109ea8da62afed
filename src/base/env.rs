//! The machine's failures, told apart from the input's: a folder that is full, read-only or
//! forbidden is reported as such ([`EnvError`]), not blamed on a file's content.

use std::path::PathBuf;

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
pub fn is_environmental_errno(errno: i32) -> bool {
    is_environmental(&std::io::Error::from_raw_os_error(errno))
}

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
}
