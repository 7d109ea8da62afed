//! # reelsmith
//!
//! A local video composition engine: a declarative [`Composition`] (scenes with backgrounds,
//! text and image layers, audio tracks) becomes a web-ready MP4 (H.264 High yuv420p + AAC-LC,
//! moov atom first), encoded in-process through libav.
//!
//! ```no_run
//! use reelsmith::{load_spec, render, RenderOptions};
//! let (comp, base_dir) = load_spec("examples/hello.json".as_ref())?;
//! let report = render(&comp, &RenderOptions { base_dir, ..RenderOptions::default() })?;
//! println!("{}", report.table());
//! # Ok::<(), reelsmith::Error>(())
//! ```
//!
//! ## Stages
//! `timeline` (validate + resolve into a [`Plan`]) → `assets` (decode, scale, rasterize) →
//! `audio` (load, resample, mix) → `compose` (draw distinct frames, YUV) ∥ `encode` (x264 +
//! AAC + MP4) → finalize (atomic rename). Only `pipeline` sequences them.
//!
//! ## Features
//! `service` (default): the `service` module, the HTTP render job service behind `reelsmith serve`
//! (axum, tokio, SQLite). Build with `--no-default-features` for the library and CLI alone.
//!
//! ## Limits
//! Frames up to 7680x4320 (even sizes), 1..=120 fps, videos up to 4 hours. Pictures: PNG and
//! JPEG up to 16384 px per side. Audio: WAV (PCM or float, mono or stereo, any rate).
//!
//! ## Inputs
//! libav opens every input through [`probe::open_input`]: the `file` protocol only and the
//! single-file demuxers of [`probe::INPUT_FORMATS`], so a playlist or concat list cannot
//! reach another file. Inputs are decoded strictly: a picture, sound or clip that is cut
//! short or damaged fails validation with its spec path (JPEG and PNG data that ends early;
//! audio shorter than its header states; a clip whose packets do not reach the length its
//! container states). A full, read-only or forbidden folder is reported as such
//! ([`error::EnvError`], exit 5), not blamed on the assets.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod assets;
pub mod audio;
pub mod audio_cache;
pub mod captions;
pub mod compose;
pub mod encode;
pub mod error;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod master;
pub mod memory;
pub mod motion;
pub mod packet_cache;
pub mod pipeline;
pub mod probe;
pub mod raster;
pub mod report;
pub mod segment_cache;
#[cfg(feature = "service")]
pub mod service;
pub mod spec;
pub mod spec_doc;
pub mod text;
pub mod timeline;
pub mod tts;
pub mod video;
pub mod workspace;

pub use error::{Error, Result, SpecError, SpecIssue};
pub use pipeline::{
    load_spec, output_path, render, render_with_progress, validate, NoProgress, Progress,
    RenderOptions,
};
pub use report::{RenderReport, StageId};
pub use spec::Composition;
pub use timeline::Plan;
