//! Stage "compose": draws frames from the prepared scene and converts them to YUV 4:2:0
//! (BT.709, limited range) for the encoder.
//!
//! Only the first frame of each [`Span`] of identical frames is drawn; the encoder repeats it.
//! Spans are composed in parallel (rayon) in batches and handed on in order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use yuvutils_rs::{
    rgba_to_yuv420, BufferStoreMut, YuvConversionMode, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};

use crate::base::raster::Raster;
use crate::compose::prepare::{Dynamic, Prepared, PreparedBackground};
use crate::compose::ComposeError;
use crate::plan::{Plan, Span};

/// One picture in YUV 4:2:0, tightly packed planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YuvFrame {
    /// Width (even).
    pub width: u32,
    /// Height (even).
    pub height: u32,
    /// Luma, `width * height`.
    pub y: Vec<u8>,
    /// Cb, `width/2 * height/2`.
    pub u: Vec<u8>,
    /// Cr, `width/2 * height/2`.
    pub v: Vec<u8>,
}

/// A composed picture and how many consecutive frames show it.
#[derive(Debug, Clone)]
pub struct ComposedSpan {
    /// The span.
    pub span: Span,
    /// Its picture.
    pub picture: Picture,
}

/// What composition made of a span's picture.
#[derive(Debug, Clone)]
pub enum Picture {
    /// The whole frame.
    Whole(YuvFrame),
    /// The picture of the span before with these pictures of regions pasted over it
    /// ([`paste`]): only they changed ([`Span::local`]).
    Parts(Vec<(Region, YuvFrame)>),
}

