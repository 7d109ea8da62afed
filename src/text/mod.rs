//! Text: bundled fonts, shaping and wrapping (cosmic-text, which shapes with HarfRust and
//! falls back across fonts per script), and drawing into premultiplied rasters: the box
//! (fill, rounded corners, border), the drop shadow, the glyph outline, the glyphs.
//!
//! Fonts come only from the files bundled into the binary (`assets/fonts/`), never from the
//! machine, so a render looks the same everywhere. Latin, Greek and Cyrillic come from Noto
//! Sans (and DejaVu), Arabic, Hebrew, Devanagari and Thai from their Noto fonts, Japanese,
//! Chinese and Korean from a subset of Noto Sans CJK JP, emoji from a subset of Noto Color
//! Emoji; a string mixing them is shaped run by run with the right font for each.

use cosmic_text::{
    fontdb, Attrs, Buffer, Family, FontSystem, Metrics, Shaping, Style, SwashCache, SwashContent,
    Weight, Wrap,
};

use crate::base::raster::{div255, premultiply, Raster};
use crate::plan::{PlanShadow, PlanStroke, PlanText, Rgba, UserFonts};
use crate::spec::RevealUnit;
use crate::spec::{FontWeight, TextAlign};

macro_rules! font {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!("../../assets/fonts/", $path)) as &[u8],
        )
    };
}

/// Fonts compiled into the binary: (file under `assets/fonts/`, bytes).
pub const BUNDLED_FONTS: &[(&str, &[u8])] = &[
    font!("noto/NotoSans-Regular.ttf"),
    font!("noto/NotoSans-Bold.ttf"),
    font!("noto/NotoSans-Italic.ttf"),
    font!("noto/NotoSans-BoldItalic.ttf"),
    font!("noto/NotoSansArabic-Regular.ttf"),
    font!("noto/NotoSansArabic-Bold.ttf"),
    font!("noto/NotoSansHebrew-Regular.ttf"),
    font!("noto/NotoSansHebrew-Bold.ttf"),
    font!("noto/NotoSansDevanagari-Regular.ttf"),
    font!("noto/NotoSansDevanagari-Bold.ttf"),
    font!("noto/NotoSansThai-Regular.ttf"),
    font!("noto/NotoSansThai-Bold.ttf"),
    font!("noto/NotoSansCJKjp-Regular.otf"),
    font!("noto/NotoSansCJKjp-Bold.otf"),
    font!("noto/NotoColorEmoji.ttf"),
    font!("DejaVuSans.ttf"),
    font!("DejaVuSans-Bold.ttf"),
    font!("DejaVuSans-Oblique.ttf"),
    font!("DejaVuSans-BoldOblique.ttf"),
    font!("DejaVuSerif.ttf"),
    font!("DejaVuSerif-Bold.ttf"),
    font!("DejaVuSansMono.ttf"),
];

/// The colour emoji family.
const EMOJI_FAMILY: &str = "Noto Color Emoji";

/// Whether `c` is drawn as an emoji by default (Unicode `Emoji_Presentation`), for the
/// ranges the bundled emoji font covers.
fn emoji_by_default(c: char) -> bool {
    let u = c as u32;
    matches!(u,
        0x231A..=0x231B | 0x23E9..=0x23EC | 0x23F0 | 0x23F3 | 0x25FD..=0x25FE | 0x2614..=0x2615
        | 0x2648..=0x2653 | 0x267F | 0x2693 | 0x26A1 | 0x26AA..=0x26AB | 0x26BD..=0x26BE
        | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA | 0x26F2..=0x26F3 | 0x26F5 | 0x26FA
        | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728 | 0x274C | 0x274E | 0x2753..=0x2755
        | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55
        | 0x1F000..=0x1FAFF)
}

