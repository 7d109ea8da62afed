//! `reelsmith serve`: the render job service.
//!
//! An HTTP API (axum on tokio) in front of the library pipeline. A submission is validated
//! (spec, asset paths) and queued at once (`202`); a bounded queue feeds a fixed number of
//! workers, each running one render on a blocking thread with its own render transaction.
//! Renders and their states live in SQLite under the storage root, so a restart finds every
//! render again: finished ones stay listed and downloadable, queued ones run, interrupted ones
//! run again from the start (their temp files swept; the output name is fixed per render, so a
//! re-run replaces atomically and never makes a second file).
//!
//! Storage root layout (`--media`, default `media/`):
//! `reelsmith.db` (records), `videos/<id>.mp4` and `videos/<id>.jpg` (output, poster),
//! `assets/uploads/` (uploaded assets), `assets/temp/` (render transactions), `stock/`.
//!
//! Modules: [`store`] (SQLite), [`jobs`] (queue, workers, progress, cancellation, retention),
//! [`api`] (routes), [`paths`] (which files a spec may read), [`webhook`].

pub mod api;
mod batches;
pub mod error;
pub mod guard;
pub mod jobs;
pub mod live;
pub mod openapi;
mod outcome;
pub mod paths;
pub mod store;
mod submit;
mod thumbs;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use error::{PosterError, ServiceError, ValueError};

/// Service settings. Plain data with defaults ([`Config::default`]) and a consuming setter
/// (`with_*`) for each.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Address to listen on; port 0 picks a free port. Default: `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// Storage root. Default: `media`.
    pub media: PathBuf,
    /// Renders at a time. Default: [`default_workers`].
    pub workers: usize,
    /// Renders waiting beyond the running ones; more get `429`. Default: 64.
    pub queue_limit: usize,
    /// Finished renders older than this are removed with their files; `None` keeps them.
    /// Default: 24 h.
    pub retention: Option<Duration>,
    /// Folders (besides `<media>/assets` and `<media>/stock`) that specs may read. Default: none.
    pub asset_roots: Vec<PathBuf>,
    /// Bearer token required on the API when set. Default: none.
    pub token: Option<String>,
    /// HMAC-SHA256 secret signing webhooks when set. Default: none.
    pub webhook_secret: Option<String>,
    /// Webhook tries per render. Default: 5.
    pub webhook_attempts: u32,
    /// Wait before the first webhook retry, doubled each time. Default: 2 s.
    pub webhook_backoff: Duration,
    /// Largest request body for a spec. Default: 1 MiB.
    pub max_spec_bytes: usize,
    /// Largest uploaded asset. Default: 64 MiB.
    pub max_upload_bytes: usize,
    /// Compose threads per render; 0 = the cores divided among the workers. Default: 0.
    pub threads_per_render: usize,
    /// Caps on one spec (scenes, layers, characters to speak, frames, pixels). Default:
    /// [`crate::resolve::limits::Limits::default`].
    pub limits: crate::resolve::limits::Limits,
    /// Renders one client (by address) may have queued or running. Default: 16.
    pub max_per_client: usize,
    /// Spread each render over the render workers of this farm (`--broker`, `--store`)
    /// instead of rendering it in this process. Default: none.
    #[cfg(feature = "farm")]
    pub farm: Option<std::sync::Arc<crate::farm::Farm>>,
    /// Starts of one render: a render that was running when the process died is run again at
    /// the next start until it has started this many times, then fails. Default: 3.
    pub max_attempts: u32,
    /// Wall time one render may take (from its start); longer ones fail. Default: 2 h.
    pub max_render_time: Option<Duration>,
    /// Networks webhooks may reach besides public addresses (loopback, private, link-local
    /// and metadata addresses are refused otherwise). Default: none.
    pub webhook_allow: Vec<webhook::Cidr>,
    /// Bytes of uploaded assets kept at once; more get `413`. Default: 2 GiB.
    pub max_uploads_bytes: u64,
    /// `Host` names answered besides `localhost`, the loopback addresses and the bound
    /// address; `*` answers any. Default: none.
    pub allow_hosts: Vec<String>,
}

