//! Stage "mix": the plan's tracks, decoded once each ([`crate::media::sound`]), mixed on demand
//! with gain, fades, ducking and looping into a stereo timeline exactly as long as the video.

use std::path::Path;
use std::sync::Arc;

use crate::media::error::AssetError;
use crate::media::load::FileUses;
use crate::media::sound::{load_pcm_or_env, Pcm};
use crate::plan::{Plan, PlanDuck, PlanTrack, SAMPLE_RATE};
use crate::spec::{AudioRole, DuckSource, FadeCurve};

/// One track with its decoded source.
#[derive(Debug, Clone)]
struct MixTrack {
    track: PlanTrack,
    /// Interleaved stereo at [`SAMPLE_RATE`].
    src: Arc<Pcm>,
    /// Samples the track plays on the timeline (after `duration`, trim, looping and the
    /// video's end).
    len: u64,
    /// Ducking under the narration, if the track asks for it.
    duck: Option<DuckEnvelope>,
}

impl MixTrack {
    fn new(track: PlanTrack, src: Arc<Pcm>, total: u64) -> MixTrack {
        let src_frames = src.frames();
        let room = total.saturating_sub(track.start);
        let natural = if track.looped {
            room
        } else {
            src_frames.saturating_sub(track.trim)
        };
        let len = if src_frames == 0 {
            0
        } else {
            let cut = track
                .cut
                .map_or(u64::MAX, |(end, _)| end.saturating_sub(track.start));
            track
                .duration
                .unwrap_or(natural)
                .min(natural)
                .min(room)
                .min(cut)
        };
        MixTrack {
            track,
            src,
            len,
            duck: None,
        }
    }

    /// The timeline samples where this track sounds.
    fn span(&self) -> (u64, u64) {
        (self.track.start, self.track.start + self.len)
    }
}

/// How deep a ducked track is lowered at each sample: driven by the merged intervals where
/// narration plays, ramping down over `attack` before each and up over `release` after.
#[derive(Debug, Clone)]
struct DuckEnvelope {
    intervals: Vec<(u64, u64)>,
    by_db: f32,
    attack: u64,
    release: u64,
}