/// Splits `text` into runs that are emoji (emoji-presentation characters, anything followed
/// by U+FE0F, with their modifiers, joiners and keycaps) and runs that are not. The runs are
/// contiguous byte ranges covering the whole text.
fn emoji_spans(text: &str) -> Vec<(std::ops::Range<usize>, bool)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut is = vec![false; chars.len()];
    for i in 0..chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|p| p.1);
        let joined = matches!(c, '\u{FE0F}' | '\u{200D}' | '\u{20E3}')
            || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c);
        if joined {
            // Part of the emoji before it (a lone joiner stays with its text).
            is[i] = i > 0 && is[i - 1];
        } else {
            let after_joiner = i > 0 && chars[i - 1].1 == '\u{200D}' && is[i - 1];
            is[i] = next == Some('\u{FE0F}') || emoji_by_default(c) || after_joiner;
        }
    }
    let mut spans: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    for (k, &(at, c)) in chars.iter().enumerate() {
        let end = at + c.len_utf8();
        match spans.last_mut() {
            Some((r, e)) if *e == is[k] => r.end = end,
            _ => spans.push((at..end, is[k])),
        }
    }
    spans
}

/// Largest text block, in pixels per side.
pub const MAX_TEXT_SIDE: f32 = 16384.0;

/// Shapes, measures and draws text with the bundled fonts. Not thread-safe: one per thread.
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

fn font_db(user: &UserFonts) -> fontdb::Database {
    let mut db = fontdb::Database::new();
    for (_, bytes) in BUNDLED_FONTS {
        // Static bytes: the database parses them in place, nothing is copied.
        db.load_font_source(fontdb::Source::Binary(std::sync::Arc::new(*bytes)));
    }
    // A plan read back from JSON has its fonts loaded before rendering
    // (`resolve::fonts::load_plan`).
    for bytes in user.files.iter().filter_map(|f| f.bytes.clone()) {
        db.load_font_source(fontdb::Source::Binary(bytes));
    }
    db.set_sans_serif_family("Noto Sans");
    db.set_serif_family("DejaVu Serif");
    db.set_monospace_family("DejaVu Sans Mono");
    db
}

/// The font family names that specs may use, sorted.
pub fn font_families() -> Vec<String> {
    font_families_with(&UserFonts::default())
}