/// The scenes drawn for `spans`: each span's own and, for a transition, the scene before.
pub fn scenes_of(spans: &[Span]) -> Vec<usize> {
    let mut out: Vec<usize> = spans
        .iter()
        .flat_map(|s| {
            let prev = (s.transition && s.scene > 0).then(|| s.scene - 1);
            std::iter::once(s.scene).chain(prev)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Full-frame background rasters of the scenes being composed, kept only while needed.
#[derive(Debug, Default)]
pub struct Backgrounds {
    rasters: HashMap<usize, Arc<Raster>>,
}

impl Backgrounds {
    /// Makes sure the backgrounds of every scene in `spans` are ready (gradients rendered
    /// now) and forgets those of other scenes.
    pub fn keep_only(&mut self, plan: &Plan, prepared: &Prepared, spans: &[Span]) {
        let wanted = scenes_of(spans);
        self.rasters.retain(|k, _| wanted.contains(k));
        for &scene in &wanted {
            if self.rasters.contains_key(&scene) {
                continue;
            }
            if let Some(r) = prepared.scenes[scene]
                .background
                .render(plan.width, plan.height)
            {
                self.rasters.insert(scene, r);
            }
        }
    }

    /// The raster of `scene`, if it has one.
    pub fn get(&self, scene: usize) -> Option<&Raster> {
        self.rasters.get(&scene).map(|r| &**r)
    }
}

/// Draws scene-relative frame `frame` of scene `scene` into `canvas` (resized as needed).
/// `background` is the scene's raster from [`Backgrounds`] (`None` for a solid colour).
///
/// # Errors
/// [`ComposeError::Clip`] if a video clip cannot be read.
pub fn draw(
    plan: &Plan,
    prepared: &Prepared,
    scene: usize,
    frame: u64,
    background: Option<&Raster>,
    canvas: &mut Raster,
) -> Result<(), ComposeError> {
    if canvas.width != plan.width || canvas.height != plan.height {
        *canvas = Raster::new(plan.width, plan.height);
    }
    let ps = &prepared.scenes[scene];
    match (&ps.background, background) {
        (_, Some(r)) => canvas.data.copy_from_slice(&r.data),
        (PreparedBackground::Solid(c), None) => canvas.fill(*c),
        (PreparedBackground::Motion(m), None) => m.render_into(frame, canvas),
        (PreparedBackground::Clip(c), None) => {
            canvas.fill([0, 0, 0, 255]);
            let pic = c.frame(frame)?;
            canvas.blend_centered(&pic);
        }
        (_, None) => canvas.fill([0, 0, 0, 255]),
    }
    draw_layers(plan, prepared, scene, frame, canvas, (0, 0))
}

/// A rectangle of the frame, even-aligned (whole chroma samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// Where a layer can draw in one state: a box in frame pixels, nothing, or unknown (a clip,
/// whose picture size is the clip's).
enum Extent {
    Nothing,
    Box(i64, i64, i64, i64),
    Unknown,
}

/// The frame pixels `pl` can touch when drawn in state `st`, computed as
/// [`draw_layers`] places it, widened by a pixel on every side.
fn extent(pl: &crate::compose::prepare::PreparedLayer, st: &crate::plan::LayerState) -> Extent {
    if st.alpha <= 0.0 || st.scale <= 0.0 {
        return Extent::Nothing;
    }
    let (w, h) = match &pl.dynamic {
        Dynamic::Clip(_) => return Extent::Unknown,
        Dynamic::Motion(m) => (m.width, m.height),
        Dynamic::Typewriter(d) => (d.width, d.height),
        Dynamic::None | Dynamic::Progress { .. } => (0, 0),
    };
    let (mut w, mut h) = (
        f64::from(w.max(pl.raster.width)),
        f64::from(h.max(pl.raster.height)),
    );
    let (mut x, mut y) = (pl.x as f64, pl.y as f64);
    if (st.scale - 1.0).abs() > 1e-6 {
        x = pl.pivot.0 + (x - pl.pivot.0) * st.scale;
        y = pl.pivot.1 + (y - pl.pivot.1) * st.scale;
        w = (w * st.scale).ceil() + 1.0;
        h = (h * st.scale).ceil() + 1.0;
    }
    let (x0, y0) = ((x + st.dx).round() as i64, (y + st.dy).round() as i64);
    Extent::Box(x0 - 1, y0 - 1, x0 + w as i64 + 1, y0 + h as i64 + 1)
}

/// Share of the frame above which changed regions are composed as a whole frame instead.
const REGION_MAX_SHARE: f64 = 0.6;

/// The rectangles in which frame `frame` of `scene` can differ from frame `frame - 1`: where
/// every layer whose state changed was drawn and is drawn now, widened to even coordinates,
/// overlapping ones merged. Only meaningful over a still background ([`Span::local`]).
/// `None` when nothing changed, a changed layer is a clip, or together they are most of the
/// frame.
pub fn changed_regions(
    plan: &Plan,
    prepared: &Prepared,
    scene: usize,
    frame: u64,
) -> Option<Vec<Region>> {
    if frame == 0 {
        return None;
    }
    let (w, h) = (i64::from(plan.width), i64::from(plan.height));
    let ps = &prepared.scenes[scene];
    let mut boxes: Vec<[i64; 4]> = Vec::new();
    for (l, pl) in plan.scenes[scene].layers.iter().zip(&ps.layers) {
        let (before, now) = (l.state(frame - 1), l.state(frame));
        if before == now {
            continue;
        }
        for st in [before, now] {
            match extent(pl, &st) {
                Extent::Nothing => {}
                Extent::Unknown => return None,
                Extent::Box(x0, y0, x1, y1) => {
                    let b = [
                        x0.clamp(0, w) & !1,
                        y0.clamp(0, h) & !1,
                        ((x1.clamp(0, w) + 1) & !1).min(w),
                        ((y1.clamp(0, h) + 1) & !1).min(h),
                    ];
                    if b[0] < b[2] && b[1] < b[3] {
                        boxes.push(b);
                    }
                }
            }
        }
    }
    let area = |b: &[i64; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    let union = |a: &[i64; 4], b: &[i64; 4]| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    };
    // Merge two boxes while their union costs no more than drawing both (a layer's box
    // before and after a small move, overlapping boxes).
    'merge: loop {
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let u = union(&boxes[i], &boxes[j]);
                if area(&u) <= area(&boxes[i]) + area(&boxes[j]) {
                    boxes[i] = u;
                    boxes.swap_remove(j);
                    continue 'merge;
                }
            }
        }
        break;
    }
    let total: i64 = boxes.iter().map(area).sum();
    if boxes.is_empty() || total as f64 > REGION_MAX_SHARE * (w * h) as f64 {
        return None;
    }
    Some(
        boxes
            .iter()
            .map(|b| Region {
                x: b[0] as u32,
                y: b[1] as u32,
                width: (b[2] - b[0]) as u32,
                height: (b[3] - b[1]) as u32,
            })
            .collect(),
    )
}

