//! `POST /v1/batches`: one template, rows of values, one render per row; `GET
//! /v1/batches/{id}`: every row's state.
//!
//! Each row is submitted like `POST /v1/renders` with `{"template", "variables"}`: validated
//! (its problems with their JSON paths), admitted (the queue's and the client's limits) and
//! queued on its own. A row that cannot be rendered is reported in its place and the others
//! go on; the batch is recorded so its rows can be followed after a restart.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::jobs::Service;
use super::submit::{body, json_body, queue, Submitted};
use super::ServiceError;
use crate::spec::{SpecIssue, Values};

type Api<T> = Result<T, ServiceError>;

/// `b_` and 16 hex digits.
fn valid_batch_id(s: &str) -> bool {
    s.len() == 18 && s.starts_with("b_") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn new_batch_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("b_{:016x}", h.finish())
}

fn invalid(path: &str, message: String) -> ServiceError {
    ServiceError::InvalidSpec(vec![SpecIssue {
        path: path.into(),
        message,
    }])
}

/// Reads `{"template": {...}, "rows": [{...}, ...]}`.
fn parse(bytes: &[u8], max_rows: usize) -> Api<(String, Vec<Values>)> {
    let (_, value) = json_body(bytes)?;
    let obj = value.as_object().ok_or_else(|| {
        invalid(
            "$",
            "expected {\"template\": {...}, \"rows\": [...]}".into(),
        )
    })?;
    if let Some(extra) = obj.keys().find(|k| *k != "template" && *k != "rows") {
        return Err(invalid(
            extra,
            "unknown field (a batch is {\"template\", \"rows\"})".into(),
        ));
    }
    let template = obj
        .get("template")
        .filter(|t| t.is_object())
        .ok_or_else(|| invalid("template", "expected the template spec (an object)".into()))?
        .to_string();
    let rows = obj
        .get("rows")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("rows", "expected an array of objects of values".into()))?;
    if rows.is_empty() || rows.len() > max_rows {
        return Err(invalid(
            "rows",
            format!(
                "{} rows (expected 1..={max_rows}, the service's queue limit)",
                rows.len()
            ),
        ));
    }
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let values = serde_json::from_value::<Values>(r.clone()).map_err(|_| {
                invalid(&format!("rows[{i}]"), "expected an object of values".into())
            })?;
            match values
                .iter()
                .find(|(_, v)| v.is_array() || v.is_object() || v.is_null())
            {
                Some((k, _)) => Err(invalid(
                    &format!("rows[{i}].{k}"),
                    "expected a string, a number or a boolean".into(),
                )),
                None => Ok(values),
            }
        })
        .collect::<Api<Vec<Values>>>()?;
    Ok((template, rows))
}

/// A row's name: its `id` value, else its number.
fn row_id(values: &Values, number: usize) -> String {
    match values.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => number.to_string(),
    }
}

/// `POST /v1/batches`.
pub(super) async fn submit(
    State(svc): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    raw: Result<Bytes, BytesRejection>,
) -> Api<Response> {
    let raw = body(raw)?;
    let (template, rows) = parse(&raw, svc.cfg.queue_limit.max(1))?;
    // The template itself must be usable (its declarations), else no row is.
    let declared: Vec<String> = crate::spec::template::declared(&template)
        .map_err(|e| ServiceError::InvalidSpec(e.issues()))?
        .into_keys()
        .collect();
    let mut out = Vec::new();
    // When no row can be queued the batch is answered as one submission would be.
    let (mut first_invalid, mut refused) = (None, None);
    for (i, values) in rows.into_iter().enumerate() {
        let number = i + 1;
        let id = row_id(&values, number);
        // An `id` the template does not declare only names the row.
        let values: Values = values
            .into_iter()
            .filter(|(k, _)| k != "id" || declared.iter().any(|d| d == "id"))
            .collect();
        let sub = Submitted {
            spec: template.clone(),
            values,
            webhook: None,
        };
        let row = match queue(&svc, sub, None, peer.ip()).await {
            Ok((rec, _)) => json!({"row": number, "id": id, "render": rec.id}),
            Err(ServiceError::InvalidSpec(issues)) => {
                let row = json!({
                    "row": number, "id": id, "state": "invalid",
                    "error": {"message": "the row's spec is invalid", "issues": issues},
                });
                first_invalid.get_or_insert(issues);
                row
            }
            Err(e @ ServiceError::QueueFull { .. }) => {
                let row = json!({
                    "row": number, "id": id, "state": "refused",
                    "error": {"message": e.to_string()},
                });
                refused.get_or_insert(e);
                row
            }
            Err(e) => return Err(e),
        };
        out.push(row);
    }
    if !out.iter().any(|r| r.get("render").is_some()) {
        return Err(match (refused, first_invalid) {
            (Some(e), _) => e,
            (None, Some(issues)) => ServiceError::InvalidSpec(issues),
            (None, None) => ServiceError::Internal("a batch without rows".into()),
        });
    }
    let id = new_batch_id();
    svc.store()
        .insert_batch(&id, &Value::Array(out).to_string())?;
    let status = status(&svc, &id)?;
    let mut resp = (StatusCode::ACCEPTED, Json(status)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/batches/{id}")) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(resp)
}

/// A batch with every row's current state (its render's status, or why it has none).
fn status(svc: &Service, id: &str) -> Api<Value> {
    let (created_at, rows) = svc
        .store()
        .batch(id)?
        .ok_or_else(|| ServiceError::NotFound(format!("no batch {id}")))?;
    let mut rows: Vec<Value> = serde_json::from_str(&rows)
        .map_err(|e| ServiceError::Internal(format!("stored batch: {e}")))?;
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for row in &mut rows {
        if let Some(render) = row
            .get("render")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            let rec = svc.store().get(&render)?;
            match rec {
                Some(rec) => {
                    let st = svc.status(&rec);
                    row["state"] = st["state"].clone();
                    row["status"] = st;
                }
                None => row["state"] = json!("deleted"),
            }
        }
        let state = row["state"].as_str().unwrap_or("unknown").to_string();
        *counts.entry(state).or_default() += 1;
    }
    Ok(json!({
        "id": id,
        "created_at": created_at,
        "rows": rows,
        "counts": counts,
        "links": {"self": format!("/v1/batches/{id}")},
    }))
}

/// `GET /v1/batches/{id}`.
pub(super) async fn get(
    State(svc): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Api<Json<Value>> {
    if !valid_batch_id(&id) {
        return Err(ServiceError::NotFound(format!("no batch {id}")));
    }
    Ok(Json(status(&svc, &id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_read_and_checked() {
        let (t, rows) = parse(
            br#"{"template": {"scenes": []}, "rows": [{"a": 1}, {}]}"#,
            4,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.as_str(), rows.len()), (r#"{"scenes":[]}"#, 2));
        for bad in [
            &br#"{"template": {}, "rows": []}"#[..],
            br#"{"template": {}, "rows": [{}, {}, {}, {}, {}]}"#,
            br#"{"template": 1, "rows": [{}]}"#,
            br#"{"template": {}, "rows": [1]}"#,
            br#"{"template": {}, "rows": [{}], "x": 1}"#,
        ] {
            assert!(parse(bad, 4).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(valid_batch_id(&new_batch_id()));
        assert_eq!(row_id(&Values::new(), 3), "3");
    }
}
