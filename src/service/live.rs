//! A queued or running render's shared state: its stage and frames for the API and `/events`,
//! and why it is being stopped.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use super::store::State;

/// Why a running render is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// `POST /v1/renders/{id}/cancel`: keep the record as `canceled`.
    Cancel,
    /// `DELETE /v1/renders/{id}`: remove record and files.
    Delete,
    /// The service is stopping: back to `queued`, to run at the next start.
    Shutdown,
    /// The render ran past `max_render_time`: `failed`.
    TimeLimit,
}

/// What the API shows of a render while a worker has it (or it waits in the queue).
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    pub(super) state: State,
    pub(super) frames_done: u64,
    pub(super) render_started: Option<Instant>,
}

/// A queued or running render's shared state.
pub struct Live {
    pub(super) stop: Mutex<Option<Stop>>,
    pub(super) cancel: AtomicBool,
    pub(super) snap: Mutex<Snapshot>,
    /// Bumped at every visible change; closed when the render leaves the worker.
    pub(super) tx: watch::Sender<u64>,
    /// Who submitted it (since this start): its share of `max_per_client`.
    pub(super) client: Option<IpAddr>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Live {
    pub(super) fn new(state: State, client: Option<IpAddr>) -> Live {
        Live {
            client,
            stop: Mutex::new(None),
            cancel: AtomicBool::new(false),
            snap: Mutex::new(Snapshot {
                state,
                frames_done: 0,
                render_started: None,
            }),
            tx: watch::channel(0).0,
        }
    }

    pub(super) fn request_stop(&self, why: Stop) {
        let mut s = lock(&self.stop);
        // A delete wins over a cancel; a shutdown never overrides the user's request.
        if s.is_none() || why == Stop::Delete {
            *s = Some(why);
        }
        self.cancel.store(true, Ordering::SeqCst);
        self.bump();
    }

    pub(super) fn stop_reason(&self) -> Option<Stop> {
        *lock(&self.stop)
    }

    pub(super) fn bump(&self) {
        self.tx.send_modify(|v| *v += 1);
    }

    pub(super) fn set_state(&self, state: State) {
        lock(&self.snap).state = state;
        self.bump();
    }

    /// Follows changes: a receiver whose `changed()` fails once the render has left its worker.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}
