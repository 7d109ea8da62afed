//! Stage "mix": loads the WAV tracks, resamples them to 48 kHz (rubato), applies gain, fades and
//! looping, and sums them into one stereo buffer exactly as long as the video.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::{AssetError, SpecIssue};
use crate::timeline::{Plan, PlanTrack, SAMPLE_RATE};

/// Interleaved stereo f32 PCM at [`SAMPLE_RATE`].
#[derive(Debug, Clone, Default)]
pub struct Pcm {
    /// `L, R, L, R, ...`
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / 2
    }
}

/// What the mix stage produced.
#[derive(Debug, Clone)]
pub struct Mixed {
    /// The mix, exactly `plan.total_samples` frames.
    pub pcm: Pcm,
    /// Peak absolute sample value before the safety clamp (1.0 = 0 dBFS).
    pub peak: f32,
    /// Number of samples beyond full scale that were clamped.
    pub limited_samples: u64,
}

/// Loads a WAV file as interleaved stereo f32 at its own rate. Returns (rate, samples).
///
/// # Errors
/// A message naming the file and the problem.
pub fn load_wav(p: &Path) -> Result<(u32, Vec<f32>), String> {
    let mut r =
        hound::WavReader::open(p).map_err(|e| format!("cannot read WAV {}: {e}", p.display()))?;
    let spec = r.spec();
    if !(1..=2).contains(&spec.channels) {
        return Err(format!(
            "{} has {} channels (expected mono or stereo)",
            p.display(),
            spec.channels
        ));
    }
    if !(8000..=384_000).contains(&spec.sample_rate) {
        return Err(format!(
            "{} has sample rate {} Hz (expected 8000..=384000)",
            p.display(),
            spec.sample_rate
        ));
    }
    let bad = |e: hound::Error| format!("cannot decode WAV {}: {e}", p.display());
    let mono: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().collect::<Result<_, _>>().map_err(bad)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    let stereo = if spec.channels == 1 {
        mono.iter().flat_map(|&s| [s, s]).collect()
    } else {
        mono
    };
    Ok((spec.sample_rate, stereo))
}

/// Resamples interleaved stereo to [`SAMPLE_RATE`].
fn resample(rate: u32, stereo: Vec<f32>) -> Result<Vec<f32>, String> {
    if rate == SAMPLE_RATE || stereo.is_empty() {
        return Ok(stereo);
    }
    let frames = stereo.len() / 2;
    let mut rs = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        1024,
        2,
        FixedSync::Input,
    )
    .map_err(|e| format!("resampler: {e}"))?;
    let input =
        InterleavedSlice::new(&stereo[..], 2, frames).map_err(|e| format!("resampler: {e}"))?;
    let out = rs
        .process_all(&input, frames, None)
        .map_err(|e| format!("resampler: {e}"))?;
    Ok(out.take_data())
}

/// Loads and mixes every track of `plan`.
///
/// # Errors
/// [`AssetError::Load`] listing every track whose file cannot be used, with its spec path.
pub fn mix(plan: &Plan) -> Result<Mixed, AssetError> {
    // Decode + resample each distinct file once.
    let mut files: HashMap<PathBuf, String> = HashMap::new();
    for t in &plan.tracks {
        files
            .entry(t.src.clone())
            .or_insert_with(|| format!("{}.src", t.path));
    }
    type Loaded = (PathBuf, Result<Arc<Vec<f32>>, SpecIssue>);
    let loaded: Vec<Loaded> = files
        .into_par_iter()
        .map(|(p, path)| {
            let r = load_wav(&p)
                .and_then(|(rate, s)| resample(rate, s))
                .map(Arc::new)
                .map_err(|message| SpecIssue { path, message });
            (p, r)
        })
        .collect();
    let mut sources = HashMap::new();
    let mut issues = Vec::new();
    for (p, r) in loaded {
        match r {
            Ok(s) => {
                sources.insert(p, s);
            }
            Err(i) => issues.push(i),
        }
    }
    if !issues.is_empty() {
        issues.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(AssetError::Load(issues));
    }

    let total = plan.total_samples as usize;
    let mut out = vec![0f32; total * 2];
    for t in &plan.tracks {
        add_track(&mut out, t, &sources[&t.src]);
    }
    let mut peak = 0f32;
    let mut limited = 0u64;
    for s in &mut out {
        peak = peak.max(s.abs());
        if s.abs() > 1.0 {
            limited += 1;
            // Safety clamp only: the encoder must never see values beyond full scale. Proper
            // loudness control and limiting belong to the audio issue; the report counts these.
            *s = s.clamp(-1.0, 1.0);
        }
    }
    Ok(Mixed {
        pcm: Pcm { samples: out },
        peak,
        limited_samples: limited,
    })
}

/// Adds one track into `out` (interleaved stereo, timeline length).
fn add_track(out: &mut [f32], t: &PlanTrack, src: &[f32]) {
    let src_frames = src.len() / 2;
    let total = out.len() / 2;
    let start = t.start as usize;
    if src_frames == 0 || start >= total {
        return;
    }
    let natural = if t.looped { total - start } else { src_frames };
    let len = (t.duration.map_or(natural, |d| d as usize)).min(total - start);
    let fade_in = t.fade_in as usize;
    let fade_out = t.fade_out as usize;
    for i in 0..len {
        let si = if t.looped {
            i % src_frames
        } else if i < src_frames {
            i
        } else {
            break;
        };
        let mut g = t.gain;
        if i < fade_in {
            g *= i as f32 / fade_in as f32;
        }
        let left = len - i;
        if left <= fade_out {
            g *= (left - 1) as f32 / fade_out as f32;
        }
        let o = (start + i) * 2;
        out[o] += src[si * 2] * g;
        out[o + 1] += src[si * 2 + 1] * g;
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

    fn track(start: u64, duration: Option<u64>, looped: bool) -> PlanTrack {
        PlanTrack {
            path: "audio.tracks[0]".into(),
            src: PathBuf::new(),
            start,
            duration,
            gain: 0.5,
            fade_in: 0,
            fade_out: 0,
            looped,
        }
    }

    #[test]
    fn places_and_gains() {
        let mut out = vec![0f32; 20];
        add_track(&mut out, &track(2, None, false), &[1.0; 6]);
        assert_eq!(&out[..4], &[0.0; 4]);
        assert_eq!(&out[4..10], &[0.5; 6]);
        assert_eq!(&out[10..], &[0.0; 10]);
    }

    #[test]
    fn loops_to_the_end() {
        let mut out = vec![0f32; 20];
        add_track(&mut out, &track(0, None, true), &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(out[16..], [0.5, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn fade_out_ends_silent() {
        let mut t = track(0, Some(10), false);
        t.fade_out = 4;
        t.gain = 1.0;
        let mut out = vec![0f32; 20];
        add_track(&mut out, &t, &[1.0; 20]);
        assert_eq!(out[18], 0.0);
        assert!(out[12] > out[16] && out[16] > 0.0);
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
}
