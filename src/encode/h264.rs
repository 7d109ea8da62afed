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
//! chroma QP offsets, constrained intra prediction, no scaling lists: [`IntraParams`],
//! compared for every patch) and the slice QP (the new header says the same QP relative to
//! the main PPS). No slice of such a picture is deblocked. Its copies repeat the patch (same
//! bytes, new order count), since they too can only refer to the last reference.
//!
//! Only frame pictures, one slice group, 4:2:0 or 4:0:0 are handled; [`Splicer::new`] refuses
//! anything else and the encoder then falls back to sending every frame to x264. Patches need
//! CABAC (x264's default); without it every changed picture goes to x264.

use std::fmt;

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

// ---------------------------------------------------------------------------------------------
// Bit I/O and emulation prevention

/// Reads an RBSP (emulation prevention already removed) bit by bit, MSB first.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn bit(&mut self) -> Result<u32, Unsupported> {
        let byte = *self
            .data
            .get(self.pos / 8)
            .ok_or_else(|| Unsupported("header ends early".into()))?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u32::from(b))
    }

    pub(crate) fn u(&mut self, n: u32) -> Result<u32, Unsupported> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }

    pub(crate) fn ue(&mut self) -> Result<u32, Unsupported> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return unsupported("bad exp-Golomb code");
            }
        }
        Ok(((1u64 << zeros) - 1 + u64::from(self.u(zeros)?)) as u32)
    }

    pub(crate) fn se(&mut self) -> Result<i32, Unsupported> {
        let k = self.ue()?;
        Ok(if k % 2 == 1 {
            k.div_ceil(2) as i32
        } else {
            -((k / 2) as i32)
        })
    }
}

