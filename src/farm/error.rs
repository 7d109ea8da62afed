//! What can go wrong when a render is spread over workers.

/// An error of the render farm: the broker, the store, a unit a worker could not render,
/// or the render itself (planning, joining).
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    /// Redis refused, went away or answered something else than expected.
    #[error("the broker ({at}) {op}: {source}")]
    Broker {
        /// `host:port/db` of the broker (never its password).
        at: String,
        /// What was being done.
        op: &'static str,
        /// Redis's error.
        #[source]
        source: redis::RedisError,
    },
    /// The store refused or failed.
    #[error("the store {op} {key}: {source}")]
    Store {
        /// What was being done.
        op: &'static str,
        /// The object's key in the store.
        key: String,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
    /// The broker or store address cannot be used.
    #[error("{0}")]
    Address(String),
    /// A worker could not render a unit: the worker's error, as a local render would have
    /// said it.
    #[error("{unit}: {message}")]
    Unit {
        /// Which unit (`frames A..B` or `audio`).
        unit: String,
        /// The worker's error.
        message: String,
        /// The exit code a local render would have ended with.
        code: i32,
    },
    /// A unit was handed out too many times: each worker holding it died or lost its lease.
    #[error(
        "{unit} was handed to {deliveries} workers and none finished it (each died or lost \
         its lease); giving up"
    )]
    GaveUp {
        /// Which unit.
        unit: String,
        /// Times it was handed out.
        deliveries: u64,
    },
    /// A message on the broker that this build cannot read (another reelsmith version?).
    #[error("a message on the broker cannot be read: {0}")]
    Message(String),
    /// Planning, reading, rendering or joining, as in a local render.
    #[error(transparent)]
    Render(#[from] crate::error::Error),
}

impl From<crate::spec::SpecError> for FarmError {
    fn from(e: crate::spec::SpecError) -> Self {
        FarmError::Render(e.into())
    }
}

impl FarmError {
    /// The command line's exit code: a render's own for its errors, 5 (a file or service
    /// problem) for the broker and the store.
    pub fn exit_code(&self) -> i32 {
        match self {
            FarmError::Render(e) => e.exit_code(),
            FarmError::Unit { code, .. } => *code,
            FarmError::Address(_) => 2,
            FarmError::Message(_) => 1,
            FarmError::Broker { .. } | FarmError::Store { .. } | FarmError::GaveUp { .. } => 5,
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| FarmError::Render(crate::error::Error::Io { op, path, source })
    }
}
