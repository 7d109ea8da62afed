//! Motion: Ken Burns moves (sub-pixel crops resampled with SIMD by `fast_image_resize`) and
//! scene transitions (mixing the outgoing and incoming frames).
//!
//! A moving picture is downscaled once (Lanczos) to the size its largest zoom needs; each
//! frame then resamples a fractional crop of that, so the view drifts smoothly without the
//! 1-pixel jitter of whole-pixel crops and without resampling a 24-megapixel photo per frame.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::base::raster::{premultiply, Raster};
use crate::plan::{PlanMotion, Rgba};
use crate::spec::{TransitionKind, Viewport};

/// Resamples the region `crop` = (left, top, width, height) of `src` (fractional pixels) to
/// fill `dst`. Premultiplied in, premultiplied out. `sharp` uses Lanczos3 (for one-off
/// downscales), otherwise bilinear convolution (per-frame moves).
pub fn resample(src: &Raster, crop: (f64, f64, f64, f64), dst: &mut Raster, sharp: bool) {
    if src.width == 0 || src.height == 0 || dst.width == 0 || dst.height == 0 {
        return;
    }
    let Ok(view) = ImageRef::new(src.width, src.height, &src.data, PixelType::U8x4) else {
        return;
    };
    let Ok(mut out) = Image::from_slice_u8(dst.width, dst.height, &mut dst.data, PixelType::U8x4)
    else {
        return;
    };
    let filter = if sharp {
        FilterType::Lanczos3
    } else {
        FilterType::Bilinear
    };
    let (l, t, w, h) = crop;
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(filter))
        .use_alpha(false)
        .crop(l, t, w.max(1e-3), h.max(1e-3));
    // Errors here mean inconsistent sizes, which the callers rule out; leave dst as it is.
    if sharp {
        // One-off downscales of whole photos: a fresh resizer, so that its large scratch
        // buffer is freed at once.
        let _ = Resizer::new().resize(&view, &mut out, &opts);
    } else {
        // Per-frame moves: each thread keeps its resizer, whose scratch buffer (the crop's
        // rows at the output width, ~10 MB at 1080p) would otherwise be allocated, zeroed
        // and freed again for every frame. Compose threads belong to the render's own pool,
        // so the buffers go when the render ends.
        FRAME_RESIZER.with(|r| {
            let _ = r.borrow_mut().resize(&view, &mut out, &opts);
        });
    }
}

thread_local! {
    /// The resizer of per-frame resampling on this thread (see [`resample`]).
    static FRAME_RESIZER: std::cell::RefCell<Resizer> = std::cell::RefCell::new(Resizer::new());
}

/// `src` resized to `w`x`h` (Lanczos3).
pub fn resized(src: &Raster, w: u32, h: u32) -> Raster {
    resized_with(src, w, h, true)
}

/// `src` resized to `w`x`h`: Lanczos3 when `sharp`, else bilinear (per-frame work).
fn resized_with(src: &Raster, w: u32, h: u32, sharp: bool) -> Raster {
    let mut out = Raster::new(w.max(1), h.max(1));
    resample(
        src,
        (0.0, 0.0, f64::from(src.width), f64::from(src.height)),
        &mut out,
        sharp,
    );
    out
}

/// A picture moving inside a box: the downscaled source and the move.
#[derive(Debug, Clone)]
pub struct MotionSource {
    src: Raster,
    motion: PlanMotion,
    /// Box width, pixels.
    pub width: u32,
    /// Box height, pixels.
    pub height: u32,
}

impl MotionSource {
    /// Prepares `img` to move inside a `width`x`height` box: downscaled once, so that at the
    /// move's largest zoom one source pixel still covers at most one output pixel.
    pub fn new(img: &Raster, width: u32, height: u32, motion: PlanMotion) -> MotionSource {
        let (iw, ih) = (f64::from(img.width), f64::from(img.height));
        let cover = (f64::from(width) / iw).max(f64::from(height) / ih);
        let needed = cover * motion.max_zoom();
        let src = if needed < 1.0 {
            resized(
                img,
                (iw * needed).ceil() as u32,
                (ih * needed).ceil() as u32,
            )
        } else {
            img.clone()
        };
        MotionSource {
            src,
            motion,
            width: width.max(1),
            height: height.max(1),
        }
    }

