//! Progress of a render, and cancelling it: the driver calls a [`Progress`] as stages begin
//! and frames are done; returning `false` stops the render.

use crate::pipeline::report::StageId;

/// Receives progress. Called on the thread that called [`crate::pipeline::render_with_progress`].
pub trait Progress {
    /// A stage begins.
    fn stage(&mut self, _stage: StageId) {}
    /// `done` of `total` frames are encoded. Return false to cancel the render.
    fn frames(&mut self, _done: u64, _total: u64) -> bool {
        true
    }
}

/// Progress that reports nothing and never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}
