//! The coordinator: plans locally, puts the plan and the files it reads in the store,
//! publishes its units, follows the workers' events with the usual progress, and joins
//! the results into the MP4 in-process (no re-encoding), as a transaction.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::broker::Broker;
use super::store::Store;
use super::unit::{self, Unit, What};
use super::worker::asset_name;
use super::FarmError;
use crate::error::Error;
use crate::pipeline::report::{FarmReport, RenderReport, StageId, StageReport, UnitReport};
use crate::pipeline::workspace::Workspace;
use crate::pipeline::{Progress, RenderOptions};
use crate::plan::Plan;
use crate::spec::Composition;

/// Where renders are spread: the broker and the store every worker uses.
#[derive(Debug)]
#[non_exhaustive]
pub struct Farm {
    /// The broker, `redis://HOST:PORT/DB`.
    pub broker: String,
    /// The store.
    pub store: Store,
    /// Times a unit may be handed out (to a worker that then died or lost its lease)
    /// before the render fails. Default: 3.
    pub max_deliveries: u64,
    /// How long a broker that went away is waited for before the render fails; when it
    /// comes back, the units not yet done are published again. Default: 60 s.
    pub patience: Duration,
}

impl Farm {
    /// A farm on `broker` and `store`, with the defaults.
    pub fn new(broker: impl Into<String>, store: Store) -> Farm {
        Farm {
            broker: broker.into(),
            store,
            max_deliveries: 3,
            patience: Duration::from_secs(60),
        }
    }

    /// Sets [`Self::max_deliveries`].
    #[must_use]
    pub fn with_max_deliveries(mut self, n: u64) -> Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Sets [`Self::patience`].
    #[must_use]
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }
}

/// Plans `comp` here and renders it on the farm. See [`render_plan`].
///
/// # Errors
/// See [`render_plan`]; [`Error::Spec`] for a spec that cannot be planned.
pub fn render(
    comp: &Composition,
    opts: &RenderOptions,
    farm: &Farm,
    progress: &mut dyn Progress,
) -> Result<RenderReport, FarmError> {
    progress.stage(StageId::Validate);
    let t = Instant::now();
    let cpu = crate::pipeline::report::process_cpu_s();
    let plan = crate::pipeline::plan(comp, opts)?;
    render_planned(&plan, opts, farm, progress, (t, cpu))
}

/// Renders a plan on the farm: its files and the plan go to the store (each file once,
/// by content), its units to the broker (those whose result an earlier render left in the
/// store are not rendered again), and the workers' results are joined here into the plan's
/// output with its captions, as a local render writes it; the same pictures as a local
/// render with the same `threads` and `chunk_s`. Nothing appears at the output unless the
/// render completes; a cancel (`progress` returning false) reaches the workers within a
/// second.
///
/// # Errors
/// [`FarmError::Unit`] with a worker's error, [`FarmError::GaveUp`] for a unit whose workers
/// kept dying, [`FarmError::Broker`] / [`FarmError::Store`], [`Error::Cancelled`].
pub fn render_plan(
    plan: &Plan,
    opts: &RenderOptions,
    farm: &Farm,
    progress: &mut dyn Progress,
) -> Result<RenderReport, FarmError> {
    progress.stage(StageId::Validate);
    render_planned(
        plan,
        opts,
        farm,
        progress,
        (Instant::now(), crate::pipeline::report::process_cpu_s()),
    )
}

/// The farm renders one output: a plan with renditions is refused before anything is
/// published (render them locally, or each size as its own render).
fn refuse_renditions(plan: &Plan) -> Result<(), FarmError> {
    if plan.renditions.is_empty() {
        return Ok(());
    }
    Err(FarmError::Render(crate::error::Error::Spec(
        crate::spec::SpecError::Invalid(vec![crate::spec::SpecIssue {
            path: "output.renditions".into(),
            message: format!(
                "{} renditions: a render on the farm (--broker) makes one output; render \
                 renditions locally, or each size as a render of its own",
                plan.renditions.len()
            ),
        }]),
    )))
}

