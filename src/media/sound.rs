//! Audio files decoded (any format libav reads), resampled to 48 kHz stereo (rubato) and kept
//! in memory or spilled to a temporary file ([`Pcm`]); an audio file's length and level
//! ([`levels`]), for `"duration": "auto"` and for timing captions by the voice.

use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::base::env::EnvError;
use crate::media::error::SoundError;
use crate::media::load::LoadFailure;
use crate::plan::SAMPLE_RATE;

/// An audio file's length and level over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    /// Length, seconds.
    pub seconds: f64,
    /// The RMS level in dBFS of each 10 ms of the mono mix.
    pub db: Vec<f32>,
}

/// Decodes `p` once for its length (for `"duration": "auto"`) and its level every 10 ms (for
/// timing captions by the voice, [`crate::plan::captions::Speech`]).
///
/// # Errors
/// [`SoundError`] naming the file and the problem.
pub fn levels(p: &Path) -> Result<Levels, SoundError> {
    let (mut frames, mut sum, mut n) = (0u64, 0f64, 0u32);
    let mut env = Vec::new();
    let rate = stream_audio(p, &mut |rate, s| {
        let window = (rate / 100).max(1);
        for pair in s.chunks_exact(2) {
            let m = f64::from(pair[0] + pair[1]) * 0.5;
            sum += m * m;
            n += 1;
            if n == window {
                env.push((10.0 * (sum / f64::from(n) + 1e-12).log10()) as f32);
                (sum, n) = (0.0, 0);
            }
        }
        frames += s.len() as u64 / 2;
        Ok(())
    })?;
    Ok(Levels {
        seconds: frames as f64 / f64::from(rate),
        db: env,
    })
}

/// Receives `(rate, interleaved stereo samples)`.
type StereoSink<'a> = dyn FnMut(u32, &[f32]) -> Result<(), SoundError> + 'a;

/// Decodes `p` chunk by chunk as interleaved stereo f32 at its own rate into `sink`
/// (`sink(rate, samples)`). Returns the rate.
fn stream_audio(p: &Path, sink: &mut StereoSink<'_>) -> Result<u32, SoundError> {
    let mut stereo: Vec<f32> = Vec::new();
    let mut frames = 0u64;
    let mut failure = None;
    let res = crate::media::probe::decode_audio_stream(p, &mut |head, chunk| {
        if let Err(message) = check_rate(p, head.rate) {
            failure = Some(message);
            return Err(crate::media::error::ProbeError::Io {
                path: p.into(),
                source: std::io::Error::other("unsupported sample rate"),
            });
        }
        let s = if head.channels == 1 {
            stereo.clear();
            stereo.extend(chunk.iter().flat_map(|&s| [s, s]));
            &stereo[..]
        } else {
            chunk
        };
        frames += s.len() as u64 / 2;
        sink(head.rate, s).map_err(|e| {
            failure = Some(e);
            crate::media::error::ProbeError::Io {
                path: p.into(),
                source: std::io::Error::other("sink failed"),
            }
        })
    });
    let (head, _) = match (res, failure) {
        (_, Some(failure)) => return Err(failure),
        (Err(e), None) => return Err(SoundError::Decode(e)),
        (Ok(h), None) => h,
    };
    // A file without samples never reached the sink's check.
    check_rate(p, head.rate)?;
    if frames == 0 {
        return Err(SoundError::Empty { path: p.into() });
    }
    Ok(head.rate)
}

/// Sample rates reelsmith accepts from a source file.
fn check_rate(p: &Path, rate: u32) -> Result<(), SoundError> {
    if (8000..=384_000).contains(&rate) {
        Ok(())
    } else {
        Err(SoundError::Rate {
            path: p.into(),
            rate,
        })
    }
}

/// Sources longer than this many frames (1 s) are kept in an unnamed temporary file instead
/// of memory, so memory does not grow with the length of the narration and music.
pub(crate) const SPILL_FRAMES: usize = SAMPLE_RATE as usize;

/// Decoded source audio: interleaved stereo f32 at [`SAMPLE_RATE`], in memory when short,
/// otherwise in an unnamed temporary file (gone when closed, even after a crash) read by
/// position as the mix needs it. The page cache holds it, not the process.
#[derive(Debug)]
pub struct Pcm {
    frames: u64,
    pub(crate) store: PcmStore,
    /// The first read error (reads fill silence; [`Mixer::error`] reports it).
    pub(crate) failed: std::sync::OnceLock<String>,
}

#[derive(Debug)]
pub(crate) enum PcmStore {
    Memory(Vec<f32>),
    File(std::fs::File),
}

impl Pcm {
    /// Samples held in memory.
    pub fn from_vec(samples: Vec<f32>) -> Pcm {
        Pcm {
            frames: samples.len() as u64 / 2,
            store: PcmStore::Memory(samples),
            failed: std::sync::OnceLock::new(),
        }
    }

