//! Patches: a picture that differs from the last reference in a few macroblocks of one row
//! (a progress bar's step) is written as that reference with only those macroblocks
//! intra-coded over it, by a tiny second x264 (see [`super::h264`]).

use std::collections::HashMap;
use std::sync::Arc;

use ff::{codec, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ff;

use super::{h264, Base, EncodeError, Encoder, EncoderConfig, MAX_PATCH_MBS};
use crate::compose::frame::YuvFrame;

impl Encoder {
    /// Remembers the picture later ones may be patched over (or forgets it).
    pub(super) fn set_base(&mut self, base: Option<(u64, &YuvFrame)>) {
        match base.filter(|_| self.patchers.is_some()) {
            Some((index, pic)) => match self.base.as_mut() {
                Some(b) if b.picture.width == pic.width && b.picture.height == pic.height => {
                    b.index = index;
                    b.picture.y.copy_from_slice(&pic.y);
                    b.picture.u.copy_from_slice(&pic.u);
                    b.picture.v.copy_from_slice(&pic.v);
                }
                _ => {
                    self.base = Some(Base {
                        index,
                        picture: pic.clone(),
                    })
                }
            },
            None => {
                if let Some(b) = self.base.as_mut() {
                    b.index = u64::MAX;
                }
            }
        }
    }

    /// Writes `pic` for `repeat` frames as a patch over the base picture when it differs from
    /// it only in a few macroblocks of one row, the base is still waiting to be written, and
    /// no keyframe is due. Returns whether it did.
    pub(super) fn try_patch(&mut self, pic: &YuvFrame, repeat: u64) -> Result<bool, EncodeError> {
        let n = self.stats.frames;
        let (Some(splicer), Some(base)) = (self.splicer.as_ref(), self.base.as_ref()) else {
            return Ok(false);
        };
        let waiting = self.pending.back().is_some_and(|p| p.index == base.index);
        if !waiting
            || !splicer.can_patch()
            || n + repeat > self.last_key + self.gop
            || self.injects_failure(n, repeat)
            || base.picture.width != pic.width
            || base.picture.height != pic.height
        {
            return Ok(false);
        }
        let (mbw, mbh) = splicer.mb_size();
        let Some((row, cols)) = changed_mbs(&base.picture, pic) else {
            // The same picture: more copies.
            self.push_tail(repeat, None);
            return Ok(true);
        };
        let width = cols.end - cols.start;
        if width > MAX_PATCH_MBS || row >= mbh || cols.end > mbw {
            return Ok(false);
        }
        let slice = match self.code_patch(pic, row, cols.clone()) {
            Ok(slice) => slice,
            Err(why) => {
                tracing::warn!("changed pictures will all be sent to x264: {why}");
                self.patchers = None;
                return Ok(false);
            }
        };
        let Some(splicer) = self.splicer.as_ref() else {
            return Ok(false);
        };
        let patch = splicer
            .patch(row * mbw + cols.start, slice)
            .map_err(|e| EncodeError::Splice(e.to_string()))?;
        self.stats.patches += 1;
        self.stats.patched_frames += repeat;
        self.push_tail(repeat, Some(Arc::new(patch)));
        Ok(true)
    }

    /// Codes macroblocks `cols` of macroblock row `row` of `pic` as one intra slice.
    /// Whether an injected failure ([`EncoderConfig::fail_at_frame`]) falls in the `repeat`
    /// frames from `n` (never without the `fault-injection` feature).
    fn injects_failure(&self, n: u64, repeat: u64) -> bool {
        #[cfg(feature = "fault-injection")]
        if let Some(at) = self.cfg.fail_at_frame {
            return at >= n && at < n + repeat;
        }
        let _ = (n, repeat);
        false
    }

    pub(super) fn code_patch(
        &mut self,
        pic: &YuvFrame,
        row: u32,
        cols: std::ops::Range<u32>,
    ) -> Result<h264::IntraSlice, EncodeError> {
        let width = cols.end - cols.start;
        let cfg = &self.cfg;
        let patchers = self.patchers.get_or_insert_with(HashMap::new);
        let pe = match patchers.entry(width) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(open_patch_encoder(width, cfg)?)
            }
        };
        // The patch's pixels; rows and columns past the picture repeat its edge.
        let (pw, ph) = (pic.width as usize, pic.height as usize);
        let (cw, ch) = (pw.div_ceil(2), ph.div_ceil(2));
        for (plane, src, sw, sh, mb) in [
            (0, &pic.y, pw, ph, 16usize),
            (1, &pic.u, cw, ch, 8),
            (2, &pic.v, cw, ch, 8),
        ] {
            let stride = pe.frame.stride(plane);
            let dst = pe.frame.data_mut(plane);
            let x0 = cols.start as usize * mb;
            for r in 0..mb {
                let sy = (row as usize * mb + r).min(sh - 1);
                let line = &src[sy * sw..(sy + 1) * sw];
                for c in 0..width as usize * mb {
                    dst[r * stride + c] = line[(x0 + c).min(sw - 1)];
                }
            }
        }
        pe.frame.set_pts(Some(pe.pts));
        pe.pts += 1;
        pe.enc
            .send_frame(&pe.frame)
            .map_err(EncodeError::ff("send_frame (patch)"))?;
        let mut pkt = Packet::empty();
        pe.enc
            .receive_packet(&mut pkt)
            .map_err(EncodeError::ff("receive_packet (patch, at once)"))?;
        let splicer = self
            .splicer
            .as_ref()
            .ok_or_else(|| EncodeError::Splice("not splicing".into()))?;
        splicer
            .intra_slice(pkt.data().unwrap_or_default())
            .map_err(|e| EncodeError::Splice(e.to_string()))
    }
}

