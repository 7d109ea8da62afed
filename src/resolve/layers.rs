//! Layers: timing, animations, text fitting, and the slide blocks (title, bullets, lower
//! third, quote, caption), all resolved into primitive text, image and shape layers placed in
//! pixels. Text is measured here (shaped and wrapped by the text engine through
//! [`ResolveContext::measure`]) so that blocks can stack their parts and fitting problems are
//! reported by validation, with the layer's path.

use super::{
    Fps, PlanAnim, PlanImage, PlanLayer, PlanLayerKind, PlanShadow, PlanShape, PlanStroke,
    PlanText, Resolver, Rgba, TextFit, Timing, MAX_TEXT_CHARS,
};
use crate::spec::{
    Anchor, Animation, AnimationSpec, BulletItem, BulletsLayer, CaptionLayer, Easing, Edge, Effect,
    FontWeight, Layer, LowerThirdLayer, Marker, Overflow, Padding, QuoteLayer, RevealUnit, Shadow,
    ShapeLayer, Stroke, TextAlign, TextLayer, TextStyle, TitleLayer,
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
    fn timing(&mut self, path: &str, t: Timing, sc: &SceneCtx) -> Option<(u64, u64, u64, u64)> {
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
    #[allow(clippy::too_many_arguments)]
    fn common(
        &mut self,
        path: &str,
        t: Timing,
        anim_in: Option<&AnimationSpec>,
        anim_out: Option<&AnimationSpec>,
        default_in: Option<Animation>,
        default_out: Option<Animation>,
        sc: &SceneCtx,
    ) -> Option<Common> {
        let times = self.timing(path, t, sc);
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

    fn family(&mut self, font: &str, path: &str) -> String {
        match self
            .ctx
            .font_families
            .iter()
            .find(|f| f.eq_ignore_ascii_case(font))
        {
            Some(f) => f.clone(),
            None => {
                self.issue(
                    path,
                    format!(
                        "unknown font {font:?} (available: {})",
                        self.ctx.font_families.join(", ")
                    ),
                );
                font.to_string()
            }
        }
    }

    fn stroke(&mut self, s: &Stroke, path: &str) -> PlanStroke {
        self.in_range(&format!("{path}.width"), "width", s.width, 0.5, 50.0, "px");
        PlanStroke {
            color: self.color(&s.color, &format!("{path}.color")),
            width: s.width as f32,
        }
    }

    fn shadow(&mut self, s: &Shadow, path: &str) -> PlanShadow {
        self.in_range(&format!("{path}.x"), "x", s.x, -200.0, 200.0, "px");
        self.in_range(&format!("{path}.y"), "y", s.y, -200.0, 200.0, "px");
        self.in_range(&format!("{path}.blur"), "blur", s.blur, 0.0, 50.0, "px");
        PlanShadow {
            color: self.color(&s.color, &format!("{path}.color")),
            x: s.x as f32,
            y: s.y as f32,
            blur: s.blur as f32,
        }
    }

    fn text_chars(&mut self, text: &str, path: &str) {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            self.issue(
                path,
                format!("text has {chars} characters (at most {MAX_TEXT_CHARS})"),
            );
        }
    }

    /// A block part's text from its style, with the block's defaults.
    #[allow(clippy::too_many_arguments)]
    fn styled(
        &mut self,
        text: &str,
        st: &TextStyle,
        path: &str,
        (size, weight, italic, color): (f64, FontWeight, bool, &str),
        align: TextAlign,
        max_width: f64,
        line_height: f64,
    ) -> PlanText {
        self.text_chars(text, &format!("{path}.text"));
        let size = st.size.unwrap_or(size);
        self.in_range(&format!("{path}.size"), "size", size, 1.0, 1000.0, "px");
        let family = self.family(&st.font, &format!("{path}.font"));
        let color = self.color(
            st.color.as_deref().unwrap_or(color),
            &format!("{path}.color"),
        );
        let outline = st
            .outline
            .as_ref()
            .map(|s| self.stroke(s, &format!("{path}.outline")));
        let shadow = st
            .shadow
            .as_ref()
            .map(|s| self.shadow(s, &format!("{path}.shadow")));
        PlanText {
            weight: st.weight.unwrap_or(weight),
            italic: st.italic.unwrap_or(italic),
            align,
            line_height: (size * line_height) as f32,
            outline,
            shadow,
            ..PlanText::plain(text, &family, size as f32, color, max_width.max(1.0) as f32)
        }
    }

    fn measure(&mut self, t: &PlanText, path: &str) -> Option<TextMeasure> {
        match (self.ctx.measure)(t) {
            Ok(m) => Some(m),
            Err(e) => {
                self.issue(format!("{path}.text"), e);
                None
            }
        }
    }

    /// Makes `t` fit `max_height` (and its wrap width): shrinks it down to `min_size`, then
    /// fails or cuts it per `overflow`. Records what it changed in the plan.
    fn fit(
        &mut self,
        t: &mut PlanText,
        path: &str,
        max_height: Option<f64>,
        min_size: f64,
        overflow: Overflow,
    ) -> Option<TextMeasure> {
        // When words may break, a line can still end a few pixels past the wrap width (mixed
        // directions); that is layout slack, not a word that does not fit.
        let breaks = t.break_words;
        let fits = |m: &TextMeasure| {
            (breaks || m.overflow_x <= 0.5) && max_height.is_none_or(|h| m.height <= h + 0.5)
        };
        let m = self.measure(t, path)?;
        if fits(&m) {
            return Some(m);
        }
        let size0 = t.size;
        let ratio = t.line_height / t.size;
        let sized = |t: &PlanText, s: f32| PlanText {
            size: s,
            line_height: s * ratio,
            ..t.clone()
        };
        let min = (min_size as f32).min(size0);
        let chars = t.text.chars().count();
        if min < size0 {
            let small = self.measure(&sized(t, min), path)?;
            if fits(&small) {
                // Largest fitting size, to a quarter pixel.
                let (mut lo, mut hi) = (min, size0);
                let mut best = small;
                while hi - lo > 0.25 {
                    let mid = (lo + hi) / 2.0;
                    let m = self.measure(&sized(t, mid), path)?;
                    if fits(&m) {
                        lo = mid;
                        best = m;
                    } else {
                        hi = mid;
                    }
                }
                *t = sized(t, lo);
                self.fits.push(TextFit {
                    path: path.to_string(),
                    size: f64::from(size0),
                    fitted_size: f64::from(lo),
                    kept_chars: None,
                    chars,
                });
                return Some(best);
            }
        }
        let mut small = sized(t, min);
        let m = self.measure(&small, path)?;
        match overflow {
            Overflow::Fail => {
                let mut why = Vec::new();
                if m.overflow_x > 0.5 {
                    why.push(format!(
                        "a word is {:.0} px wider than max_width ({:.0} px)",
                        m.overflow_x, t.max_width
                    ));
                }
                if let Some(h) = max_height {
                    if m.height > h + 0.5 {
                        why.push(format!(
                            "its {} lines are {:.0} px tall, {:.0} px more than max_height ({h:.0} px)",
                            m.lines,
                            m.height,
                            m.height - h
                        ));
                    }
                }
                self.issue(
                    format!("{path}.text"),
                    format!(
                        "the text does not fit its box at {min} px: {}; shorten it, enlarge \
                         the box, lower min_size or set \"overflow\": \"ellipsis\"",
                        why.join(" and ")
                    ),
                );
                None
            }
            Overflow::Ellipsis => {
                small.break_words = true;
                let char_ends: Vec<usize> = small
                    .text
                    .char_indices()
                    .map(|(i, c)| i + c.len_utf8())
                    .collect();
                let full = small.text.clone();
                let cut = |k: usize| -> String {
                    let end = if k == 0 { 0 } else { char_ends[k - 1] };
                    format!("{}…", full[..end].trim_end())
                };
                let attempt = |me: &mut Self, k: usize| -> Option<(bool, TextMeasure)> {
                    let c = PlanText {
                        text: cut(k),
                        ..small.clone()
                    };
                    let m = me.measure(&c, path)?;
                    Some((fits(&m), m))
                };
                let (ok0, m0) = attempt(self, 0)?;
                if !ok0 {
                    self.issue(
                        format!("{path}.text"),
                        format!(
                            "the box is too small for even \"…\" at {min} px ({:.0} px tall)",
                            m0.height
                        ),
                    );
                    return None;
                }
                let (mut lo, mut hi) = (0usize, chars);
                let mut best = m0;
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    let (ok, m) = attempt(self, mid)?;
                    if ok {
                        lo = mid;
                        best = m;
                    } else {
                        hi = mid;
                    }
                }
                // Prefer a word boundary when one is near.
                let prefix: Vec<char> = full.chars().take(lo).collect();
                if let Some(sp) = prefix.iter().rposition(|c| c.is_whitespace()) {
                    if sp * 10 >= lo * 7 {
                        let (ok, m) = attempt(self, sp)?;
                        if ok {
                            lo = sp;
                            best = m;
                        }
                    }
                }
                small.text = cut(lo);
                *t = small;
                self.fits.push(TextFit {
                    path: path.to_string(),
                    size: f64::from(size0),
                    fitted_size: f64::from(min),
                    kept_chars: Some(lo),
                    chars,
                });
                Some(best)
            }
        }
    }

    fn text_layer(&mut self, t: &TextLayer, path: &str, sc: &SceneCtx) -> Option<PlanLayer> {
        let before = self.issues.len();
        let common = self.common(
            path,
            Timing::of(t.opacity, t.start, t.end, t.fade_in, t.fade_out),
            t.animate_in.as_ref(),
            t.animate_out.as_ref(),
            None,
            None,
            sc,
        );
        let x = self.length(&t.x, &format!("{path}.x"), sc.w);
        let y = self.length(&t.y, &format!("{path}.y"), sc.h);
        self.in_range(&format!("{path}.size"), "size", t.size, 1.0, 1000.0, "px");
        self.text_chars(&t.text, &format!("{path}.text"));
        self.in_range(
            &format!("{path}.line_height"),
            "line_height",
            t.line_height,
            0.5,
            4.0,
            "",
        );
        let family = self.family(&t.font, &format!("{path}.font"));
        let max_width = match &t.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => sc.w * 0.9,
        };
        if max_width < 1.0 {
            self.issue(
                format!("{path}.max_width"),
                format!("max_width {max_width} px must be at least 1"),
            );
        }
        let max_height = t
            .max_height
            .as_ref()
            .map(|m| self.length(m, &format!("{path}.max_height"), sc.h));
        if let Some(mh) = max_height {
            if mh < 1.0 {
                self.issue(
                    format!("{path}.max_height"),
                    format!("max_height {mh} px must be at least 1"),
                );
            }
        }
        let min_size = t.min_size.unwrap_or(t.size);
        if t.min_size.is_some() {
            self.in_range(
                &format!("{path}.min_size"),
                "min_size",
                min_size,
                1.0,
                t.size.max(1.0),
                "px (at most size)",
            );
        }
        let boxed = t.background.is_some() || t.border.is_some();
        let padding = padding_of(
            t.padding,
            if boxed {
                [0.35 * t.size, 0.6 * t.size]
            } else {
                [0.0, 0.0]
            },
        );
        for (i, v) in padding.iter().enumerate() {
            if !(v.is_finite() && (0.0..=1000.0).contains(v)) {
                self.issue(
                    format!("{path}.padding"),
                    format!("padding[{i}] {v} is out of range (expected 0..=1000 px)"),
                );
            }
        }
        self.in_range(
            &format!("{path}.corner_radius"),
            "corner_radius",
            t.corner_radius,
            0.0,
            500.0,
            "px",
        );
        let background = t
            .background
            .as_ref()
            .map(|c| self.color(c, &format!("{path}.background")));
        let border = t
            .border
            .as_ref()
            .map(|s| self.stroke(s, &format!("{path}.border")));
        let outline = t
            .outline
            .as_ref()
            .map(|s| self.stroke(s, &format!("{path}.outline")));
        let shadow = t
            .shadow
            .as_ref()
            .map(|s| self.shadow(s, &format!("{path}.shadow")));
        let color = self.color(&t.color, &format!("{path}.color"));
        if self.issues.len() != before {
            return None;
        }
        let common = common?;
        let reveal = common
            .anim_in
            .iter()
            .chain(&common.anim_out)
            .find(|a| a.effect == Effect::Typewriter)
            .map(|a| a.unit);
        let mut pt = PlanText {
            text: t.text.clone(),
            family,
            size: t.size as f32,
            weight: t.weight,
            italic: t.italic,
            color,
            align: t.align,
            max_width: max_width.max(1.0) as f32,
            line_height: (t.line_height * t.size) as f32,
            break_words: max_height.is_none() && t.min_size.is_none(),
            background,
            padding: [padding[0] as f32, padding[1] as f32],
            radius: t.corner_radius as f32,
            border,
            outline,
            shadow,
            min_box_width: 0.0,
            reveal,
        };
        self.fit(&mut pt, path, max_height, min_size, t.overflow)?;
        Some(common.layer(
            path.to_string(),
            (x, y),
            t.anchor,
            (x, y),
            PlanLayerKind::Text(pt),
            sc.fps,
        ))
    }

    /// A layer's optional box size, each side within `min..=` four frames (at most `cap`).
    fn box_size(
        &mut self,
        width: Option<&crate::spec::Length>,
        height: Option<&crate::spec::Length>,
        path: &str,
        sc: &SceneCtx,
        (min, cap): (f64, f64),
    ) -> (Option<f64>, Option<f64>) {
        let width = width.map(|v| self.length(v, &format!("{path}.width"), sc.w));
        let height = height.map(|v| self.length(v, &format!("{path}.height"), sc.h));
        for (name, v, side) in [("width", width, sc.w), ("height", height, sc.h)] {
            if let Some(v) = v {
                let max = (4.0 * side).min(cap);
                if !(min..=max).contains(&v) {
                    self.issue(
                        format!("{path}.{name}"),
                        format!("{name} {v} px is out of range (expected {min}..={max}: at most four frames)"),
                    );
                }
            }
        }
        (width, height)
    }

    fn image_layer(
        &mut self,
        i: &crate::spec::ImageLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let common = self.common(
            path,
            Timing::of(i.opacity, i.start, i.end, i.fade_in, i.fade_out),
            i.animate_in.as_ref(),
            i.animate_out.as_ref(),
            None,
            None,
            sc,
        );
        let x = self.length(&i.x, &format!("{path}.x"), sc.w);
        let y = self.length(&i.y, &format!("{path}.y"), sc.h);
        let src = self.asset(&i.src, &format!("{path}.src"));
        let (width, height) = self.box_size(
            i.width.as_ref(),
            i.height.as_ref(),
            path,
            sc,
            (1.0, 16384.0),
        );
        let common = common?;
        self.no_typewriter(path, &common);
        let motion = match &i.motion {
            Some(m) if width.is_none() || height.is_none() => {
                let _ = m;
                self.issue(
                    format!("{path}.motion"),
                    "a moving picture needs both width and height (the box it moves in)",
                );
                None
            }
            Some(m) => self.motion(m, &format!("{path}.motion"), common.start, common.visible()),
            None => None,
        };
        Some(common.layer(
            path.to_string(),
            (x, y),
            i.anchor,
            (x, y),
            PlanLayerKind::Image(PlanImage {
                src,
                width,
                height,
                fit: i.fit,
                motion,
            }),
            sc.fps,
        ))
    }

    fn video_layer(
        &mut self,
        v: &crate::spec::VideoLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let common = self.common(
            path,
            Timing::of(v.opacity, v.start, v.end, v.fade_in, v.fade_out),
            v.animate_in.as_ref(),
            v.animate_out.as_ref(),
            None,
            None,
            sc,
        );
        let x = self.length(&v.x, &format!("{path}.x"), sc.w);
        let y = self.length(&v.y, &format!("{path}.y"), sc.h);
        let src = self.asset(&v.src, &format!("{path}.src"));
        let (width, height) =
            self.box_size(v.width.as_ref(), v.height.as_ref(), path, sc, (2.0, 8192.0));
        let common = common?;
        self.no_typewriter(path, &common);
        let clip = self.clip(
            &src,
            &v.playback,
            path,
            (sc.w, sc.h),
            Some((width, height)),
            common.start,
            common.visible(),
        )?;
        Some(common.layer(
            path.to_string(),
            (x, y),
            v.anchor,
            (x, y),
            PlanLayerKind::Video(clip),
            sc.fps,
        ))
    }

    fn progress_bar(
        &mut self,
        b: &crate::spec::ProgressBarLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let common = self.common(
            path,
            Timing::of(b.opacity, b.start, b.end, b.fade_in, b.fade_out),
            None,
            None,
            None,
            None,
            sc,
        );
        let x = self.length(&b.x, &format!("{path}.x"), sc.w);
        let y = self.length(&b.y, &format!("{path}.y"), sc.h);
        let height = b
            .height
            .clone()
            .unwrap_or(crate::spec::Length::Px((8.0 * sc.unit()).round().max(2.0)));
        let (width, height) = self.rect_size(&b.width, &height, path, sc);
        let fill = self.color(&b.color, &format!("{path}.color"));
        let track = self.color(&b.track_color, &format!("{path}.track_color"));
        self.in_range(
            &format!("{path}.corner_radius"),
            "corner_radius",
            b.corner_radius,
            0.0,
            8192.0,
            "px",
        );
        let common = common?;
        let (offset, total) = match b.scope {
            // Filled in once every scene is placed.
            crate::spec::ProgressScope::Video => (0, 0),
            crate::spec::ProgressScope::Scene => (0, sc.frames),
        };
        Some(common.layer(
            path.to_string(),
            (x, y),
            b.anchor,
            (x, y),
            PlanLayerKind::Progress(super::PlanProgress {
                width,
                height,
                fill,
                track,
                radius: b.corner_radius,
                offset,
                total,
            }),
            sc.fps,
        ))
    }

    fn rect_size(
        &mut self,
        w: &crate::spec::Length,
        h: &crate::spec::Length,
        path: &str,
        sc: &SceneCtx,
    ) -> (f64, f64) {
        let width = self.length(w, &format!("{path}.width"), sc.w);
        let height = self.length(h, &format!("{path}.height"), sc.h);
        for (name, v, side) in [("width", width, sc.w), ("height", height, sc.h)] {
            let max = (4.0 * side).min(16384.0);
            if !(1.0..=max).contains(&v) {
                self.issue(
                    format!("{path}.{name}"),
                    format!("{name} {v} px is out of range (expected 1..={max}: four frames)"),
                );
            }
        }
        (width, height)
    }

    fn shape_layer(&mut self, s: &ShapeLayer, path: &str, sc: &SceneCtx) -> Option<PlanLayer> {
        let common = self.common(
            path,
            Timing::of(s.opacity, s.start, s.end, s.fade_in, s.fade_out),
            s.animate_in.as_ref(),
            s.animate_out.as_ref(),
            None,
            None,
            sc,
        );
        let x = self.length(&s.x, &format!("{path}.x"), sc.w);
        let y = self.length(&s.y, &format!("{path}.y"), sc.h);
        let (width, height) = self.rect_size(&s.width, &s.height, path, sc);
        self.in_range(
            &format!("{path}.corner_radius"),
            "corner_radius",
            s.corner_radius,
            0.0,
            8192.0,
            "px",
        );
        let fill = self.color(&s.fill, &format!("{path}.fill"));
        let border = s.border.as_ref().map(|b| {
            let st = self.stroke(b, &format!("{path}.border"));
            (st.color, f64::from(st.width))
        });
        let common = common?;
        self.no_typewriter(path, &common);
        Some(common.layer(
            path.to_string(),
            (x, y),
            s.anchor,
            (x, y),
            PlanLayerKind::Shape(PlanShape {
                width,
                height,
                fill,
                radius: s.corner_radius,
                border,
            }),
            sc.fps,
        ))
    }

    /// Places a stack of measured texts as one block: returns each part's top-left corner.
    fn stack(
        parts: &[(TextMeasure, f64)],
        align: TextAlign,
        (x, y): (f64, f64),
        anchor: Anchor,
    ) -> Vec<(f64, f64)> {
        let block_w = parts.iter().map(|(m, _)| m.width).fold(0.0, f64::max);
        let block_h: f64 = parts.iter().map(|(m, gap)| m.height + gap).sum();
        let (ax, ay) = anchor.fractions();
        let left = x - ax * block_w;
        let mut top = y - ay * block_h;
        parts
            .iter()
            .map(|(m, gap)| {
                top += gap;
                let px = match align {
                    TextAlign::Left => left,
                    TextAlign::Center => left + (block_w - m.width) / 2.0,
                    TextAlign::Right => left + block_w - m.width,
                };
                let p = (px, top);
                top += m.height;
                p
            })
            .collect()
    }

    fn title_block(&mut self, t: &TitleLayer, path: &str, sc: &SceneCtx, out: &mut Vec<PlanLayer>) {
        let common = self.common(
            path,
            Timing::of(t.opacity, t.start, t.end, t.fade_in, t.fade_out),
            t.animate_in.as_ref(),
            t.animate_out.as_ref(),
            Some(effect_only(Effect::Fade, 0.6)),
            None,
            sc,
        );
        let x = self.length(&t.x, &format!("{path}.x"), sc.w);
        let y = self.length(&t.y, &format!("{path}.y"), sc.h);
        let max_width = match &t.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => 0.8 * sc.w,
        };
        self.in_range(
            &format!("{path}.subtitle_delay"),
            "subtitle_delay",
            t.subtitle_delay,
            0.0,
            60.0,
            "seconds",
        );
        let title = self.styled(
            &t.title,
            &t.title_style,
            &format!("{path}.title_style"),
            (96.0 * sc.unit(), FontWeight::Bold, false, "#FFFFFF"),
            t.align,
            max_width,
            1.15,
        );
        let subtitle = t.subtitle.as_ref().map(|s| {
            self.styled(
                s,
                &t.subtitle_style,
                &format!("{path}.subtitle_style"),
                (44.0 * sc.unit(), FontWeight::Normal, false, "#FFFFFFD9"),
                t.align,
                max_width,
                1.25,
            )
        });
        let gap = t.gap.unwrap_or(0.35 * f64::from(title.size));
        let Some(common) = common else { return };
        let Some(mt) = self.measure(&title, &format!("{path}.title")) else {
            return;
        };
        let mut parts = vec![(mt, 0.0)];
        if let Some(s) = &subtitle {
            let Some(ms) = self.measure(s, &format!("{path}.subtitle")) else {
                return;
            };
            parts.push((ms, gap));
        }
        let pos = Self::stack(&parts, t.align, (x, y), t.anchor);
        let delay = sc.fps.frame_at(t.subtitle_delay);
        let mut texts = vec![(format!("{path}.title"), title, common)];
        if let Some(s) = subtitle {
            texts.push((
                format!("{path}.subtitle"),
                s,
                common.starting_at(common.start + delay),
            ));
        }
        for ((p, text, c), xy) in texts.into_iter().zip(pos) {
            let text = self.with_reveal(text, &c);
            out.push(c.layer(
                p,
                xy,
                Anchor::TopLeft,
                (x, y),
                PlanLayerKind::Text(text),
                sc.fps,
            ));
        }
    }

    fn with_reveal(&mut self, t: PlanText, c: &Common) -> PlanText {
        let reveal = c
            .anim_in
            .iter()
            .chain(&c.anim_out)
            .find(|a| a.effect == Effect::Typewriter)
            .map(|a| a.unit);
        PlanText { reveal, ..t }
    }

    fn bullets_block(
        &mut self,
        b: &BulletsLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let before = self.issues.len();
        let common = self.common(
            path,
            Timing::of(b.opacity, b.start, b.end, b.fade_in, b.fade_out),
            b.animate_in.as_ref(),
            b.animate_out.as_ref(),
            Some(slide(
                Edge::Left,
                40.0 * sc.unit(),
                0.4,
                Easing::EaseOut,
                true,
            )),
            None,
            sc,
        );
        if b.items.is_empty() {
            self.issue(format!("{path}.items"), "no items (expected at least one)");
        }
        let x = self.length(&b.x, &format!("{path}.x"), sc.w);
        let y = self.length(&b.y, &format!("{path}.y"), sc.h);
        let max_width = match &b.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => 0.8 * sc.w,
        };
        let max_height = b
            .max_height
            .as_ref()
            .map(|m| self.length(m, &format!("{path}.max_height"), sc.h));
        self.in_range(
            &format!("{path}.line_height"),
            "line_height",
            b.line_height,
            0.5,
            4.0,
            "",
        );
        self.in_range(
            &format!("{path}.spacing"),
            "spacing",
            b.spacing,
            0.0,
            10.0,
            "",
        );
        self.in_range(
            &format!("{path}.reveal"),
            "reveal",
            b.reveal,
            0.0,
            600.0,
            "seconds",
        );
        let size0 = b.style.size.unwrap_or(48.0 * sc.unit());
        let min_size = b.min_size.unwrap_or(size0).min(size0);
        if b.min_size.is_some() {
            self.in_range(
                &format!("{path}.min_size"),
                "min_size",
                min_size,
                1.0,
                1000.0,
                "px",
            );
        }
        let marker_color = b
            .marker_color
            .as_ref()
            .map(|c| self.color(c, &format!("{path}.marker_color")));
        let items: Vec<(String, u32, Option<f64>)> = b
            .items
            .iter()
            .map(|i| match i {
                BulletItem::Text(t) => (t.clone(), 0, None),
                BulletItem::Full(f) => (f.text.clone(), f.level, f.at),
            })
            .collect();
        for (i, (_, level, at)) in items.iter().enumerate() {
            if *level > 4 {
                self.issue(
                    format!("{path}.items[{i}].level"),
                    format!("level {level} is out of range (expected 0..=4)"),
                );
            }
            if let Some(at) = at {
                let start = b.start;
                let end = b.end.unwrap_or(sc.dur);
                if !(at.is_finite() && *at >= start && *at < end) {
                    self.issue(
                        format!("{path}.items[{i}].at"),
                        format!("at {at} s is outside the list's visible time ({start}..{end} s)"),
                    );
                }
            }
        }
        // Validate the style once (at the full size).
        let probe = self.styled(
            "",
            &b.style,
            &format!("{path}.style"),
            (48.0 * sc.unit(), FontWeight::Normal, false, "#FFFFFF"),
            TextAlign::Left,
            max_width,
            b.line_height,
        );
        if self.issues.len() != before {
            return;
        }
        let Some(common) = common else { return };
        let markers = marker_texts(b.marker, &items);

        // Lay out at a size; returns the item texts, their measures and the block height.
        let layout = |me: &mut Self, size: f32| -> Option<(Vec<Item>, f64, f64)> {
            let indent = b.indent.unwrap_or(1.6 * f64::from(size));
            let col = if b.marker == Marker::None {
                0.0
            } else if b.marker == Marker::Number {
                let widest = PlanText {
                    text: "00.".into(),
                    ..sized_text(&probe, size, b.line_height)
                };
                me.measure(&widest, path)?.width + 0.4 * f64::from(size)
            } else {
                1.2 * f64::from(size)
            };
            let mut list = Vec::new();
            let (mut height, mut width) = (0.0f64, 0.0f64);
            for (i, ((text, level, _), marker)) in items.iter().zip(&markers).enumerate() {
                let left = f64::from(*level) * indent + col;
                let body = PlanText {
                    text: text.clone(),
                    max_width: (max_width - left).max(f64::from(size)) as f32,
                    ..sized_text(&probe, size, b.line_height)
                };
                let m = me.measure(&body, &format!("{path}.items[{i}]"))?;
                let mark = match marker {
                    Some(s) => {
                        let mut t = PlanText {
                            text: s.clone(),
                            ..sized_text(&probe, size, b.line_height)
                        };
                        if let Some(c) = marker_color {
                            t.color = c;
                        }
                        let mm = me.measure(&t, &format!("{path}.items[{i}]"))?;
                        Some((t, mm))
                    }
                    None => None,
                };
                if i > 0 {
                    height += b.spacing * f64::from(size);
                }
                list.push(Item {
                    top: height,
                    level_x: f64::from(*level) * indent,
                    col,
                    body,
                    mark,
                });
                height += m.height;
                width = width.max(left + m.width);
            }
            Some((list, width, height))
        };
        let mut size = size0 as f32;
        let mut laid = match layout(self, size) {
            Some(l) => l,
            None => return,
        };
        if let Some(mh) = max_height {
            if laid.2 > mh + 0.5 {
                let small = match layout(self, min_size as f32) {
                    Some(l) => l,
                    None => return,
                };
                if small.2 > mh + 0.5 {
                    self.issue(
                        format!("{path}.items"),
                        format!(
                            "the list is {:.0} px tall at {min_size} px, {:.0} px more than \
                             max_height ({mh:.0} px); remove items, shorten them or lower min_size",
                            small.2,
                            small.2 - mh
                        ),
                    );
                    return;
                }
                let (mut lo, mut hi) = (min_size as f32, size);
                laid = small;
                while hi - lo > 0.25 {
                    let mid = (lo + hi) / 2.0;
                    let Some(l) = layout(self, mid) else { return };
                    if l.2 <= mh + 0.5 {
                        lo = mid;
                        laid = l;
                    } else {
                        hi = mid;
                    }
                }
                self.fits.push(TextFit {
                    path: path.to_string(),
                    size: size0,
                    fitted_size: f64::from(lo),
                    kept_chars: None,
                    chars: items.iter().map(|(t, _, _)| t.chars().count()).sum(),
                });
                size = lo;
            }
        }
        let _ = size;
        let (list, width, height) = laid;
        let (ax, ay) = b.anchor.fractions();
        let left = x - ax * width;
        let top = y - ay * height;
        for (i, it) in list.into_iter().enumerate() {
            let at = items[i]
                .2
                .map(|a| sc.fps.frame_at(a))
                .unwrap_or_else(|| common.start + sc.fps.frame_at(b.reveal * i as f64));
            if at >= common.end {
                self.issue(
                    format!("{path}.items[{i}]"),
                    format!(
                        "item {i} would appear at {:.2} s, after the list ends; lower reveal",
                        sc.fps.seconds(at)
                    ),
                );
                continue;
            }
            let c = common.starting_at(at);
            let item_path = format!("{path}.items[{i}]");
            let ty = top + it.top;
            if let Some((mark, mm)) = it.mark {
                let mx = if b.marker == Marker::Number {
                    left + it.level_x + it.col - 0.4 * f64::from(mark.size) - mm.width
                } else {
                    left + it.level_x + (it.col - mm.width) / 2.0 - 0.1 * f64::from(mark.size)
                };
                out.push(c.layer(
                    format!("{item_path}.marker"),
                    (mx, ty),
                    Anchor::TopLeft,
                    (x, y),
                    PlanLayerKind::Text(mark),
                    sc.fps,
                ));
            }
            let body = self.with_reveal(it.body, &c);
            out.push(c.layer(
                item_path,
                (left + it.level_x + it.col, ty),
                Anchor::TopLeft,
                (x, y),
                PlanLayerKind::Text(body),
                sc.fps,
            ));
        }
    }

    fn lower_third(
        &mut self,
        b: &LowerThirdLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let before = self.issues.len();
        let x = self.length(&b.x, &format!("{path}.x"), sc.w);
        let y = self.length(&b.y, &format!("{path}.y"), sc.h);
        let max_width = match &b.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => 0.6 * sc.w,
        };
        let title = self.styled(
            &b.title,
            &b.title_style,
            &format!("{path}.title_style"),
            (44.0 * sc.unit(), FontWeight::Bold, false, "#FFFFFF"),
            TextAlign::Left,
            max_width,
            1.2,
        );
        let subtitle = b.subtitle.as_ref().map(|s| {
            self.styled(
                s,
                &b.subtitle_style,
                &format!("{path}.subtitle_style"),
                (30.0 * sc.unit(), FontWeight::Normal, false, "#FFFFFFD9"),
                TextAlign::Left,
                max_width,
                1.25,
            )
        });
        let bar = self.color(&b.bar_color, &format!("{path}.bar_color"));
        let accent = self.color(&b.accent_color, &format!("{path}.accent_color"));
        let ts = f64::from(title.size);
        let pad = padding_of(b.padding, [0.4 * ts, 0.6 * ts]);
        if self.issues.len() != before {
            return;
        }
        let Some(mt) = self.measure(&title, &format!("{path}.title")) else {
            return;
        };
        let mut parts = vec![(mt, 0.0)];
        if let Some(s) = &subtitle {
            let Some(ms) = self.measure(s, &format!("{path}.subtitle")) else {
                return;
            };
            parts.push((ms, 0.15 * ts));
        }
        let accent_w = (0.14 * ts).max(4.0).round();
        let content_w = parts.iter().map(|(m, _)| m.width).fold(0.0, f64::max);
        let content_h: f64 = parts.iter().map(|(m, g)| m.height + g).sum();
        let bar_w = (accent_w + 2.0 * pad[1] + content_w).round();
        let bar_h = (content_h + 2.0 * pad[0]).round();
        let (ax, ay) = b.anchor.fractions();
        let left = x - ax * bar_w;
        let top = y - ay * bar_h;
        let offscreen = left + bar_w;
        let common = self.common(
            path,
            Timing::of(b.opacity, b.start, b.end, b.fade_in, b.fade_out),
            b.animate_in.as_ref(),
            b.animate_out.as_ref(),
            Some(slide(Edge::Left, offscreen, 0.6, Easing::CubicOut, false)),
            Some(slide(Edge::Left, offscreen, 0.5, Easing::CubicIn, false)),
            sc,
        );
        let Some(common) = common else { return };
        let pivot = (left, top + bar_h / 2.0);
        let rect = |w: f64, h: f64, fill: Rgba| {
            PlanLayerKind::Shape(PlanShape {
                width: w,
                height: h,
                fill,
                radius: 0.0,
                border: None,
            })
        };
        out.push(common.layer(
            format!("{path}.bar"),
            (left, top),
            Anchor::TopLeft,
            pivot,
            rect(bar_w, bar_h, bar),
            sc.fps,
        ));
        out.push(common.layer(
            format!("{path}.accent"),
            (left, top),
            Anchor::TopLeft,
            pivot,
            rect(accent_w, bar_h, accent),
            sc.fps,
        ));
        let pos = Self::stack(
            &parts,
            TextAlign::Left,
            (left + accent_w + pad[1], top + pad[0]),
            Anchor::TopLeft,
        );
        let mut texts = vec![(format!("{path}.title"), title)];
        if let Some(s) = subtitle {
            texts.push((format!("{path}.subtitle"), s));
        }
        for ((p, t), xy) in texts.into_iter().zip(pos) {
            let t = self.with_reveal(t, &common);
            out.push(common.layer(
                p,
                xy,
                Anchor::TopLeft,
                pivot,
                PlanLayerKind::Text(t),
                sc.fps,
            ));
        }
    }

    fn quote_block(&mut self, q: &QuoteLayer, path: &str, sc: &SceneCtx, out: &mut Vec<PlanLayer>) {
        let before = self.issues.len();
        let common = self.common(
            path,
            Timing::of(q.opacity, q.start, q.end, q.fade_in, q.fade_out),
            q.animate_in.as_ref(),
            q.animate_out.as_ref(),
            Some(effect_only(Effect::Fade, 0.8)),
            None,
            sc,
        );
        let x = self.length(&q.x, &format!("{path}.x"), sc.w);
        let y = self.length(&q.y, &format!("{path}.y"), sc.h);
        let max_width = match &q.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => 0.7 * sc.w,
        };
        let words = if q.marks {
            format!("\u{201C}{}\u{201D}", q.text.trim())
        } else {
            q.text.clone()
        };
        let mut style = q.style.clone();
        if style.font == "Noto Sans" {
            // The block's own default face; a font named explicitly wins.
            style.font = "DejaVu Serif".into();
        }
        let quote = self.styled(
            &words,
            &style,
            &format!("{path}.style"),
            (56.0 * sc.unit(), FontWeight::Normal, true, "#FFFFFF"),
            TextAlign::Center,
            max_width,
            1.3,
        );
        let attribution = q.attribution.as_ref().map(|a| {
            self.styled(
                &format!("\u{2014} {}", a.trim()),
                &q.attribution_style,
                &format!("{path}.attribution_style"),
                (34.0 * sc.unit(), FontWeight::Normal, false, "#FFFFFFCC"),
                TextAlign::Right,
                max_width,
                1.25,
            )
        });
        if self.issues.len() != before {
            return;
        }
        let Some(common) = common else { return };
        let Some(mq) = self.measure(&quote, &format!("{path}.text")) else {
            return;
        };
        let mut parts = vec![(mq, 0.0)];
        if let Some(a) = &attribution {
            let Some(ma) = self.measure(a, &format!("{path}.attribution")) else {
                return;
            };
            parts.push((ma, 0.5 * f64::from(quote.size)));
        }
        // The quote is centred; the attribution sits at the block's right edge.
        let centred = Self::stack(&parts, TextAlign::Center, (x, y), q.anchor);
        let right = Self::stack(&parts, TextAlign::Right, (x, y), q.anchor);
        let mut texts = vec![(format!("{path}.text"), quote, centred[0])];
        if let Some(a) = attribution {
            texts.push((format!("{path}.attribution"), a, right[1]));
        }
        for (p, t, xy) in texts {
            let t = self.with_reveal(t, &common);
            out.push(common.layer(
                p,
                xy,
                Anchor::TopLeft,
                (x, y),
                PlanLayerKind::Text(t),
                sc.fps,
            ));
        }
    }

    fn caption(&mut self, c: &CaptionLayer, path: &str, sc: &SceneCtx) -> Option<PlanLayer> {
        let before = self.issues.len();
        let common = self.common(
            path,
            Timing::of(c.opacity, c.start, c.end, c.fade_in, c.fade_out),
            c.animate_in.as_ref(),
            c.animate_out.as_ref(),
            None,
            None,
            sc,
        );
        let x = self.length(&c.x, &format!("{path}.x"), sc.w);
        let y = self.length(&c.y, &format!("{path}.y"), sc.h);
        let max_width = match &c.max_width {
            Some(m) => self.length(m, &format!("{path}.max_width"), sc.w),
            None => 0.8 * sc.w,
        };
        if !(1..=6).contains(&c.max_lines) {
            self.issue(
                format!("{path}.max_lines"),
                format!("max_lines {} is out of range (expected 1..=6)", c.max_lines),
            );
        }
        let background = self.color(&c.background, &format!("{path}.background"));
        let mut t = self.styled(
            &c.text,
            &c.style,
            &format!("{path}.style"),
            (40.0 * sc.unit(), FontWeight::Normal, false, "#FFFFFF"),
            TextAlign::Center,
            max_width,
            1.25,
        );
        if self.issues.len() != before {
            return None;
        }
        let common = common?;
        let s = f64::from(t.size);
        t.background = Some(background);
        t.padding = [(0.3 * s) as f32, (0.6 * s) as f32];
        t.radius = (0.25 * s) as f32;
        t.break_words = false;
        let max_height = f64::from(c.max_lines) * f64::from(t.line_height);
        let mut t = self.with_reveal(t, &common);
        self.fit(&mut t, path, Some(max_height), 0.8 * s, Overflow::Ellipsis)?;
        Some(common.layer(
            path.to_string(),
            (x, y),
            c.anchor,
            (x, y),
            PlanLayerKind::Text(t),
            sc.fps,
        ))
    }
}

