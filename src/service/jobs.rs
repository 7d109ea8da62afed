//! The queue, the workers and the life of a render: submit → queued → preparing → rendering →
//! encoding → finalizing → done | failed | canceled.
//!
//! Each worker takes the oldest queued render and runs the library pipeline on a blocking
//! thread with a [`Progress`] that publishes frames and stages to the render's live state
//! (read by `GET /v1/renders/{id}` and streamed by `/events`) and returns `false` as soon as the
//! render is cancelled, deleted or the service stops. The database is written at every state
//! change, never per frame.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::live::{lock, Live, Stop};
use super::outcome::{error_json, write_poster};
use super::paths::SpecPolicy;
use super::store::{now, Inserted, Record, State, Store};
use super::{webhook, Config, ServiceError};
use crate::error::Error;
use crate::pipeline::report::StageId;
use crate::pipeline::{self, Progress, RenderOptions};
use crate::spec::Composition;

/// The service core shared by the routes and the workers.
pub struct Service {
    /// Settings.
    pub cfg: Config,
    /// Which files specs may read, and what they may cost.
    pub policy: SpecPolicy,
    store: Mutex<Store>,
    queue: Mutex<VecDeque<String>>,
    wake: Notify,
    live: Mutex<HashMap<String, Arc<Live>>>,
    /// Cancelled when the service stops (ends event streams and workers).
    pub stopping: CancellationToken,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Moving average of render wall time, seconds (for `Retry-After`).
    avg_render_s: Mutex<f64>,
    /// Admitted submissions still being planned, in all and per client.
    admitted: Mutex<(usize, HashMap<IpAddr, usize>)>,
    /// Plans made at once by submissions (text-to-speech and decoding run there).
    pub planning: tokio::sync::Semaphore,
}

/// A place in the queue held for a submission while its spec is planned: taken before any
/// costly work, given back when dropped (the render is queued, or the submission failed).
pub struct Admission<'a> {
    svc: &'a Service,
    client: Option<IpAddr>,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let mut a = lock(&self.svc.admitted);
        a.0 = a.0.saturating_sub(1);
        if let Some(ip) = self.client {
            if let Some(n) = a.1.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    a.1.remove(&ip);
                }
            }
        }
    }
}

/// A new render to queue.
pub struct Submission {
    /// Spec JSON text.
    pub spec: String,
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// Completion webhook.
    pub webhook_url: Option<String>,
}

/// FNV-1a 64 of `bytes`, hex.
fn fnv_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `r_` + 16 hex digits from the clock, a counter and the process's random hasher keys.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("r_{:016x}", h.finish())
}

/// Whether `s` looks like a render id (so file names built from it stay in their folder).
pub fn valid_id(s: &str) -> bool {
    s.len() == 18 && s.starts_with("r_") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reports progress of one render to its live state and the database.
struct JobProgress<'a> {
    svc: &'a Service,
    id: &'a str,
    live: &'a Live,
    stage: Option<StageId>,
    last_bump: Instant,
    started: Instant,
}

impl JobProgress<'_> {
    fn enter(&mut self, state: State) {
        if lock(&self.live.snap).state == state {
            return;
        }
        if let Err(e) = self.svc.store().set_state(self.id, state) {
            tracing::warn!("render {}: {e}", self.id);
        }
        self.live.set_state(state);
        self.last_bump = Instant::now();
    }
}

impl Progress for JobProgress<'_> {
    fn stage(&mut self, stage: StageId) {
        self.stage = Some(stage);
        match stage {
            StageId::Validate | StageId::Prepare | StageId::Mix => self.enter(State::Preparing),
            StageId::Compose => {
                lock(&self.live.snap).render_started = Some(Instant::now());
                self.enter(State::Rendering);
            }
            StageId::Encode => self.enter(State::Encoding),
            StageId::Finalize => self.enter(State::Finalizing),
        }
    }

    fn frames(&mut self, done: u64, total: u64) -> bool {
        let changed = {
            let mut s = lock(&self.live.snap);
            let changed = s.frames_done != done;
            s.frames_done = done;
            changed
        };
        if done >= total && total > 0 {
            // Every frame is in the encoder: what remains is its flush and the trailer.
            self.enter(State::Encoding);
        } else if changed && self.last_bump.elapsed() >= Duration::from_millis(200) {
            self.live.bump();
            self.last_bump = Instant::now();
        }
        self.within_time() && !self.live.cancel.load(Ordering::SeqCst)
    }
}

