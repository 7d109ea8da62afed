//! HTTP routes (see `openapi.json`, served at `/v1/openapi.json`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::jobs::{valid_id, Service};
use super::store::State as RenderState;
use super::submit::{body, idempotency_key, parse_submission, queue, Submitted};
use super::{parse_duration, ServiceError};

const INDEX_HTML: &str = include_str!("index.html");
const TITLE_CARD: &str = include_str!("title-card.json");
const HELLO: &str = include_str!("../../examples/hello.json");
const WELCOME_TEMPLATE: &str = include_str!("welcome-template.json");

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            ServiceError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ServiceError::InvalidSpec(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_spec"),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::QueueFull { .. } => (StatusCode::TOO_MANY_REQUESTS, "queue_full"),
            ServiceError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServiceError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ServiceError::RangeNotSatisfiable { .. } => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
            }
            ServiceError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ServiceError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            ServiceError::Db(_) | ServiceError::Io { .. } | ServiceError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let mut error = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The cause stays in the log: it may name the server's files or its database.
            let id = super::guard::request_id();
            tracing::error!("request {id}: {self}");
            json!({"kind": kind, "message": format!("internal error (request {id})"), "request_id": id})
        } else {
            json!({"kind": kind, "message": self.to_string()})
        };
        if let ServiceError::InvalidSpec(issues) = &self {
            error["path"] = json!(issues.first().map(|i| i.path.clone()));
            error["issues"] = json!(issues);
        }
        let mut resp = (status, Json(json!({ "error": error }))).into_response();
        match self {
            ServiceError::QueueFull { retry_after_s, .. } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            ServiceError::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            ServiceError::Unauthorized => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}

type Api<T> = Result<T, ServiceError>;
type Svc = State<Arc<Service>>;

/// The router: the page at `/`, the API under `/v1`.
pub fn router(svc: Arc<Service>, hosts: super::guard::Hosts) -> Router {
    let hosts = Arc::new(hosts);
    let spec_limit = svc.cfg.max_spec_bytes;
    let upload_limit = svc.cfg.max_upload_bytes;
    let api = Router::new()
        .route("/renders", post(submit).get(list))
        .route("/renders/{id}", get(get_render).delete(delete_render))
        .route("/renders/{id}/cancel", post(cancel_render))
        .route("/renders/{id}/scenes/{scene}", post(replace_scene))
        .route("/renders/{id}/events", get(events))
        .route("/renders/{id}/video", get(video))
        .route("/renders/{id}/poster", get(poster))
        .route("/renders/{id}/captions", get(captions))
        .route("/batches", post(super::batches::submit))
        .route("/batches/{id}", get(super::batches::get))
        .route("/renders/{id}/sheet", get(sheet))
        .route("/renders/{id}/thumbnails/{n}", get(thumbnail))
        .route("/cleanup", post(cleanup))
        .route("/examples", get(examples))
        .route("/health", get(health))
        .route(
            "/assets",
            post(upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .layer(DefaultBodyLimit::max(spec_limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let limit = if req.uri().path().ends_with("/assets") {
                upload_limit
            } else {
                spec_limit
            };
            declared_length(limit, req, next)
        }))
        .route_layer(middleware::from_fn_with_state(svc.clone(), auth))
        .route("/openapi.json", get(openapi));
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .nest("/v1", api)
        .with_state(svc)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            super::guard::guard(hosts.clone(), req, next)
        }))
}

/// Refuses a body whose declared length is over `limit` before reading any of it (the body
/// extractors enforce the same limit on bodies without a length).
async fn declared_length(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            ServiceError::PayloadTooLarge(format!("{n} bytes declared, the limit is {limit}"))
                .into_response()
        }
        _ => next.run(req).await,
    }
}

/// Constant-time comparison of two byte strings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bearer token check: `Authorization: Bearer <token>`, or `?access_token=` (for the page's
/// `EventSource` and `<video>`, which cannot set headers).
async fn auth(State(svc): Svc, req: Request, next: Next) -> Response {
    let Some(token) = svc.cfg.token.as_deref() else {
        return next.run(req).await;
    };
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("access_token="))
            .map(str::to_string)
    });
    let ok = [from_header, from_query]
        .into_iter()
        .flatten()
        .any(|t| same(t.as_bytes(), token.as_bytes()));
    if ok {
        next.run(req).await
    } else {
        ServiceError::Unauthorized.into_response()
    }
}