fn render_planned(
    plan: &Plan,
    opts: &RenderOptions,
    farm: &Farm,
    progress: &mut dyn Progress,
    (t_start, cpu_start): (Instant, Option<f64>),
) -> Result<RenderReport, FarmError> {
    refuse_renditions(plan)?;
    let mut stages = vec![StageReport::new(
        StageId::Validate,
        t_start,
        plan.total_frames,
        0,
    )];
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };

    // Publish: the files, the plan, the units.
    progress.stage(StageId::Prepare);
    let t = Instant::now();
    let uploaded = upload_inputs(plan, &farm.store)?;
    let plan_json = serde_json::to_vec(plan).map_err(|e| Error::Internal(e.to_string()))?;
    let plan_key = format!("plans/{}.json", crate::base::hash::sha256_hex(&plan_json));
    farm.store.put_once(&plan_key, plan_json)?;
    let render_id = render_id();
    let units = unit::units(plan, &render_id, &plan_key, threads, farm.max_deliveries)?;
    let mut broker = Broker::connect(&farm.broker, Duration::from_secs(5))?;
    let mut state: Vec<UnitReport> = units
        .iter()
        .map(|u| UnitReport {
            label: u.label(),
            frames: u.work.frames(),
            ..UnitReport::default()
        })
        .collect();
    let mut done = vec![false; units.len()];
    let mut published = vec![false; units.len()];
    publish_missing(
        &units,
        &mut done,
        &mut published,
        &mut state,
        farm,
        &mut broker,
    )?;
    stages.push(StageReport {
        note: Some(format!(
            "{uploaded} files put in the store, {} units published",
            published.iter().filter(|p| **p).count()
        )),
        ..StageReport::new(StageId::Prepare, t, units.len() as u64, 0)
    });

    // Wait for the workers.
    progress.stage(StageId::Compose);
    let t = Instant::now();
    follow(
        &units,
        &render_id,
        &mut done,
        &mut published,
        &mut state,
        farm,
        &mut broker,
        progress,
        plan.total_frames,
    )?;
    let wait_s = t.elapsed().as_secs_f64();
    stages.push(StageReport {
        note: Some("units composed and encoded by the workers; wall time here".into()),
        ..StageReport::new(StageId::Compose, t, plan.total_frames, 0)
    });

    // Join.
    progress.stage(StageId::Finalize);
    let t = Instant::now();
    let ws = Workspace::create(&opts.temp_root(), opts.keep_temp)?;
    let mut segments = Vec::new();
    let mut audio = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let to = match u.work {
            unit::Work::Video { .. } => &mut segments,
            unit::Work::Audio | unit::Work::AudioChunk { .. } => &mut audio,
            // Read by the audio chunks only.
            unit::Work::Pcm => continue,
        };
        let local = ws.dir().join(format!("unit-{}", u.index));
        farm.store.get_to_file(&u.out, &local)?;
        state[i].bytes = std::fs::metadata(&local).map_or(0, |m| m.len());
        to.push(local);
    }
    let stats = crate::pipeline::join(plan, &segments, &audio, &plan.output, opts)?;
    drop(ws);
    let output_bytes = std::fs::metadata(&plan.output).map_or(0, |m| m.len());
    stages.push(StageReport::new(StageId::Finalize, t, 1, output_bytes));

    let wall = t_start.elapsed().as_secs_f64();
    let workers: Vec<String> = state
        .iter()
        .filter(|u| !u.worker.is_empty())
        .map(|u| u.worker.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let captions_file = crate::pipeline::range::captions_path(plan, &plan.output);
    Ok(RenderReport {
        output: plan.output.clone(),
        width: plan.width,
        height: plan.height,
        fps: plan.fps.as_f64(),
        frames: plan.total_frames,
        duration_s: plan.duration_s(),
        unique_frames: plan.spans().len() as u64,
        encoded_frames: stats.encoded_frames,
        patched_frames: stats.patched_frames,
        segments: stats.segments.max(1),
        segments_reused: state.iter().filter(|u| u.cached && u.frames > 0).count() as u64,
        frames_reused: state.iter().filter(|u| u.cached).map(|u| u.frames).sum(),
        quality: plan.quality.as_str().into(),
        wall_s: wall,
        realtime_factor: crate::pipeline::report::realtime_factor(plan.duration_s(), wall),
        output_bytes,
        peak_rss_bytes: crate::pipeline::report::peak_rss_bytes(),
        cpu_s: crate::pipeline::report::cpu_since(cpu_start),
        audio: stats.loudness,
        audio_cached: units
            .iter()
            .zip(&state)
            .filter(|(u, _)| u.work.is_encoded_audio())
            .all(|(_, s)| s.cached),
        threads,
        stages,
        text_fits: plan.text_fits.clone(),
        captions: plan.captions.cues.len(),
        captions_file,
        thumbnails: crate::pipeline::thumbnails::ThumbnailsReport::planned(plan, &plan.output),
        farm: Some(FarmReport {
            units: units.len(),
            units_cached: state.iter().filter(|u| u.cached).count(),
            redeliveries: state.iter().map(|u| u.deliveries.saturating_sub(1)).sum(),
            workers,
            wait_s,
            unit_reports: state,
        }),
        renditions: Vec::new(),
    })
}

