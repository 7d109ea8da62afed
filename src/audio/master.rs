//! Mastering, between the mix and the AAC encoder: EBU R128 loudness normalisation and a
//! true-peak ceiling.
//!
//! [`Master::new`] measures the whole mix once (integrated loudness, true peak; `ebur128`)
//! and sets the gain that brings it to the target. [`Master::fill_next`] then streams the
//! final audio: mix × gain, through a look-ahead limiter that keeps every sample under the
//! ceiling, and meters what leaves so the report states the loudness actually delivered.

use std::collections::VecDeque;

use ebur128::{EbuR128, Mode};

use crate::audio::mix::Mixer;
use crate::plan::{PlanLoudness, SAMPLE_RATE};

/// Look-ahead of the limiter: 5 ms. The gain starts falling this long before a peak.
const LOOKAHEAD: usize = (SAMPLE_RATE / 200) as usize;
/// Sample-peak threshold below the true-peak ceiling: room for inter-sample peaks and for
/// the overshoot of the AAC encoder.
const MARGIN_DB: f64 = 2.0;
/// Limiter release time constant.
const RELEASE_S: f64 = 0.05;

/// Loudness facts of the final mix.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct LoudnessReport {
    /// Integrated loudness of the mix before mastering, LUFS (None if silent).
    pub input_lufs: Option<f64>,
    /// Gain applied, dB.
    pub gain_db: f64,
    /// Integrated loudness of the delivered audio, LUFS (None if silent).
    pub output_lufs: Option<f64>,
    /// Loudness range of the delivered audio, LU.
    pub range_lu: Option<f64>,
    /// True peak of the delivered audio (before AAC), dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Samples whose gain the limiter reduced.
    pub limited_samples: u64,
}

/// The mastering stage; see the module docs.
pub struct Master {
    mixer: Mixer,
    gain: f32,
    limiter: Limiter,
    meter: Option<EbuR128>,
    /// Next timeline sample to pull from the mixer (runs `LOOKAHEAD - 1` ahead of output).
    next_in: u64,
    /// Next timeline sample to deliver.
    next_out: u64,
    raw: Vec<f32>,
    report: LoudnessReport,
    /// A fixed report (silent timelines, which are not metered).
    measured: Option<LoudnessReport>,
}

impl std::fmt::Debug for Master {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Master")
            .field("gain", &self.gain)
            .field("report", &self.report)
            .finish()
    }
}

fn meter(mode: Mode) -> Option<EbuR128> {
    EbuR128::new(2, SAMPLE_RATE, mode).ok()
}

fn finite(v: Result<f64, ebur128::Error>) -> Option<f64> {
    v.ok().filter(|v| v.is_finite())
}

fn true_peak_db(m: &EbuR128) -> Option<f64> {
    let p = (0..2)
        .filter_map(|c| m.true_peak(c).ok())
        .fold(0.0f64, f64::max);
    (p > 0.0).then(|| 20.0 * p.log10())
}

impl Master {
    /// Measures the whole mix and prepares the gain and limiter for `settings`.
    ///
    /// Passes over the timeline (each mixes it once, in one-second chunks): one to measure
    /// the input, then rehearsals of the delivery while the limiter still moves the loudness
    /// by 0.25 LU or more (at most four). The delivery ([`Master::fill_next`]) meters what it
    /// delivers, so [`Master::report`] gives its loudness, range and true peak once all of
    /// it has been taken.
    pub fn new(mixer: Mixer, settings: &PlanLoudness) -> Master {
        let ceiling = 10f64.powf((settings.ceiling_db - MARGIN_DB) / 20.0) as f32;
        let build = |gain_db: f64, report: LoudnessReport, mode: Option<Mode>| Master {
            mixer: mixer.clone(),
            gain: 10f64.powf(gain_db / 20.0) as f32,
            limiter: Limiter::new(ceiling),
            meter: mode.and_then(meter),
            next_in: 0,
            next_out: 0,
            raw: Vec::new(),
            report,
            measured: None,
        };
        let mut report = LoudnessReport::default();
        if mixer.is_silent() {
            // Nothing to measure or limit: skip the passes (hours of silence cost nothing).
            let mut master = build(0.0, report, None);
            master.measured = Some(report);
            return master;
        }
        if settings.normalize {
            if let Some(mut m) = meter(Mode::I) {
                let chunk = SAMPLE_RATE as usize;
                let mut buf = vec![0f32; chunk * 2];
                let total = mixer.total_samples();
                let mut pos = 0u64;
                while pos < total {
                    let n = chunk.min((total - pos) as usize);
                    mixer.fill(pos, &mut buf[..n * 2]);
                    let _ = m.add_frames_f32(&buf[..n * 2]);
                    pos += n as u64;
                }
                report.input_lufs = finite(m.loudness_global());
                if let Some(l) = report.input_lufs {
                    report.gain_db = settings.target_lufs - l;
                }
            }
        }
        // Limiting peaks lowers the loudness a little: rehearse and correct the gain.
        if let (true, Some(_)) = (settings.normalize, report.input_lufs) {
            for _ in 0..4 {
                let got = build(report.gain_db, report, Some(Mode::I)).rehearse();
                let Some(out) = got.output_lufs else { break };
                let miss = settings.target_lufs - out;
                if got.limited_samples == 0 || miss.abs() < 0.25 {
                    break;
                }
                report.gain_db += miss;
            }
        }
        // The delivery itself is metered (loudness, range, true peak): a pass of its own
        // before it would measure the same samples again.
        build(
            report.gain_db,
            report,
            Some(Mode::I | Mode::LRA | Mode::TRUE_PEAK),
        )
    }