fn render_id(id: &str) -> Api<&str> {
    if valid_id(id) {
        Ok(id)
    } else {
        Err(ServiceError::NotFound(format!("no render {id}")))
    }
}

async fn submit(
    State(svc): Svc,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Api<Response> {
    let raw = body(raw)?;
    let sub = parse_submission(&raw)?;
    let idempotency_key = idempotency_key(&headers)?;
    let (rec, replayed) = queue(&svc, sub, idempotency_key, peer.ip()).await?;
    Ok(accepted(&svc, &rec, replayed))
}

/// `202` with the render's status and its `Location`.
pub(super) fn accepted(svc: &Service, rec: &super::store::Record, replayed: bool) -> Response {
    let status = svc.status(rec);
    let mut resp = (StatusCode::ACCEPTED, Json(status)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/renders/{}", rec.id)) {
        h.insert(header::LOCATION, v);
    }
    if replayed {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// A new render of a render's spec with one scene replaced by the body (a scene object): the
/// scene given by its index or its `id`. The webhook stays. With the scene cache, the scenes
/// that did not change are copied from the first render's, so the new one costs about the
/// replaced scene.
async fn replace_scene(
    State(svc): Svc,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, scene)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Api<Response> {
    let rec = record(&svc, &id)?;
    let raw = body(raw)?;
    let new_scene: Value = serde_json::from_slice(&raw)
        .map_err(|e| ServiceError::BadRequest(format!("the body is not JSON: {e}")))?;
    if !new_scene.is_object() {
        return Err(ServiceError::BadRequest(
            "the body must be one scene (a JSON object)".into(),
        ));
    }
    let mut spec: Value = serde_json::from_str(&rec.spec)
        .map_err(|e| ServiceError::Internal(format!("stored spec: {e}")))?;
    let scenes = spec
        .get_mut("scenes")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| ServiceError::Internal("stored spec has no scenes".into()))?;
    let index = match scene.parse::<usize>() {
        Ok(i) if i < scenes.len() => i,
        _ => scenes
            .iter()
            .position(|s| s.get("id").and_then(Value::as_str) == Some(scene.as_str()))
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "render {} has no scene {scene} (by index 0..{} or id)",
                    rec.id,
                    scenes.len()
                ))
            })?,
    };
    scenes[index] = new_scene;
    let sub = Submitted {
        spec: spec.to_string(),
        values: crate::spec::Values::new(),
        webhook: rec.webhook_url.clone(),
    };
    let (rec, replayed) = queue(&svc, sub, idempotency_key(&headers)?, peer.ip()).await?;
    Ok(accepted(&svc, &rec, replayed))
}

