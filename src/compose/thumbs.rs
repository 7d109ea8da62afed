//! Thumbnails and the contact sheet: a scene's picture at a planned frame, drawn as the
//! video's frame is, scaled down; and a grid of them with a label under each.

use crate::base::raster::Raster;
use crate::compose::frame::{compose_span, Backgrounds};
use crate::compose::prepare::Prepared;
use crate::compose::ComposeError;
use crate::plan::thumbnails::{PlanShot, PlanThumbnails};
use crate::plan::{Plan, PlanText, Rgba, Span};
use crate::text::TextEngine;

/// The contact sheet's background.
pub const SHEET_BACKGROUND: Rgba = [0x26, 0x28, 0x2B, 0xFF];
/// The colour of a picture's title on the sheet.
const TITLE_COLOR: Rgba = [0xEE, 0xEE, 0xEE, 0xFF];
/// The colour of a picture's start time on the sheet.
const TIME_COLOR: Rgba = [0xA8, 0xAC, 0xB2, 0xFF];
/// The family of the labels (bundled).
const LABEL_FONT: &str = "Noto Sans";

/// The span drawing the video's frame `shot.frame` (its scene's, mixed with the scene
/// before during a transition).
fn span_of(plan: &Plan, shot: &PlanShot) -> Span {
    let scene = &plan.scenes[shot.scene];
    let local = shot.frame.saturating_sub(scene.start_frame);
    Span {
        scene: shot.scene,
        start: shot.frame,
        len: 1,
        transition: shot.scene > 0 && scene.transition.is_some_and(|t| local < t.frames),
        bars_only: false,
        local: false,
    }
}

/// The scenes to prepare to draw `shot` (its own and, in a transition, the one before).
pub fn scenes_for(plan: &Plan, shot: &PlanShot) -> Vec<usize> {
    crate::compose::frame::scenes_of(&[span_of(plan, shot)])
}

/// The video's picture at `shot.frame`, full size, straight from the compositor (the
/// scenes of [`scenes_for`] must be prepared in `prepared`).
///
/// # Errors
/// [`ComposeError::Clip`] if a video clip cannot be read.
pub fn full_picture(
    plan: &Plan,
    prepared: &Prepared,
    shot: &PlanShot,
) -> Result<Raster, ComposeError> {
    let span = span_of(plan, shot);
    let mut backgrounds = Backgrounds::default();
    backgrounds.keep_only(plan, prepared, &[span]);
    let mut canvas = Raster::new(plan.width, plan.height);
    let mut previous = Raster::new(plan.width, plan.height);
    compose_span(
        plan,
        prepared,
        &backgrounds,
        &span,
        &mut canvas,
        &mut previous,
    )?;
    Ok(canvas)
}

/// `picture` scaled to the thumbnails' size (Lanczos3).
pub fn thumbnail(thumbs: &PlanThumbnails, picture: &Raster) -> Raster {
    if picture.width == thumbs.width && picture.height == thumbs.height {
        return picture.clone();
    }
    crate::compose::motion::resized(picture, thumbs.width, thumbs.height)
}

/// `m:ss` (or `h:mm:ss`) of `seconds`, rounded down.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Lays out one line of label text.
fn label(
    engine: &mut TextEngine,
    text: &str,
    size: f32,
    color: Rgba,
) -> Result<(Raster, f64), ComposeError> {
    let mut t = PlanText::plain(text, LABEL_FONT, size, color, 100_000.0);
    t.break_words = false;
    let drawing = engine.layout(&t).map_err(|e| ComposeError::Label {
        label: text.into(),
        message: e.to_string(),
    })?;
    let width = drawing.box_width;
    // The raster has room around the box (for effects): move it so the box lands in place.
    let (px, py) = drawing.pad;
    let mut out = Raster::new(
        (width.ceil() as u32).max(1),
        (drawing.box_height.ceil() as u32).max(1),
    );
    out.blend(&drawing.render(None), -px, -py, 1.0);
    Ok((out, width))
}

/// The title cut with `…` so that it is at most `max` pixels wide.
fn fitted_title(
    engine: &mut TextEngine,
    title: &str,
    size: f32,
    max: f64,
) -> Result<(Raster, f64), ComposeError> {
    let chars: Vec<char> = title.chars().collect();
    let mut keep = chars.len();
    loop {
        let text: String = if keep == chars.len() {
            title.to_string()
        } else {
            let mut s: String = chars[..keep].iter().collect::<String>().trim_end().into();
            s.push('…');
            s
        };
        let (r, w) = label(engine, &text, size, TITLE_COLOR)?;
        if w <= max || keep == 0 {
            return Ok((r, w));
        }
        // Cut in proportion to the overflow, at least one character.
        let ratio = max / w;
        keep = ((keep as f64 * ratio).floor() as usize).min(keep - 1);
    }
}

/// The contact sheet: `pictures` (one per shot, at the thumbnails' size) in a grid of the
/// plan's columns on [`SHEET_BACKGROUND`], each with its number, title and start time under it.
///
/// # Errors
/// [`ComposeError::Label`] if a label cannot be laid out.
pub fn sheet(
    thumbs: &PlanThumbnails,
    pictures: &[Raster],
    engine: &mut TextEngine,
) -> Result<Raster, ComposeError> {
    let (_, columns) = thumbs.grid(pictures.len());
    let (w, h) = (thumbs.width, thumbs.height);
    let gap = thumbs.gap();
    let label_h = thumbs.label_height();
    let cell_h = h + label_h;
    let (sheet_w, sheet_h) = thumbs.sheet_size(pictures.len());
    let mut out = Raster::filled(sheet_w, sheet_h, SHEET_BACKGROUND);
    let size = (label_h - 12) as f32 * 0.8;
    for (i, (picture, shot)) in pictures.iter().zip(&thumbs.shots).enumerate() {
        let (row, col) = (i as u32 / columns, i as u32 % columns);
        let x = i64::from(gap + col * (w + gap));
        let y = i64::from(gap + row * (cell_h + gap));
        out.blend(picture, x, y, 1.0);
        let (time, time_w) = label(engine, &clock(shot.start_s), size, TIME_COLOR)?;
        let room = (f64::from(w) - time_w - f64::from(gap)).max(0.0);
        let title = format!("{}  {}", shot.scene + 1, shot.title);
        let (title, _) = fitted_title(engine, &title, size, room)?;
        let ty = y + i64::from(h) + 6;
        out.blend(&title, x, ty, 1.0);
        out.blend(&time, x + i64::from(w) - time_w.round() as i64, ty, 1.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(61.9), "1:01");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