impl DuckEnvelope {
    fn new(mut intervals: Vec<(u64, u64)>, d: PlanDuck) -> DuckEnvelope {
        intervals.retain(|(a, b)| b > a);
        intervals.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
        for (a, b) in intervals {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        DuckEnvelope {
            intervals: merged,
            by_db: d.by_db,
            attack: d.attack,
            release: d.release,
        }
    }

    /// Linear gain factor at timeline sample `pos` (1 = not ducked).
    fn factor(&self, pos: u64) -> f32 {
        // Intervals whose release has finished before `pos` no longer matter.
        let first = self
            .intervals
            .partition_point(|&(_, end)| end + self.release <= pos);
        let mut depth = 0f32;
        for &(a, b) in &self.intervals[first..] {
            if a >= pos + self.attack.max(1) {
                break;
            }
            let d = if pos >= a && pos < b {
                1.0
            } else if pos < a {
                1.0 - (a - pos) as f32 / self.attack as f32
            } else {
                1.0 - (pos - b) as f32 / self.release.max(1) as f32
            };
            depth = depth.max(d.clamp(0.0, 1.0));
        }
        if depth == 0.0 {
            1.0
        } else {
            10f32.powf(-self.by_db * depth / 20.0)
        }
    }
}

/// The audio of a render, mixed on demand: sources are decoded and resampled once by
/// [`Mixer::load`]; [`Mixer::fill`] sums any range of the timeline. Memory depends on the
/// source files, not on the length of the video.
#[derive(Debug, Clone)]
pub struct Mixer {
    tracks: Vec<MixTrack>,
    total: u64,
}

impl Mixer {
    /// Stage "mix": loads, decodes and resamples every distinct source file (in parallel),
    /// streaming: sources longer than a second go to unnamed temporary files in `spill` (which
    /// vanish when the mixer is dropped, or with the process), so memory does not grow with
    /// the length of the audio. `None` keeps everything in memory.
    ///
    /// # Errors
    /// [`AssetError::Load`] listing every track whose file cannot be used, with its spec path.
    pub fn load(plan: &Plan, spill: Option<&Path>) -> Result<Mixer, AssetError> {
        let mut files = FileUses::default();
        for t in &plan.tracks {
            files.add(&t.src, || format!("{}.src", t.path));
        }
        let sources = files.load_all(|p| load_pcm_or_env(p, spill).map(Arc::new))?;
        let total = plan.total_samples;
        let mut tracks: Vec<MixTrack> = plan
            .tracks
            .iter()
            .map(|t| MixTrack::new(t.clone(), sources[&t.src].clone(), total))
            .collect();
        let narration: Vec<(u64, u64)> = tracks
            .iter()
            .filter(|t| t.track.role == AudioRole::Narration)
            .map(MixTrack::span)
            .collect();
        let needs_levels = tracks
            .iter()
            .any(|t| t.track.duck.is_some_and(|d| d.source == DuckSource::Level));
        let speaking = if needs_levels {
            // The sidechain: every track that is neither music nor ducked itself.
            let side = Mixer {
                tracks: tracks
                    .iter()
                    .filter(|t| t.track.duck.is_none() && t.track.role != AudioRole::Music)
                    .cloned()
                    .collect(),
                total,
            };
            Some(side)
        } else {
            None
        };
        for t in &mut tracks {
            if let Some(d) = t.track.duck {
                let intervals = match (&speaking, d.source) {
                    (Some(side), DuckSource::Level) => side.active_intervals(d.threshold),
                    _ => narration.clone(),
                };
                t.duck = Some(DuckEnvelope::new(intervals, d));
            }
        }
        Ok(Mixer { tracks, total })
    }

    /// A mixer of `total` samples of silence and nothing else (a video-only encode).
    pub fn silence(total: u64) -> Mixer {
        Mixer {
            tracks: Vec::new(),
            total,
        }
    }

    /// Samples per channel on the timeline.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    /// True when no track makes a sound anywhere on the timeline.
    pub fn is_silent(&self) -> bool {
        self.tracks
            .iter()
            .all(|t| t.len == 0 || t.track.gain == 0.0)
    }

    /// The first error reading a source back from its temporary file, if any (such reads
    /// give silence, so a render must check this before it keeps its output).
    pub fn error(&self) -> Option<String> {
        self.tracks.iter().find_map(|t| t.src.failed.get().cloned())
    }

    /// Bytes of decoded source audio (in memory or in temporary files).
    pub fn source_bytes(&self) -> u64 {
        let mut seen = std::collections::HashSet::new();
        self.tracks
            .iter()
            .filter(|t| seen.insert(Arc::as_ptr(&t.src)))
            .map(|t| t.src.frames() * 8)
            .sum()
    }

    /// Writes the raw mix of timeline samples `start..start + out.len() / 2` into `out`
    /// (interleaved stereo). Past the end of the video it writes silence. Levels are not
    /// limited here: [`crate::audio::master::Master`] does that.
    pub fn fill(&self, start: u64, out: &mut [f32]) {
        out.fill(0.0);
        for t in &self.tracks {
            add_range(out, start, t);
        }
    }

    /// Where the mix is louder than `threshold` (linear RMS over 10 ms blocks), as merged
    /// sample intervals; gaps under 200 ms count as continuous speech.
    fn active_intervals(&self, threshold: f32) -> Vec<(u64, u64)> {
        const BLOCK: u64 = (SAMPLE_RATE / 100) as u64;
        const HOLD: u64 = (SAMPLE_RATE / 5) as u64;
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut buf = vec![0f32; BLOCK as usize * 2];
        let limit = f64::from(threshold) * f64::from(threshold);
        let mut pos = 0;
        while pos < self.total {
            let n = BLOCK.min(self.total - pos) as usize;
            self.fill(pos, &mut buf[..n * 2]);
            let power = buf[..n * 2]
                .iter()
                .map(|&s| f64::from(s) * f64::from(s))
                .sum::<f64>()
                / (n * 2) as f64;
            if power > limit {
                let end = pos + n as u64;
                match out.last_mut() {
                    Some(last) if pos <= last.1 + HOLD => last.1 = end,
                    _ => out.push((pos, end)),
                }
            }
            pos += n as u64;
        }
        out
    }

