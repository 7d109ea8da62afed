//! `reelsmith worker`: takes units from the broker, renders them from the stored plan and
//! assets, and puts the results in the store. Any number run at once, on any machines.
//!
//! A worker keeps copies of plans and assets under its cache folder (assets by content
//! hash, so a file is fetched once whatever renders use it), renders each unit in a
//! temporary folder there (swept at the next start if the worker is killed), and holds its
//! unit's lease while it renders. A broker that goes away is waited for: the worker
//! reconnects once a second and goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::broker::{Broker, Delivery};
use super::store::Store;
use super::unit::{self, Event, PcmInfo, Unit, What, Work};
use super::FarmError;
use crate::error::Error;
use crate::pipeline::workspace::{self, Workspace};
use crate::pipeline::{Progress, RenderOptions};
use crate::plan::Plan;

/// How a worker runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// The broker, `redis://HOST:PORT/DB`.
    pub broker: String,
    /// The worker's name on the broker (unique among the workers). Default: `<host>-<pid>`.
    pub name: String,
    /// Its own folder: copies of plans and assets, temporary files. Default:
    /// `media/farm`.
    pub cache_dir: PathBuf,
    /// How long a unit stays this worker's without a heartbeat before another worker takes
    /// it over. Heartbeats go at a third of it. Default: 30 s.
    pub lease: Duration,
}

impl WorkerOptions {
    /// Options for a worker on `broker`, with the defaults.
    pub fn new(broker: impl Into<String>) -> WorkerOptions {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "worker".into());
        WorkerOptions {
            broker: broker.into(),
            name: format!("{host}-{}", std::process::id()),
            cache_dir: PathBuf::from("media/farm"),
            lease: Duration::from_secs(30),
        }
    }

    /// Sets [`Self::name`].
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets [`Self::cache_dir`].
    #[must_use]
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// Sets [`Self::lease`].
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// What a worker did, for its log.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// Connected to the broker.
    Connected(String),
    /// Lost the broker; retrying.
    BrokerLost(String),
    /// Took a unit.
    Took {
        /// Its label.
        unit: String,
        /// The render.
        render: String,
        /// Which delivery.
        delivery: u64,
    },
    /// Finished a unit.
    Finished {
        /// Its label.
        unit: String,
        /// Seconds.
        wall_s: f64,
        /// Already in the store.
        cached: bool,
    },
    /// A unit's render was cancelled (its coordinator gave up on it) or this worker is
    /// stopping.
    Cancelled {
        /// Its label.
        unit: String,
    },
    /// A unit failed.
    Failed {
        /// Its label.
        unit: String,
        /// Why.
        message: String,
    },
}

/// Runs a worker until `stop` is set (checked at least once a second).
///
/// # Errors
/// Only for what no retry can mend: [`FarmError::Address`] for a malformed broker address,
/// or a cache folder that cannot be made.
pub fn run(
    store: &Store,
    opts: &WorkerOptions,
    stop: &AtomicBool,
    log: &mut dyn FnMut(WorkerEvent),
) -> Result<(), FarmError> {
    let temp_root = opts.cache_dir.join("assets").join("temp");
    workspace::sweep(&temp_root)?;
    let mut worker = Worker {
        store,
        opts,
        plans: HashMap::new(),
    };
    let poll = Duration::from_secs(1);
    let mut broker: Option<Broker> = None;
    while !stop.load(Ordering::Relaxed) {
        let b = match broker.as_mut() {
            Some(b) => b,
            None => match Broker::connect(&opts.broker, poll) {
                Ok(b) => {
                    log(WorkerEvent::Connected(b.at().to_string()));
                    broker.insert(b)
                }
                Err(e @ FarmError::Address(_)) => return Err(e),
                Err(e) => {
                    log(WorkerEvent::BrokerLost(e.to_string()));
                    std::thread::sleep(poll);
                    continue;
                }
            },
        };
        match b.next(&opts.name, opts.lease, poll) {
            Ok(Some(d)) => {
                if let Err(e) = worker.handle(b, &d, stop, log) {
                    log(WorkerEvent::BrokerLost(e.to_string()));
                    broker = None;
                }
            }
            Ok(None) => {}
            Err(e @ FarmError::Message(_)) => log(WorkerEvent::Failed {
                unit: "?".into(),
                message: e.to_string(),
            }),
            Err(e) => {
                log(WorkerEvent::BrokerLost(e.to_string()));
                broker = None;
                std::thread::sleep(poll);
            }
        }
    }
    Ok(())
}

struct Worker<'a> {
    store: &'a Store,
    opts: &'a WorkerOptions,
    /// Plans read, by store key, with their files moved to this worker's copies, and each
    /// copy with the file it stands for.
    plans: HashMap<String, (Arc<Plan>, Copies)>,
}

/// A worker's copies of a plan's files: (the copy, the file it stands for).
type Copies = Vec<(PathBuf, PathBuf)>;

