//! `output.thumbnails` and `scenes[i].thumbnail_at` checked, and each scene's thumbnail frame
//! chosen.

use crate::plan::thumbnails::{file_stem, PlanShot, PlanThumbnails};
use crate::plan::{Fps, PlanScene};
use crate::spec::Composition;

/// Longest side of a contact sheet, pixels.
pub const MAX_SHEET_SIDE: u32 = 16_384;
impl super::Resolver<'_, '_> {
    /// The thumbnails of `output.thumbnails`, if asked for: one per planned scene.
    pub(super) fn thumbnails(
        &mut self,
        comp: &Composition,
        scenes: &[PlanScene],
        fps: Fps,
    ) -> Option<PlanThumbnails> {
        let (video_w, video_h) = (comp.output.width, comp.output.height);
        let Some(t) = &comp.output.thumbnails else {
            for (i, s) in comp.scenes.iter().enumerate() {
                if s.thumbnail_at.is_some() {
                    self.issue(
                        format!("scenes[{i}].thumbnail_at"),
                        "a thumbnail time without output.thumbnails (add \"thumbnails\": {} \
                         to output)",
                    );
                }
            }
            return None;
        };
        self.in_range("output.thumbnails.at", "at", t.at, 0.0, 1.0, "");
        let max_w = video_w.clamp(16, 1920);
        let asked = t.width.unwrap_or(480.min(max_w));
        if !(16..=max_w).contains(&asked) {
            self.issue(
                "output.thumbnails.width",
                format!(
                    "width {} is out of range (expected 16..={max_w}: at most 1920 and the \
                     video's width)",
                    asked
                ),
            );
        }
        if !(1..=100).contains(&t.quality) {
            self.issue(
                "output.thumbnails.quality",
                format!("quality {} is out of range (expected 1..=100)", t.quality),
            );
        }
        if !(1..=16).contains(&t.columns) {
            self.issue(
                "output.thumbnails.columns",
                format!("columns {} is out of range (expected 1..=16)", t.columns),
            );
        }
        let width = asked.clamp(16, max_w);
        let height = ((u64::from(width) * u64::from(video_h.max(1))
            + u64::from(video_w.max(1)) / 2)
            / u64::from(video_w.max(1)))
        .max(1) as u32;
        let mut plan = PlanThumbnails {
            width,
            height,
            format: t.format,
            quality: t.quality.clamp(1, 100),
            sheet_columns: t.sheet.then_some(t.columns.clamp(1, 16)),
            shots: Vec::new(),
        };
        if plan.sheet_columns.is_some() {
            let (w, h) = plan.sheet_size(comp.scenes.len());
            if w > MAX_SHEET_SIDE || h > MAX_SHEET_SIDE {
                self.issue(
                    "output.thumbnails",
                    format!(
                        "the contact sheet of {} scenes would be {w}x{h} pixels (at most \
                         {MAX_SHEET_SIDE} a side): use more columns, a smaller width, or \
                         \"sheet\": false",
                        comp.scenes.len()
                    ),
                );
            }
        }
        if scenes.len() != comp.scenes.len() {
            return Some(plan);
        }
        for (i, (spec, scene)) in comp.scenes.iter().zip(scenes).enumerate() {
            let last = scene.frames.saturating_sub(1);
            let local = match spec.thumbnail_at {
                Some(at) => {
                    let length = fps.seconds(scene.frames);
                    let path = format!("scenes[{i}].thumbnail_at");
                    if !at.is_finite() || at < 0.0 || at > length + 1e-9 {
                        self.issue(
                            path,
                            format!(
                                "thumbnail_at {at} is outside the scene (expected 0..={length:.3} s)"
                            ),
                        );
                    }
                    fps.frame_at(at.clamp(0.0, length)).min(last)
                }
                None => (t.at.clamp(0.0, 1.0) * last as f64).round() as u64,
            };
            // The frames this scene shows alone: after its own transition, before the next
            // scene's. The picture is taken there when the scene has any.
            let incoming = scene.transition.map_or(0, |t| t.frames).min(scene.frames);
            let own_end = scenes
                .get(i + 1)
                .map_or(scene.frames, |n| n.start_frame - scene.start_frame)
                .min(scene.frames)
                .max(1);
            let local = if incoming < own_end {
                local.clamp(incoming, own_end - 1)
            } else {
                local.min(own_end - 1)
            };
            let title = spec
                .chapter
                .as_deref()
                .or(spec.id.as_deref())
                .map_or_else(|| format!("Scene {}", i + 1), |t| t.trim().to_string());
            let stem = spec
                .id
                .as_deref()
                .map_or_else(|| format!("scene-{}", i + 1), file_stem);
            plan.shots.push(PlanShot {
                scene: i,
                frame: scene.start_frame + local,
                file: format!("{:02}-{stem}.{}", i + 1, t.format.extension()),
                title,
                start_s: fps.seconds(scene.start_frame),
            });
        }
        Some(plan)
    }
}
