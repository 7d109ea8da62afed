//! The clip's sound: decoded by [`crate::media::probe::decode_audio`], trimmed, sped up by
//! resampling (rubato) to 48 kHz stereo, looped.

use std::path::Path;

use ff::media;
use ffmpeg_next as ff;

use super::clip::{ClipTiming, VideoError, AUDIO_RATE};

/// Facts [`clip_audio`] needs: (video start s, video end s) relative to the container.
fn video_span(path: &Path) -> Result<Option<(f64, f64)>, VideoError> {
    let ictx = crate::media::probe::open_input(path, None)
        .map_err(|source| super::clip::open_error(path, source))?;
    if ictx.streams().best(media::Type::Audio).is_none() {
        return Ok(None);
    }
    let Some(st) = ictx.streams().best(media::Type::Video) else {
        return Err(VideoError::NoVideo { path: path.into() });
    };
    let tb = f64::from(st.time_base());
    let start = if st.start_time() == ff::ffi::AV_NOPTS_VALUE {
        0.0
    } else {
        st.start_time() as f64 * tb
    };
    let dur = if st.duration() != ff::ffi::AV_NOPTS_VALUE && st.duration() > 0 {
        st.duration() as f64 * tb
    } else {
        ictx.duration().max(0) as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    };
    Ok(Some((start, start + dur)))
}

/// The clip's audio for `timing` as 48 kHz interleaved stereo f32, or `None` when the file
/// has no audio stream.
///
/// The part `trim_start..trim_end` (default: to the end of the video stream) plays; mono is
/// placed in the centre. A `rate` other than 1 is applied by resampling, like tape: speed and
/// pitch change together (rate 2 plays an octave up). The result covers the clip's playing
/// time, `(trim_end - trim_start) / rate`, padded with silence where the audio stream is
/// shorter than the video; it is cut to `seconds`, and when looped repeats to exactly
/// `seconds` (the period is the video's, so sound and picture stay together). Audio and
/// picture keep the alignment of their streams in the file.
///
/// # Errors
/// [`VideoError`] naming the file when it cannot be opened, the audio cannot be decoded or
/// resampled, or `timing`/`seconds` is out of range.
pub fn clip_audio(
    path: &Path,
    timing: &ClipTiming,
    seconds: f64,
) -> Result<Option<Vec<f32>>, VideoError> {
    timing.check(path)?;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(VideoError::Invalid {
            path: path.into(),
            message: format!("invalid audio length {seconds} s (expected >= 0)"),
        });
    }
    let Some((v_start, v_end)) = video_span(path)? else {
        return Ok(None);
    };
    let audio_err = |message: String| VideoError::Audio {
        path: path.into(),
        message,
    };
    let d = crate::media::probe::decode_audio(path).map_err(|e| audio_err(e.to_string()))?;
    if d.rate == 0 {
        return Err(audio_err("sample rate 0".into()));
    }
    let stereo: Vec<f32> = if d.channels == 1 {
        d.samples.iter().flat_map(|&s| [s, s]).collect()
    } else {
        d.samples
    };
    let src_frames = stereo.len() / 2;
    // Source seconds (video time 0 = the video stream's start) → decoded frame index.
    let offset = d.start_s - v_start;
    let end_s = timing
        .trim_end
        .unwrap_or(f64::INFINITY)
        .min(v_end - v_start);
    let span_s = (end_s - timing.trim_start).max(0.0);
    let first = ((timing.trim_start - offset) * f64::from(d.rate)).round() as i64;
    let count = (span_s * f64::from(d.rate)).round() as i64;
    let mut segment = vec![0f32; count.max(0) as usize * 2];
    for (i, out) in segment.chunks_exact_mut(2).enumerate() {
        let s = first + i as i64;
        if s >= 0 && (s as usize) < src_frames {
            out.copy_from_slice(&stereo[s as usize * 2..s as usize * 2 + 2]);
        }
    }
    // Playing `rate` times faster = treating the samples as recorded at rate × R.
    let period = (span_s / timing.rate * f64::from(AUDIO_RATE)).round() as usize;
    let mut played = resample_to_48k(&segment, f64::from(d.rate) * timing.rate)
        .map_err(|e| audio_err(e.to_string()))?;
    played.resize(period * 2, 0.0);
    let want = (seconds * f64::from(AUDIO_RATE)).round() as usize;
    if timing.looped && period > 0 {
        let out = played.iter().copied().cycle().take(want * 2).collect();
        return Ok(Some(out));
    }
    played.truncate(want.min(period) * 2);
    Ok(Some(played))
}

/// Resamples interleaved stereo from `rate` (any positive value) to 48 kHz.
fn resample_to_48k(stereo: &[f32], rate: f64) -> Result<Vec<f32>, crate::media::error::SoundError> {
    let resampler =
        |e: &dyn std::fmt::Display| crate::media::error::SoundError::Resampler(e.to_string());
    use rubato::audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{
        Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
        WindowFunction,
    };
    let frames = stereo.len() / 2;
    if frames == 0 || (rate - f64::from(AUDIO_RATE)).abs() < 1e-9 {
        return Ok(stereo.to_vec());
    }
    let params = SincInterpolationParameters {
        sinc_len: 128,
        f_cutoff: None,
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window: WindowFunction::BlackmanHarris2,
    };
    let mut rs = Async::<f32>::new_sinc(
        f64::from(AUDIO_RATE) / rate,
        1.0,
        &params,
        1024,
        2,
        FixedAsync::Input,
    )
    .map_err(|e| resampler(&e))?;
    let input = InterleavedSlice::new(stereo, 2, frames).map_err(|e| resampler(&e))?;
    let out = rs
        .process_all(&input, frames, None)
        .map_err(|e| resampler(&e))?;
    Ok(out.take_data())
}