/// Renders at a time by default: half the cores, at least 2. One render rarely keeps every
/// core busy (its encoder is one thread; preparation and finalizing are mostly serial), so two
/// overlap usefully even on a small machine; each gets its share of the cores for composing.
pub fn default_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores / 2).max(2)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            media: PathBuf::from("media"),
            workers: default_workers(),
            queue_limit: 64,
            retention: Some(Duration::from_secs(24 * 3600)),
            asset_roots: Vec::new(),
            token: None,
            webhook_secret: None,
            webhook_attempts: 5,
            webhook_backoff: Duration::from_secs(2),
            max_spec_bytes: 1 << 20,
            max_upload_bytes: 64 << 20,
            threads_per_render: 0,
            limits: crate::resolve::limits::Limits::default(),
            allow_hosts: Vec::new(),
            max_per_client: 16,
            #[cfg(feature = "farm")]
            farm: None,
            max_attempts: 3,
            max_render_time: Some(Duration::from_secs(2 * 3600)),
            webhook_allow: Vec::new(),
            max_uploads_bytes: 2 << 30,
        }
    }
}

impl Config {
    /// Sets [`Self::farm`].
    #[cfg(feature = "farm")]
    #[must_use]
    pub fn with_farm(mut self, farm: crate::farm::Farm) -> Self {
        self.farm = Some(std::sync::Arc::new(farm));
        self
    }

    /// Sets [`Self::addr`].
    #[must_use]
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sets [`Self::media`].
    #[must_use]
    pub fn with_media(mut self, media: impl Into<PathBuf>) -> Self {
        self.media = media.into();
        self
    }

    /// Sets [`Self::workers`].
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets [`Self::queue_limit`].
    #[must_use]
    pub fn with_queue_limit(mut self, queue_limit: usize) -> Self {
        self.queue_limit = queue_limit;
        self
    }