/// One laid-out bullet.
struct Item {
    top: f64,
    level_x: f64,
    col: f64,
    body: PlanText,
    mark: Option<(PlanText, TextMeasure)>,
}

fn sized_text(probe: &PlanText, size: f32, line_height: f64) -> PlanText {
    PlanText {
        size,
        line_height: (f64::from(size) * line_height) as f32,
        ..probe.clone()
    }
}

/// The marker text of each item (`None` for no marker).
fn marker_texts(marker: Marker, items: &[(String, u32, Option<f64>)]) -> Vec<Option<String>> {
    let mut counters = [0u32; 5];
    items
        .iter()
        .map(|(_, level, _)| {
            let level = (*level).min(4) as usize;
            counters[level] += 1;
            for c in counters.iter_mut().skip(level + 1) {
                *c = 0;
            }
            let s = match marker {
                Marker::Disc => ["\u{2022}", "\u{25E6}", "\u{25AA}"][level.min(2)].to_string(),
                Marker::Dash => "\u{2013}".into(),
                Marker::Check => "\u{2713}".into(),
                Marker::Arrow => "\u{2192}".into(),
                Marker::Number => format!("{}.", counters[level]),
                Marker::None => return None,
            };
            Some(s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_units_skip_spaces_and_keep_marks_with_their_letter() {
        assert_eq!(reveal_bounds("ab c", RevealUnit::Char), vec![1, 2, 4]);
        assert_eq!(
            reveal_bounds("one two  three", RevealUnit::Word),
            vec![3, 7, 14]
        );
        // "नमस्ते": the virama and vowel sign join the consonant before them.
        let n = reveal_bounds("नमस्ते", RevealUnit::Char).len();
        assert_eq!(n, 4, "{n}");
    }

    #[test]
    fn markers_count_per_level() {
        let items = vec![
            ("a".to_string(), 0, None),
            ("b".to_string(), 1, None),
            ("c".to_string(), 1, None),
            ("d".to_string(), 0, None),
            ("e".to_string(), 1, None),
        ];
        let m: Vec<String> = marker_texts(Marker::Number, &items)
            .into_iter()
            .map(|s| s.unwrap_or_default())
            .collect();
        assert_eq!(m, vec!["1.", "1.", "2.", "2.", "1."]);
    }
}
