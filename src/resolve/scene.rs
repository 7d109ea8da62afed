//! A scene's own parts: its length ("auto"), background, transition, clips and motion.

use std::path::Path;

use super::*;

impl Resolver<'_, '_> {
    /// `"duration": "auto"`: narration start + its length (after trim, or its `duration`)
    /// + padding.
    pub(super) fn auto_duration(&mut self, s: &crate::spec::Scene, path: &str) -> f64 {
        if !(s.padding.is_finite() && (0.0..=60.0).contains(&s.padding)) {
            self.issue(
                format!("{path}.padding"),
                format!(
                    "padding {} is out of range (expected 0..=60 seconds)",
                    s.padding
                ),
            );
            return 0.0;
        }
        let Some(n) = &s.narration else {
            self.issue(
                format!("{path}.duration"),
                "duration \"auto\" needs a narration to measure (add scenes[i].narration or give seconds)",
            );
            return 0.0;
        };
        let length = match n.duration {
            Some(d) => Ok(d),
            None => {
                // Problems with the source are reported by the narration's own check.
                let Some(file) = self.audio_source(n, &format!("{path}.narration"), false) else {
                    return 0.0;
                };
                self.levels(&file)
                    .map(|l| (l.seconds - n.trim.max(0.0)).max(0.0))
            }
        };
        match length {
            Ok(l) => n.start.max(0.0) + l + s.padding,
            Err(e) => {
                self.issue(format!("{path}.narration.src"), e);
                0.0
            }
        }
    }

    pub(super) fn background(
        &mut self,
        b: &Background,
        path: &str,
        w: f64,
        h: f64,
        frames: u64,
        fps: Fps,
    ) -> PlanBackground {
        match b {
            Background::Solid { color } => {
                let mut c = self.color(color, &format!("{path}.color"));
                c[3] = 255;
                PlanBackground::Solid(c)
            }
            Background::LinearGradient { angle, colors } => {
                if !angle.is_finite() {
                    self.issue(
                        format!("{path}.angle"),
                        "angle must be a finite number of degrees",
                    );
                }
                PlanBackground::Linear {
                    angle: *angle,
                    colors: self.colors(colors, &format!("{path}.colors")),
                }
            }
            Background::RadialGradient {
                cx,
                cy,
                radius,
                colors,
            } => {
                let r = match radius {
                    Some(r) => self.length(r, &format!("{path}.radius"), w),
                    None => (w * w + h * h).sqrt() / 2.0,
                };
                if r <= 0.0 {
                    self.issue(
                        format!("{path}.radius"),
                        format!("radius {r} must be positive"),
                    );
                }
                PlanBackground::Radial {
                    cx: self.length(cx, &format!("{path}.cx"), w),
                    cy: self.length(cy, &format!("{path}.cy"), h),
                    radius: r.max(1.0),
                    colors: self.colors(colors, &format!("{path}.colors")),
                }
            }
            Background::Image {
                src,
                fit,
                color,
                motion,
            } => {
                let mut c = self.color(color, &format!("{path}.color"));
                c[3] = 255;
                let _ = fps;
                PlanBackground::Image {
                    src: self.asset(src, &format!("{path}.src")),
                    fit: *fit,
                    color: c,
                    motion: motion
                        .as_ref()
                        .and_then(|m| self.motion(m, &format!("{path}.motion"), 0, frames)),
                }
            }
            Background::Video { src, playback } => {
                let src_path = self.asset(src, &format!("{path}.src"));
                match self.clip(&src_path, playback, path, (w, h), None, 0, frames) {
                    Some(c) => PlanBackground::Video(c),
                    None => PlanBackground::Solid([0, 0, 0, 255]),
                }
            }
        }
    }

