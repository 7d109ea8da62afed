//! Stage "prepare": everything a frame needs, made once. Pictures are decoded (each file once,
//! in parallel) and scaled to their final on-screen size, backgrounds are rendered to full-frame
//! rasters, text is shaped and rasterized. Composition then only copies and blends.

use std::path::PathBuf;
use std::sync::Arc;

use image::imageops::FilterType;
use rayon::prelude::*;

use crate::base::raster::Raster;
use crate::media::error::AssetError;
use crate::media::image::decode_image;
pub use crate::media::image::MAX_IMAGE_SIDE;
use crate::media::load::FileUses;
use crate::plan::{Plan, PlanBackground, PlanLayerKind, Rgba};
use crate::spec::SpecIssue;
use crate::spec::{BackgroundFit, ImageFit};
use crate::text::{TextDrawing, TextEngine};

/// The prepared scenes, index for index with `Plan::scenes`.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// One per plan scene.
    pub scenes: Vec<PreparedScene>,
    /// Bytes of pixel data held.
    pub bytes: u64,
    /// Number of distinct image files decoded.
    pub images_decoded: usize,
    /// Number of text layers rasterized.
    pub texts_rasterized: usize,
}

/// A scene ready to compose.
#[derive(Debug, Clone)]
pub struct PreparedScene {
    /// The background.
    pub background: PreparedBackground,
    /// One per plan layer, same order.
    pub layers: Vec<PreparedLayer>,
    /// Not prepared (see [`Prepared::window`]): nothing to draw.
    pub is_placeholder: bool,
}

/// A background ready to draw.
#[derive(Debug, Clone)]
pub enum PreparedBackground {
    /// Fill with this opaque colour.
    Solid(Rgba),
    /// Copy this full-frame opaque raster (a picture, scaled once and shared by every scene
    /// that uses it the same way).
    Raster(Arc<Raster>),
    /// A gradient, rendered to a raster by [`PreparedBackground::render`] when its scene is
    /// composed and dropped after: holding one full frame per scene would make memory grow
    /// with the length of the video.
    Gradient(PlanBackground),
    /// A Ken Burns picture, drawn per frame.
    Motion(Arc<crate::compose::motion::MotionSource>),
    /// A video clip covering the frame, drawn per frame.
    Clip(Arc<ClipSource>),
}

impl PreparedBackground {
    /// The full-frame raster to copy, rendering a gradient now; `None` for a solid colour.
    pub fn render(&self, width: u32, height: u32) -> Option<Arc<Raster>> {
        match self {
            PreparedBackground::Solid(_) => None,
            PreparedBackground::Raster(r) => Some(r.clone()),
            PreparedBackground::Gradient(PlanBackground::Linear { angle, colors }) => {
                Some(Arc::new(linear_gradient(width, height, *angle, colors)))
            }
            PreparedBackground::Gradient(PlanBackground::Radial {
                cx,
                cy,
                radius,
                colors,
            }) => Some(Arc::new(radial_gradient(
                width, height, *cx, *cy, *radius, colors,
            ))),
            PreparedBackground::Gradient(_)
            | PreparedBackground::Motion(_)
            | PreparedBackground::Clip(_) => None,
        }
    }
}

/// A layer's pixels and where its top-left corner goes.
#[derive(Debug, Clone)]
pub struct PreparedLayer {
    /// Premultiplied pixels, at rest (fully revealed, unscaled, not offset).
    pub raster: Arc<Raster>,
    /// Left edge in frame pixels.
    pub x: i64,
    /// Top edge in frame pixels.
    pub y: i64,
    /// The point a scale animation scales around, frame pixels.
    pub pivot: (f64, f64),
    /// What changes from frame to frame, if anything.
    pub dynamic: Dynamic,
}

