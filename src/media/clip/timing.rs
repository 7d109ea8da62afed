//! Clip time: what part of a clip plays and how fast ([`ClipTiming`]), and the exact mapping
//! from output frames to source times.

use std::path::Path;

use ff::Rational;
use ffmpeg_next as ff;

use super::VideoError;

/// What part of a clip plays and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTiming {
    /// Seconds into the source where playback starts. Default: 0.
    pub trim_start: f64,
    /// Seconds into the source where playback ends (exclusive). Default: the clip's end.
    pub trim_end: Option<f64>,
    /// Playback speed, 0.25..=4. Default: 1.
    pub rate: f64,
    /// Wrap to `trim_start` at the end instead of holding the last frame. Default: false.
    pub looped: bool,
}

impl Default for ClipTiming {
    fn default() -> ClipTiming {
        ClipTiming {
            trim_start: 0.0,
            trim_end: None,
            rate: 1.0,
            looped: false,
        }
    }
}

impl ClipTiming {
    pub(in crate::media) fn check(&self, path: &Path) -> Result<(), VideoError> {
        let bad = |message: String| {
            Err(VideoError::Invalid {
                path: path.into(),
                message,
            })
        };
        if !(self.rate.is_finite() && (0.25..=4.0).contains(&self.rate)) {
            return bad(format!("invalid rate {} (expected 0.25..=4)", self.rate));
        }
        if !(self.trim_start.is_finite() && self.trim_start >= 0.0) {
            return bad(format!(
                "invalid trim_start {} s (expected >= 0)",
                self.trim_start
            ));
        }
        if let Some(end) = self.trim_end {
            if !(end.is_finite() && end > self.trim_start) {
                return bad(format!(
                    "invalid trim_end {end} s (expected > trim_start {} s)",
                    self.trim_start
                ));
            }
        }
        Ok(())
    }
}

/// Output frame → source time, exactly: output frame `k` targets
/// `start + floor(k * num / den)` stream ticks (before looping/holding).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mapping {
    /// The first target, stream ticks.
    pub(super) start: i64,
    end: Option<i64>,
    num: i128,
    den: i128,
    /// Wrap at the end instead of holding.
    pub(super) looped: bool,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

impl Mapping {
    pub(super) fn new(
        timing: &ClipTiming,
        out_fps: (u32, u32),
        tb: Rational,
        zero: i64,
    ) -> Mapping {
        let ticks = |s: f64| {
            zero + (s * f64::from(tb.denominator()) / f64::from(tb.numerator())).round() as i64
        };
        // The speed as a fraction with a micro-unit denominator (exact for 2, 0.5, 1.5, …).
        let (rn, rd) = ((timing.rate * 1e6).round() as i128, 1_000_000i128);
        let num = rn * i128::from(out_fps.1) * i128::from(tb.denominator());
        let den = rd * i128::from(out_fps.0) * i128::from(tb.numerator());
        let g = gcd(num, den);
        Mapping {
            start: ticks(timing.trim_start),
            end: timing.trim_end.map(ticks),
            num: num / g,
            den: den / g,
            looped: timing.looped,
        }
    }

    /// The loop period in ticks, when known: to `trim_end`, or to the end of the stream once
    /// it has been seen (`eof_end`), whichever comes first.
    pub(super) fn period(&self, eof_end: Option<i64>) -> Option<i64> {
        let end = match (self.end, eof_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        end.map(|e| e - self.start).filter(|&p| p > 0)
    }

    /// (loop cycle, target ticks) of output frame `k`.
    pub(super) fn target(&self, k: u64, eof_end: Option<i64>) -> (u64, i64) {
        let n = i128::from(k) * self.num;
        if self.looped {
            if let Some(p) = self.period(eof_end) {
                let span = i128::from(p) * self.den;
                return (
                    (n / span) as u64,
                    self.start + ((n % span) / self.den) as i64,
                );
            }
        }
        let t = self
            .start
            .saturating_add((n / self.den).min(i128::from(i64::MAX)) as i64);
        match self.end {
            // Past trim_end: the last frame before it.
            Some(end) if t >= end => (0, end - 1),
            _ => (0, t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(rate: f64, fps: (u32, u32), tb: (i32, i32), trim: f64, looped: bool) -> Mapping {
        let timing = ClipTiming {
            trim_start: trim,
            rate,
            looped,
            ..ClipTiming::default()
        };
        Mapping::new(&timing, fps, Rational(tb.0, tb.1), 0)
    }

    #[test]
    fn targets_are_exact_over_hours() {
        // 29.97 source (tb 1/30000) read at 30 fps: frame k targets floor(k * 1000) ticks.
        let m = mapping(1.0, (30, 1), (1, 30000), 0.0, false);
        for k in [0u64, 1, 1799, 432_000, 4 * 3600 * 30] {
            assert_eq!(m.target(k, None).1, (k * 1000) as i64);
        }
        // Rate 2 at 25 fps after a 1 s trim, tb 1/12800: 1 s + 2k/25 s.
        let m = mapping(2.0, (25, 1), (1, 12800), 1.0, false);
        assert_eq!(m.target(0, None).1, 12800);
        assert_eq!(m.target(7, None).1, 12800 + 7 * 1024);
    }

    #[test]
    fn loops_and_holds() {
        let m = mapping(1.0, (25, 1), (1, 25), 0.0, true);
        assert_eq!(m.target(30, None), (0, 30));
        assert_eq!(m.target(37, Some(25)), (1, 12));
        let mut m = mapping(1.0, (25, 1), (1, 25), 0.0, false);
        m.end = Some(10);
        assert_eq!(m.target(12, Some(25)), (0, 9));
    }
}
