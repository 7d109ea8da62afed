//! Pictures (PNG, JPEG) decoded strictly into premultiplied rasters: data cut short or damaged
//! is an error, not a picture with grey or missing rows.

use std::path::Path;

use crate::base::raster::Raster;
use crate::media::error::ImageError;

/// Largest picture accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 16384;

/// Decodes a PNG or JPEG into a premultiplied raster. Strict: a picture whose data is cut
/// short or damaged is an error, not a picture with grey or missing rows.
///
/// # Errors
/// [`ImageError`] naming the file and the problem.
pub fn decode_image(p: &Path) -> Result<Raster, ImageError> {
    let bytes = std::fs::read(p).map_err(|source| ImageError::Open {
        path: p.into(),
        source,
    })?;
    let format = image::guess_format(&bytes)
        .ok()
        .filter(|f| matches!(f, image::ImageFormat::Png | image::ImageFormat::Jpeg));
    let Some(format) = format else {
        return Err(ImageError::NotAnImage { path: p.into() });
    };
    if format == image::ImageFormat::Jpeg {
        return decode_jpeg(p, &bytes);
    }
    let reader = image::ImageReader::with_format(std::io::Cursor::new(&bytes[..]), format);
    let (iw, ih) = reader
        .into_dimensions()
        .map_err(|e| decode(p, png_problem(&e)))?;
    check_side(p, iw, ih)?;
    let img = image::ImageReader::with_format(std::io::Cursor::new(&bytes[..]), format)
        .decode()
        .map_err(|e| decode(p, png_problem(&e)))?
        .into_rgba8();
    let (w, h) = img.dimensions();
    Ok(Raster::from_straight(w, h, img.into_raw()))
}

fn decode(p: &Path, problem: String) -> ImageError {
    ImageError::Decode {
        path: p.into(),
        problem,
    }
}

/// The PNG decoder's error in words: reaching the end of the file early means it was cut.
fn png_problem(e: &image::ImageError) -> String {
    match e {
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "PNG data ends before the image does (the file is truncated)".into()
        }
        other => other.to_string(),
    }
}

fn check_side(p: &Path, iw: u32, ih: u32) -> Result<(), ImageError> {
    if iw == 0 || ih == 0 || iw > MAX_IMAGE_SIDE || ih > MAX_IMAGE_SIDE {
        return Err(ImageError::Size {
            path: p.into(),
            width: iw,
            height: ih,
            max: MAX_IMAGE_SIDE,
        });
    }
    Ok(())
}

/// Decodes a JPEG with zune-jpeg in strict mode, to RGBA. (The image crate runs the same
/// decoder leniently: data that ends early is padded with grey, and nothing says so.)
fn decode_jpeg(p: &Path, bytes: &[u8]) -> Result<Raster, ImageError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_IMAGE_SIDE as usize)
        .set_max_height(MAX_IMAGE_SIDE as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let problem = |e: zune_jpeg::errors::DecodeErrors| {
        let why = e.to_string();
        let cut = [
            "Exhausted data",
            "Not enough bytes",
            "bits left",
            "Premature end",
        ]
        .iter()
        .any(|m| why.contains(m));
        if cut {
            decode(
                p,
                format!("JPEG data ends before the image does (the file is truncated): {why}"),
            )
        } else {
            decode(p, format!("damaged JPEG data: {why}"))
        }
    };
    dec.decode_headers().map_err(problem)?;
    let (iw, ih) = dec
        .dimensions()
        .ok_or_else(|| decode(p, "no JPEG frame header".into()))?;
    check_side(p, iw as u32, ih as u32)?;
    let rgba = dec.decode().map_err(problem)?;
    if rgba.len() != iw * ih * 4 {
        return Err(decode(
            p,
            format!(
                "the JPEG decoded to {} bytes, expected {iw}x{ih} RGBA",
                rgba.len()
            ),
        ));
    }
    Ok(Raster::from_straight(iw as u32, ih as u32, rgba))
}