/// The part of a layer that is redrawn per frame.
#[derive(Debug, Clone, Default)]
pub enum Dynamic {
    /// Nothing: the raster is the layer.
    #[default]
    None,
    /// A typewriter text's glyphs, drawn partly revealed while it types.
    Typewriter(Arc<TextDrawing>),
    /// A Ken Burns picture: the raster is drawn fresh from the source each frame.
    Motion(Arc<crate::compose::motion::MotionSource>),
    /// A video clip: the raster is its picture for the frame.
    Clip(Arc<ClipSource>),
    /// A progress bar: the raster is the track; the fill is drawn over it.
    Progress {
        /// Fill colour.
        fill: Rgba,
        /// Corner radius.
        radius: f64,
    },
}

/// Decodes, scales and rasterizes everything in `plan`.
///
/// # Errors
/// [`AssetError::Load`] listing every file that could not be decoded, with its spec path.
pub fn prepare(plan: &Plan) -> Result<Prepared, AssetError> {
    prepare_scenes(plan, &|_| true)
}

/// Checks every asset of `plan` as [`prepare`] would (files decoded, text laid out and
/// rasterized) one scene at a time, keeping nothing: memory stays that of one scene however
/// long the video. Returns what one full preparation would report (bytes summed over scenes).
///
/// # Errors
/// [`AssetError::Load`] listing every problem in every scene.
pub fn check(plan: &Plan) -> Result<Prepared, AssetError> {
    let mut issues = Vec::new();
    let mut total = Prepared {
        scenes: Vec::new(),
        bytes: 0,
        images_decoded: 0,
        texts_rasterized: 0,
    };
    for k in 0..plan.scenes.len() {
        match prepare_scenes(plan, &|i| i == k) {
            Ok(p) => {
                total.bytes += p.bytes;
                total.images_decoded += p.images_decoded;
                total.texts_rasterized += p.texts_rasterized;
            }
            Err(AssetError::Load(mut more)) => {
                more.retain(|m| !issues.contains(m));
                issues.extend(more);
            }
            Err(e) => return Err(e),
        }
    }
    if issues.is_empty() {
        Ok(total)
    } else {
        Err(AssetError::Load(issues))
    }
}

impl Prepared {
    /// Nothing prepared yet, one empty slot per scene of `plan` (see [`Prepared::window`]).
    pub fn empty(plan: &Plan) -> Prepared {
        Prepared {
            scenes: plan.scenes.iter().map(PreparedScene::placeholder).collect(),
            bytes: 0,
            images_decoded: 0,
            texts_rasterized: 0,
        }
    }

    /// Makes sure the scenes in `wanted` are prepared and frees every other one, so only the
    /// scenes being composed hold pictures. Returns true if anything was prepared.
    ///
    /// # Errors
    /// As [`prepare`].
    pub fn window(&mut self, plan: &Plan, wanted: &[usize]) -> Result<bool, AssetError> {
        for (i, s) in self.scenes.iter_mut().enumerate() {
            if !s.is_placeholder && !wanted.contains(&i) {
                *s = PreparedScene::placeholder(&plan.scenes[i]);
            }
        }
        let missing: Vec<usize> = wanted
            .iter()
            .copied()
            .filter(|&i| self.scenes.get(i).is_some_and(|s| s.is_placeholder))
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        let fresh = prepare_scenes(plan, &|i| missing.contains(&i))?;
        for (i, s) in fresh.scenes.into_iter().enumerate() {
            if missing.contains(&i) {
                self.scenes[i] = s;
            }
        }
        self.images_decoded += fresh.images_decoded;
        self.texts_rasterized += fresh.texts_rasterized;
        self.bytes = self.bytes.max(fresh.bytes);
        Ok(true)
    }
}

impl PreparedScene {
    /// An unprepared scene: a black background and empty layers (never drawn).
    fn placeholder(s: &crate::plan::PlanScene) -> PreparedScene {
        PreparedScene {
            background: PreparedBackground::Solid([0, 0, 0, 255]),
            layers: s
                .layers
                .iter()
                .map(|l| PreparedLayer {
                    raster: Arc::new(Raster::new(0, 0)),
                    x: 0,
                    y: 0,
                    pivot: l.pivot,
                    dynamic: Dynamic::None,
                })
                .collect(),
            is_placeholder: true,
        }
    }
}

