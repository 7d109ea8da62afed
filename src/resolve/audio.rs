//! Sound: audio tracks and narrations (files or spoken text) placed on the timeline, and the
//! captions timed from them.

use std::path::PathBuf;

use super::*;

impl Resolver<'_, '_> {
    /// The sound of the video: the audio tracks, the clips' sound and the scenes' narrations
    /// placed on the timeline of `scenes`, and the captions timed from them.
    pub(super) fn audio(
        &mut self,
        comp: &Composition,
        scenes: &[PlanScene],
        fps: Fps,
    ) -> (Vec<PlanTrack>, PlanCaptions) {
        let o = &comp.output;
        let mut tracks: Vec<PlanTrack> = comp
            .audio
            .tracks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| self.track(t, &format!("audio.tracks[{i}]"), 0.0, None))
            .collect();
        let max_chars = self.caption_settings(&o.captions);
        let mut cues = Vec::new();
        for (i, t) in comp.audio.tracks.iter().enumerate() {
            // Tracks that failed their checks are missing from `tracks`: found by path.
            let path = format!("audio.tracks[{i}]");
            if let Some(plan) = tracks.iter().find(|p| p.path == path) {
                cues.extend(self.captions(t, plan, max_chars));
            }
        }
        for (si, mut t) in std::mem::take(&mut self.clip_tracks) {
            if let Some(sc) = scenes.get(si) {
                t.start += fps.sample_at_frame(sc.start_frame);
                tracks.push(t);
            }
        }
        for (i, (scene, plan_scene)) in comp.scenes.iter().zip(scenes).enumerate() {
            let Some(n) = &scene.narration else { continue };
            let track = self.narration(n, i, plan_scene, scenes.get(i + 1), fps);
            if let Some(t) = &track {
                cues.extend(self.captions(n, t, max_chars));
            }
            tracks.extend(track);
        }
        let captions = PlanCaptions {
            cues: crate::plan::captions::in_order(cues),
            embed: o.captions.embed,
            vtt: o.captions.vtt,
            language: match (&self.language, o.captions.language.as_str()) {
                (Some(l), "und") => l.iso639_2.to_string(),
                _ => o.captions.language.clone(),
            },
        };
        (tracks, captions)
    }

    /// A scene's narration, placed from the scene's start.
    fn narration(
        &mut self,
        n: &crate::spec::AudioTrack,
        i: usize,
        plan_scene: &PlanScene,
        next: Option<&PlanScene>,
        fps: Fps,
    ) -> Option<PlanTrack> {
        let path = format!("scenes[{i}].narration");
        let scene_dur = plan_scene.frames as f64 / fps.as_f64();
        if n.start.is_finite() && n.start >= scene_dur && scene_dur > 0.0 {
            self.issue(
                format!("{path}.start"),
                format!(
                    "start {} s is at or after the scene's end ({scene_dur} s)",
                    n.start
                ),
            );
        }
        let offset = fps.seconds(plan_scene.start_frame);
        let mut track = self.track(n, &path, offset, Some(AudioRole::Narration));
        // Followed by a transition: the voice ends with its scene, fading over it.
        if let (Some(t), Some(next)) = (&mut track, next) {
            if let Some(tr) = next.transition {
                let end = plan_scene.start_frame + plan_scene.frames;
                t.cut = Some((
                    fps.sample_at_frame(end),
                    fps.sample_at_frame(end) - fps.sample_at_frame(end - tr.frames),
                ));
            }
        }
        track
    }

    /// Checks `output.captions`; returns the line length.
    pub(super) fn caption_settings(&mut self, c: &crate::spec::Captions) -> usize {
        let lang = &c.language;
        if !(lang.len() == 3 && lang.bytes().all(|b| b.is_ascii_lowercase())) {
            self.issue(
                "output.captions.language",
                format!("language {lang:?} is not an ISO 639-2 code (three lowercase letters, e.g. eng)"),
            );
        }
        if !(20..=80).contains(&c.max_chars) {
            self.issue(
                "output.captions.max_chars",
                format!(
                    "max_chars {} is out of range (expected 20..=80 characters)",
                    c.max_chars
                ),
            );
        }
        c.max_chars.clamp(20, 80) as usize
    }

    /// The captions of track `t` (planned as `plan`): its words spread over the time it is
    /// heard (to its end, its `duration`, or its scene's end, whichever comes first).
    pub(super) fn captions(
        &mut self,
        t: &crate::spec::AudioTrack,
        plan: &PlanTrack,
        max_chars: usize,
    ) -> Vec<crate::plan::captions::Cue> {
        let path = &plan.path;
        if let Some(c) = &t.caption {
            let chars = c.chars().count();
            if chars > 5000 {
                self.issue(
                    format!("{path}.caption"),
                    format!("caption has {chars} characters (expected at most 5000)"),
                );
                return Vec::new();
            }
            if plan.role != AudioRole::Narration {
                self.issue(
                    format!("{path}.caption"),
                    "only a narration has captions (give the track \"role\": \"narration\")",
                );
                return Vec::new();
            }
        }
        if plan.role != AudioRole::Narration {
            return Vec::new();
        }
        let Some(words) = t.caption.as_deref().or(t.text.as_deref()) else {
            return Vec::new();
        };
        if words.trim().is_empty() {
            return Vec::new();
        }
        let sr = u64::from(SAMPLE_RATE);
        // The track's own checks report an unreadable file.
        let Ok(levels) = self.levels(&plan.src) else {
            return Vec::new();
        };
        let env = &levels.db;
        let length = plan.duration.unwrap_or_else(|| {
            ((levels.seconds * sr as f64).round() as u64).saturating_sub(plan.trim)
        });
        let mut end = plan.start + length;
        if let Some((cut, _)) = plan.cut {
            end = end.min(cut);
        }
        let (start_ms, end_ms) = (plan.start * 1000 / sr, end * 1000 / sr);
        // The envelope of what is heard: from `trim`, 10 ms a value.
        let from = ((plan.trim * 100 / sr) as usize).min(env.len());
        let to = (from + (length * 100 / sr) as usize).min(env.len());
        let speech = crate::plan::captions::Speech::from_envelope(&env[from..to], start_ms);
        crate::plan::captions::cues(words, start_ms, end_ms, max_chars, speech.as_ref())
    }

    /// The audio file of a track: its `src`, or its `text` spoken (and cached). Reports
    /// problems only when `report` (so a second look does not report them twice).
    pub(super) fn audio_source(
        &mut self,
        t: &crate::spec::AudioTrack,
        path: &str,
        report: bool,
    ) -> Option<PathBuf> {
        let before = self.issues.len();
        let found = match (&t.src, &t.text) {
            (Some(src), None) => {
                let p = self.asset(src, &format!("{path}.src"));
                p.is_file().then_some(p)
            }
            (None, Some(text)) => self.speak(t, text, path),
            (Some(_), Some(_)) => {
                self.issue(format!("{path}.text"), "give either src or text, not both");
                None
            }
            (None, None) => {
                self.issue(
                    path.to_string(),
                    "an audio track needs src (a file) or text (to speak)",
                );
                None
            }
        };
        if !report {
            self.issues.truncate(before);
        }
        found
    }

    /// Checks a text narration's settings and speaks it (cached).
    pub(super) fn speak(
        &mut self,
        t: &crate::spec::AudioTrack,
        text: &str,
        path: &str,
    ) -> Option<PathBuf> {
        let before = self.issues.len();
        let voice = t
            .voice
            .clone()
            .unwrap_or_else(|| self.language.map_or("en-us", |l| l.voice).to_string());
        let (rate, pitch) = (t.rate.unwrap_or(160), t.pitch.unwrap_or(50));
        let chars = text.chars().count();
        if text.trim().is_empty() || chars > 5000 {
            self.issue(
                format!("{path}.text"),
                format!("text has {chars} characters (expected 1..=5000)"),
            );
        }
        if !crate::media::tts::valid_voice(&voice) {
            self.issue(
                format!("{path}.voice"),
                format!("invalid voice {voice:?} (expected a name like en-us)"),
            );
        }
        if !(80..=450).contains(&rate) {
            self.issue(
                format!("{path}.rate"),
                format!("rate {rate} is out of range (expected 80..=450 words per minute)"),
            );
        }
        if pitch > 99 {
            self.issue(
                format!("{path}.pitch"),
                format!("pitch {pitch} is out of range (expected 0..=99)"),
            );
        }
        if self.issues.len() != before {
            return None;
        }
        let speech = crate::media::tts::Speech {
            text: text.to_string(),
            voice,
            rate,
            pitch,
        };
        match (self.ctx.synthesize)(&speech) {
            Ok(p) => Some(p),
            Err(crate::media::tts::TtsError::Env(e)) => {
                self.env.get_or_insert(e);
                None
            }
            Err(e) => {
                self.issue(format!("{path}.text"), e.to_string());
                None
            }
        }
    }

    /// `offset`: seconds added to `start` (a scene's start for its narration). `role`: forced
    /// role (narration) or `None` for the track's own.
    pub(super) fn track(
        &mut self,
        t: &crate::spec::AudioTrack,
        path: &str,
        offset: f64,
        forced_role: Option<AudioRole>,
    ) -> Option<PlanTrack> {
        let before = self.issues.len();
        if let (Some(AudioRole::Narration), Some(r)) = (forced_role, t.role) {
            if r != AudioRole::Narration {
                self.issue(
                    format!("{path}.role"),
                    "a scene's narration has the role narration",
                );
            }
        }
        self.in_range(
            &format!("{path}.loop_crossfade"),
            "loop_crossfade",
            t.loop_crossfade,
            0.0,
            10.0,
            "seconds",
        );
        if !(t.trim.is_finite() && t.trim >= 0.0) {
            self.issue(
                format!("{path}.trim"),
                format!("trim {} must be >= 0 seconds", t.trim),
            );
        }
        self.in_range(&format!("{path}.pan"), "pan", t.pan, -1.0, 1.0, "");
        if let Some(d) = &t.duck {
            self.in_range(
                &format!("{path}.duck.by_db"),
                "by_db",
                d.by_db,
                0.0,
                60.0,
                "",
            );
            self.in_range(
                &format!("{path}.duck.threshold_db"),
                "threshold_db",
                d.threshold_db,
                -80.0,
                0.0,
                "",
            );
            for (name, v) in [("attack", d.attack), ("release", d.release)] {
                if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                    self.issue(
                        format!("{path}.duck.{name}"),
                        format!("{name} {v} is out of range (expected 0..=10 seconds)"),
                    );
                }
            }
        }
        let src = self.audio_source(t, path, true).unwrap_or_default();
        if !(t.start.is_finite() && t.start >= 0.0) {
            self.issue(
                format!("{path}.start"),
                format!("start {} must be >= 0 seconds", t.start),
            );
        }
        if let Some(d) = t.duration {
            if !(d.is_finite() && d > 0.0) {
                self.issue(
                    format!("{path}.duration"),
                    format!("duration {d} must be > 0 seconds"),
                );
            }
        }
        self.in_range(
            &format!("{path}.volume_db"),
            "volume_db",
            t.volume_db,
            -60.0,
            24.0,
            "dB",
        );
        for (name, v) in [("fade_in", t.fade_in), ("fade_out", t.fade_out)] {
            if !(v.is_finite() && v >= 0.0) {
                self.issue(
                    format!("{path}.{name}"),
                    format!("{name} {v} must be >= 0 seconds"),
                );
            }
        }
        if self.issues.len() != before {
            return None;
        }
        let sr = f64::from(SAMPLE_RATE);
        let samples = |s: f64| (s * sr).round() as u64;
        // Constant-power pan: equal gains of cos(pi/4) at the centre would lower a centred
        // source by 3 dB, so the law is normalised to unity at the centre.
        let angle = (t.pan + 1.0) * std::f64::consts::FRAC_PI_4;
        let norm = std::f64::consts::SQRT_2;
        let pan = [(angle.cos() * norm) as f32, (angle.sin() * norm) as f32];
        Some(PlanTrack {
            path: path.to_string(),
            src,
            start: samples(t.start + offset),
            trim: samples(t.trim),
            role: forced_role.or(t.role).unwrap_or_default(),
            duck: t.duck.as_ref().map(|d| PlanDuck {
                by_db: d.by_db as f32,
                attack: samples(d.attack),
                release: samples(d.release),
                source: d.source,
                threshold: 10f64.powf(d.threshold_db / 20.0) as f32,
            }),
            pan,
            duration: t.duration.map(samples),
            gain: 10f64.powf(t.volume_db / 20.0) as f32,
            fade_in: samples(t.fade_in),
            fade_out: samples(t.fade_out),
            looped: t.looped,
            loop_crossfade: samples(t.loop_crossfade),
            fade_curve: t.fade_curve,
            cut: None,
        })
    }
}
