//! The bullet list block: its values checked, laid out at a size, shrunk to fit `max_height`,
//! and its items placed one by one as they are revealed.

use super::blocks::{marker_texts, sized_text};
use super::*;

/// One laid-out item: where it sits in the block, its body text and its marker.
struct Item {
    top: f64,
    level_x: f64,
    col: f64,
    body: PlanText,
    /// The body's measured width.
    body_w: f64,
    mark: Option<(PlanText, TextMeasure)>,
}

/// A bullet list's values, checked.
struct Bullets<'a> {
    b: &'a BulletsLayer,
    path: &'a str,
    /// The anchor point, pixels.
    x: f64,
    y: f64,
    max_width: f64,
    max_height: Option<f64>,
    /// The size asked for, and the least it may shrink to.
    size0: f64,
    min_size: f64,
    marker_color: Option<Rgba>,
    /// Each item's text, level and time of appearing.
    items: Vec<(String, u32, Option<f64>)>,
    /// The style, at the full size, with no text.
    probe: PlanText,
}

/// A list laid out at one size: its items, width and height.
type Laid = (Vec<Item>, f64, f64);

impl Resolver<'_, '_> {
    pub(super) fn bullets_block(
        &mut self,
        b: &BulletsLayer,
        path: &str,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let before = self.issues.len();
        let common = self.common(
            path,
            b.base(),
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
        let list = self.bullets(b, path, sc);
        if self.issues.len() != before {
            return;
        }
        let Some(common) = common else { return };
        let markers = marker_texts(b.marker, &list.items);
        let Some(laid) = self.bullets_fit(&list, &markers) else {
            return;
        };
        self.bullets_place(&list, laid, &common, sc, out);
    }

    /// Checks a bullet list's values.
    fn bullets<'a>(&mut self, b: &'a BulletsLayer, path: &'a str, sc: &SceneCtx) -> Bullets<'a> {
        if b.items.is_empty() {
            self.issue(format!("{path}.items"), "no items (expected at least one)");
        }
        let x = self.length(&b.x, &format!("{path}.x"), sc.w);
        let y = self.length(&b.y, &format!("{path}.y"), sc.h);
        let max_width = self.max_width(b.max_width.as_ref(), path, sc, 0.8);
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
            if self.rtl() {
                TextAlign::Right
            } else {
                TextAlign::Left
            },
            max_width,
            b.line_height,
        );
        Bullets {
            b,
            path,
            x,
            y,
            max_width,
            max_height,
            size0,
            min_size,
            marker_color,
            items,
            probe,
        }
    }

    /// Lays the list out at `size`; `None` when a text cannot be measured (reported).
    fn bullets_layout(
        &mut self,
        l: &Bullets<'_>,
        markers: &[Option<String>],
        size: f32,
    ) -> Option<Laid> {
        let (b, path) = (l.b, l.path);
        let indent = b.indent.unwrap_or(1.6 * f64::from(size));
        let col = if b.marker == Marker::None {
            0.0
        } else if b.marker == Marker::Number {
            let widest = PlanText {
                text: "00.".into(),
                ..sized_text(&l.probe, size, b.line_height)
            };
            self.measure(&widest, path)?.width + 0.4 * f64::from(size)
        } else {
            1.2 * f64::from(size)
        };
        let mut list = Vec::new();
        let (mut height, mut width) = (0.0f64, 0.0f64);
        for (i, ((text, level, _), marker)) in l.items.iter().zip(markers).enumerate() {
            let left = f64::from(*level) * indent + col;
            let body = PlanText {
                text: text.clone(),
                max_width: (l.max_width - left).max(f64::from(size)) as f32,
                ..sized_text(&l.probe, size, b.line_height)
            };
            let m = self.measure(&body, &format!("{path}.items[{i}]"))?;
            let mark = match marker {
                Some(s) => {
                    let mut t = PlanText {
                        text: s.clone(),
                        ..sized_text(&l.probe, size, b.line_height)
                    };
                    if let Some(c) = l.marker_color {
                        t.color = c;
                    }
                    let mm = self.measure(&t, &format!("{path}.items[{i}]"))?;
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
                body_w: m.width,
                mark,
            });
            height += m.height;
            width = width.max(left + m.width);
        }
        Some((list, width, height))
    }

    /// Lays the list out at its size, or the largest size down to `min_size` at which it fits
    /// `max_height` (recorded as a fit); `None` when it cannot (reported).
    fn bullets_fit(&mut self, l: &Bullets<'_>, markers: &[Option<String>]) -> Option<Laid> {
        let size = l.size0 as f32;
        let mut laid = self.bullets_layout(l, markers, size)?;
        let Some(mh) = l.max_height else {
            return Some(laid);
        };
        if laid.2 <= mh + 0.5 {
            return Some(laid);
        }
        let min_size = l.min_size;
        let small = self.bullets_layout(l, markers, min_size as f32)?;
        if small.2 > mh + 0.5 {
            self.issue(
                format!("{}.items", l.path),
                format!(
                    "the list is {:.0} px tall at {min_size} px, {:.0} px more than \
                     max_height ({mh:.0} px); remove items, shorten them or lower min_size",
                    small.2,
                    small.2 - mh
                ),
            );
            return None;
        }
        let (mut lo, mut hi) = (min_size as f32, size);
        laid = small;
        while hi - lo > 0.25 {
            let mid = (lo + hi) / 2.0;
            let l2 = self.bullets_layout(l, markers, mid)?;
            if l2.2 <= mh + 0.5 {
                lo = mid;
                laid = l2;
            } else {
                hi = mid;
            }
        }
        self.fits.push(TextFit {
            path: l.path.to_string(),
            size: l.size0,
            fitted_size: f64::from(lo),
            kept_chars: None,
            chars: l.items.iter().map(|(t, _, _)| t.chars().count()).sum(),
        });
        Some(laid)
    }

    /// Places the laid-out items, each appearing at its time.
    fn bullets_place(
        &mut self,
        l: &Bullets<'_>,
        (list, width, height): Laid,
        common: &Common,
        sc: &SceneCtx,
        out: &mut Vec<PlanLayer>,
    ) {
        let (b, path, x, y) = (l.b, l.path, l.x, l.y);
        let (left, top) = b.anchor.top_left((x, y), (width, height));
        // Right to left: every item mirrored in the list's box (markers on the right).
        let rtl = self.rtl();
        let mirror = |px: f64, w: f64| if rtl { 2.0 * left + width - px - w } else { px };
        for (i, it) in list.into_iter().enumerate() {
            let at = l.items[i]
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
                    (mirror(mx, mm.width), ty),
                    Anchor::TopLeft,
                    (x, y),
                    PlanLayerKind::Text(mark),
                    sc.fps,
                ));
            }
            let body = self.with_reveal(it.body, &c);
            out.push(c.layer(
                item_path,
                (mirror(left + it.level_x + it.col, it.body_w), ty),
                Anchor::TopLeft,
                (x, y),
                PlanLayerKind::Text(body),
                sc.fps,
            ));
        }
    }
}