/// [`prepare`] for the scenes where `keep` is true; the others get placeholders and their
/// files are not read.
fn prepare_scenes(
    plan: &Plan,
    keep: &(dyn Fn(usize) -> bool + Sync),
) -> Result<Prepared, AssetError> {
    let kept = || {
        plan.scenes
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, s)| s)
    };
    // 1. Decode each distinct file once, in parallel.
    let mut files = FileUses::default();
    for s in kept() {
        if let PlanBackground::Image { src, .. } = &s.background {
            files.add(src, || format!("{}.background.src", s.path));
        }
        for l in &s.layers {
            if let PlanLayerKind::Image(i) = &l.kind {
                files.add(&i.src, || format!("{}.src", l.path));
            }
        }
    }
    let images = files.load_all(|p| decode_image(p).map(Arc::new))?;
    let images_decoded = images.len();

    // 2. Picture backgrounds: each distinct (file, fit, colour) scaled once.
    let (w, h) = (plan.width, plan.height);
    let mut bg_keys: Vec<(&PathBuf, BackgroundFit, Rgba)> = Vec::new();
    for s in kept() {
        if let PlanBackground::Image {
            src,
            fit,
            color,
            motion: None,
        } = &s.background
        {
            if !bg_keys.contains(&(src, *fit, *color)) {
                bg_keys.push((src, *fit, *color));
            }
        }
    }
    let bg_rasters: Vec<Arc<Raster>> = bg_keys
        .par_iter()
        .map(|(src, fit, color)| Arc::new(fit_background(&images[*src], w, h, *fit, *color)))
        .collect();

    // 3. Image layers, in parallel per scene.
    let mut scenes: Vec<PreparedScene> = plan
        .scenes
        .par_iter()
        .enumerate()
        .map(|(k, s)| {
            if !keep(k) {
                return PreparedScene::placeholder(s);
            }
            let background = match &s.background {
                PlanBackground::Solid(c) => PreparedBackground::Solid(*c),
                PlanBackground::Video(c) => {
                    PreparedBackground::Clip(Arc::new(ClipSource::new(c, plan)))
                }
                g @ (PlanBackground::Linear { .. } | PlanBackground::Radial { .. }) => {
                    PreparedBackground::Gradient(g.clone())
                }
                PlanBackground::Image {
                    src,
                    motion: Some(m),
                    ..
                } => PreparedBackground::Motion(Arc::new(
                    crate::compose::motion::MotionSource::new(&images[src], w, h, *m),
                )),
                PlanBackground::Image {
                    src, fit, color, ..
                } => {
                    let i = bg_keys
                        .iter()
                        .position(|k| *k == (src, *fit, *color))
                        .unwrap_or(0);
                    PreparedBackground::Raster(bg_rasters[i].clone())
                }
            };
            let layers = s
                .layers
                .iter()
                .map(|l| match &l.kind {
                    PlanLayerKind::Image(i) => {
                        let img = &images[&i.src];
                        let (raster, dynamic) = match (i.motion, i.width, i.height) {
                            (Some(m), Some(bw), Some(bh)) => {
                                let src = crate::compose::motion::MotionSource::new(
                                    img,
                                    bw.round().max(1.0) as u32,
                                    bh.round().max(1.0) as u32,
                                    m,
                                );
                                let mut first = Raster::new(src.width, src.height);
                                src.render_into(m.start, &mut first);
                                (first, Dynamic::Motion(Arc::new(src)))
                            }
                            _ => (fit_image(img, i.width, i.height, i.fit), Dynamic::None),
                        };
                        let size = (f64::from(raster.width), f64::from(raster.height));
                        placed(l, raster, size, dynamic)
                    }
                    PlanLayerKind::Video(c) => placed(
                        l,
                        Raster::new(0, 0),
                        (f64::from(c.width), f64::from(c.height)),
                        Dynamic::Clip(Arc::new(ClipSource::new(c, plan))),
                    ),
                    PlanLayerKind::Progress(p) => {
                        let raster =
                            Raster::rounded_rect(p.width, p.height, p.radius, p.track, None);
                        let dynamic = Dynamic::Progress {
                            fill: p.fill,
                            radius: p.radius,
                        };
                        placed(l, raster, (p.width, p.height), dynamic)
                    }
                    PlanLayerKind::Shape(sh) => {
                        let raster = Raster::rounded_rect(
                            sh.width, sh.height, sh.radius, sh.fill, sh.border,
                        );
                        placed(l, raster, (sh.width, sh.height), Dynamic::None)
                    }
                    // Filled in below, on one thread (the text engine is not Sync).
                    PlanLayerKind::Text(_) => PreparedLayer {
                        raster: Arc::new(Raster::new(0, 0)),
                        x: 0,
                        y: 0,
                        pivot: l.pivot,
                        dynamic: Dynamic::None,
                    },
                })
                .collect();
            PreparedScene {
                background,
                layers,
                is_placeholder: false,
            }
        })
        .collect();

    // 4. Text, laid out and rasterized once per distinct layer content.
    let mut engine = TextEngine::with_fonts(&plan.fonts);
    let mut texts_rasterized = 0;
    let mut text_issues = Vec::new();
    // Identical text (same words, font, size, colour...) shares one raster.
    type Cached = (Arc<Raster>, Arc<TextDrawing>);
    let mut cache: Vec<(crate::plan::PlanText, Cached)> = Vec::new();
    for (s, ps) in plan.scenes.iter().zip(scenes.iter_mut()) {
        if ps.is_placeholder {
            continue;
        }
        for (l, pl) in s.layers.iter().zip(ps.layers.iter_mut()) {
            let PlanLayerKind::Text(t) = &l.kind else {
                continue;
            };
            let (raster, drawing) = match cache.iter().find(|(k, _)| k == t) {
                Some((_, c)) => c.clone(),
                None => {
                    let d = match engine.layout(t) {
                        Ok(d) => d,
                        Err(e) => {
                            text_issues.push(SpecIssue {
                                path: format!("{}.text", l.path),
                                message: e.to_string(),
                            });
                            continue;
                        }
                    };
                    texts_rasterized += 1;
                    let c = (Arc::new(d.render(None)), Arc::new(d));
                    cache.push((t.clone(), c.clone()));
                    c
                }
            };
            let (x, y) = l
                .anchor
                .top_left((l.x, l.y), (drawing.box_width, drawing.box_height));
            *pl = PreparedLayer {
                raster,
                x: x.round() as i64 - drawing.pad.0,
                y: y.round() as i64 - drawing.pad.1,
                pivot: l.pivot,
                dynamic: if t.reveal.is_some() {
                    Dynamic::Typewriter(drawing)
                } else {
                    Dynamic::None
                },
            };
        }
    }

    if !text_issues.is_empty() {
        return Err(AssetError::Load(text_issues));
    }

    let mut seen = std::collections::HashSet::new();
    let mut bytes = 0u64;
    let mut count = |r: &Arc<Raster>| {
        if seen.insert(Arc::as_ptr(r)) {
            bytes += r.data.len() as u64;
        }
    };
    let mut motion_bytes = 0u64;
    for s in &scenes {
        if let PreparedBackground::Raster(r) = &s.background {
            count(r);
        }
        if let PreparedBackground::Motion(m) = &s.background {
            motion_bytes += m.bytes();
        }
        for l in &s.layers {
            count(&l.raster);
        }
    }
    Ok(Prepared {
        scenes,
        bytes: bytes + motion_bytes,
        images_decoded,
        texts_rasterized,
    })
}

