//! FP extension (FPv4-SP on Cortex-M4, FPv5 on Cortex-M7): loads/stores, moves and
//! the data-processing ops. Arithmetic honours FPSCR.RMode, FZ and DN and sets the
//! cumulative exception flags (the IEEE core is in `softfp`).

use super::softfp::{self, Float, FpCtx, Kind};
use super::{ExecResult, FaultKind, Trap};
use crate::insn::*;
use crate::{CoreKind, Simulator};

impl Simulator {
    fn s_get(&self, i: u8) -> Result<u32, Trap> {
        self.s.get(i as usize).copied().ok_or(Trap::Undefined)
    }
    fn s_set(&mut self, i: u8, v: u32) -> ExecResult {
        *self.s.get_mut(i as usize).ok_or(Trap::Undefined)? = v;
        Ok(())
    }
    fn d_get(&self, i: u8) -> Result<u64, Trap> {
        let lo = self.s_get(i.wrapping_mul(2))?;
        let hi = self.s_get(i.wrapping_mul(2).wrapping_add(1))?;
        if i >= 16 {
            return Err(Trap::Undefined);
        }
        Ok(((hi as u64) << 32) | lo as u64)
    }
    fn d_set(&mut self, i: u8, v: u64) -> ExecResult {
        if i >= 16 {
            return Err(Trap::Undefined);
        }
        self.s_set(i * 2, v as u32)?;
        self.s_set(i * 2 + 1, (v >> 32) as u32)
    }