    /// The source crop shown at `vp`: the box's aspect, `cover` times `zoom`, centred on
    /// (`x`, `y`) and kept inside the picture.
    pub fn crop(&self, vp: Viewport) -> (f64, f64, f64, f64) {
        let (iw, ih) = (f64::from(self.src.width), f64::from(self.src.height));
        let (bw, bh) = (f64::from(self.width), f64::from(self.height));
        let scale = (bw / iw).max(bh / ih) * vp.zoom.max(1.0);
        let (cw, ch) = ((bw / scale).min(iw), (bh / scale).min(ih));
        let left = (vp.x * iw - cw / 2.0).clamp(0.0, iw - cw);
        let top = (vp.y * ih - ch / 2.0).clamp(0.0, ih - ch);
        (left, top, cw, ch)
    }

    /// Draws scene-relative `frame` of the move into `out` (resized to the box if needed).
    pub fn render_into(&self, frame: u64, out: &mut Raster) {
        if out.width != self.width || out.height != self.height {
            *out = Raster::new(self.width, self.height);
        }
        resample(
            &self.src,
            self.crop(self.motion.viewport(frame)),
            out,
            false,
        );
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.src.data.len() as u64
    }
}

/// A blurred, darkened `cover` of `img` at `w`x`h`: the fill behind `contain_blur`.
pub fn blurred_cover(img: &Raster, w: u32, h: u32) -> Raster {
    // Shrinking to 1/24 and back with a smooth filter is a wide, cheap blur.
    let (iw, ih) = (f64::from(img.width), f64::from(img.height));
    let (sw, sh) = ((w / 24).max(2), (h / 24).max(2));
    let scale = (f64::from(w) / iw).max(f64::from(h) / ih);
    let (cw, ch) = (f64::from(w) / scale, f64::from(h) / scale);
    let mut small = Raster::new(sw, sh);
    resample(
        img,
        ((iw - cw) / 2.0, (ih - ch) / 2.0, cw, ch),
        &mut small,
        false,
    );
    let mut out = Raster::new(w, h);
    let Ok(view) = ImageRef::new(sw, sh, &small.data, PixelType::U8x4) else {
        return out;
    };
    if let Ok(mut dst) = Image::from_slice_u8(w, h, &mut out.data, PixelType::U8x4) {
        let opts = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Gaussian))
            .use_alpha(false);
        let _ = Resizer::new().resize(&view, &mut dst, &opts);
    }
    for px in out.data.chunks_exact_mut(4) {
        for c in &mut px[..3] {
            *c = (u32::from(*c) * 140 / 255) as u8;
        }
        px[3] = 255;
    }
    out
}