/// A clip's pictures, read in order as composition asks for them. The reader (which decodes
/// ahead on its own thread) is opened at the first request and dropped after the last, so
/// only the clips on screen hold decoders and buffers. Composition asks from several threads
/// at once, roughly in order: recent pictures are kept so a slightly late request is served.
#[derive(Debug)]
pub struct ClipSource {
    clip: crate::plan::PlanClip,
    fps: (u32, u32),
    /// Pictures kept behind the newest one delivered: one batch of composition (requests of
    /// a batch arrive in any order), each a full frame of memory.
    window: u64,
    state: std::sync::Mutex<ClipState>,
}

#[derive(Default)]
struct ClipState {
    reader: Option<crate::media::clip::ClipReader>,
    next: u64,
    recent: std::collections::BTreeMap<u64, Arc<Raster>>,
}

impl std::fmt::Debug for ClipState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipState")
            .field("open", &self.reader.is_some())
            .field("next", &self.next)
            .finish()
    }
}

impl ClipSource {
    fn new(clip: &crate::plan::PlanClip, plan: &Plan) -> ClipSource {
        ClipSource {
            clip: clip.clone(),
            fps: (plan.fps.num, plan.fps.den),
            // `prepare` runs in the compose pool, whose size sets the batch.
            window: (rayon::current_num_threads() * crate::compose::SPANS_PER_THREAD).max(2) as u64,
            state: std::sync::Mutex::new(ClipState::default()),
        }
    }

