//! Layers: timing, animations, text fitting, and the slide blocks (title, bullets, lower
//! third, quote, caption), all resolved into primitive text, image and shape layers placed in
//! pixels. Text is measured here (shaped and wrapped by the text engine through
//! [`ResolveContext::measure`]) so that blocks can stack their parts and fitting problems are
//! reported by validation, with the layer's path.

mod blocks;
mod bullets;
mod pictures;
mod text;

use super::{
    Fps, PlanAnim, PlanImage, PlanLayer, PlanLayerKind, PlanShadow, PlanShape, PlanStroke,
    PlanText, Resolver, Rgba, TextFit, MAX_TEXT_CHARS,
};
use crate::spec::{
    Anchor, Animation, AnimationSpec, BulletItem, BulletsLayer, CaptionLayer, Easing, Edge, Effect,
    FontWeight, Layer, LayerBase, LowerThirdLayer, Marker, Overflow, Padding, QuoteLayer,
    RevealUnit, Shadow, ShapeLayer, Stroke, TextAlign, TextLayer, TextStyle, TitleLayer,
};
use crate::text::{reveal_bounds, TextMeasure};

/// What a layer needs to know about its scene.
pub(crate) struct SceneCtx {
    /// Scene length, seconds.
    pub dur: f64,
    /// Frame rate.
    pub fps: Fps,
    /// Scene length, frames.
    pub frames: u64,
    /// Frame width.
    pub w: f64,
    /// Frame height.
    pub h: f64,
}

impl SceneCtx {
    /// The slide blocks' default sizes are for 1080-line frames; this scales them to the
    /// frame's height so a block looks the same at every resolution.
    pub fn unit(&self) -> f64 {
        self.h / 1080.0
    }
}

/// Timing and animations shared by every layer, resolved.
#[derive(Clone, Copy)]
struct Common {
    start: u64,
    end: u64,
    fade_in: u64,
    fade_out: u64,
    opacity: f32,
    anim_in: Option<AnimTemplate>,
    anim_out: Option<AnimTemplate>,
}

/// An animation before it is attached to a layer (typewriter lengths depend on the text).
#[derive(Clone, Copy)]
struct AnimTemplate {
    effect: Effect,
    seconds: Option<f64>,
    easing: Easing,
    offset: (f64, f64),
    scale: f64,
    fade: bool,
    unit: RevealUnit,
}

impl Common {
    fn visible(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// A primitive layer with these timings.
    fn layer(
        &self,
        path: String,
        (x, y): (f64, f64),
        anchor: Anchor,
        pivot: (f64, f64),
        kind: PlanLayerKind,
        fps: Fps,
    ) -> PlanLayer {
        let units = match &kind {
            PlanLayerKind::Text(t) => t.reveal.map_or(0, |u| reveal_bounds(&t.text, u).len()),
            _ => 0,
        } as u32;
        let visible = self.visible().max(1);
        let attach = |t: &AnimTemplate, other: Option<&AnimTemplate>| {
            let secs = t.seconds.unwrap_or(match t.effect {
                Effect::Typewriter => {
                    f64::from(units)
                        * match t.unit {
                            RevealUnit::Char => 0.05,
                            RevealUnit::Word => 0.25,
                        }
                }
                _ => 0.5,
            });
            // Defaults never take more than the layer's time (half of it when it also exits).
            let cap = if other.is_some() {
                visible / 2
            } else {
                visible
            };
            PlanAnim {
                effect: t.effect,
                frames: fps.frame_at(secs).clamp(1, cap.max(1)),
                easing: t.easing,
                offset: t.offset,
                scale: t.scale,
                fade: t.fade || t.effect == Effect::Fade,
                units,
            }
        };
        PlanLayer {
            path,
            start: self.start,
            end: self.end,
            fade_in: self.fade_in,
            fade_out: self.fade_out,
            opacity: self.opacity,
            x,
            y,
            anchor,
            kind,
            pivot,
            anim_in: self
                .anim_in
                .as_ref()
                .map(|t| attach(t, self.anim_out.as_ref())),
            anim_out: self
                .anim_out
                .as_ref()
                .map(|t| attach(t, self.anim_in.as_ref())),
        }
    }

    /// The same timings, starting later (a bullet's reveal, a subtitle's delay).
    fn starting_at(&self, start: u64) -> Common {
        Common {
            start: start.min(self.end.saturating_sub(1)),
            ..*self
        }
    }
}

fn slide(from: Edge, distance: f64, seconds: f64, easing: Easing, fade: bool) -> Animation {
    Animation {
        effect: Effect::Slide,
        duration: Some(seconds),
        easing: Some(easing),
        from,
        distance: Some(crate::spec::Length::Px(distance)),
        scale: 0.6,
        by: RevealUnit::Char,
        fade,
    }
}

fn effect_only(effect: Effect, seconds: f64) -> Animation {
    Animation {
        effect,
        duration: Some(seconds),
        easing: None,
        from: Edge::Left,
        distance: None,
        scale: 0.6,
        by: RevealUnit::Char,
        fade: true,
    }
}

fn padding_of(p: Option<Padding>, default: [f64; 2]) -> [f64; 2] {
    match p {
        None => default,
        Some(Padding::All(v)) => [v, v],
        Some(Padding::Axes(a)) => a,
    }
}

impl Resolver<'_, '_> {
    /// Resolves one spec layer into one or more primitive layers, appended to `out`.
    pub(super) fn layer(&mut self, l: &Layer, path: &str, sc: &SceneCtx, out: &mut Vec<PlanLayer>) {
        match l {
            Layer::Text(t) => out.extend(self.text_layer(t, path, sc)),
            Layer::Image(i) => out.extend(self.image_layer(i, path, sc)),
            Layer::Shape(s) => out.extend(self.shape_layer(s, path, sc)),
            Layer::Title(t) => self.title_block(t, path, sc, out),
            Layer::Bullets(b) => self.bullets_block(b, path, sc, out),
            Layer::LowerThird(b) => self.lower_third(b, path, sc, out),
            Layer::Quote(q) => self.quote_block(q, path, sc, out),
            Layer::Caption(c) => out.extend(self.caption(c, path, sc)),
            Layer::ProgressBar(b) => out.extend(self.progress_bar(b, path, sc)),
            Layer::Video(v) => out.extend(self.video_layer(v, path, sc)),
        }
    }