/// An intra-only libx264 for patches of one width.
pub(super) struct PatchEncoder {
    enc: encoder::Video,
    frame: frame::Video,
    pts: i64,
}

/// The macroblocks in which `b` differs from `a`, when they all lie in one macroblock row:
/// that row and the range of columns from the first to the last changed one. `None` when
/// the pictures are the same; a row past the picture when more than one row changed.
pub(super) fn changed_mbs(a: &YuvFrame, b: &YuvFrame) -> Option<(u32, std::ops::Range<u32>)> {
    let mut rows: Option<(usize, usize)> = None;
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    let (w, h) = (a.width as usize, a.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    for (pa, pb, pw, ph, mb) in [
        (&a.y, &b.y, w, h, 16usize),
        (&a.u, &b.u, cw, ch, 8),
        (&a.v, &b.v, cw, ch, 8),
    ] {
        for y in 0..ph {
            let (la, lb) = (&pa[y * pw..(y + 1) * pw], &pb[y * pw..(y + 1) * pw]);
            if la == lb {
                continue;
            }
            let first = la.iter().zip(lb).position(|(p, q)| p != q).unwrap_or(0);
            let last = la.iter().zip(lb).rposition(|(p, q)| p != q).unwrap_or(0);
            lo = lo.min(first / mb);
            hi = hi.max(last / mb);
            let r = y / mb;
            rows = Some(rows.map_or((r, r), |(r0, r1)| (r0.min(r), r1.max(r))));
        }
    }
    let (r0, r1) = rows?;
    let row = if r0 == r1 { r0 as u32 } else { u32::MAX };
    Some((row, lo as u32..hi as u32 + 1))
}

/// An intra-only libx264 for patches `width_mbs` macroblocks wide and one high: every
/// picture an IDR picture with its SPS and PPS, at the main encoder's preset (so that its
/// PPS codes intra macroblocks the same way) and a constant QP equal to the main CRF,
/// without deblocking (the patch is shown as decoded, never used as a reference), and no
/// delay: each picture's packet is ready as soon as it is sent.
pub(super) fn open_patch_encoder(
    width_mbs: u32,
    cfg: &EncoderConfig,
) -> Result<PatchEncoder, EncodeError> {
    let x264 = encoder::find_by_name("libx264").ok_or(EncodeError::MissingEncoder("libx264"))?;
    let mut v = codec::context::Context::new_with_codec(x264)
        .encoder()
        .video()
        .map_err(EncodeError::ff("patch encoder context"))?;
    let (w, h) = (width_mbs * 16, 16);
    v.set_width(w);
    v.set_height(h);
    v.set_format(format::Pixel::YUV420P);
    v.set_time_base(Rational(cfg.fps.den as i32, cfg.fps.num as i32));
    v.set_gop(1);
    v.set_colorspace(ff::color::Space::BT709);
    v.set_color_range(ff::color::Range::MPEG);
    let mut opts = Dictionary::new();
    opts.set("preset", cfg.preset);
    opts.set("profile", "high");
    opts.set("threads", "1");
    opts.set("qp", &cfg.crf.to_string());
    opts.set(
        "x264-params",
        "keyint=1:min-keyint=1:scenecut=0:bframes=0:rc-lookahead=0:sync-lookahead=0:\
         threads=1:sliced-threads=0:force-cfr=1:no-deblock=1",
    );
    let enc = v
        .open_as_with(x264, opts)
        .map_err(EncodeError::ff("open patch encoder"))?;
    Ok(PatchEncoder {
        enc,
        frame: frame::Video::new(format::Pixel::YUV420P, w, h),
        pts: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn changed_macroblocks_are_found_by_row_and_column() {
        let a = YuvFrame::new(1920, 1080);
        assert_eq!(changed_mbs(&a, &a.clone()), None);
        // One luma pixel in the last, partial macroblock row.
        let mut b = a.clone();
        b.y[1075 * 1920 + 37] = 9;
        assert_eq!(changed_mbs(&a, &b), Some((67, 2..3)));
        // A chroma sample two macroblocks further right widens the range.
        b.u[(1074 / 2) * 960 + 40] = 9;
        assert_eq!(changed_mbs(&a, &b), Some((67, 2..6)));
        // Another row: not one row any more.
        b.v[10 * 960] = 9;
        assert_eq!(changed_mbs(&a, &b).map(|c| c.0), Some(u32::MAX));
    }
}
