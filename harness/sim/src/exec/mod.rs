//! Execution visitor: the architectural semantics of each [`Insn`].

pub(crate) mod alu;
mod dsp;
pub(crate) mod fast;
pub(crate) mod fp;
pub(crate) mod softfp;

use crate::decode;
use crate::insn::*;
use crate::memory::{Decoded, MemFault};
use crate::periph::{PPB_END, PPB_START};
use crate::{Simulator, StopReason};
use alu::{add_with_carry, shift_c, shift_imm, signed_sat, unsigned_sat};

/// Fault conditions that the architecture turns into a (HardFault-escalated) exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Unaligned LDRD/STRD/LDM/STM/LDREX/VLDR (UFSR.UNALIGNED).
    Unaligned { addr: u32 },
    /// Branch to an address with bit 0 clear (UFSR.INVSTATE).
    InvState { target: u32 },
    /// Bad EXC_RETURN (UFSR.INVPC).
    InvPc { value: u32 },
    /// FP instruction with the FPU disabled in CPACR (UFSR.NOCP).
    NoCp,
    /// Integer divide by zero with CCR.DIV_0_TRP set (UFSR.DIVBYZERO).
    DivByZero,
    /// SVC executed at a priority that cannot take SVCall (HFSR.FORCED).
    SvcEscalation,
    /// Vector table entry unreadable or without the Thumb bit (HFSR.VECTTBL).
    VectorTable { exc: u32 },
}

impl FaultKind {
    pub fn describe(&self) -> String {
        match self {
            FaultKind::Unaligned { addr } => {
                format!("unaligned multi-word/exclusive access at {addr:#010x} (UsageFault UNALIGNED)")
            }
            FaultKind::InvState { target } => format!(
                "branch to {target:#010x} without the Thumb bit (UsageFault INVSTATE; a function pointer lost bit 0)"
            ),
            FaultKind::InvPc { value } => format!("invalid EXC_RETURN value {value:#010x} (UsageFault INVPC)"),
            FaultKind::NoCp => {
                "FP instruction while the FPU is disabled in CPACR (UsageFault NOCP; enable CP10/CP11 first)".into()
            }
            FaultKind::DivByZero => "integer divide by zero with CCR.DIV_0_TRP set (UsageFault DIVBYZERO)".into(),
            FaultKind::SvcEscalation => {
                "SVC executed where SVCall cannot preempt (masked or from a higher-priority handler)".into()
            }
            FaultKind::VectorTable { exc } => {
                format!("vector table entry for exception {exc} is unreadable or lacks the Thumb bit")
            }
        }
    }
}

/// Internal result of one instruction, converted to [`crate::SimError`] with location
/// context (or turned into a HardFault) by the run loop.
#[derive(Debug)]
pub(crate) enum Trap {
    Unmapped {
        addr: u32,
        size: u32,
        write: bool,
    },
    ReadOnly {
        addr: u32,
        size: u32,
    },
    Fault(FaultKind),
    Undefined,
    Unsupported(&'static str),
    Stop(StopReason),
    /// A fully formed error (e.g. from the HardFault spin detector).
    Error(Box<crate::SimError>),
}

pub(crate) type ExecResult = Result<(), Trap>;

impl Simulator {
    // ---- register file -------------------------------------------------------------

    /// `R[n]`; reading the PC gives the address of the instruction plus 4.
    #[inline(always)]
    pub(crate) fn read_reg(&self, n: Reg) -> u32 {
        // r[15] holds PC + 4 while an instruction executes (set by `step`).
        self.r[(n & 15) as usize]
    }

    /// Writes a register; writing the PC is a simple branch (`ALUWritePC`).
    #[inline(always)]
    pub(crate) fn write_reg(&mut self, n: Reg, v: u32) {
        match n {
            15 => self.branch_to(v & !1),
            13 => self.r[13] = v & !3,
            _ => self.r[(n & 15) as usize] = v,
        }
    }

    #[inline(always)]
    pub(crate) fn branch_to(&mut self, target: u32) {
        self.next_pc = target;
        self.pc_written = true;
    }