    /// Checks a scene's transition; returns it (frames filled in by the caller) and its
    /// overlap in seconds.
    pub(super) fn transition(
        &mut self,
        t: &TransitionSpec,
        path: &str,
        scene: usize,
        dur: f64,
        prev_dur: f64,
        fps: Fps,
    ) -> Option<(PlanTransition, f64)> {
        let t = match t {
            TransitionSpec::Kind(k) => crate::spec::Transition {
                kind: *k,
                duration: 0.5,
                easing: Easing::EaseInOut,
                color: "#000000".into(),
            },
            TransitionSpec::Full(f) => f.clone(),
        };
        if scene == 0 {
            self.issue(
                path,
                "the first scene has no scene before it to transition from",
            );
            return None;
        }
        let limit = dur.min(prev_dur);
        if !(t.duration.is_finite() && t.duration > 0.0 && t.duration <= limit + 1e-9) {
            self.issue(
                format!("{path}.duration"),
                format!(
                    "duration {} s is out of range (expected more than 0 and at most {limit} s, \
                     the shorter of the two scenes)",
                    t.duration
                ),
            );
            return None;
        }
        if fps.frame_at(t.duration) == 0 {
            self.issue(
                format!("{path}.duration"),
                format!("duration {} s is shorter than one frame", t.duration),
            );
            return None;
        }
        let color = self.color(&t.color, &format!("{path}.color"));
        Some((
            PlanTransition {
                kind: t.kind,
                frames: 1,
                easing: t.easing,
                color,
            },
            t.duration,
        ))
    }

