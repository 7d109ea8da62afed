//! Just enough H.264 bitstream handling to repeat a picture for (almost) nothing.
//!
//! A static span (a title after its fade, a slide between reveals) is the same picture for
//! many frames. Instead of handing x264 every copy, the encoder gives it the first one and
//! writes the copies itself as **all-skip P pictures**: every macroblock `P_Skip`, which with
//! no coded neighbours means motion vector (0,0) from reference 0 and no residual, so the
//! decoder shows exactly the previous reference picture. Such a picture is ~20 bytes and
//! costs microseconds instead of a full x264 pass.
//!
//! To splice them into x264's stream without disturbing its reference structure:
//! - the picture before a static span is forced to be a P (or I) picture, a reference; x264
//!   runs without B-pyramid, so its B-frames are never references and that picture is the
//!   last reference once the B-frames shown before it are decoded. The copies go right
//!   after those, and their reference 0 is that picture;
//! - the copies are **non-reference** pictures (`nal_ref_idc` 0): they never enter the
//!   decoded picture buffer, so x264's later pictures predict from exactly what x264 thinks
//!   they do, whatever its `ref` count, and `frame_num` needs no change (a non-reference
//!   picture carries the next `frame_num`, as a B-frame does);
//! - x264 numbers picture order by the frames it saw, which has gaps where the copies go:
//!   the SPS is rewritten to explicit order counts with 8 more bits of LSB (or, when x264
//!   ran without B-frames and signalled order implicitly, `pic_order_cnt_type` 2, which
//!   forbids two non-reference pictures in a row: to type 0 with a 16-bit LSB), and every
//!   slice header of x264's gets the order count of its output frame. The header grows by
//!   8 or 16 bits, so everything after it keeps its byte alignment and the CABAC payload is
//!   copied as it is. The new order counts keep the order but not the distances x264 saw, so
//!   x264 must not use them in prediction: no implicit weighted bi-prediction, no temporal
//!   direct mode (`X264_SPLICE_PARAMS`).
//!
//! **Patches.** A picture that differs from the last reference picture in a few macroblocks
//! of one row (a progress bar's step during a static span) is written the same way, as a
//! non-reference picture, but in up to three slices: all-skip P slices before and after the
//! changed macroblocks, and between them one I slice coding just those. The I slice comes
//! from a second, tiny libx264 that encodes only the changed macroblocks as an intra picture
//! of their size ([`Splicer::intra_slice`]). Its macroblock data means the same in the big
//! picture because a slice never sees outside itself: macroblocks of other slices are
//! unavailable for intra prediction and for CABAC context, exactly as the tiny picture's
//! edges are. What has to agree is the PPS's intra coding (`transform_8x8_mode_flag`,
//! chroma QP offsets, constrained intra prediction, no scaling lists: [`params::IntraParams`],
//! compared for every patch) and the slice QP (the new header says the same QP relative to
//! the main PPS). No slice of such a picture is deblocked. Its copies repeat the patch (same
//! bytes, new order count), since they too can only refer to the last reference.
//!
//! Only frame pictures, one slice group, 4:2:0 or 4:0:0 are handled; [`Splicer::new`] refuses
//! anything else and the encoder then falls back to sending every frame to x264. Patches need
//! CABAC (x264's default); without it every changed picture goes to x264.

use std::fmt;

mod bits;
mod cabac;
mod params;

pub(crate) use bits::{escape, unescape, BitReader, BitWriter};
use cabac::all_skip_cabac;
pub(crate) use params::{parse_pps, parse_sps, rewrite_sps, AvcC, Framing, Pps, Sps};

/// Why a stream cannot be spliced (the encoder falls back to plain encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn unsupported<T>(why: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(why.into()))
}

// Slices

/// Splices all-skip copies into x264's stream; see the module docs.
#[derive(Debug, Clone)]
pub struct Splicer {
    sps: Sps,
    pps: Pps,
    framing: Framing,
    /// Bits of x264's own `pic_order_cnt_lsb` (0: x264 used order type 2, no field).
    old_poc_bits: u32,
    /// `frame_num` of the last reference picture written.
    prev_ref_frame_num: u32,
    /// Output index of the last IDR picture (order counts restart there).
    last_idr: u64,
    /// Macroblocks in a picture.
    mbs: u32,
    /// The CABAC slice data of a skip picture (byte-aligned, stop bit and padding included).
    cabac_data: Vec<u8>,
}

