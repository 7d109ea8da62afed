//! Pixel buffers and the one blending rule everything uses.
//!
//! A [`Raster`] is 8-bit RGBA with *premultiplied* alpha: colour channels are already scaled by
//! alpha, so scaling and blending cannot create dark fringes around anti-aliased edges.
//! Frames are rasters whose alpha is 255 everywhere.

/// Premultiplied RGBA, row-major, no padding (`data.len() == width * height * 4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixels.
    pub data: Vec<u8>,
}

/// `x / 255` rounded, exact for `x <= 255 * 255`.
#[inline(always)]
pub fn div255(x: u32) -> u32 {
    (x + 128 + ((x + 128) >> 8)) >> 8
}

impl Raster {
    /// A transparent raster.
    pub fn new(width: u32, height: u32) -> Raster {
        Raster {
            width,
            height,
            data: vec![0; width as usize * height as usize * 4],
        }
    }

    /// A raster filled with one straight-alpha colour.
    pub fn filled(width: u32, height: u32, rgba: [u8; 4]) -> Raster {
        let mut r = Raster::new(width, height);
        r.fill(rgba);
        r
    }

    /// Fills with one straight-alpha colour.
    pub fn fill(&mut self, rgba: [u8; 4]) {
        let p = premultiply(rgba);
        for px in self.data.chunks_exact_mut(4) {
            px.copy_from_slice(&p);
        }
    }

    /// Wraps straight-alpha RGBA pixels, premultiplying them.
    pub fn from_straight(width: u32, height: u32, mut data: Vec<u8>) -> Raster {
        for px in data.chunks_exact_mut(4) {
            let p = premultiply([px[0], px[1], px[2], px[3]]);
            px.copy_from_slice(&p);
        }
        Raster {
            width,
            height,
            data,
        }
    }

    /// The premultiplied pixel at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }

    /// Draws `src` with its top-left corner at (`x`, `y`) over `self`, scaled by `opacity`
    /// (0..=1). Parts outside `self` are clipped.
    pub fn blend(&mut self, src: &Raster, x: i64, y: i64, opacity: f32) {
        let a = (opacity.clamp(0.0, 1.0) * 256.0).round() as u32;
        if a == 0 {
            return;
        }
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + i64::from(src.width)).min(i64::from(self.width));
        let y1 = (y + i64::from(src.height)).min(i64::from(self.height));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let n = (x1 - x0) as usize * 4;
        let dw = self.width as usize * 4;
        let sw = src.width as usize * 4;
        for row in y0..y1 {
            let d_off = row as usize * dw + x0 as usize * 4;
            let s_off = (row - y) as usize * sw + (x0 - x) as usize * 4;
            let d = &mut self.data[d_off..d_off + n];
            let s = &src.data[s_off..s_off + n];
            blend_row(d, s, a);
        }
    }
}

