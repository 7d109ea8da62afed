//! Completion webhooks: a POST of the render's final status to the URL given at submission,
//! retried with exponential backoff, signed with the shared secret.
//!
//! Signature header (when a secret is configured):
//! `Reelsmith-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! The receiver recomputes it over the raw body and rejects stale timestamps.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// Checks a URL is one the webhook client can call (plain `http://`: this build has no TLS).
///
/// # Errors
/// A message for the 422 response.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: webhook URLs must start with http:// (no TLS client)"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{url}`: no host"));
    }
    Ok(())
}

/// POSTs `body` once. Blocking.
fn post_once(url: &str, body: &[u8], secret: Option<&str>) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "reelsmith-webhook/1");
    if let Some(secret) = secret {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        req = req.header("Reelsmith-Signature", signature(secret, t, body));
    }
    let resp = req.send(body).map_err(|e| e.to_string())?;
    Ok(resp.status().as_u16())
}

/// Delivers `body` to `url`: up to `attempts` tries, waiting `backoff`, 2x, 4x … between them.
/// A 2xx answer is success. Returns whether it was delivered.
pub async fn deliver(
    url: String,
    body: Vec<u8>,
    secret: Option<String>,
    attempts: u32,
    backoff: Duration,
) -> bool {
    let mut wait = backoff;
    for attempt in 1..=attempts.max(1) {
        let (u, b, s) = (url.clone(), body.clone(), secret.clone());
        let result = tokio::task::spawn_blocking(move || post_once(&u, &b, s.as_deref())).await;
        match result {
            Ok(Ok(status)) if (200..300).contains(&status) => return true,
            Ok(Ok(status)) => {
                tracing::warn!("webhook {url}: HTTP {status} (attempt {attempt})");
            }
            Ok(Err(e)) => tracing::warn!("webhook {url}: {e} (attempt {attempt})"),
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
        assert!(check_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_url("https://example.com/hook").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
    }
}