impl JobProgress<'_> {
    /// False (and the render stopped) once it has run past the wall-time limit.
    fn within_time(&self) -> bool {
        match self.svc.cfg.max_render_time {
            Some(limit) if self.started.elapsed() > limit => {
                self.live.request_stop(Stop::TimeLimit);
                false
            }
            _ => true,
        }
    }
}

impl Service {
    /// Opens the storage root and recovers the previous run: sweeps dead renders' temp files,
    /// puts interrupted renders back in the queue (oldest first), removes stray files.
    ///
    /// # Errors
    /// [`ServiceError`] if the folders or the database cannot be used.
    pub fn open(cfg: Config) -> Result<Arc<Service>, ServiceError> {
        for dir in [
            cfg.media.join("videos"),
            cfg.media.join("assets").join("temp"),
            cfg.media.join("assets").join("uploads"),
        ] {
            std::fs::create_dir_all(&dir).map_err(ServiceError::io("create folder", &dir))?;
        }
        let store = Store::open(&cfg.media.join("reelsmith.db"))?;
        let temp = cfg.media.join("assets").join("temp");
        match crate::pipeline::workspace::sweep(&temp) {
            Ok(r) if !r.removed.is_empty() => {
                tracing::info!("swept {} leftovers of interrupted renders", r.removed.len());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("sweep {}: {e}", temp.display()),
        }
        let exhausted = json!({
            "kind": "internal", "stage": null, "path": null,
            "message": format!(
                "the service stopped while rendering this {} times (a crash or a kill, e.g. out \
                 of memory); not run again",
                cfg.max_attempts
            ),
        })
        .to_string();
        let requeued = store.requeue_interrupted(cfg.max_attempts, &exhausted)?;
        let queued = store.queued()?;
        if requeued > 0 || !queued.is_empty() {
            tracing::info!(
                "recovered {} queued renders ({requeued} interrupted, run again from the start)",
                queued.len()
            );
        }
        let svc = Service {
            policy: {
                #[cfg_attr(not(feature = "farm"), allow(unused_mut))]
                let mut policy = SpecPolicy::new(&cfg.media, &cfg.asset_roots, cfg.limits);
                #[cfg(feature = "farm")]
                if cfg.farm.is_some() {
                    policy.chunk_s = crate::farm::CHUNK_S;
                }
                policy
            },
            store: Mutex::new(store),
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            live: Mutex::new(HashMap::new()),
            stopping: CancellationToken::new(),
            workers: Mutex::new(Vec::new()),
            avg_render_s: Mutex::new(10.0),
            admitted: Mutex::new((0, HashMap::new())),
            planning: tokio::sync::Semaphore::new(cfg.workers.max(1)),
            cfg,
        };
        svc.remove_strays();
        svc.sweep_uploads(None);
        {
            let mut q = lock(&svc.queue);
            let mut live = lock(&svc.live);
            for id in queued {
                live.insert(id.clone(), Arc::new(Live::new(State::Queued, None)));
                q.push_back(id);
            }
        }
        Ok(Arc::new(svc))
    }

    /// The database (a short critical section: every query is small).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// `<media>/videos/<id>.mp4`.
    pub fn video_path(&self, id: &str) -> PathBuf {
        self.cfg.media.join("videos").join(format!("{id}.mp4"))
    }

    /// `<media>/videos/<id>.vtt`: the captions, when the narration has words.
    pub fn captions_path(&self, id: &str) -> PathBuf {
        self.cfg.media.join("videos").join(format!("{id}.vtt"))
    }

    /// `<media>/videos/<id>.jpg`.
    pub fn poster_path(&self, id: &str) -> PathBuf {
        self.cfg.media.join("videos").join(format!("{id}.jpg"))
    }

    /// `<media>/videos/<id>.thumbs`: thumbnails and contact sheet, when the spec asks.
    pub fn thumbnails_dir(&self, id: &str) -> PathBuf {
        crate::plan::thumbnails::PlanThumbnails::dir(&self.video_path(id))
    }

    /// Removes poster temp files and render outputs whose record is gone (deleted while the
    /// process was killed). Only names made by the service are touched.
    fn remove_strays(&self) {
        let dir = self.cfg.media.join("videos");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stray = if let Some(rest) = name.strip_prefix(".r_") {
                rest.ends_with(".jpg.tmp")
            } else if let Some(id) = name
                .strip_suffix(".mp4")
                .or_else(|| name.strip_suffix(".jpg"))
                .or_else(|| name.strip_suffix(".vtt"))
                .or_else(|| name.strip_suffix(".thumbs"))
            {
                valid_id(id) && !self.store().exists(id).unwrap_or(true)
            } else {
                false
            };
            if stray {
                tracing::info!("removing stray {}", e.path().display());
                if e.path().is_dir() {
                    let _ = std::fs::remove_dir_all(e.path());
                } else {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Starts the workers, the retention sweeper and the delivery of webhooks left pending by
    /// the previous run.
    pub fn spawn_background(self: Arc<Self>) {
        let mut handles = Vec::new();
        for _ in 0..self.cfg.workers.max(1) {
            handles.push(tokio::spawn(self.clone().worker()));
        }
        *lock(&self.workers) = handles;
        if let Some(age) = self.cfg.retention {
            let svc = self.clone();
            tokio::spawn(async move {
                let every = (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
                loop {
                    match svc.cleanup(age) {
                        Ok(ids) if !ids.is_empty() => {
                            tracing::info!("retention: removed {} renders", ids.len());
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("retention: {e}"),
                    }
                    tokio::select! {
                        _ = svc.stopping.cancelled() => break,
                        _ = tokio::time::sleep(every) => {}
                    }
                }
            });
        }
        match self.store().pending_webhooks() {
            Ok(ids) => {
                for id in ids {
                    self.clone().send_webhook(id);
                }
            }
            Err(e) => tracing::warn!("pending webhooks: {e}"),
        }
    }

    /// Stops the service: running renders are stopped and go back to `queued`.
    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.cancel();
        for l in lock(&self.live).values() {
            l.request_stop(Stop::Shutdown);
        }
        self.wake.notify_waiters();
        let handles = std::mem::take(&mut *lock(&self.workers));
        let all = futures_util::future::join_all(handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "workers still busy after {grace:?}; their renders run again next start"
            );
        }
    }

    /// Counts: (queued, running).
    pub fn counts(&self) -> (usize, usize) {
        let queued = lock(&self.queue).len();
        let live = lock(&self.live).len();
        (queued, live.saturating_sub(queued))
    }

    /// Validates nothing (the caller did) and queues a render, or returns the render an
    /// earlier submission with the same idempotency key made.
    ///
    /// # Errors
    /// [`ServiceError::QueueFull`], [`ServiceError::Conflict`] (same key, different spec),
    /// [`ServiceError::Db`].
    pub fn submit(
        &self,
        sub: Submission,
        plan: &crate::Plan,
        admission: Admission<'_>,
    ) -> Result<(Record, bool), ServiceError> {
        if self.stopping.is_cancelled() {
            return Err(ServiceError::ShuttingDown);
        }
        let spec_hash = fnv_hex(sub.spec.as_bytes());
        let mut q = lock(&self.queue);
        if let Some(key) = &sub.idempotency_key {
            if let Some(r) = self.existing(key, &spec_hash)? {
                return Ok((r, true));
            }
        }
        // The place was held by `admission` (checked before planning).
        let id = new_id();
        // The render runs from this plan: its video goes to the render's file, and its
        // captions also as WebVTT (`<id>.vtt`, served at .../captions): browsers show only
        // those, not the MP4's own subtitle track.
        let mut plan = plan.clone();
        plan.output = self.video_path(&id);
        plan.captions.vtt = true;
        // The chapters stay in the MP4: the service serves no chapters file.
        plan.chapters_vtt = false;
        let plan_json =
            serde_json::to_string(&plan).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let scenes: Vec<Value> = plan
            .scenes
            .iter()
            .map(|s| json!({"id": s.id, "start_frame": s.start_frame, "frames": s.frames}))
            .collect();
        let rec = Record {
            id,
            state: State::Queued,
            spec: sub.spec,
            spec_hash: spec_hash.clone(),
            idempotency_key: sub.idempotency_key.clone(),
            webhook_url: sub.webhook_url,
            webhook_status: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
            attempts: 0,
            frames_total: plan.total_frames,
            duration_s: plan.duration_s(),
            width: plan.width,
            height: plan.height,
            scenes: Value::Array(scenes).to_string(),
            report: None,
            error: None,
            plan: Some(plan_json),
        };
        match self.store().insert(&rec)? {
            Inserted::New => {}
            Inserted::Existing(r) => {
                // Checked above under the queue lock; kept for a second process on the file.
                if r.spec_hash != spec_hash {
                    return Err(ServiceError::Conflict(
                        "Idempotency-Key was used for a different spec".into(),
                    ));
                }
                return Ok((*r, true));
            }
        }
        let live = Live::new(State::Queued, admission.client);
        lock(&self.live).insert(rec.id.clone(), Arc::new(live));
        q.push_back(rec.id.clone());
        drop(admission);
        drop(q);
        self.wake.notify_one();
        Ok((rec, false))
    }

    /// The render an earlier submission of `spec` with the same idempotency key made.
    ///
    /// # Errors
    /// [`ServiceError::Conflict`] when the key was used for another spec; [`ServiceError::Db`].
    pub fn replay(&self, key: &str, spec: &str) -> Result<Option<Record>, ServiceError> {
        self.existing(key, &fnv_hex(spec.as_bytes()))
    }

    fn existing(&self, key: &str, spec_hash: &str) -> Result<Option<Record>, ServiceError> {
        let Some(found) = self.store().by_idempotency_key(key)? else {
            return Ok(None);
        };
        if found.spec_hash != spec_hash {
            return Err(ServiceError::Conflict(format!(
                "Idempotency-Key `{key}` was used for a different spec (render {})",
                found.id
            )));
        }
        Ok(Some(found))
    }

    /// Seconds a client should wait before resubmitting when `waiting` renders are queued.
    fn retry_after(&self, waiting: usize) -> u64 {
        let avg = *lock(&self.avg_render_s);
        let per_slot = waiting as f64 / self.cfg.workers.max(1) as f64;
        (avg * per_slot.max(1.0) / 2.0).ceil().clamp(1.0, 600.0) as u64
    }

    /// The live snapshot of a queued or running render.
    pub fn live(&self, id: &str) -> Option<Arc<Live>> {
        lock(&self.live).get(id).cloned()
    }

    /// The API's view of a render.
    pub fn status(&self, rec: &Record) -> Value {
        let live = self.live(&rec.id).map(|l| lock(&l.snap).clone());
        let state = match &live {
            Some(s) if !rec.state.is_terminal() => s.state,
            _ => rec.state,
        };
        let total = rec.frames_total;
        let done_frames = match (&live, state) {
            (_, State::Done) => total,
            (Some(s), _) => s.frames_done.min(total),
            _ => 0,
        };
        let progress = match state {
            State::Done => 100.0,
            State::Queued | State::Preparing => 0.0,
            _ if total > 0 => (done_frames as f64 * 100.0 / total as f64).min(99.0),
            _ => 0.0,
        };
        let eta_s = live.as_ref().and_then(|s| {
            let started = s.render_started?;
            if state.is_terminal() || done_frames == 0 {
                return None;
            }
            let el = started.elapsed().as_secs_f64();
            Some((el / done_frames as f64 * (total - done_frames) as f64 * 10.0).round() / 10.0)
        });
        let scenes: Vec<Value> = serde_json::from_str::<Vec<Value>>(&rec.scenes)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let start = s["start_frame"].as_u64().unwrap_or(0);
                let frames = s["frames"].as_u64().unwrap_or(0);
                let done = done_frames.saturating_sub(start).min(frames);
                json!({
                    "id": s["id"],
                    "frames": frames,
                    "frames_done": done,
                    "progress": (done * 100).checked_div(frames).map_or(100.0, |p| p as f64),
                })
            })
            .collect();
        let base = format!("/v1/renders/{}", rec.id);
        let mut links = json!({"self": base, "events": format!("{base}/events")});
        if state == State::Done {
            links["video"] = json!(format!("{base}/video"));
            links["poster"] = json!(format!("{base}/poster"));
        }
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
        };
        let report = parse(&rec.report);
        if state == State::Done
            && report
                .as_ref()
                .is_some_and(|r| r["captions_file"].is_string())
        {
            links["captions"] = json!(format!("{base}/captions"));
        }
        if state == State::Done {
            super::thumbs::add_links(&mut links, &base, report.as_ref());
        }
        json!({
            "id": rec.id,
            "state": state.as_str(),
            "progress": (progress * 10.0_f64).floor() / 10.0,
            "frames": {"done": done_frames, "total": total},
            "scenes": scenes,
            "eta_s": eta_s,
            "video": {"width": rec.width, "height": rec.height, "duration_s": rec.duration_s},
            "attempts": rec.attempts,
            "created_at": rec.created_at,
            "started_at": rec.started_at,
            "finished_at": rec.finished_at,
            "report": report,
            "error": parse(&rec.error),
            "webhook": rec.webhook_url.as_ref().map(|u| json!({"url": u, "status": rec.webhook_status})),
            "links": links,
        })
    }

    async fn worker(self: Arc<Self>) {
        loop {
            let id = tokio::select! {
                _ = self.stopping.cancelled() => break,
                id = self.next() => id,
            };
            self.clone().run(id).await;
        }
    }

    async fn next(&self) -> String {
        loop {
            if let Some(id) = lock(&self.queue).pop_front() {
                return id;
            }
            self.wake.notified().await;
        }
    }

    /// Takes a render out of the live map after its final state is recorded; watchers see
    /// the channel close and read the record.
    fn retire(&self, id: &str) {
        lock(&self.live).remove(id);
    }

    /// Holds a place in the queue for a submission from `client`, before its spec is planned.
    ///
    /// # Errors
    /// [`ServiceError::QueueFull`] when the queue, or this client's share of it
    /// (`max_per_client` renders queued or running), is full; [`ServiceError::ShuttingDown`].
    pub fn admit(&self, client: Option<IpAddr>) -> Result<Admission<'_>, ServiceError> {
        if self.stopping.is_cancelled() {
            return Err(ServiceError::ShuttingDown);
        }
        let waiting = lock(&self.queue).len();
        let mut a = lock(&self.admitted);
        if waiting + a.0 >= self.cfg.queue_limit {
            return Err(ServiceError::QueueFull {
                limit: self.cfg.queue_limit,
                retry_after_s: self.retry_after(waiting + a.0),
            });
        }
        if let Some(ip) = client {
            let mine = lock(&self.live)
                .values()
                .filter(|l| l.client == Some(ip))
                .count()
                + a.1.get(&ip).copied().unwrap_or(0);
            if mine >= self.cfg.max_per_client {
                return Err(ServiceError::QueueFull {
                    limit: self.cfg.max_per_client,
                    retry_after_s: self.retry_after(mine),
                });
            }
            *a.1.entry(ip).or_default() += 1;
        }
        a.0 += 1;
        Ok(Admission { svc: self, client })
    }

