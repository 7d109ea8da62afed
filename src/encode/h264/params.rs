//! Parameter sets (SPS, PPS) and how NAL units are framed (`avcC`, Annex B).

use super::bits::{escape, unescape, BitReader, BitWriter};
use super::{unsupported, Unsupported};

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