/// Draws only `region` of scene-relative frame `frame` of `scene` into `canvas` (resized to
/// the region). Returns `false`, drawing nothing, when the scene's background is drawn per
/// frame (then the whole frame must be drawn).
///
/// # Errors
/// [`ComposeError::Clip`] if a video clip cannot be read.
pub fn draw_region(
    plan: &Plan,
    prepared: &Prepared,
    scene: usize,
    frame: u64,
    background: Option<&Raster>,
    region: Region,
    canvas: &mut Raster,
) -> Result<bool, ComposeError> {
    let ps = &prepared.scenes[scene];
    if canvas.width != region.width || canvas.height != region.height {
        *canvas = Raster::new(region.width, region.height);
    }
    match (&ps.background, background) {
        (_, Some(r)) => {
            let n = region.width as usize * 4;
            for row in 0..region.height as usize {
                let from = ((region.y as usize + row) * r.width as usize + region.x as usize) * 4;
                canvas.data[row * n..(row + 1) * n].copy_from_slice(&r.data[from..from + n]);
            }
        }
        (PreparedBackground::Solid(c), None) => canvas.fill(*c),
        (PreparedBackground::Motion(_) | PreparedBackground::Clip(_), None) => return Ok(false),
        (_, None) => canvas.fill([0, 0, 0, 255]),
    }
    draw_layers(
        plan,
        prepared,
        scene,
        frame,
        canvas,
        (i64::from(region.x), i64::from(region.y)),
    )?;
    Ok(true)
}

/// Draws the layers of frame `frame` of `scene` over `canvas`, whose top-left pixel is frame
/// pixel `origin`; layers that miss it are skipped.
fn draw_layers(
    plan: &Plan,
    prepared: &Prepared,
    scene: usize,
    frame: u64,
    canvas: &mut Raster,
    origin: (i64, i64),
) -> Result<(), ComposeError> {
    let ps = &prepared.scenes[scene];
    let partial = canvas.width != plan.width || canvas.height != plan.height;
    for (l, pl) in plan.scenes[scene].layers.iter().zip(&ps.layers) {
        let st = l.state(frame);
        if st.alpha <= 0.0 {
            continue;
        }
        if partial && st.reveal.is_none() && st.motion.is_none() {
            // The layer's extent at rest, scaled as drawn below.
            let s = st.scale.max(0.0);
            let x = pl.pivot.0 + (pl.x as f64 - pl.pivot.0) * s + st.dx - origin.0 as f64;
            let y = pl.pivot.1 + (pl.y as f64 - pl.pivot.1) * s + st.dy - origin.1 as f64;
            let (w, h) = (
                f64::from(pl.raster.width) * s,
                f64::from(pl.raster.height) * s,
            );
            if x + w < -1.0
                || y + h < -1.0
                || x > f64::from(canvas.width) + 1.0
                || y > f64::from(canvas.height) + 1.0
            {
                continue;
            }
        }
        let fresh;
        let clip_picture;
        let mut raster: &Raster = &pl.raster;
        match (&pl.dynamic, st.reveal, st.motion, st.progress) {
            (Dynamic::Typewriter(d), Some(k), _, _) => {
                fresh = d.render(Some(k));
                raster = &fresh;
            }
            (Dynamic::Motion(m), _, Some(_), _) => {
                let mut r = Raster::new(m.width, m.height);
                m.render_into(frame, &mut r);
                fresh = r;
                raster = &fresh;
            }
            (Dynamic::Clip(c), _, Some(k), _) => {
                clip_picture = c.frame(k)?;
                raster = &clip_picture;
            }
            (Dynamic::Progress { fill, radius }, _, _, Some(px)) if px > 0 => {
                let mut r = (*pl.raster).clone();
                let bar = Raster::rounded_rect(
                    f64::from(px),
                    f64::from(r.height),
                    radius.min(f64::from(px) / 2.0),
                    *fill,
                    None,
                );
                r.blend(&bar, 0, 0, 1.0);
                fresh = r;
                raster = &fresh;
            }
            _ => {}
        }
        let (mut x, mut y) = (pl.x as f64, pl.y as f64);
        let scaled;
        if (st.scale - 1.0).abs() > 1e-6 {
            if st.scale <= 0.0 {
                continue;
            }
            scaled = raster.scaled(st.scale);
            raster = &scaled;
            x = pl.pivot.0 + (x - pl.pivot.0) * st.scale;
            y = pl.pivot.1 + (y - pl.pivot.1) * st.scale;
        }
        canvas.blend(
            raster,
            (x + st.dx).round() as i64 - origin.0,
            (y + st.dy).round() as i64 - origin.1,
            st.alpha,
        );
    }
    Ok(())
}

