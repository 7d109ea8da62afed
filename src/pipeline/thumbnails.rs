//! The render's thumbnails and contact sheet (`output.thumbnails`): each scene's picture at
//! its planned frame, composed again from the plan (the render itself may have copied the
//! scene from the scene cache, or drawn only the changed part of that frame), scaled and
//! written into a partial folder that the workspace renames into place with the video.

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use super::workspace::Workspace;
use crate::base::raster::Raster;
use crate::compose::prepare::Prepared;
use crate::compose::thumbs;
use crate::error::Error;
use crate::plan::thumbnails::PlanThumbnails;
use crate::plan::Plan;
use crate::spec::ThumbnailFormat;

pub use super::report::{ThumbnailFile, ThumbnailsReport};

/// Composes the plan's thumbnails (and sheet) and writes them into a partial folder of `ws`
/// that becomes `<output stem>.thumbs` with the video. Nothing when the plan has none.
///
/// # Errors
/// [`Error::Asset`] if a picture cannot be prepared, [`Error::Compose`], [`Error::Io`].
pub(super) fn write_thumbnails(
    plan: &Plan,
    output: &Path,
    ws: &mut Workspace,
) -> Result<Option<ThumbnailsReport>, Error> {
    let Some(mut report) = ThumbnailsReport::planned(plan, output) else {
        return Ok(None);
    };
    let Some(t) = &plan.thumbnails else {
        return Ok(None);
    };
    let started = Instant::now();
    let plan = if plan.fonts.loaded() {
        Cow::Borrowed(plan)
    } else {
        let mut plan = plan.clone();
        crate::resolve::fonts::load_plan(&mut plan)
            .map_err(|(path, why)| Error::Input { path, why })?;
        Cow::Owned(plan)
    };
    let dir = ws.companion_dir(&report.dir)?;
    let mut prepared = Prepared::empty(&plan);
    let mut pictures = Vec::with_capacity(t.shots.len());
    for shot in &t.shots {
        prepared.window(&plan, &thumbs::scenes_for(&plan, shot))?;
        let full = thumbs::full_picture(&plan, &prepared, shot)?;
        let small = thumbs::thumbnail(t, &full);
        write_picture(&small, t, &dir.join(&shot.file))?;
        pictures.push(small);
    }
    drop(prepared);
    if let Some(name) = t.sheet_file() {
        let mut engine = crate::text::TextEngine::with_fonts(&plan.fonts);
        let sheet = thumbs::sheet(t, &pictures, &mut engine)?;
        write_picture(&sheet, t, &dir.join(name))?;
    }
    report.wall_s = Some(started.elapsed().as_secs_f64());
    Ok(Some(report))
}

/// Writes an opaque raster as the thumbnails' format.
fn write_picture(r: &Raster, t: &PlanThumbnails, path: &Path) -> Result<(), Error> {
    // Opaque pixels: premultiplied and straight alpha are the same.
    let rgb: Vec<u8> = r
        .data
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let file = std::fs::File::create(path).map_err(Error::io("write thumbnail", path))?;
    let mut w = std::io::BufWriter::new(file);
    let encoded = match t.format {
        ThumbnailFormat::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut w, t.quality,
        )
        .encode(&rgb, r.width, r.height, image::ExtendedColorType::Rgb8),
        ThumbnailFormat::Png => {
            use image::ImageEncoder;
            image::codecs::png::PngEncoder::new(&mut w).write_image(
                &rgb,
                r.width,
                r.height,
                image::ExtendedColorType::Rgb8,
            )
        }
    };
    encoded.map_err(|e| Error::Io {
        op: "encode thumbnail",
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let file = w
        .into_inner()
        .map_err(|e| Error::io("write thumbnail", path)(e.into_error()))?;
    file.sync_all().map_err(Error::io("sync thumbnail", path))
}
