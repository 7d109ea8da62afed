//! Text: bundled fonts, shaping and wrapping (cosmic-text, which shapes with HarfRust), and
//! rasterization into premultiplied rasters.
//!
//! Fonts come only from the files bundled into the binary (`assets/fonts/`), never from the
//! machine, so a render looks the same everywhere.

use cosmic_text::{
    fontdb, Attrs, Buffer, Family, FontSystem, Metrics, Shaping, Style, SwashCache, SwashContent,
    Weight, Wrap,
};

use crate::raster::{div255, Raster};
use crate::spec::{FontWeight, TextAlign};
use crate::timeline::PlanText;

/// Fonts compiled into the binary: (file name, bytes).
pub const BUNDLED_FONTS: &[(&str, &[u8])] = &[
    (
        "DejaVuSans.ttf",
        include_bytes!("../assets/fonts/DejaVuSans.ttf"),
    ),
    (
        "DejaVuSans-Bold.ttf",
        include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf"),
    ),
    (
        "DejaVuSans-Oblique.ttf",
        include_bytes!("../assets/fonts/DejaVuSans-Oblique.ttf"),
    ),
    (
        "DejaVuSans-BoldOblique.ttf",
        include_bytes!("../assets/fonts/DejaVuSans-BoldOblique.ttf"),
    ),
    (
        "DejaVuSerif.ttf",
        include_bytes!("../assets/fonts/DejaVuSerif.ttf"),
    ),
    (
        "DejaVuSerif-Bold.ttf",
        include_bytes!("../assets/fonts/DejaVuSerif-Bold.ttf"),
    ),
    (
        "DejaVuSansMono.ttf",
        include_bytes!("../assets/fonts/DejaVuSansMono.ttf"),
    ),
];

/// Largest text block, in pixels per side.
pub const MAX_TEXT_SIDE: f32 = 16384.0;

/// A laid-out, rasterized text block.
#[derive(Debug, Clone)]
pub struct TextRaster {
    /// The pixels (premultiplied), including `pad` pixels around the logical box for glyph
    /// overhang.
    pub raster: Raster,
    /// Logical box width (longest line).
    pub box_width: f64,
    /// Logical box height (lines × line height).
    pub box_height: f64,
    /// Where the logical box's top-left corner is inside `raster`.
    pub pad: (i64, i64),
    /// Number of lines after wrapping.
    pub lines: usize,
}

/// Shapes and rasterizes text with the bundled fonts. Not thread-safe: one per thread.
pub struct TextEngine {
    fonts: FontSystem,
    cache: SwashCache,
}

impl Default for TextEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TextEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEngine").finish_non_exhaustive()
    }
}

fn bundled_db() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    for (_, bytes) in BUNDLED_FONTS {
        db.load_font_data(bytes.to_vec());
    }
    db.set_sans_serif_family("DejaVu Sans");
    db.set_serif_family("DejaVu Serif");
    db.set_monospace_family("DejaVu Sans Mono");
    db
}

