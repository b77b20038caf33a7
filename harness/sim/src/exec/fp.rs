//! FP extension (FPv4-SP on Cortex-M4, FPv5 on Cortex-M7): loads/stores, moves and
//! the data-processing ops. Rounding is round-to-nearest-even (the reset default);
//! FPSCR rounding-mode, flush-to-zero, default-NaN and exception flags are not modelled.

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
                if double {
                    self.check_double()?;
                    self.vfp_f64(op, vd, vn, vm)?;
                } else {
                    self.vfp_f32(op, vd, vn, vm)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// FPv4-SP (Cortex-M4) has no double-precision data processing.
    fn check_double(&self) -> ExecResult {
        if self.core == CoreKind::CortexM4 { Err(Trap::Undefined) } else { Ok(()) }
    }

    fn set_fp_cmp(&mut self, a: f64, b: f64) {
        let nzcv: u32 = if a.is_nan() || b.is_nan() {
            0b0011
        } else if a == b {
            0b0110
        } else if a < b {
            0b1000
        } else {
            0b0010
        };
        self.fpscr = (self.fpscr & 0x0FFF_FFFF) | (nzcv << 28);
    }

    fn vfp_f32(&mut self, op: VfpOp, vd: u8, vn: u8, vm: u8) -> ExecResult {
        let f = |x: u32| f32::from_bits(x);
        let d = f(self.s_get(vd)?);
        let n = if matches!(op, VfpOp::Vcmp | VfpOp::Vcmpe) { 0.0 } else { f(self.s_get(vn).unwrap_or(0)) };
        let m = if vm == 0xff { 0.0 } else { f(self.s_get(vm)?) };
        let r = match op {
            VfpOp::Vmla => d + n * m,
            VfpOp::Vmls => d - n * m,
            VfpOp::Vnmla => -d - n * m,
            VfpOp::Vnmls => -d + n * m,
            VfpOp::Vmul => n * m,
            VfpOp::Vnmul => -(n * m),
            VfpOp::Vadd => n + m,
            VfpOp::Vsub => n - m,
            VfpOp::Vdiv => n / m,
            VfpOp::Vfma => n.mul_add(m, d),
            VfpOp::Vfms => (-n).mul_add(m, d),
            VfpOp::Vfnma => (-n).mul_add(m, -d),
            VfpOp::Vfnms => n.mul_add(m, -d),
            VfpOp::Vmov => m,
            VfpOp::Vabs => m.abs(),
            VfpOp::Vneg => -m,
            VfpOp::Vsqrt => m.sqrt(),
            VfpOp::Vcmp | VfpOp::Vcmpe => {
                self.set_fp_cmp(d as f64, m as f64);
                return Ok(());
            }
            VfpOp::VcvtFf => {
                // Single source -> double destination.
                return self.d_set(vd, (m as f64).to_bits());
            }
            VfpOp::VcvtFromInt { signed } => {
                let x = self.s_get(vm)?;
                if signed { x as i32 as f32 } else { x as f32 }
            }
            VfpOp::VcvtToInt { signed, rz } => {
                let x = if rz { m.trunc() } else { m.round_ties_even() };
                let v = if signed { x as i32 as u32 } else { x as u32 };
                return self.s_set(vd, v);
            }
        };
        self.s_set(vd, r.to_bits())
    }

    fn vfp_f64(&mut self, op: VfpOp, vd: u8, vn: u8, vm: u8) -> ExecResult {
        let f = f64::from_bits;
        match op {
            VfpOp::VcvtFromInt { signed } => {
                let x = self.s_get(vm)?;
                let r = if signed { x as i32 as f64 } else { x as f64 };
                return self.d_set(vd, r.to_bits());
            }
            VfpOp::VcvtToInt { signed, rz } => {
                let m = f(self.d_get(vm)?);
                let x = if rz { m.trunc() } else { m.round_ties_even() };
                let v = if signed { x as i32 as u32 } else { x as u32 };
                return self.s_set(vd, v);
            }
            VfpOp::VcvtFf => {
                let m = f(self.d_get(vm)?);
                return self.s_set(vd, (m as f32).to_bits());
            }
            _ => {}
        }
        let d = f(self.d_get(vd)?);
        let n = if matches!(op, VfpOp::Vcmp | VfpOp::Vcmpe) { 0.0 } else { f(self.d_get(vn).unwrap_or(0)) };
        let m = if vm == 0xff { 0.0 } else { f(self.d_get(vm)?) };
        let r = match op {
            VfpOp::Vmla => d + n * m,
            VfpOp::Vmls => d - n * m,
            VfpOp::Vnmla => -d - n * m,
            VfpOp::Vnmls => -d + n * m,
            VfpOp::Vmul => n * m,
            VfpOp::Vnmul => -(n * m),
            VfpOp::Vadd => n + m,
            VfpOp::Vsub => n - m,
            VfpOp::Vdiv => n / m,
            VfpOp::Vfma => n.mul_add(m, d),
            VfpOp::Vfms => (-n).mul_add(m, d),
            VfpOp::Vfnma => (-n).mul_add(m, -d),
            VfpOp::Vfnms => n.mul_add(m, -d),
            VfpOp::Vmov => m,
            VfpOp::Vabs => m.abs(),
            VfpOp::Vneg => -m,
            VfpOp::Vsqrt => m.sqrt(),
            VfpOp::Vcmp | VfpOp::Vcmpe => {
                self.set_fp_cmp(d, m);
                return Ok(());
            }
            _ => return Err(Trap::Unsupported("FP conversion")),
        };
        self.d_set(vd, r.to_bits())
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
