//! Pictures: everything a frame needs prepared once ([`prepare`]), Ken Burns moves and
//! transitions ([`motion`]), and frames drawn and converted to YUV ([`frame`]).

pub mod error;
pub mod frame;
pub mod motion;
pub mod prepare;
pub mod thumbs;

pub use error::ComposeError;

/// Spans composed at once per compose thread (a batch). Clip readers keep this many
/// pictures per thread behind the newest, so no request of a batch comes too late.
pub const SPANS_PER_THREAD: usize = 2;