    /// `BXWritePC` / `LoadWritePC`: interworking branch, or exception return in handler mode.
    pub(crate) fn bx_write_pc(&mut self, v: u32) -> ExecResult {
        if self.handler_mode && v >> 28 == 0xF {
            self.exc_return = Some(v);
            self.post_step = true;
            self.pc_written = true;
            return Ok(());
        }
        if v & 1 == 0 {
            return Err(Trap::Fault(FaultKind::InvState { target: v }));
        }
        self.branch_to(v & !1);
        Ok(())
    }

    #[inline(always)]
    fn set_nz(&mut self, v: u32) {
        self.n = v >> 31 != 0;
        self.z = v == 0;
    }

    #[inline(always)]
    fn flags_on(&self, s: SetFlags) -> bool {
        match s {
            SetFlags::Never => false,
            SetFlags::Always => true,
            SetFlags::OutsideIt => !self.in_it,
        }
    }

    /// `ConditionPassed` for a 4-bit condition code.
    #[inline(always)]
    pub(crate) fn cond_passed(&self, cond: u8) -> bool {
        let r = match cond >> 1 {
            0 => self.z,
            1 => self.c,
            2 => self.n,
            3 => self.v,
            4 => self.c && !self.z,
            5 => self.n == self.v,
            6 => self.n == self.v && !self.z,
            _ => return true,
        };
        if cond & 1 != 0 && cond != 15 { !r } else { r }
    }

    // ---- memory (guest view) -------------------------------------------------------

    #[inline(always)]
    pub(crate) fn read(&mut self, addr: u32, size: u32) -> Result<u32, Trap> {
        if let Some((v, ws)) = self.mem.read_ws(addr, size) {
            if ws != 0 {
                // Flash data load (rodata, weights): wait states unless cached.
                let extra = self.flash.load(addr, ws);
                self.power.flash_data_lines += u64::from(extra != 0);
                self.cycles += extra as u64;
            }
            return Ok(v);
        }
        if (PPB_START..PPB_END).contains(&addr) {
            let word = self.scs.read(addr & !3, self.cycles);
            let sh = (addr & 3) * 8;
            let mask = if size >= 4 { u32::MAX } else { (1 << (size * 8)) - 1 };
            return Ok((word >> sh) & mask);
        }
        self.read_marker(addr, size)
    }

    #[inline(always)]
    pub(crate) fn write(&mut self, addr: u32, size: u32, value: u32) -> ExecResult {
        match self.mem.write(addr, size, value) {
            Ok(()) => Ok(()),
            Err(MemFault::ReadOnly) => Err(Trap::ReadOnly { addr, size }),
            Err(MemFault::Unmapped) => {
                if (PPB_START..PPB_END).contains(&addr) {
                    let wa = addr & !3;
                    let v = if size >= 4 {
                        value
                    } else {
                        let sh = (addr & 3) * 8;
                        let mask = ((1u32 << (size * 8)) - 1) << sh;
                        let old = self.scs.read(wa, self.cycles);
                        (old & !mask) | ((value << sh) & mask)
                    };
                    self.scs.write(wa, v, self.cycles);
                    // Pending state, priorities or SysTick may have changed.
                    self.exc_check = true;
                    return Ok(());
                }
                self.write_marker(addr, size, value)
            }
        }
    }

    fn check_align(addr: u32, align: u32) -> ExecResult {
        if addr & (align - 1) != 0 { Err(Trap::Fault(FaultKind::Unaligned { addr })) } else { Ok(()) }
    }

    // ---- fetch -----------------------------------------------------------------------

    /// The cached decode at `pc` in the active region (`len` 0: not cached).
    #[inline(always)]
    pub(crate) fn fetch_cached(&self, pc: u32) -> Option<&Decoded> {
        self.mem.icache.get((pc.wrapping_sub(self.mem.icache_base) >> 1) as usize).filter(|d| d.len != 0)
    }