#[derive(serde::Deserialize)]
struct ListQuery {
    state: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

async fn list(State(svc): Svc, q: Result<Query<ListQuery>, QueryRejection>) -> Api<Json<Value>> {
    let q = query(q)?;
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(RenderState::parse(s).ok_or_else(|| {
            ServiceError::BadRequest(format!(
                "unknown state `{s}` (one of {})",
                RenderState::ALL.map(RenderState::as_str).join(", ")
            ))
        })?),
    };
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ServiceError::BadRequest(format!(
            "limit {limit} is out of range (1..=100)"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    if i64::try_from(offset).is_err() {
        return Err(ServiceError::BadRequest(format!(
            "offset {offset} is out of range (0..={})",
            i64::MAX
        )));
    }
    let (rows, total) = svc.store().list(state, limit, offset)?;
    let renders: Vec<Value> = rows.iter().map(|r| svc.status(r)).collect();
    let next_offset = offset + rows.len() as u64;
    let next = (next_offset < total).then(|| {
        format!(
            "/v1/renders?limit={limit}&offset={next_offset}{}",
            state.map_or(String::new(), |s| format!("&state={}", s.as_str()))
        )
    });
    Ok(Json(json!({
        "renders": renders,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": next,
    })))
}

fn record(svc: &Service, id: &str) -> Api<super::store::Record> {
    let id = render_id(id)?;
    svc.store()
        .get(id)?
        .ok_or_else(|| ServiceError::NotFound(format!("no render {id}")))
}

async fn get_render(State(svc): Svc, Path(id): Path<String>) -> Api<Json<Value>> {
    let rec = record(&svc, &id)?;
    Ok(Json(svc.status(&rec)))
}

async fn delete_render(State(svc): Svc, Path(id): Path<String>) -> Api<Response> {
    let id = render_id(&id)?;
    let finished = svc.stop(id, true, Duration::from_secs(5)).await?;
    Ok(if finished {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::ACCEPTED,
            Json(json!({"id": id, "message": "stopping; removed when its worker lets go"})),
        )
            .into_response()
    })
}

async fn cancel_render(State(svc): Svc, Path(id): Path<String>) -> Api<Json<Value>> {
    let id = render_id(&id)?;
    svc.stop(id, false, Duration::from_secs(5)).await?;
    let rec = record(&svc, id)?;
    Ok(Json(svc.status(&rec)))
}

/// Server-Sent Events: one `status` event now and at each change (at most ~5 a second while
/// frames advance); the stream ends after the final state.
async fn events(State(svc): Svc, Path(id): Path<String>) -> Api<impl IntoResponse> {
    let first = record(&svc, &id)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(16);
    let watch = svc.live(&first.id).map(|l| l.subscribe());
    let id = first.id.clone();
    tokio::spawn(async move {
        let event = |v: &Value| Event::default().event("status").data(v.to_string());
        let mut status = svc.status(&first);
        if tx.send(event(&status)).await.is_err() {
            return;
        }
        let Some(mut rx) = watch else {
            return;
        };
        loop {
            let state = status["state"].as_str().unwrap_or("");
            if RenderState::parse(state).is_some_and(RenderState::is_terminal) {
                return;
            }
            let closed = tokio::select! {
                _ = svc.stopping.cancelled() => return,
                _ = tx.closed() => return,
                r = rx.changed() => r.is_err(),
            };
            status = match svc.store().get(&id) {
                Ok(Some(rec)) => svc.status(&rec),
                _ => json!({"id": id, "state": "deleted"}),
            };
            if tx.send(event(&status)).await.is_err() || closed {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Parses a single `bytes=` range against `size`: `Ok(None)` for no (or a multi-part) range.
fn parse_range(h: Option<&HeaderValue>, size: u64) -> Api<Option<(u64, u64)>> {
    let Some(spec) = h
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let unsatisfiable = ServiceError::RangeNotSatisfiable { size };
    let (a, b) = spec
        .split_once('-')
        .ok_or(ServiceError::BadRequest(format!("bad Range `{spec}`")))?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b
            .parse()
            .map_err(|_| ServiceError::BadRequest(format!("bad Range `{spec}`")))?;
        if n == 0 || size == 0 {
            return Err(unsatisfiable);
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a
            .parse()
            .map_err(|_| ServiceError::BadRequest(format!("bad Range `{spec}`")))?;
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| ServiceError::BadRequest(format!("bad Range `{spec}`")))?
                .min(size.saturating_sub(1))
        };
        if start >= size || end < start {
            return Err(unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

#[derive(serde::Deserialize)]
struct FileQuery {
    download: Option<String>,
}

/// Serves a finished render's file with single-range support.
async fn serve_file(
    svc: &Service,
    id: &str,
    path: std::path::PathBuf,
    content_type: &'static str,
    headers: &HeaderMap,
    download: bool,
) -> Api<Response> {
    let rec = record(svc, id)?;
    if rec.state != RenderState::Done {
        return Err(ServiceError::NotFound(format!(
            "render {id} is {}, not done",
            rec.state.as_str()
        )));
    }
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ServiceError::NotFound(format!("render {id} has no such file")))?;
    let meta = file
        .metadata()
        .await
        .map_err(ServiceError::io("stat", &path))?;
    let size = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let etag = format!("\"{id}-{size}-{mtime}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let range = parse_range(headers.get(header::RANGE), size)?;
    let (status, start, len) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        None => (StatusCode::OK, 0, size),
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(ServiceError::io("seek", &path))?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 64 * 1024);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    let ext = match content_type {
        "video/mp4" => "mp4",
        "image/png" => "png",
        _ => "jpg",
    };
    let disposition = if download { "attachment" } else { "inline" };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{id}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

async fn video(
    State(svc): Svc,
    Path(id): Path<String>,
    q: Result<Query<FileQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Api<Response> {
    let q = query(q)?;
    let id = render_id(&id)?;
    let download = q.download.is_some_and(|d| d != "0" && d != "false");
    serve_file(
        &svc,
        id,
        svc.video_path(id),
        "video/mp4",
        &headers,
        download,
    )
    .await
}

async fn poster(State(svc): Svc, Path(id): Path<String>, headers: HeaderMap) -> Api<Response> {
    let id = render_id(&id)?;
    serve_file(&svc, id, svc.poster_path(id), "image/jpeg", &headers, false).await
}

/// A picture of a render's thumbnails folder, found through its report.
async fn thumbs_file(
    svc: &Service,
    id: &str,
    which: super::thumbs::Which,
    headers: &HeaderMap,
) -> Api<Response> {
    let rec = record(svc, id)?;
    let report = rec
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<Value>(r).ok());
    let Some((file, media)) = report
        .as_ref()
        .and_then(|r| super::thumbs::file_of(r, which))
    else {
        return Err(ServiceError::NotFound(format!(
            "render {id} has no such picture (its spec asks for none, or it is not done)"
        )));
    };
    let path = svc.thumbnails_dir(id).join(file);
    serve_file(svc, id, path, media, headers, false).await
}

async fn sheet(State(svc): Svc, Path(id): Path<String>, headers: HeaderMap) -> Api<Response> {
    let id = render_id(&id)?;
    thumbs_file(&svc, id, super::thumbs::Which::Sheet, &headers).await
}

async fn thumbnail(
    State(svc): Svc,
    Path((id, n)): Path<(String, String)>,
    headers: HeaderMap,
) -> Api<Response> {
    let id = render_id(&id)?;
    let n = n.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(|| {
        ServiceError::NotFound(format!("no thumbnail {n:?} (scenes are numbered from 1)"))
    })?;
    thumbs_file(&svc, id, super::thumbs::Which::Scene(n), &headers).await
}

async fn captions(State(svc): Svc, Path(id): Path<String>, headers: HeaderMap) -> Api<Response> {
    let id = render_id(&id)?;
    serve_file(
        &svc,
        id,
        svc.captions_path(id),
        "text/vtt; charset=utf-8",
        &headers,
        false,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CleanupBody {
    /// `"24h"`, `"90s"` or seconds. Absent: the retention; `null` is refused.
    #[serde(default, deserialize_with = "present")]
    older_than: Option<Value>,
}

/// Reads a field that may be absent but not `null` (absent is `None` through `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    match <Value as serde::Deserialize>::deserialize(d)? {
        Value::Null => Err(serde::de::Error::custom(
            "older_than: expected seconds or a duration like \"24h\", got null (leave it out for the retention)",
        )),
        v => Ok(Some(v)),
    }
}

/// The largest `older_than` in seconds: 100 years.
const MAX_AGE_S: f64 = 100.0 * 365.25 * 86400.0;

async fn cleanup(State(svc): Svc, raw: Result<Bytes, BytesRejection>) -> Api<Json<Value>> {
    let raw = body(raw)?;
    let b: CleanupBody = if raw.iter().all(u8::is_ascii_whitespace) {
        CleanupBody::default()
    } else {
        serde_json::from_slice(&raw)
            .map_err(|e| ServiceError::BadRequest(format!("cleanup body: {e}")))?
    };
    let age = match b.older_than {
        None => svc.cfg.retention.unwrap_or(Duration::from_secs(24 * 3600)),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|s| (0.0..=MAX_AGE_S).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "older_than: {n} seconds is out of range (0..={MAX_AGE_S})"
                ))
            })?,
        Some(Value::String(s)) => {
            parse_duration(&s).map_err(|e| ServiceError::BadRequest(format!("older_than: {e}")))?
        }
        Some(v) => {
            return Err(ServiceError::BadRequest(format!(
                "older_than: expected seconds or a duration like \"24h\", got {v}"
            )))
        }
    };
    let removed = svc.cleanup(age)?;
    Ok(Json(json!({
        "older_than_s": age.as_secs_f64(),
        "removed": removed,
    })))
}

#[derive(serde::Deserialize)]
struct UploadQuery {
    name: Option<String>,
}

/// Stores an asset under `<media>/assets/uploads/<content hash>-<name>` (the same bytes are
/// stored once) and returns the path a spec uses to refer to it.
async fn upload(
    State(svc): Svc,
    q: Result<Query<UploadQuery>, QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Api<(StatusCode, Json<Value>)> {
    let q = query(q)?;
    let raw = body(raw)?;
    if raw.is_empty() {
        return Err(ServiceError::BadRequest("empty upload".into()));
    }
    let name: String = q
        .name
        .unwrap_or_else(|| "asset".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Cut so that the stored name (and its temp name) stays within a file name's 255 bytes;
    // the end is kept (the extension tells the format).
    let name = name.trim_start_matches('.');
    let name: String = name
        .chars()
        .skip(name.chars().count().saturating_sub(100))
        .collect();
    let name = if name.is_empty() { "asset" } else { &name };
    let hash = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&raw);
        d.iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let rel = format!("assets/uploads/{hash}-{name}");
    let path = svc.cfg.media.join(&rel);
    if path.exists() {
        // Uploaded again: it counts as new for the retention.
        let _ = std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    } else {
        let used = svc.uploads_bytes();
        if used + raw.len() as u64 > svc.cfg.max_uploads_bytes {
            return Err(ServiceError::PayloadTooLarge(format!(
                "the upload quota is full ({used} of {} bytes kept; uploads are removed after \
                 the retention period)",
                svc.cfg.max_uploads_bytes
            )));
        }
        let tmp = path.with_file_name(format!(".{hash}-{name}.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, &raw)
            .await
            .map_err(ServiceError::io("write", &tmp))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(ServiceError::io("rename", &path))?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"path": rel, "bytes": raw.len()})),
    ))
}

async fn examples() -> Json<Value> {
    // Served as it is in the repository: `stock/…` is found under the media root by the
    // command line and the service alike.
    let hello: Value = serde_json::from_str(HELLO).unwrap_or_default();
    let title: Value = serde_json::from_str(TITLE_CARD).unwrap_or_default();
    let welcome: Value = serde_json::from_str(WELCOME_TEMPLATE).unwrap_or_default();
    Json(json!({"examples": [
        {"name": "title-card", "title": "Title card (3 s, 640x360, no assets)", "spec": title},
        {"name": "hello", "title": "Hello (5 s, 720p, uses the stock logo and music bed)", "spec": hello},
        {"name": "welcome-template", "title": "Template: a site's welcome card (variables site, accent)", "spec": welcome},
    ]}))
}

async fn health(State(svc): Svc) -> Json<Value> {
    let (queued, running) = svc.counts();
    Json(json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "workers": svc.cfg.workers,
        "queue_limit": svc.cfg.queue_limit,
        "queued": queued,
        "running": running,
        "retention_s": svc.cfg.retention.map(|d| d.as_secs_f64()),
        "asset_roots": svc.policy.public_roots(),
    }))
}

/// The OpenAPI document, with the composition schema merged in (see [`super::openapi`]).
async fn openapi() -> Api<Response> {
    let text =
        super::openapi::document_text().map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// A query string that does not parse is a 400 with the usual error body.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Api<T> {
    q.map(|Query(v)| v)
        .map_err(|e| ServiceError::BadRequest(e.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(parse_range(None, 100), Ok(None)));
        assert!(matches!(
            parse_range(Some(&h("bytes=0-9")), 100),
            Ok(Some((0, 9)))
        ));
        assert!(matches!(
            parse_range(Some(&h("bytes=90-")), 100),
            Ok(Some((90, 99)))
        ));
        assert!(matches!(
            parse_range(Some(&h("bytes=-10")), 100),
            Ok(Some((90, 99)))
        ));
        assert!(matches!(
            parse_range(Some(&h("bytes=50-500")), 100),
            Ok(Some((50, 99)))
        ));
        assert!(matches!(
            parse_range(Some(&h("bytes=100-")), 100),
            Err(ServiceError::RangeNotSatisfiable { size: 100 })
        ));
        assert!(matches!(
            parse_range(Some(&h("bytes=0-1,5-6")), 100),
            Ok(None)
        ));
        assert!(parse_range(Some(&h("bytes=x-")), 100).is_err());
    }
}
