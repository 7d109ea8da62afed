//! The decoder thread: [`ClipReader`] streams a clip's pictures for consecutive output frames.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use ffmpeg_next as ff;

use super::timing::Mapping;
use super::{ff_err, open_source, ClipInfo, ClipTiming, Source, VideoError, AHEAD};
use crate::base::raster::Raster;
use crate::media::yuv::Converter;

/// A decoded picture and its presentation time in stream ticks.
struct Decoded {
    pts: i64,
    frame: ff::frame::Video,
}

/// The decoder thread's state.
struct Worker {
    path: PathBuf,
    src: Source,
    stop: Arc<AtomicBool>,
    map: Mapping,
    /// Pre-rotation output size.
    size: (u32, u32),
    rotation: i32,
    cycle: u64,
    sent_eof: bool,
    eof: bool,
    /// End of the stream in ticks (last pts + its duration), once seen.
    eof_end: Option<i64>,
    /// Pts and duration of the last decoded frame.
    last: Option<(i64, i64)>,
    /// First read (true) or decode error, reported once the decoder is drained.
    damage: Option<(bool, ff::Error)>,
    /// That error and the end (ticks) of the last good frame: reported when a target passes it.
    fault: Option<(VideoError, i64)>,
    current: Option<Decoded>,
    pending: Option<Decoded>,
    /// `current` converted, shared by every output frame that shows it.
    picture: Option<Arc<Raster>>,
    /// Pictures handed out earlier, recycled once the caller has dropped them.
    recycled: Vec<Arc<Raster>>,
}

/// Why decoding stopped without a picture.
enum Halt {
    Stopped,
    Failed(VideoError),
}

impl From<VideoError> for Halt {
    fn from(e: VideoError) -> Halt {
        Halt::Failed(e)
    }
}

impl Worker {
    fn seconds(&self, ticks: i64) -> f64 {
        (ticks - self.src.zero) as f64 * f64::from(self.src.tb)
    }

    fn last_good_s(&self) -> f64 {
        self.last.map_or(0.0, |(pts, _)| self.seconds(pts).max(0.0))
    }

    /// Remembers the first damage (a read or decode error) and drains the decoder, so every
    /// frame before the damage still comes out; [`Worker::decode_next`] reports it after them.
    fn note_damage(&mut self, read: bool, source: ff::Error) {
        if self.damage.is_none() {
            self.damage = Some((read, source));
        }
        if !self.sent_eof {
            self.sent_eof = true;
            let _ = self.src.dec.send_eof();
        }
    }

    fn damage_error(&mut self) -> Option<VideoError> {
        let (read, source) = self.damage.take()?;
        let (path, at_s) = (self.path.clone(), self.last_good_s());
        Some(if read {
            VideoError::Read { path, at_s, source }
        } else {
            VideoError::Decode { path, at_s, source }
        })
    }