    /// Cache miss: decode and fill the cache.
    #[cold]
    #[inline(never)]
    pub(crate) fn fetch_slow(&mut self, pc: u32) -> Result<Decoded, Trap> {
        let Some((ri, off)) = self.mem.find_fetch(pc) else {
            return Err(Trap::Unmapped { addr: pc, size: 2, write: false });
        };
        let region = &self.mem.regions[ri];
        let hw1 = u16::from_le_bytes([region.data[off], region.data[off + 1]]);
        let hw2 = if decode::is_32bit(hw1) {
            match self.mem.read(pc.wrapping_add(2), 2) {
                Some(v) => v as u16,
                None => return Err(Trap::Unmapped { addr: pc.wrapping_add(2), size: 2, write: false }),
            }
        } else {
            0
        };
        let (insn, len) = decode::decode(hw1, hw2);
        let shift = self.flash.line_shift;
        let line_end = if pc.wrapping_add(len as u32) >> shift != pc >> shift { crate::memory::LINE_END } else { 0 };
        let d = Decoded {
            insn,
            op: fast::Op::lower(&insn),
            len,
            class: insn.class_id()
                | line_end
                | if fast::Op::outside_it_only(&insn) { crate::memory::OUTSIDE_IT_ONLY } else { 0 },
            prepared: self.timing.prepare(&insn),
        };
        self.mem.cache_insert(ri, off, d);
        Ok(d)
    }

    // ---- execute ---------------------------------------------------------------------

    #[inline(always)]
    fn dp(&mut self, op: DpOp, rd: Reg, a: u32, b: u32, shifter_carry: bool, s: SetFlags) {
        let (res, c, v) = match op {
            DpOp::And | DpOp::Tst => (a & b, shifter_carry, self.v),
            DpOp::Eor | DpOp::Teq => (a ^ b, shifter_carry, self.v),
            DpOp::Orr => (a | b, shifter_carry, self.v),
            DpOp::Orn => (a | !b, shifter_carry, self.v),
            DpOp::Bic => (a & !b, shifter_carry, self.v),
            DpOp::Mov => (b, shifter_carry, self.v),
            DpOp::Mvn => (!b, shifter_carry, self.v),
            DpOp::Add | DpOp::Cmn => add_with_carry(a, b, false),
            DpOp::Adc => add_with_carry(a, b, self.c),
            DpOp::Sub | DpOp::Cmp => add_with_carry(a, !b, true),
            DpOp::Sbc => add_with_carry(a, !b, self.c),
            DpOp::Rsb => add_with_carry(!a, b, true),
        };
        if !op.is_test() {
            self.write_reg(rd, res);
            if rd == 15 {
                return;
            }
        }
        if self.flags_on(s) {
            self.set_nz(res);
            self.c = c;
            self.v = v;
        }
    }

    fn load_value(&mut self, ty: MemTy, addr: u32) -> Result<u32, Trap> {
        let v = self.read(addr, ty.size())?;
        Ok(match ty {
            MemTy::SByte => v as u8 as i8 as i32 as u32,
            MemTy::SHalf => v as u16 as i16 as i32 as u32,
            _ => v,
        })
    }

    fn finish_load(&mut self, rt: Reg, v: u32) -> ExecResult {
        if rt == 15 {
            self.bx_write_pc(v)
        } else {
            self.write_reg(rt, v);
            Ok(())
        }
    }