/// Mixes two opaque frames of the same size: `from` (the outgoing scene; used as scratch) and
/// `into` (the incoming one, which receives the result) at eased progress `p` (0 = all
/// `from`, 1 = all `into`). No full-frame buffer is allocated.
pub fn transition(kind: TransitionKind, p: f64, color: Rgba, from: &mut Raster, into: &mut Raster) {
    use TransitionKind as K;
    let (w, h) = (into.width as usize, into.height as usize);
    if from.width != into.width || from.height != into.height {
        return;
    }
    let p = p.clamp(0.0, 1.0);
    match kind {
        K::Crossfade => mix_all(from, into, p),
        K::Fade => {
            let c = premultiply(color);
            if p < 0.5 {
                // Out to the colour: `from` towards it.
                let a = (p * 2.0).clamp(0.0, 1.0);
                let wa = (a * 256.0).round() as u32;
                for (d, s) in into.data.chunks_exact_mut(4).zip(from.data.chunks_exact(4)) {
                    for i in 0..3 {
                        d[i] = lerp(s[i], c[i], wa);
                    }
                    d[3] = 255;
                }
            } else {
                let a = ((1.0 - p) * 2.0).clamp(0.0, 1.0);
                let wa = (a * 256.0).round() as u32;
                for d in into.data.chunks_exact_mut(4) {
                    for i in 0..3 {
                        d[i] = lerp(d[i], c[i], wa);
                    }
                }
            }
        }
        K::WipeLeft | K::WipeRight | K::WipeUp | K::WipeDown => {
            // The edge between old and new, softened over 1% of the side.
            let horizontal = matches!(kind, K::WipeLeft | K::WipeRight);
            let side = if horizontal { w } else { h } as f64;
            let soft = (side * 0.01).max(1.0);
            let edge = p * (side + soft) - soft / 2.0;
            for y in 0..h {
                for x in 0..w {
                    let pos = if horizontal { x } else { y } as f64 + 0.5;
                    // Distance into the revealed side.
                    let d = match kind {
                        K::WipeLeft => pos - (side - edge),
                        K::WipeRight => edge - pos,
                        K::WipeUp => pos - (side - edge),
                        _ => edge - pos,
                    };
                    let a = (d / soft + 0.5).clamp(0.0, 1.0);
                    mix_px(from, into, x, y, w, a);
                }
            }
        }
        K::SlideLeft | K::SlideRight | K::SlideUp | K::SlideDown => {
            // The new scene over the old one, offset; the result ends up in `into`.
            let (dx, dy) = offsets(kind, 1.0 - p, w, h);
            from.blend(into, dx, dy, 1.0);
            std::mem::swap(from, into);
        }
        K::PushLeft | K::PushRight | K::PushUp | K::PushDown => {
            let (dx, dy) = offsets(kind, 1.0 - p, w, h);
            let (fx, fy) = offsets(kind, -p, w, h);
            shift(from, fx, fy);
            from.blend(into, dx, dy, 1.0);
            std::mem::swap(from, into);
        }
        K::Zoom => {
            // The new scene grows from 60% while fading in.
            let s = 0.6 + 0.4 * p;
            let (sw, sh) = ((w as f64 * s).round() as u32, (h as f64 * s).round() as u32);
            let small = resized_with(into, sw, sh, false);
            into.data.copy_from_slice(&from.data);
            into.blend(
                &small,
                ((w as i64) - i64::from(sw)) / 2,
                ((h as i64) - i64::from(sh)) / 2,
                p as f32,
            );
        }
        K::Circle => {
            let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
            let r = p * cx.hypot(cy);
            for y in 0..h {
                for x in 0..w {
                    let d = r - (x as f64 + 0.5 - cx).hypot(y as f64 + 0.5 - cy);
                    let a = (d + 0.5).clamp(0.0, 1.0);
                    mix_px(from, into, x, y, w, a);
                }
            }
        }
        K::Dissolve => {
            // A fixed pseudo-random threshold per pixel, with a narrow soft band.
            let band = 0.08;
            let edge = p * (1.0 + band);
            for y in 0..h {
                for x in 0..w {
                    let t = hash(x as u32, y as u32);
                    let a = ((edge - t) / band).clamp(0.0, 1.0);
                    mix_px(from, into, x, y, w, a);
                }
            }
        }
    }
}

/// Moves an opaque frame's pixels by (`dx`, `dy`) in place; uncovered pixels turn black.
fn shift(r: &mut Raster, dx: i64, dy: i64) {
    let (w, h) = (i64::from(r.width), i64::from(r.height));
    let row = w as usize * 4;
    // Rows: walk in the direction that never overwrites a row still to be read.
    let ys: Vec<i64> = if dy > 0 {
        (0..h).rev().collect()
    } else {
        (0..h).collect()
    };
    for y in ys {
        let sy = y - dy;
        let dst = y as usize * row;
        if sy < 0 || sy >= h || dx.abs() >= w {
            r.data[dst..dst + row].fill(0);
        } else {
            let src = sy as usize * row;
            r.data.copy_within(src..src + row, dst);
            let d = &mut r.data[dst..dst + row];
            let n = dx.unsigned_abs() as usize * 4;
            if dx > 0 {
                d.copy_within(0..row - n, n);
                d[..n].fill(0);
            } else if dx < 0 {
                d.copy_within(n..row, 0);
                d[row - n..].fill(0);
            }
        }
        for px in r.data[dst..dst + row].chunks_exact_mut(4) {
            px[3] = 255;
        }
    }
}

/// Whole-frame offsets of a slide or push at `amount` (1 = one frame away).
fn offsets(kind: TransitionKind, amount: f64, w: usize, h: usize) -> (i64, i64) {
    use TransitionKind as K;
    let (w, h) = (w as f64, h as f64);
    let (x, y) = match kind {
        K::SlideLeft | K::PushLeft => (w * amount, 0.0),
        K::SlideRight | K::PushRight => (-w * amount, 0.0),
        K::SlideUp | K::PushUp => (0.0, h * amount),
        _ => (0.0, -h * amount),
    };
    (x.round() as i64, y.round() as i64)
}