    pub(super) fn exec_fp(&mut self, insn: &Insn) -> ExecResult {
        // CPACR CP10 (bits 20..21) must grant access.
        if self.scs.cpacr & (3 << 20) == 0 {
            return Err(Trap::Fault(FaultKind::NoCp));
        }
        // FPCCR.ASPEN: FP use marks the context as active (CONTROL.FPCA).
        if self.scs.fpccr & (1 << 31) != 0 {
            self.control |= 4;
        }
        use Insn::*;
        match *insn {
            Vldr { vd, double, rn, imm } => {
                let base = if rn == 15 { self.pc.wrapping_add(4) & !3 } else { self.read_reg(rn) };
                let addr = base.wrapping_add(imm as u32);
                if addr & 3 != 0 {
                    return Err(Trap::Fault(FaultKind::Unaligned { addr }));
                }
                if double {
                    let lo = self.read(addr, 4)?;
                    let hi = self.read(addr.wrapping_add(4), 4)?;
                    self.d_set(vd, ((hi as u64) << 32) | lo as u64)?;
                } else {
                    let v = self.read(addr, 4)?;
                    self.s_set(vd, v)?;
                }
            }
            Vstr { vd, double, rn, imm } => {
                let base = if rn == 15 { self.pc.wrapping_add(4) & !3 } else { self.read_reg(rn) };
                let addr = base.wrapping_add(imm as u32);
                if addr & 3 != 0 {
                    return Err(Trap::Fault(FaultKind::Unaligned { addr }));
                }
                if double {
                    let v = self.d_get(vd)?;
                    self.write(addr, 4, v as u32)?;
                    self.write(addr.wrapping_add(4), 4, (v >> 32) as u32)?;
                } else {
                    let v = self.s_get(vd)?;
                    self.write(addr, 4, v)?;
                }
            }
            Vldm { vd, count, double, rn, wback, db } | Vstm { vd, count, double, rn, wback, db } => {
                let load = matches!(insn, Vldm { .. });
                let words = count as u32 * if double { 2 } else { 1 };
                let first = if double { vd as u32 * 2 } else { vd as u32 };
                if first + words > 32 {
                    return Err(Trap::Undefined);
                }
                let base = self.read_reg(rn);
                let start = if db { base.wrapping_sub(4 * words) } else { base };
                if start & 3 != 0 {
                    return Err(Trap::Fault(FaultKind::Unaligned { addr: start }));
                }
                for k in 0..words {
                    let a = start.wrapping_add(4 * k);
                    let idx = (first + k) as u8;
                    if load {
                        let v = self.read(a, 4)?;
                        self.s_set(idx, v)?;
                    } else {
                        let v = self.s_get(idx)?;
                        self.write(a, 4, v)?;
                    }
                }
                if wback {
                    let nb = if db { start } else { base.wrapping_add(4 * words) };
                    self.write_reg(rn, nb);
                }
            }
            VmovCore { to_core, rt, sn } => {
                if to_core {
                    let v = self.s_get(sn)?;
                    self.write_reg(rt, v);
                } else {
                    let v = self.read_reg(rt);
                    self.s_set(sn, v)?;
                }
            }
            VmovCore2 { to_core, rt, rt2, vm, double } => {
                let (i0, i1) = if double {
                    if vm >= 16 {
                        return Err(Trap::Undefined);
                    }
                    (vm * 2, vm * 2 + 1)
                } else {
                    (vm, vm.wrapping_add(1))
                };
                if to_core {
                    let (a, b) = (self.s_get(i0)?, self.s_get(i1)?);
                    self.write_reg(rt, a);
                    self.write_reg(rt2, b);
                } else {
                    let (a, b) = (self.read_reg(rt), self.read_reg(rt2));
                    self.s_set(i0, a)?;
                    self.s_set(i1, b)?;
                }
            }
            VmovScalar { to_core, rt, dn, high } => {
                if dn >= 16 {
                    return Err(Trap::Undefined);
                }
                let idx = dn * 2 + high as u8;
                if to_core {
                    let v = self.s_get(idx)?;
                    self.write_reg(rt, v);
                } else {
                    let v = self.read_reg(rt);
                    self.s_set(idx, v)?;
                }
            }
            Vmrs { rt } => {
                if rt == 15 {
                    let f = self.fpscr;
                    self.n = f >> 31 != 0;
                    self.z = f >> 30 & 1 != 0;
                    self.c = f >> 29 & 1 != 0;
                    self.v = f >> 28 & 1 != 0;
                } else {
                    self.write_reg(rt, self.fpscr);
                }
            }
            Vmsr { rt } => self.fpscr = self.read_reg(rt) & 0xF7C0_009F,
            VmovImm { vd, double, imm8 } => {
                if double {
                    self.check_double()?;
                    self.d_set(vd, vfp_expand_imm64(imm8))?;
                } else {
                    self.s_set(vd, vfp_expand_imm32(imm8))?;
                }
            }
            Vfp { op, vd, vn, vm, double } => {
                let fpv5 = matches!(
                    op,
                    VfpOp::Vrint { .. } | VfpOp::VcvtRound { .. } | VfpOp::Vsel { .. } | VfpOp::Vmaxnm | VfpOp::Vminnm
                );
                if fpv5 && self.core == CoreKind::CortexM4 {
                    return Err(Trap::Undefined);
                }
                // VCVT.F64.F32 and VCVT.F64.<int> produce a double (`double` is the source precision).
                if double || matches!(op, VfpOp::VcvtFf) {
                    self.check_double()?;
                }
                self.vfp_op(op, vd, vn, vm, double)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// FPv4-SP (Cortex-M4) has no double-precision data processing.
    fn check_double(&self) -> ExecResult {
        if self.core == CoreKind::CortexM4 { Err(Trap::Undefined) } else { Ok(()) }
    }

    /// Reads S`i` (single) or D`i` (double) as raw bits.
    fn v_get(&self, i: u8, double: bool) -> Result<u64, Trap> {
        if double { self.d_get(i) } else { self.s_get(i).map(u64::from) }
    }
    fn v_set(&mut self, i: u8, double: bool, v: u64) -> ExecResult {
        if double { self.d_set(i, v) } else { self.s_set(i, v as u32) }
    }

    /// FP data processing with FPSCR semantics (`softfp`); raised flags accumulate in FPSCR.
    fn vfp_op(&mut self, op: VfpOp, vd: u8, vn: u8, vm: u8, double: bool) -> ExecResult {
        let mut ctx = FpCtx::from_fpscr(self.fpscr);
        let r = if double {
            self.vfp_t::<f64>(&mut ctx, op, vd, vn, vm)
        } else {
            self.vfp_t::<f32>(&mut ctx, op, vd, vn, vm)
        };
        self.fpscr |= ctx.flags;
        r
    }

    fn vfp_t<F: Float>(&mut self, ctx: &mut FpCtx, op: VfpOp, vd: u8, vn: u8, vm: u8) -> ExecResult {
        let dbl = F::FRAC == 52;
        let sign: u64 = 1 << (F::FRAC + F::EXP);
        let neg = |x: u64| x ^ sign;
        let mul = |ctx: &mut FpCtx, a, b| softfp::arith::<F>(ctx, Kind::Mul, &[a, b], false);
        let add = |ctx: &mut FpCtx, a, b| softfp::arith::<F>(ctx, Kind::Add, &[a, b], false);
        let fma = |ctx: &mut FpCtx, c, a, b| softfp::arith::<F>(ctx, Kind::Fma, &[c, a, b], false);
        let get = |s: &Self, i| s.v_get(i, dbl);
        let r = match op {
            VfpOp::Vmla | VfpOp::Vmls | VfpOp::Vnmla | VfpOp::Vnmls => {
                let (d, n, m) = (get(self, vd)?, get(self, vn)?, get(self, vm)?);
                let p = mul(ctx, n, m);
                match op {
                    VfpOp::Vmla => add(ctx, d, p),
                    VfpOp::Vmls => add(ctx, d, neg(p)),
                    VfpOp::Vnmla => add(ctx, neg(d), neg(p)),
                    _ => add(ctx, neg(d), p),
                }
            }
            VfpOp::Vfma | VfpOp::Vfms | VfpOp::Vfnma | VfpOp::Vfnms => {
                let (d, n, m) = (get(self, vd)?, get(self, vn)?, get(self, vm)?);
                match op {
                    VfpOp::Vfma => fma(ctx, d, n, m),
                    VfpOp::Vfms => fma(ctx, d, neg(n), m),
                    VfpOp::Vfnma => fma(ctx, neg(d), neg(n), m),
                    _ => fma(ctx, neg(d), n, m),
                }
            }
            VfpOp::Vmul | VfpOp::Vnmul | VfpOp::Vadd | VfpOp::Vsub | VfpOp::Vdiv => {
                let (n, m) = (get(self, vn)?, get(self, vm)?);
                match op {
                    VfpOp::Vmul => mul(ctx, n, m),
                    VfpOp::Vnmul => neg(mul(ctx, n, m)),
                    VfpOp::Vadd => add(ctx, n, m),
                    VfpOp::Vsub => softfp::arith::<F>(ctx, Kind::Add, &[n, m], true),
                    _ => softfp::arith::<F>(ctx, Kind::Div, &[n, m], false),
                }
            }
            VfpOp::Vsqrt => softfp::arith::<F>(ctx, Kind::Sqrt, &[get(self, vm)?], false),
            VfpOp::Vmov => get(self, vm)?,
            VfpOp::Vabs => get(self, vm)? & !sign,
            VfpOp::Vneg => neg(get(self, vm)?),
            VfpOp::Vcmp | VfpOp::Vcmpe => {
                let d = get(self, vd)?;
                let m = if vm == 0xff { 0 } else { get(self, vm)? };
                let nzcv = softfp::compare::<F>(ctx, d, m, op == VfpOp::Vcmpe);
                self.fpscr = (self.fpscr & 0x0FFF_FFFF) | (nzcv << 28);
                return Ok(());
            }
            VfpOp::VcvtFf => {
                // `double` is the source precision; the destination has the other one.
                return if dbl {
                    let v = softfp::f64_to_f32(ctx, get(self, vm)?);
                    self.s_set(vd, v)
                } else {
                    let v = softfp::f32_to_f64(ctx, get(self, vm)? as u32);
                    self.d_set(vd, v)
                };
            }
            VfpOp::VcvtFromInt { signed } => softfp::fixed_to_fp::<F>(ctx, self.s_get(vm)?, 32, 0, !signed),
            VfpOp::VcvtToInt { signed, rz } => {
                let mode = if rz { softfp::RZ } else { ctx.rmode };
                let v = softfp::fp_to_fixed::<F>(ctx, get(self, vm)?, 32, 0, !signed, mode);
                return self.s_set(vd, v);
            }
            VfpOp::VcvtFixed { to_fixed, unsigned, size, fbits } => {
                let x = get(self, vd)?;
                if to_fixed {
                    let v = softfp::fp_to_fixed::<F>(ctx, x, size as u32, fbits as u32, unsigned, softfp::RZ);
                    // A D destination holds the integer extended to 64 bits.
                    if unsigned { v as u64 } else { v as i32 as i64 as u64 }
                } else {
                    softfp::fixed_to_fp::<F>(ctx, x as u32, size as u32, fbits as u32, unsigned)
                }
            }
            VfpOp::VcvtHalf { to_half, top } => {
                let shift = if top { 16 } else { 0 };
                if to_half {
                    let h = softfp::to_half(ctx, get(self, vm)?, dbl);
                    let old = self.s_get(vd)?;
                    return self.s_set(vd, (old & !(0xffff << shift)) | (h as u32) << shift);
                }
                softfp::from_half::<F>(ctx, (self.s_get(vm)? >> shift) as u16)
            }
            VfpOp::Vrint { mode } => {
                let rmode = if mode >= 5 { ctx.rmode } else { mode as u32 };
                softfp::round_int::<F>(ctx, get(self, vm)?, rmode, mode == 6)
            }
            VfpOp::VcvtRound { mode, signed } => {
                let v = softfp::fp_to_fixed::<F>(ctx, get(self, vm)?, 32, 0, !signed, mode as u32);
                return self.s_set(vd, v);
            }
            VfpOp::Vsel { cond } => {
                let (n, z, v) = (self.n, self.z, self.v);
                let take_n = match cond {
                    0 => z,
                    1 => v,
                    2 => n == v,
                    _ => !z && n == v,
                };
                if take_n { get(self, vn)? } else { get(self, vm)? }
            }
            VfpOp::Vmaxnm | VfpOp::Vminnm => {
                let (n, m) = (get(self, vn)?, get(self, vm)?);
                softfp::max_min_num::<F>(ctx, n, m, op == VfpOp::Vmaxnm)
            }
        };
        self.v_set(vd, dbl, r)
    }
}

/// `VFPExpandImm` for single precision.
pub fn vfp_expand_imm32(imm8: u8) -> u32 {
    let b6 = ((imm8 >> 6) & 1) as u32;
    ((imm8 as u32 >> 7) << 31)
        | ((b6 ^ 1) << 30)
        | (if b6 != 0 { 0x1f << 25 } else { 0 })
        | ((((imm8 >> 4) & 3) as u32) << 23)
        | (((imm8 & 0xf) as u32) << 19)
}

/// `VFPExpandImm` for double precision.
pub fn vfp_expand_imm64(imm8: u8) -> u64 {
    let b6 = ((imm8 >> 6) & 1) as u64;
    ((imm8 as u64 >> 7) << 63)
        | ((b6 ^ 1) << 62)
        | (if b6 != 0 { 0xffu64 << 54 } else { 0 })
        | ((((imm8 >> 4) & 3) as u64) << 52)
        | (((imm8 & 0xf) as u64) << 48)
}