/// Another `idr_pic_id` whose exp-Golomb code is as long as `id`'s (or, for 0, whose code
/// is 8 bits longer: 15), so that a header keeps its length modulo 8.
pub fn other_idr_pic_id(id: u32) -> u32 {
    match id {
        0 => return 15,
        // Alone in its code length below the largest allowed id: 0's code is 32 bits shorter.
        65535 => return 0,
        _ => {}
    }
    // Codes of one length cover [2^k - 1, 2^(k+1) - 2].
    let k = 63 - (u64::from(id) + 1).leading_zeros();
    let last = ((1u64 << (k + 1)) - 2) as u32;
    if id < last {
        id + 1
    } else {
        id - 1
    }
}

impl Splicer {
    /// Reads x264's extradata (Annex B parameter sets, as libav's wrapper makes them, or an
    /// `avcC`) and returns the splicer and the rewritten extradata, in the same form.
    ///
    /// # Errors
    /// [`Unsupported`] when the stream uses a feature the splicer does not handle.
    pub fn new(extradata: &[u8]) -> Result<(Splicer, Vec<u8>), Unsupported> {
        let annexb = extradata.starts_with(&[0, 0, 1]) || extradata.starts_with(&[0, 0, 0, 1]);
        let mut avcc = if annexb {
            let nals = Framing::AnnexB.split(extradata)?;
            let of = |t: u8| -> Vec<Vec<u8>> {
                nals.iter()
                    .filter(|n| n.first().map(|h| h & 0x1f) == Some(t))
                    .map(|n| n.to_vec())
                    .collect()
            };
            if nals.len() != 2 {
                return unsupported("extradata other than one SPS and one PPS");
            }
            AvcC {
                profile: [0; 3],
                length_size: 4,
                sps: of(7),
                pps: of(8),
                tail: Vec::new(),
            }
        } else {
            AvcC::parse(extradata)?
        };
        if avcc.sps.len() != 1 || avcc.pps.len() != 1 {
            return unsupported("more than one SPS or PPS");
        }
        let (sps, _, _) = parse_sps(&avcc.sps[0])?;
        let pps = parse_pps(&avcc.pps[0])?;
        if pps.sps_id != sps.id {
            return unsupported("PPS refers to another SPS");
        }
        if sps.chroma_format_idc > 1 {
            return unsupported("chroma other than 4:2:0");
        }
        let (old_poc_bits, new_bits) = match sps.poc_type {
            2 => (0, 16),
            _ if sps.log2_max_poc_lsb <= 8 => (sps.log2_max_poc_lsb, sps.log2_max_poc_lsb + 8),
            _ => return unsupported("picture order LSB wider than 8 bits"),
        };
        avcc.sps[0] = rewrite_sps(&avcc.sps[0], new_bits)?;
        let (new_sps, _, _) = parse_sps(&avcc.sps[0])?;
        let mbs = sps.width_mbs * sps.height_mbs;
        let (framing, extradata) = if annexb {
            let mut out = Vec::new();
            Framing::AnnexB.push(&mut out, &avcc.sps[0]);
            Framing::AnnexB.push(&mut out, &avcc.pps[0]);
            (Framing::AnnexB, out)
        } else {
            (Framing::Length(avcc.length_size), avcc.to_bytes())
        };
        Ok((
            Splicer {
                sps: new_sps,
                pps,
                framing,
                old_poc_bits,
                prev_ref_frame_num: 0,
                last_idr: 0,
                mbs,
                cabac_data: all_skip_cabac(mbs),
            },
            extradata,
        ))
    }

    /// Frames by which decoding runs ahead of display: 1 with B-frames (never references),
    /// 0 without.
    pub fn reorder_delay(&self) -> i64 {
        i64::from(self.old_poc_bits != 0)
    }

    fn poc_lsb(&self, index: u64) -> u32 {
        (index.saturating_sub(self.last_idr) * 2 % (1u64 << self.sps.log2_max_poc_lsb)) as u32
    }

    /// Rewrites one packet of x264's (length-prefixed NAL units) shown at output frame
    /// `index`: each slice gets its explicit order count.
    ///
    /// # Errors
    /// [`Unsupported`] if a slice header cannot be parsed (the stream is then unusable).
    pub fn rewrite(&mut self, packet: &[u8], index: u64) -> Result<Vec<u8>, Unsupported> {
        let mut out = Vec::with_capacity(packet.len() + 16);
        for nal in self.framing.split(packet)? {
            match nal.first().map_or(0, |h| h & 0x1f) {
                kind @ (1 | 5) => {
                    if kind == 5 {
                        self.last_idr = index;
                    }
                    let lsb = self.poc_lsb(index);
                    let slice = self.rewrite_slice(nal, lsb)?;
                    self.framing.push(&mut out, &slice);
                }
                _ => self.framing.push(&mut out, nal),
            }
        }
        Ok(out)
    }