/// The bundled font families and those of `user`, sorted.
pub fn font_families_with(user: &UserFonts) -> Vec<String> {
    let db = font_db(user);
    let mut names: Vec<String> = db
        .faces()
        .filter_map(|f| f.families.first().map(|(n, _)| n.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// One glyph's pixels, placed in the text raster.
#[derive(Debug, Clone)]
struct GlyphImage {
    x: i32,
    y: i32,
    w: u32,
    h: u32,
    /// Byte offset in the text where the glyph's cluster starts (for typewriter reveals).
    start: usize,
    /// RGBA straight colour (emoji) rather than coverage.
    color: bool,
    data: Vec<u8>,
}

/// Laid-out text, ready to draw whole or partly revealed.
#[derive(Debug, Clone)]
pub struct TextDrawing {
    /// Raster width.
    pub width: u32,
    /// Raster height.
    pub height: u32,
    /// Where the box's top-left corner is inside the raster.
    pub pad: (i64, i64),
    /// Box width (text plus padding).
    pub box_width: f64,
    /// Box height (text plus padding).
    pub box_height: f64,
    /// Number of lines after wrapping.
    pub lines: usize,
    glyphs: Vec<GlyphImage>,
    color: Rgba,
    background: Option<Rgba>,
    radius: f32,
    border: Option<PlanStroke>,
    outline: Option<PlanStroke>,
    shadow: Option<PlanShadow>,
    bounds: Vec<usize>,
}

/// Byte offsets at which cosmic-text's lines start (it splits at `\n`, `\r\n` and `\r`).
fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 2;
                continue;
            }
            b'\n' | b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

impl TextEngine {
    /// Loads the bundled fonts.
    pub fn new() -> TextEngine {
        TextEngine::with_fonts(&UserFonts::default())
    }

    /// Loads the bundled fonts and `user`'s.
    pub fn with_fonts(user: &UserFonts) -> TextEngine {
        TextEngine {
            fonts: FontSystem::new_with_locale_and_db("en-US".into(), font_db(user)),
            cache: SwashCache::new(),
        }
    }

    /// Lays `t` out. A size or line height that is not a positive number is an error (the
    /// spec's checks report it too; cosmic-text would panic on it).
    fn shape(&mut self, t: &PlanText) -> Result<Buffer, TextError> {
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if !positive(t.size) || !positive(t.line_height) || t.max_width.is_nan() {
            return Err(TextError::Metrics {
                size: t.size,
                line_height: t.line_height,
                max_width: t.max_width,
            });
        }
        let metrics = Metrics::new(t.size, t.line_height);
        let mut buffer = Buffer::new(&mut self.fonts, metrics);
        buffer.set_wrap(if t.break_words {
            Wrap::WordOrGlyph
        } else {
            Wrap::Word
        });
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
        // Emoji go to the colour emoji font explicitly: by fallback alone, symbols such as
        // ⚠️ or ⚖️ would be drawn in monochrome from a text font that also has them.
        // The emoji font has one face: ask for it, whatever the text's weight and style.
        let emoji = attrs
            .clone()
            .family(Family::Name(EMOJI_FAMILY))
            .weight(Weight::NORMAL)
            .style(Style::Normal);
        let spans = emoji_spans(&t.text).into_iter().map(|(range, is_emoji)| {
            (
                &t.text[range],
                if is_emoji {
                    emoji.clone()
                } else {
                    attrs.clone()
                },
            )
        });
        buffer.set_rich_text(spans, &attrs, Shaping::Advanced, None);
        for line in buffer.lines.iter_mut() {
            line.set_align(Some(cosmic_text::Align::Left));
        }
        buffer.shape_until_scroll(&mut self.fonts, false);
        Ok(buffer)
    }

    /// Shapes and wraps `t` and says how big it is (without padding).
    ///
    /// # Errors
    /// [`TextError`]: the block exceeds [`MAX_TEXT_SIDE`] pixels on a side, or its metrics
    /// are not positive numbers.
    pub fn measure(&mut self, t: &PlanText) -> Result<TextMeasure, TextError> {
        let buffer = self.shape(t)?;
        measure_buffer(&buffer, t)
    }

    /// Shapes `t` and renders its glyphs, ready to draw with [`TextDrawing::render`].
    ///
    /// # Errors
    /// [`TextError`], as [`Self::measure`].
    pub fn layout(&mut self, t: &PlanText) -> Result<TextDrawing, TextError> {
        let buffer = self.shape(t)?;
        let m = measure_buffer(&buffer, t)?;
        let [pv, ph] = [f64::from(t.padding[0]), f64::from(t.padding[1])];
        let text_w = m.width.max(f64::from(t.min_box_width));
        let box_w = text_w + 2.0 * ph;
        let box_h = m.height + 2.0 * pv;
        let outline = t.outline.map_or(0.0, |o| o.width);
        let shadow = t
            .shadow
            .map_or(0.0, |s| s.x.abs().max(s.y.abs()) + 2.0 * s.blur);
        let border = t.border.map_or(0.0, |b| b.width);
        let pad =
            ((t.size * 0.5).ceil() + outline.ceil() + shadow.ceil() + border.ceil()) as i64 + 2;
        let width = (box_w.ceil() as i64 + 2 * pad).max(1) as u32;
        let height = (box_h.ceil() as i64 + 2 * pad).max(1) as u32;
        let align = match t.align {
            TextAlign::Left => 0.0,
            TextAlign::Center => 0.5,
            TextAlign::Right => 1.0,
        };
        let starts = line_starts(&t.text);
        let mut glyphs = Vec::new();
        for run in buffer.layout_runs() {
            let min_x = run.glyphs.iter().map(|g| g.x).fold(f32::INFINITY, f32::min);
            let min_x = if min_x.is_finite() { min_x } else { 0.0 };
            let dx = (text_w as f32 - run.line_w) * align + pad as f32 + ph as f32 - min_x;
            let line_start = starts.get(run.line_i).copied().unwrap_or(0);
            for glyph in run.glyphs {
                let pg = glyph.physical((dx, run.line_y + pad as f32 + pv as f32), 1.0);
                let Some(img) = self.cache.get_image(&mut self.fonts, pg.cache_key) else {
                    continue;
                };
                if img.placement.width == 0 || img.placement.height == 0 {
                    continue;
                }
                let color = match img.content {
                    SwashContent::Color => true,
                    SwashContent::Mask => false,
                    SwashContent::SubpixelMask => continue,
                };
                glyphs.push(GlyphImage {
                    x: pg.x + img.placement.left,
                    y: pg.y - img.placement.top,
                    w: img.placement.width,
                    h: img.placement.height,
                    start: line_start + glyph.start,
                    color,
                    data: img.data.clone(),
                });
            }
        }
        Ok(TextDrawing {
            width,
            height,
            pad: (pad, pad),
            box_width: box_w,
            box_height: box_h,
            lines: m.lines,
            glyphs,
            color: t.color,
            background: t.background,
            radius: t.radius,
            border: t.border,
            outline: t.outline,
            shadow: t.shadow,
            bounds: t
                .reveal
                .map(|u| reveal_bounds(&t.text, u))
                .unwrap_or_default(),
        })
    }
}

/// Text that cannot be laid out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The size, line height or width is not a positive number (the spec's checks report it
    /// too; cosmic-text would panic on it).
    #[error(
        "cannot lay out text of size {size} px, line height {line_height} px, width {max_width} px"
    )]
    Metrics {
        /// Font size, px.
        size: f32,
        /// Line height, px.
        line_height: f32,
        /// Wrapping width, px.
        max_width: f32,
    },
    /// The block exceeds [`MAX_TEXT_SIDE`] pixels on a side.
    #[error(
        "the text block is {width:.0}x{height:.0} px ({lines} lines), over the limit of \
         {MAX_TEXT_SIDE} px per side: shorten the text or reduce its size"
    )]
    TooLarge {
        /// Its width, px.
        width: f32,
        /// Its height, px.
        height: f32,
        /// Its lines.
        lines: usize,
    },
}