    /// Checks the timing fields shared by all layers and converts them to frames.
    fn timing(
        &mut self,
        path: &str,
        t: &LayerBase<'_>,
        sc: &SceneCtx,
    ) -> Option<(u64, u64, u64, u64)> {
        let before = self.issues.len();
        let scene_dur = sc.dur;
        self.in_range(
            &format!("{path}.opacity"),
            "opacity",
            t.opacity,
            0.0,
            1.0,
            "",
        );
        let end = t.end.unwrap_or(scene_dur);
        if !(t.start.is_finite() && t.start >= 0.0) {
            self.issue(
                format!("{path}.start"),
                format!("start {} must be >= 0 seconds", t.start),
            );
        } else if t.start >= scene_dur && scene_dur > 0.0 {
            self.issue(
                format!("{path}.start"),
                format!(
                    "start {} s is at or after the scene's end ({scene_dur} s)",
                    t.start
                ),
            );
        }
        if let Some(e) = t.end {
            if !(e.is_finite() && e > t.start) {
                self.issue(
                    format!("{path}.end"),
                    format!("end {e} must be after start ({})", t.start),
                );
            } else if e > scene_dur + 1e-9 {
                self.issue(
                    format!("{path}.end"),
                    format!("end {e} s is after the scene's end ({scene_dur} s)"),
                );
            }
        }
        for (name, v) in [("fade_in", t.fade_in), ("fade_out", t.fade_out)] {
            if !(v.is_finite() && v >= 0.0) {
                self.issue(
                    format!("{path}.{name}"),
                    format!("{name} {v} must be >= 0 seconds"),
                );
            }
        }
        if t.fade_in + t.fade_out > (end - t.start) + 1e-9 {
            self.issue(
                format!("{path}.fade_in"),
                format!(
                    "fade_in {} s + fade_out {} s exceed the layer's visible time ({} s)",
                    t.fade_in,
                    t.fade_out,
                    end - t.start
                ),
            );
        }
        if self.issues.len() != before {
            return None;
        }
        let fps = sc.fps;
        let start = fps.frame_at(t.start).min(sc.frames);
        let end = fps.frame_at(end).min(sc.frames);
        Some((
            start,
            end,
            fps.frame_at(t.fade_in),
            fps.frame_at(t.fade_out),
        ))
    }