    /// Frames (stereo sample pairs).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Copies frames `from..from + out.len() / 2` into `out`; silence past the end.
    pub fn read(&self, from: u64, out: &mut [f32]) {
        let n = (out.len() / 2) as u64;
        let have = self.frames.saturating_sub(from).min(n) as usize;
        match &self.store {
            PcmStore::Memory(v) => {
                let a = from as usize * 2;
                out[..have * 2].copy_from_slice(&v[a..a + have * 2]);
            }
            PcmStore::File(f) => {
                use std::os::unix::fs::FileExt;
                let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out[..have * 2]);
                if let Err(e) = f.read_exact_at(bytes, from * 8) {
                    let _ = self.failed.set(format!("reading decoded audio: {e}"));
                    out[..have * 2].fill(0.0);
                }
            }
        }
        out[have * 2..].fill(0.0);
    }
}

/// Collects decoded audio into a [`Pcm`], moving to a temporary file in `dir` once it is
/// longer than [`SPILL_FRAMES`].
pub(crate) struct PcmWriter<'a> {
    dir: Option<&'a Path>,
    /// Why writing the temporary file failed: the machine's problem, not the source's.
    env: Option<EnvError>,
    /// Frames kept in memory at most ([`SPILL_FRAMES`]).
    spill_after: usize,
    memory: Vec<f32>,
    file: Option<std::io::BufWriter<std::fs::File>>,
    frames: u64,
}

/// What [`PcmWriter`] was doing when the temporary file failed.
const SPILL_WRITE: &str = "writing decoded audio to a temporary file";

