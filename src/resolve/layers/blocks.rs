//! The slide blocks: title, bullets, lower third, quote and caption, each resolved into
//! primitive text and shape layers.

use super::*;

/// One laid-out bullet.
pub(super) fn sized_text(probe: &PlanText, size: f32, line_height: f64) -> PlanText {
    PlanText {
        size,
        line_height: (f64::from(size) * line_height) as f32,
        ..probe.clone()
    }
}

/// The marker text of each item (`None` for no marker).
pub(super) fn marker_texts(
    marker: Marker,
    items: &[(String, u32, Option<f64>)],
) -> Vec<Option<String>> {
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

impl Resolver<'_, '_> {
    /// Places a stack of measured texts as one block: returns each part's top-left corner.
    pub(super) fn stack(
        parts: &[(TextMeasure, f64)],
        align: TextAlign,
        (x, y): (f64, f64),
        anchor: Anchor,
    ) -> Vec<(f64, f64)> {
        let block_w = parts.iter().map(|(m, _)| m.width).fold(0.0, f64::max);
        let block_h: f64 = parts.iter().map(|(m, gap)| m.height + gap).sum();
        let (left, mut top) = anchor.top_left((x, y), (block_w, block_h));
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

    pub(super) fn title_block(
        &mut self,
        t: &TitleLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let (common, x, y) = self.opening(
            path,
            t.base(),
            Some(effect_only(Effect::Fade, 0.6)),
            None,
            sc,
        );
        let max_width = self.max_width(t.max_width.as_ref(), path, sc, 0.8);
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
        let second = subtitle.as_ref().map(|s| (s, format!("{path}.subtitle")));
        let Some(parts) = self.measure_parts((&title, format!("{path}.title")), second, gap) else {
            return;
        };
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

    /// Measures a block's main text and its optional second text, `gap` below it: the parts
    /// [`Resolver::stack`] places. `None` when a text cannot be measured (reported).
    fn measure_parts(
        &mut self,
        (main, main_path): (&PlanText, String),
        second: Option<(&PlanText, String)>,
        gap: f64,
    ) -> Option<Vec<(TextMeasure, f64)>> {
        let mut parts = vec![(self.measure(main, &main_path)?, 0.0)];
        if let Some((t, path)) = second {
            parts.push((self.measure(t, &path)?, gap));
        }
        Some(parts)
    }

    pub(super) fn with_reveal(&mut self, t: PlanText, c: &Common) -> PlanText {
        let reveal = c
            .anim_in
            .iter()
            .chain(&c.anim_out)
            .find(|a| a.effect == Effect::Typewriter)
            .map(|a| a.unit);
        PlanText { reveal, ..t }
    }

    pub(super) fn lower_third(
        &mut self,
        b: &LowerThirdLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let before = self.issues.len();
        let x = self.length(&b.x, &format!("{path}.x"), sc.w);
        let y = self.length(&b.y, &format!("{path}.y"), sc.h);
        let max_width = self.max_width(b.max_width.as_ref(), path, sc, 0.6);
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
        let second = subtitle.as_ref().map(|s| (s, format!("{path}.subtitle")));
        let Some(parts) = self.measure_parts((&title, format!("{path}.title")), second, 0.15 * ts)
        else {
            return;
        };
        let accent_w = (0.14 * ts).max(4.0).round();
        let content_w = parts.iter().map(|(m, _)| m.width).fold(0.0, f64::max);
        let content_h: f64 = parts.iter().map(|(m, g)| m.height + g).sum();
        let bar_w = (accent_w + 2.0 * pad[1] + content_w).round();
        let bar_h = (content_h + 2.0 * pad[0]).round();
        let (left, top) = b.anchor.top_left((x, y), (bar_w, bar_h));
        let offscreen = left + bar_w;
        let common = self.common(
            path,
            b.base(),
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

    pub(super) fn quote_block(
        &mut self,
        q: &QuoteLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let before = self.issues.len();
        let (common, x, y) = self.opening(
            path,
            q.base(),
            Some(effect_only(Effect::Fade, 0.8)),
            None,
            sc,
        );
        let max_width = self.max_width(q.max_width.as_ref(), path, sc, 0.7);
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
        let second = attribution
            .as_ref()
            .map(|s| (s, format!("{path}.attribution")));
        let Some(parts) = self.measure_parts(
            (&quote, format!("{path}.text")),
            second,
            0.5 * f64::from(quote.size),
        ) else {
            return;
        };
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

    pub(super) fn caption(
        &mut self,
        c: &CaptionLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let before = self.issues.len();
        let (common, x, y) = self.opening(path, c.base(), None, None, sc);
        let max_width = self.max_width(c.max_width.as_ref(), path, sc, 0.8);
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
