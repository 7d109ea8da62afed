//! What a finished render leaves besides its video: the error record of a failed one, the
//! poster still of a done one.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::Error;
use crate::pipeline::report::StageId;

/// The error of a failed render as JSON: kind, stage, spec path (when one is known), message.
pub(super) fn error_json(e: &Error, stage: Option<StageId>) -> Value {
    let issues = e.issues();
    json!({
        "kind": e.kind(),
        "stage": stage.map(StageId::as_str),
        "path": issues.first().map(|i| i.path.clone()),
        "message": e.to_string(),
        "issues": issues,
    })
}

/// Writes a JPEG still (at most 640 px wide) from frame `at` of `video`, atomically.
pub(super) fn write_poster(
    video: &Path,
    poster: &Path,
    at: u64,
) -> Result<(), super::error::PosterError> {
    use super::error::PosterError;
    let mut still = None;
    crate::media::probe::decode_video(video, |i, rgb| {
        if i >= at || still.is_none() {
            still = Some(rgb.clone());
        }
        i < at
    })?;
    let img = still.ok_or(PosterError::NoFrame)?;
    let img = if img.width() > 640 {
        let h = (u64::from(img.height()) * 640 / u64::from(img.width())).max(1) as u32;
        image::imageops::resize(&img, 640, h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let name = poster
        .file_name()
        .map_or_else(|| "poster".into(), |n| n.to_string_lossy().into_owned());
    let tmp = poster.with_file_name(format!(".{name}.tmp"));
    let write = || -> Result<(), PosterError> {
        let f = std::fs::File::create(&tmp).map_err(|e| PosterError::Write(e.to_string()))?;
        let mut w = std::io::BufWriter::new(f);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 85)
            .encode_image(&img)
            .map_err(|e| PosterError::Write(e.to_string()))?;
        let f = w
            .into_inner()
            .map_err(|e| PosterError::Write(e.to_string()))?;
        f.sync_all()
            .map_err(|e| PosterError::Write(e.to_string()))?;
        std::fs::rename(&tmp, poster).map_err(|e| PosterError::Write(e.to_string()))
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}