    fn rewrite_slice(&mut self, nal: &[u8], lsb: u32) -> Result<Vec<u8>, Unsupported> {
        let header = nal[0];
        let rbsp = unescape(&nal[1..]);
        let mut r = BitReader::new(&rbsp);
        r.ue()?; // first_mb_in_slice
        let slice_type = r.ue()? % 5;
        if slice_type == 1 && header & 0x60 != 0 {
            return unsupported("a B-frame is a reference (B-pyramid)");
        }
        if r.ue()? != self.pps.id {
            return unsupported("slice refers to another PPS");
        }
        let frame_num = r.u(self.sps.log2_max_frame_num)?;
        if header & 0x1f == 5 {
            r.ue()?; // idr_pic_id
        }
        let at = r.pos();
        let rest = at + self.old_poc_bits as usize;
        if header & 0x60 != 0 {
            self.prev_ref_frame_num = frame_num;
        }
        let mut w = BitWriter::default();
        w.copy_bits(&rbsp, 0, at);
        w.u(self.sps.log2_max_poc_lsb, lsb);
        w.copy_bits(&rbsp, rest, rbsp.len() * 8);
        let mut out = vec![header];
        escape(&w.into_bytes(), &mut out);
        Ok(out)
    }

    /// The `idr_pic_id` of a packet's first slice when the packet is an IDR picture (in the
    /// spliced form [`Splicer::rewrite`] makes), `None` for any other picture.
    ///
    /// # Errors
    /// [`Unsupported`] if the slice header cannot be parsed.
    pub fn idr_pic_id(&self, packet: &[u8]) -> Result<Option<u32>, Unsupported> {
        for nal in self.framing.split(packet)? {
            match nal.first().map_or(0, |h| h & 0x1f) {
                5 => return Ok(Some(self.idr_field(nal)?.2)),
                1 => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// Where a slice's `idr_pic_id` lies in its RBSP (bits) and its value.
    fn idr_field(&self, nal: &[u8]) -> Result<(usize, usize, u32), Unsupported> {
        let rbsp = unescape(&nal[1..]);
        let mut r = BitReader::new(&rbsp);
        r.ue()?; // first_mb_in_slice
        r.ue()?; // slice_type
        r.ue()?; // pic_parameter_set_id
        r.u(self.sps.log2_max_frame_num)?;
        let at = r.pos();
        let id = r.ue()?;
        Ok((at, r.pos(), id))
    }

    /// `packet` (an IDR picture in spliced form) with an `idr_pic_id` other than `avoid` in
    /// every slice. Two IDR pictures in a row must differ in it (7.4.3); x264 numbers its own
    /// 0, 1, 0, …, so where segments of separate encoders meet, the second's first IDR may
    /// need another. The new value's code is as long as the old one's, or 8 bits longer, so
    /// the CABAC payload keeps its byte alignment and is copied as it is.
    ///
    /// # Errors
    /// [`Unsupported`] if a slice header cannot be parsed.
    pub fn with_idr_pic_id(&self, packet: &[u8], avoid: u32) -> Result<Vec<u8>, Unsupported> {
        let mut out = Vec::with_capacity(packet.len() + 2);
        for nal in self.framing.split(packet)? {
            if nal.first().map_or(0, |h| h & 0x1f) != 5 {
                self.framing.push(&mut out, nal);
                continue;
            }
            let (at, end, id) = self.idr_field(nal)?;
            if id != avoid {
                self.framing.push(&mut out, nal);
                continue;
            }
            let rbsp = unescape(&nal[1..]);
            let mut w = BitWriter::default();
            w.copy_bits(&rbsp, 0, at);
            w.ue(other_idr_pic_id(id));
            w.copy_bits(&rbsp, end, rbsp.len() * 8);
            let mut slice = vec![nal[0]];
            escape(&w.into_bytes(), &mut slice);
            self.framing.push(&mut out, &slice);
        }
        Ok(out)
    }

    /// A packet holding one all-skip, non-reference P picture shown at output frame `index`:
    /// an exact copy of the last reference picture.
    pub fn skip(&self, index: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let nal = self.skip_slice(index, 0, self.mbs, Some(&self.cabac_data), true);
        self.framing.push(&mut out, &nal);
        out
    }

    /// Whether [`Splicer::patched`] pictures can be made (CABAC streams only).
    pub fn can_patch(&self) -> bool {
        self.pps.cabac
    }

    /// Macroblocks per row and rows.
    pub fn mb_size(&self) -> (u32, u32) {
        (self.sps.width_mbs, self.sps.height_mbs)
    }

    /// Takes the one intra slice out of a packet of the patch encoder: an x264 run on just
    /// the patched macroblocks, intra only, its SPS and PPS in band (as x264 repeats them
    /// before every IDR picture). Its PPS must code intra macroblocks as the main stream's
    /// does ([`params::IntraParams`]).
    ///
    /// # Errors
    /// [`Unsupported`] if the packet is not what such an encoder makes.
    pub fn intra_slice(&self, packet: &[u8]) -> Result<IntraSlice, Unsupported> {
        let mut sps = None;
        let mut pps = None;
        let mut slice = None;
        for nal in Framing::AnnexB.split(packet)? {
            match nal.first().map_or(0, |h| h & 0x1f) {
                7 => sps = Some(parse_sps(nal)?.0),
                8 => pps = Some(parse_pps(nal)?),
                1 | 5 if slice.is_some() => return unsupported("patch in more than one slice"),
                1 | 5 => slice = Some(nal),
                _ => {}
            }
        }
        let (Some(sps), Some(pps), Some(nal)) = (sps, pps, slice) else {
            return unsupported("patch packet without SPS, PPS and slice");
        };
        if pps.intra != self.pps.intra || sps.chroma_format_idc != self.sps.chroma_format_idc {
            return unsupported("patch encoder codes intra macroblocks differently");
        }
        let idr = nal[0] & 0x1f == 5;
        let rbsp = unescape(&nal[1..]);
        let mut r = BitReader::new(&rbsp);
        if r.ue()? != 0 {
            return unsupported("patch slice does not start at its first macroblock");
        }
        if r.ue()? % 5 != 2 {
            return unsupported("patch slice is not an I slice");
        }
        r.ue()?; // pic_parameter_set_id
        r.u(sps.log2_max_frame_num)?;
        if idr {
            r.ue()?; // idr_pic_id
        }
        if sps.poc_type == 0 {
            r.u(sps.log2_max_poc_lsb)?;
        }
        if pps.redundant_pic_cnt {
            r.ue()?;
        }
        if nal[0] & 0x60 != 0 {
            if idr {
                r.u(2)?; // no_output_of_prior_pics_flag, long_term_reference_flag
            } else if r.u(1)? == 1 {
                return unsupported("memory management in a patch slice");
            }
        }
        let slice_qp = pps.pic_init_qp + r.se()?;
        if pps.deblocking_control && r.ue()? != 1 {
            r.se()?; // slice_alpha_c0_offset_div2
            r.se()?; // slice_beta_offset_div2
        }
        // cabac_alignment_one_bits, then the slice data to the end of the RBSP.
        let data = rbsp[r.pos().div_ceil(8)..].to_vec();
        Ok(IntraSlice {
            mbs: sps.width_mbs * sps.height_mbs,
            slice_qp,
            data,
        })
    }

    /// A patch of `slice` at macroblock `first_mb`: the all-skip slice data around it is coded
    /// once here, for every picture that shows the patch.
    ///
    /// # Errors
    /// [`Unsupported`] if the patch does not fit in the picture.
    pub fn patch(&self, first_mb: u32, slice: IntraSlice) -> Result<Patch, Unsupported> {
        let end = first_mb + slice.mbs;
        if end > self.mbs {
            return unsupported("patch outside the picture");
        }
        Ok(Patch {
            first_mb,
            before: all_skip_cabac(first_mb),
            after: all_skip_cabac(self.mbs - end),
            slice,
        })
    }

    /// A packet holding one non-reference picture shown at output frame `index`: the last
    /// reference picture with `patch` coded over it. Up to three slices: all-skip P slices
    /// before and after, the patch's I slice between. Nothing is deblocked.
    pub fn patched(&self, patch: &Patch, index: u64) -> Vec<u8> {
        let mut out = Vec::new();
        if patch.first_mb > 0 {
            let nal = self.skip_slice(index, 0, patch.first_mb, Some(&patch.before), false);
            self.framing.push(&mut out, &nal);
        }
        let mut w = BitWriter::default();
        self.slice_header(&mut w, index, patch.first_mb, 2, patch.slice.slice_qp);
        while !w.aligned() {
            w.bit(1); // cabac_alignment_one_bit
        }
        let data = &patch.slice.data;
        w.copy_bits(data, 0, data.len() * 8);
        let mut nal = vec![0x01]; // nal_ref_idc 0, nal_unit_type 1 (non-IDR slice)
        escape(&w.into_bytes(), &mut nal);
        self.framing.push(&mut out, &nal);
        let end = patch.first_mb + patch.slice.mbs;
        if end < self.mbs {
            let nal = self.skip_slice(index, end, self.mbs - end, Some(&patch.after), false);
            self.framing.push(&mut out, &nal);
        }
        out
    }

    /// The header of a non-reference slice at output frame `index`: P (`slice_type` 0, or 5
    /// when every slice of the picture is P) with one reference, the last, or I (2).
    fn slice_header(
        &self,
        w: &mut BitWriter,
        index: u64,
        first_mb: u32,
        slice_type: u32,
        slice_qp: i32,
    ) {
        let chroma = self.sps.chroma_format_idc != 0;
        let intra = slice_type % 5 == 2;
        w.ue(first_mb);
        w.ue(slice_type);
        w.ue(self.pps.id);
        let max_frame_num = 1u32 << self.sps.log2_max_frame_num;
        w.u(
            self.sps.log2_max_frame_num,
            (self.prev_ref_frame_num + 1) % max_frame_num,
        );
        w.u(self.sps.log2_max_poc_lsb, self.poc_lsb(index));
        if self.pps.redundant_pic_cnt {
            w.ue(0);
        }
        if !intra {
            w.bit(1); // num_ref_idx_active_override_flag
            w.ue(0); // num_ref_idx_l0_active_minus1: one reference, the last one
            w.bit(0); // ref_pic_list_modification_flag_l0
            if self.pps.weighted_pred {
                w.ue(0); // luma_log2_weight_denom
                if chroma {
                    w.ue(0); // chroma_log2_weight_denom
                }
                w.bit(0); // luma_weight_l0_flag
                if chroma {
                    w.bit(0); // chroma_weight_l0_flag
                }
            }
        }
        // nal_ref_idc 0: no dec_ref_pic_marking.
        if self.pps.cabac && !intra {
            w.ue(0); // cabac_init_idc
        }
        w.se(slice_qp - self.pps.pic_init_qp);
        if self.pps.deblocking_control {
            w.ue(1); // disable_deblocking_filter_idc: no filtering in this slice
        }
    }

    /// A non-reference slice NAL unit of `count` `P_Skip` macroblocks from `first_mb`, with
    /// their CABAC data (`all_skip_cabac(count)`) when the stream is CABAC.
    fn skip_slice(
        &self,
        index: u64,
        first_mb: u32,
        count: u32,
        cabac_data: Option<&[u8]>,
        whole: bool,
    ) -> Vec<u8> {
        let mut w = BitWriter::default();
        // Slice QP 26: no residual is coded, it only sets the CABAC start states.
        self.slice_header(&mut w, index, first_mb, if whole { 5 } else { 0 }, 26);
        match cabac_data.filter(|_| self.pps.cabac) {
            Some(data) => {
                while !w.aligned() {
                    w.bit(1); // cabac_alignment_one_bit
                }
                w.copy_bits(data, 0, data.len() * 8);
            }
            None => {
                w.ue(count); // mb_skip_run
                w.bit(1); // rbsp_stop_one_bit
            }
        }
        while !w.aligned() {
            w.bit(0);
        }
        let mut nal = vec![0x01]; // nal_ref_idc 0, nal_unit_type 1 (non-IDR slice)
        escape(&w.into_bytes(), &mut nal);
        nal
    }
}

/// The intra slice of a small picture coded on its own: macroblock data that decodes the
/// same wherever a slice of that width starts, as a slice sees no macroblock outside itself
/// (nothing to its left or above is available for prediction or context).
#[derive(Debug, Clone)]
pub struct IntraSlice {
    /// Macroblocks it covers.
    pub mbs: u32,
    slice_qp: i32,
    /// CABAC slice data: from the first byte after the header's alignment to the RBSP's end.
    data: Vec<u8>,
}

/// An [`IntraSlice`] placed in the picture, with the skip data around it.
#[derive(Debug, Clone)]
pub struct Patch {
    first_mb: u32,
    before: Vec<u8>,
    after: Vec<u8>,
    slice: IntraSlice,
}

impl Patch {
    /// Bytes of slice data (for statistics).
    pub fn slice_bytes(&self) -> usize {
        self.slice.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_idr_pic_id_keeps_the_header_length_modulo_8() {
        let len = |v: u32| {
            let mut w = BitWriter::default();
            w.ue(v);
            w.bits
        };
        for id in [0u32, 1, 2, 3, 6, 7, 14, 100, 65534, 65535] {
            let other = other_idr_pic_id(id);
            assert_ne!(other, id);
            assert!(other <= 65535, "{id} -> {other}");
            assert_eq!(len(other) % 8, len(id) % 8, "{id} -> {other}");
        }
    }
}