    /// Picture size.
    pub fn size(&self) -> (u32, u32) {
        (self.clip.width, self.clip.height)
    }

    /// The picture shown `k` frames after the clip starts.
    ///
    /// # Errors
    /// [`crate::compose::ComposeError::Clip`] naming the layer and the file.
    pub fn frame(&self, k: u64) -> Result<Arc<Raster>, crate::compose::ComposeError> {
        let k = k.min(self.clip.frames - 1);
        let err = |e: crate::media::clip::VideoError| crate::compose::ComposeError::Clip {
            path: self.clip.path.clone(),
            message: e.to_string(),
        };
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = st.recent.get(&k) {
            return Ok(r.clone());
        }
        if k < st.next || st.reader.is_none() {
            // First use, or a request from before the window: start again.
            let timing = crate::media::clip::ClipTiming {
                trim_start: self.clip.trim_start,
                trim_end: self.clip.trim_end,
                rate: self.clip.rate,
                looped: self.clip.looped,
            };
            st.reader = Some(
                crate::media::clip::ClipReader::open(
                    &self.clip.src,
                    &timing,
                    self.fps,
                    Some((self.clip.width, self.clip.height)),
                    self.clip.frames,
                )
                .map_err(err)?,
            );
            st.next = 0;
            st.recent.clear();
        }
        let mut last = None;
        while st.next <= k {
            let reader = st
                .reader
                .as_mut()
                .ok_or(crate::compose::ComposeError::Clip {
                    path: self.clip.path.clone(),
                    message: "clip reader closed".into(),
                })?;
            let pic = reader.next_frame().map_err(err)?;
            let n = st.next;
            st.recent.insert(n, pic.clone());
            st.next += 1;
            last = Some(pic);
        }
        let floor = k.saturating_sub(self.window);
        st.recent.retain(|&n, _| n >= floor);
        if st.next >= self.clip.frames {
            // Everything has been read: free the decoder (the window stays for stragglers).
            st.reader = None;
        }
        match last {
            Some(p) => Ok(p),
            None => st
                .recent
                .get(&k)
                .cloned()
                .ok_or(crate::compose::ComposeError::Clip {
                    path: self.clip.path.clone(),
                    message: format!("picture {k} is no longer available"),
                }),
        }
    }
}