impl Worker<'_> {
    /// Renders one delivered unit, says so on the render's events and acknowledges it.
    /// Returns an error only when the broker failed (the unit stays pending: its lease runs
    /// out and another worker takes it).
    fn handle(
        &mut self,
        broker: &mut Broker,
        d: &Delivery,
        stop: &AtomicBool,
        log: &mut dyn FnMut(WorkerEvent),
    ) -> Result<(), FarmError> {
        let unit = &d.unit;
        let name = self.opts.name.clone();
        let event = |what| Event {
            unit: unit.index,
            worker: name.clone(),
            delivery: d.count,
            what,
        };
        if broker.cancelled(&unit.render)? {
            log(WorkerEvent::Cancelled { unit: unit.label() });
            return broker.ack(&d.id);
        }
        // Tells the coordinator that the unit cannot be rendered, and drops it.
        let fail = |broker: &mut Broker, message: String, code: i32| {
            broker.tell(&unit.render, &event(What::Failed { message, code }))?;
            broker.ack(&d.id)
        };
        if d.count > unit.max_deliveries {
            let e = FarmError::GaveUp {
                unit: unit.label(),
                deliveries: d.count - 1,
            };
            return fail(broker, e.to_string(), e.exit_code());
        }
        log(WorkerEvent::Took {
            unit: unit.label(),
            render: unit.render.clone(),
            delivery: d.count,
        });
        let heartbeat = Heartbeat::start(self.opts, &d.id);
        let t = Instant::now();
        let cpu = crate::pipeline::report::process_cpu_s();
        let mut progress = UnitProgress {
            broker,
            unit,
            worker: &name,
            delivery: d.count,
            stop,
            last: Instant::now(),
            cancel_checked: Instant::now(),
        };
        let result = self.render(unit, &mut progress);
        drop(heartbeat);
        let wall_s = t.elapsed().as_secs_f64();
        let cpu_s = crate::pipeline::report::cpu_since(cpu).unwrap_or(0.0);
        match result {
            Ok(cached) => {
                log(WorkerEvent::Finished {
                    unit: unit.label(),
                    wall_s,
                    cached,
                });
                broker.tell(
                    &unit.render,
                    &event(What::Done {
                        wall_s,
                        cpu_s,
                        cached,
                    }),
                )?;
                broker.ack(&d.id)
            }
            Err(FarmError::Render(Error::Cancelled)) => {
                log(WorkerEvent::Cancelled { unit: unit.label() });
                if stop.load(Ordering::Relaxed) {
                    // This worker is stopping: the unit stays pending for another one.
                    Ok(())
                } else {
                    broker.ack(&d.id)
                }
            }
            // The store or broker failed: not the unit's fault. It stays pending and is
            // handed out again after its lease (the deliveries are capped).
            Err(e @ (FarmError::Store { .. } | FarmError::Broker { .. })) => {
                log(WorkerEvent::Failed {
                    unit: unit.label(),
                    message: e.to_string(),
                });
                Ok(())
            }
            Err(e) => {
                // The error names the files as the spec's author knows them, not as this
                // worker's copies.
                let message = self.originals(&unit.plan, e.to_string());
                log(WorkerEvent::Failed {
                    unit: unit.label(),
                    message: message.clone(),
                });
                fail(broker, message, e.exit_code())
            }
        }
    }

    /// Renders `unit` into the store. Returns whether its result was there already.
    fn render(&mut self, unit: &Unit, progress: &mut UnitProgress<'_>) -> Result<bool, FarmError> {
        if self.store.exists(&unit.out)? {
            return Ok(true);
        }
        let plan = self.plan(&unit.plan)?;
        let opts = RenderOptions::default()
            .with_media_root(&self.opts.cache_dir)
            .with_threads(unit.threads);
        let ws = Workspace::create(&opts.temp_root(), false)?;
        let out = ws.dir().join("unit.out");
        match &unit.work {
            Work::Video { start, end } => {
                crate::pipeline::render_range_with_progress(
                    &plan,
                    *start..*end,
                    &out,
                    &opts,
                    progress,
                )?;
            }
            Work::Audio => {
                crate::pipeline::render_audio(&plan, &out, &opts)?;
            }
            Work::Pcm => {
                let loudness = crate::pipeline::render_pcm(&plan, &out, &opts)?;
                // The samples first: the loudness, the unit's result, says they are there.
                self.store
                    .put_file_once(&unit::pcm_samples_key(&unit.out), &out)?;
                let info = PcmInfo {
                    samples: plan.total_samples,
                    loudness,
                };
                let json = serde_json::to_vec(&info).map_err(|e| Error::Internal(e.to_string()))?;
                self.store.put_once(&unit.out, json)?;
                return Ok(false);
            }
            Work::AudioChunk { index, pcm } => {
                let info: PcmInfo = serde_json::from_slice(&self.store.get(pcm)?)
                    .map_err(|e| FarmError::Message(format!("{pcm}: {e}")))?;
                let chunk =
                    plan.audio_chunks().get(*index).cloned().ok_or_else(|| {
                        Error::Range(format!("the plan has no audio chunk {index}"))
                    })?;
                let feed = crate::encode::aac::chunk_feed(&chunk, plan.total_samples).feed;
                let bytes = self
                    .store
                    .get_range(&unit::pcm_samples_key(pcm), feed.start * 8..feed.end * 8)?;
                let samples: Vec<f32> = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                crate::pipeline::render_audio_chunk(&plan, *index, &samples, info.loudness, &out)?;
            }
        }
        self.store.put_file_once(&unit.out, &out)?;
        Ok(false)
    }

    /// The plan at `key`, its files fetched into this worker's asset copies.
    fn plan(&mut self, key: &str) -> Result<Arc<Plan>, FarmError> {
        if let Some((p, _)) = self.plans.get(key) {
            return Ok(p.clone());
        }
        let bytes = self.store.get(key)?;
        let mut plan: Plan = serde_json::from_slice(&bytes)
            .map_err(|e| FarmError::Message(format!("{key}: {e}")))?;
        let assets = self.opts.cache_dir.join("assets").join("farm");
        std::fs::create_dir_all(&assets).map_err(FarmError::io("create", &assets))?;
        let mut local = HashMap::new();
        for (path, sha) in &plan.inputs {
            let name = asset_name(path, sha);
            let copy = assets.join(&name);
            if !copy.is_file() {
                let stored = format!("assets/{name}");
                self.store.get_to_file(&stored, &copy)?;
                // Named by its hash: what came must be that file, or every render that uses
                // it here would show something else.
                let got =
                    crate::base::hash::sha256_file(&copy).map_err(FarmError::io("read", &copy))?;
                if crate::base::hash::hex(&got) != *sha {
                    let _ = std::fs::remove_file(&copy);
                    return Err(Error::Input {
                        path: path.clone(),
                        why: format!(
                            "the store's copy ({stored}) is not the file the plan read (its \
                             SHA-256 differs): remove it from the store"
                        ),
                    }
                    .into());
                }
            }
            local.insert(path.clone(), copy);
        }
        plan.relocate(&|p: &Path| local.get(p).cloned());
        // A small cache: a worker serves one render at a time, sometimes a few.
        if self.plans.len() >= 8 {
            self.plans.clear();
        }
        let plan = Arc::new(plan);
        let copies = local.into_iter().map(|(orig, copy)| (copy, orig)).collect();
        self.plans.insert(key.to_string(), (plan.clone(), copies));
        Ok(plan)
    }

    /// `message` with this worker's copies of the plan at `key` named as the files they
    /// stand for.
    fn originals(&self, key: &str, mut message: String) -> String {
        if let Some((_, copies)) = self.plans.get(key) {
            for (copy, orig) in copies {
                message = message.replace(&copy.display().to_string(), &orig.display().to_string());
            }
        }
        message
    }
}