    /// Executes one instruction whose condition has passed.
    #[inline(always)]
    pub(crate) fn exec(&mut self, insn: &Insn) -> ExecResult {
        use Insn::*;
        match *insn {
            DpImm { op, rd, rn, imm, carry, s } => {
                let a = self.read_reg(rn);
                let c = carry.unwrap_or(self.c);
                self.dp(op, rd, a, imm, c, s);
            }
            DpReg { op, rd, rn, rm, shift, s } => {
                let (b, c) = shift_imm(self.read_reg(rm), shift, self.c);
                let a = self.read_reg(rn);
                self.dp(op, rd, a, b, c, s);
            }
            ShiftReg { ty, rd, rn, rm, s } => {
                let (res, c) = shift_c(self.read_reg(rn), ty, self.read_reg(rm) & 0xff, self.c);
                self.write_reg(rd, res);
                if self.flags_on(s) {
                    self.set_nz(res);
                    self.c = c;
                }
            }
            Adr { rd, imm } => {
                let v = (self.pc.wrapping_add(4) & !3).wrapping_add(imm as u32);
                self.write_reg(rd, v);
            }
            MovW { rd, imm } => self.write_reg(rd, imm as u32),
            MovT { rd, imm } => {
                let v = (self.read_reg(rd) & 0xffff) | ((imm as u32) << 16);
                self.write_reg(rd, v);
            }
            Mul { rd, rn, rm, s } => {
                let v = self.read_reg(rn).wrapping_mul(self.read_reg(rm));
                self.write_reg(rd, v);
                if self.flags_on(s) {
                    self.set_nz(v);
                }
            }
            Mla { rd, rn, rm, ra, sub } => {
                let p = self.read_reg(rn).wrapping_mul(self.read_reg(rm));
                let a = self.read_reg(ra);
                self.write_reg(rd, if sub { a.wrapping_sub(p) } else { a.wrapping_add(p) });
            }
            LongMul { op, rdlo, rdhi, rn, rm } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let acc = ((self.read_reg(rdhi) as u64) << 32) | self.read_reg(rdlo) as u64;
                let res = match op {
                    LongMulOp::Umull => n as u64 * m as u64,
                    LongMulOp::Smull => (n as i32 as i64 * m as i32 as i64) as u64,
                    LongMulOp::Umlal => (n as u64 * m as u64).wrapping_add(acc),
                    LongMulOp::Smlal => ((n as i32 as i64 * m as i32 as i64) as u64).wrapping_add(acc),
                    LongMulOp::Umaal => n as u64 * m as u64 + self.read_reg(rdlo) as u64 + self.read_reg(rdhi) as u64,
                };
                self.write_reg(rdlo, res as u32);
                self.write_reg(rdhi, (res >> 32) as u32);
            }
            Div { rd, rn, rm, signed } => {
                let (n, m) = (self.read_reg(rn), self.read_reg(rm));
                let q = if m == 0 {
                    if self.scs.ccr & (1 << 4) != 0 {
                        return Err(Trap::Fault(FaultKind::DivByZero));
                    }
                    0
                } else if signed {
                    (n as i32).wrapping_div(m as i32) as u32
                } else {
                    n / m
                };
                self.last_quotient = if signed { (q as i32).unsigned_abs() } else { q };
                self.write_reg(rd, q);
            }
            Ldr { ty, rt, rn, imm, index, wback } => {
                let base = if rn == 15 { self.pc.wrapping_add(4) & !3 } else { self.read_reg(rn) };
                let off = base.wrapping_add(imm as u32);
                let addr = if index { off } else { base };
                let v = self.load_value(ty, addr)?;
                if wback {
                    self.write_reg(rn, off);
                }
                self.finish_load(rt, v)?;
            }
            LdrReg { ty, rt, rn, rm, shift } => {
                let addr = self.read_reg(rn).wrapping_add(self.read_reg(rm) << shift);
                let v = self.load_value(ty, addr)?;
                self.finish_load(rt, v)?;
            }
            Str { ty, rt, rn, imm, index, wback } => {
                let base = self.read_reg(rn);
                let off = base.wrapping_add(imm as u32);
                let addr = if index { off } else { base };
                self.write(addr, ty.size(), self.read_reg(rt))?;
                if wback {
                    self.write_reg(rn, off);
                }
            }
            StrReg { ty, rt, rn, rm, shift } => {
                let addr = self.read_reg(rn).wrapping_add(self.read_reg(rm) << shift);
                self.write(addr, ty.size(), self.read_reg(rt))?;
            }
            Ldrd { rt, rt2, rn, imm, index, wback } => {
                let base = if rn == 15 { self.pc.wrapping_add(4) & !3 } else { self.read_reg(rn) };
                let off = base.wrapping_add(imm as u32);
                let addr = if index { off } else { base };
                Self::check_align(addr, 4)?;
                let lo = self.read(addr, 4)?;
                let hi = self.read(addr.wrapping_add(4), 4)?;
                if wback {
                    self.write_reg(rn, off);
                }
                self.write_reg(rt, lo);
                self.write_reg(rt2, hi);
            }
            Strd { rt, rt2, rn, imm, index, wback } => {
                let base = self.read_reg(rn);
                let off = base.wrapping_add(imm as u32);
                let addr = if index { off } else { base };
                Self::check_align(addr, 4)?;
                self.write(addr, 4, self.read_reg(rt))?;
                self.write(addr.wrapping_add(4), 4, self.read_reg(rt2))?;
                if wback {
                    self.write_reg(rn, off);
                }
            }
            Ldrex { ty, rt, rn, imm } => {
                let addr = self.read_reg(rn).wrapping_add(imm as u32);
                Self::check_align(addr, ty.size())?;
                let v = self.read(addr, ty.size())?;
                self.excl = Some(addr);
                self.write_reg(rt, v);
            }
            Strex { ty, rd, rt, rn, imm } => {
                let addr = self.read_reg(rn).wrapping_add(imm as u32);
                Self::check_align(addr, ty.size())?;
                if self.excl.take() == Some(addr) {
                    self.write(addr, ty.size(), self.read_reg(rt))?;
                    self.write_reg(rd, 0);
                } else {
                    self.write_reg(rd, 1);
                }
            }
            Clrex => self.excl = None,
            Ldm { rn, regs, wback, db } => {
                let n = regs.count_ones();
                let base = self.read_reg(rn);
                let start = if db { base.wrapping_sub(4 * n) } else { base };
                Self::check_align(start, 4)?;
                let mut vals = [0u32; 16];
                let mut a = start;
                for (i, v) in vals.iter_mut().enumerate() {
                    if regs & (1 << i) != 0 {
                        *v = self.read(a, 4)?;
                        a = a.wrapping_add(4);
                    }
                }
                if wback && regs & (1 << rn) == 0 {
                    let nb = if db { start } else { base.wrapping_add(4 * n) };
                    self.write_reg(rn, nb);
                }
                for (i, v) in vals.iter().enumerate().take(15) {
                    if regs & (1 << i) != 0 {
                        self.write_reg(i as Reg, *v);
                    }
                }
                if regs & 0x8000 != 0 {
                    self.bx_write_pc(vals[15])?;
                }
            }
            Stm { rn, regs, wback, db } => {
                let n = regs.count_ones();
                let base = self.read_reg(rn);
                let start = if db { base.wrapping_sub(4 * n) } else { base };
                Self::check_align(start, 4)?;
                let mut a = start;
                for i in 0..16u8 {
                    if regs & (1 << i) != 0 {
                        self.write(a, 4, self.read_reg(i))?;
                        a = a.wrapping_add(4);
                    }
                }
                if wback {
                    let nb = if db { start } else { base.wrapping_add(4 * n) };
                    self.write_reg(rn, nb);
                }
            }
            B { cond, imm } => {
                if cond >= 14 || self.cond_passed(cond) {
                    self.branch_to(self.pc.wrapping_add(4).wrapping_add(imm as u32));
                }
            }
            Bl { imm } => {
                self.r[14] = self.next_pc | 1;
                self.branch_to(self.pc.wrapping_add(4).wrapping_add(imm as u32));
            }
            Bx { rm } => self.bx_write_pc(self.read_reg(rm))?,
            Blx { rm } => {
                let t = self.read_reg(rm);
                self.r[14] = self.next_pc | 1;
                self.bx_write_pc(t)?;
            }
            Cbz { rn, imm, nz } => {
                if (self.read_reg(rn) == 0) != nz {
                    self.branch_to(self.pc.wrapping_add(4).wrapping_add(imm as u32));
                }
            }
            Tb { rn, rm, half } => {
                let base = self.read_reg(rn);
                let off = if half {
                    self.read(base.wrapping_add(self.read_reg(rm) << 1), 2)?
                } else {
                    self.read(base.wrapping_add(self.read_reg(rm)), 1)?
                };
                self.branch_to(self.pc.wrapping_add(4).wrapping_add(off << 1));
            }
            It { firstcond, mask } => self.itstate = (firstcond << 4) | mask,
            Bfi { rd, rn, lsb, msb } => {
                let width = (msb - lsb) as u32 + 1;
                let mask = (((1u64 << width) - 1) as u32) << lsb;
                let src = if rn == 15 { 0 } else { self.read_reg(rn) << lsb };
                let v = (self.read_reg(rd) & !mask) | (src & mask);
                self.write_reg(rd, v);
            }
            Bfx { rd, rn, lsb, width, signed } => {
                let width = width as u32;
                let v = ((self.read_reg(rn) as u64 >> lsb) & ((1u64 << width) - 1)) as u32;
                let v = if signed && width < 32 { decode::sext(v, width) as u32 } else { v };
                self.write_reg(rd, v);
            }
            Misc { op, rd, rm } => {
                let m = self.read_reg(rm);
                let v = match op {
                    MiscOp::Clz => m.leading_zeros(),
                    MiscOp::Rbit => m.reverse_bits(),
                    MiscOp::Rev => m.swap_bytes(),
                    MiscOp::Rev16 => ((m & 0x00ff_00ff) << 8) | ((m >> 8) & 0x00ff_00ff),
                    MiscOp::Revsh => (m as u16).swap_bytes() as i16 as i32 as u32,
                };
                self.write_reg(rd, v);
            }
            Extend { op, rd, rn, rm, rot } => {
                let x = self.read_reg(rm).rotate_right(rot as u32);
                let v = match op {
                    ExtOp::Sxtb => x as u8 as i8 as i32 as u32,
                    ExtOp::Sxth => x as u16 as i16 as i32 as u32,
                    ExtOp::Uxtb => x & 0xff,
                    ExtOp::Uxth => x & 0xffff,
                    ExtOp::Sxtb16 => {
                        ((x as u8 as i8 as i16 as u16) as u32) | (((x >> 16) as u8 as i8 as i16 as u16 as u32) << 16)
                    }
                    ExtOp::Uxtb16 => x & 0x00ff_00ff,
                };
                let v = if rn == 15 {
                    v
                } else {
                    let n = self.read_reg(rn);
                    match op {
                        ExtOp::Sxtb16 | ExtOp::Uxtb16 => {
                            let lo = (n as u16).wrapping_add(v as u16) as u32;
                            let hi = ((n >> 16) as u16).wrapping_add((v >> 16) as u16) as u32;
                            lo | (hi << 16)
                        }
                        _ => n.wrapping_add(v),
                    }
                };
                self.write_reg(rd, v);
            }
            Sat { rd, rn, sat, shift, unsigned } => {
                let x = shift_imm(self.read_reg(rn), shift, self.c).0 as i32 as i64;
                let (v, q) = if unsigned { unsigned_sat(x, sat as u32) } else { signed_sat(x, sat as u32) };
                self.write_reg(rd, v as u32);
                self.q |= q;
            }
            Sat16 { rd, rn, sat, unsigned } => {
                let n = self.read_reg(rn);
                let mut out = 0u32;
                for lane in 0..2 {
                    let x = (n >> (16 * lane)) as u16 as i16 as i64;
                    let (v, q) = if unsigned { unsigned_sat(x, sat as u32) } else { signed_sat(x, sat as u32) };
                    self.q |= q;
                    out |= ((v as u32) & 0xffff) << (16 * lane);
                }
                self.write_reg(rd, out);
            }
            SmulXy { .. }
            | SmulWy { .. }
            | SmlalXy { .. }
            | Smlad { .. }
            | Smlald { .. }
            | Smmul { .. }
            | Qarith { .. }
            | Parallel { .. }
            | Sel { .. }
            | Usad8 { .. }
            | Pkh { .. } => self.exec_dsp(insn),
            Mrs { rd, sysm } => {
                let v = self.read_special(sysm);
                self.write_reg(rd, v);
            }
            Msr { rn, sysm, mask } => {
                let v = self.read_reg(rn);
                self.write_special(sysm, mask, v);
            }
            Cps { disable, i, f } => {
                if self.privileged() {
                    if i {
                        self.primask = disable;
                    }
                    if f {
                        self.faultmask = disable;
                    }
                    self.exc_check = true;
                }
            }
            Barrier { .. } => {}
            Hint { op } => {
                if matches!(op, HintOp::Wfi | HintOp::Wfe) {
                    self.sleep();
                }
            }
            Bkpt { imm } => {
                if self.debug_halts {
                    return Err(Trap::Stop(StopReason::DebugHalt { imm, pc: self.pc }));
                }
                if imm == 0xAB {
                    if let Some(stop) = self.semihosting()? {
                        return Err(Trap::Stop(stop));
                    }
                } else {
                    return Err(Trap::Stop(StopReason::Breakpoint { imm, pc: self.pc }));
                }
            }
            Svc { .. } => {
                self.scs.pending |= 1 << crate::periph::EXC_SVCALL;
                self.svc_taken = true;
                self.post_step = true;
                self.exc_check = true;
            }
            Udf { .. } | Undefined { .. } => return Err(Trap::Undefined),
            Unsupported { .. } => return Err(Trap::Unsupported("no simulator support for this encoding")),
            Vldr { .. }
            | Vstr { .. }
            | Vldm { .. }
            | Vstm { .. }
            | VmovCore { .. }
            | VmovCore2 { .. }
            | VmovScalar { .. }
            | Vmrs { .. }
            | Vmsr { .. }
            | VmovImm { .. }
            | Vfp { .. } => self.exec_fp(insn)?,
        }
        Ok(())
    }