/// The size of shaped text, refused past [`MAX_TEXT_SIDE`].
fn measure_buffer(buffer: &Buffer, t: &PlanText) -> Result<TextMeasure, TextError> {
    let mut width = 0f32;
    let mut lines = 0usize;
    for run in buffer.layout_runs() {
        width = width.max(run.line_w);
        lines += 1;
    }
    let height = lines as f32 * t.line_height;
    if width > MAX_TEXT_SIDE || height > MAX_TEXT_SIDE {
        return Err(TextError::TooLarge {
            width,
            height,
            lines,
        });
    }
    Ok(TextMeasure {
        width: f64::from(width),
        height: f64::from(height),
        lines,
        overflow_x: f64::from((width - t.max_width).max(0.0)),
    })
}

impl TextDrawing {
    /// Number of typewriter units (0 when the text does not type itself).
    pub fn units(&self) -> usize {
        self.bounds.len()
    }

    /// Draws the box and the glyphs, all of them (`None`) or the first `reveal` units.
    pub fn render(&self, reveal: Option<u32>) -> Raster {
        let visible = |g: &GlyphImage| match reveal {
            None => true,
            Some(0) => false,
            Some(k) => self
                .bounds
                .get(k as usize - 1)
                .is_none_or(|&end| g.start < end),
        };
        let (w, h) = (self.width, self.height);
        let mut out = Raster::new(w, h);
        if self.background.is_some() || self.border.is_some() {
            let fill = self.background.unwrap_or([0, 0, 0, 0]);
            let rect = Raster::rounded_rect(
                self.box_width,
                self.box_height,
                f64::from(self.radius),
                fill,
                self.border.map(|b| (b.color, f64::from(b.width))),
            );
            out.blend(&rect, self.pad.0, self.pad.1, 1.0);
        }
        if self.outline.is_some() || self.shadow.is_some() {
            let mut cov = vec![0u8; w as usize * h as usize];
            for g in self.glyphs.iter().filter(|g| visible(g)) {
                add_coverage(&mut cov, w, h, g);
            }
            let outline = self.outline.map(|o| (o.color, dilate(&cov, w, h, o.width)));
            if let Some(s) = self.shadow {
                let src = outline.as_ref().map_or(&cov, |(_, m)| m);
                let blurred = box_blur(src, w, h, s.blur);
                over_mask(
                    &mut out,
                    &blurred,
                    s.color,
                    s.x.round() as i32,
                    s.y.round() as i32,
                );
            }
            if let Some((color, mask)) = &outline {
                over_mask(&mut out, mask, *color, 0, 0);
            }
        }
        for g in self.glyphs.iter().filter(|g| visible(g)) {
            draw_glyph(&mut out, g, self.color);
        }
        out
    }
}

