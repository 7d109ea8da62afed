//! What every request passes before a route sees it: a request id, the `Host` allow-list
//! (DNS rebinding), the browser-forgery checks on state-changing routes (`Origin`,
//! `Sec-Fetch-Site`, `Content-Type`), and a panic in a handler turned into a 500 that names
//! the request id instead of a dropped connection.
//!
//! A web page the operator visits can make the browser send requests to the service on
//! loopback; it cannot read the answers (no CORS headers are sent), but a POST or DELETE would
//! still act. Browsers mark such requests: `Sec-Fetch-Site: cross-site` and an `Origin` that is
//! not the service's own, and a form can only send `text/plain`, `multipart/form-data` or
//! `application/x-www-form-urlencoded` bodies without a preflight. So a state-changing request
//! is refused when it says it comes from another site, and its body must be JSON (uploads:
//! media types). A page on a name the attacker controls that resolves to 127.0.0.1 (DNS
//! rebinding) is same-origin to the browser, but sends that name as `Host`: only the names in
//! the allow-list are served.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use super::error::ServiceError;

tokio::task_local! {
    /// The id of the request being answered (in responses as `x-request-id`, in the logs).
    pub static REQUEST_ID: String;
}

/// The current request's id, or `-` outside a request.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    format!("q_{:x}{:04x}", t & 0xffff_ffff_ffff, n & 0xffff)
}

/// Which `Host` names the service answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    names: Vec<String>,
    any: bool,
}

impl Hosts {
    /// `localhost`, the loopback addresses and the bound address, plus `extra` (`*`: any).
    pub fn new(bound: SocketAddr, extra: &[String]) -> Hosts {
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        if !bound.ip().is_unspecified() {
            names.push(bound.ip().to_string());
        }
        names.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
        Hosts {
            any: extra.iter().any(|h| h == "*"),
            names,
        }
    }

    /// Whether `host` (a `Host` header: name or address, optional port) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let host = host.trim().to_ascii_lowercase();
        // `[::1]:8080`, `[::1]`, `name:8080`, `name`.
        let name = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or("")
        } else {
            host.rsplit_once(':')
                .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                .map_or(host.as_str(), |(n, _)| n)
        };
        let name = name.trim_end_matches('.');
        self.names.iter().any(|n| n == name)
            || name
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.names.iter().any(|n| n.parse() == Ok(ip)))
    }
}

fn state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn has_body(h: &HeaderMap) -> bool {
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// Whether `content_type` may carry the body of a request to `path`.
fn accepted_type(path: &str, content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if path.ends_with("/assets") {
        essence == "application/octet-stream"
            || ["image/", "audio/", "video/", "font/"]
                .iter()
                .any(|p| essence.starts_with(p) && essence.len() > p.len())
    } else {
        essence == "application/json" || essence.ends_with("+json")
    }
}

/// Why a request is refused, if it is.
pub fn refusal(hosts: &Hosts, method: &Method, path: &str, h: &HeaderMap) -> Option<ServiceError> {
    if let Some(host) = h.get(header::HOST) {
        let ok = host.to_str().is_ok_and(|v| hosts.allows(v));
        if !ok {
            return Some(ServiceError::Forbidden(
                "this service does not answer to that Host name (reelsmith serve --allow-host \
                 NAME adds one)"
                    .into(),
            ));
        }
    }
    if !state_changing(method) {
        return None;
    }
    if let Some(site) = h.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return Some(ServiceError::Forbidden(
                "a request from another site may not change anything here".into(),
            ));
        }
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let own = origin.to_str().ok().and_then(|o| {
            o.split_once("://")
                .map(|(_, rest)| rest.to_ascii_lowercase())
        });
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        if own.is_none() || own != host {
            return Some(ServiceError::Forbidden(
                "a request from another origin may not change anything here".into(),
            ));
        }
    }
    if has_body(h) {
        let ct = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !accepted_type(path, ct) {
            let want = if path.ends_with("/assets") {
                "application/octet-stream, or an image/, audio/, video/ or font/ type"
            } else {
                "application/json"
            };
            return Some(ServiceError::UnsupportedMediaType(format!(
                "send the body as {want} (Content-Type: {})",
                if ct.is_empty() { "none" } else { ct }
            )));
        }
    }
    None
}

/// The middleware: request id, checks, panic guard.
pub async fn guard(hosts: std::sync::Arc<Hosts>, req: Request, next: Next) -> Response {
    let id = new_request_id();
    let refused = refusal(&hosts, req.method(), req.uri().path(), req.headers());
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let id2 = id.clone();
    let mut resp = REQUEST_ID
        .scope(id.clone(), async move {
            if let Some(e) = refused {
                return e.into_response();
            }
            match std::panic::AssertUnwindSafe(next.run(req))
                .catch_unwind()
                .await
            {
                Ok(r) => r,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!("request {id2} {method} {path}: handler panicked: {what}");
                    ServiceError::Internal(format!("handler panicked: {what}")).into_response()
                }
            }
        })
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn hosts_and_forgeries() {
        let hosts = Hosts::new(SocketAddr::from(([127, 0, 0, 1], 8080)), &[]);
        for ok in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
            "localhost.",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in [
            "evil.test",
            "evil.test:8080",
            "localhost.evil.test",
            "127.0.0.2",
        ] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        assert!(Hosts::new(SocketAddr::from(([0, 0, 0, 0], 1)), &["*".into()]).allows("x"));
        let post = Method::POST;
        let json = [
            ("host", "localhost:8080"),
            ("content-type", "application/json"),
            ("content-length", "2"),
        ];
        assert!(refusal(&hosts, &post, "/v1/renders", &headers(&json)).is_none());
        let forged = [
            ("host", "localhost:8080"),
            ("origin", "http://evil.test"),
            ("content-type", "text/plain"),
            ("content-length", "2"),
        ];
        assert!(matches!(
            refusal(&hosts, &post, "/v1/cleanup", &headers(&forged)),
            Some(ServiceError::Forbidden(_))
        ));
        let cross = [("host", "localhost:8080"), ("sec-fetch-site", "cross-site")];
        assert!(matches!(
            refusal(&hosts, &Method::DELETE, "/v1/renders/r_1", &headers(&cross)),
            Some(ServiceError::Forbidden(_))
        ));
        let same = [
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080"),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json; charset=utf-8"),
            ("content-length", "2"),
        ];
        assert!(refusal(&hosts, &post, "/v1/renders", &headers(&same)).is_none());
        let plain = [
            ("host", "localhost:8080"),
            ("content-type", "text/plain"),
            ("content-length", "2"),
        ];
        assert!(matches!(
            refusal(&hosts, &post, "/v1/renders", &headers(&plain)),
            Some(ServiceError::UnsupportedMediaType(_))
        ));
        let png = [
            ("host", "localhost:8080"),
            ("content-type", "image/png"),
            ("content-length", "2"),
        ];
        assert!(refusal(&hosts, &post, "/v1/assets", &headers(&png)).is_none());
        let rebound = [("host", "evil.test:8080")];
        assert!(matches!(
            refusal(&hosts, &Method::GET, "/v1/renders", &headers(&rebound)),
            Some(ServiceError::Forbidden(_))
        ));
    }
}