#[inline]
fn lerp(a: u8, b: u8, w256: u32) -> u8 {
    ((u32::from(a) * (256 - w256) + u32::from(b) * w256 + 128) >> 8) as u8
}

fn mix_all(from: &Raster, into: &mut Raster, p: f64) {
    let w = (p * 256.0).round() as u32;
    for (d, s) in into.data.chunks_exact_mut(4).zip(from.data.chunks_exact(4)) {
        for i in 0..3 {
            d[i] = lerp(s[i], d[i], w);
        }
        d[3] = 255;
    }
}

#[inline]
fn mix_px(from: &Raster, into: &mut Raster, x: usize, y: usize, w: usize, a: f64) {
    let o = (y * w + x) * 4;
    let wa = (a * 256.0).round() as u32;
    if wa >= 256 {
        return;
    }
    for i in 0..3 {
        into.data[o + i] = lerp(from.data[o + i], into.data[o + i], wa);
    }
}

/// A fixed pseudo-random number in 0..1 per pixel.
fn hash(x: u32, y: u32) -> f64 {
    let mut v = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77);
    v ^= v >> 15;
    v = v.wrapping_mul(0x2C1B_3C6D);
    v ^= v >> 12;
    f64::from(v & 0xFFFF) / 65535.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(c: [u8; 4]) -> Raster {
        Raster::filled(64, 36, c)
    }

    #[test]
    fn every_transition_starts_as_the_old_scene_and_ends_as_the_new() {
        use TransitionKind as K;
        let kinds = [
            K::Crossfade,
            K::Fade,
            K::WipeLeft,
            K::WipeRight,
            K::WipeUp,
            K::WipeDown,
            K::SlideLeft,
            K::SlideRight,
            K::SlideUp,
            K::SlideDown,
            K::PushLeft,
            K::PushRight,
            K::PushUp,
            K::PushDown,
            K::Zoom,
            K::Circle,
            K::Dissolve,
        ];
        let (a, b) = (solid([200, 0, 0, 255]), solid([0, 0, 200, 255]));
        for k in kinds {
            let mut start = b.clone();
            transition(k, 0.0, [0, 0, 0, 255], &mut a.clone(), &mut start);
            let mut end = b.clone();
            transition(k, 1.0, [0, 0, 0, 255], &mut a.clone(), &mut end);
            let red = |r: &Raster| r.data.chunks(4).filter(|p| p[0] > 150).count();
            let blue = |r: &Raster| r.data.chunks(4).filter(|p| p[2] > 150).count();
            assert_eq!(red(&start), 64 * 36, "{k:?} at 0");
            assert_eq!(blue(&end), 64 * 36, "{k:?} at 1");
            let mut mid = b.clone();
            transition(k, 0.5, [0, 0, 0, 255], &mut a.clone(), &mut mid);
            assert!(
                mid.data.chunks(4).all(|p| p[3] == 255),
                "{k:?} stays opaque"
            );
        }
    }

    #[test]
    fn a_frame_of_a_move_is_the_same_whatever_the_thread_drew_before() {
        let mut img = Raster::new(640, 360);
        for (i, p) in img.data.chunks_mut(4).enumerate() {
            let (x, y) = (i % 640, i / 640);
            p.copy_from_slice(&[
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x ^ y) % 256) as u8,
                255,
            ]);
        }
        let m = PlanMotion {
            from: Viewport {
                zoom: 1.0,
                x: 0.5,
                y: 0.5,
            },
            to: Viewport {
                zoom: 1.3,
                x: 0.4,
                y: 0.6,
            },
            easing: crate::spec::Easing::Linear,
            start: 0,
            frames: 60,
        };
        let src = std::sync::Arc::new(MotionSource::new(&img, 320, 180, m));
        let draw = |frames: Vec<u64>| {
            let src = src.clone();
            std::thread::spawn(move || {
                let mut out = Raster::new(320, 180);
                for f in frames {
                    src.render_into(f, &mut out);
                }
                out.data
            })
            .join()
            .expect("thread")
        };
        let fresh = draw(vec![11]);
        for before in [0u64, 5, 10, 12, 30, 59] {
            assert!(
                draw(vec![before, 11]) == fresh,
                "frame 11 after frame {before} differs"
            );
        }
    }

    #[test]
    fn ken_burns_crop_stays_inside_and_zooms() {
        let img = Raster::filled(400, 300, [10, 20, 30, 255]);
        let m = PlanMotion {
            from: Viewport {
                zoom: 1.0,
                x: 0.0,
                y: 0.0,
            },
            to: Viewport {
                zoom: 2.0,
                x: 1.0,
                y: 1.0,
            },
            easing: crate::spec::Easing::Linear,
            start: 0,
            frames: 10,
        };
        let src = MotionSource::new(&img, 160, 90, m);
        // Downscaled once to what zoom 2 needs: cover (0.4) x 2.
        assert_eq!((src.src.width, src.src.height), (320, 240));
        let (l, t, w, h) = src.crop(m.viewport(0));
        assert!(l >= 0.0 && t >= 0.0 && l + w <= 320.0 + 1e-9 && t + h <= 240.0 + 1e-9);
        assert!((w / h - 16.0 / 9.0).abs() < 1e-9);
        let (l2, t2, w2, _) = src.crop(m.viewport(10));
        assert!((w2 - w / 2.0).abs() < 1e-9, "{w} {w2}");
        assert!((l2 + w2 - 320.0).abs() < 1e-9 && t2 > t);
        let mut out = Raster::new(1, 1);
        src.render_into(5, &mut out);
        assert_eq!((out.width, out.height), (160, 90));
        assert_eq!(out.pixel(80, 45), [10, 20, 30, 255]);
    }

    #[test]
    fn shift_moves_pixels_and_blackens_the_rest() {
        let mut r = Raster::new(4, 3);
        for (i, px) in r.data.chunks_exact_mut(4).enumerate() {
            px.copy_from_slice(&[i as u8 + 1, 0, 0, 255]);
        }
        let orig = r.clone();
        shift(&mut r, 1, -1);
        // (x, y) now shows the original (x - 1, y + 1).
        assert_eq!(r.pixel(1, 0), orig.pixel(0, 1));
        assert_eq!(r.pixel(3, 1), orig.pixel(2, 2));
        assert_eq!(r.pixel(0, 0), [0, 0, 0, 255]);
        assert_eq!(r.pixel(2, 2), [0, 0, 0, 255]);
        let mut down = orig.clone();
        shift(&mut down, -1, 2);
        assert_eq!(down.pixel(0, 2), orig.pixel(1, 0));
        assert_eq!(down.pixel(0, 0), [0, 0, 0, 255]);
    }

    /// The per-thread resizer is reused across crops and sizes: every result must be the one a
    /// fresh resizer gives.
    #[test]
    fn reused_frame_resizer_gives_what_a_fresh_one_gives() {
        let mut src = Raster::new(300, 200);
        for (i, px) in src.data.chunks_exact_mut(4).enumerate() {
            let (x, y) = ((i % 300) as u8, (i / 300) as u8);
            px.copy_from_slice(&[x, y, x ^ y, 255]);
        }
        let cases = [
            ((10.5, 7.25, 200.0, 112.5), (160, 90)),
            ((0.0, 0.0, 300.0, 200.0), (64, 36)),
            ((33.3, 20.1, 120.7, 67.9), (320, 180)),
            ((10.5, 7.25, 200.0, 112.5), (160, 90)),
        ];
        for (crop, (w, h)) in cases {
            let mut reused = Raster::new(w, h);
            resample(&src, crop, &mut reused, false);
            let (l, t, cw, ch) = crop;
            let mut fresh = Raster::new(w, h);
            let view = ImageRef::new(src.width, src.height, &src.data, PixelType::U8x4).unwrap();
            let mut out = Image::from_slice_u8(w, h, &mut fresh.data, PixelType::U8x4).unwrap();
            let opts = ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
                .use_alpha(false)
                .crop(l, t, cw, ch);
            Resizer::new().resize(&view, &mut out, &opts).unwrap();
            assert!(reused.data == fresh.data, "crop {crop:?} to {w}x{h}");
            assert!(reused.data.iter().any(|&v| v != 0));
        }
    }
}