/// Adds a glyph's coverage (or colour glyph's alpha) to a mask, saturating.
fn add_coverage(cov: &mut [u8], w: u32, h: u32, g: &GlyphImage) {
    for yy in 0..g.h as i32 {
        let py = g.y + yy;
        if py < 0 || py >= h as i32 {
            continue;
        }
        for xx in 0..g.w as i32 {
            let px = g.x + xx;
            if px < 0 || px >= w as i32 {
                continue;
            }
            let i = (yy * g.w as i32 + xx) as usize;
            let a = if g.color {
                g.data[i * 4 + 3]
            } else {
                g.data[i]
            };
            let c = &mut cov[py as usize * w as usize + px as usize];
            *c = c.saturating_add(a);
        }
    }
}

/// Draws one glyph over `out`: coverage in `color`, or its own colours.
fn draw_glyph(out: &mut Raster, g: &GlyphImage, color: Rgba) {
    let (w, h) = (out.width as i32, out.height as i32);
    let [cr, cg, cb, ca] = color;
    for yy in 0..g.h as i32 {
        let py = g.y + yy;
        if py < 0 || py >= h {
            continue;
        }
        for xx in 0..g.w as i32 {
            let px = g.x + xx;
            if px < 0 || px >= w {
                continue;
            }
            let i = (yy * g.w as i32 + xx) as usize;
            let src = if g.color {
                let c = &g.data[i * 4..i * 4 + 4];
                premultiply([c[0], c[1], c[2], c[3]]).map(u32::from)
            } else {
                let a = div255(u32::from(g.data[i]) * u32::from(ca));
                [
                    div255(u32::from(cr) * a),
                    div255(u32::from(cg) * a),
                    div255(u32::from(cb) * a),
                    a,
                ]
            };
            if src[3] == 0 {
                continue;
            }
            let o = ((py * w + px) * 4) as usize;
            over(&mut out.data[o..o + 4], src);
        }
    }
}

/// Premultiplied `src` over `d`.
#[inline]
fn over(d: &mut [u8], src: [u32; 4]) {
    let inv = 255 - src[3];
    for c in 0..4 {
        d[c] = (src[c] + div255(u32::from(d[c]) * inv)).min(255) as u8;
    }
}

/// Draws `mask` (same size as `out`) in `color`, shifted by (`dx`, `dy`).
fn over_mask(out: &mut Raster, mask: &[u8], color: Rgba, dx: i32, dy: i32) {
    let (w, h) = (out.width as i32, out.height as i32);
    let [cr, cg, cb, ca] = color;
    for y in 0..h {
        let sy = y - dy;
        if sy < 0 || sy >= h {
            continue;
        }
        for x in 0..w {
            let sx = x - dx;
            if sx < 0 || sx >= w {
                continue;
            }
            let m = mask[(sy * w + sx) as usize];
            if m == 0 {
                continue;
            }
            let a = div255(u32::from(m) * u32::from(ca));
            let src = [
                div255(u32::from(cr) * a),
                div255(u32::from(cg) * a),
                div255(u32::from(cb) * a),
                a,
            ];
            let o = ((y * w + x) * 4) as usize;
            over(&mut out.data[o..o + 4], src);
        }
    }
}

/// Grows a coverage mask by `radius` pixels in every direction (a disc-shaped maximum
/// filter), for glyph outlines.
fn dilate(mask: &[u8], w: u32, h: u32, radius: f32) -> Vec<u8> {
    let r = radius.round().max(1.0) as i32;
    let (w, h) = (w as i32, h as i32);
    // Horizontal maxima for every half-width the disc needs.
    let half_widths: Vec<i32> = (-r..=r)
        .map(|dy| (((r * r - dy * dy) as f32).sqrt()).floor() as i32)
        .collect();
    let mut rows: Vec<Option<Vec<u8>>> = vec![None; r as usize + 1];
    for &hw in &half_widths {
        if rows[hw as usize].is_some() {
            continue;
        }
        let mut out = vec![0u8; mask.len()];
        for y in 0..h {
            let row = &mask[(y * w) as usize..((y + 1) * w) as usize];
            let dst = &mut out[(y * w) as usize..((y + 1) * w) as usize];
            for x in 0..w {
                let lo = (x - hw).max(0) as usize;
                let hi = (x + hw).min(w - 1) as usize;
                dst[x as usize] = row[lo..=hi].iter().copied().max().unwrap_or(0);
            }
        }
        rows[hw as usize] = Some(out);
    }
    let mut out = vec![0u8; mask.len()];
    for (i, dy) in (-r..=r).enumerate() {
        let Some(src) = &rows[half_widths[i] as usize] else {
            continue;
        };
        for y in 0..h {
            let sy = y + dy;
            if sy < 0 || sy >= h {
                continue;
            }
            let s = &src[(sy * w) as usize..((sy + 1) * w) as usize];
            let d = &mut out[(y * w) as usize..((y + 1) * w) as usize];
            for (d, s) in d.iter_mut().zip(s) {
                *d = (*d).max(*s);
            }
        }
    }
    out
}

