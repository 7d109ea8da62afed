//! The plan cut into pieces that can be composed and encoded apart: its runs of identical
//! pictures ([`Span`]), the ranges of frames encoded as segments (a scene each, long ones cut
//! into chunks), and the chunks the AAC stream is encoded in.

use std::path::PathBuf;

use super::{LayerState, Plan, PlanBackground, PlanLayerKind, PlanScene};

/// A run of identical frames: the picture changes only at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Scene index.
    pub scene: usize,
    /// First global frame.
    pub start: u64,
    /// Number of frames (≥ 1).
    pub len: u64,
    /// A transition frame: the previous scene is drawn too and the two are mixed.
    pub transition: bool,
    /// The picture differs from the span before only where progress bars are: only their
    /// fill changed, the background is a still picture and nothing visible is typing or
    /// moving. The picture after such a one is likely a small patch over it.
    pub bars_only: bool,
    /// The frame before shows this scene alone (not a transition) over a still background,
    /// so the picture can be composed as just the rectangle where layers changed, pasted
    /// over the picture before ([`crate::compose::frame::changed_region`]).
    pub local: bool,
}

impl Plan {
    /// Every file the plan reads: pictures, clips, audio sources and fonts, each once, in
    /// order of first use.
    pub fn input_files(&self) -> Vec<&std::path::Path> {
        let mut out: Vec<&std::path::Path> = self
            .scenes
            .iter()
            .chain(self.renditions.iter().flat_map(|r| &r.scenes))
            .flat_map(PlanScene::input_files)
            .collect();
        for t in &self.tracks {
            out.push(t.src.as_path());
        }
        for f in &self.fonts.files {
            out.push(f.path.as_path());
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(*p));
        out
    }

    /// Where a range rendered on its own may begin: the first frame and every
    /// [`Plan::segment_starts`] (when the plan is encoded in segments; else only 0).
    pub fn range_starts(&self) -> Vec<u64> {
        let mut starts = vec![0];
        if self.encoding.segments && self.encoding.skip_repeats {
            starts.extend(self.segment_starts());
        }
        starts
    }

    /// The ranges a render is cut into, one per segment, back to back over the whole video.
    pub fn ranges(&self) -> Vec<std::ops::Range<u64>> {
        let mut bounds = self.range_starts();
        bounds.push(self.total_frames);
        bounds.windows(2).map(|w| w[0]..w[1]).collect()
    }

    /// Video duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.fps.seconds(self.total_frames)
    }

    /// Splits the timeline into runs of identical frames. A new run starts at each scene's
    /// first frame, at every transition frame, wherever a layer's state differs from the
    /// previous frame (appearing, fading, moving, typing, filling) and wherever a moving
    /// background (Ken Burns, a clip) shows something new. Only the first frame of each run
    /// needs composing.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for (si, scene) in self.scenes.iter().enumerate() {
            // Transition frames: each is a mix of two scenes, so each is its own picture.
            let tf = scene.transition.map_or(0, |t| t.frames).min(scene.frames);
            for f in 0..tf {
                spans.push(Span {
                    scene: si,
                    start: scene.start_frame + f,
                    len: 1,
                    transition: true,
                    bars_only: false,
                    local: false,
                });
            }
            // The scene's own frames end where the next scene (or its transition) begins.
            let own_end = self
                .scenes
                .get(si + 1)
                .map_or(scene.frames, |n| n.start_frame - scene.start_frame)
                .min(scene.frames);
            if tf >= own_end {
                continue;
            }
            // What the background shows at each frame (`None`: the same picture throughout).
            let bg_key = |f: u64| match &scene.background {
                PlanBackground::Image {
                    motion: Some(m), ..
                } => Some(m.step(f)),
                PlanBackground::Video(_) => Some(f),
                _ => None,
            };
            let still_background = !matches!(
                &scene.background,
                PlanBackground::Image {
                    motion: Some(_),
                    ..
                } | PlanBackground::Video(_)
            );
            let mut run_start = tf;
            let mut run_bars_only = false;
            let mut prev: Vec<LayerState> = scene.layers.iter().map(|l| l.state(tf)).collect();
            for f in tf + 1..own_end {
                let mut changed = bg_key(f) != bg_key(f - 1);
                let mut bars_only = !changed && still_background;
                for (l, p) in scene.layers.iter().zip(prev.iter_mut()) {
                    let st = l.state(f);
                    if st != *p {
                        changed = true;
                        let fill_only = matches!(l.kind, PlanLayerKind::Progress(_))
                            && LayerState {
                                progress: p.progress,
                                ..st
                            } == *p;
                        bars_only &= fill_only;
                    }
                    bars_only &= st.reveal.is_none() && st.motion.is_none();
                    *p = st;
                }
                if changed {
                    spans.push(Span {
                        scene: si,
                        start: scene.start_frame + run_start,
                        len: f - run_start,
                        transition: false,
                        bars_only: run_bars_only,
                        local: still_background && run_start > tf,
                    });
                    run_start = f;
                    run_bars_only = bars_only;
                }
            }
            spans.push(Span {
                scene: si,
                start: scene.start_frame + run_start,
                len: own_end - run_start,
                transition: false,
                bars_only: run_bars_only,
                local: still_background && run_start > tf,
            });
        }
        if self.encoding.chunk_frames > 0 {
            spans = split_spans(spans, &self.range_starts());
        }
        spans
    }

    /// Gives every file the plan reads the path `to` returns for it (`None`: kept), in the
    /// layers, backgrounds, tracks and fonts and in [`Plan::inputs`]: for a plan rendered on
    /// a machine that holds its files elsewhere (a render worker's copies by content hash).
    pub fn relocate(&mut self, to: &dyn Fn(&std::path::Path) -> Option<PathBuf>) {
        let mv = |p: &mut PathBuf| {
            if let Some(n) = to(p) {
                *p = n;
            }
        };
        for s in &mut self.scenes {
            match &mut s.background {
                PlanBackground::Image { src, .. } => mv(src),
                PlanBackground::Video(c) => mv(&mut c.src),
                _ => {}
            }
            for l in &mut s.layers {
                match &mut l.kind {
                    PlanLayerKind::Image(i) => mv(&mut i.src),
                    PlanLayerKind::Video(c) => mv(&mut c.src),
                    _ => {}
                }
            }
        }
        for t in &mut self.tracks {
            mv(&mut t.src);
        }
        for f in &mut self.fonts.files {
            mv(&mut f.path);
        }
        self.inputs = std::mem::take(&mut self.inputs)
            .into_iter()
            .map(|(mut p, h)| {
                mv(&mut p);
                (p, h)
            })
            .collect();
    }
}