/// The font family names that specs may use, sorted.
pub fn font_families() -> Vec<String> {
    let db = bundled_db();
    let mut names: Vec<String> = db
        .faces()
        .filter_map(|f| f.families.first().map(|(n, _)| n.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

impl TextEngine {
    /// Loads the bundled fonts.
    pub fn new() -> TextEngine {
        TextEngine {
            fonts: FontSystem::new_with_locale_and_db("en-US".into(), bundled_db()),
            cache: SwashCache::new(),
        }
    }

    /// Lays out `t` (wrapping at `t.max_width`) and rasterizes it.
    ///
    /// # Errors
    /// A message if the laid-out block exceeds [`MAX_TEXT_SIDE`] pixels on a side.
    pub fn rasterize(&mut self, t: &PlanText) -> Result<TextRaster, String> {
        let metrics = Metrics::new(t.size, t.line_height);
        let mut buffer = Buffer::new(&mut self.fonts, metrics);
        buffer.set_wrap(Wrap::WordOrGlyph);
        buffer.set_size(Some(t.max_width), None);
        let attrs = Attrs::new()
            .family(Family::Name(&t.family))
            .weight(match t.weight {
                FontWeight::Normal => Weight::NORMAL,
                FontWeight::Bold => Weight::BOLD,
            })
            .style(if t.italic {
                Style::Italic
            } else {
                Style::Normal
            });
        buffer.set_text(&t.text, &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.fonts, false);

        let mut box_w = 0f32;
        let mut lines = 0usize;
        for run in buffer.layout_runs() {
            box_w = box_w.max(run.line_w);
            lines += 1;
        }
        let box_h = lines as f32 * t.line_height;
        if box_w > MAX_TEXT_SIDE || box_h > MAX_TEXT_SIDE {
            return Err(format!(
                "the text block is {:.0}x{:.0} px ({lines} lines), over the limit of {MAX_TEXT_SIDE} px \
                 per side: shorten the text or reduce its size",
                box_w, box_h
            ));
        }
        let pad = (t.size * 0.5).ceil() as i64 + 2;
        let width = (box_w.ceil() as i64 + 2 * pad).max(1) as u32;
        let height = (box_h.ceil() as i64 + 2 * pad).max(1) as u32;
        let mut raster = Raster::new(width, height);
        let align = match t.align {
            TextAlign::Left => 0.0,
            TextAlign::Center => 0.5,
            TextAlign::Right => 1.0,
        };
        let [cr, cg, cb, ca] = t.color;
        for run in buffer.layout_runs() {
            let dx = (box_w - run.line_w) * align + pad as f32;
            for glyph in run.glyphs {
                let pg = glyph.physical((dx, run.line_y + pad as f32), 1.0);
                let Some(img) = self.cache.get_image(&mut self.fonts, pg.cache_key) else {
                    continue;
                };
                let gx = pg.x + img.placement.left;
                let gy = pg.y - img.placement.top;
                let (gw, gh) = (img.placement.width as i32, img.placement.height as i32);
                for yy in 0..gh {
                    let py = gy + yy;
                    if py < 0 || py >= height as i32 {
                        continue;
                    }
                    for xx in 0..gw {
                        let px = gx + xx;
                        if px < 0 || px >= width as i32 {
                            continue;
                        }
                        let i = (yy * gw + xx) as usize;
                        // Premultiplied source pixel for this glyph sample.
                        let src = match img.content {
                            SwashContent::Color => {
                                let c = &img.data[i * 4..i * 4 + 4];
                                let a = u32::from(c[3]);
                                [
                                    div255(u32::from(c[0]) * a),
                                    div255(u32::from(c[1]) * a),
                                    div255(u32::from(c[2]) * a),
                                    a,
                                ]
                            }
                            _ => {
                                let cov = u32::from(img.data[i]);
                                let a = div255(cov * u32::from(ca));
                                [
                                    div255(u32::from(cr) * a),
                                    div255(u32::from(cg) * a),
                                    div255(u32::from(cb) * a),
                                    a,
                                ]
                            }
                        };
                        if src[3] == 0 {
                            continue;
                        }
                        let o = ((py as u32 * width + px as u32) * 4) as usize;
                        let d = &mut raster.data[o..o + 4];
                        let inv = 255 - src[3];
                        for c in 0..4 {
                            d[c] = (src[c] + div255(u32::from(d[c]) * inv)).min(255) as u8;
                        }
                    }
                }
            }
        }
        Ok(TextRaster {
            raster,
            box_width: f64::from(box_w),
            box_height: f64::from(box_h),
            pad: (pad, pad),
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, max_width: f32) -> PlanText {
        PlanText {
            text: s.into(),
            family: "DejaVu Sans".into(),
            size: 32.0,
            weight: FontWeight::Normal,
            italic: false,
            color: [255, 255, 255, 255],
            align: TextAlign::Left,
            max_width,
            line_height: 40.0,
        }
    }

    #[test]
    fn bundled_families_are_listed() {
        let f = font_families();
        assert!(f.contains(&"DejaVu Sans".to_string()), "{f:?}");
        assert!(f.contains(&"DejaVu Serif".to_string()), "{f:?}");
    }

    #[test]
    fn wraps_within_max_width() {
        let mut e = TextEngine::new();
        let one = e
            .rasterize(&text("Lift with your legs, not your back", 2000.0))
            .expect("fits");
        assert_eq!(one.lines, 1);
        let wrapped = e
            .rasterize(&text("Lift with your legs, not your back", 250.0))
            .expect("fits");
        assert!(wrapped.lines >= 2, "{} lines", wrapped.lines);
        assert!(wrapped.box_width <= 250.0, "{}", wrapped.box_width);
        assert_eq!(wrapped.box_height, wrapped.lines as f64 * 40.0);
        // Something was drawn.
        assert!(wrapped.raster.data.chunks(4).any(|p| p[3] > 200));
    }

    #[test]
    fn oversized_blocks_are_refused_before_allocation() {
        let mut e = TextEngine::new();
        let mut t = text(&"word ".repeat(3000), 200.0);
        t.size = 100.0;
        t.line_height = 125.0;
        let err = e.rasterize(&t).expect_err("too tall");
        assert!(err.contains("over the limit"), "{err}");
    }
}
