//! Stage "compose": draws frames from the prepared scene and converts them to YUV 4:2:0
//! (BT.709, limited range) for the encoder.
//!
//! Only the first frame of each [`Span`] of identical frames is drawn; the encoder repeats it.
//! Spans are composed in parallel (rayon) in batches and handed on in order.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use yuvutils_rs::{
    rgba_to_yuv420, BufferStoreMut, YuvConversionMode, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};

use crate::assets::{Dynamic, Prepared, PreparedBackground};
use crate::error::EncodeError;
use crate::raster::Raster;
use crate::timeline::{Plan, Span};

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
    pub frame: Arc<YuvFrame>,
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
        // A transition frame also shows the scene before.
        let wanted: Vec<usize> = spans
            .iter()
            .flat_map(|s| {
                let prev = (s.transition && s.scene > 0).then(|| s.scene - 1);
                std::iter::once(s.scene).chain(prev)
            })
            .collect();
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
/// [`EncodeError::Clip`] if a video clip cannot be read.
pub fn draw(
    plan: &Plan,
    prepared: &Prepared,
    scene: usize,
    frame: u64,
    background: Option<&Raster>,
    canvas: &mut Raster,
) -> Result<(), EncodeError> {
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
    for (l, pl) in plan.scenes[scene].layers.iter().zip(&ps.layers) {
        let st = l.state(frame);
        if st.alpha <= 0.0 {
            continue;
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
            (x + st.dx).round() as i64,
            (y + st.dy).round() as i64,
            st.alpha,
        );
    }
    Ok(())
}

/// Converts an opaque canvas to YUV 4:2:0, BT.709 limited range.
///
/// # Errors
/// [`EncodeError::Convert`] if the sizes are inconsistent.
pub fn to_yuv(canvas: &Raster) -> Result<YuvFrame, EncodeError> {
    let (w, h) = (canvas.width, canvas.height);
    let mut y = vec![0u8; w as usize * h as usize];
    let cw = w.div_ceil(2);
    let ch = h.div_ceil(2);
    let mut u = vec![0u8; cw as usize * ch as usize];
    let mut v = vec![0u8; cw as usize * ch as usize];
    {
        let mut img = YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(&mut y),
            y_stride: w,
            u_plane: BufferStoreMut::Borrowed(&mut u),
            u_stride: cw,
            v_plane: BufferStoreMut::Borrowed(&mut v),
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
        .map_err(|e| EncodeError::Convert(e.to_string()))?;
    }
    Ok(YuvFrame {
        width: w,
        height: h,
        y,
        u,
        v,
    })
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
) -> Result<Vec<ComposedSpan>, EncodeError> {
    spans
        .par_iter()
        .map_init(
            || {
                (
                    Raster::new(plan.width, plan.height),
                    Raster::new(plan.width, plan.height),
                )
            },
            |(canvas, previous), span| {
                compose_span(plan, prepared, backgrounds, span, canvas, previous)?;
                Ok(ComposedSpan {
                    span: *span,
                    frame: Arc::new(to_yuv(canvas)?),
                })
            },
        )
        .collect()
}

/// Draws the picture of `span` into `canvas` (`previous` is scratch for transitions).
///
/// # Errors
/// [`EncodeError::Clip`] if a video clip cannot be read.
pub fn compose_span(
    plan: &Plan,
    prepared: &Prepared,
    backgrounds: &Backgrounds,
    span: &Span,
    canvas: &mut Raster,
    previous: &mut Raster,
) -> Result<(), EncodeError> {
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
        crate::motion::transition(t.kind, t.progress(local), t.color, previous, canvas);
    }
    Ok(())
}