    /// Privileged unless in thread mode with CONTROL.nPRIV set.
    pub(crate) fn privileged(&self) -> bool {
        self.handler_mode || self.control & 1 == 0
    }

    fn apsr(&self) -> u32 {
        ((self.n as u32) << 31)
            | ((self.z as u32) << 30)
            | ((self.c as u32) << 29)
            | ((self.v as u32) << 28)
            | ((self.q as u32) << 27)
            | ((self.ge as u32) << 16)
    }

    /// Full xPSR with ITSTATE and exception number (for stacking).
    pub(crate) fn xpsr(&self) -> u32 {
        let it = self.itstate as u32;
        self.apsr() | ((it & 3) << 25) | ((it >> 2) << 10) | (1 << 24) | self.ipsr
    }

    pub(crate) fn set_xpsr(&mut self, v: u32) {
        self.n = v >> 31 & 1 != 0;
        self.z = v >> 30 & 1 != 0;
        self.c = v >> 29 & 1 != 0;
        self.v = v >> 28 & 1 != 0;
        self.q = v >> 27 & 1 != 0;
        self.ge = ((v >> 16) & 0xf) as u8;
        self.itstate = (((v >> 25) & 3) | (((v >> 10) & 0x3f) << 2)) as u8;
    }

    /// Whether r13 currently holds the process stack pointer.
    pub(crate) fn on_psp(&self) -> bool {
        !self.handler_mode && self.control & 2 != 0
    }