/// Approximates a Gaussian blur of radius `blur` with three box blurs.
fn box_blur(mask: &[u8], w: u32, h: u32, blur: f32) -> Vec<u8> {
    let r = (blur / 2.0).round() as usize;
    if r == 0 {
        return mask.to_vec();
    }
    let (w, h) = (w as usize, h as usize);
    let mut a: Vec<u32> = mask.iter().map(|&v| u32::from(v)).collect();
    let mut b = vec![0u32; a.len()];
    let pass =
        |src: &[u32], dst: &mut [u32], len: usize, count: usize, stride: usize, step: usize| {
            let n = (2 * r + 1) as u32;
            for line in 0..count {
                let base = line * stride;
                let at = |i: isize| -> u32 {
                    if i < 0 || i as usize >= len {
                        0
                    } else {
                        src[base + i as usize * step]
                    }
                };
                let mut sum: u32 = (-(r as isize)..=r as isize).map(at).sum();
                for i in 0..len {
                    dst[base + i * step] = (sum + n / 2) / n;
                    sum += at(i as isize + r as isize + 1);
                    sum -= at(i as isize - r as isize);
                }
            }
        };
    for _ in 0..3 {
        pass(&a, &mut b, w, h, w, 1);
        pass(&b, &mut a, h, w, 1, w);
    }
    a.into_iter().map(|v| v.min(255) as u8).collect()
}

/// The size of laid-out text (without padding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextMeasure {
    /// Width of the widest line, pixels.
    pub width: f64,
    /// Lines × line height, pixels.
    pub height: f64,
    /// Number of lines.
    pub lines: usize,
    /// How far the widest line passes the wrap width (a word too long for a line); 0 when
    /// every line fits.
    pub overflow_x: f64,
}