    fn animation(
        &mut self,
        a: &AnimationSpec,
        path: &str,
        exit: bool,
        sc: &SceneCtx,
    ) -> Option<AnimTemplate> {
        let full = match a {
            AnimationSpec::Effect(e) => Animation {
                effect: *e,
                ..effect_only(*e, 0.5)
            },
            AnimationSpec::Full(f) => f.clone(),
        };
        let full = Animation {
            duration: match a {
                AnimationSpec::Effect(_) => None,
                AnimationSpec::Full(f) => f.duration,
            },
            ..full
        };
        let before = self.issues.len();
        if let Some(d) = full.duration {
            self.in_range(
                &format!("{path}.duration"),
                "duration",
                d,
                0.0,
                60.0,
                "seconds",
            );
        }
        if full.effect == Effect::Scale {
            self.in_range(&format!("{path}.scale"), "scale", full.scale, 0.0, 4.0, "");
        }
        let (horizontal, sign) = match full.from {
            Edge::Left => (true, -1.0),
            Edge::Right => (true, 1.0),
            Edge::Top => (false, -1.0),
            Edge::Bottom => (false, 1.0),
        };
        let side = if horizontal { sc.w } else { sc.h };
        let distance = match &full.distance {
            Some(d) => self.length(d, &format!("{path}.distance"), side),
            None => 0.1 * side,
        };
        if self.issues.len() != before {
            return None;
        }
        let offset = if horizontal {
            (sign * distance, 0.0)
        } else {
            (0.0, sign * distance)
        };
        let easing = full.easing.unwrap_or(match (full.effect, exit) {
            (Effect::Typewriter, _) => Easing::Linear,
            (_, false) => Easing::EaseOut,
            (_, true) => Easing::EaseIn,
        });
        Some(AnimTemplate {
            effect: full.effect,
            seconds: full.duration,
            easing,
            offset,
            scale: full.scale,
            fade: full.fade,
            unit: full.by,
        })
    }

    /// Timing plus animations (with the block's defaults when the spec gives none).
    fn common(
        &mut self,
        path: &str,
        t: LayerBase<'_>,
        default_in: Option<Animation>,
        default_out: Option<Animation>,
        sc: &SceneCtx,
    ) -> Option<Common> {
        let (anim_in, anim_out) = (t.animate_in, t.animate_out);
        let times = self.timing(path, &t, sc);
        let ain = match (anim_in, default_in) {
            (Some(a), _) => self.animation(a, &format!("{path}.animate_in"), false, sc),
            (None, Some(d)) => self.animation(&AnimationSpec::Full(d), path, false, sc),
            (None, None) => None,
        };
        let aout = match (anim_out, default_out) {
            (Some(a), _) => self.animation(a, &format!("{path}.animate_out"), true, sc),
            (None, Some(d)) => self.animation(&AnimationSpec::Full(d), path, true, sc),
            (None, None) => None,
        };
        let (start, end, fade_in, fade_out) = times?;
        let visible_s = sc.fps.seconds(end.saturating_sub(start));
        let explicit = |a: Option<&AnimationSpec>| match a {
            Some(AnimationSpec::Full(f)) => f.duration.unwrap_or(0.0),
            _ => 0.0,
        };
        if explicit(anim_in) + explicit(anim_out) > visible_s + 1e-6 {
            self.issue(
                format!("{path}.animate_in"),
                format!(
                    "animate_in and animate_out last {} s together, longer than the layer is \
                     visible ({visible_s:.3} s)",
                    explicit(anim_in) + explicit(anim_out)
                ),
            );
            return None;
        }
        Some(Common {
            start,
            end,
            fade_in,
            fade_out,
            opacity: t.opacity as f32,
            anim_in: ain,
            anim_out: aout,
        })
    }

    /// The opening every layer builder shares: [`Resolver::common`], then the anchor point
    /// (`x`, `y`) in pixels.
    fn opening(
        &mut self,
        path: &str,
        base: LayerBase<'_>,
        default_in: Option<Animation>,
        default_out: Option<Animation>,
        sc: &SceneCtx,
    ) -> (Option<Common>, f64, f64) {
        let common = self.common(path, base, default_in, default_out, sc);
        let x = self.length(base.x, &format!("{path}.x"), sc.w);
        let y = self.length(base.y, &format!("{path}.y"), sc.h);
        (common, x, y)
    }

    /// A layer's `max_width` in pixels, or `share` of the frame's width when it has none.
    fn max_width(
        &mut self,
        m: Option<&crate::spec::Length>,
        path: &str,
        sc: &SceneCtx,
        share: f64,
    ) -> f64 {
        match m {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => share * sc.w,
        }
    }

    fn no_typewriter(&mut self, path: &str, c: &Common) {
        if c.anim_in
            .iter()
            .chain(&c.anim_out)
            .any(|a| a.effect == Effect::Typewriter)
        {
            self.issue(
                format!("{path}.animate_in"),
                "typewriter only applies to text layers",
            );
        }
    }
}