/// Copies `part` (a picture of `region`) into `frame` at the region's place.
pub fn paste(frame: &mut YuvFrame, part: &YuvFrame, region: Region) {
    let (x, y, w, h) = (
        region.x as usize,
        region.y as usize,
        region.width as usize,
        region.height as usize,
    );
    let fw = frame.width as usize;
    for row in 0..h {
        frame.y[(y + row) * fw + x..][..w].copy_from_slice(&part.y[row * w..][..w]);
    }
    let (cx, cy, cw, ch) = (x / 2, y / 2, w.div_ceil(2), h.div_ceil(2));
    let fcw = fw.div_ceil(2);
    for row in 0..ch {
        let at = (cy + row) * fcw + cx;
        frame.u[at..at + cw].copy_from_slice(&part.u[row * cw..][..cw]);
        frame.v[at..at + cw].copy_from_slice(&part.v[row * cw..][..cw]);
    }
}

/// Converts an opaque canvas to YUV 4:2:0, BT.709 limited range.
///
/// # Errors
/// [`ComposeError::Convert`] if the sizes are inconsistent.
pub fn to_yuv(canvas: &Raster) -> Result<YuvFrame, ComposeError> {
    let mut frame = YuvFrame::new(canvas.width, canvas.height);
    to_yuv_into(canvas, &mut frame)?;
    Ok(frame)
}

impl YuvFrame {
    /// A black frame (Y 0; contents are overwritten by [`to_yuv_into`]).
    pub fn new(width: u32, height: u32) -> YuvFrame {
        let c = width.div_ceil(2) as usize * height.div_ceil(2) as usize;
        YuvFrame {
            width,
            height,
            y: vec![0; width as usize * height as usize],
            u: vec![0; c],
            v: vec![0; c],
        }
    }
}

/// Converts `canvas` into `out` (BT.709, limited range), reusing its buffers.
///
/// # Errors
/// [`ComposeError::Convert`] if the conversion fails.
pub fn to_yuv_into(canvas: &Raster, out: &mut YuvFrame) -> Result<(), ComposeError> {
    let (w, h) = (canvas.width, canvas.height);
    if out.width != w || out.height != h {
        *out = YuvFrame::new(w, h);
    }
    let cw = w.div_ceil(2);
    let mut img = YuvPlanarImageMut {
        y_plane: BufferStoreMut::Borrowed(&mut out.y),
        y_stride: w,
        u_plane: BufferStoreMut::Borrowed(&mut out.u),
        u_stride: cw,
        v_plane: BufferStoreMut::Borrowed(&mut out.v),
        v_stride: cw,
        width: w,
        height: h,
    };
    rgba_to_yuv420(
        &mut img,
        &canvas.data,
        w * 4,
        YuvRange::Limited,
        YuvStandardMatrix::Bt709,
        YuvConversionMode::Balanced,
    )
    .map_err(|e| ComposeError::Convert(e.to_string()))
}

/// Buffers reused from picture to picture: no full-frame allocation (and no page zeroing) in
/// the hot path once the first batches have run. Canvases go back after each span; YUV frames
/// come back from the encoder through [`Buffers::recycle`].
#[derive(Debug, Default)]
pub struct Buffers {
    canvases: Mutex<Vec<(Raster, Raster)>>,
    frames: Mutex<Vec<YuvFrame>>,
}

/// Frames kept for reuse at most (more are freed).
const SPARE_FRAMES: usize = 16;

