//! The service's errors: a request's ([`ServiceError`], each a JSON error response), a value
//! it was given that cannot be used, a poster that could not be written.

use crate::spec::SpecIssue;
use std::path::PathBuf;

/// Why a request or the service failed. Each becomes a JSON error response
/// `{"error": {"kind", "message", "path"?, "issues"?}}` with a fitting status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The request is malformed (not JSON, bad parameter).
    #[error("{0}")]
    BadRequest(String),
    /// The spec cannot be rendered: every problem, each with its JSON path.
    #[error("{} problem{} in spec", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    InvalidSpec(Vec<SpecIssue>),
    /// No such render (or not in a state that has this resource).
    #[error("{0}")]
    NotFound(String),
    /// The idempotency key was used for a different spec.
    #[error("{0}")]
    Conflict(String),
    /// The queue is full.
    #[error("the queue is full ({limit} renders waiting); retry after {retry_after_s} s")]
    QueueFull {
        /// The configured limit.
        limit: usize,
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// Missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// Refused: a request forged by another site, or a `Host` outside the allow-list.
    #[error("{0}")]
    Forbidden(String),
    /// The body's `Content-Type` is not one the route takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The requested byte range is outside the file.
    #[error("range not satisfiable (file is {size} bytes)")]
    RangeNotSatisfiable {
        /// The file's size.
        size: u64,
    },
    /// The body is larger than the configured limit.
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(String),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Shutting down.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ServiceError {
        let path = path.into();
        move |source| ServiceError::Io { op, path, source }
    }
}

/// A value given to the service (a setting, a webhook URL) that cannot be used. The messages
/// go to the operator (exit 2) or into a `422` response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Not a duration ([`crate::service::parse_duration`]).
    #[error("invalid duration `{value}` (expected e.g. 90s, 15m, 24h, 7d)")]
    Duration {
        /// As given.
        value: String,
    },
    /// A duration with too many digits ([`crate::service::parse_duration`]).
    #[error("duration `{value}` is too long (at most {digits} digits before the unit)")]
    DurationTooLong {
        /// As given.
        value: String,
        /// Digits allowed before the unit.
        digits: usize,
    },
    /// Not an address or network ([`crate::service::webhook::Cidr`]).
    #[error("`{value}` is not a network (e.g. 10.0.0.0/8, 127.0.0.1)")]
    Network {
        /// As given.
        value: String,
    },
    /// A network's prefix length out of range ([`crate::service::webhook::Cidr`]).
    #[error("`{value}`: prefix length must be 0..={max}")]
    Prefix {
        /// As given.
        value: String,
        /// 32 or 128.
        max: u8,
    },
    /// A webhook URL that is not plain `http://`.
    #[error("`{url}`: webhook URLs must start with http:// (no TLS client)")]
    WebhookScheme {
        /// As given.
        url: String,
    },
    /// A webhook URL without a host, or with credentials.
    #[error("`{url}`: no host (or credentials in the URL)")]
    WebhookHost {
        /// As given.
        url: String,
    },
    /// A webhook URL whose `[address]` is not closed.
    #[error("`{url}`: bad address")]
    WebhookAddress {
        /// As given.
        url: String,
    },
    /// A webhook URL whose port is not 1..=65535.
    #[error("`{url}`: bad port")]
    WebhookPort {
        /// As given.
        url: String,
    },
    /// A webhook URL that reaches this machine or a private network the operator did not
    /// allow.
    #[error(
        "`{url}`: webhooks may not reach this machine or private networks (the operator can \
         allow one: reelsmith serve --webhook-allow CIDR)"
    )]
    WebhookRefused {
        /// As given.
        url: String,
    },
}

/// Why a poster (a still of a finished render) could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PosterError {
    /// The video could not be decoded.
    #[error(transparent)]
    Decode(#[from] crate::media::error::ProbeError),
    /// It has no frame.
    #[error("no frame decoded")]
    NoFrame,
    /// Writing the JPEG failed.
    #[error("{0}")]
    Write(String),
}