    async fn run(self: Arc<Self>, id: String) {
        let rec = match self.store().get(&id) {
            Ok(Some(r)) if r.state == State::Queued => r,
            Ok(_) => {
                self.retire(&id);
                return;
            }
            Err(e) => {
                tracing::error!("render {id}: {e}");
                self.retire(&id);
                return;
            }
        };
        let live = match self.live(&id) {
            Some(l) => l,
            None => {
                let l = Arc::new(Live::new(State::Queued, None));
                lock(&self.live).insert(id.clone(), l.clone());
                l
            }
        };
        if live.stop_reason().is_some() {
            self.conclude(&id, &live, Err(Error::Cancelled), None);
            return;
        }
        if let Err(e) = self.store().set_state(&id, State::Preparing) {
            tracing::error!("render {id}: {e}");
        }
        live.set_state(State::Preparing);
        let t = Instant::now();
        let (svc, l) = (self.clone(), live.clone());
        let joined = tokio::task::spawn_blocking(move || svc.render_blocking(&rec, &l)).await;
        let (result, stage) = match joined {
            Ok(r) => r,
            Err(e) => (Err(Error::Internal(format!("render task: {e}"))), None),
        };
        if result.is_ok() {
            let mut avg = lock(&self.avg_render_s);
            *avg = 0.7 * *avg + 0.3 * t.elapsed().as_secs_f64();
        }
        self.conclude(&id, &live, result, stage);
    }