/// Byte offsets in `text` at which each typewriter unit ends: one per non-space character
/// (`char`) or per word (`word`). A glyph whose cluster starts before `bounds[k - 1]` is shown
/// when `k` units are revealed.
pub fn reveal_bounds(text: &str, unit: RevealUnit) -> Vec<usize> {
    let mut bounds = Vec::new();
    match unit {
        RevealUnit::Char => {
            for (i, c) in text.char_indices() {
                // Combining marks and joiners belong to the character before them.
                let joins = matches!(c, '\u{200D}' | '\u{FE0F}' | '\u{20E3}')
                    || ('\u{0300}'..='\u{036F}').contains(&c)
                    || ('\u{0900}'..='\u{0903}').contains(&c)
                    || ('\u{093A}'..='\u{094F}').contains(&c)
                    || ('\u{064B}'..='\u{065F}').contains(&c)
                    || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c);
                if c.is_whitespace() {
                    continue;
                }
                let end = i + c.len_utf8();
                if joins {
                    if let Some(last) = bounds.last_mut() {
                        *last = end;
                        continue;
                    }
                }
                bounds.push(end);
            }
        }
        RevealUnit::Word => {
            let mut in_word = false;
            for (i, c) in text.char_indices() {
                if c.is_whitespace() {
                    in_word = false;
                    continue;
                }
                let end = i + c.len_utf8();
                if in_word {
                    if let Some(last) = bounds.last_mut() {
                        *last = end;
                    }
                } else {
                    bounds.push(end);
                    in_word = true;
                }
            }
        }
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, max_width: f32) -> PlanText {
        PlanText {
            line_height: 40.0,
            ..PlanText::plain(s, "Noto Sans", 32.0, [255, 255, 255, 255], max_width)
        }
    }

    #[test]
    fn bundled_families_are_listed() {
        let f = font_families();
        for name in [
            "Noto Sans",
            "Noto Sans Arabic",
            "Noto Sans Devanagari",
            "Noto Sans CJK JP",
            "Noto Color Emoji",
            "DejaVu Sans",
            "DejaVu Serif",
        ] {
            assert!(f.contains(&name.to_string()), "{name} missing from {f:?}");
        }
    }

    #[test]
    fn wraps_within_max_width() {
        let mut e = TextEngine::new();
        let one = e
            .layout(&text("Lift with your legs, not your back", 2000.0))
            .expect("fits");
        assert_eq!(one.lines, 1);
        let wrapped = e
            .layout(&text("Lift with your legs, not your back", 250.0))
            .expect("fits");
        assert!(wrapped.lines >= 2, "{} lines", wrapped.lines);
        assert!(wrapped.box_width <= 250.0, "{}", wrapped.box_width);
        assert_eq!(wrapped.box_height, wrapped.lines as f64 * 40.0);
        // Something was drawn.
        let r = wrapped.render(None);
        assert!(r.data.chunks(4).any(|p| p[3] > 200));
    }

    #[test]
    fn long_words_overflow_unless_broken() {
        let mut e = TextEngine::new();
        let mut t = text("Supercalifragilistic", 100.0);
        t.break_words = false;
        let m = e.measure(&t).expect("measures");
        assert!(m.overflow_x > 50.0, "{m:?}");
        t.break_words = true;
        let m = e.measure(&t).expect("measures");
        assert_eq!(m.overflow_x, 0.0, "{m:?}");
        assert!(m.lines >= 2);
    }

    #[test]
    fn oversized_blocks_are_refused_before_allocation() {
        let mut e = TextEngine::new();
        let mut t = text(&"word ".repeat(3000), 200.0);
        t.size = 100.0;
        t.line_height = 125.0;
        let err = e.measure(&t).expect_err("too tall");
        assert!(err.to_string().contains("over the limit"), "{err}");
    }

    #[test]
    fn zero_sizes_are_errors_not_panics() {
        let mut e = TextEngine::new();
        for (size, line_height) in [(0.0, 40.0), (32.0, 0.0), (-1.0, 40.0), (f32::NAN, 40.0)] {
            let mut t = text("Title", 500.0);
            t.size = size;
            t.line_height = line_height;
            let err = e.measure(&t).expect_err("refused");
            assert!(err.to_string().contains("cannot lay out text"), "{err}");
            assert!(e.layout(&t).is_err());
        }
    }

    #[test]
    fn typewriter_reveals_a_prefix() {
        let mut e = TextEngine::new();
        let mut t = text("abc def", 2000.0);
        t.reveal = Some(crate::spec::RevealUnit::Char);
        let d = e.layout(&t).expect("fits");
        assert_eq!(d.units(), 6);
        let ink = |r: &Raster| r.data.chunks(4).map(|p| u64::from(p[3])).sum::<u64>();
        let none = ink(&d.render(Some(0)));
        let three = ink(&d.render(Some(3)));
        let all = ink(&d.render(None));
        assert_eq!(none, 0);
        assert!(three > 0 && three < all, "{three} {all}");
    }

    #[test]
    fn emoji_runs_include_their_selectors_and_joiners() {
        let t = "Warning \u{26A0}\u{FE0F} ok \u{1F469}\u{200D}\u{1F4BB}!";
        let spans: Vec<(&str, bool)> = emoji_spans(t)
            .into_iter()
            .map(|(r, e)| (&t[r], e))
            .collect();
        assert_eq!(
            spans,
            vec![
                ("Warning ", false),
                ("\u{26A0}\u{FE0F}", true),
                (" ok ", false),
                ("\u{1F469}\u{200D}\u{1F4BB}", true),
                ("!", false),
            ]
        );
        // A symbol without the selector stays text (bullet markers, arrows, ticks).
        assert!(emoji_spans("\u{2713} \u{25AA} \u{2192}")
            .iter()
            .all(|(_, e)| !e));
    }

    #[test]
    fn dilate_and_blur_spread_coverage() {
        let (w, h) = (9u32, 9u32);
        let mut m = vec![0u8; 81];
        m[4 * 9 + 4] = 255;
        let d = dilate(&m, w, h, 2.0);
        assert_eq!(d[4 * 9 + 6], 255);
        assert_eq!(d[4 * 9 + 7], 0);
        assert_eq!(d[2 * 9 + 4], 255);
        let b = box_blur(&d, w, h, 2.0);
        assert!(b[4 * 9 + 4] < 255 && b[4 * 9 + 8] > 0, "{b:?}");
    }
}
