//! A scene's own parts: its length ("auto"), background, transition, clips and motion.

use std::collections::HashSet;
use std::path::Path;

use super::*;

impl Resolver<'_, '_> {
    /// Resolves the scenes in order, placing each on the timeline after the one before it (a
    /// transition makes them overlap); returns them and the video's length in seconds.
    pub(super) fn scenes(&mut self, comp: &Composition, fps: Fps) -> (Vec<PlanScene>, f64) {
        let (w, h) = (f64::from(comp.output.width), f64::from(comp.output.height));
        if comp.scenes.is_empty() {
            self.issue("scenes", "no scenes (expected at least one)");
        }
        let mut ids = HashSet::new();
        let mut scenes: Vec<PlanScene> = Vec::with_capacity(comp.scenes.len());
        let mut clock = Clock {
            elapsed: 0.0,
            prev_dur: 0.0,
        };
        for (si, s) in comp.scenes.iter().enumerate() {
            self.scene_index = si;
            let path = format!("scenes[{si}]");
            if let Some(given) = &s.id {
                if !ids.insert(given.clone()) {
                    self.issue(
                        format!("{path}.id"),
                        format!("duplicate scene id {given:?}"),
                    );
                }
            }
            let scene = self.scene(s, si, path, scenes.last(), &mut clock, fps, (w, h));
            scenes.push(scene);
        }
        // Progress bars measure against the final length.
        let total = scenes.last().map_or(0, |s| s.start_frame + s.frames);
        for sc in &mut scenes {
            let start = sc.start_frame;
            for l in &mut sc.layers {
                if let PlanLayerKind::Progress(p) = &mut l.kind {
                    if p.total == 0 {
                        p.offset = start;
                        p.total = total;
                    }
                }
            }
        }
        (scenes, clock.elapsed)
    }

    /// Resolves one scene: its length, its place on the timeline, its transition, background
    /// and layers.
    #[allow(clippy::too_many_arguments)]
    fn scene(
        &mut self,
        s: &crate::spec::Scene,
        si: usize,
        path: String,
        last: Option<&PlanScene>,
        clock: &mut Clock,
        fps: Fps,
        (w, h): (f64, f64),
    ) -> PlanScene {
        let id = s.id.clone().unwrap_or_else(|| format!("{si}"));
        let dur = match s.duration {
            SceneDuration::Seconds(d) => {
                if !(d.is_finite() && d > 0.0) {
                    self.issue(
                        format!("{path}.duration"),
                        format!("duration {d} must be a positive number of seconds or \"auto\""),
                    );
                }
                if d.is_finite() {
                    d.max(0.0)
                } else {
                    0.0
                }
            }
            SceneDuration::Auto(_) => self.auto_duration(s, &path),
        };
        // A transition makes this scene start before the previous one ends.
        let prev = last.map(|p| (p.frames, p.transition.map_or(0, |t| t.frames)));
        let transition = s.transition.as_ref().and_then(|t| {
            self.transition(
                t,
                &format!("{path}.transition"),
                si,
                dur,
                clock.prev_dur,
                fps,
            )
        });
        let overlap = transition.map_or(0.0, |t| t.1);
        let start_frame = fps.frame_at(clock.elapsed - overlap);
        clock.elapsed += dur - overlap;
        let end_frame = fps.frame_at(clock.elapsed);
        let frames = end_frame.saturating_sub(start_frame);
        let transition = transition.map(|(t, _)| PlanTransition {
            frames: (last
                .map_or(start_frame, |p| p.start_frame + p.frames)
                .saturating_sub(start_frame))
            .max(1),
            ..t
        });
        if let (Some(t), Some((pf, ptf))) = (&transition, prev) {
            if t.frames + ptf > pf {
                self.issue(
                    format!("{path}.transition.duration"),
                    "this transition overlaps the previous scene's own transition: \
                     shorten one of them or lengthen the previous scene",
                );
            }
        }
        clock.prev_dur = dur;
        if frames == 0 && dur > 0.0 {
            self.issue(
                format!("{path}.duration"),
                format!(
                    "duration {dur} s is shorter than one frame at {} fps",
                    fps.as_f64()
                ),
            );
        }
        let background = match &s.background {
            None => PlanBackground::Solid([0, 0, 0, 255]),
            Some(b) => self.background(b, &format!("{path}.background"), w, h, frames, fps),
        };
        let sc = layers::SceneCtx {
            dur,
            fps,
            frames,
            w,
            h,
        };
        let mut layers = Vec::new();
        for (li, l) in s.layers.iter().enumerate() {
            self.layer(l, &format!("{path}.layers[{li}]"), &sc, &mut layers);
        }
        PlanScene {
            id,
            path,
            start_frame,
            frames,
            background,
            layers,
            transition,
        }
    }

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

/// Where the timeline stands while scenes are placed.
struct Clock {
    /// Seconds placed so far.
    elapsed: f64,
    /// The previous scene's length, seconds.
    prev_dur: f64,
}
