//! CABAC (ITU-T H.264 9.3.4): only what an all-skip slice needs, but the full engine.

use super::bits::BitWriter;

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

/// CABAC slice data of a picture of `mbs` macroblocks, every one `P_Skip`: `mb_skip_flag` 1
/// (ctxIdx 11, as no neighbour is ever coded; cabac_init_idc 0, slice QP 26) and
/// `end_of_slice_flag` after each, then the stop bit and zero padding.
pub(super) fn all_skip_cabac(mbs: u32) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