impl Buffers {
    /// Takes back a frame the encoder has finished with.
    pub fn recycle(&self, frame: YuvFrame) {
        let mut f = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if f.len() < SPARE_FRAMES {
            f.push(frame);
        }
    }

    /// A frame to fill, `w`x`h` (contents unspecified).
    pub fn frame(&self, w: u32, h: u32) -> YuvFrame {
        let spare = self.frames.lock().unwrap_or_else(|e| e.into_inner()).pop();
        spare
            .filter(|f| f.width == w && f.height == h)
            .unwrap_or_else(|| YuvFrame::new(w, h))
    }

    fn canvases(&self, w: u32, h: u32) -> (Raster, Raster) {
        let spare = self
            .canvases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        spare.unwrap_or_else(|| (Raster::new(w, h), Raster::new(w, h)))
    }

    fn give_back(&self, pair: (Raster, Raster)) {
        self.canvases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pair);
    }
}

/// Composes and converts a batch of spans in parallel; results come back in input order.
///
/// # Errors
/// The first conversion error.
pub fn compose_batch(
    plan: &Plan,
    prepared: &Prepared,
    backgrounds: &Backgrounds,
    spans: &[Span],
    buffers: &Buffers,
) -> Result<Vec<ComposedSpan>, ComposeError> {
    spans
        .par_iter()
        .map(|span| {
            if span.local {
                let local = span.start - plan.scenes[span.scene].start_frame;
                if let Some(regions) = changed_regions(plan, prepared, span.scene, local) {
                    if let Some(parts) =
                        compose_regions(plan, prepared, backgrounds, span, &regions)?
                    {
                        return Ok(ComposedSpan {
                            span: *span,
                            picture: Picture::Parts(parts),
                        });
                    }
                }
            }
            let (mut canvas, mut previous) = buffers.canvases(plan.width, plan.height);
            let drawn = compose_span(
                plan,
                prepared,
                backgrounds,
                span,
                &mut canvas,
                &mut previous,
            );
            let frame = drawn.and_then(|()| {
                let mut f = buffers.frame(plan.width, plan.height);
                to_yuv_into(&canvas, &mut f).map(|()| f)
            });
            buffers.give_back((canvas, previous));
            Ok(ComposedSpan {
                span: *span,
                picture: Picture::Whole(frame?),
            })
        })
        .collect()
}

/// Draws and converts `regions` of the picture of `span`; `None` when the scene's background
/// must be drawn whole.
fn compose_regions(
    plan: &Plan,
    prepared: &Prepared,
    backgrounds: &Backgrounds,
    span: &Span,
    regions: &[Region],
) -> Result<Option<Vec<(Region, YuvFrame)>>, ComposeError> {
    let local = span.start - plan.scenes[span.scene].start_frame;
    let bg = backgrounds.get(span.scene);
    let mut parts = Vec::with_capacity(regions.len());
    for &region in regions {
        let mut canvas = Raster::new(region.width, region.height);
        if !draw_region(plan, prepared, span.scene, local, bg, region, &mut canvas)? {
            return Ok(None);
        }
        parts.push((region, to_yuv(&canvas)?));
    }
    Ok(Some(parts))
}

/// Draws the picture of `span` into `canvas` (`previous` is scratch for transitions).
///
/// # Errors
/// [`ComposeError::Clip`] if a video clip cannot be read.
pub fn compose_span(
    plan: &Plan,
    prepared: &Prepared,
    backgrounds: &Backgrounds,
    span: &Span,
    canvas: &mut Raster,
    previous: &mut Raster,
) -> Result<(), ComposeError> {
    let scene = &plan.scenes[span.scene];
    let local = span.start - scene.start_frame;
    draw(
        plan,
        prepared,
        span.scene,
        local,
        backgrounds.get(span.scene),
        canvas,
    )?;
    if let (true, Some(t)) = (span.transition && span.scene > 0, scene.transition) {
        let ps = span.scene - 1;
        let prev = &plan.scenes[ps];
        draw(
            plan,
            prepared,
            ps,
            span.start - prev.start_frame,
            backgrounds.get(ps),
            previous,
        )?;
        crate::compose::motion::transition(t.kind, t.progress(local), t.color, previous, canvas);
    }
    Ok(())
}
