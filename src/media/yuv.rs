//! Decoded frame → premultiplied RGBA at the output size: swscale scales in YUV (bicubic up,
//! area down), yuvutils converts with the frame's matrix and range; RGB and alpha formats go
//! through swscale to RGBA; then the display rotation.
//!
//! The one YUV→RGB conversion of the crate: clips' pictures ([`Converter::convert`]) and
//! decoded videos' frames ([`Converter::rgb`], for [`crate::media::probe::decode_video`]).

use ff::format;
use ffmpeg_next as ff;
use yuvutils_rs::{
    yuv420_to_rgba, yuv422_to_rgba, yuv444_to_rgba, YuvPlanarImage, YuvRange, YuvStandardMatrix,
};

use crate::base::raster::Raster;

/// How a pixel format reaches RGBA.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chroma {
    C420,
    C422,
    C444,
}

/// 8-bit planar YUV that yuvutils converts directly: (subsampling, JPEG range by format).
fn planar_yuv8(fmt: format::Pixel) -> Option<(Chroma, bool)> {
    use format::Pixel as P;
    Some(match fmt {
        P::YUV420P => (Chroma::C420, false),
        P::YUVJ420P => (Chroma::C420, true),
        P::YUV422P => (Chroma::C422, false),
        P::YUVJ422P => (Chroma::C422, true),
        P::YUV444P => (Chroma::C444, false),
        P::YUVJ444P => (Chroma::C444, true),
        _ => return None,
    })
}

