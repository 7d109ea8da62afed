//! The media layer's errors: an input that cannot be used ([`AssetError`]) or read back
//! ([`ProbeError`]).

use std::path::PathBuf;

use crate::base::env::EnvError;
use crate::spec::SpecIssue;

/// Why libav's whitelists refused a file (a probe's and a clip's error alike).
pub(crate) const REFUSED: &str = "refused: reelsmith reads single media files only \
    (playlists, concat lists, image sequences and URLs are not opened)";

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
    /// [`crate::media::probe::INPUT_FORMATS`]): a playlist, a concat list, an image sequence, a URL.
    #[error("{}: {REFUSED}", path.display())]
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

/// A picture (PNG, JPEG) that cannot be used: [`crate::media::image::decode_image`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The file could not be read.
    #[error("cannot open {}: {source}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither PNG nor JPEG data.
    #[error("{} is not a PNG or JPEG image", .path.display())]
    NotAnImage {
        /// The file.
        path: PathBuf,
    },
    /// A side is 0 or over `max` ([`crate::media::image::MAX_IMAGE_SIDE`]) pixels.
    #[error("{} is {width}x{height} pixels (expected 1..={max} per side)", .path.display())]
    Size {
        /// The file.
        path: PathBuf,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The largest side accepted.
        max: u32,
    },
    /// The data is cut short or damaged.
    #[error("cannot decode {}: {problem}", .path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, in words.
        problem: String,
    },
}

/// An audio file that cannot be used: [`crate::media::sound::levels`],
/// [`crate::media::sound::load_pcm`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoundError {
    /// Its sample rate is outside 8000..=384000 Hz.
    #[error("{} has sample rate {rate} Hz (expected 8000..=384000)", .path.display())]
    Rate {
        /// The file.
        path: PathBuf,
        /// Its sample rate.
        rate: u32,
    },
    /// libav could not decode it.
    #[error("cannot decode audio: {0}")]
    Decode(ProbeError),
    /// It decodes to no samples.
    #[error("{} contains no audio samples", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The resampler refused (rubato's message).
    #[error("resampler: {0}")]
    Resampler(String),
    /// Writing the decoded audio to a temporary file failed: the machine's problem.
    #[error("writing decoded audio to a temporary file: {0}")]
    Spill(std::io::Error),
    /// The same failure of the temporary file, said as the machine's (see [`EnvError`]).
    #[error(transparent)]
    Env(EnvError),
}