impl<'a> PcmWriter<'a> {
    pub(crate) fn new(dir: Option<&'a Path>, spill_after: usize) -> PcmWriter<'a> {
        PcmWriter {
            dir,
            env: None,
            spill_after,
            memory: Vec::new(),
            file: None,
            frames: 0,
        }
    }

    /// Records a failure of the temporary file (in `dir`) and returns it.
    fn failed(&mut self, e: std::io::Error) -> SoundError {
        let copy = std::io::Error::new(e.kind(), e.to_string());
        let dir = self.dir.unwrap_or(Path::new("."));
        self.env
            .get_or_insert_with(|| EnvError::new(SPILL_WRITE, dir, e));
        SoundError::Spill(copy)
    }

    pub(crate) fn push(&mut self, stereo: &[f32]) -> Result<(), SoundError> {
        use std::io::Write;
        self.frames += stereo.len() as u64 / 2;
        if self.file.is_none() {
            self.memory.extend_from_slice(stereo);
            if let (Some(dir), true) = (self.dir, self.memory.len() / 2 > self.spill_after) {
                let spilled = tempfile::tempfile_in(dir).and_then(|f| {
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
                    w.write_all(bytemuck::cast_slice(&self.memory))?;
                    Ok(w)
                });
                let w = spilled.map_err(|e| self.failed(e))?;
                self.memory = Vec::new();
                self.file = Some(w);
            }
            return Ok(());
        }
        if let Some(w) = &mut self.file {
            if let Err(e) = w.write_all(bytemuck::cast_slice(stereo)) {
                return Err(self.failed(e));
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Pcm, SoundError> {
        match self.file.take() {
            None => Ok(Pcm::from_vec(std::mem::take(&mut self.memory))),
            Some(w) => {
                let f = w.into_inner().map_err(|e| {
                    self.failed(e.into_error());
                    SoundError::Env(self.env.take().unwrap_or_else(|| {
                        EnvError::new(SPILL_WRITE, ".", std::io::Error::other("flush failed"))
                    }))
                })?;
                Ok(Pcm {
                    frames: self.frames,
                    store: PcmStore::File(f),
                    failed: std::sync::OnceLock::new(),
                })
            }
        }
    }
}

/// Resamples interleaved stereo to [`SAMPLE_RATE`] chunk by chunk: the same samples as
/// rubato's `process_all` on the whole clip (start-up delay trimmed, length
/// `ceil(frames * ratio)`), without holding the clip.
pub(crate) struct StreamResampler {
    rs: Fft<f32>,
    need: usize,
    pending: Vec<f32>,
    out: Vec<f32>,
    trim: usize,
    fed: u64,
    emitted: u64,
    ratio: f64,
}

impl StreamResampler {
    pub(crate) fn new(rate: u32) -> Result<StreamResampler, SoundError> {
        let rs = Fft::<f32>::new(
            rate as usize,
            SAMPLE_RATE as usize,
            1024,
            2,
            FixedSync::Input,
        )
        .map_err(|e| SoundError::Resampler(e.to_string()))?;
        Ok(StreamResampler {
            need: rs.input_frames_next(),
            out: vec![0.0; rs.output_frames_max() * 2],
            trim: rs.output_delay(),
            rs,
            pending: Vec::new(),
            fed: 0,
            emitted: 0,
            ratio: f64::from(SAMPLE_RATE) / f64::from(rate),
        })
    }

    /// Resamples one chunk: the first `valid` frames of `pending` (the rest is silence).
    fn run(
        &mut self,
        valid: usize,
        limit: u64,
        sink: &mut PcmWriter<'_>,
    ) -> Result<(), SoundError> {
        let frames = self.pending.len() / 2;
        let input = InterleavedSlice::new(&self.pending[..], 2, frames)
            .map_err(|e| SoundError::Resampler(e.to_string()))?;
        let out_frames = self.out.len() / 2;
        let mut output = InterleavedSlice::new_mut(&mut self.out[..], 2, out_frames)
            .map_err(|e| SoundError::Resampler(e.to_string()))?;
        let indexing = rubato::Indexing {
            partial_len: (valid < self.need).then_some(valid),
            ..Default::default()
        };
        let (_, produced) = self
            .rs
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| SoundError::Resampler(e.to_string()))?;
        let skip = self.trim.min(produced);
        self.trim -= skip;
        let keep = ((produced - skip) as u64).min(limit.saturating_sub(self.emitted)) as usize;
        sink.push(&self.out[skip * 2..(skip + keep) * 2])?;
        self.emitted += keep as u64;
        Ok(())
    }

    pub(crate) fn push(
        &mut self,
        stereo: &[f32],
        sink: &mut PcmWriter<'_>,
    ) -> Result<(), SoundError> {
        self.fed += stereo.len() as u64 / 2;
        let mut rest = stereo;
        while !rest.is_empty() {
            let take = (self.need * 2 - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.need * 2 {
                self.run(self.need, u64::MAX, sink)?;
                self.pending.clear();
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self, sink: &mut PcmWriter<'_>) -> Result<(), SoundError> {
        let expected = (self.ratio * self.fed as f64).ceil() as u64;
        let valid = self.pending.len() / 2;
        self.pending.resize(self.need * 2, 0.0);
        if valid > 0 {
            self.run(valid, expected, sink)?;
        }
        self.pending.fill(0.0);
        while self.emitted < expected {
            self.run(0, expected, sink)?;
        }
        Ok(())
    }
}

/// Decodes `p` and resamples it to [`SAMPLE_RATE`] stereo, streaming: long sources go to a
/// temporary file in `spill` (memory when `None`).
///
/// # Errors
/// [`SoundError`] naming the file and the problem; [`SoundError::Env`] when the temporary
/// file in `spill` failed (the machine's problem: no space, read-only, no permission).
pub fn load_pcm(p: &Path, spill: Option<&Path>) -> Result<Pcm, SoundError> {
    let mut sink = PcmWriter::new(spill, SPILL_FRAMES);
    let loaded = stream_into(p, &mut sink);
    if let Some(env) = sink.env.take() {
        return Err(SoundError::Env(env));
    }
    loaded?;
    sink.finish()
}

/// [`load_pcm`], telling a failure of the temporary file in `spill` (the machine's: no
/// space, read-only, no permission) from a problem of the source.
pub(crate) fn load_pcm_or_env(p: &Path, spill: Option<&Path>) -> Result<Pcm, LoadFailure> {
    load_pcm(p, spill).map_err(LoadFailure::from)
}

/// Decodes `p`, resampled to [`SAMPLE_RATE`], into `sink`.
fn stream_into(p: &Path, sink: &mut PcmWriter<'_>) -> Result<(), SoundError> {
    let mut resampler: Option<StreamResampler> = None;
    stream_audio(p, &mut |rate, s| {
        if rate == SAMPLE_RATE {
            return sink.push(s);
        }
        let r = match &mut resampler {
            Some(r) => r,
            None => resampler.insert(StreamResampler::new(rate)?),
        };
        r.push(s, sink)
    })?;
    if let Some(r) = resampler {
        r.finish(sink)?;
    }
    Ok(())
}

/// Resamples a whole clip in memory to [`SAMPLE_RATE`] (the reference for the streaming one).
#[cfg(test)]
pub(crate) fn resample(rate: u32, stereo: Vec<f32>) -> Result<Vec<f32>, SoundError> {
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
    .map_err(|e| SoundError::Resampler(e.to_string()))?;
    let input = InterleavedSlice::new(&stereo[..], 2, frames)
        .map_err(|e| SoundError::Resampler(e.to_string()))?;
    let out = rs
        .process_all(&input, frames, None)
        .map_err(|e| SoundError::Resampler(e.to_string()))?;
    Ok(out.take_data())
}