/// A render's id on the broker: unique among renders (time, process, counter).
fn render_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{now:x}-{:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Puts every file the plan reads in the store (`assets/<sha256>.<ext>`) unless it is
/// there. Returns how many were put.
fn upload_inputs(plan: &Plan, store: &Store) -> Result<usize, FarmError> {
    let mut put = 0;
    for (path, sha) in &plan.inputs {
        let key = format!("assets/{}", asset_name(path, sha));
        if store.exists(&key)? {
            continue;
        }
        // The bytes must be those the plan hashed: a file edited since would be rendered
        // under another file's name.
        let bytes = std::fs::read(path).map_err(FarmError::io("read", path))?;
        if crate::base::hash::sha256_hex(&bytes) != *sha {
            return Err(Error::Input {
                path: path.clone(),
                why: "changed since the plan was made".into(),
            }
            .into());
        }
        if store.put_once(&key, bytes)? {
            put += 1;
        }
    }
    Ok(put)
}

/// Publishes the units not done nor published whose result is not in the store, and whose
/// prerequisite ([`Unit::after`]) is done; marks the others done (a unit that only others
/// read, once they are all done).
fn publish_missing(
    units: &[Unit],
    done: &mut [bool],
    published: &mut [bool],
    state: &mut [UnitReport],
    farm: &Farm,
    broker: &mut Broker,
) -> Result<(), FarmError> {
    let mark = |i: usize, done: &mut [bool], state: &mut [UnitReport]| {
        done[i] = true;
        state[i].cached = state[i].worker.is_empty();
    };
    let found = |i: usize, done: &mut [bool], state: &mut [UnitReport]| {
        if !done[i] && farm.store.exists(&units[i].out)? {
            mark(i, done, state);
        }
        Ok::<bool, FarmError>(done[i])
    };
    // Those that read another's result first: if all are there, that one is not needed.
    for (i, u) in units.iter().enumerate() {
        if u.after.is_some() && !published[i] {
            found(i, done, state)?;
        }
    }
    for (i, u) in units.iter().enumerate() {
        if published[i] || found(i, done, state)? {
            continue;
        }
        let readers = units
            .iter()
            .enumerate()
            .filter(|(_, r)| r.after == Some(u.index));
        let mut readers = readers.peekable();
        if readers.peek().is_some() && readers.all(|(j, _)| done[j]) {
            mark(i, done, state);
            continue;
        }
        let waits = u
            .after
            .and_then(|a| units.iter().position(|p| p.index == a))
            .is_some_and(|a| !done[a]);
        if waits {
            continue;
        }
        broker.publish(u)?;
        published[i] = true;
    }
    Ok(())
}

/// Follows the render's events until every unit is done. A broker that goes away is
/// waited for (up to the farm's patience); once back, the units not done are published
/// again (a Redis restarted without persistence has lost them; one that kept them hands
/// them out twice, which writes the same objects).
#[allow(clippy::too_many_arguments)]
fn follow(
    units: &[Unit],
    render: &str,
    done: &mut [bool],
    published: &mut [bool],
    state: &mut [UnitReport],
    farm: &Farm,
    broker: &mut Broker,
    progress: &mut dyn Progress,
    total: u64,
) -> Result<(), FarmError> {
    let mut last = "0".to_string();
    let mut frames_done = vec![0u64; units.len()];
    loop {
        let so_far: u64 = units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                if done[i] {
                    u.work.frames()
                } else {
                    frames_done[i]
                }
            })
            .sum();
        if !progress.frames(so_far.min(total), total) {
            let _ = broker.cancel(render);
            return Err(Error::Cancelled.into());
        }
        if done.iter().all(|d| *d) {
            return Ok(());
        }
        let events = match broker.events(render, &mut last, Duration::from_millis(250)) {
            Ok(events) => events,
            Err(e @ FarmError::Broker { .. }) => {
                let lost = Some(e);
                publish_through(units, done, published, state, farm, broker, progress, lost)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut newly_done = false;
        for ev in events {
            let Some(i) = units.iter().position(|u| u.index == ev.unit) else {
                continue;
            };
            state[i].deliveries = state[i].deliveries.max(ev.delivery);
            match ev.what {
                What::Progress { done: n } => frames_done[i] = n,
                What::Done {
                    wall_s,
                    cpu_s,
                    cached,
                } => {
                    newly_done |= !done[i];
                    done[i] = true;
                    state[i].worker = ev.worker;
                    state[i].wall_s = wall_s;
                    state[i].cpu_s = cpu_s;
                    state[i].cached = cached;
                }
                What::Failed { message, code } => {
                    let _ = broker.cancel(render);
                    return Err(FarmError::Unit {
                        unit: units[i].label(),
                        message,
                        code,
                    });
                }
            }
        }
        // Units waiting for one just done (the audio chunks, for the mastering).
        if newly_done && published.iter().zip(done.iter()).any(|(p, d)| !p && !d) {
            publish_through(units, done, published, state, farm, broker, progress, None)?;
        }
    }
}

/// [`publish_missing`] through a broker that goes away: after `lost` (the broker's error,
/// if it failed already) or a failure while publishing, it is waited for (the farm's
/// patience) and, once back, every unit not done is published again (a Redis restarted
/// without persistence has lost them; one that kept them hands them out twice, which
/// writes the same objects).
#[allow(clippy::too_many_arguments)]
fn publish_through(
    units: &[Unit],
    done: &mut [bool],
    published: &mut [bool],
    state: &mut [UnitReport],
    farm: &Farm,
    broker: &mut Broker,
    progress: &mut dyn Progress,
    mut lost: Option<FarmError>,
) -> Result<(), FarmError> {
    loop {
        if let Some(e) = lost.take() {
            tracing::warn!("{e}; waiting up to {:?} for it", farm.patience);
            *broker = reconnect(farm, progress)?;
            for (p, d) in published.iter_mut().zip(done.iter()) {
                *p &= *d;
            }
        }
        match publish_missing(units, done, published, state, farm, broker) {
            Err(e @ FarmError::Broker { .. }) => lost = Some(e),
            other => return other,
        }
    }
}

/// Connects to the broker again, trying once a second for the farm's patience.
fn reconnect(farm: &Farm, progress: &mut dyn Progress) -> Result<Broker, FarmError> {
    let since = Instant::now();
    loop {
        match Broker::connect(&farm.broker, Duration::from_secs(1)) {
            Ok(b) => return Ok(b),
            Err(e) if since.elapsed() >= farm.patience => return Err(e),
            Err(_) => {
                if !progress.frames(0, 0) {
                    return Err(Error::Cancelled.into());
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