/// The name of an asset in the store and in a worker's copies: its SHA-256 and its
/// extension (some readers go by it).
pub(super) fn asset_name(path: &Path, sha256: &str) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("{sha256}.{}", ext.to_ascii_lowercase())
        }
        _ => sha256.to_string(),
    }
}

/// A unit's progress: sent to its coordinator twice a second; the render's cancel flag
/// read four times a second (and this worker's stop).
struct UnitProgress<'a> {
    broker: &'a mut Broker,
    unit: &'a Unit,
    worker: &'a str,
    delivery: u64,
    stop: &'a AtomicBool,
    last: Instant,
    cancel_checked: Instant,
}

impl Progress for UnitProgress<'_> {
    fn frames(&mut self, done: u64, _total: u64) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        if self.cancel_checked.elapsed() >= Duration::from_millis(250) {
            self.cancel_checked = Instant::now();
            // A broker that is away does not cancel: the lease decides.
            if self.broker.cancelled(&self.unit.render).unwrap_or(false) {
                return false;
            }
        }
        if self.last.elapsed() >= Duration::from_millis(500) {
            self.last = Instant::now();
            let _ = self.broker.tell(
                &self.unit.render,
                &Event {
                    unit: self.unit.index,
                    worker: self.worker.to_string(),
                    delivery: self.delivery,
                    what: What::Progress { done },
                },
            );
        }
        true
    }
}

/// Renews a unit's lease every third of it, on a thread with its own connection, until
/// dropped.
struct Heartbeat {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(opts: &WorkerOptions, id: &str) -> Heartbeat {
        let done = Arc::new(AtomicBool::new(false));
        let (flag, url, name, id) = (
            done.clone(),
            opts.broker.clone(),
            opts.name.clone(),
            id.to_string(),
        );
        let every = (opts.lease / 3).max(Duration::from_millis(100));
        let thread = std::thread::Builder::new()
            .name("reelsmith-heartbeat".into())
            .spawn(move || {
                let mut broker = None;
                let mut next = Instant::now() + every;
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    if Instant::now() < next {
                        continue;
                    }
                    next = Instant::now() + every;
                    if broker.is_none() {
                        broker = Broker::connect(&url, every).ok();
                    }
                    if let Some(b) = broker.as_mut() {
                        if b.renew(&name, &id).is_err() {
                            broker = None;
                        }
                    }
                }
            })
            .ok();
        Heartbeat { done, thread }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