    /// Runs the whole delivery and returns its measurements.
    fn rehearse(mut self) -> LoudnessReport {
        let mut buf = vec![0f32; SAMPLE_RATE as usize * 2];
        let total = self.total_samples();
        while self.next_out < total {
            let n = (SAMPLE_RATE as u64).min(total - self.next_out) as usize;
            self.fill_next(&mut buf[..n * 2]);
        }
        self.report()
    }

    /// The first error reading decoded source audio back, if any (see [`Mixer::error`]).
    pub fn source_error(&self) -> Option<String> {
        self.mixer.error()
    }

    /// Timeline length in samples.
    pub fn total_samples(&self) -> u64 {
        self.mixer.total_samples()
    }

    /// Writes the next `out.len() / 2` delivered samples (interleaved stereo) and returns the
    /// timeline position they start at. Calls must follow each other.
    pub fn fill_next(&mut self, out: &mut [f32]) -> u64 {
        let start = self.next_out;
        let n = out.len() / 2;
        // Prime the look-ahead once: the limiter outputs sample k after seeing k + LAG.
        let need_in = self.next_out + n as u64 + LAG as u64;
        let pull = (need_in - self.next_in) as usize;
        self.raw.resize(pull * 2, 0.0);
        self.mixer.fill(self.next_in, &mut self.raw);
        self.next_in = need_in;
        let mut produced = 0;
        for frame in self.raw.chunks_exact(2) {
            let l = frame[0] * self.gain;
            let r = frame[1] * self.gain;
            if let Some((ol, or, limited)) = self.limiter.push(l, r) {
                out[produced * 2] = ol;
                out[produced * 2 + 1] = or;
                if limited {
                    self.report.limited_samples += 1;
                }
                produced += 1;
            }
        }
        debug_assert_eq!(produced, n);
        self.next_out += n as u64;
        if let Some(m) = &mut self.meter {
            let _ = m.add_frames_f32(out);
        }
        start
    }

    /// Loudness of the audio delivered so far: of the whole delivery once it has all been
    /// taken through [`Master::fill_next`].
    pub fn report(&self) -> LoudnessReport {
        if let Some(r) = self.measured {
            return r;
        }
        let mut r = self.report;
        if let Some(m) = &self.meter {
            r.output_lufs = finite(m.loudness_global());
            r.range_lu = finite(m.loudness_range()).filter(|_| r.output_lufs.is_some());
            r.true_peak_dbtp = true_peak_db(m);
        }
        r
    }

    /// The whole delivered timeline, interleaved (tests and analysis).
    pub fn deliver_all(&mut self) -> Vec<f32> {
        let mut out = vec![0f32; self.total_samples() as usize * 2];
        self.fill_next(&mut out);
        out
    }
}

/// Samples between a sample entering the limiter and leaving it.
const LAG: usize = LOOKAHEAD + 1;

/// A stereo-linked look-ahead brick-wall limiter on estimated true peaks.
///
/// Each sample's peak is the larger of the sample and the waveform between it and the next
/// one (4-point cubic interpolation at three points: a 4x oversampled estimate of the true
/// peak). A minimum filter over the look-ahead window followed by a moving average of the
/// same length guarantees that the gain applied to each sample is at most what that sample
/// needs, with no instantaneous gain steps; the gain then recovers exponentially.
struct Limiter {
    ceiling: f32,
    /// Last four input samples (for the interpolation).
    hist: [(f32, f32); 4],
    delay: VecDeque<(f32, f32)>,
    /// Monotonic deque of (index, needed gain) for the window minimum.
    mins: VecDeque<(u64, f32)>,
    /// Last `LOOKAHEAD` smoothed minima and their sum, for the moving average.
    avg: VecDeque<f32>,
    sum: f64,
    held: f32,
    release: f32,
    index: u64,
}

