//! Submissions: a spec, or a template and its values, validated against the service's
//! policy, admitted and queued (`POST /v1/renders`, a scene replaced, each row of
//! `POST /v1/batches`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::jobs::{Service, Submission};
use super::{webhook, ServiceError};
use crate::pipeline;
use crate::spec::Composition;
use crate::spec::SpecIssue;

type Api<T> = Result<T, ServiceError>;

/// A request's body, or the error its extractor met (too large: 413).
pub(super) fn body(b: Result<Bytes, BytesRejection>) -> Api<Bytes> {
    b.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::PayloadTooLarge(e.body_text())
        } else {
            ServiceError::BadRequest(e.body_text())
        }
    })
}

/// What a submission asks for: a spec (or a template and its variables' values) and a
/// completion webhook.
pub(super) struct Submitted {
    pub spec: String,
    pub values: crate::spec::Values,
    pub webhook: Option<String>,
}

fn invalid(path: &str, message: &str) -> ServiceError {
    ServiceError::InvalidSpec(vec![SpecIssue {
        path: path.into(),
        message: message.into(),
    }])
}

/// The webhook of a submission: a URL string or `{"url": ...}`.
pub(super) fn webhook_of(value: &Value) -> Api<Option<String>> {
    match value.get("webhook") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(u)) => Ok(Some(u.clone())),
        Some(v) => match v.get("url").and_then(Value::as_str) {
            Some(u) => Ok(Some(u.to_string())),
            None => Err(invalid(
                "webhook",
                "expected a URL string or {\"url\": ...}",
            )),
        },
    }
}

/// Parses a JSON body (a 422 naming `$` when it is not JSON).
pub(super) fn json_body(bytes: &[u8]) -> Api<(String, Value)> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ServiceError::BadRequest("the body is not UTF-8 JSON".into()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid("$", &format!("not JSON: {e}")))?;
    Ok((text.to_string(), value))
}

/// Reads a submission: the spec itself, or `{"spec": {...}, "webhook": "http://..."}`, or a
/// template with values: `{"template": {...}, "variables": {...}, "webhook"?}`.
pub(super) fn parse_submission(bytes: &[u8]) -> Api<Submitted> {
    let (text, value) = json_body(bytes)?;
    let spec = match (value.get("spec"), value.get("template")) {
        (None, None) => {
            return Ok(Submitted {
                spec: text,
                values: crate::spec::Values::new(),
                webhook: None,
            })
        }
        (Some(_), Some(_)) => {
            return Err(invalid("template", "give a spec or a template, not both"))
        }
        (Some(s), None) | (None, Some(s)) => s.to_string(),
    };
    let webhook = webhook_of(&value)?;
    if let Some(extra) = value.as_object().and_then(|o| {
        o.keys()
            .find(|k| !matches!(k.as_str(), "spec" | "template" | "variables" | "webhook"))
    }) {
        return Err(invalid(
            extra,
            "unknown field (a submission is {\"spec\" or \"template\", \"variables\"?, \"webhook\"?})",
        ));
    }
    let values = match value.get("variables") {
        None | Some(Value::Null) => crate::spec::Values::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| invalid("variables", "expected an object of values by name"))?,
    };
    Ok(Submitted {
        spec,
        values,
        webhook,
    })
}

/// The `Idempotency-Key` header, checked.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Api<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|k| {
                    !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .map(str::to_string)
                .ok_or_else(|| {
                    ServiceError::BadRequest(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                    )
                })
        })
        .transpose()
}

/// Validates a submission and queues it (see [`submit`]): the new render, or the one an
/// earlier submission with this idempotency key made (`true`). A template's values are
/// substituted first; the render keeps the spec they made.
pub(super) async fn queue(
    svc: &Arc<Service>,
    sub: Submitted,
    idempotency_key: Option<String>,
    client: std::net::IpAddr,
) -> Api<(super::store::Record, bool)> {
    let Submitted {
        spec,
        values,
        webhook: webhook_url,
    } = sub;
    let comp = Composition::from_template(&spec, &values)
        .map_err(|e| ServiceError::InvalidSpec(e.issues()))?;
    // A template's render keeps the spec its values made (a re-run or a scene replaced
    // starts from it).
    let spec = if comp.variables.is_empty() {
        spec
    } else {
        serde_json::to_string(&comp).map_err(|e| ServiceError::Internal(e.to_string()))?
    };
    let mut issues = svc.policy.check(&comp);
    if !comp.output.renditions.is_empty() {
        // One render, one video here: the service names and serves a single file.
        issues.push(SpecIssue {
            path: "output.renditions".into(),
            message: format!(
                "{} renditions: the service makes one video per render; submit each size \
                 as a render of its own",
                comp.output.renditions.len()
            ),
        });
    }
    if let Some(url) = &webhook_url {
        if let Err(e) = webhook::check_url(url, &svc.cfg.webhook_allow) {
            issues.push(SpecIssue {
                path: "webhook".into(),
                message: e.to_string(),
            });
        }
    }
    if !issues.is_empty() {
        // Refused paths are not looked at further (not even whether the file exists).
        return Err(ServiceError::InvalidSpec(redacted(svc, issues)));
    }
    if let Some(key) = &idempotency_key {
        // A repeated submission is answered before anything costly is done.
        if let Some(rec) = svc.replay(key, &spec)? {
            return Ok((rec, true));
        }
    }
    // Admitted before anything costly: resolving may speak narration and decode audio (off
    // the async threads, a few at a time).
    let admission = svc.admit(Some(client))?;
    let permit = svc
        .planning
        .acquire()
        .await
        .map_err(|_| ServiceError::ShuttingDown)?;
    let opts = svc.policy.options();
    let plan = tokio::task::spawn_blocking(move || pipeline::plan(&comp, &opts))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    drop(permit);
    let plan = plan.map_err(|e| match e {
        // The machine's problem (a full or read-only speech cache), not the spec's: a 500.
        crate::SpecError::Env(env) => ServiceError::Internal(env.to_string()),
        e => ServiceError::InvalidSpec(redacted(svc, e.issues())),
    })?;
    let (rec, replayed) = svc.submit(
        Submission {
            spec,
            idempotency_key,
            webhook_url,
        },
        &plan,
        admission,
    )?;
    Ok((rec, replayed))
}

/// `issues` with the storage root's location taken out of their messages.
fn redacted(svc: &Service, issues: Vec<SpecIssue>) -> Vec<SpecIssue> {
    issues
        .into_iter()
        .map(|i| SpecIssue {
            message: svc.policy.redact(&i.message),
            path: i.path,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions() {
        let sub = parse_submission(br#"{"spec": {"scenes": []}, "webhook": "http://h/x"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub.spec, r#"{"scenes":[]}"#);
        assert_eq!(sub.webhook.as_deref(), Some("http://h/x"));
        let sub = parse_submission(br#"{"scenes": []}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub.spec, r#"{"scenes": []}"#);
        assert!(sub.webhook.is_none());
        let sub = parse_submission(br#"{"template": {"scenes": []}, "variables": {"a": "b"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub.values["a"], "b");
        assert!(parse_submission(b"{nope").is_err());
        assert!(parse_submission(br#"{"spec": {}, "hook": 1}"#).is_err());
        assert!(parse_submission(br#"{"spec": {}, "template": {}}"#).is_err());
        assert!(parse_submission(br#"{"template": {}, "variables": [1]}"#).is_err());
    }
}