impl Raster {
    /// An anti-aliased rectangle `w`x`h` (fractional sizes cover partial pixels) with
    /// corners of `radius`, filled with `fill` and with an optional `border` (colour, width)
    /// along the inside of its edge. Colours are straight alpha.
    pub fn rounded_rect(
        w: f64,
        h: f64,
        radius: f64,
        fill: [u8; 4],
        border: Option<([u8; 4], f64)>,
    ) -> Raster {
        let (pw, ph) = (w.ceil().max(1.0) as u32, h.ceil().max(1.0) as u32);
        let r = radius.clamp(0.0, w.min(h) / 2.0);
        if border.is_none() && r == 0.0 && w.fract() == 0.0 && h.fract() == 0.0 && w >= 1.0 {
            // Every pixel centre is at least half a pixel inside: full coverage everywhere
            // (what the general path below computes, only faster: a progress bar's fill).
            return Raster::filled(pw, ph, fill);
        }
        let mut out = Raster::new(pw, ph);
        let fill = premultiply(fill).map(f64::from);
        let (bcol, bw) = border
            .map(|(c, bw)| (premultiply(c).map(f64::from), bw.clamp(0.0, w.min(h) / 2.0)))
            .unwrap_or(([0.0; 4], 0.0));
        // Coverage of a pixel centre by a rounded rectangle inset by `inset`.
        let coverage = |px: f64, py: f64, inset: f64| -> f64 {
            let (hw, hh) = (w / 2.0 - inset, h / 2.0 - inset);
            if hw <= 0.0 || hh <= 0.0 {
                return 0.0;
            }
            let rr = (r - inset).max(0.0).min(hw.min(hh));
            let qx = (px - w / 2.0).abs() - (hw - rr);
            let qy = (py - h / 2.0).abs() - (hh - rr);
            let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
            let d = outside + qx.max(qy).min(0.0) - rr;
            (0.5 - d).clamp(0.0, 1.0)
        };
        for y in 0..ph {
            for x in 0..pw {
                let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                let outer = coverage(px, py, 0.0);
                if outer <= 0.0 {
                    continue;
                }
                let inner = if bw > 0.0 {
                    coverage(px, py, bw).min(outer)
                } else {
                    outer
                };
                let o = ((y * pw + x) * 4) as usize;
                for c in 0..4 {
                    let v = fill[c] * inner + bcol[c] * (outer - inner);
                    out.data[o + c] = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        out
    }

    /// Draws `src` centred over `self` (clipped where it is larger).
    pub fn blend_centered(&mut self, src: &Raster) {
        self.blend(
            src,
            (i64::from(self.width) - i64::from(src.width)) / 2,
            (i64::from(self.height) - i64::from(src.height)) / 2,
            1.0,
        );
    }

    /// This raster resampled by `scale` (bilinear, on premultiplied pixels so edges stay
    /// clean). Used while a layer scales in or out.
    pub fn scaled(&self, scale: f64) -> Raster {
        let w = ((f64::from(self.width) * scale).round().max(1.0)) as u32;
        let h = ((f64::from(self.height) * scale).round().max(1.0)) as u32;
        let Some(buf) = image::RgbaImage::from_raw(self.width, self.height, self.data.clone())
        else {
            return Raster::new(w, h);
        };
        let out = image::imageops::resize(&buf, w, h, image::imageops::FilterType::Triangle);
        Raster {
            width: w,
            height: h,
            data: out.into_raw(),
        }
    }
}

/// Blends one row of premultiplied `src` over `dst` with extra opacity `a` in 0..=256.
#[inline]
fn blend_row(dst: &mut [u8], src: &[u8], a: u32) {
    // Eight pixels at a time: skipped when all are transparent, copied when all are opaque
    // (at full opacity), otherwise blended without a branch per pixel, which the compiler
    // turns into SIMD. The branch-free formula gives what the per-pixel one below does: a
    // transparent premultiplied pixel is all zeros, so it leaves `d` as it is, and an opaque
    // one at full opacity gives `s` exactly.
    let mut d8 = dst.chunks_exact_mut(32);
    let mut s8 = src.chunks_exact(32);
    for (d, s) in (&mut d8).zip(&mut s8) {
        let (mut any, mut all) = (false, true);
        for p in 0..8 {
            any |= s[p * 4 + 3] != 0;
            all &= s[p * 4 + 3] == 255;
        }
        if !any {
            continue;
        }
        if all && a == 256 {
            d.copy_from_slice(s);
            continue;
        }
        let mut inv = [0u32; 32];
        for (i, v) in inv.iter_mut().enumerate() {
            *v = 255 - ((u32::from(s[(i & !3) + 3]) * a + 128) >> 8);
        }
        for i in 0..32 {
            let v = ((u32::from(s[i]) * a + 128) >> 8) + div255(u32::from(d[i]) * inv[i]);
            d[i] = v.min(255) as u8;
        }
    }
    blend_pixels(d8.into_remainder(), s8.remainder(), a);
}

fn blend_pixels(dst: &mut [u8], src: &[u8], a: u32) {
    for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
        let sa_raw = u32::from(s[3]);
        if sa_raw == 0 {
            continue;
        }
        if a == 256 && sa_raw == 255 {
            d.copy_from_slice(s);
            continue;
        }
        let sa = (sa_raw * a + 128) >> 8;
        let inv = 255 - sa;
        for c in 0..3 {
            let v = ((u32::from(s[c]) * a + 128) >> 8) + div255(u32::from(d[c]) * inv);
            d[c] = v.min(255) as u8;
        }
        d[3] = (sa + div255(u32::from(d[3]) * inv)).min(255) as u8;
    }
}

/// Straight → premultiplied alpha.
#[inline]
pub fn premultiply(c: [u8; 4]) -> [u8; 4] {
    let a = u32::from(c[3]);
    [
        div255(u32::from(c[0]) * a) as u8,
        div255(u32::from(c[1]) * a) as u8,
        div255(u32::from(c[2]) * a) as u8,
        c[3],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_pixel_blending_matches_the_per_pixel_rule() {
        // Premultiplied sources of every kind (transparent, opaque, translucent runs and
        // mixes), every opacity step that matters, odd lengths for the remainder.
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        for len in [1usize, 7, 8, 9, 31, 64, 77] {
            for pattern in 0..4 {
                let src: Vec<u8> = (0..len)
                    .flat_map(|i| {
                        let alpha = match pattern {
                            0 => 0,
                            1 => 255,
                            2 => next(),
                            _ => [0, 255, next()][i % 3],
                        };
                        premultiply([next(), next(), next(), alpha])
                    })
                    .collect();
                let dst: Vec<u8> = (0..len * 4).map(|_| next()).collect();
                for a in [0u32, 1, 77, 128, 255, 256] {
                    let (mut x, mut y) = (dst.clone(), dst.clone());
                    blend_row(&mut x, &src, a);
                    blend_pixels(&mut y, &src, a);
                    assert_eq!(x, y, "len {len} pattern {pattern} a {a}");
                }
            }
        }
    }

    #[test]
    fn square_whole_pixel_rects_are_plain_fills() {
        for (w, h) in [(1.0, 1.0), (7.0, 3.0), (640.0, 8.0)] {
            let fast = Raster::rounded_rect(w, h, 0.0, [255, 200, 61, 180], None);
            assert_eq!(
                fast,
                Raster::rounded_rect(w, h, 1e-12, [255, 200, 61, 180], None)
            );
            assert_eq!(
                fast,
                Raster::filled(w as u32, h as u32, [255, 200, 61, 180])
            );
        }
    }

    #[test]
    fn div255_is_exact() {
        for x in 0..=(255u32 * 255) {
            assert_eq!(div255(x), (x as f64 / 255.0).round() as u32, "x={x}");
        }
    }

    #[test]
    fn blend_half_white_over_black() {
        let mut dst = Raster::filled(2, 1, [0, 0, 0, 255]);
        let src = Raster::filled(2, 1, [255, 255, 255, 255]);
        dst.blend(&src, 0, 0, 0.5);
        assert_eq!(dst.pixel(0, 0), [128, 128, 128, 255]);
    }

    #[test]
    fn blend_clips_and_keeps_opaque() {
        let mut dst = Raster::filled(4, 4, [10, 20, 30, 255]);
        let src = Raster::filled(4, 4, [200, 0, 0, 128]);
        dst.blend(&src, 2, -2, 1.0);
        assert_eq!(dst.pixel(0, 0), [10, 20, 30, 255]);
        let p = dst.pixel(3, 1);
        assert_eq!(p[3], 255);
        // 200*128/255 + 10*(127/255) = 100 + 5
        assert_eq!(p[0], 105);
        assert_eq!(dst.pixel(3, 2), [10, 20, 30, 255]);
    }

    #[test]
    fn rounded_rect_has_soft_corners_and_a_border() {
        let r = Raster::rounded_rect(
            40.0,
            20.0,
            8.0,
            [255, 0, 0, 255],
            Some(([0, 0, 255, 255], 2.0)),
        );
        assert_eq!((r.width, r.height), (40, 20));
        // The corner pixel is outside the rounded corner, the centre is the fill, the edge
        // is the border.
        assert_eq!(r.pixel(0, 0)[3], 0);
        assert_eq!(r.pixel(20, 10), [255, 0, 0, 255]);
        assert_eq!(r.pixel(20, 0), [0, 0, 255, 255]);
        let scaled = r.scaled(0.5);
        assert_eq!((scaled.width, scaled.height), (20, 10));
    }

    #[test]
    fn white_text_edge_has_no_dark_fringe() {
        // Half-covered white pixel over a mid grey must not go darker than the grey.
        let mut dst = Raster::filled(1, 1, [100, 100, 100, 255]);
        let src = Raster::from_straight(1, 1, vec![255, 255, 255, 128]);
        dst.blend(&src, 0, 0, 1.0);
        assert!(dst.pixel(0, 0)[0] > 100);
    }
}