/// Resamples a premultiplied raster to `w`x`h` (Catmull-Rom; premultiplied, so no fringes).
fn resize(src: &Raster, w: u32, h: u32) -> Raster {
    let (w, h) = (w.max(1), h.max(1));
    if (w, h) == (src.width, src.height) {
        return src.clone();
    }
    let Some(buf) = image::RgbaImage::from_raw(src.width, src.height, src.data.clone()) else {
        return Raster::new(w, h);
    };
    let out = image::imageops::resize(&buf, w, h, FilterType::CatmullRom);
    Raster {
        width: w,
        height: h,
        data: out.into_raw(),
    }
}

/// Crops the centre `w`x`h` region out of `src` (which must be at least that large).
fn crop_center(src: &Raster, w: u32, h: u32) -> Raster {
    let x0 = (src.width.saturating_sub(w)) / 2;
    let y0 = (src.height.saturating_sub(h)) / 2;
    let mut out = Raster::new(w, h);
    let (w, h) = (w.min(src.width), h.min(src.height));
    for y in 0..h {
        let s = ((y0 + y) as usize * src.width as usize + x0 as usize) * 4;
        let d = y as usize * out.width as usize * 4;
        out.data[d..d + w as usize * 4].copy_from_slice(&src.data[s..s + w as usize * 4]);
    }
    out
}

/// Scales so that the picture covers `w`x`h`, then crops the centre.
fn cover(src: &Raster, w: u32, h: u32) -> Raster {
    let s = (f64::from(w) / f64::from(src.width)).max(f64::from(h) / f64::from(src.height));
    let sw = ((f64::from(src.width) * s).round() as u32).max(w);
    let sh = ((f64::from(src.height) * s).round() as u32).max(h);
    crop_center(&resize(src, sw, sh), w, h)
}

fn fit_background(img: &Raster, w: u32, h: u32, fit: BackgroundFit, color: Rgba) -> Raster {
    let mut frame = Raster::filled(w, h, color);
    match fit {
        BackgroundFit::Cover => frame.blend(&cover(img, w, h), 0, 0, 1.0),
        BackgroundFit::Stretch => frame.blend(&resize(img, w, h), 0, 0, 1.0),
        BackgroundFit::Contain | BackgroundFit::ContainBlur => {
            if fit == BackgroundFit::ContainBlur {
                frame = crate::compose::motion::blurred_cover(img, w, h);
            }
            frame.blend_centered(&contain(img, f64::from(w), f64::from(h)));
        }
    }
    frame
}

/// Scales to fit inside `w`x`h`, keeping the aspect ratio.
fn contain(img: &Raster, w: f64, h: f64) -> Raster {
    let (iw, ih) = (f64::from(img.width), f64::from(img.height));
    let s = (w / iw).min(h / ih);
    resize(
        img,
        (iw * s).round().max(1.0) as u32,
        (ih * s).round().max(1.0) as u32,
    )
}

/// Scales an image layer's picture to its box. See `spec::ImageLayer`.
fn fit_image(img: &Raster, width: Option<f64>, height: Option<f64>, fit: ImageFit) -> Raster {
    let (iw, ih) = (f64::from(img.width), f64::from(img.height));
    let px = |v: f64| (v.round().max(1.0)) as u32;
    match (width, height) {
        (None, None) => img.clone(),
        (Some(bw), None) => resize(img, px(bw), px(bw * ih / iw)),
        (None, Some(bh)) => resize(img, px(bh * iw / ih), px(bh)),
        (Some(bw), Some(bh)) => match fit {
            ImageFit::Stretch => resize(img, px(bw), px(bh)),
            ImageFit::Cover => cover(img, px(bw), px(bh)),
            ImageFit::Contain => contain(img, bw, bh),
            ImageFit::ContainBlur => fit_background(
                img,
                px(bw),
                px(bh),
                BackgroundFit::ContainBlur,
                [0, 0, 0, 255],
            ),
        },
    }
}