    /// The whole raw mix, interleaved (tests and analysis; renders stream through
    /// [`crate::audio::master::Master`]).
    pub fn mix_all(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.total as usize * 2];
        self.fill(0, &mut out);
        out
    }
}

/// Adds the part of track `t` that falls in timeline samples `start..start + out.len() / 2`.
fn add_range(out: &mut [f32], start: u64, t: &MixTrack) {
    let n = (out.len() / 2) as u64;
    let (t0, t1) = (t.track.start, t.track.start + t.len);
    let (a, b) = (start.max(t0), (start + n).min(t1));
    if a >= b {
        return;
    }
    let src_frames = t.src.frames();
    let (fade_in, fade_out) = (t.track.fade_in, t.track.fade_out);
    let curve = t.track.fade_curve;
    let [pan_l, pan_r] = t.track.pan;
    // Looping with a crossfade: each repeat adds `period` new samples; its first `xf` are
    // blended with the `xf` samples that follow the previous repeat's end.
    let xf = if t.track.looped {
        t.track.loop_crossfade.min(src_frames / 2)
    } else {
        0
    };
    let period = src_frames - xf;
    // The source frames this range plays (`head`) and, inside a loop crossfade, the previous
    // repeat's tail they blend with, read in contiguous runs.
    let len = (b - a) as usize;
    let mut head = vec![0f32; len * 2];
    let mut tail = if xf > 0 {
        vec![0f32; len * 2]
    } else {
        Vec::new()
    };
    let mut k = 0usize;
    while k < len {
        let r = t.track.trim + (a - t0) + k as u64;
        if !t.track.looped {
            t.src.read(r, &mut head[k * 2..]);
            break;
        }
        let i = r % period;
        let run = ((period - i) as usize).min(len - k);
        t.src.read(i, &mut head[k * 2..(k + run) * 2]);
        if r >= period && i < xf {
            let blend = ((xf - i) as usize).min(run);
            t.src.read(period + i, &mut tail[k * 2..(k + blend) * 2]);
        }
        k += run;
    }
    let mut duck = 1f32;
    for pos in a..b {
        let rel = pos - t0;
        let r = t.track.trim + rel;
        let blend = if t.track.looped {
            let i = r % period;
            (r >= period && i < xf).then(|| (i as f32 + 0.5) / xf as f32)
        } else {
            None
        };
        let mut g = t.track.gain;
        if rel < fade_in {
            g *= curve.gain(rel as f32 / fade_in as f32);
        }
        let left = t.len - rel;
        if left <= fade_out {
            g *= curve.gain((left - 1) as f32 / fade_out as f32);
        }
        if let Some((end, fade)) = t.track.cut {
            let until = end.saturating_sub(pos);
            if until <= fade && fade > 0 {
                g *= FadeCurve::EqualPower.gain((until.max(1) - 1) as f32 / fade as f32);
            }
        }
        if let Some(d) = &t.duck {
            // The envelope moves over tenths of a second: evaluate it every 16 samples, on
            // a grid of the timeline (not of this call), so that the mix does not depend on
            // how it is cut into calls.
            if pos == a || pos % 16 == 0 {
                duck = d.factor(pos - pos % 16);
            }
            g *= duck;
        }
        let k = (pos - a) as usize * 2;
        let o = (pos - start) as usize * 2;
        let (l, r) = match blend {
            None => (head[k], head[k + 1]),
            Some(w) => {
                // Equal power: the head rises on a sine, the tail falls on a cosine.
                let (wa, wb) = FadeCurve::EqualPower.crossfade(w);
                (
                    head[k] * wa + tail[k] * wb,
                    head[k + 1] * wa + tail[k + 1] * wb,
                )
            }
        };
        out[o] += l * g * pan_l;
        out[o + 1] += r * g * pan_r;
    }
}