/// Other YUV formats without alpha (high bit depth, semi-planar, packed): swscale brings them
/// to 8-bit planar YUV of the same range first.
fn yuv_intermediate(fmt: format::Pixel) -> Option<format::Pixel> {
    let d = fmt.descriptor()?;
    let name = d.name();
    let yuv = [
        "yuv", "nv", "p01", "p21", "p41", "yuyv", "uyvy", "yvyu", "y21",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    if !yuv || d.nb_components() != 3 {
        return None;
    }
    let j = name.starts_with("yuvj");
    use format::Pixel as P;
    Some(match (d.log2_chroma_w(), d.log2_chroma_h(), j) {
        (1, 1, false) => P::YUV420P,
        (1, 1, true) => P::YUVJ420P,
        (1, 0, false) => P::YUV422P,
        (1, 0, true) => P::YUVJ422P,
        (_, _, false) => P::YUV444P,
        (_, _, true) => P::YUVJ444P,
    })
}

/// Decoded frame → RGBA raster at a size, with a cached swscale context.
#[derive(Default)]
pub(super) struct Converter {
    sws: Option<ff::software::scaling::Context>,
    tmp: Option<ff::frame::Video>,
    /// Unrotated pixels of rotated clips.
    scratch: Vec<u8>,
    /// The RGBA picture behind [`Converter::rgb`].
    rgba: Option<Raster>,
}

impl Converter {
    fn scaler(
        &mut self,
        src: (format::Pixel, u32, u32),
        dst: (format::Pixel, u32, u32),
    ) -> Result<&mut ff::software::scaling::Context, ff::Error> {
        let fits = self.sws.as_ref().is_some_and(|s| {
            let (i, o) = (s.input(), s.output());
            (i.format, i.width, i.height) == src && (o.format, o.width, o.height) == dst
        });
        if !fits {
            let down = u64::from(dst.1) * u64::from(dst.2) < u64::from(src.1) * u64::from(src.2);
            let flags = if down {
                ff::software::scaling::Flags::AREA
            } else {
                ff::software::scaling::Flags::BICUBIC
            };
            self.tmp = None;
            self.sws = Some(ff::software::scaling::Context::get(
                src.0, src.1, src.2, dst.0, dst.1, dst.2, flags,
            )?);
        }
        self.sws.as_mut().ok_or(ff::Error::Bug)
    }

    /// Converts `f` to RGBA at `size` (pre-rotation), rotated clockwise by `rotation`, into
    /// `out` (resized as needed).
    pub(super) fn convert(
        &mut self,
        f: &ff::frame::Video,
        size: (u32, u32),
        rotation: i32,
        out: &mut Raster,
    ) -> Result<(), ff::Error> {
        let (tw, th) = size;
        let (sw, sh) = (f.width(), f.height());
        let fmt = f.format();
        let matrix = yuv_matrix(f.color_space(), sh);
        let tagged_full = yuv_range(f.color_range()) == YuvRange::Full;
        let len = tw as usize * th as usize * 4;
        let mut scratch = std::mem::take(&mut self.scratch);
        let rgba = if rotation == 0 {
            &mut out.data
        } else {
            &mut scratch
        };
        rgba.resize(len, 0);
        match planar_yuv8(fmt) {
            Some((chroma, j)) if (sw, sh) == (tw, th) => {
                yuv_to_rgba(f, chroma, j || tagged_full, matrix, rgba, tw)?
            }
            _ => {
                let inter = yuv_intermediate(fmt);
                let dst = inter.unwrap_or(format::Pixel::RGBA);
                self.scaler((fmt, sw, sh), (dst, tw, th))?;
                let tmp = self.tmp.get_or_insert_with(ff::frame::Video::empty);
                if let Some(s) = self.sws.as_mut() {
                    s.run(f, tmp)?;
                }
                if let Some(inter) = inter {
                    let (chroma, j) = planar_yuv8(inter).ok_or(ff::Error::Bug)?;
                    yuv_to_rgba(tmp, chroma, j || tagged_full, matrix, rgba, tw)?;
                } else {
                    // RGB, grey, palette and formats with alpha: straight RGBA, premultiplied.
                    let (stride, row) = (tmp.stride(0), tw as usize * 4);
                    for (y, line) in rgba.chunks_exact_mut(row).enumerate() {
                        line.copy_from_slice(&tmp.data(0)[y * stride..y * stride + row]);
                    }
                    for px in rgba.chunks_exact_mut(4) {
                        let p = crate::base::raster::premultiply([px[0], px[1], px[2], px[3]]);
                        px.copy_from_slice(&p);
                    }
                }
            }
        }
        if rotation == 0 {
            (out.width, out.height) = (tw, th);
        } else {
            rotate(&scratch, tw, th, rotation, out);
        }
        self.scratch = scratch;
        Ok(())
    }

    /// Converts `f` to RGB at its own size, unrotated: the conversion of [`Converter::convert`]
    /// without the alpha channel (premultiplied; opaque for every YUV format).
    pub(super) fn rgb(&mut self, f: &ff::frame::Video) -> Result<image::RgbImage, ff::Error> {
        let (w, h) = (f.width(), f.height());
        let mut rgba = self.rgba.take().unwrap_or_else(|| Raster::new(0, 0));
        self.convert(f, (w, h), 0, &mut rgba)?;
        let rgb = rgba
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        self.rgba = Some(rgba);
        image::RgbImage::from_raw(w, h, rgb).ok_or(ff::Error::Bug)
    }
}

/// The YUV→RGB matrix for a picture `height` pixels high tagged `space`: the tag when it names
/// one, else BT.709 for HD (720 lines and up) and BT.601 for SD.
pub(crate) fn yuv_matrix(space: ff::color::Space, height: u32) -> YuvStandardMatrix {
    match space {
        ff::color::Space::BT709 => YuvStandardMatrix::Bt709,
        ff::color::Space::BT470BG | ff::color::Space::SMPTE170M => YuvStandardMatrix::Bt601,
        ff::color::Space::BT2020NCL | ff::color::Space::BT2020CL => YuvStandardMatrix::Bt2020,
        _ if height >= 720 => YuvStandardMatrix::Bt709,
        _ => YuvStandardMatrix::Bt601,
    }
}

/// Full range for JPEG-tagged pictures, else limited (16..=235).
pub(crate) fn yuv_range(range: ff::color::Range) -> YuvRange {
    if range == ff::color::Range::JPEG {
        YuvRange::Full
    } else {
        YuvRange::Limited
    }
}

fn yuv_to_rgba(
    f: &ff::frame::Video,
    chroma: Chroma,
    full: bool,
    matrix: YuvStandardMatrix,
    out: &mut [u8],
    width: u32,
) -> Result<(), ff::Error> {
    let img = YuvPlanarImage {
        y_plane: f.data(0),
        y_stride: f.stride(0) as u32,
        u_plane: f.data(1),
        u_stride: f.stride(1) as u32,
        v_plane: f.data(2),
        v_stride: f.stride(2) as u32,
        width: f.width(),
        height: f.height(),
    };
    let range = if full {
        YuvRange::Full
    } else {
        YuvRange::Limited
    };
    let stride = width * 4;
    match chroma {
        Chroma::C420 => yuv420_to_rgba(&img, out, stride, range, matrix),
        Chroma::C422 => yuv422_to_rgba(&img, out, stride, range, matrix),
        Chroma::C444 => yuv444_to_rgba(&img, out, stride, range, matrix),
    }
    .map_err(|_| ff::Error::InvalidData)
}

/// Rotates the `w`x`h` RGBA pixels `src` clockwise by 90, 180 or 270 degrees into `out`.
pub(super) fn rotate(src: &[u8], w: u32, h: u32, rotation: i32, out: &mut Raster) {
    let (wu, hu) = (w as usize, h as usize);
    out.data.resize(src.len(), 0);
    let src_px = |x: usize, y: usize| &src[(y * wu + x) * 4..(y * wu + x) * 4 + 4];
    if rotation == 180 {
        for (o, s) in out.data.chunks_exact_mut(4).zip(src.chunks_exact(4).rev()) {
            o.copy_from_slice(s);
        }
        (out.width, out.height) = (w, h);
        return;
    }
    // Output is h wide, w high. Clockwise, source (x, y) lands at (h-1-y, x).
    for (i, o) in out.data.chunks_exact_mut(4).enumerate() {
        let (ox, oy) = (i % hu, i / hu);
        let (x, y) = if rotation == 90 {
            (oy, hu - 1 - ox)
        } else {
            (wu - 1 - oy, ox)
        };
        o.copy_from_slice(src_px(x, y));
    }
    (out.width, out.height) = (h, w);
}
