//! Text: fonts, strokes, shadows, styles, measuring and fitting, and the text layer.

use super::*;

impl Resolver<'_, '_> {
    pub(super) fn family(&mut self, font: &str, path: &str) -> String {
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

    pub(super) fn stroke(&mut self, s: &Stroke, path: &str) -> PlanStroke {
        self.in_range(&format!("{path}.width"), "width", s.width, 0.5, 50.0, "px");
        PlanStroke {
            color: self.color(&s.color, &format!("{path}.color")),
            width: s.width as f32,
        }
    }

    pub(super) fn shadow(&mut self, s: &Shadow, path: &str) -> PlanShadow {
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

    pub(super) fn text_chars(&mut self, text: &str, path: &str) {
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
    pub(super) fn styled(
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

    pub(super) fn measure(&mut self, t: &PlanText, path: &str) -> Option<TextMeasure> {
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
    pub(super) fn fit(
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

    pub(super) fn text_layer(
        &mut self,
        t: &TextLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let before = self.issues.len();
        let (common, x, y) = self.opening(path, t.base(), None, None, sc);
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
        let max_width = self.max_width(t.max_width.as_ref(), path, sc, 0.9);
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
}