    /// Runs the pipeline and writes the poster. Blocking.
    fn render_blocking(
        &self,
        rec: &Record,
        live: &Live,
    ) -> (Result<Value, Error>, Option<StageId>) {
        let plan = match self.job_plan(rec) {
            Ok(p) => p,
            Err(e) => return (Err(e), Some(StageId::Validate)),
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let output = self.video_path(&rec.id);
        let opts = RenderOptions {
            output: Some(output.clone()),
            output_name: rec.id.clone(),
            threads: if self.cfg.threads_per_render > 0 {
                self.cfg.threads_per_render
            } else {
                cores.div_ceil(self.cfg.workers.max(1)).max(1)
            },
            // A spec submitted again with some scenes changed re-makes only those.
            scene_cache: true,
            ..self.policy.options()
        };
        let mut progress = JobProgress {
            svc: self,
            id: &rec.id,
            live,
            stage: None,
            last_bump: Instant::now(),
            started: Instant::now(),
        };
        // Every file the plan reads is checked to be inside the allowed folders again (a
        // symbolic link may have changed since the submission).
        // Spoken narrations come from the speech cache, not from the spec's files.
        let files = opts.file_access();
        let speech = std::fs::canonicalize(opts.tts_cache()).ok();
        let spoken = |p: &Path| speech.as_ref().is_some_and(|s| p.starts_with(s));
        if let Some(p) = plan
            .input_files()
            .into_iter()
            .find(|p| !spoken(p) && !files.may_read(p))
        {
            let name = p.file_name().map(PathBuf::from).unwrap_or_default();
            let why = "is no longer inside the allowed folders".to_string();
            return (
                Err(Error::Input { path: name, why }),
                Some(StageId::Validate),
            );
        }
        #[cfg(feature = "farm")]
        let result = match &self.cfg.farm {
            // On a thread of its own: the store's client runs its own runtime, which cannot
            // start on a thread of the service's.
            Some(farm) => std::thread::scope(|s| {
                s.spawn(|| crate::farm::render_plan(&plan, &opts, farm, &mut progress))
                    .join()
                    .unwrap_or_else(|_| {
                        Err(Error::Internal("the farm's coordinator panicked".into()).into())
                    })
            })
            .map_err(|e| match e {
                crate::farm::FarmError::Render(e) => e,
                other => Error::Internal(other.to_string()),
            }),
            None => pipeline::render_plan(&plan, &opts, &mut progress),
        };
        #[cfg(not(feature = "farm"))]
        let result = pipeline::render_plan(&plan, &opts, &mut progress);
        let stage = progress.stage;
        let report = match result {
            Ok(r) => r,
            Err(e) => return (Err(e), stage),
        };
        let fps = report.fps.max(1.0);
        let at = (report.frames / 3).min((fps * 3.0) as u64);
        if let Err(e) = write_poster(&output, &self.poster_path(&rec.id), at) {
            tracing::warn!("render {}: no poster: {e}", rec.id);
        }
        match serde_json::to_value(&report) {
            Ok(v) => (Ok(v), stage),
            Err(e) => (Err(Error::Internal(e.to_string())), stage),
        }
    }

    /// The plan a render runs from: the one stored at submission, or (for a render submitted
    /// before plans were stored) its spec planned now as submission would have.
    fn job_plan(&self, rec: &Record) -> Result<crate::Plan, Error> {
        if let Some(json) = &rec.plan {
            return serde_json::from_str(json)
                .map_err(|e| Error::Internal(format!("stored plan: {e}")));
        }
        let comp = Composition::from_json(&rec.spec)?;
        let mut plan = pipeline::plan(&comp, &self.policy.options())?;
        plan.output = self.video_path(&rec.id);
        plan.captions.vtt = true;
        plan.chapters_vtt = false;
        Ok(plan)
    }

    /// Records how a render ended, according to the result and any stop request.
    fn conclude(
        self: &Arc<Self>,
        id: &str,
        live: &Live,
        result: Result<Value, Error>,
        stage: Option<StageId>,
    ) {
        let stop = live.stop_reason();
        let outcome = match (stop, &result) {
            (Some(Stop::Delete), _) => {
                self.remove_render(id);
                None
            }
            (Some(Stop::Shutdown), Err(_)) => {
                // Not the render's fault: it runs again from the start at the next start, and
                // this start does not count against its attempts.
                let _ = self.store().unstart(id);
                live.set_state(State::Queued);
                None
            }
            // The report names the output and inputs: relative to the storage root for clients.
            (_, Ok(report)) => Some((
                State::Done,
                Some(self.policy.redact(&report.to_string())),
                None,
            )),
            (Some(Stop::TimeLimit), Err(_)) => Some((
                State::Failed,
                None,
                Some(
                    json!({"kind": "time_limit", "stage": stage.map(StageId::as_str),
                    "path": null, "message": format!(
                        "the render took longer than this service's limit of {} s (reelsmith \
                         serve --max-render-time)",
                        self.cfg.max_render_time.map_or(0, |d| d.as_secs()))})
                    .to_string(),
                ),
            )),
            (Some(Stop::Cancel), Err(_)) | (_, Err(Error::Cancelled)) => Some((
                State::Canceled,
                None,
                Some(
                    json!({"kind": "canceled", "stage": stage.map(StageId::as_str),
                    "path": null, "message": "canceled on request"})
                    .to_string(),
                ),
            )),
            (_, Err(e)) => {
                tracing::warn!("render {id} failed: {e}");
                // The client sees files relative to the storage root, never its location.
                let shown = self.policy.redact(&error_json(e, stage).to_string());
                Some((State::Failed, None, Some(shown)))
            }
        };
        if let Some((state, report, error)) = outcome {
            if let Err(e) = self
                .store()
                .finish(id, state, report.as_deref(), error.as_deref())
            {
                tracing::error!("render {id}: {e}");
            }
            if state != State::Done {
                // A failed render leaves no file; an old poster or captions of a re-run must
                // not stay.
                let _ = std::fs::remove_file(self.poster_path(id));
                let _ = std::fs::remove_file(self.captions_path(id));
                let _ = std::fs::remove_dir_all(self.thumbnails_dir(id));
            }
            live.set_state(state);
            let has_hook = self
                .store()
                .get(id)
                .ok()
                .flatten()
                .is_some_and(|r| r.webhook_url.is_some());
            if has_hook {
                self.clone().send_webhook(id.to_string());
            }
        }
        self.retire(id);
    }

    fn send_webhook(self: Arc<Self>, id: String) {
        tokio::spawn(async move {
            let rec = match self.store().get(&id) {
                Ok(Some(r)) => r,
                _ => return,
            };
            let Some(url) = rec.webhook_url.clone() else {
                return;
            };
            let body = self.status(&rec).to_string().into_bytes();
            let ok = webhook::deliver(
                url,
                body,
                self.cfg.webhook_secret.clone(),
                self.cfg.webhook_attempts,
                self.cfg.webhook_backoff,
                self.cfg.webhook_allow.clone(),
            )
            .await;
            let _ = self
                .store()
                .set_webhook_status(&id, if ok { "delivered" } else { "failed" });
        });
    }

    /// Removes a render's files and record.
    fn remove_render(&self, id: &str) {
        let _ = std::fs::remove_file(self.video_path(id));
        let _ = std::fs::remove_file(self.poster_path(id));
        let _ = std::fs::remove_file(self.captions_path(id));
        let _ = std::fs::remove_dir_all(self.thumbnails_dir(id));
        if let Err(e) = self.store().delete(id) {
            tracing::error!("delete {id}: {e}");
        }
    }

    /// Cancels (keeping the record) or deletes a render. A running render is stopped within
    /// a frame batch; this waits for its worker at most `wait`. Returns false if the worker
    /// has not let go yet (it finishes the removal itself).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::Db`].
    pub async fn stop(&self, id: &str, delete: bool, wait: Duration) -> Result<bool, ServiceError> {
        let rec = self
            .store()
            .get(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("no render {id}")))?;
        let why = if delete { Stop::Delete } else { Stop::Cancel };
        let live = self.live(id);
        let was_queued = {
            let mut q = lock(&self.queue);
            let before = q.len();
            q.retain(|x| x != id);
            q.len() != before
        };
        match live {
            Some(l) if !was_queued => {
                let mut rx = l.subscribe();
                l.request_stop(why);
                // The channel closes when the worker lets go of the render: hold no reference.
                drop(l);
                let waited =
                    tokio::time::timeout(wait, async { while rx.changed().await.is_ok() {} }).await;
                Ok(waited.is_ok())
            }
            other => {
                // Queued (now out of the queue) or finished: no worker holds it.
                if delete {
                    self.remove_render(id);
                } else if !rec.state.is_terminal() {
                    self.store().finish(
                        id,
                        State::Canceled,
                        None,
                        Some(
                            &json!({"kind": "canceled", "stage": null, "path": null,
                                "message": "canceled before it started"})
                            .to_string(),
                        ),
                    )?;
                }
                if let Some(l) = other {
                    l.set_state(if delete { State::Canceled } else { rec.state });
                }
                self.retire(id);
                Ok(true)
            }
        }
    }