/// Writes bits MSB first.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    pub(crate) fn bit(&mut self, b: u32) {
        if self.bits % 8 == 0 {
            self.bytes.push(0);
        }
        if b & 1 == 1 {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << (7 - self.bits % 8);
        }
        self.bits += 1;
    }

    pub(crate) fn u(&mut self, n: u32, v: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1);
        }
    }

    pub(crate) fn ue(&mut self, v: u32) {
        let x = u64::from(v) + 1;
        let len = 64 - x.leading_zeros();
        for _ in 0..len - 1 {
            self.bit(0);
        }
        for i in (0..len).rev() {
            self.bit(((x >> i) & 1) as u32);
        }
    }

    pub(crate) fn se(&mut self, v: i32) {
        self.ue(if v > 0 {
            (2 * v - 1) as u32
        } else {
            (-2 * v) as u32
        });
    }

    pub(crate) fn aligned(&self) -> bool {
        self.bits % 8 == 0
    }

    /// Copies bits `[from, to)` of `src`.
    pub(crate) fn copy_bits(&mut self, src: &[u8], from: usize, to: usize) {
        let mut i = from;
        while i < to && i % 8 != 0 {
            self.bit(u32::from((src[i / 8] >> (7 - i % 8)) & 1));
            i += 1;
        }
        if self.aligned() {
            let whole = (to - i) / 8;
            self.bytes.extend_from_slice(&src[i / 8..i / 8 + whole]);
            self.bits += whole * 8;
            i += whole * 8;
        }
        while i < to {
            self.bit(u32::from((src[i / 8] >> (7 - i % 8)) & 1));
            i += 1;
        }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Removes emulation prevention bytes (`00 00 03` → `00 00`).
pub(crate) fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Inserts emulation prevention bytes so that no `00 00 0x` (x ≤ 3) appears.
pub(crate) fn escape(rbsp: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter sets

/// What a slice writer needs from the sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sps {
    pub id: u32,
    pub chroma_format_idc: u32,
    pub log2_max_frame_num: u32,
    pub poc_type: u32,
    pub log2_max_poc_lsb: u32,
    pub width_mbs: u32,
    pub height_mbs: u32,
}

/// Parses an SPS NAL unit (with its header byte). Also returns, in RBSP bits, where the
/// picture-order fields start and end (for [`rewrite_sps`]).
pub(crate) fn parse_sps(nal: &[u8]) -> Result<(Sps, usize, usize), Unsupported> {
    if nal.first().map(|h| h & 0x1f) != Some(7) {
        return unsupported("not an SPS");
    }
    let rbsp = unescape(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    let profile = r.u(8)?;
    r.u(16)?; // constraint flags, reserved bits, level_idc
    let id = r.ue()?;
    let mut chroma_format_idc = 1;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 && r.u(1)? == 1 {
            return unsupported("separate colour planes");
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.u(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.u(1)? == 1 {
            return unsupported("scaling matrices in the SPS");
        }
    }
    let log2_max_frame_num = r.ue()? + 4;
    let poc_start = r.pos();
    let poc_type = r.ue()?;
    let mut log2_max_poc_lsb = 0;
    match poc_type {
        0 => log2_max_poc_lsb = r.ue()? + 4,
        2 => {}
        _ => return unsupported("pic_order_cnt_type 1"),
    }
    let poc_end = r.pos();
    r.ue()?; // max_num_ref_frames
    r.u(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = r.ue()? + 1;
    let height_map_units = r.ue()? + 1;
    if r.u(1)? != 1 {
        return unsupported("interlaced coding (frame_mbs_only_flag 0)");
    }
    Ok((
        Sps {
            id,
            chroma_format_idc,
            log2_max_frame_num,
            poc_type,
            log2_max_poc_lsb,
            width_mbs,
            height_mbs: height_map_units,
        },
        poc_start,
        poc_end,
    ))
}

/// Rewrites an SPS to signal explicit picture order counts (`pic_order_cnt_type` 0) with a
/// `lsb_bits`-bit LSB; every other field is copied bit for bit.
pub(crate) fn rewrite_sps(nal: &[u8], lsb_bits: u32) -> Result<Vec<u8>, Unsupported> {
    let (_, poc_start, poc_end) = parse_sps(nal)?;
    let rbsp = unescape(&nal[1..]);
    let mut w = BitWriter::default();
    w.copy_bits(&rbsp, 0, poc_start);
    w.ue(0);
    w.ue(lsb_bits - 4);
    // The rest, up to and including the stop bit; trailing zero bits are re-made.
    let last_one = last_set_bit(&rbsp).ok_or_else(|| Unsupported("empty SPS".into()))?;
    w.copy_bits(&rbsp, poc_end, last_one + 1);
    while !w.aligned() {
        w.bit(0);
    }
    let mut out = vec![nal[0]];
    escape(&w.into_bytes(), &mut out);
    Ok(out)
}

fn last_set_bit(data: &[u8]) -> Option<usize> {
    let i = data.iter().rposition(|&b| b != 0)?;
    Some(i * 8 + 7 - data[i].trailing_zeros() as usize)
}

/// What a slice writer needs from the picture parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pps {
    pub id: u32,
    pub sps_id: u32,
    pub cabac: bool,
    pub weighted_pred: bool,
    pub pic_init_qp: i32,
    pub deblocking_control: bool,
    pub redundant_pic_cnt: bool,
    /// What the macroblock layer of an intra slice depends on, beyond the SPS: two streams
    /// whose PPSs agree here decode the same intra slice data the same way.
    pub intra: IntraParams,
}

/// The PPS fields that shape intra macroblock data and its decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntraParams {
    pub cabac: bool,
    pub constrained_intra_pred: bool,
    pub transform_8x8: bool,
    pub chroma_qp_offset: i32,
    pub second_chroma_qp_offset: i32,
    pub scaling_matrix: bool,
}

/// Parses a PPS NAL unit (with its header byte).
pub(crate) fn parse_pps(nal: &[u8]) -> Result<Pps, Unsupported> {
    if nal.first().map(|h| h & 0x1f) != Some(8) {
        return unsupported("not a PPS");
    }
    let rbsp = unescape(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    let id = r.ue()?;
    let sps_id = r.ue()?;
    let cabac = r.u(1)? == 1;
    if r.u(1)? == 1 {
        return unsupported("bottom_field_pic_order_in_frame_present_flag");
    }
    if r.ue()? != 0 {
        return unsupported("slice groups");
    }
    r.ue()?; // num_ref_idx_l0_default_active_minus1
    r.ue()?; // num_ref_idx_l1_default_active_minus1
    let weighted_pred = r.u(1)? == 1;
    r.u(2)?; // weighted_bipred_idc
    let pic_init_qp = 26 + r.se()?;
    r.se()?; // pic_init_qs_minus26
    let chroma_qp_offset = r.se()?;
    let deblocking_control = r.u(1)? == 1;
    let constrained_intra_pred = r.u(1)? == 1;
    let redundant_pic_cnt = r.u(1)? == 1;
    // The High-profile tail is there when more than the stop bit is left.
    let more = last_set_bit(&rbsp).is_some_and(|stop| r.pos() < stop);
    let (transform_8x8, scaling_matrix, second_chroma_qp_offset) = if more {
        let t = r.u(1)? == 1;
        let m = r.u(1)? == 1;
        if m {
            return unsupported("scaling matrices in the PPS");
        }
        (t, m, r.se()?)
    } else {
        (false, false, chroma_qp_offset)
    };
    Ok(Pps {
        intra: IntraParams {
            cabac,
            constrained_intra_pred,
            transform_8x8,
            chroma_qp_offset,
            second_chroma_qp_offset,
            scaling_matrix,
        },
        id,
        sps_id,
        cabac,
        weighted_pred,
        pic_init_qp,
        deblocking_control,
        redundant_pic_cnt,
    })
}

/// An `AVCDecoderConfigurationRecord` (MP4 `avcC`, libav's extradata for H.264 in MP4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AvcC {
    /// Bytes 1..=3: profile, compatibility, level.
    pub profile: [u8; 3],
    /// Bytes of each NAL length prefix (1, 2 or 4).
    pub length_size: usize,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    /// Anything after the PPS list (high-profile chroma/bit-depth fields), kept as it is.
    pub tail: Vec<u8>,
}

impl AvcC {
    pub(crate) fn parse(data: &[u8]) -> Result<AvcC, Unsupported> {
        let bad = || Unsupported("malformed avcC".into());
        if data.len() < 7 || data[0] != 1 {
            return unsupported("extradata is not avcC");
        }
        let length_size = usize::from(data[4] & 3) + 1;
        if length_size == 3 {
            return unsupported("3-byte NAL lengths");
        }
        let list = |count: usize, at: &mut usize| -> Result<Vec<Vec<u8>>, Unsupported> {
            let mut v = Vec::with_capacity(count);
            for _ in 0..count {
                let len_bytes = data.get(*at..*at + 2).ok_or_else(bad)?;
                let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
                let nal = data.get(*at + 2..*at + 2 + len).ok_or_else(bad)?;
                v.push(nal.to_vec());
                *at += 2 + len;
            }
            Ok(v)
        };
        let mut at = 6;
        let sps = list(usize::from(data[5] & 0x1f), &mut at)?;
        let n_pps = usize::from(*data.get(at).ok_or_else(bad)?);
        at += 1;
        let pps = list(n_pps, &mut at)?;
        Ok(AvcC {
            profile: [data[1], data[2], data[3]],
            length_size,
            sps,
            pps,
            tail: data[at..].to_vec(),
        })
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1, self.profile[0], self.profile[1], self.profile[2]];
        out.push(0xfc | (self.length_size as u8 - 1));
        out.push(0xe0 | self.sps.len() as u8);
        for s in &self.sps {
            out.extend_from_slice(&(s.len() as u16).to_be_bytes());
            out.extend_from_slice(s);
        }
        out.push(self.pps.len() as u8);
        for p in &self.pps {
            out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            out.extend_from_slice(p);
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// How NAL units are delimited in extradata and packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Start codes (`00 00 00 01`), as libav's libx264 wrapper emits.
    AnnexB,
    /// Big-endian length prefixes of this many bytes (MP4 samples).
    Length(usize),
}

impl Framing {
    /// Splits `data` into NAL units.
    pub(crate) fn split(self, data: &[u8]) -> Result<Vec<&[u8]>, Unsupported> {
        let mut nals = Vec::new();
        match self {
            Framing::Length(n) => {
                let mut at = 0;
                while at < data.len() {
                    let len = data
                        .get(at..at + n)
                        .ok_or_else(|| Unsupported("truncated NAL length".into()))?
                        .iter()
                        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                    nals.push(
                        data.get(at + n..at + n + len)
                            .ok_or_else(|| Unsupported("truncated NAL".into()))?,
                    );
                    at += n + len;
                }
            }
            Framing::AnnexB => {
                // Start code positions (the byte after `00 00 01`).
                let mut starts = Vec::new();
                let mut i = 0;
                while i + 3 <= data.len() {
                    if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
                        starts.push(i + 3);
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                for (k, &s) in starts.iter().enumerate() {
                    let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
                    // A four-byte start code's leading zero, and trailing zeros, are not NAL data.
                    while end > s && data[end - 1] == 0 {
                        end -= 1;
                    }
                    nals.push(&data[s..end]);
                }
                if nals.is_empty() && !data.is_empty() {
                    return unsupported("no start code");
                }
            }
        }
        Ok(nals)
    }

    /// Appends one NAL unit.
    pub(crate) fn push(self, out: &mut Vec<u8>, nal: &[u8]) {
        match self {
            Framing::AnnexB => out.extend_from_slice(&[0, 0, 0, 1]),
            Framing::Length(n) => {
                let len = nal.len() as u64;
                for i in (0..n).rev() {
                    out.push((len >> (8 * i)) as u8);
                }
            }
        }
        out.extend_from_slice(nal);
    }
}

// ---------------------------------------------------------------------------------------------
// CABAC (ITU-T H.264 9.3.4) — only what an all-skip slice needs, but the full engine

/// Table 9-44: rangeTabLPS[pStateIdx][qCodIRangeIdx].
const RANGE_LPS: [[u8; 4]; 64] = [
    [128, 176, 208, 240],
    [128, 167, 197, 227],
    [128, 158, 187, 216],
    [123, 150, 178, 205],
    [116, 142, 169, 195],
    [111, 135, 160, 185],
    [105, 128, 152, 175],
    [100, 122, 144, 166],
    [95, 116, 137, 158],
    [90, 110, 130, 150],
    [85, 104, 123, 142],
    [81, 99, 117, 135],
    [77, 94, 111, 128],
    [73, 89, 105, 122],
    [69, 85, 100, 116],
    [66, 80, 95, 110],
    [62, 76, 90, 104],
    [59, 72, 86, 99],
    [56, 69, 81, 94],
    [53, 65, 77, 89],
    [51, 62, 73, 85],
    [48, 59, 69, 80],
    [46, 56, 66, 76],
    [43, 53, 63, 72],
    [41, 50, 59, 69],
    [39, 48, 56, 65],
    [37, 45, 54, 62],
    [35, 43, 51, 59],
    [33, 41, 48, 56],
    [32, 39, 46, 53],
    [30, 37, 43, 50],
    [29, 35, 41, 48],
    [27, 33, 39, 45],
    [26, 31, 37, 43],
    [24, 30, 35, 41],
    [23, 28, 33, 39],
    [22, 27, 32, 37],
    [21, 26, 30, 35],
    [20, 24, 29, 33],
    [19, 23, 27, 31],
    [18, 22, 26, 30],
    [17, 21, 25, 28],
    [16, 20, 23, 27],
    [15, 19, 22, 25],
    [14, 18, 21, 24],
    [14, 17, 20, 23],
    [13, 16, 19, 22],
    [12, 15, 18, 21],
    [12, 14, 17, 20],
    [11, 14, 16, 19],
    [11, 13, 15, 18],
    [10, 12, 15, 17],
    [10, 12, 14, 16],
    [9, 11, 13, 15],
    [9, 11, 12, 14],
    [8, 10, 12, 14],
    [8, 9, 11, 13],
    [7, 9, 11, 12],
    [7, 9, 10, 12],
    [7, 8, 10, 11],
    [6, 8, 9, 11],
    [6, 7, 9, 10],
    [6, 7, 8, 9],
    [2, 2, 2, 2],
];

/// Table 9-45: transIdxLPS.
const TRANS_LPS: [u8; 64] = [
    0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12, 13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21,
    21, 22, 22, 23, 24, 24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33, 33, 33, 34,
    34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63,
];

/// One context variable.
#[derive(Debug, Clone, Copy)]
struct Context {
    state: u8,
    mps: u8,
}

impl Context {
    /// 9.3.1.1 with (m, n) from the tables and the slice QP.
    fn init(m: i32, n: i32, slice_qp: i32) -> Context {
        let pre = (((m * slice_qp.clamp(0, 51)) >> 4) + n).clamp(1, 126);
        if pre <= 63 {
            Context {
                state: (63 - pre) as u8,
                mps: 0,
            }
        } else {
            Context {
                state: (pre - 64) as u8,
                mps: 1,
            }
        }
    }
}

/// The arithmetic encoder of 9.3.4.
struct CabacWriter<'w> {
    out: &'w mut BitWriter,
    low: u32,
    range: u32,
    first_bit: bool,
    outstanding: u32,
}

impl<'w> CabacWriter<'w> {
    fn new(out: &'w mut BitWriter) -> Self {
        CabacWriter {
            out,
            low: 0,
            range: 510,
            first_bit: true,
            outstanding: 0,
        }
    }

    fn put_bit(&mut self, b: u32) {
        if self.first_bit {
            self.first_bit = false;
        } else {
            self.out.bit(b);
        }
        while self.outstanding > 0 {
            self.out.bit(1 - b);
            self.outstanding -= 1;
        }
    }

    fn renorm(&mut self) {
        while self.range < 256 {
            if self.low < 256 {
                self.put_bit(0);
            } else if self.low >= 512 {
                self.low -= 512;
                self.put_bit(1);
            } else {
                self.low -= 256;
                self.outstanding += 1;
            }
            self.range <<= 1;
            self.low <<= 1;
        }
    }

    fn decision(&mut self, ctx: &mut Context, bin: u8) {
        let lps = u32::from(RANGE_LPS[usize::from(ctx.state)][((self.range >> 6) & 3) as usize]);
        self.range -= lps;
        if bin != ctx.mps {
            self.low += self.range;
            self.range = lps;
            if ctx.state == 0 {
                ctx.mps = 1 - ctx.mps;
            }
            ctx.state = TRANS_LPS[usize::from(ctx.state)];
        } else {
            ctx.state = (ctx.state + 1).min(62);
        }
        self.renorm();
    }

    fn terminate(&mut self, bin: bool) {
        self.range -= 2;
        if bin {
            self.low += self.range;
            // EncodeFlush: the last bit written is the rbsp_stop_one_bit.
            self.range = 2;
            self.renorm();
            self.put_bit((self.low >> 9) & 1);
            self.out.u(2, ((self.low >> 7) & 3) | 1);
        } else {
            self.renorm();
        }
    }
}

// ---------------------------------------------------------------------------------------------
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

/// CABAC slice data of a picture of `mbs` macroblocks, every one `P_Skip`: `mb_skip_flag` 1
/// (ctxIdx 11, as no neighbour is ever coded; cabac_init_idc 0, slice QP 26) and
/// `end_of_slice_flag` after each, then the stop bit and zero padding.
fn all_skip_cabac(mbs: u32) -> Vec<u8> {
    let mut w = BitWriter::default();
    let mut ctx = Context::init(23, 33, 26);
    let mut c = CabacWriter::new(&mut w);
    for mb in 0..mbs {
        c.decision(&mut ctx, 1);
        c.terminate(mb + 1 == mbs);
    }
    while !w.aligned() {
        w.bit(0);
    }
    w.into_bytes()
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
    /// does ([`IntraParams`]).
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
    fn exp_golomb_round_trips() {
        let mut w = BitWriter::default();
        for v in [0u32, 1, 2, 3, 7, 8, 254, 255, 65535, 8160] {
            w.ue(v);
        }
        for v in [0i32, 1, -1, 2, -2, 25, -25] {
            w.se(v);
        }
        w.u(16, 0xBEEF);
        while !w.aligned() {
            w.bit(0);
        }
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for v in [0u32, 1, 2, 3, 7, 8, 254, 255, 65535, 8160] {
            assert_eq!(r.ue().unwrap(), v);
        }
        for v in [0i32, 1, -1, 2, -2, 25, -25] {
            assert_eq!(r.se().unwrap(), v);
        }
        assert_eq!(r.u(16).unwrap(), 0xBEEF);
    }

    #[test]
    fn emulation_prevention_round_trips() {
        let raw = [0u8, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 5, 0, 0];
        let mut esc = Vec::new();
        escape(&raw, &mut esc);
        assert!(!esc.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] < 3));
        assert_eq!(unescape(&esc), raw);
    }

    #[test]
    fn copy_bits_keeps_every_bit() {
        let src = [0b1011_0011u8, 0b0101_1100, 0xFF, 0x00, 0b1000_0001];
        for from in 0..12 {
            for to in from..40 {
                let mut w = BitWriter::default();
                w.u(3, 0b101);
                w.copy_bits(&src, from, to);
                let bytes = w.into_bytes();
                let mut r = BitReader::new(&bytes);
                assert_eq!(r.u(3).unwrap(), 0b101);
                let mut s = BitReader::new(&src);
                s.u(from as u32).unwrap();
                for _ in from..to {
                    assert_eq!(r.u(1).unwrap(), s.u(1).unwrap(), "{from}..{to}");
                }
            }
        }
    }

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

    #[test]
    fn cabac_contexts_start_as_the_standard_says() {
        // (23, 33) at QP 26: preCtxState 70 → state 6, MPS 1.
        let c = Context::init(23, 33, 26);
        assert_eq!((c.state, c.mps), (6, 1));
        // At QP 0: preCtxState 33 → state 30, MPS 0.
        let c = Context::init(23, 33, 0);
        assert_eq!((c.state, c.mps), (30, 0));
    }
}
