//! The muxer's side of the encoder: video packets written in spliced form with their decode
//! times, the audio packets interleaved under them, and the trailer.

use std::sync::mpsc::TryRecvError;

use ff::{codec, encoder, format, Packet, Rational};
use ffmpeg_next as ff;

use super::aac::AudioMsg;
use super::{h264, is_again_or_eof, EncodeError, EncodeStats, Encoder, Pending};
use crate::encode::packets::StoredPacket;

impl Encoder {
    /// Muxes the audio packets that start before sample `until`, as far as the audio thread
    /// has made them (it never waits for it).
    pub(super) fn mux_audio(&mut self, until: u64) -> Result<(), EncodeError> {
        loop {
            let pkt = match self.audio_next.take() {
                Some(p) => p,
                None if self.audio_done.is_some() => return Ok(()),
                None => match self.audio_rx.try_recv() {
                    Ok(AudioMsg::Packet(p)) => p,
                    Ok(AudioMsg::Done(r)) => {
                        self.audio_done = Some(r);
                        return Ok(());
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
                },
            };
            if pkt.pts().unwrap_or(0) >= until as i64 {
                self.audio_next = Some(pkt);
                return Ok(());
            }
            self.write_audio(pkt)?;
        }
    }

    pub(super) fn write_audio(&mut self, mut pkt: Packet) -> Result<(), EncodeError> {
        pkt.set_stream(self.a_index);
        pkt.rescale_ts(self.a_tb, self.a_stream_tb);
        self.stats.audio_bytes += pkt.size() as u64;
        let Some(octx) = self.octx.as_mut() else {
            return Ok(());
        };
        pkt.write_interleaved(octx)
            .map_err(EncodeError::ff("write audio packet"))
    }

    pub(super) fn drain_video(&mut self) -> Result<(), EncodeError> {
        let route = Route {
            index: self.v_index,
            from: self.v_tb,
            to: self.v_stream_tb,
            // One packet per frame; libav 5.1's x264 wrapper leaves the duration unset, which
            // would make the muxer drop the last frame's display time.
            default_duration: 1,
            ops: ("receive video packet", "write video packet"),
        };
        if self.splicer.is_none() {
            let Some(video) = self.video.as_mut() else {
                return Ok(());
            };
            let Some(octx) = self.octx.as_mut() else {
                return Err(EncodeError::Splice("segment files need splicing".into()));
            };
            self.stats.video_bytes += drain(video, octx, &route)?;
            return Ok(());
        }
        let mut pkt = Packet::empty();
        loop {
            match self.x264()?.receive_packet(&mut pkt) {
                Ok(()) => {}
                Err(e) if is_again_or_eof(&e) => return Ok(()),
                Err(source) => return Err(EncodeError::ff(route.ops.0)(source)),
            }
            let clock = pkt.pts().unwrap_or(-1);
            let Some(pos) = self.pending.iter().position(|p| p.clock == clock) else {
                return Err(EncodeError::Splice(format!(
                    "x264 returned a picture (timestamp {clock}) that was not sent or was already written"
                )));
            };
            let index = self.pending[pos].index as i64;
            if self.pending.iter().take(pos).any(Pending::spliced) {
                return Err(EncodeError::Splice(format!(
                    "x264 returned frame {index} before a picture shown earlier that is repeated"
                )));
            }
            let Some(splicer) = self.splicer.as_mut() else {
                return Ok(());
            };
            self.pending[pos].received = true;
            let data = splicer
                .rewrite(pkt.data().unwrap_or_default(), index as u64)
                .map_err(|e| EncodeError::Splice(e.to_string()))?;
            if pkt.is_key() {
                self.last_key = self.last_key.max(index as u64);
            }
            let mut ready = vec![(data, pkt.flags(), index)];
            while self.pending.front().is_some_and(|p| p.received) {
                let Some(p) = self.pending.pop_front() else {
                    break;
                };
                let mut at = p.index;
                for (frames, patch) in &p.tail {
                    for _ in 0..*frames {
                        at += 1;
                        let data = match patch {
                            None => splicer.skip(at),
                            Some(patch) => splicer.patched(patch, at),
                        };
                        ready.push((data, codec::packet::Flags::empty(), at as i64));
                    }
                }
            }
            for (data, flags, at) in ready {
                self.write_video(&data, flags, at)?;
            }
        }
    }

    /// Writes one video packet in spliced form, shown at frame `at`: into the current
    /// segment's scene cache entry as it is, and into the file with its decode time and, for
    /// a segment's first IDR picture, an `idr_pic_id` other than that of an IDR picture
    /// right before it (the last picture of the segment before).
    pub(super) fn write_video(
        &mut self,
        data: &[u8],
        flags: codec::packet::Flags,
        at: i64,
    ) -> Result<(), EncodeError> {
        if let Some(r) = self.record.as_mut() {
            let stored = StoredPacket {
                pts: at - r.start as i64,
                dts: 0,
                duration: 1,
                key: flags.contains(codec::packet::Flags::KEY),
                data: data.to_vec(),
            };
            if let Err(e) = r.store.add(&stored) {
                if self.octx.is_none() {
                    // The file is the only output.
                    return Err(EncodeError::SceneCache {
                        path: r.store.dest().to_path_buf(),
                        why: e.to_string(),
                    });
                }
                tracing::warn!("a segment will not be kept in the scene cache: {e}");
                self.record = None;
            }
        }
        let Some(octx) = self.octx.as_mut() else {
            self.stats.video_bytes += data.len() as u64;
            return Ok(());
        };
        let splicer = self
            .splicer
            .as_ref()
            .ok_or_else(|| EncodeError::Splice("not splicing".into()))?;
        let splice_err = |e: h264::Unsupported| EncodeError::Splice(e.to_string());
        let idr = splicer.idr_pic_id(data).map_err(splice_err)?;
        let renamed;
        let data = match (idr, self.last_idr_id) {
            (Some(id), Some(last)) if id == last => {
                renamed = splicer.with_idr_pic_id(data, id).map_err(splice_err)?;
                self.last_idr_id = Some(h264::other_idr_pic_id(id));
                &renamed[..]
            }
            (idr, _) => {
                self.last_idr_id = idr;
                data
            }
        };
        let dts = self.written as i64 - splicer.reorder_delay();
        if dts > at {
            return Err(EncodeError::Splice(format!(
                "frame {at} would be decoded after it is shown"
            )));
        }
        let mut p = Packet::copy(data);
        p.set_flags(flags);
        p.set_stream(self.v_index);
        p.set_pts(Some(at));
        p.set_dts(Some(dts));
        p.set_duration(1);
        p.rescale_ts(self.v_tb, self.v_stream_tb);
        self.stats.video_bytes += p.size() as u64;
        self.written += 1;
        p.write_interleaved(octx)
            .map_err(EncodeError::ff("write video packet"))
    }

    /// Flushes x264, waits for the audio thread to finish (muxing the rest of its packets)
    /// and writes the trailer (which moves the moov atom to the front).
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, or the audio thread's error.
    pub fn finish(mut self) -> Result<EncodeStats, EncodeError> {
        self.flush_video()?;
        if self.octx.is_none() {
            // Segment files only: no audio, no container.
            self.finish_record_file()?;
            return Ok(self.stats);
        }
        self.finish_record();
        if let Some(p) = self.audio_next.take() {
            self.write_audio(p)?;
        }
        while self.audio_done.is_none() {
            match self.audio_rx.recv() {
                Ok(AudioMsg::Packet(p)) => self.write_audio(p)?,
                Ok(AudioMsg::Done(r)) => self.audio_done = Some(r),
                Err(_) => return Err(EncodeError::AudioStopped),
            }
        }
        match self.audio_done.take() {
            Some(Ok(done)) => {
                self.stats.samples = done.samples;
                self.stats.loudness = done.loudness;
                self.stats.audio_source_error = done.source_error;
            }
            Some(Err(e)) => return Err(e),
            None => return Err(EncodeError::AudioStopped),
        }
        self.octx
            .as_mut()
            .ok_or(EncodeError::AudioStopped)?
            .write_trailer()
            .map_err(EncodeError::ff("write_trailer"))?;
        Ok(self.stats)
    }
}

/// Where one encoder's packets go.
pub(super) struct Route {
    index: usize,
    from: Rational,
    to: Rational,
    /// Duration (in `from` units) for packets that come without one; 0 leaves them as they are.
    default_duration: i64,
    /// libav operation names for errors: (receive, write).
    ops: (&'static str, &'static str),
}

/// Moves every packet the encoder has ready into the muxer. Returns the bytes written.
pub(super) fn drain(
    enc: &mut encoder::Encoder,
    octx: &mut format::context::Output,
    route: &Route,
) -> Result<u64, EncodeError> {
    let mut pkt = Packet::empty();
    let mut bytes = 0;
    loop {
        match enc.receive_packet(&mut pkt) {
            Ok(()) => {
                pkt.set_stream(route.index);
                if pkt.duration() == 0 && route.default_duration > 0 {
                    pkt.set_duration(route.default_duration);
                }
                pkt.rescale_ts(route.from, route.to);
                bytes += pkt.size() as u64;
                pkt.write_interleaved(octx)
                    .map_err(EncodeError::ff(route.ops.1))?;
            }
            Err(e) if is_again_or_eof(&e) => return Ok(bytes),
            Err(source) => return Err(EncodeError::ff(route.ops.0)(source)),
        }
    }
}