/// Peak of the cubic (Catmull-Rom) curve through p0..p3 between p1 and p2, sampled at 1/4,
/// 1/2 and 3/4.
fn inter_sample_peak(p0: f32, p1: f32, p2: f32, p3: f32) -> f32 {
    let mut m = 0f32;
    for t in [0.25f32, 0.5, 0.75] {
        let v = 0.5
            * (2.0 * p1
                + (-p0 + p2) * t
                + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t * t
                + (-p0 + 3.0 * p1 - 3.0 * p2 + p3) * t * t * t);
        m = m.max(v.abs());
    }
    m
}

impl Limiter {
    fn new(ceiling: f32) -> Limiter {
        Limiter {
            ceiling,
            hist: [(0.0, 0.0); 4],
            delay: VecDeque::with_capacity(LAG + 1),
            mins: VecDeque::new(),
            avg: VecDeque::with_capacity(LOOKAHEAD + 1),
            sum: 0.0,
            held: 1.0,
            release: 1.0 - (-1.0 / (RELEASE_S * f64::from(SAMPLE_RATE))).exp() as f32,
            index: 0,
        }
    }

    /// Takes one input sample; once the pipeline is full, returns the sample that leaves it
    /// (`LAG` samples earlier) and whether its gain was reduced.
    fn push(&mut self, l: f32, r: f32) -> Option<(f32, f32, bool)> {
        self.hist = [self.hist[1], self.hist[2], self.hist[3], (l, r)];
        self.delay.push_back((l, r));
        // The peak of sample m = newest - 2, now that m - 1 ..= m + 2 are known.
        let [a, b, c, d] = self.hist;
        let near = [a, b, c, d]
            .iter()
            .fold(0f32, |m, s| m.max(s.0.abs()).max(s.1.abs()));
        // A Catmull-Rom curve never exceeds 1.25x its four points: far below the ceiling
        // (nearly always) the interpolation cannot matter and is skipped.
        let peak = if near * 1.25 <= self.ceiling {
            b.0.abs().max(b.1.abs())
        } else {
            b.0.abs()
                .max(b.1.abs())
                .max(inter_sample_peak(a.0, b.0, c.0, d.0))
                .max(inter_sample_peak(a.1, b.1, c.1, d.1))
        };
        let need = if peak > self.ceiling {
            self.ceiling / peak
        } else {
            1.0
        };
        let m = self.index;
        self.index += 1;
        while self.mins.back().is_some_and(|&(_, g)| g >= need) {
            self.mins.pop_back();
        }
        self.mins.push_back((m, need));
        while self
            .mins
            .front()
            .is_some_and(|&(j, _)| j + (LOOKAHEAD as u64) <= m)
        {
            self.mins.pop_front();
        }
        let window_min = self.mins.front().map_or(1.0, |&(_, g)| g);
        // Never above the window minimum; rise back towards 1 at the release rate.
        self.held = window_min.min(self.held + (1.0 - self.held) * self.release);
        self.avg.push_back(self.held);
        self.sum += f64::from(self.held);
        if self.avg.len() > LOOKAHEAD {
            self.sum -= f64::from(self.avg.pop_front().unwrap_or(1.0));
        }
        // `need` above belongs to the sample two places back in the delay line; the sample
        // leaving now is `LOOKAHEAD - 1` needs behind the newest one.
        if self.delay.len() <= LAG {
            return None;
        }
        let (dl, dr) = self.delay.pop_front()?;
        let g = ((self.sum / LOOKAHEAD as f64) as f32).min(1.0);
        Some((dl * g, dr * g, g < 0.99))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_holds_the_ceiling_and_delays_exactly() {
        let mut lim = Limiter::new(0.5);
        let input: Vec<f32> = (0..20_000)
            .map(|i| {
                if (1000..1010).contains(&i) {
                    1.5
                } else {
                    0.25 * ((i as f32) * 0.05).sin()
                }
            })
            .collect();
        let mut out = Vec::new();
        for &x in &input {
            if let Some((l, _, _)) = lim.push(x, x) {
                out.push(l);
            }
        }
        for _ in 0..LAG {
            if let Some((l, _, _)) = lim.push(0.0, 0.0) {
                out.push(l);
            }
        }
        assert_eq!(out.len(), input.len());
        assert!(
            out.iter().all(|s| s.abs() <= 0.5 + 1e-6),
            "max {}",
            out.iter().fold(0f32, |a, s| a.max(s.abs()))
        );
        // Far from the peak the signal passes untouched, in place.
        assert_eq!(out[100], input[100]);
        assert!((out[19_000] - input[19_000]).abs() < 1e-4, "released");
    }
}
