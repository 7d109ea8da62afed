//! The encode layer's errors: a libav call, the splicer or a kept packet file that failed.

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
    /// A failure injected by a test (see `RenderOptions::fault`; only with the
    /// `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
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
}

impl EncodeError {
    /// Wraps libav's error from `op`.
    pub fn ff(op: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> EncodeError {
        move |source| EncodeError::Ffmpeg { op, source }
    }
}