    fn read_special(&self, sysm: u8) -> u32 {
        match sysm {
            0..=7 => {
                let mut v = 0;
                if sysm & 1 != 0 {
                    v |= self.ipsr;
                }
                if sysm & 4 == 0 {
                    v |= self.apsr();
                }
                v
            }
            8 => {
                if self.on_psp() {
                    self.other_sp
                } else {
                    self.r[13]
                }
            }
            9 => {
                if self.on_psp() {
                    self.r[13]
                } else {
                    self.other_sp
                }
            }
            16 => self.primask as u32,
            17 | 18 => self.basepri as u32,
            19 => self.faultmask as u32,
            20 => self.control,
            _ => 0,
        }
    }

    fn write_special(&mut self, sysm: u8, mask: u8, v: u32) {
        match sysm {
            0..=3 => {
                if mask & 2 != 0 {
                    self.n = v >> 31 != 0;
                    self.z = v >> 30 & 1 != 0;
                    self.c = v >> 29 & 1 != 0;
                    self.v = v >> 28 & 1 != 0;
                    self.q = v >> 27 & 1 != 0;
                }
                if mask & 1 != 0 {
                    self.ge = ((v >> 16) & 0xf) as u8;
                }
            }
            _ if !self.privileged() => {}
            8 => {
                if self.on_psp() {
                    self.other_sp = v & !3
                } else {
                    self.r[13] = v & !3
                }
            }
            9 => {
                if self.on_psp() {
                    self.r[13] = v & !3
                } else {
                    self.other_sp = v & !3
                }
            }
            16 => self.primask = v & 1 != 0,
            17 => self.basepri = v as u8,
            18 => {
                let nb = v as u8;
                if nb != 0 && (nb < self.basepri || self.basepri == 0) {
                    self.basepri = nb;
                }
            }
            // FAULTMASK can't be set from NMI or HardFault.
            19 if self.ipsr != 2 && self.ipsr != 3 => self.faultmask = v & 1 != 0,
            20 => {
                let was_psp = self.on_psp();
                let mut c = (self.control & !0b101) | (v & 0b101);
                if !self.handler_mode {
                    c = (c & !2) | (v & 2);
                }
                self.control = c;
                if was_psp != self.on_psp() {
                    std::mem::swap(&mut self.r[13], &mut self.other_sp);
                }
            }
            _ => {}
        }
        self.exc_check = true;
    }
}