/// Spans cut where a range may start, so that every range begins with a span of its own;
/// a span that begins a range is composed whole (it has no picture before it in its range).
fn split_spans(spans: Vec<Span>, starts: &[u64]) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len() + starts.len());
    for mut span in spans {
        if starts.contains(&span.start) {
            span.local = false;
            span.bars_only = false;
        }
        for &at in starts {
            if at > span.start && at < span.start + span.len {
                out.push(Span {
                    len: at - span.start,
                    ..span
                });
                span = Span {
                    start: at,
                    len: span.start + span.len - at,
                    bars_only: false,
                    local: false,
                    ..span
                };
            }
        }
        out.push(span);
    }
    out
}

impl Plan {
    /// Where the video may be cut into independently encoded segments: the first frames of
    /// segments after the first, each a scene's first frame (its transition's first frame,
    /// so a segment is one scene's own frames and the transition into it). A scene shorter
    /// than [`MIN_SEGMENT_S`] stays in the segment before it, and the last segment is at
    /// least that long too. With [`PlanEncoding::chunk_frames`], a segment longer than a
    /// chunk is cut every `chunk_frames` from its first frame (a last piece shorter than
    /// [`MIN_SEGMENT_S`] stays in the chunk before it).
    pub fn segment_starts(&self) -> Vec<u64> {
        let min = self.fps.frame_at(MIN_SEGMENT_S).max(1);
        let mut scene_starts = Vec::new();
        let mut last = 0;
        for s in self.scenes.iter().skip(1) {
            let at = s.start_frame;
            if at >= last + min && at + min <= self.total_frames {
                scene_starts.push(at);
                last = at;
            }
        }
        let chunk = self.encoding.chunk_frames;
        if chunk == 0 {
            return scene_starts;
        }
        let mut starts = Vec::new();
        let mut bounds = vec![0];
        bounds.extend(&scene_starts);
        bounds.push(self.total_frames);
        for w in bounds.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a > 0 {
                starts.push(a);
            }
            let mut at = a + chunk.max(min);
            while at + min <= b {
                starts.push(at);
                at += chunk.max(min);
            }
        }
        starts
    }
}

impl Plan {
    /// The timeline's samples as the AAC stream is encoded: one range, or with
    /// [`PlanEncoding::audio_chunk_samples`] consecutive chunks of that many samples from
    /// the first (the last one shorter). Like the video's ranges, they depend on the plan
    /// alone.
    pub fn audio_chunks(&self) -> Vec<std::ops::Range<u64>> {
        audio_chunks(self.total_samples, self.encoding.audio_chunk_samples)
    }
}

/// `0..total` cut every `chunk` samples (0: not cut); never an empty range, at least one.
pub fn audio_chunks(total: u64, chunk: u64) -> Vec<std::ops::Range<u64>> {
    if chunk == 0 || total <= chunk {
        return std::iter::once(0..total).collect();
    }
    (0..total.div_ceil(chunk))
        .map(|k| k * chunk..((k + 1) * chunk).min(total))
        .collect()
}

/// AAC-LC's frame: the samples of one packet. Audio chunks are multiples of it.
pub const AAC_FRAME: u64 = 1024;

/// Shortest segment [`Plan::segment_starts`] makes, in seconds.
pub const MIN_SEGMENT_S: f64 = 1.0;