/// Evenly spaced colour stops, interpolated in straight RGB and dithered to hide banding.
fn gradient_color(colors: &[Rgba], t: f64, x: u32, y: u32) -> [u8; 4] {
    if colors.is_empty() {
        return [0, 0, 0, 255];
    }
    if colors.len() == 1 {
        return colors[0];
    }
    let t = t.clamp(0.0, 1.0) * (colors.len() - 1) as f64;
    let i = (t.floor() as usize).min(colors.len() - 2);
    let f = t - i as f64;
    let (a, b) = (colors[i], colors[i + 1]);
    // Interleaved gradient noise (Jimenez 2014): deterministic, no visible pattern.
    let noise = (52.982_918_9
        * ((0.067_110_56 * f64::from(x) + 0.005_837_15 * f64::from(y)).fract()))
    .fract();
    let mut out = [0u8; 4];
    for c in 0..4 {
        let v = f64::from(a[c]) + (f64::from(b[c]) - f64::from(a[c])) * f;
        out[c] = (v + noise - 0.5).round().clamp(0.0, 255.0) as u8;
    }
    out[3] = 255;
    out
}

/// Fills a `w`x`h` raster in parallel rows with `f(x, y)` evaluated at pixel centres.
fn per_pixel(w: u32, h: u32, f: impl Fn(f64, f64) -> f64 + Sync, colors: &[Rgba]) -> Raster {
    let mut r = Raster::new(w, h);
    r.data
        .par_chunks_exact_mut(w as usize * 4)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, px) in row.chunks_exact_mut(4).enumerate() {
                let t = f(x as f64 + 0.5, y as f64 + 0.5);
                px.copy_from_slice(&gradient_color(colors, t, x as u32, y as u32));
            }
        });
    r
}

fn linear_gradient(w: u32, h: u32, angle: f64, colors: &[Rgba]) -> Raster {
    let rad = angle.to_radians();
    let (dx, dy) = (rad.sin(), -rad.cos());
    let len = (f64::from(w) * dx.abs() + f64::from(h) * dy.abs()).max(1.0);
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    per_pixel(
        w,
        h,
        |x, y| ((x - cx) * dx + (y - cy) * dy) / len + 0.5,
        colors,
    )
}

fn radial_gradient(w: u32, h: u32, cx: f64, cy: f64, radius: f64, colors: &[Rgba]) -> Raster {
    per_pixel(w, h, |x, y| (x - cx).hypot(y - cy) / radius, colors)
}

/// A layer's picture placed by its anchor: the box of `size` whose anchor point is the
/// layer's (`x`, `y`), at whole pixels.
fn placed(
    l: &crate::plan::PlanLayer,
    raster: Raster,
    size: (f64, f64),
    dynamic: Dynamic,
) -> PreparedLayer {
    let (x, y) = l.anchor.top_left((l.x, l.y), size);
    PreparedLayer {
        x: x.round() as i64,
        y: y.round() as i64,
        raster: Arc::new(raster),
        pivot: l.pivot,
        dynamic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_gradient_runs_top_to_bottom_at_180() {
        let r = linear_gradient(8, 100, 180.0, &[[0, 0, 0, 255], [200, 200, 200, 255]]);
        assert!(r.pixel(4, 0)[0] <= 2);
        assert!(r.pixel(4, 99)[0] >= 197);
        assert!((i32::from(r.pixel(4, 50)[0]) - 100).abs() <= 3);
    }

    #[test]
    fn cover_fills_exactly() {
        let img = Raster::filled(300, 100, [255, 0, 0, 255]);
        let c = cover(&img, 64, 64);
        assert_eq!((c.width, c.height), (64, 64));
        assert!(c.data.chunks(4).all(|p| p == [255, 0, 0, 255]));
    }

    #[test]
    fn contain_keeps_aspect() {
        let img = Raster::filled(200, 100, [0, 255, 0, 255]);
        let r = fit_image(&img, Some(100.0), Some(100.0), ImageFit::Contain);
        assert_eq!((r.width, r.height), (100, 50));
        let r = fit_image(&img, Some(50.0), None, ImageFit::Contain);
        assert_eq!((r.width, r.height), (50, 25));
    }
}
