//! Bit I/O and emulation prevention.

use super::{unsupported, Unsupported};

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
    /// Bits written so far.
    pub(super) bits: usize,
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
}