/// RMS level of interleaved samples in dBFS (-inf for silence).
pub fn rms_dbfs(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    10.0 * (sum / samples.len() as f64).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::sound::{resample, PcmStore, PcmWriter, StreamResampler, SPILL_FRAMES};
    use std::path::PathBuf;

    fn plan_track(start: u64, duration: Option<u64>, looped: bool, fade_out: u64) -> PlanTrack {
        PlanTrack {
            path: "audio.tracks[0]".into(),
            src: PathBuf::new(),
            start,
            trim: 0,
            role: AudioRole::Music,
            duck: None,
            pan: [1.0, 1.0],
            duration,
            gain: 0.5,
            fade_in: 0,
            fade_out,
            cut: None,
            looped,
            loop_crossfade: 0,
            fade_curve: FadeCurve::Linear,
        }
    }

    fn mixer(total: u64, tracks: Vec<MixTrack>) -> Mixer {
        Mixer { tracks, total }
    }

    fn mix(
        total: usize,
        start: u64,
        duration: Option<u64>,
        looped: bool,
        fade_out: u64,
        src: &[f32],
    ) -> Vec<f32> {
        let track = plan_track(start, duration, looped, fade_out);
        let t = MixTrack::new(track, Arc::new(Pcm::from_vec(src.to_vec())), total as u64);
        mixer(total as u64, vec![t]).mix_all()
    }

    #[test]
    fn ducking_follows_the_narration_with_attack_and_release() {
        let total = 1000u64;
        let music = plan_track(0, None, true, 0);
        let mut voice = plan_track(400, Some(200), false, 0);
        voice.role = AudioRole::Narration;
        voice.gain = 0.0; // a silent voice: only the envelope matters here
        let mut m = MixTrack::new(music, Arc::new(Pcm::from_vec(vec![1.0; 2])), total);
        let v = MixTrack::new(voice, Arc::new(Pcm::from_vec(vec![1.0; 400])), total);
        let duck = PlanDuck {
            by_db: 20.0,
            attack: 100,
            release: 200,
            source: DuckSource::Narration,
            threshold: 0.01,
        };
        m.duck = Some(DuckEnvelope::new(vec![v.span()], duck));
        let out = mixer(total, vec![m, v]).mix_all();
        let at = |i: usize| out[i * 2];
        assert_eq!(at(250), 0.5, "before the attack");
        assert!(at(350) < 0.5 && at(350) > 0.05, "during the attack");
        assert!(
            (at(500) - 0.05).abs() < 1e-4,
            "ducked by 20 dB: {}",
            at(500)
        );
        assert!(at(700) > 0.05 && at(700) < 0.5, "during the release");
        assert_eq!(at(850), 0.5, "after the release");
    }

    #[test]
    fn places_and_gains() {
        let out = mix(10, 2, None, false, 0, &[1.0; 6]);
        assert_eq!(&out[..4], &[0.0; 4]);
        assert_eq!(&out[4..10], &[0.5; 6]);
        assert_eq!(&out[10..], &[0.0; 10]);
    }

    #[test]
    fn loops_to_the_end() {
        let out = mix(10, 0, None, true, 0, &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(out[16..], [0.5, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn fade_out_ends_silent() {
        let out = mix(10, 0, Some(10), false, 4, &[2.0; 20]);
        assert_eq!(out[18], 0.0);
        assert!(out[12] > out[16] && out[16] > 0.0);
    }

    #[test]
    fn chunks_equal_the_whole() {
        let src: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
        let whole = mix(50, 3, None, true, 7, &src);
        let t = MixTrack::new(
            plan_track(3, None, true, 7),
            Arc::new(Pcm::from_vec(src)),
            50,
        );
        let m = mixer(50, vec![t]);
        let mut chunked = Vec::new();
        for start in (0..50).step_by(16) {
            let mut buf = vec![0f32; 32];
            m.fill(start, &mut buf);
            chunked.extend_from_slice(&buf);
        }
        assert_eq!(&chunked[..100], &whole[..]);
    }

    #[test]
    fn resample_keeps_duration_and_level() {
        let rate = 22_050u32;
        let n = rate as usize; // 1 s
        let tone: Vec<f32> = (0..n)
            .flat_map(|i| {
                let s = (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5;
                [s, s]
            })
            .collect();
        let out = resample(rate, tone).unwrap_or_default();
        assert!(
            (out.len() as i64 / 2 - 48_000).abs() <= 2,
            "{}",
            out.len() / 2
        );
        let mid = &out[20_000..76_000];
        let db = rms_dbfs(mid);
        // 0.5 amplitude sine = -9.03 dBFS RMS.
        assert!((db + 9.03).abs() < 0.1, "{db}");
    }

    /// A file-backed [`Pcm`] of `samples` (spilled after 4 frames).
    fn spilled(samples: &[f32]) -> Pcm {
        let dir = std::env::temp_dir();
        let mut w = PcmWriter::new(Some(&dir), 4);
        for c in samples.chunks(6) {
            w.push(c).expect("push");
        }
        let p = w.finish().expect("finish");
        assert!(matches!(p.store, PcmStore::File(_)));
        p
    }

    #[test]
    fn spilled_sources_mix_like_memory() {
        let src: Vec<f32> = (0..200).map(|i| (i as f32 * 0.21).sin()).collect();
        let mut track = plan_track(5, None, true, 9);
        track.loop_crossfade = 13;
        track.trim = 3;
        let total = 700u64;
        let a = MixTrack::new(track.clone(), Arc::new(Pcm::from_vec(src.clone())), total);
        let b = MixTrack::new(track, Arc::new(spilled(&src)), total);
        let (ma, mb) = (mixer(total, vec![a]), mixer(total, vec![b]));
        assert_eq!(ma.mix_all(), mb.mix_all());
        // Ranges that start inside a repeat and cross the crossfade.
        for start in [0u64, 97, 180, 181, 333] {
            let (mut x, mut y) = (vec![0f32; 2 * 77], vec![0f32; 2 * 77]);
            ma.fill(start, &mut x);
            mb.fill(start, &mut y);
            assert_eq!(x, y, "from {start}");
        }
        assert!(mb.error().is_none());
        let mut past = vec![1f32; 8];
        spilled(&src).read(99, &mut past);
        assert_eq!(&past[..2], &src[198..200]);
        assert_eq!(&past[2..], &[0.0; 6]);
    }

    #[test]
    fn streaming_resampler_equals_the_whole_clip() {
        for (rate, frames) in [(22_050u32, 30_001usize), (44_100, 1024 * 7), (8_000, 300)] {
            let tone: Vec<f32> = (0..frames)
                .flat_map(|i| {
                    let s = (i as f32 * 0.05).sin() * 0.5;
                    [s, -s]
                })
                .collect();
            let whole = resample(rate, tone.clone()).expect("whole");
            let mut sink = PcmWriter::new(None, SPILL_FRAMES);
            let mut r = StreamResampler::new(rate).expect("resampler");
            for c in tone.chunks(2 * 777) {
                r.push(c, &mut sink).expect("push");
            }
            r.finish(&mut sink).expect("finish");
            let PcmStore::Memory(streamed) = sink.finish().expect("pcm").store else {
                panic!("in memory");
            };
            assert_eq!(streamed.len(), whole.len(), "{rate} Hz");
            let worst = streamed
                .iter()
                .zip(&whole)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-5, "{rate} Hz: {worst}");
        }
    }
}
