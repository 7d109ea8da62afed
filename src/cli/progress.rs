//! The progress bar of `render` on stderr; Ctrl-C cancels.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reelsmith::{Progress, StageId};

/// Draws a progress bar (frames/s, ETA) on stderr and turns Ctrl-C into cancellation.
pub struct CliProgress {
    pub bar: ProgressBar,
    pub interrupted: Arc<AtomicBool>,
    stage: &'static str,
    started: Option<std::time::Instant>,
}

impl Progress for CliProgress {
    fn stage(&mut self, stage: StageId) {
        self.stage = match stage {
            // Compose and encode run together: one bar for both.
            StageId::Compose | StageId::Encode => "render",
            other => other.as_str(),
        };
        self.bar.set_message(self.stage);
    }

    fn frames(&mut self, done: u64, total: u64) -> bool {
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
            self.bar.reset_eta();
        }
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        let secs = started.elapsed().as_secs_f64();
        if secs > 0.5 {
            self.bar
                .set_message(format!("{} {:>4.0} fps", self.stage, done as f64 / secs));
        }
        self.bar.set_position(done);
        !self.interrupted.load(Ordering::SeqCst)
    }
}

/// A flag Ctrl-C sets. If a handler cannot be installed, Ctrl-C still kills us and the next
/// run sweeps the leftovers; rendering need not fail for that.
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    interrupted
}

/// The progress bar of a render (hidden with `quiet`), cancelling on Ctrl-C.
pub fn cli_progress(quiet: bool) -> CliProgress {
    let interrupted = ctrl_c_flag();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{msg:15} [{bar:40.cyan/blue}] {pos}/{len} frames  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    };
    CliProgress {
        bar,
        interrupted,
        stage: "",
        started: None,
    }
}