    /// Sets [`Self::retention`].
    #[must_use]
    pub fn with_retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`Self::asset_roots`].
    #[must_use]
    pub fn with_asset_roots(mut self, asset_roots: Vec<PathBuf>) -> Self {
        self.asset_roots = asset_roots;
        self
    }

    /// Sets [`Self::token`].
    #[must_use]
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// Sets [`Self::webhook_secret`].
    #[must_use]
    pub fn with_webhook_secret(mut self, webhook_secret: Option<String>) -> Self {
        self.webhook_secret = webhook_secret;
        self
    }

    /// Sets [`Self::webhook_attempts`].
    #[must_use]
    pub fn with_webhook_attempts(mut self, webhook_attempts: u32) -> Self {
        self.webhook_attempts = webhook_attempts;
        self
    }

    /// Sets [`Self::webhook_backoff`].
    #[must_use]
    pub fn with_webhook_backoff(mut self, webhook_backoff: Duration) -> Self {
        self.webhook_backoff = webhook_backoff;
        self
    }

    /// Sets [`Self::max_spec_bytes`].
    #[must_use]
    pub fn with_max_spec_bytes(mut self, max_spec_bytes: usize) -> Self {
        self.max_spec_bytes = max_spec_bytes;
        self
    }

    /// Sets [`Self::max_upload_bytes`].
    #[must_use]
    pub fn with_max_upload_bytes(mut self, max_upload_bytes: usize) -> Self {
        self.max_upload_bytes = max_upload_bytes;
        self
    }

    /// Sets [`Self::threads_per_render`].
    #[must_use]
    pub fn with_threads_per_render(mut self, threads_per_render: usize) -> Self {
        self.threads_per_render = threads_per_render;
        self
    }

    /// Sets [`Self::limits`].
    #[must_use]
    pub fn with_limits(mut self, limits: crate::resolve::limits::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Self::max_per_client`].
    #[must_use]
    pub fn with_max_per_client(mut self, max_per_client: usize) -> Self {
        self.max_per_client = max_per_client;
        self
    }

    /// Sets [`Self::max_attempts`].
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets [`Self::max_render_time`].
    #[must_use]
    pub fn with_max_render_time(mut self, max_render_time: Option<Duration>) -> Self {
        self.max_render_time = max_render_time;
        self
    }

    /// Sets [`Self::webhook_allow`].
    #[must_use]
    pub fn with_webhook_allow(mut self, webhook_allow: Vec<webhook::Cidr>) -> Self {
        self.webhook_allow = webhook_allow;
        self
    }

    /// Sets [`Self::max_uploads_bytes`].
    #[must_use]
    pub fn with_max_uploads_bytes(mut self, max_uploads_bytes: u64) -> Self {
        self.max_uploads_bytes = max_uploads_bytes;
        self
    }

    /// Sets [`Self::allow_hosts`].
    #[must_use]
    pub fn with_allow_hosts(mut self, allow_hosts: Vec<String>) -> Self {
        self.allow_hosts = allow_hosts;
        self
    }
}

/// Parses `90`, `90s`, `15m`, `24h`, `7d` (seconds by default; `0` means zero): digits, at
/// most three decimals, and a unit. The digits before the point are at most 9 for seconds, 7
/// for minutes, 5 for hours and 4 for days, so every duration it reads is under 32 years (the
/// OpenAPI document states the same grammar as a pattern).
///
/// # Errors
/// [`ValueError::Duration`] or [`ValueError::DurationTooLong`], naming the value.
pub fn parse_duration(s: &str) -> Result<Duration, ValueError> {
    let bad = || ValueError::Duration { value: s.into() };
    let (num, unit, digits) = match s.as_bytes().last() {
        Some(b'm') => (&s[..s.len() - 1], 60.0, 7),
        Some(b'h') => (&s[..s.len() - 1], 3600.0, 5),
        Some(b'd') => (&s[..s.len() - 1], 86400.0, 4),
        Some(b's') => (&s[..s.len() - 1], 1.0, 9),
        _ => (s, 1.0, 9),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, "0"));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(1..=digits).contains(&int.len())
        || !(1..=3).contains(&frac.len())
        || !all_digits(int)
        || !all_digits(frac)
    {
        return Err(if int.len() > digits && all_digits(int) {
            ValueError::DurationTooLong {
                value: s.into(),
                digits,
            }
        } else {
            bad()
        });
    }
    let n: f64 = num.parse().map_err(|_| bad())?;
    Ok(Duration::from_secs_f64(n * unit))
}

/// A running service.
pub struct Handle {
    /// The address it listens on (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    service: Arc<jobs::Service>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Handle {
    /// Stops accepting requests, stops running renders (they go back to `queued` and run at
    /// the next start) and waits for the workers, at most `grace`.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] if the HTTP server failed.
    pub async fn shutdown(self, grace: Duration) -> Result<(), ServiceError> {
        let _ = self.stop.send(());
        self.service.shutdown(grace).await;
        // Event streams end with the service; a long download may still hold its connection.
        match tokio::time::timeout(grace, self.server).await {
            Err(_) => {
                tracing::warn!("connections still open after {grace:?}; closing them");
                Ok(())
            }
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(ServiceError::Internal(format!("server: {e}"))),
            Ok(Err(e)) => Err(ServiceError::Internal(format!("server task: {e}"))),
        }
    }
}

/// Runs the service on a tokio runtime of its own until Ctrl-C or SIGTERM, then stops it
/// gracefully (running renders go back to the queue; requests get 10 s to finish): what
/// `reelsmith serve` does. `listening(addr)` is called once it listens; `stopping()` when a
/// signal came. Blocking.
///
/// # Errors
/// As [`start`]; [`ServiceError::Internal`] if the runtime or the signal handler cannot be
/// made, or the server failed.
pub fn run_until_signal(
    config: Config,
    listening: impl FnOnce(SocketAddr),
    stopping: impl FnOnce(),
) -> Result<(), ServiceError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServiceError::Internal(format!("tokio runtime: {e}")))?;
    runtime.block_on(async move {
        let handle = start(config).await?;
        listening(handle.addr);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| ServiceError::Internal(format!("signal handler: {e}")))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        stopping();
        handle.shutdown(Duration::from_secs(10)).await
    })
}

/// Opens the storage root, recovers the renders of a previous run, starts the workers and the
/// HTTP server. Must be called inside a multi-threaded tokio runtime.
///
/// # Errors
/// [`ServiceError`] if the storage root, the database or the address cannot be used.
pub async fn start(config: Config) -> Result<Handle, ServiceError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServiceError::Internal(format!("cannot listen on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServiceError::Internal(format!("local address: {e}")))?;
    let hosts = guard::Hosts::new(addr, &config.allow_hosts);
    let service = jobs::Service::open(config)?;
    service.clone().spawn_background();
    let app = api::router(service.clone(), hosts);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    Ok(Handle {
        addr,
        service,
        stop,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("-1").is_err());
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("999999999s"),
            Ok(Duration::from_secs(999_999_999))
        );
        assert_eq!(
            parse_duration("9999.5d"),
            Ok(Duration::from_secs(863_956_800))
        );
        // Nothing a float parser would also take, and nothing long enough to overflow.
        for bad in [
            "",
            "s",
            "1.",
            ".5",
            "1.2345",
            "+5",
            "1e3",
            "inf",
            "NaN",
            " 5",
            "5 ",
            "5\n",
            "1ms",
            "10000d",
            "100000h",
            "1000000000",
            "100000000000000000000",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }
}
