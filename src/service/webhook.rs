//! Completion webhooks: a POST of the render's final status to the URL given at submission,
//! retried with exponential backoff, signed with the shared secret.
//!
//! Signature header (when a secret is configured):
//! `Reelsmith-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! The receiver recomputes it over the raw body and rejects stale timestamps.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::service::error::ValueError;

/// The signature header's value for `body` at time `t`.
pub fn signature(secret: &str, t: u64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// A network, `10.0.0.0/8` or `::1/128` (a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl std::str::FromStr for Cidr {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Cidr, ValueError> {
        let (ip, bits) = s.split_once('/').unwrap_or((s, ""));
        let net: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| ValueError::Network { value: s.into() })?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = if bits.is_empty() {
            max
        } else {
            bits.parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| ValueError::Prefix {
                    value: s.into(),
                    max,
                })?
        };
        Ok(Cidr { net, bits })
    }
}

impl Cidr {
    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical_ip(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, metadata,
/// shared, documentation, multicast or unspecified).
fn public(ip: IpAddr) -> bool {
    match canonical_ip(ip) {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            let seg = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] == 0x2001 && seg[1] == 0xdb8)
                || (seg[0] == 0x64 && seg[1] == 0xff9b))
        }
    }
}

/// Whether a webhook may be delivered to `ip`.
pub fn allowed(ip: IpAddr, allow: &[Cidr]) -> bool {
    public(ip) || allow.iter().any(|c| c.contains(ip))
}

/// Splits `http://host[:port]/path` into (host, port, path).
fn split_url(url: &str) -> Result<(String, u16, String), ValueError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ValueError::WebhookScheme { url: url.into() })?;
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(ValueError::WebhookHost { url: url.into() });
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| ValueError::WebhookAddress { url: url.into() })?;
        (h.to_string(), after.strip_prefix(':').unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (authority.to_string(), ""),
        }
    };
    let port = if port.is_empty() {
        80
    } else {
        port.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| ValueError::WebhookPort { url: url.into() })?
    };
    Ok((host.to_ascii_lowercase(), port, path.to_string()))
}

/// Checks a URL is one the webhook client may call: plain `http://` (this build has no TLS),
/// and not an address of this machine or its private networks unless `allow` has it (names
/// are checked again, resolved, when the webhook is delivered).
///
/// # Errors
/// [`ValueError`] (its message goes into the 422 response).
pub fn check_url(url: &str, allow: &[Cidr]) -> Result<(), ValueError> {
    let (host, _, _) = split_url(url)?;
    let refused = || ValueError::WebhookRefused { url: url.into() };
    if let Ok(ip) = host.parse::<IpAddr>() {
        if !allowed(ip, allow) {
            return Err(refused());
        }
    } else if (host == "localhost" || host.ends_with(".localhost"))
        && !allowed(IpAddr::from([127, 0, 0, 1]), allow)
    {
        return Err(refused());
    }
    Ok(())
}

/// Why one delivery failed: the receiver could not be reached (what went wrong on the way
/// stays in the log; the render's status shows only `failed`).
#[derive(Debug)]
enum Failure {
    Unreachable,
}

/// POSTs `body` once to the address `url`'s host resolves to (resolved once here, checked,
/// and connected to directly: a name cannot resolve to a public address for the check and to
/// a private one for the connection). No redirects are followed. Blocking.
fn post_once(url: &str, body: &[u8], secret: Option<&str>, allow: &[Cidr]) -> Result<u16, Failure> {
    let (host, port, path) = split_url(url).map_err(|e| {
        tracing::warn!("webhook {url}: {e}");
        Failure::Unreachable
    })?;
    let addrs: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map(Iterator::collect)
            .unwrap_or_default();
    let Some(addr) = addrs.into_iter().find(|a| allowed(a.ip(), allow)) else {
        tracing::warn!("webhook {url}: no address it may reach");
        return Err(Failure::Unreachable);
    };
    let pinned = format!("http://{addr}{path}");
    let host_header = if port == 80 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut req = agent
        .post(&pinned)
        .header("Host", &host_header)
        .header("Content-Type", "application/json")
        .header("User-Agent", "reelsmith-webhook/1");
    if let Some(secret) = secret {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        req = req.header("Reelsmith-Signature", signature(secret, t, body));
    }
    match req.send(body) {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(e) => {
            tracing::warn!("webhook {url}: {e}");
            Err(Failure::Unreachable)
        }
    }
}

/// Delivers `body` to `url`: up to `attempts` tries, waiting `backoff`, 2x, 4x … between them.
/// A 2xx answer is success. Returns whether it was delivered.
pub async fn deliver(
    url: String,
    body: Vec<u8>,
    secret: Option<String>,
    attempts: u32,
    backoff: Duration,
    allow: Vec<Cidr>,
) -> bool {
    let mut wait = backoff;
    for attempt in 1..=attempts.max(1) {
        let (u, b, s, a) = (url.clone(), body.clone(), secret.clone(), allow.clone());
        let result = tokio::task::spawn_blocking(move || post_once(&u, &b, s.as_deref(), &a)).await;
        match result {
            Ok(Ok(status)) if (200..300).contains(&status) => return true,
            Ok(Ok(status)) => {
                tracing::warn!("webhook {url}: HTTP {status} (attempt {attempt})");
            }
            Ok(Err(e)) => tracing::warn!("webhook {url}: {e:?} (attempt {attempt})"),
            Err(e) => tracing::warn!("webhook {url}: {e}"),
        }
        if attempt < attempts {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // The signed message is "<t>." followed by the raw body.
        let sig = signature("secret", 1700000000, b"{\"id\":\"r_1\"}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap_or_else(|e| panic!("{e}"));
        mac.update(b"1700000000.{\"id\":\"r_1\"}");
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, format!("t=1700000000,v1={want}"));
        assert!(check_url("http://93.184.215.14:9/hook", &[]).is_ok());
        assert!(check_url("http://hooks.example.com/x", &[]).is_ok());
        for bad in [
            "https://example.com/hook",
            "file:///etc/passwd",
            "http://127.0.0.1:9/hook",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:80/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://user@93.184.215.14/",
        ] {
            assert!(check_url(bad, &[]).is_err(), "{bad}");
        }
        let lo: Cidr = "127.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(check_url("http://127.0.0.1:9/hook", &[lo]).is_ok());
        assert!(check_url("http://localhost:9/hook", &[lo]).is_ok());
        assert!(check_url("http://10.0.0.1/", &[lo]).is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    }
}
