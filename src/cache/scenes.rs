//! Encoded scenes kept between renders, by content (the *scene cache*).
//!
//! A render encodes each scene as a closed segment of its own by default
//! ([`crate::encode::Encoder::begin_segment`]: a fresh x264 from the scene's first frame, so
//! nothing refers across the seam) and, with the cache on (also the default), keeps each
//! segment's H.264 packets here. A later render
//! whose segment would show exactly the same pictures (the same scenes as planned, at the same
//! place relative to the segment, the same files byte for byte, the same fonts, output size,
//! frame rate and encoder settings, the same reelsmith build and libavcodec) neither composes
//! nor encodes it: the packets are copied. Re-rendering a training module after changing one
//! slide then costs about that slide, and a render that failed or was cancelled resumes from
//! the segments it finished (each is moved here when the next one begins).
//!
//! A segment is the frames from one scene's first frame (its transition's first frame) to the
//! next segment's ([`Plan::segment_starts`]); its pictures depend on the scenes drawn in it:
//! its own and, during the transition, the one before. Progress bars depend on the whole
//! video's length (they are part of the planned layer), so a change of length changes every
//! segment that shows one.
//!
//! Entries are `<media_root>/assets/video/segments/<key>.seg` ([`crate::cache`]
//! files), the folder kept under 1 GB (least recently used first). An entry is only used if
//! the stream's parameter sets (SPS/PPS) are exactly those it was encoded with.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cache::PacketCache;
pub use crate::encode::packets::{SegmentFooter as Footer, SCENE_FILES as LAYOUT};
use crate::encode::EncoderConfig;
use crate::plan::{Plan, PlanBackground, PlanLayerKind, PlanScene, Span};

/// An entry of the scene cache.
pub type Entry = crate::cache::Entry<Footer>;

/// The scene cache in `dir`.
pub fn cache(dir: PathBuf) -> PacketCache {
    PacketCache::new(dir, &LAYOUT)
}

/// One segment of a render: frames `start..end`, and its key when it can be cached.
#[derive(Debug, Clone)]
pub struct Segment {
    /// First frame.
    pub start: u64,
    /// First frame after it.
    pub end: u64,
    /// Its identity, `None` when a file it uses cannot be read (preparing the scene says why).
    pub key: Option<String>,
}

/// The segments of `plan`, cut at `starts` (see [`Plan::segment_starts`]); with `keys` (the
/// encoder settings), each with its key.
pub fn segments(
    plan: &Plan,
    spans: &[Span],
    starts: &[u64],
    keys: Option<&EncoderConfig>,
) -> Vec<Segment> {
    let mut bounds = vec![0];
    bounds.extend(
        starts
            .iter()
            .copied()
            .filter(|&s| s > 0 && s < plan.total_frames),
    );
    bounds.push(plan.total_frames);
    let common = keys.map(|cfg| common_key(plan, cfg));
    let mut files = FileHashes::default();
    bounds
        .windows(2)
        .map(|w| {
            let (start, end) = (w[0], w[1]);
            let key = common.as_ref().and_then(|common| {
                let inside: Vec<Span> = spans
                    .iter()
                    .filter(|s| s.start >= start && s.start < end)
                    .copied()
                    .collect();
                segment_key(plan, common, &inside, start, end, &mut files).ok()
            });
            Segment { start, end, key }
        })
        .collect()
}

/// What every segment's key starts with: the layout, build, libavcodec, output and encoder
/// settings, and the spec's own fonts.
fn common_key(plan: &Plan, cfg: &EncoderConfig) -> Sha256 {
    let mut h = Sha256::new();
    h.update(LAYOUT.magic);
    h.update(crate::cache::build_id().as_bytes());
    h.update(ffmpeg_next::codec::version().to_le_bytes());
    // x264's choice of threads changes its output; it follows the cores when not set.
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    h.update(
        format!(
            "{}x{} {:?} {} {} {} {:?} {} {} {} {cores}",
            cfg.width,
            cfg.height,
            cfg.fps,
            cfg.preset,
            cfg.crf,
            cfg.lossless,
            cfg.x264_params,
            cfg.threads,
            cfg.skip_repeats,
            cfg.patches,
        )
        .as_bytes(),
    );
    h.update(cfg.hold_frames.max(1).to_le_bytes());
    for (path, bytes) in &plan.fonts.files {
        h.update(path.to_string_lossy().as_bytes());
        h.update(Sha256::digest(bytes.as_slice()));
    }
    h
}

/// A scene as planned, without what does not change its pictures (spec paths, its id, its
/// place in the video: the key says where it is relative to the segment).
fn scene_text(s: &PlanScene) -> String {
    let mut s = s.clone();
    s.path.clear();
    s.id.clear();
    s.start_frame = 0;
    if let PlanBackground::Video(c) = &mut s.background {
        c.path.clear();
    }
    for l in &mut s.layers {
        l.path.clear();
        if let PlanLayerKind::Video(c) = &mut l.kind {
            c.path.clear();
        }
    }
    format!("{s:?}")
}

/// The files a scene reads pictures from.
fn scene_files(s: &PlanScene) -> Vec<&Path> {
    let mut out = Vec::new();
    match &s.background {
        PlanBackground::Image { src, .. } => out.push(src.as_path()),
        PlanBackground::Video(c) => out.push(c.src.as_path()),
        _ => {}
    }
    for l in &s.layers {
        match &l.kind {
            PlanLayerKind::Image(i) => out.push(i.src.as_path()),
            PlanLayerKind::Video(c) => out.push(c.src.as_path()),
            _ => {}
        }
    }
    out
}

fn segment_key(
    plan: &Plan,
    common: &Sha256,
    spans: &[Span],
    start: u64,
    end: u64,
    files: &mut FileHashes,
) -> std::io::Result<String> {
    let mut h = common.clone();
    h.update((end - start).to_le_bytes());
    // Scenes by their place relative to the segment's first one, so that a scene added or
    // removed before it does not change the key.
    let first = spans.first().map_or(0, |s| s.scene) as i64;
    for s in spans {
        h.update(
            format!(
                "{} {} {} {} {} {}",
                s.scene as i64 - first,
                s.start - start,
                s.len,
                s.transition,
                s.bars_only,
                s.local
            )
            .as_bytes(),
        );
    }
    for i in crate::compose::frame::scenes_of(spans) {
        let scene = &plan.scenes[i];
        // Where the scene starts relative to the segment, and everything it draws.
        h.update((scene.start_frame as i64 - start as i64).to_le_bytes());
        h.update(scene_text(scene).as_bytes());
        for f in scene_files(scene) {
            h.update(files.hash(f)?);
        }
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of files, each read once per render.
#[derive(Default)]
struct FileHashes(HashMap<PathBuf, [u8; 32]>);

impl FileHashes {
    fn hash(&mut self, path: &Path) -> std::io::Result<[u8; 32]> {
        if let Some(h) = self.0.get(path) {
            return Ok(*h);
        }
        let mut f = File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let out: [u8; 32] = h.finalize().into();
        self.0.insert(path.to_path_buf(), out);
        Ok(out)
    }
}