    /// The next decoded frame, or None at the end of the stream.
    fn decode_next(&mut self) -> Result<Option<Decoded>, Halt> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Halt::Stopped);
            }
            let mut frame = ff::frame::Video::empty();
            match self.src.dec.receive_frame(&mut frame) {
                // A picture the decoder patched over damage is damage, not a picture.
                Ok(()) if frame.is_corrupt() || frame.has_decode_errors() => {
                    self.note_damage(false, ff::Error::InvalidData);
                }
                Ok(()) => {
                    let dur = match frame.packet().duration {
                        d if d > 0 => d,
                        _ => self.src.frame_dur,
                    };
                    let pts = frame
                        .timestamp()
                        .or(frame.pts())
                        .or_else(|| self.last.map(|(p, d)| p + d))
                        .unwrap_or(self.src.zero);
                    self.last = Some((pts, dur));
                    return Ok(Some(Decoded { pts, frame }));
                }
                Err(ff::Error::Eof) => {
                    return self.damage_error().map_or(Ok(None), |e| Err(e.into()))
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    if self.sent_eof {
                        // A drained decoder that still wants input: nothing more will come.
                        return self.damage_error().map_or(Ok(None), |e| Err(e.into()));
                    }
                }
                Err(source) if self.damage.is_none() => self.note_damage(false, source),
                Err(_) => return Err(self.damage_error().map_or(Halt::Stopped, Halt::Failed)),
            }
            if self.sent_eof {
                continue;
            }
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.src.ictx) {
                Ok(()) if packet.stream() == self.src.index => {
                    if let Err(source) = self.src.dec.send_packet(&packet) {
                        self.note_damage(false, source);
                    }
                }
                Ok(()) => {}
                Err(ff::Error::Eof) => {
                    self.sent_eof = true;
                    self.src
                        .dec
                        .send_eof()
                        .map_err(ff_err(&self.path, "flush the video decoder"))?;
                }
                Err(ff::Error::Exit) if self.stop.load(Ordering::Relaxed) => {
                    return Err(Halt::Stopped)
                }
                Err(source) => self.note_damage(true, source),
            }
        }
    }

    /// Goes back to `trim_start`: seeks to the keyframe at or before it (reopening the file if
    /// the format cannot seek); frames before the target are then decoded and passed over.
    fn rewind(&mut self) -> Result<(), Halt> {
        self.current = None;
        self.pending = None;
        self.picture = None;
        self.eof = false;
        self.sent_eof = false;
        self.last = None;
        self.damage = None;
        self.fault = None;
        let tb = self.src.tb;
        let ticks = i128::from(self.map.start.max(self.src.zero));
        let us = ticks * i128::from(tb.numerator()) * i128::from(ff::ffi::AV_TIME_BASE)
            / i128::from(tb.denominator());
        // One microsecond earlier: libav rounds to the nearest tick, never past the target.
        let us = (us - 1).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        if self.src.ictx.seek(us, ..us).is_ok() {
            self.src.dec.flush();
        } else {
            self.src = open_source(&self.path, Some(self.stop.clone()))?;
        }
        Ok(())
    }

    /// Makes `current` the latest frame with pts <= `target` (or the first frame).
    fn advance(&mut self, target: i64) -> Result<(), Halt> {
        loop {
            if self.pending.is_none() {
                if self.eof {
                    return Ok(());
                }
                match self.decode_next() {
                    Ok(Some(d)) => self.pending = Some(d),
                    Ok(None) => {
                        self.eof = true;
                        self.eof_end = self.last.map(|(p, d)| p + d).or(self.eof_end);
                        return Ok(());
                    }
                    Err(Halt::Failed(e)) => {
                        // Shown frames stay good until the last one's end; then `frame` fails.
                        self.eof = true;
                        let end = self.last.map_or(i64::MIN, |(p, d)| p + d);
                        self.fault = Some((e, end));
                        return Ok(());
                    }
                    Err(stop) => return Err(stop),
                }
            }
            match &self.pending {
                Some(p) if p.pts <= target || self.current.is_none() => {
                    self.current = self.pending.take();
                    self.picture = None;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The picture for output frame `k` (called for k = 0, 1, 2, … in order).
    fn frame(&mut self, k: u64, conv: &mut Converter) -> Result<Arc<Raster>, Halt> {
        if k == 0 && self.map.start > self.src.zero {
            self.rewind()?;
        }
        let target = loop {
            let before = self.map.period(self.eof_end);
            let (cycle, target) = self.map.target(k, self.eof_end);
            if cycle != self.cycle {
                self.cycle = cycle;
                self.rewind()?;
            }
            self.advance(target)?;
            if !self.map.looped || self.map.period(self.eof_end) == before {
                break target;
            }
        };
        if let Some((_, end)) = &self.fault {
            if target >= *end || self.current.is_none() {
                if let Some((e, _)) = self.fault.take() {
                    return Err(Halt::Failed(e));
                }
            }
        }
        if let Some(p) = &self.picture {
            return Ok(p.clone());
        }
        let Some(cur) = &self.current else {
            return Err(Halt::Failed(VideoError::NoFrames {
                path: self.path.clone(),
            }));
        };
        let at_s = self.seconds(cur.pts);
        let fail = |source| VideoError::Decode {
            path: self.path.clone(),
            at_s,
            source,
        };
        // Reuse a picture the caller has dropped; else allocate (and keep it for reuse).
        let free = self
            .recycled
            .iter_mut()
            .position(|a| Arc::get_mut(a).is_some());
        let pic = match free.and_then(|i| Arc::get_mut(&mut self.recycled[i]).map(|r| (i, r))) {
            Some((i, r)) => {
                conv.convert(&cur.frame, self.size, self.rotation, r)
                    .map_err(fail)?;
                self.recycled[i].clone()
            }
            None => {
                let mut r = Raster::new(0, 0);
                conv.convert(&cur.frame, self.size, self.rotation, &mut r)
                    .map_err(fail)?;
                let a = Arc::new(r);
                if self.recycled.len() < AHEAD + 4 {
                    self.recycled.push(a.clone());
                }
                a
            }
        };
        self.picture = Some(pic.clone());
        Ok(pic)
    }
}

/// Streams a clip's pictures for consecutive output frames, decoding ahead on its own thread.
pub struct ClipReader {
    path: PathBuf,
    info: ClipInfo,
    size: (u32, u32),
    frames: u64,
    next: u64,
    rx: Option<Receiver<Result<Arc<Raster>, VideoError>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ClipReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipReader")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("next", &self.next)
            .field("frames", &self.frames)
            .finish()
    }
}

impl ClipReader {
    /// Opens `path` to deliver `frames` output frames at `out_fps` (numerator, denominator),
    /// scaled to `size` (display orientation) or at the clip's display size when `None`.
    /// The decoder thread starts at once.
    ///
    /// # Errors
    /// [`VideoError`] naming the file when it cannot be opened or decoded (see the module
    /// docs), when `timing` or `out_fps` is out of range (rate 0.25..=4, trim_start >= 0 and
    /// before the clip's end, trim_end > trim_start, fps 1..=1000 frames/s), or when `size` is
    /// not 1..=16384 per side.
    pub fn open(
        path: &Path,
        timing: &ClipTiming,
        out_fps: (u32, u32),
        size: Option<(u32, u32)>,
        frames: u64,
    ) -> Result<ClipReader, VideoError> {
        timing.check(path)?;
        let invalid = |message: String| VideoError::Invalid {
            path: path.into(),
            message,
        };
        let (fnum, fden) = out_fps;
        if fnum == 0 || fden == 0 || !(1.0..=1000.0).contains(&(f64::from(fnum) / f64::from(fden)))
        {
            return Err(invalid(format!(
                "invalid output fps {fnum}/{fden} (expected 1..=1000 frames/s)"
            )));
        }
        if let Some((w, h)) = size {
            if !(1..=16384).contains(&w) || !(1..=16384).contains(&h) {
                return Err(invalid(format!(
                    "invalid size {w}x{h} (expected 1..=16384 per side)"
                )));
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let src = open_source(path, Some(stop.clone()))?;
        let info = src.info.clone();
        if info.duration_s > 0.0 && timing.trim_start >= info.duration_s {
            return Err(invalid(format!(
                "trim_start {} s is at or past the clip's end ({:.3} s)",
                timing.trim_start, info.duration_s
            )));
        }
        let size = size.unwrap_or((info.width, info.height));
        let pre_rotation = if info.rotation % 180 == 90 {
            (size.1, size.0)
        } else {
            size
        };
        let worker = Worker {
            path: path.into(),
            map: Mapping::new(timing, out_fps, src.tb, src.zero),
            rotation: info.rotation,
            src,
            stop: stop.clone(),
            size: pre_rotation,
            cycle: 0,
            sent_eof: false,
            eof: false,
            eof_end: None,
            last: None,
            damage: None,
            fault: None,
            current: None,
            pending: None,
            picture: None,
            recycled: Vec::new(),
        };
        let (tx, rx) = sync_channel(AHEAD);
        let thread = std::thread::Builder::new()
            .name("reelsmith-clip".into())
            .spawn(move || run_worker(worker, tx, frames))
            .map_err(|e| VideoError::Thread {
                path: path.into(),
                message: format!("cannot start: {e}"),
            })?;
        Ok(ClipReader {
            path: path.into(),
            info,
            size,
            frames,
            next: 0,
            rx: Some(rx),
            stop,
            thread: Some(thread),
        })
    }

    /// The clip's facts.
    pub fn info(&self) -> &ClipInfo {
        &self.info
    }

    /// Size of the delivered pictures (display orientation).
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The picture for the next output frame (0, 1, 2, …); consecutive frames showing the same
    /// source frame share one `Arc`.
    ///
    /// # Errors
    /// [`VideoError::Read`] / [`VideoError::Decode`] at damage in the file (every earlier frame
    /// is delivered first), [`VideoError::PastEnd`] beyond the `frames` given to
    /// [`ClipReader::open`], [`VideoError::Thread`] after an earlier error or a crash of the
    /// decoder thread.
    pub fn next_frame(&mut self) -> Result<Arc<Raster>, VideoError> {
        if self.next >= self.frames {
            return Err(VideoError::PastEnd {
                path: self.path.clone(),
                index: self.next,
                frames: self.frames,
            });
        }
        let got = self.rx.as_ref().map(|rx| rx.recv());
        match got {
            Some(Ok(item)) => {
                self.next += 1;
                item
            }
            _ => Err(VideoError::Thread {
                path: self.path.clone(),
                message: "stopped after an earlier error".into(),
            }),
        }
    }
}

impl Drop for ClipReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver unblocks a thread waiting to send.
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_worker(mut w: Worker, tx: SyncSender<Result<Arc<Raster>, VideoError>>, frames: u64) {
    // swscale contexts are not Send: the converter lives on this thread only.
    let mut conv = Converter::default();
    for k in 0..frames {
        match w.frame(k, &mut conv) {
            Ok(pic) => {
                if tx.send(Ok(pic)).is_err() {
                    return;
                }
            }
            Err(Halt::Stopped) => return,
            Err(Halt::Failed(e)) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}
