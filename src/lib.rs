//! # reelsmith
//!
//! A local video composition engine: a declarative [`Composition`] (scenes with backgrounds,
//! text and image layers, audio tracks) becomes a web-ready MP4 (H.264 High yuv420p + AAC-LC,
//! moov atom first), encoded in-process through libav.
//!
//! ```no_run
//! use reelsmith::{load_spec, render, RenderOptions};
//! let (comp, base_dir) = load_spec("examples/hello.json".as_ref())?;
//! let report = render(&comp, &RenderOptions::default().with_base_dir(base_dir))?;
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

// The layers, lowest first: each imports only from itself and those above it in this list
// (tests/layers.rs keeps it so, and holds the same list).

// Foundations that know nothing of videos: the machine's errors, memory, pixel buffers.
pub mod base;

// The JSON document, its schema, and the one list of the files it names.
pub mod spec;

// The resolved model, read by every stage: times as frames and samples, no I/O.
pub mod plan;

// Everything read from files: libav (probe, clips, audio), pictures, speech.
pub mod media;

// Fonts, shaping and drawing text.
pub mod text;

// Spec + media facts → plan; where files may be read from; what a render may cost.
pub mod resolve;

// Pictures: prepare, draw, move, convert to YUV.
pub mod compose;

// Sound: mix and master.
pub mod audio;

// H.264, AAC, subtitles, MP4 muxing, packet files.
pub mod encode;

// Encoded scenes and audio kept between renders, by content.
pub mod cache;

// The render's error, wrapping each layer's.
pub mod error;

// The one sequencer: options, progress, the render transaction, the report.
pub mod pipeline;

// Batches: one template, a table of rows, one video per row (`reelsmith batch`).
pub mod batch;

// One render spread over many machines: a broker, a store, workers and a coordinator.
#[cfg(feature = "farm")]
pub mod farm;

// The HTTP render job service behind `reelsmith serve`.
#[cfg(feature = "service")]
pub mod service;

#[doc(hidden)]
pub mod fuzzing;

pub use error::{Error, Result};
pub use pipeline::report::{RenderReport, StageId};
pub use pipeline::{
    load_spec, load_template, output_path, render, render_with_progress, validate, NoProgress,
    Progress, RenderOptions,
};
pub use plan::Plan;
pub use spec::Composition;
pub use spec::{SpecError, SpecIssue};