    /// Removes finished renders (done, failed, canceled) that ended more than `age` ago,
    /// files and records together. Returns their ids.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn cleanup(&self, age: Duration) -> Result<Vec<String>, ServiceError> {
        let ids = self.store().finished_before(now() - age.as_secs_f64())?;
        for id in &ids {
            self.remove_render(id);
        }
        self.sweep_uploads(Some(age));
        Ok(ids)
    }

    /// `<media>/assets/uploads`.
    fn uploads_dir(&self) -> PathBuf {
        self.cfg.media.join("assets").join("uploads")
    }

    /// Bytes of uploaded assets kept now.
    pub fn uploads_bytes(&self) -> u64 {
        std::fs::read_dir(self.uploads_dir())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Removes uploads older than `age` that no queued or running render names (with the
    /// same retention as renders), and temp files of uploads a killed process left (older
    /// than a minute, or any at start when `age` is `None`).
    fn sweep_uploads(&self, age: Option<Duration>) {
        let Ok(rd) = std::fs::read_dir(self.uploads_dir()) else {
            return;
        };
        // The files queued and running renders name (the spec's own list of them).
        let named: std::collections::HashSet<String> = {
            let ids: Vec<String> = lock(&self.live).keys().cloned().collect();
            let store = self.store();
            ids.iter()
                .filter_map(|id| store.get(id).ok().flatten())
                .filter_map(|r| Composition::from_json(&r.spec).ok())
                .flat_map(|c| {
                    c.files()
                        .into_iter()
                        .map(|f| f.src.to_string())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let now = std::time::SystemTime::now();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = |limit: Duration| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|d| d >= limit)
            };
            let remove = if name.starts_with('.') && name.ends_with(".tmp") {
                age.is_none() || old(Duration::from_secs(60))
            } else {
                age.is_some_and(old) && !named.contains(&format!("assets/uploads/{name}"))
            };
            if remove {
                tracing::info!("removing upload {name}");
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
