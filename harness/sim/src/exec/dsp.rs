//! ARMv7E-M DSP extension semantics (halfword multiplies, dual MACs, SIMD add/sub).

use super::alu::{shift_imm, signed_sat, unsigned_sat};
use crate::Simulator;
use crate::insn::*;

#[inline]
fn lo(x: u32) -> i32 {
    x as u16 as i16 as i32
}
#[inline]
fn hi(x: u32) -> i32 {
    (x >> 16) as u16 as i16 as i32
}

impl Simulator {
    pub(super) fn exec_dsp(&mut self, insn: &Insn) {
        use Insn::*;
        match *insn {
            SmulXy { rd, rn, rm, ra, nt, mt } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let a = if nt { hi(n) } else { lo(n) };
                let b = if mt { hi(m) } else { lo(m) };
                let mut r = (a * b) as i64;
                if ra != 15 {
                    r += self.read_reg(ra) as i32 as i64;
                    self.q |= r != r as i32 as i64;
                }
                self.write_reg(rd, r as u32);
            }
            SmulWy { rd, rn, rm, ra, mt } => {
                let m = self.read_reg(rm);
                let b = if mt { hi(m) } else { lo(m) } as i64;
                let mut r = (self.read_reg(rn) as i32 as i64 * b) >> 16;
                if ra != 15 {
                    r += self.read_reg(ra) as i32 as i64;
                    self.q |= r != r as i32 as i64;
                }
                self.write_reg(rd, r as u32);
            }
            SmlalXy { rdlo, rdhi, rn, rm, nt, mt } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let a = if nt { hi(n) } else { lo(n) };
                let b = if mt { hi(m) } else { lo(m) };
                let acc = ((self.read_reg(rdhi) as u64) << 32) | self.read_reg(rdlo) as u64;
                let r = acc.wrapping_add((a * b) as i64 as u64);
                self.write_reg(rdlo, r as u32);
                self.write_reg(rdhi, (r >> 32) as u32);
            }
            Smlad { rd, rn, rm, ra, x, sub } => {
                let n = self.read_reg(rn);
                let m = if x { self.read_reg(rm).rotate_right(16) } else { self.read_reg(rm) };
                let p1 = (lo(n) * lo(m)) as i64;
                let p2 = (hi(n) * hi(m)) as i64;
                let mut r = if sub { p1 - p2 } else { p1 + p2 };
                if ra != 15 {
                    r += self.read_reg(ra) as i32 as i64;
                }
                self.q |= r != r as i32 as i64;
                self.write_reg(rd, r as u32);
            }
            Smlald { rdlo, rdhi, rn, rm, x, sub } => {
                let n = self.read_reg(rn);
                let m = if x { self.read_reg(rm).rotate_right(16) } else { self.read_reg(rm) };
                let p1 = (lo(n) * lo(m)) as i64;
                let p2 = (hi(n) * hi(m)) as i64;
                let acc = (((self.read_reg(rdhi) as u64) << 32) | self.read_reg(rdlo) as u64) as i64;
                let r = acc.wrapping_add(if sub { p1 - p2 } else { p1 + p2 }) as u64;
                self.write_reg(rdlo, r as u32);
                self.write_reg(rdhi, (r >> 32) as u32);
            }
            Smmul { rd, rn, rm, ra, sub, round } => {
                let p = self.read_reg(rn) as i32 as i128 * self.read_reg(rm) as i32 as i128;
                let mut r = if ra == 15 {
                    p
                } else {
                    let a = (self.read_reg(ra) as i32 as i128) << 32;
                    if sub { a - p } else { a + p }
                };
                if round {
                    r += 0x8000_0000;
                }
                self.write_reg(rd, (r >> 32) as u32);
            }
            Qarith { op, rd, rn, rm } => {
                let n = self.read_reg(rn) as i32 as i64;
                let m = self.read_reg(rm) as i32 as i64;
                let (r, q) = match op {
                    QOp::Qadd => signed_sat(m + n, 32),
                    QOp::Qsub => signed_sat(m - n, 32),
                    QOp::Qdadd | QOp::Qdsub => {
                        let (d, q1) = signed_sat(2 * n, 32);
                        let (r, q2) = signed_sat(if op == QOp::Qdadd { m + d } else { m - d }, 32);
                        (r, q1 | q2)
                    }
                };
                self.q |= q;
                self.write_reg(rd, r as u32);
            }
            Parallel { op, kind, rd, rn, rm } => {
                let (v, ge) = parallel(op, kind, self.read_reg(rn), self.read_reg(rm));
                if let Some(ge) = ge {
                    self.ge = ge;
                }
                self.write_reg(rd, v);
            }
            Sel { rd, rn, rm } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let mut v = 0;
                for i in 0..4 {
                    let src = if self.ge & (1 << i) != 0 { n } else { m };
                    v |= src & (0xff << (8 * i));
                }
                self.write_reg(rd, v);
            }
            Usad8 { rd, rn, rm, ra } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let mut sum = if ra == 15 { 0u32 } else { self.read_reg(ra) };
                for i in 0..4 {
                    let a = (n >> (8 * i)) as u8;
                    let b = (m >> (8 * i)) as u8;
                    sum = sum.wrapping_add(a.abs_diff(b) as u32);
                }
                self.write_reg(rd, sum);
            }
            Pkh { rd, rn, rm, tb, shift } => {
                let n = self.read_reg(rn);
                let m = shift_imm(self.read_reg(rm), shift, self.c).0;
                let v = if tb { (n & 0xffff_0000) | (m & 0xffff) } else { (m & 0xffff_0000) | (n & 0xffff) };
                self.write_reg(rd, v);
            }
            _ => {}
        }
    }
}

