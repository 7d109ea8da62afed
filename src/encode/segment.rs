//! Segments: x264 flushed and opened again at a seam so that nothing after it refers to
//! anything before; a segment's packets kept in a packet file, and a kept segment copied in.

use std::time::Instant;

use ff::codec;
use ffmpeg_next as ff;

use super::{extradata, h264, open_x264, EncodeError, Encoder, Record};
use crate::encode::packets::{Entry as PacketFile, SegmentFooter, Store};

impl Encoder {
    /// Starts a segment at the next frame. If x264 has been given pictures since it was
    /// opened, it is flushed (every picture it holds is written) and a fresh x264 with the
    /// same settings encodes what follows, starting with an IDR picture. Nothing after the
    /// seam refers to anything before it, so a segment's packets depend only on its own
    /// pictures: they can be kept (`store`, finished when the next segment begins or the
    /// video ends) and copied into a later render ([`Encoder::replay_segment`]). Needs
    /// splicing ([`Encoder::splices`]).
    ///
    /// # Errors
    /// [`EncodeError`] naming the libav operation that failed, or [`EncodeError::Splice`] if
    /// the new x264's parameter sets differ from the stream's.
    pub fn begin_segment(&mut self, store: Option<Store>) -> Result<(), EncodeError> {
        if self.x264_used {
            let t = Instant::now();
            self.flush_video()?;
            self.stats.seam_flush += t.elapsed();
            let t = Instant::now();
            // The old x264 goes first, its memory back to the system, so that two never
            // hold their buffers at once.
            self.video = None;
            crate::base::memory::release_free_pages();
            let video = open_x264(&self.cfg, self.global_header)?;
            self.stats.seam_open += t.elapsed();
            let (splicer, avcc) = h264::Splicer::new(&extradata::of_context(&video))
                .map_err(|e| EncodeError::Splice(e.to_string()))?;
            if avcc != self.stream_extradata {
                return Err(EncodeError::Splice(
                    "a new segment's x264 made other parameter sets than the first".into(),
                ));
            }
            self.video = Some(video);
            self.splicer = Some(splicer);
            self.x264_used = false;
            self.clock = 0;
            self.base = None;
            self.patches_follow = false;
        }
        self.finish_record();
        self.stats.segments += 1;
        self.segment_start = self.stats.frames;
        self.last_key = self.stats.frames;
        self.record = store.map(|store| Record {
            store,
            start: self.stats.frames,
            encoded: self.stats.encoded_frames,
            patched: self.stats.patched_frames,
        });
        Ok(())
    }

    /// Moves the finished segment's entry into the scene cache.
    pub(super) fn finish_record(&mut self) {
        if let Err(e) = self.finish_record_file() {
            tracing::warn!("a segment will not be kept in the scene cache: {e}");
        }
    }

    /// Finishes the current segment's packet file, if one is being written.
    pub(super) fn finish_record_file(&mut self) -> Result<(), EncodeError> {
        let Some(r) = self.record.take() else {
            return Ok(());
        };
        let footer = SegmentFooter {
            frames: self.stats.frames - r.start,
            extradata: self.stream_extradata.clone(),
            encoded_frames: self.stats.encoded_frames - r.encoded,
            patched_frames: self.stats.patched_frames - r.patched,
        };
        let dest = r.store.dest().to_path_buf();
        r.store
            .finish(footer)
            .map(|_| ())
            .map_err(|e| EncodeError::SceneCache {
                path: dest,
                why: e.to_string(),
            })
    }

    /// Whether a scene cache entry fits this stream (made with the same parameter sets).
    pub fn can_replay(&self, entry: &PacketFile<SegmentFooter>) -> bool {
        self.splicer.is_some() && entry.meta.extradata == self.stream_extradata
    }

    /// Writes a kept segment's packets as the next frames, right after
    /// [`Encoder::begin_segment`] (with no store), then muxes the audio under them.
    ///
    /// # Errors
    /// [`EncodeError::SceneCache`] if the entry does not fit or cannot be read (it is then
    /// removed), or a libav error.
    pub fn replay_segment(
        &mut self,
        mut entry: PacketFile<SegmentFooter>,
        mut on_frame: impl FnMut(u64),
    ) -> Result<(), EncodeError> {
        let path = entry.path().to_path_buf();
        let bad = |why: String| {
            let _ = std::fs::remove_file(&path);
            EncodeError::SceneCache {
                path: path.clone(),
                why,
            }
        };
        if !self.can_replay(&entry) {
            return Err(bad("made for other H.264 parameter sets".into()));
        }
        if self.x264_used || self.stats.frames != self.segment_start || self.record.is_some() {
            return Err(EncodeError::Splice(
                "a kept segment can only start a segment".into(),
            ));
        }
        let start = self.stats.frames;
        let frames = entry.meta.frames;
        if entry.packets() != frames {
            return Err(bad(format!(
                "{} packets for {frames} frames",
                entry.packets()
            )));
        }
        let mut n = 0;
        while let Some(p) = entry.next_packet().map_err(|e| bad(e.to_string()))? {
            if p.pts < 0 || p.pts as u64 >= frames {
                return Err(bad(format!(
                    "a packet shown at frame {} of {frames}",
                    p.pts
                )));
            }
            let mut flags = codec::packet::Flags::empty();
            flags.set(codec::packet::Flags::KEY, p.key);
            self.write_video(&p.data, flags, (start + p.pts as u64) as i64)?;
            n += 1;
            self.mux_audio(self.fps.sample_at_frame(start + n))?;
            on_frame(start + n);
        }
        self.stats.frames = start + frames;
        self.stats.segments_reused += 1;
        self.stats.frames_reused += frames;
        self.segment_start = self.stats.frames;
        self.last_key = self.stats.frames;
        on_frame(self.stats.frames);
        Ok(())
    }
}