    /// Checks a clip and how it plays. `fill`: the frame size it covers (backgrounds) and
    /// `boxed`: the layer's box (width, height) if given; `start`/`frames`: scene-relative
    /// frames it shows. Queues its sound for the mix when asked.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn clip(
        &mut self,
        src: &Path,
        pb: &crate::spec::ClipPlayback,
        path: &str,
        fill: (f64, f64),
        boxed: Option<(Option<f64>, Option<f64>)>,
        start: u64,
        frames: u64,
    ) -> Option<PlanClip> {
        let before = self.issues.len();
        let pp = format!("{path}.playback");
        self.in_range(&format!("{pp}.rate"), "rate", pb.rate, 0.25, 4.0, "");
        self.in_range(
            &format!("{pp}.trim_start"),
            "trim_start",
            pb.trim_start,
            0.0,
            MAX_DURATION_S,
            "seconds",
        );
        if let Some(e) = pb.trim_end {
            if !(e.is_finite() && e > pb.trim_start) {
                self.issue(
                    format!("{pp}.trim_end"),
                    format!("trim_end {e} must be after trim_start ({})", pb.trim_start),
                );
            }
        }
        self.in_range(
            &format!("{pp}.volume_db"),
            "volume_db",
            pb.volume_db,
            -60.0,
            24.0,
            "dB",
        );
        if pb.audio && (pb.rate - 1.0).abs() > 1e-9 {
            self.issue(
                format!("{pp}.audio"),
                "a clip's sound can only be mixed at rate 1 (set \"audio\": false to mute it)",
            );
        }
        if self.issues.len() != before || !src.is_file() {
            return None;
        }
        let info = match crate::media::clip::clip_info(src) {
            Ok(i) => i,
            Err(e) => {
                self.issue(format!("{path}.src"), e.to_string());
                return None;
            }
        };
        if pb.trim_start >= info.duration_s && info.duration_s > 0.0 {
            self.issue(
                format!("{pp}.trim_start"),
                format!(
                    "trim_start {} s is at or past the clip's end ({:.3} s)",
                    pb.trim_start, info.duration_s
                ),
            );
            return None;
        }
        if pb.audio && !info.has_audio {
            self.issue(
                format!("{pp}.audio"),
                format!("{} has no sound to mix", src.display()),
            );
            return None;
        }
        let (iw, ih) = (f64::from(info.width.max(1)), f64::from(info.height.max(1)));
        let even = |v: f64| ((v / 2.0).round() * 2.0).max(2.0) as u32;
        let (width, height) = match boxed {
            // A background covers the frame.
            None => {
                let s = (fill.0 / iw).max(fill.1 / ih);
                (even(iw * s), even(ih * s))
            }
            Some((None, None)) => (info.width, info.height),
            Some((Some(bw), None)) => (even(bw), even(bw * ih / iw)),
            Some((None, Some(bh))) => (even(bh * iw / ih), even(bh)),
            // Both: fit inside the box, keeping the aspect ratio.
            Some((Some(bw), Some(bh))) => {
                let s = (bw / iw).min(bh / ih);
                (even(iw * s), even(ih * s))
            }
        };
        if pb.audio {
            let sr = f64::from(SAMPLE_RATE);
            let samples = |s: f64| (s * sr).round() as u64;
            let secs = frames as f64 / self.fps_for_clips;
            let play = pb.trim_end.map_or(secs, |e| {
                if pb.looped {
                    secs
                } else {
                    secs.min(e - pb.trim_start)
                }
            });
            self.clip_tracks.push((
                self.scene_index,
                PlanTrack {
                    path: format!("{path}.playback.audio"),
                    src: src.to_path_buf(),
                    start: samples(start as f64 / self.fps_for_clips),
                    trim: samples(pb.trim_start),
                    role: AudioRole::Effect,
                    duck: None,
                    pan: [1.0, 1.0],
                    duration: Some(samples(play)),
                    gain: 10f64.powf(pb.volume_db / 20.0) as f32,
                    fade_in: 0,
                    fade_out: samples(0.05),
                    looped: pb.looped,
                    loop_crossfade: 0,
                    fade_curve: crate::spec::FadeCurve::Linear,
                    cut: None,
                },
            ));
        }
        Some(PlanClip {
            path: path.to_string(),
            src: src.to_path_buf(),
            width,
            height,
            trim_start: pb.trim_start,
            trim_end: pb.trim_end,
            rate: pb.rate,
            looped: pb.looped,
            start,
            frames: frames.max(1),
        })
    }

    /// Checks a Ken Burns move running from scene-relative `start` for `frames` frames.
    pub(crate) fn motion(
        &mut self,
        m: &MotionSpec,
        path: &str,
        start: u64,
        frames: u64,
    ) -> Option<PlanMotion> {
        let v = |zoom: f64, x: f64, y: f64| Viewport { zoom, x, y };
        let (from, to, easing) = match m {
            MotionSpec::Preset(p) => {
                let (a, b) = match p {
                    MotionPreset::ZoomIn => (v(1.0, 0.5, 0.5), v(1.2, 0.5, 0.5)),
                    MotionPreset::ZoomOut => (v(1.2, 0.5, 0.5), v(1.0, 0.5, 0.5)),
                    MotionPreset::PanLeft => (v(1.15, 0.65, 0.5), v(1.15, 0.35, 0.5)),
                    MotionPreset::PanRight => (v(1.15, 0.35, 0.5), v(1.15, 0.65, 0.5)),
                    MotionPreset::PanUp => (v(1.15, 0.5, 0.65), v(1.15, 0.5, 0.35)),
                    MotionPreset::PanDown => (v(1.15, 0.5, 0.35), v(1.15, 0.5, 0.65)),
                };
                (a, b, Easing::Linear)
            }
            MotionSpec::Full(f) => (f.from, f.to, f.easing),
        };
        let before = self.issues.len();
        for (name, vp) in [("from", from), ("to", to)] {
            self.in_range(
                &format!("{path}.{name}.zoom"),
                "zoom",
                vp.zoom,
                1.0,
                8.0,
                "",
            );
            self.in_range(&format!("{path}.{name}.x"), "x", vp.x, 0.0, 1.0, "");
            self.in_range(&format!("{path}.{name}.y"), "y", vp.y, 0.0, 1.0, "");
        }
        if self.issues.len() != before {
            return None;
        }
        Some(PlanMotion {
            from,
            to,
            easing,
            start,
            frames: frames.saturating_sub(1).max(1),
        })
    }
}