/// The parallel add/subtract family. Returns the result and the new GE bits for
/// the modulo (S/U) forms.
pub(crate) fn parallel(op: ParOp, kind: ParKind, n: u32, m: u32) -> (u32, Option<u8>) {
    let signed = matches!(kind, ParKind::S | ParKind::Q | ParKind::Sh);
    let (lanes, width) = match op {
        ParOp::Add8 | ParOp::Sub8 => (4, 8),
        _ => (2, 16),
    };
    let lane = |x: u32, i: u32| -> i64 {
        let v = (x >> (i * width)) & ((1 << width) - 1);
        if signed { if width == 8 { v as u8 as i8 as i64 } else { v as u16 as i16 as i64 } } else { v as i64 }
    };
    let mut out = 0u32;
    let mut ge = 0u8;
    for i in 0..lanes {
        // (value, is_add) per lane; ASX/SAX cross the halves.
        let (val, is_add) = match op {
            ParOp::Add16 | ParOp::Add8 => (lane(n, i) + lane(m, i), true),
            ParOp::Sub16 | ParOp::Sub8 => (lane(n, i) - lane(m, i), false),
            ParOp::Asx => {
                if i == 0 {
                    (lane(n, 0) - lane(m, 1), false)
                } else {
                    (lane(n, 1) + lane(m, 0), true)
                }
            }
            ParOp::Sax => {
                if i == 0 {
                    (lane(n, 0) + lane(m, 1), true)
                } else {
                    (lane(n, 1) - lane(m, 0), false)
                }
            }
        };
        let r = match kind {
            ParKind::S | ParKind::U => val,
            ParKind::Q => signed_sat(val, width).0,
            ParKind::Uq => unsigned_sat(val, width).0,
            ParKind::Sh | ParKind::Uh => val >> 1,
        };
        let lane_ge = match kind {
            ParKind::S => val >= 0,
            ParKind::U => {
                if is_add {
                    val >= 1 << width
                } else {
                    val >= 0
                }
            }
            _ => false,
        };
        let mask = (1u32 << width) - 1;
        out |= ((r as u32) & mask) << (i * width);
        if lane_ge {
            ge |= if width == 16 { 0b11 << (2 * i) } else { 1 << i };
        }
    }
    let ge = matches!(kind, ParKind::S | ParKind::U).then_some(ge);
    (out, ge)
}
