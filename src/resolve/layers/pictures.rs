//! Pictures and rectangles: image, video, shape and progress bar layers, and their sizes.

use super::*;

impl Resolver<'_, '_> {
    /// A layer's optional box size, each side within `min..=` four frames (at most `cap`).
    pub(super) fn box_size(
        &mut self,
        width: Option<&crate::spec::Length>,
        height: Option<&crate::spec::Length>,
        path: &str,
        sc: &SceneCtx,
        (min, cap): (f64, f64),
    ) -> (Option<f64>, Option<f64>) {
        let width = width.map(|v| self.length(v, &format!("{path}.width"), sc.w));
        let height = height.map(|v| self.length(v, &format!("{path}.height"), sc.h));
        for (name, v, side) in [("width", width, sc.w), ("height", height, sc.h)] {
            if let Some(v) = v {
                let max = (4.0 * side).min(cap);
                if !(min..=max).contains(&v) {
                    self.issue(
                        format!("{path}.{name}"),
                        format!("{name} {v} px is out of range (expected {min}..={max}: at most four frames)"),
                    );
                }
            }
        }
        (width, height)
    }

    pub(super) fn image_layer(
        &mut self,
        i: &crate::spec::ImageLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let (common, x, y) = self.opening(path, i.base(), None, None, sc);
        let src = self.asset(&i.src, &format!("{path}.src"));
        let (width, height) = self.box_size(
            i.width.as_ref(),
            i.height.as_ref(),
            path,
            sc,
            (1.0, 16384.0),
        );
        let common = common?;
        self.no_typewriter(path, &common);
        let motion = match &i.motion {
            Some(m) if width.is_none() || height.is_none() => {
                let _ = m;
                self.issue(
                    format!("{path}.motion"),
                    "a moving picture needs both width and height (the box it moves in)",
                );
                None
            }
            Some(m) => self.motion(m, &format!("{path}.motion"), common.start, common.visible()),
            None => None,
        };
        Some(common.layer(
            path.to_string(),
            (x, y),
            i.anchor,
            (x, y),
            PlanLayerKind::Image(PlanImage {
                src,
                width,
                height,
                fit: i.fit,
                motion,
            }),
            sc.fps,
        ))
    }

    pub(super) fn video_layer(
        &mut self,
        v: &crate::spec::VideoLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let (common, x, y) = self.opening(path, v.base(), None, None, sc);
        let src = self.asset(&v.src, &format!("{path}.src"));
        let (width, height) =
            self.box_size(v.width.as_ref(), v.height.as_ref(), path, sc, (2.0, 8192.0));
        let common = common?;
        self.no_typewriter(path, &common);
        let clip = self.clip(
            &src,
            &v.playback,
            path,
            (sc.w, sc.h),
            Some((width, height)),
            common.start,
            common.visible(),
        )?;
        Some(common.layer(
            path.to_string(),
            (x, y),
            v.anchor,
            (x, y),
            PlanLayerKind::Video(clip),
            sc.fps,
        ))
    }

    pub(super) fn progress_bar(
        &mut self,
        b: &crate::spec::ProgressBarLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let (common, x, y) = self.opening(path, b.base(), None, None, sc);
        let height = b
            .height
            .clone()
            .unwrap_or(crate::spec::Length::Px((8.0 * sc.unit()).round().max(2.0)));
        let (width, height) = self.rect_size(&b.width, &height, path, sc);
        let fill = self.color(&b.color, &format!("{path}.color"));
        let track = self.color(&b.track_color, &format!("{path}.track_color"));
        self.in_range(
            &format!("{path}.corner_radius"),
            "corner_radius",
            b.corner_radius,
            0.0,
            8192.0,
            "px",
        );
        let common = common?;
        let (offset, total) = match b.scope {
            // Filled in once every scene is placed.
            crate::spec::ProgressScope::Video => (0, 0),
            crate::spec::ProgressScope::Scene => (0, sc.frames),
        };
        Some(common.layer(
            path.to_string(),
            (x, y),
            b.anchor,
            (x, y),
            PlanLayerKind::Progress(crate::plan::PlanProgress {
                width,
                height,
                fill,
                track,
                radius: b.corner_radius,
                offset,
                total,
            }),
            sc.fps,
        ))
    }

    pub(super) fn rect_size(
        &mut self,
        w: &crate::spec::Length,
        h: &crate::spec::Length,
        path: &str,
        sc: &SceneCtx,
    ) -> (f64, f64) {
        let width = self.length(w, &format!("{path}.width"), sc.w);
        let height = self.length(h, &format!("{path}.height"), sc.h);
        for (name, v, side) in [("width", width, sc.w), ("height", height, sc.h)] {
            let max = (4.0 * side).min(16384.0);
            if !(1.0..=max).contains(&v) {
                self.issue(
                    format!("{path}.{name}"),
                    format!("{name} {v} px is out of range (expected 1..={max}: four frames)"),
                );
            }
        }
        (width, height)
    }

    pub(super) fn shape_layer(
        &mut self,
        s: &ShapeLayer,
        path: &str,
        sc: &SceneCtx,
    ) -> Option<PlanLayer> {
        let (common, x, y) = self.opening(path, s.base(), None, None, sc);
        let (width, height) = self.rect_size(&s.width, &s.height, path, sc);
        self.in_range(
            &format!("{path}.corner_radius"),
            "corner_radius",
            s.corner_radius,
            0.0,
            8192.0,
            "px",
        );
        let fill = self.color(&s.fill, &format!("{path}.fill"));
        let border = s.border.as_ref().map(|b| {
            let st = self.stroke(b, &format!("{path}.border"));
            (st.color, f64::from(st.width))
        });
        let common = common?;
        self.no_typewriter(path, &common);
        Some(common.layer(
            path.to_string(),
            (x, y),
            s.anchor,
            (x, y),
            PlanLayerKind::Shape(PlanShape {
                width,
                height,
                fill,
                radius: s.corner_radius,
                border,
            }),
            sc.fps,
        ))
    }
}
