//! The service's small errors: a value it was given that cannot be used, a poster that could
//! not be written. (A request's error is [`crate::service::ServiceError`].)

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
